//! Property tests of the layout algebra's laws on random layouts.

use proptest::prelude::*;
use std::collections::BTreeSet;
use tilec_layout::*;

/// A random (possibly hierarchical) shape:stride layout with small extents and strides.
fn layout() -> impl Strategy<Value = Layout> {
    let leaf = (1i64..=6, 0i64..=24);
    let mode = prop_oneof![
        leaf.clone()
            .prop_map(|(s, d)| (IntTuple::Int(s), IntTuple::Int(d))),
        prop::collection::vec(leaf, 1..=2).prop_map(|v| {
            (
                IntTuple::Tuple(v.iter().map(|x| IntTuple::Int(x.0)).collect()),
                IntTuple::Tuple(v.iter().map(|x| IntTuple::Int(x.1)).collect()),
            )
        }),
    ];
    prop::collection::vec(mode, 1..=3).prop_map(|modes| {
        if modes.len() == 1 {
            Layout::new(modes[0].0.clone(), modes[0].1.clone()).unwrap()
        } else {
            Layout::new(
                IntTuple::Tuple(modes.iter().map(|m| m.0.clone()).collect()),
                IntTuple::Tuple(modes.iter().map(|m| m.1.clone()).collect()),
            )
            .unwrap()
        }
    })
}

/// A random injective layout with gaps: a compact layout of `extents` (some of them "holes"
/// that are dropped), its modes then shuffled.
fn injective() -> impl Strategy<Value = Layout> {
    (
        prop::collection::vec((1i64..=4, any::<bool>()), 1..=5),
        any::<u64>(),
    )
        .prop_map(|(ext, seed)| {
            let mut acc = 1i64;
            let mut modes = Vec::new();
            for (e, keep) in ext {
                if keep || modes.is_empty() {
                    modes.push((e, acc));
                }
                acc *= e;
            }
            // Deterministic shuffle by the seed.
            let mut s = seed;
            for i in (1..modes.len()).rev() {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                modes.swap(i, (s >> 33) as usize % (i + 1));
            }
            let shape: Vec<i64> = modes.iter().map(|m| m.0).collect();
            let stride: Vec<i64> = modes.iter().map(|m| m.1).collect();
            Layout::new(IntTuple::from(shape), IntTuple::from(stride)).unwrap()
        })
}

fn image_set(img: &[i64]) -> BTreeSet<i64> {
    img.iter().copied().collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, .. ProptestConfig::default() })]

    #[test]
    fn eval_matches_image_and_coordinates(l in layout()) {
        let img = l.image();
        prop_assert_eq!(img.len() as i64, l.size());
        for (i, &o) in img.iter().enumerate() {
            prop_assert_eq!(l.eval(i as i64).unwrap(), o);
            let crd = l.shape().idx2crd(i as i64).unwrap();
            prop_assert_eq!(l.eval_crd(&crd).unwrap(), o);
        }
        prop_assert_eq!(l.cosize(), img.iter().max().unwrap() + 1);
    }

    #[test]
    fn coalesce_preserves_the_function(l in layout()) {
        let c = coalesce(&l);
        prop_assert_eq!(c.size(), l.size());
        prop_assert_eq!(c.image(), l.image());
        prop_assert!(c.depth() <= 1);
        let m = coalesce_modes(&l);
        prop_assert_eq!(m.image(), l.image());
        prop_assert_eq!(m.rank(), l.rank());
    }

    #[test]
    fn filter_keeps_the_offsets(l in layout()) {
        let f = filter(&l);
        prop_assert_eq!(image_set(&f.image()), image_set(&l.image()));
    }

    #[test]
    fn composition_is_function_composition(a in layout(), b in layout()) {
        // CuTe defines A o B on the indices that B maps into A's domain.
        if let Ok(r) = composition(&a, &b) {
            prop_assert_eq!(r.size(), b.size());
            for i in (0..b.size()).filter(|&i| b.eval(i).unwrap() < a.size()) {
                prop_assert_eq!(r.eval(i).unwrap(), a.eval(b.eval(i).unwrap()).unwrap(), "{} o {} = {}", a, b, r);
            }
        }
    }

    #[test]
    fn composition_with_compact_right_operands(a in layout(), n in 1i64..=4) {
        // Compact right operands that fit in A are admissible when they divide A's modes.
        let n = n.min(a.size());
        let b = Layout::new(IntTuple::Int(n), IntTuple::Int(1)).unwrap();
        let Ok(r) = composition(&a, &b) else { return Ok(()) };
        for i in 0..n {
            prop_assert_eq!(r.eval(i).unwrap(), a.eval(i).unwrap());
        }
    }

    #[test]
    fn complement_is_disjoint_and_covers(l in injective(), k in 1i64..=4) {
        let n = l.cosize() * k;
        let c = complement(&l, n).unwrap();
        let li = image_set(&l.image());
        let ci = image_set(&c.image());
        prop_assert_eq!(li.intersection(&ci).copied().collect::<Vec<_>>(), vec![0]);
        let both = Layout::concat(&[l.clone(), c.clone()]);
        let mut img = both.image();
        img.sort();
        prop_assert_eq!(img, (0..both.size()).collect::<Vec<_>>(), "({}, {})", l, c);
        prop_assert!(both.size() >= n);
        // With a co-target shape the size is what counts.
        prop_assert_eq!(complement_shape(&l, &IntTuple::from(vec![n, 1])).unwrap(), c);
    }

    #[test]
    fn right_inverse_law(l in layout()) {
        let r = right_inverse(&l);
        for i in 0..r.size() {
            prop_assert_eq!(l.eval(r.eval(i).unwrap()).unwrap(), i, "{} with right inverse {}", l, r);
        }
    }

    #[test]
    fn right_inverse_of_a_bijection_is_full(l in injective()) {
        let compact = Layout::concat(&[l.clone(), complement_cosize(&l).unwrap()]);
        prop_assert_eq!(right_inverse(&compact).size(), compact.size());
    }

    #[test]
    fn left_inverse_law(l in injective()) {
        let li = left_inverse(&l).unwrap();
        for i in 0..l.size() {
            prop_assert_eq!(li.eval(l.eval(i).unwrap()).unwrap(), i, "{} with left inverse {}", l, li);
        }
    }

    #[test]
    fn non_injective_layouts_are_rejected(l in layout()) {
        if !l.is_injective() {
            // Anything accepted must still be a left inverse; genuinely colliding offsets cannot be.
            if let Ok(li) = left_inverse(&l) {
                let ok = (0..l.size()).all(|i| li.eval(l.eval(i).unwrap()).unwrap() == i);
                prop_assert!(!ok || l.size() == 1);
            }
        }
    }

    #[test]
    fn logical_divide_definition(a in layout(), b in injective()) {
        let t = Tiler::Layout(b.clone());
        match (logical_divide(&a, &t), complement(&b, a.size())) {
            (Ok(d), Ok(c)) => {
                let z = Layout::concat(&[b.clone(), c]);
                prop_assert_eq!(&d, &composition(&a, &z).unwrap());
                prop_assert_eq!(d.size(), z.size());
                prop_assert!(d.size() >= a.size());
                for i in (0..d.size()).filter(|&i| z.eval(i).unwrap() < a.size()) {
                    prop_assert_eq!(d.eval(i).unwrap(), a.eval(z.eval(i).unwrap()).unwrap());
                }
                // The first mode is the tile: A composed with B.
                prop_assert_eq!(d.mode(0).unwrap(), composition(&a, &b).unwrap());
                prop_assert_eq!(zipped_divide(&a, &t).unwrap(), d.clone());
                prop_assert_eq!(tiled_divide(&a, &t).unwrap().size(), d.size());
                prop_assert_eq!(flat_divide(&a, &t).unwrap().image(), d.flatten().image());
            }
            (Ok(_), Err(_)) => prop_assert!(false, "divide succeeded without a complement"),
            _ => {}
        }
    }

    #[test]
    fn per_mode_divide_regroups(s0 in 1i64..=3, s1 in 1i64..=3, r0 in 1i64..=3, r1 in 1i64..=3) {
        // A compact (s0*r0, s1*r1) layout divided by <s0:1, s1:1>.
        let a = Layout::column_major(IntTuple::from(vec![s0 * r0, s1 * r1])).unwrap();
        let t = Tiler::from_shape(&IntTuple::from(vec![s0, s1])).unwrap();
        let d = logical_divide(&a, &t).unwrap();
        let z = zipped_divide(&a, &t).unwrap();
        prop_assert_eq!(z.mode(0).unwrap().size(), s0 * s1);
        prop_assert_eq!(z.mode(1).unwrap().size(), r0 * r1);
        prop_assert_eq!(image_set(&z.image()), image_set(&d.image()));
        prop_assert_eq!(tiled_divide(&a, &t).unwrap().rank(), 3);
        prop_assert_eq!(flat_divide(&a, &t).unwrap().rank(), 4);
        // Tile (i,j), element (u,v) is element (i*s0+u, j*s1+v) of A.
        for i in 0..r0 { for j in 0..r1 { for u in 0..s0 { for v in 0..s1 {
            let crd = tup![tup![u, v], tup![i, j]];
            prop_assert_eq!(z.eval_crd(&crd).unwrap(), a.eval_crd(&tup![i * s0 + u, j * s1 + v]).unwrap());
        }}}}
    }

    #[test]
    fn product_sizes_and_images(a in injective(), b in injective()) {
        let t = Tiler::Layout(b.clone());
        // Defined when the complement of A composes with B (CuTe's admissibility).
        let Ok(p) = logical_product(&a, &t) else {
            let c = complement(&a, a.size() * b.cosize()).unwrap();
            prop_assert!(composition(&c, &b).is_err());
            return Ok(());
        };
        prop_assert_eq!(p.size(), a.size() * b.size());
        prop_assert_eq!(p.mode(0).unwrap(), a.clone());
        prop_assert!(p.is_injective(), "{}", p);
        prop_assert_eq!(zipped_product(&a, &t).unwrap().size(), p.size());
        prop_assert_eq!(tiled_product(&a, &t).unwrap().size(), p.size());
        prop_assert_eq!(flat_product(&a, &t).unwrap().size(), p.size());
        let bl = blocked_product(&a, &b).unwrap();
        let rk = raked_product(&a, &b).unwrap();
        prop_assert_eq!(bl.size(), p.size());
        prop_assert_eq!(rk.size(), p.size());
        prop_assert_eq!(image_set(&bl.image()), image_set(&p.image()));
        prop_assert_eq!(image_set(&rk.image()), image_set(&p.image()));
    }

    #[test]
    fn blocked_product_keeps_tiles_contiguous(r in 1i64..=4, c in 1i64..=4, gr in 1i64..=3, gc in 1i64..=3) {
        let tile = Layout::column_major(IntTuple::from(vec![r, c])).unwrap();
        let grid = Layout::column_major(IntTuple::from(vec![gr, gc])).unwrap();
        let bl = blocked_product(&tile, &grid).unwrap();
        let rk = raked_product(&tile, &grid).unwrap();
        for i in 0..r * gr { for j in 0..c * gc {
            let crd = tup![i, j];
            // Blocked: element (i,j) is element (i%r, j%c) of tile (i/r, j/c).
            let want = (i % r + (j % c) * r) + (i / r + (j / c) * gr) * r * c;
            prop_assert_eq!(bl.eval_crd(&crd).unwrap(), want);
            // Raked: element (i,j) is element (i/gr, j/gc) of tile (i%gr, j%gc).
            let want = (i / gr + (j / gc) * r) + (i % gr + (j % gc) * gr) * r * c;
            prop_assert_eq!(rk.eval_crd(&crd).unwrap(), want);
        }}
    }

    #[test]
    fn tile_to_shape_covers(r in 1i64..=4, c in 1i64..=4, gr in 1i64..=3, gc in 1i64..=3) {
        let tile = Layout::row_major(IntTuple::from(vec![r, c])).unwrap();
        let t = tile_to_shape(&tile, &[r * gr, c * gc], None).unwrap();
        prop_assert_eq!(t.size(), r * c * gr * gc);
        let mut img = t.image();
        img.sort();
        prop_assert_eq!(img, (0..t.size()).collect::<Vec<_>>());
        prop_assert!(tile_to_shape(&tile, &[r * gr + 1, c], None).is_err() || r == 1);
    }

    #[test]
    fn swizzle_is_an_involution_and_bijection(b in 0i64..=4, m in 0i64..=4, extra in 0i64..=3, x in 0i64..4096) {
        let sw = Swizzle::new(b, m, b + extra).unwrap();
        prop_assert_eq!(sw.apply(sw.apply(x)), x);
        let span = sw.span();
        let mut img: Vec<i64> = (0..span).map(|i| sw.apply(i)).collect();
        img.sort();
        prop_assert_eq!(img, (0..span).collect::<Vec<_>>());
    }

    #[test]
    fn swizzled_layout_composes(l in injective(), b in 1i64..=3) {
        let sl = SwizzledLayout::new(Swizzle::new(b, 1, b).unwrap(), l.clone());
        let inner = Layout::new(IntTuple::Int(l.size()), IntTuple::Int(1)).unwrap();
        let c = sl.compose(&inner).unwrap();
        for i in 0..l.size() {
            prop_assert_eq!(c.eval(i).unwrap(), sl.eval(i).unwrap());
        }
    }
}

#[test]
fn cute_documentation_examples() {
    let l = |s, d| Layout::new(s, d).unwrap();
    // Composition.
    assert_eq!(
        composition(&l(tup![6, 2], tup![8, 2]), &l(tup![4, 3], tup![3, 1]))
            .unwrap()
            .to_string(),
        "((2,2),3):((24,2),8)"
    );
    assert_eq!(
        composition(
            &l(IntTuple::Int(20), IntTuple::Int(2)),
            &l(tup![4, 5], tup![1, 4])
        )
        .unwrap()
        .to_string(),
        "(4,5):(2,8)"
    );
    assert_eq!(
        composition(
            &l(IntTuple::Int(20), IntTuple::Int(2)),
            &l(tup![4, 5], tup![5, 1])
        )
        .unwrap()
        .to_string(),
        "(4,5):(10,2)"
    );
    // Composition by a tiler.
    let a = l(tup![12, tup![4, 8]], tup![59, tup![13, 1]]);
    let t = Tiler::Modes(vec![
        l(IntTuple::Int(3), IntTuple::Int(4)),
        l(IntTuple::Int(8), IntTuple::Int(2)),
    ]);
    let r = match &t {
        Tiler::Modes(v) => Layout::concat(&[
            composition(&a.mode(0).unwrap(), &v[0]).unwrap(),
            composition(&a.mode(1).unwrap(), &v[1]).unwrap(),
        ]),
        _ => unreachable!(),
    };
    assert_eq!(r.to_string(), "(3,(2,4)):(236,(26,1))");
    // Complement.
    let c = |s, d, n| complement(&l(s, d), n).unwrap().to_string();
    assert_eq!(c(IntTuple::Int(4), IntTuple::Int(1), 24), "6:4");
    assert_eq!(c(IntTuple::Int(6), IntTuple::Int(4), 24), "4:1");
    assert_eq!(c(IntTuple::Int(4), IntTuple::Int(2), 24), "(2,3):(1,8)");
    assert_eq!(c(tup![2, 4], tup![1, 6], 24), "3:2");
    assert_eq!(c(tup![2, 2], tup![1, 6], 24), "(3,2):(2,12)");
    // Logical divide (1-D and 2-D examples).
    assert_eq!(
        logical_divide(
            &l(tup![4, 2, 3], tup![2, 1, 8]),
            &Tiler::Layout(l(IntTuple::Int(4), IntTuple::Int(2)))
        )
        .unwrap()
        .to_string(),
        "((2,2),(2,3)):((4,1),(2,8))"
    );
    let a = l(tup![9, tup![4, 8]], tup![59, tup![13, 1]]);
    let t = Tiler::Modes(vec![
        l(IntTuple::Int(3), IntTuple::Int(3)),
        l(tup![2, 4], tup![1, 8]),
    ]);
    assert_eq!(
        logical_divide(&a, &t).unwrap().to_string(),
        "((3,3),((2,4),(2,2))):((177,59),((13,2),(26,1)))"
    );
    assert_eq!(
        zipped_divide(&a, &t).unwrap().to_string(),
        "((3,(2,4)),(3,(2,2))):((177,(13,2)),(59,(26,1)))"
    );
    assert_eq!(
        tiled_divide(&a, &t).unwrap().to_string(),
        "((3,(2,4)),3,(2,2)):((177,(13,2)),59,(26,1))"
    );
    assert_eq!(
        flat_divide(&a, &t).unwrap().to_string(),
        "(3,(2,4),3,(2,2)):(177,(13,2),59,(26,1))"
    );
    // Products.
    let tile = l(tup![2, 2], tup![1, 2]);
    let grid = l(tup![3, 4], tup![4, 1]);
    let t = Tiler::Layout(grid.clone());
    assert_eq!(
        logical_product(&tile, &t).unwrap().to_string(),
        "((2,2),(3,4)):((1,2),(16,4))"
    );
    assert_eq!(
        tiled_product(&tile, &t).unwrap().to_string(),
        "((2,2),3,4):((1,2),16,4)"
    );
    assert_eq!(
        blocked_product(&tile, &grid).unwrap().to_string(),
        "((2,3),8):((1,16),2)"
    );
    assert_eq!(
        raked_product(&tile, &grid).unwrap().to_string(),
        "((3,2),(4,2)):((16,1),(4,2))"
    );
    assert_eq!(
        logical_product(
            &l(tup![2, 2], tup![4, 1]),
            &Tiler::Layout(l(IntTuple::Int(6), IntTuple::Int(1)))
        )
        .unwrap()
        .to_string(),
        "((2,2),(2,3)):((4,1),(2,8))"
    );
    // 16:3 divided by 4:1.
    assert_eq!(
        logical_divide(
            &l(IntTuple::Int(16), IntTuple::Int(3)),
            &Tiler::Layout(l(IntTuple::Int(4), IntTuple::Int(1)))
        )
        .unwrap()
        .to_string(),
        "(4,4):(3,12)"
    );
}

#[test]
fn inadmissible_inputs_are_errors_not_panics() {
    let l = |s, d| Layout::new(s, d).unwrap();
    assert!(matches!(
        composition(
            &l(tup![4, 3], tup![3, 1]),
            &l(IntTuple::Int(2), IntTuple::Int(3))
        ),
        Err(LayoutError::NotDivisible { .. })
    ));
    assert!(matches!(
        complement(&l(tup![2, 2], tup![1, 1]), 8),
        Err(LayoutError::Inadmissible { .. })
    ));
    assert!(complement(&l(IntTuple::Int(4), IntTuple::Int(-1)), 8).is_err());
    assert!(left_inverse(&l(tup![2, 2], tup![0, 1])).is_err());
    assert!(Layout::new(tup![i64::MAX, 4], tup![1, 1]).is_err());
    assert!(logical_divide(
        &l(IntTuple::Int(8), IntTuple::Int(1)),
        &Tiler::Modes(vec![l(IntTuple::Int(2), IntTuple::Int(1)); 2])
    )
    .is_err());
    assert!(tile_to_shape(&l(tup![2, 2], tup![1, 2]), &[3, 4], None).is_err());
    assert!(coalesce_profile(&l(IntTuple::Int(8), IntTuple::Int(1)), &tup![1, 1]).is_err());
}

#[test]
fn overlapping_right_operands() {
    let l = |s, d| Layout::new(s, d).unwrap();
    // B's modes overlap and A is not linear across them: refused.
    assert!(composition(&l(tup![3, 2], tup![0, 1]), &l(tup![2, 3], tup![1, 1])).is_err());
    // B = (3,2):(1,4) is not carry-free on its own, but stays within A's digits: accepted.
    let a = l(tup![4, 4], tup![1, 10]);
    let b = l(tup![3, 2], tup![1, 4]);
    let r = composition(&a, &b).unwrap();
    for i in 0..6 {
        assert_eq!(r.eval(i).unwrap(), a.eval(b.eval(i).unwrap()).unwrap());
    }
    // A linear left operand composes with anything.
    assert_eq!(
        composition(
            &l(IntTuple::Int(8), IntTuple::Int(2)),
            &l(tup![2, 2], tup![1, 1])
        )
        .unwrap()
        .to_string(),
        "(2,2):(2,2)"
    );
}

//! Property tests of register layouts: products, division, canonical form, the
//! (thread, value) ↔ coordinate maps, and the correspondence with shape:stride layouts.

use proptest::prelude::*;
use tilec_layout::tv::{column_local, column_spatial, local, replicate, spatial, TvLayout};

/// A random rank-2 primitive.
fn primitive() -> impl Strategy<Value = TvLayout> {
    (0u8..5, 1i64..=4, 1i64..=4).prop_map(|(k, a, b)| match k {
        0 => local(&[a, b]).unwrap(),
        1 => spatial(&[a, b]).unwrap(),
        2 => column_local(&[a, b]).unwrap(),
        3 => column_spatial(&[a, b]).unwrap(),
        _ => replicate(a).unwrap(),
    })
}

/// A random product of up to four primitives.
fn tv() -> impl Strategy<Value = TvLayout> {
    prop::collection::vec(primitive(), 1..=4).prop_map(|ps| {
        // Starting from local(1,1) keeps the rank at 2 even for a lone replicate(k).
        ps.into_iter()
            .fold(local(&[1, 1]).unwrap(), |acc, p| acc.product(&p).unwrap())
    })
}

/// Evaluates a layout exhaustively: coordinates of every (thread, value).
fn table(l: &TvLayout) -> Vec<Vec<i64>> {
    (0..l.num_threads())
        .flat_map(|t| (0..l.num_values()).map(move |v| l.coords(t, v).unwrap()))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, .. ProptestConfig::default() })]

    #[test]
    fn product_semantics(a in tv(), b in tv()) {
        let p = a.product(&b).unwrap();
        let r = a.rank().max(b.rank());
        let pad = |x: &TvLayout, c: Vec<i64>| { let mut v = vec![0; r - x.rank()]; v.extend(c); v };
        let bs = pad(&b, b.shape().to_vec()).iter().map(|&x| x.max(1)).collect::<Vec<_>>();
        let bs: Vec<i64> = { let mut v = vec![1; r - b.rank()]; v.extend(b.shape()); v.iter().zip(&bs).map(|(x, _)| *x).collect() };
        prop_assert_eq!(p.num_threads(), a.num_threads() * b.num_threads());
        prop_assert_eq!(p.num_values(), a.num_values() * b.num_values());
        for ta in 0..a.num_threads() { for tb in 0..b.num_threads() {
            for va in 0..a.num_values() { for vb in 0..b.num_values() {
                let ca = pad(&a, a.coords(ta, va).unwrap());
                let cb = pad(&b, b.coords(tb, vb).unwrap());
                let want: Vec<i64> = (0..r).map(|d| ca[d] * bs[d] + cb[d]).collect();
                let got = p.coords(ta * b.num_threads() + tb, va * b.num_values() + vb).unwrap();
                prop_assert_eq!(got, want);
            }}
        }}
    }

    #[test]
    fn division_inverts_product(c in tv(), b in tv()) {
        let a = c.product(&b).unwrap();
        let q = a.div_right(&b).unwrap();
        // The quotient is unique as a mapping once its rank is fixed.
        prop_assert_eq!(table(&q.product(&b).unwrap()), table(&a));
        prop_assert_eq!(q.product(&b).unwrap(), a.clone());
        let l = a.div_left(&c).unwrap();
        prop_assert_eq!(c.product(&l).unwrap(), a);
    }

    #[test]
    fn division_result_is_always_exact(a in tv(), b in tv()) {
        if let Ok(q) = a.div_right(&b) {
            prop_assert_eq!(q.product(&b).unwrap(), a.clone());
        }
        if let Ok(q) = a.div_left(&b) {
            prop_assert_eq!(b.product(&q).unwrap(), a);
        }
    }

    #[test]
    fn canonical_form_decides_equality(a in tv(), b in tv()) {
        let same_map = a.shape() == b.shape()
            && a.num_threads() == b.num_threads()
            && a.num_values() == b.num_values()
            && table(&a) == table(&b);
        prop_assert_eq!(a == b, same_map, "{} vs {}", a, b);
    }

    #[test]
    fn holders_invert_coords(a in tv()) {
        let mut count = 0;
        for idx in 0..a.size() {
            let coord = vec![idx / a.shape()[1], idx % a.shape()[1]];
            let h = a.holders(&coord).unwrap();
            prop_assert_eq!(h.len() as i64, a.replication());
            for &(t, v) in &h {
                prop_assert_eq!(a.coords(t, v).unwrap(), coord.clone());
            }
            count += h.len() as i64;
        }
        prop_assert_eq!(count, a.num_threads() * a.num_values());
    }

    #[test]
    fn single_layout_view(a in tv()) {
        let l = a.to_layout();
        let nt = a.num_threads();
        for t in 0..nt { for v in 0..a.num_values() {
            prop_assert_eq!(l.eval(t + v * nt).unwrap(), a.linear(t, v).unwrap());
        }}
        prop_assert_eq!(TvLayout::from_layout(a.shape(), &l).unwrap(), a);
    }

    #[test]
    fn reshape_and_permute_round_trip(a in tv()) {
        let n = a.size();
        let flat = a.reshape(&[n]).unwrap();
        prop_assert_eq!(flat.reshape(a.shape()).unwrap(), a.clone());
        let p = a.permute(&[1, 0]).unwrap();
        prop_assert_eq!(p.permute(&[1, 0]).unwrap(), a.clone());
        for t in 0..a.num_threads() { for v in 0..a.num_values() {
            let c = a.coords(t, v).unwrap();
            prop_assert_eq!(p.coords(t, v).unwrap(), vec![c[1], c[0]]);
        }}
    }

    #[test]
    fn reduce_replicates_along_reduced_dims(a in tv(), d in 0usize..2) {
        let r = a.reduce(&[d], true).unwrap();
        prop_assert_eq!(r.num_threads(), a.num_threads());
        for t in 0..a.num_threads() {
            let c = a.coords(t, 0).unwrap();
            let mut want = c.clone();
            want[d] = 0;
            prop_assert_eq!(r.coords(t, 0).unwrap(), want);
        }
        let dropped = a.reduce(&[d], false).unwrap();
        prop_assert_eq!(dropped.rank(), 1);
        prop_assert_eq!(dropped.size(), a.shape()[1 - d]);
    }

    #[test]
    fn concat_is_product_over_disjoint_dims(a in tv(), b in tv()) {
        let c = a.concat(&b).unwrap();
        prop_assert_eq!(c.rank(), a.rank() + b.rank());
        let t = c.coords(c.num_threads() - 1, c.num_values() - 1).unwrap();
        let mut want = a.coords(a.num_threads() - 1, a.num_values() - 1).unwrap();
        want.extend(b.coords(b.num_threads() - 1, b.num_values() - 1).unwrap());
        prop_assert_eq!(t, want);
    }
}

#[test]
fn known_equalities_and_errors() {
    assert_eq!(
        spatial(&[2])
            .unwrap()
            .product(&spatial(&[4]).unwrap())
            .unwrap(),
        spatial(&[8]).unwrap()
    );
    assert_eq!(
        spatial(&[2, 1]).unwrap().spatial(&[2, 4]).unwrap(),
        spatial(&[4, 4]).unwrap()
    );
    assert_eq!(
        local(&[1, 2]).unwrap().local(&[1, 4]).unwrap(),
        local(&[1, 8]).unwrap()
    );
    assert_ne!(
        local(&[2, 1]).unwrap().local(&[1, 2]).unwrap(),
        column_local(&[2, 2]).unwrap()
    );
    assert_eq!(
        local(&[2, 1]).unwrap().local(&[1, 2]).unwrap(),
        local(&[2, 2]).unwrap()
    );
    // Tilus-style replication: 4x8 spatial where each element is held by 2 threads.
    let r = spatial(&[4, 8]).unwrap().replicate(2).unwrap();
    assert_eq!(r.num_threads(), 64);
    assert_eq!(r.holders(&[0, 1]).unwrap(), vec![(2, 0), (3, 0)]);
    assert!(local(&[0, 2]).is_err());
    assert!(spatial(&[4]).unwrap().reduce(&[3], true).is_err());
    assert!(spatial(&[4, 2]).unwrap().reshape(&[3, 3]).is_err());
    assert!(spatial(&[4, 2]).unwrap().permute(&[0, 0]).is_err());
    assert!(spatial(&[4, 2]).unwrap().coords(8, 0).is_err());
    assert!(spatial(&[4, 2]).unwrap().holders(&[4, 0]).is_err());
    assert!(local(&[4, 2])
        .unwrap()
        .div_right(&spatial(&[2, 2]).unwrap())
        .is_err());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, .. ProptestConfig::default() })]

    /// Products of primitives factorize, and the factors multiply back to the layout.
    #[test]
    fn factorization_round_trips(a in tv()) {
        let f = a.factorize().expect("a product of primitives factorizes");
        let mut it = f.iter();
        let first = it.next().unwrap().layout().unwrap();
        let back = it.fold(first, |acc, x| acc.product(&x.layout().unwrap()).unwrap());
        prop_assert_eq!(back, a);
    }
}

#[test]
fn atoms_factorize_readably() {
    use tilec_layout::atoms::{mma, wgmma_acc, Operand};
    use tilec_layout::tv_factor::chain_string;
    let s = |l: TvLayout| chain_string(&l.factorize().unwrap());
    assert_eq!(
        s(mma("m16n8k16", "f16", Operand::A).unwrap()),
        "column_local(2,2).spatial(8,4).local(1,2)"
    );
    assert_eq!(
        s(mma("m16n8k16", "f16", Operand::B).unwrap()),
        "local(2,1).column_spatial(4,8).local(2,1)"
    );
    assert_eq!(
        s(mma("m16n8k16", "f16", Operand::C).unwrap()),
        "local(2,1).spatial(8,4).local(1,2)"
    );
    assert_eq!(
        s(wgmma_acc(64).unwrap()),
        "spatial(4,1).column_local(2,8).spatial(8,4).local(1,2)"
    );
}

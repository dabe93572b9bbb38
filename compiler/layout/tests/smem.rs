//! Bank-conflict counts for known cases and the swizzle chooser. The first, fourth and
//! vector-store cases were also measured with Nsight Compute on an H100 (gpu_check/bank_check.cu):
//! 28 conflicts unswizzled, 0 with Sw<3,3,3>, 32 / 1 wavefronts, 4 wavefronts.

use tilec_layout::smem::{
    analyze, analyze_all, choose_swizzle, pattern_accesses, AccessPattern, SmemLayout, WarpAccess,
};
use tilec_layout::tv::{local, spatial};
use tilec_layout::{tup, Layout, Swizzle, SwizzledLayout};

fn row_major(rows: i64, cols: i64) -> Layout {
    Layout::new(tup![rows, cols], tup![cols, 1]).unwrap()
}

#[test]
fn ldmatrix_on_unswizzled_64_wide_f16_conflicts_8_way() {
    let smem = SmemLayout::Plain(row_major(32, 64));
    // One ldmatrix.x4 reading a column of four 8x8 matrices: every row is 128 bytes apart,
    // so all 8 row addresses of a matrix hit the same 4 banks.
    let acc = WarpAccess::ldmatrix(&[[0, 0], [8, 0], [16, 0], [24, 0]], 16).unwrap();
    let r = analyze(&smem, 16, &acc).unwrap();
    assert_eq!(r.per_phase, vec![8, 8, 8, 8]);
    assert_eq!(r.conflicts, 28);
    // The same with Sw<3,3,3>: conflict-free.
    let sw = SmemLayout::Swizzled(SwizzledLayout::new(
        Swizzle::new(3, 3, 3).unwrap(),
        row_major(32, 64),
    ));
    let r = analyze(&sw, 16, &acc).unwrap();
    assert_eq!(r.per_phase, vec![1, 1, 1, 1]);
    assert_eq!(r.conflicts, 0);
    assert!(r.vectors_intact);
    // Whole tile, every ldmatrix.x4 column-wise.
    let all = pattern_accesses(32, 64, 16, &AccessPattern::Ldmatrix { count: 4 }).unwrap();
    assert_eq!(all.len(), 8);
    assert_eq!(analyze_all(&smem, 16, &all).unwrap().conflicts, 8 * 4 * 7);
    assert_eq!(analyze_all(&sw, 16, &all).unwrap().conflicts, 0);
}

#[test]
fn chooser_picks_sw333_for_ldmatrix_on_64_wide_f16() {
    let (sw, rep) = choose_swizzle(32, 64, 16, &AccessPattern::Ldmatrix { count: 4 })
        .unwrap()
        .unwrap();
    assert_eq!(sw, Swizzle::new(3, 3, 3).unwrap());
    assert_eq!(rep.conflicts, 0);
    // 32-wide f16 rows are 64 bytes: two rows share a bank line, Sw<2,3,3> suffices.
    let (sw, _) = choose_swizzle(32, 32, 16, &AccessPattern::Ldmatrix { count: 4 })
        .unwrap()
        .unwrap();
    assert_eq!(sw, Swizzle::new(2, 3, 3).unwrap());
    // 8-wide f16 rows (16 bytes): eight rows fill all banks, no swizzle needed.
    let (sw, _) = choose_swizzle(32, 8, 16, &AccessPattern::Ldmatrix { count: 4 })
        .unwrap()
        .unwrap();
    assert!(sw.is_identity());
}

#[test]
fn vectorized_row_stores_are_conflict_free_and_stay_so_under_sw333() {
    let all = pattern_accesses(32, 64, 16, &AccessPattern::RowVector { bytes: 16 }).unwrap();
    let plain = analyze_all(&SmemLayout::Plain(row_major(32, 64)), 16, &all).unwrap();
    assert_eq!(plain.conflicts, 0);
    assert_eq!(plain.wavefronts, 32 * 64 * 2 / 128);
    let sw = SmemLayout::Swizzled(SwizzledLayout::new(
        Swizzle::new(3, 3, 3).unwrap(),
        row_major(32, 64),
    ));
    let r = analyze_all(&sw, 16, &all).unwrap();
    assert_eq!(r.conflicts, 0);
    assert!(r.vectors_intact);
    // Sw<3,2,3> would split 16-byte vectors.
    let bad = SmemLayout::Swizzled(SwizzledLayout::new(
        Swizzle::new(3, 2, 3).unwrap(),
        row_major(32, 64),
    ));
    assert!(!analyze_all(&bad, 16, &all).unwrap().vectors_intact);
}

#[test]
fn f32_column_read_is_32_way_and_padding_fixes_it() {
    let lanes: Vec<Vec<i64>> = (0..32).map(|r| vec![r, 5]).collect();
    let acc = WarpAccess::vectorized(&lanes, 1, 32).unwrap();
    let r = analyze(&SmemLayout::Plain(row_major(32, 32)), 32, &acc).unwrap();
    assert_eq!((r.wavefronts, r.conflicts), (32, 31));
    let padded = Layout::new(tup![32, 32], tup![33, 1]).unwrap();
    assert_eq!(
        analyze(&SmemLayout::Plain(padded), 32, &acc)
            .unwrap()
            .conflicts,
        0
    );
    // A broadcast (every lane the same word) costs one wavefront.
    let same: Vec<Vec<i64>> = (0..32).map(|_| vec![3, 3]).collect();
    let acc = WarpAccess::vectorized(&same, 1, 32).unwrap();
    assert_eq!(
        analyze(&SmemLayout::Plain(row_major(32, 32)), 32, &acc)
            .unwrap()
            .wavefronts,
        1
    );
}

#[test]
fn eight_byte_vectors_go_in_half_warps() {
    // 32 lanes x 8 bytes = 2 phases of 16 lanes; a row of 64 f32 is 256 bytes.
    let lanes: Vec<Vec<i64>> = (0..32).map(|t| vec![0, 2 * t]).collect();
    let acc = WarpAccess::vectorized(&lanes, 2, 32).unwrap();
    assert_eq!(acc.phases.len(), 2);
    let r = analyze(&SmemLayout::Plain(row_major(4, 64)), 32, &acc).unwrap();
    assert_eq!(r.per_phase, vec![1, 1]);
    // Stride-2 rows of 8 bytes per lane down a column: 16 lanes x 8 bytes in a phase all in
    // banks {0,1} of distinct rows -> 16 wavefronts per phase.
    let lanes: Vec<Vec<i64>> = (0..32).map(|t| vec![t, 0]).collect();
    let acc = WarpAccess::vectorized(&lanes, 2, 32).unwrap();
    let r = analyze(&SmemLayout::Plain(row_major(32, 64)), 32, &acc).unwrap();
    assert_eq!(r.per_phase, vec![16, 16]);
}

#[test]
fn register_layout_store() {
    // mma accumulator-like store: spatial(8,4).local(1,2) of f32 on an 8x8 row-major tile,
    // 2 consecutive slots per 8-byte store.
    let tv = spatial(&[8, 4]).unwrap().local(&[1, 2]).unwrap();
    let acc = WarpAccess::from_tv(&tv, 2, 32).unwrap();
    assert_eq!(acc.len(), 1);
    let r = analyze_all(&SmemLayout::Plain(row_major(8, 8)), 32, &acc).unwrap();
    assert_eq!(r.conflicts, 0);
    // Column-major slots are not vectorisable along rows.
    let tv = spatial(&[4, 8]).unwrap().local(&[2, 1]).unwrap();
    assert!(WarpAccess::from_tv(&tv, 2, 32).is_err());
    let pat = AccessPattern::Registers {
        layout: local(&[2, 1])
            .unwrap()
            .product(&spatial(&[8, 4]).unwrap())
            .unwrap(),
        vec: 1,
    };
    assert!(pattern_accesses(16, 4, 32, &pat).is_ok());
}

#[test]
fn bad_patterns_are_errors() {
    assert!(pattern_accesses(32, 64, 16, &AccessPattern::Ldmatrix { count: 0 }).is_err());
    assert!(pattern_accesses(32, 64, 16, &AccessPattern::RowVector { bytes: i64::MAX }).is_err());
    assert!(pattern_accesses(32, 60, 16, &AccessPattern::RowVector { bytes: 16 }).is_err());
    assert!(pattern_accesses(
        1 << 40,
        1 << 40,
        16,
        &AccessPattern::RowVector { bytes: 16 }
    )
    .is_err());
    assert!(pattern_accesses(0, 64, 16, &AccessPattern::RowVector { bytes: 16 }).is_err());
    assert!(pattern_accesses(32, 64, 12, &AccessPattern::RowVector { bytes: 16 }).is_err());
    assert!(WarpAccess::vectorized(&[vec![0, 0]], 0, 16).is_err());
    assert!(WarpAccess::ldmatrix(&[[0, 0]; 3], 16).is_err());
}

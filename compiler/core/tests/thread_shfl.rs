//! Warp shuffles in the thread-level emulator: a butterfly warp reduction against a direct sum,
//! and each `shfl.sync` mode against the PTX ISA's definition written out per lane.

use tilec_core::thread::{emulate, ArgValue, BinOp, Builder, CmpOp, EmuErrorKind, ShflMode, Ty};
use tilec_dtype::DType;

/// out[t] = sum of x over t's warp, by `shfl.bfly` with offsets 16, 8, 4, 2, 1 (a `for` loop
/// carrying the partial sum; the offset is `16 >> i`).
#[test]
fn butterfly_warp_sum_matches_direct_sum() {
    let mut b = Builder::new("warp_sum");
    let x = b.param_global("x", DType::F32);
    let out = b.param_global("out", DType::F32);
    let t = b.thread_id();
    let four = b.i32(4);
    let off = b.mul(t, four);
    let off = b.cast(off, DType::I64);
    let v = b.load_global(x, off, Ty::F32, None, None);
    let (lo, hi, step) = (b.i32(0), b.i32(5), b.i32(1));
    let sum = b.for_(lo, hi, step, &[v], |b, i, carried| {
        let sixteen = b.i32(16);
        let delta = b.binary(BinOp::Shr, sixteen, i);
        let other = b.shfl(ShflMode::Bfly, carried[0], delta, u32::MAX);
        vec![b.add(carried[0], other)]
    })[0];
    b.store_global(out, off, sum, None);
    let p = b.finish();
    // Integers in f32: every summation order gives the exact sum.
    let n = 96;
    let xs: Vec<f64> = (0..n).map(|i| ((i * 37) % 101) as f64 - 50.0).collect();
    let mut args = vec![ArgValue::tensor(DType::F32, &xs), ArgValue::zeros(DType::F32, n)];
    emulate(&p, &mut args, [1, 1, 1], n as u32).unwrap();
    let got = args[1].values();
    for w in 0..3 {
        let direct: f64 = xs[32 * w..32 * w + 32].iter().sum();
        for l in 0..32 {
            assert_eq!(got[32 * w + l], direct, "warp {w} lane {l}");
        }
    }
}

/// Runs `shfl.sync.{mode}` of the lane id with operand `bv` and `c`, returning each lane's result.
fn shuffle(mode: ShflMode, bv: i32, c: u32) -> Vec<f64> {
    let mut b = Builder::new("shfl");
    let out = b.param_global("out", DType::I32);
    let l = b.lane_id();
    let bb = b.i32(bv);
    let r = b.shfl_c(mode, l, bb, c, u32::MAX);
    let four = b.i32(4);
    let off = b.mul(l, four);
    let off = b.cast(off, DType::I64);
    b.store_global(out, off, r, None);
    let mut args = vec![ArgValue::zeros(DType::I32, 32)];
    emulate(&b.finish(), &mut args, [1, 1, 1], 32).unwrap();
    args[0].values()
}

#[test]
fn shuffle_modes_follow_ptx() {
    let lanes = |f: &dyn Fn(i64) -> i64| (0..32).map(|l| f(l) as f64).collect::<Vec<_>>();
    // idx: broadcast lane 5.
    assert_eq!(shuffle(ShflMode::Idx, 5, 0x1f), lanes(&|_| 5));
    // idx within segments of 8 (c = (32 - 8) << 8 | 0x1f... the segment mask is c[12:8] = 0x18).
    assert_eq!(shuffle(ShflMode::Idx, 3, 0x181f), lanes(&|l| (l & !7) + 3));
    // down by 3: lanes 29..31 keep their own value.
    assert_eq!(shuffle(ShflMode::Down, 3, 0x1f), lanes(&|l| if l + 3 <= 31 { l + 3 } else { l }));
    // up by 2: lanes 0, 1 keep their own value.
    assert_eq!(shuffle(ShflMode::Up, 2, 0), lanes(&|l| if l >= 2 { l - 2 } else { l }));
    // bfly by 6.
    assert_eq!(shuffle(ShflMode::Bfly, 6, 0x1f), lanes(&|l| l ^ 6));
    // down by 1 within segments of 4.
    assert_eq!(shuffle(ShflMode::Down, 1, 0x1c1f), lanes(&|l| if l % 4 != 3 { l + 1 } else { l }));
}

#[test]
fn shuffle_under_divergence_or_outside_the_mask_is_reported() {
    // Only lanes below 16 execute a full-mask shuffle.
    let mut b = Builder::new("div");
    let l = b.lane_id();
    let sixteen = b.i32(16);
    let c = b.cmp(CmpOp::Lt, l, sixteen);
    let one = b.i32(1);
    b.if_(c, &[], |b| {
        b.shfl(ShflMode::Bfly, l, one, u32::MAX);
        vec![]
    }, |_| vec![]);
    let e = emulate(&b.finish(), &mut [], [1, 1, 1], 32).unwrap_err();
    assert!(matches!(e.kind, EmuErrorKind::DivergentCollective { active: 0xffff, required: u32::MAX, .. }), "{e}");
    assert_eq!(e.thread, Some(16));

    // The same shuffle with the member mask of the lanes that take part is fine, as long as the
    // source lanes are members: bfly by 1 stays within lanes 0..16, bfly by 16 does not.
    for (delta, ok) in [(1, true), (16, false)] {
        let mut b = Builder::new("masked");
        let l = b.lane_id();
        let sixteen = b.i32(16);
        let c = b.cmp(CmpOp::Lt, l, sixteen);
        let d = b.i32(delta);
        b.if_(c, &[], |b| {
            b.shfl(ShflMode::Bfly, l, d, 0xffff);
            vec![]
        }, |_| vec![]);
        let r = emulate(&b.finish(), &mut [], [1, 1, 1], 32);
        assert_eq!(r.is_ok(), ok, "{r:?}");
        if let Err(e) = r {
            assert!(matches!(e.kind, EmuErrorKind::ShflSource { lane: 0, source: 16 }), "{e}");
        }
    }
}

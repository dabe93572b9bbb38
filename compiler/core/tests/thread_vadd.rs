//! A vector kernel in the thread-level emulator: each thread of each block handles four f32 with
//! one predicated 16-byte load per input and one predicated 16-byte store, `c = alpha·a + b`
//! (`fma.rn.f32` per element), against a reference with `f32::mul_add`.

use rand::Rng;
use tilec_core::thread::{emulate, ArgValue, Builder, CmpOp, EmuErrorKind, Program, Ty};
use tilec_dtype::DType;

fn axpy(predicated: bool) -> Program {
    let mut b = Builder::new("axpy");
    let pa = b.param_global("a", DType::F32);
    let pb = b.param_global("b", DType::F32);
    let pc = b.param_global("c", DType::F32);
    let pn = b.param_dim("n");
    let palpha = b.param_scalar("alpha", DType::F32);
    let t = b.thread_id();
    let blk = b.block_id(0);
    let nt = b.special(tilec_core::thread::Special::NumThreads);
    let base = b.mul(blk, nt);
    let gid = b.add(base, t);
    let gid = b.cast(gid, DType::I64);
    let four = b.i64(4);
    let first = b.mul(gid, four); // first element of the chunk
    let n = b.param(pn);
    let in_bounds = b.cmp(CmpOp::Lt, first, n);
    let pred = predicated.then_some(in_bounds);
    let sixteen = b.i64(16);
    let off = b.mul(gid, sixteen);
    let zero = b.const_float(DType::F32, 0.0);
    let zeros = b.pack(&[zero; 4]);
    let v4 = Ty::vec(DType::F32, 4);
    let x = b.load_global(pa, off, v4, pred, Some(zeros));
    let y = b.load_global(pb, off, v4, pred, Some(zeros));
    let alpha = b.param(palpha);
    let alpha4 = b.pack(&[alpha; 4]);
    let r = b.fma(alpha4, x, y);
    b.store_global(pc, off, r, pred);
    b.finish()
}

#[test]
fn vector_axpy_matches_reference() {
    let mut rng = rand::rng();
    let n = 1000; // 250 chunks over 3 blocks of 128 threads: the last 134 threads are masked off
    let a: Vec<f32> = (0..n).map(|_| rng.random_range(-100.0..100.0)).collect();
    let bv: Vec<f32> = (0..n).map(|_| rng.random_range(-100.0..100.0)).collect();
    let alpha = 1.0f32 / 3.0;
    let f = |v: &[f32]| v.iter().map(|&x| x as f64).collect::<Vec<_>>();
    let mut args = vec![
        ArgValue::tensor(DType::F32, &f(&a)),
        ArgValue::tensor(DType::F32, &f(&bv)),
        ArgValue::zeros(DType::F32, n),
        ArgValue::Dim(n as i64),
        ArgValue::scalar(DType::F32, alpha as f64),
    ];
    emulate(&axpy(true), &mut args, [3, 1, 1], 128).unwrap();
    let c = args[2].values();
    for i in 0..n {
        assert_eq!(c[i], alpha.mul_add(a[i], bv[i]) as f64, "c[{i}]");
    }

    // Without the predicate the first thread past the end faults.
    let e = emulate(&axpy(false), &mut args, [3, 1, 1], 128).unwrap_err();
    assert_eq!(e.block, [1, 0, 0]);
    assert_eq!(e.thread, Some(122)); // chunk 250 = 128 + 122
    assert!(matches!(e.kind, EmuErrorKind::OutOfBounds { offset: 4000, size: 16, len: 4000, .. }), "{e}");
}

#[test]
fn arguments_must_match_the_parameters() {
    let mut args = vec![ArgValue::zeros(DType::F32, 4), ArgValue::zeros(DType::F16, 4), ArgValue::zeros(DType::F32, 4), ArgValue::Dim(4), ArgValue::scalar(DType::F32, 1.0)];
    let e = emulate(&axpy(true), &mut args, [1, 1, 1], 1).unwrap_err();
    assert!(matches!(&e.kind, EmuErrorKind::Invalid(m) if m.contains("`b`")), "{e}");
}

//! `red.global.add` in the thread-level IR: what the emulator computes (integers wrap, floats are
//! rounded once per update, predicated-off threads add nothing), that atomics of many threads and
//! blocks to one element are not a race while a plain access meeting an atomic is, and what the
//! verifier refuses.

use tilec_core::thread::{emulate, print_program, verify, ArgValue, Builder, CmpOp, EmuErrorKind, Program, ThreadRef, Ty};
use tilec_dtype::DType;

/// Every thread of every block adds `value(thread)` to element 0 of `out` (of `dtype`), under
/// `thread < limit` when `limit` is given.
fn all_into_one(dtype: DType, value: impl FnOnce(&mut Builder, tilec_core::thread::Reg) -> tilec_core::thread::Reg, limit: Option<i32>) -> Program {
    let mut b = Builder::new("all_into_one");
    let out = b.param_global("out", dtype);
    let t = b.thread_id();
    let v = value(&mut b, t);
    let zero = b.i64(0);
    let pred = limit.map(|l| {
        let l = b.i32(l);
        b.cmp(CmpOp::Lt, t, l)
    });
    b.atomic_add_global(out, zero, v, pred);
    b.finish()
}

#[test]
fn many_threads_and_blocks_add_into_one_element() {
    let p = all_into_one(DType::I32, |_, t| t, None);
    let mut args = vec![ArgValue::tensor(DType::I32, &[5.0])];
    emulate(&p, &mut args, [3, 2, 1], 256).unwrap();
    // Six blocks, each adding 0 + 1 + ... + 255.
    assert_eq!(args[0].values(), vec![5.0 + 6.0 * (255.0 * 256.0 / 2.0)]);
}

#[test]
fn predicated_off_threads_add_nothing() {
    let p = all_into_one(DType::I64, |b, t| b.cast(t, DType::I64), Some(10));
    let mut args = vec![ArgValue::zeros(DType::I64, 1)];
    emulate(&p, &mut args, [2, 1, 1], 64).unwrap();
    assert_eq!(args[0].values(), vec![2.0 * 45.0]);
}

#[test]
fn integers_wrap() {
    // u32: 0xffff_fff0 + 32 × 1 wraps to 16.
    let p = all_into_one(DType::U32, |b, _| b.u32(1), None);
    let mut args = vec![ArgValue::Global { dtype: DType::U32, bytes: 0xffff_fff0u32.to_le_bytes().to_vec() }];
    emulate(&p, &mut args, [1, 1, 1], 32).unwrap();
    assert_eq!(args[0].values(), vec![16.0]);
    // i32: i32::MAX + 1 wraps to i32::MIN.
    let p = all_into_one(DType::I32, |b, _| b.i32(1), Some(1));
    let mut args = vec![ArgValue::tensor(DType::I32, &[i32::MAX as f64])];
    emulate(&p, &mut args, [1, 1, 1], 32).unwrap();
    assert_eq!(args[0].values(), vec![i32::MIN as f64]);
}

/// Each update is rounded to f32 on its own: 2^24 + 1 is not an f32, so adding 1.0 to 2^24 32 times
/// leaves 2^24 (a sum in f64 first would give 2^24 + 32).
#[test]
fn float_updates_round_one_by_one() {
    let p = all_into_one(DType::F32, |b, _| b.const_float(DType::F32, 1.0), None);
    let mut args = vec![ArgValue::tensor(DType::F32, &[16_777_216.0])];
    emulate(&p, &mut args, [1, 1, 1], 32).unwrap();
    assert_eq!(args[0].values(), vec![16_777_216.0]);
    // In f64 the same updates are exact.
    let p = all_into_one(DType::F64, |b, _| b.const_float(DType::F64, 1.0), None);
    let mut args = vec![ArgValue::tensor(DType::F64, &[16_777_216.0])];
    emulate(&p, &mut args, [1, 1, 1], 32).unwrap();
    assert_eq!(args[0].values(), vec![16_777_216.0 + 32.0]);
}

/// Thread 0 stores element 0 (or loads it) while every thread adds into it: a race, whichever comes
/// first; a thread's own plain access to an element only it updates is not.
#[test]
fn a_plain_access_meeting_an_atomic_is_a_race() {
    for (store, store_first) in [(true, true), (true, false), (false, true), (false, false)] {
        let mut b = Builder::new("mixed");
        let out = b.param_global("out", DType::I32);
        let t = b.thread_id();
        let zero = b.i32(0);
        let z64 = b.i64(0);
        let is0 = b.cmp(CmpOp::Eq, t, zero);
        let plain = |b: &mut Builder| {
            if store {
                b.store_global(out, z64, t, Some(is0));
            } else {
                b.load_global(out, z64, Ty::I32, Some(is0), Some(zero));
            }
        };
        if store_first {
            plain(&mut b);
        }
        b.atomic_add_global(out, z64, t, None);
        if !store_first {
            plain(&mut b);
        }
        let e = emulate(&b.finish(), &mut [ArgValue::zeros(DType::I32, 1)], [1, 1, 1], 4).unwrap_err();
        let EmuErrorKind::AtomicRace { tensor, offset: 0, atomic, plain, plain_write } = &e.kind else { panic!("{e}") };
        assert_eq!((tensor.as_str(), *plain_write), ("out", store), "{e}");
        if store_first {
            // Thread 0's plain access, then thread 1's atomic (thread 0's own atomic is no race).
            assert_eq!((*plain, *atomic), (Some(ThreadRef { block: [0; 3], thread: 0 }), Some(ThreadRef { block: [0; 3], thread: 1 })), "{e}");
        } else {
            // All four threads updated it before thread 0's plain access.
            assert_eq!((*plain, *atomic), (Some(ThreadRef { block: [0; 3], thread: 0 }), None), "{e}");
        }
        assert!(e.to_string().contains("atomic update"), "{e}");
    }

    // Each thread adds into its own element, then reads it back: no race.
    let mut b = Builder::new("own");
    let out = b.param_global("out", DType::I32);
    let t = b.thread_id();
    let four = b.i32(4);
    let off = b.mul(t, four);
    let off = b.cast(off, DType::I64);
    b.atomic_add_global(out, off, t, None);
    let x = b.load_global(out, off, Ty::I32, None, None);
    b.store_global(out, off, x, None);
    let mut args = vec![ArgValue::tensor(DType::I32, &[10.0; 8])];
    emulate(&b.finish(), &mut args, [1, 1, 1], 8).unwrap();
    assert_eq!(args[0].values(), (0..8).map(|i| 10.0 + i as f64).collect::<Vec<_>>());
}

#[test]
fn out_of_bounds_atomics_are_reported() {
    let mut b = Builder::new("oob");
    let out = b.param_global("out", DType::F32);
    let t = b.thread_id();
    let four = b.i32(4);
    let off = b.mul(t, four);
    let off = b.cast(off, DType::I64);
    let one = b.const_float(DType::F32, 1.0);
    b.atomic_add_global(out, off, one, None);
    let e = emulate(&b.finish(), &mut [ArgValue::zeros(DType::F32, 4)], [1, 1, 1], 8).unwrap_err();
    assert!(matches!(e.kind, EmuErrorKind::OutOfBounds { offset: 16, size: 4, .. }), "{e}");
    assert_eq!(e.thread, Some(4));
}

#[test]
fn the_verifier_refuses_what_ptx_cannot_add_atomically() {
    // A narrow integer: PTX has no atomic add of 16-bit integers.
    let mut b = Builder::new("narrow");
    let out = b.param_global("out", DType::I16);
    let z = b.i64(0);
    let one = b.const_int(DType::I16, 1);
    b.atomic_add_global(out, z, one, None);
    let e = verify(&b.finish()).unwrap_err();
    assert!(e.message.contains("no atomic add of i16"), "{e}");
    // A value of another dtype than the tensor's.
    let mut b = Builder::new("mismatch");
    let out = b.param_global("out", DType::F32);
    let z = b.i64(0);
    let one = b.const_float(DType::F64, 1.0);
    b.atomic_add_global(out, z, one, None);
    let e = verify(&b.finish()).unwrap_err();
    assert!(e.message.contains("tensor's dtype f32, not f64"), "{e}");
    // A vector.
    let mut b = Builder::new("vector");
    let out = b.param_global("out", DType::F32);
    let z = b.i64(0);
    let one = b.const_float(DType::F32, 1.0);
    let v = b.pack(&[one, one]);
    b.atomic_add_global(out, z, v, None);
    assert!(verify(&b.finish()).is_err());
}

#[test]
fn printed_form() {
    let p = all_into_one(DType::F32, |b, _| b.const_float(DType::F32, 1.0), Some(3));
    let text = print_program(&p);
    assert!(text.contains("red.global.add out[%"), "{text}");
    assert!(text.lines().any(|l| l.contains("red.global.add") && l.contains(" if %")), "{text}");
}

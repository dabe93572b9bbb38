//! What the thread-level emulator and verifier report: shared-memory races, barriers in divergent
//! code, out-of-bounds and misaligned accesses, uninitialised registers and shared memory, cp.async
//! results read early; and the textual form.

use tilec_core::syntax::Span;
use tilec_core::thread::{emulate, print_program, verify, ArgValue, Builder, CmpOp, EmuErrorKind, OpId, Program, ThreadRef, Ty};
use tilec_dtype::DType;

/// Threads 0 and 1 store to shared byte 0; with `barrier`, thread 1 stores only after a bar.sync.
fn two_writers(barrier: bool) -> (Program, OpId) {
    let mut b = Builder::new("race");
    let s = b.shared("s", 64, 16);
    let t = b.thread_id();
    let zero = b.i32(0);
    let one = b.i32(1);
    let is0 = b.cmp(CmpOp::Eq, t, zero);
    let is1 = b.cmp(CmpOp::Eq, t, one);
    b.store_shared(s, zero, t, Some(is0));
    if barrier {
        b.bar_sync();
    }
    b.set_span(Some(Span::new(10, 20)));
    b.store_shared(s, zero, t, Some(is1));
    let p = b.finish();
    let id = OpId(p.num_ops - 1);
    (p, id)
}

#[test]
fn write_write_race_is_reported_and_a_barrier_fixes_it() {
    let (p, id) = two_writers(false);
    let e = emulate(&p, &mut [], [2, 1, 1], 64).unwrap_err();
    assert!(matches!(e.kind, EmuErrorKind::SharedRace { first: Some(0), first_write: true, second: 1, second_write: true, offset: 0, .. }), "{e}");
    assert_eq!(e.op, Some(id));
    assert_eq!(e.span, Some(Span::new(10, 20)));
    assert_eq!(e.thread, Some(1));
    assert_eq!(p.span_of(id), Some(Span::new(10, 20)));
    let (p, _) = two_writers(true);
    emulate(&p, &mut [], [2, 1, 1], 64).unwrap();
}

/// Thread 0 writes shared memory that every thread then reads: a race without the barrier.
#[test]
fn read_after_write_needs_a_barrier() {
    for barrier in [false, true] {
        let mut b = Builder::new("broadcast");
        let out = b.param_global("out", DType::I32);
        let s = b.shared("s", 4, 4);
        let t = b.thread_id();
        let zero = b.i32(0);
        let is0 = b.cmp(CmpOp::Eq, t, zero);
        let v = b.i32(42);
        b.store_shared(s, zero, v, Some(is0));
        if barrier {
            b.bar_sync();
        }
        let x = b.load_shared(s, zero, Ty::I32);
        let four = b.i32(4);
        let off = b.mul(t, four);
        let off = b.cast(off, DType::I64);
        b.store_global(out, off, x, None);
        let mut args = vec![ArgValue::zeros(DType::I32, 64)];
        let r = emulate(&b.finish(), &mut args, [1, 1, 1], 64);
        if barrier {
            r.unwrap();
            assert!(args[0].values().iter().all(|&v| v == 42.0));
        } else {
            let e = r.unwrap_err();
            assert!(matches!(e.kind, EmuErrorKind::SharedRace { first: Some(0), first_write: true, second: 1, second_write: false, .. }), "{e}");
        }
    }
}

/// Every thread reads byte 0, then thread 5 overwrites it in the same epoch: a write-after-read race.
#[test]
fn write_after_read_is_a_race() {
    let mut b = Builder::new("war");
    let s = b.shared("s", 4, 4);
    let t = b.thread_id();
    let zero = b.i32(0);
    let first = b_eq(&mut b, t, 0);
    b.store_shared(s, zero, zero, Some(first));
    b.bar_sync();
    b.load_shared(s, zero, Ty::I32);
    let five = b_eq(&mut b, t, 5);
    b.store_shared(s, zero, t, Some(five));
    let e = emulate(&b.finish(), &mut [], [1, 1, 1], 32).unwrap_err();
    assert!(matches!(e.kind, EmuErrorKind::SharedRace { first_write: false, second: 5, second_write: true, .. }), "{e}");
}

fn b_eq(b: &mut Builder, t: tilec_core::thread::Reg, v: i32) -> tilec_core::thread::Reg {
    let c = b.i32(v);
    b.cmp(CmpOp::Eq, t, c)
}

#[test]
fn barrier_in_divergent_if_is_a_deadlock() {
    let mut b = Builder::new("deadlock");
    let t = b.thread_id();
    let c = b_eq(&mut b, t, 3);
    let c = b.unary(tilec_core::thread::UnOp::Not, c);
    b.if_(c, &[], |b| {
        b.set_span(Some(Span::new(5, 9)));
        b.bar_sync();
        vec![]
    }, |_| vec![]);
    let e = emulate(&b.finish(), &mut [], [1, 1, 1], 64).unwrap_err();
    assert_eq!(e.kind, EmuErrorKind::Deadlock { arrived: 63, threads: 64 });
    assert_eq!(e.thread, Some(3));
    assert_eq!(e.span, Some(Span::new(5, 9)));
    assert!(e.to_string().contains("deadlock"), "{e}");
}

/// An emulator error renders against the tile source like any diagnostic.
#[test]
fn errors_render_as_diagnostics() {
    let source = tilec_core::Source::new("k.tile", "let x = 1;\nbarrier();\n");
    let mut b = Builder::new("k");
    let t = b.thread_id();
    let c = b_eq(&mut b, t, 0);
    b.if_(c, &[], |b| {
        b.set_span(Some(Span::new(11, 20)));
        b.bar_sync();
        vec![]
    }, |_| vec![]);
    let p = b.finish();
    let e = emulate(&p, &mut [], [1, 1, 1], 64).unwrap_err();
    let text = e.to_diagnostic(&p).render(&source, false);
    assert!(text.contains("k.tile:2:1"), "{text}");
    assert!(text.contains("in `bar.sync` (op4)"), "{text}");
    assert!(text.contains("deadlock: bar.sync reached by 1 of the block's 64 threads"), "{text}");
    assert!(text.contains("block (0, 0, 0), thread 1 (warp 0, lane 1)"), "{text}");
}

#[test]
fn out_of_bounds_and_misaligned_accesses_are_reported() {
    // Global: thread t loads element t of an 8-element tensor with 16 threads.
    let mut b = Builder::new("oob");
    let x = b.param_global("x", DType::F32);
    let t = b.thread_id();
    let four = b.i32(4);
    let off = b.mul(t, four);
    let off = b.cast(off, DType::I64);
    b.load_global(x, off, Ty::F32, None, None);
    let p = b.finish();
    let e = emulate(&p, &mut [ArgValue::zeros(DType::F32, 8)], [1, 1, 1], 16).unwrap_err();
    assert_eq!(e.thread, Some(8));
    assert!(matches!(&e.kind, EmuErrorKind::OutOfBounds { offset: 32, size: 4, len: 32, space } if space.contains('x')), "{e}");

    // Misaligned 8-byte global load.
    let mut b = Builder::new("misaligned");
    let x = b.param_global("x", DType::F32);
    let off = b.i64(4);
    b.load_global(x, off, Ty::vec(DType::F32, 2), None, None);
    let e = emulate(&b.finish(), &mut [ArgValue::zeros(DType::F32, 8)], [1, 1, 1], 1).unwrap_err();
    assert!(matches!(e.kind, EmuErrorKind::Misaligned { offset: 4, align: 8, .. }), "{e}");

    // Shared, dynamic offset: thread t stores 4 bytes at 4t into 64 bytes with 32 threads.
    let mut b = Builder::new("oob_shared");
    let s = b.shared("s", 64, 16);
    let t = b.thread_id();
    let four = b.i32(4);
    let off = b.mul(t, four);
    b.store_shared(s, off, t, None);
    let e = emulate(&b.finish(), &mut [], [1, 1, 1], 32).unwrap_err();
    assert!(matches!(e.kind, EmuErrorKind::OutOfBounds { offset: 64, size: 4, len: 64, .. }), "{e}");
    assert_eq!(e.thread, Some(16));

    // Shared, constant offset: the verifier rejects it before running.
    let mut b = Builder::new("const_oob");
    let s = b.shared("s", 64, 16);
    let off = b.i32(62);
    let v = b.i32(0);
    b.store_shared(s, off, v, None);
    let p = b.finish();
    let e = verify(&p).unwrap_err();
    assert_eq!(e.op, Some(OpId(2)));
    assert!(e.message.contains("outside `s`"), "{e}");
    assert!(matches!(emulate(&p, &mut [], [1, 1, 1], 1).unwrap_err().kind, EmuErrorKind::Invalid(_)));

    // Offsets computed from constants are folded: 15 * 4 + 4 = 64 is past the end.
    let mut b = Builder::new("folded_oob");
    let s = b.shared("s", 64, 16);
    let (k15, k4) = (b.i32(15), b.i32(4));
    let off = b.mul(k15, k4);
    let off = b.add(off, k4);
    b.load_shared(s, off, Ty::I32);
    let e = verify(&b.finish()).unwrap_err();
    assert!(e.message.contains("constant offset 64"), "{e}");
}

#[test]
fn uninitialised_reads_are_reported() {
    // A predicated-off load without `else` leaves its destination unwritten.
    let mut b = Builder::new("uninit");
    let x = b.param_global("x", DType::F32);
    let t = b.thread_id();
    let p0 = b_eq(&mut b, t, 0);
    let zero = b.i64(0);
    let v = b.load_global(x, zero, Ty::F32, Some(p0), None);
    let w = b.add(v, v);
    let _ = w;
    let e = emulate(&b.finish(), &mut [ArgValue::zeros(DType::F32, 1)], [1, 1, 1], 2).unwrap_err();
    assert!(matches!(e.kind, EmuErrorKind::Uninitialised { element: None, .. }), "{e}");
    assert_eq!(e.thread, Some(1));

    // A fragment filled only partly.
    let mut b = Builder::new("partial");
    let f = b.undef(Ty::vec(DType::F16, 4));
    let one = b.const_float(DType::F16, 1.0);
    let f = b.insert(f, 0, one);
    let f = b.insert(f, 1, one);
    let lo = b.bitcast(f, Ty::vec(DType::U32, 2));
    b.extract(lo, 0); // elements 0 and 1 are written
    b.extract(lo, 1); // elements 2 and 3 are not
    let e = emulate(&b.finish(), &mut [], [1, 1, 1], 1).unwrap_err();
    assert!(matches!(e.kind, EmuErrorKind::Uninitialised { element: Some(1), .. }), "{e}");

    // Shared memory nobody wrote.
    let mut b = Builder::new("uninit_shared");
    let s = b.shared("s", 16, 16);
    let z = b.i32(8);
    b.load_shared(s, z, Ty::I32);
    let e = emulate(&b.finish(), &mut [], [1, 1, 1], 1).unwrap_err();
    assert!(matches!(&e.kind, EmuErrorKind::UninitialisedShared { offset: 8, buffer } if buffer == "s"), "{e}");
}

/// Each thread copies 16 bytes with cp.async, then (after `wait`/`bar.sync` when asked) thread t
/// reads the chunk of thread t ^ 1.
fn cp_async_program(wait: bool, barrier: bool) -> Program {
    let mut b = Builder::new("cp_async");
    let src = b.param_global("src", DType::F32);
    let out = b.param_global("out", DType::F32);
    let s = b.shared("s", 32 * 16, 128);
    let t = b.thread_id();
    let sixteen = b.i32(16);
    let off = b.mul(t, sixteen);
    let goff = b.cast(off, DType::I64);
    b.cp_async(s, off, src, goff, 16, None);
    b.cp_async_commit();
    if wait {
        b.cp_async_wait(0);
    }
    if barrier {
        b.bar_sync();
    }
    let one = b.i32(1);
    let u = b.xor(t, one);
    let uoff = b.mul(u, sixteen);
    let v = b.load_shared(s, uoff, Ty::vec(DType::F32, 4));
    b.store_global(out, goff, v, None);
    b.finish()
}

#[test]
fn cp_async_results_need_wait_group_and_a_barrier() {
    let xs: Vec<f64> = (0..128).map(|i| i as f64 * 0.5).collect();
    let run = |wait, barrier| {
        let mut args = vec![ArgValue::tensor(DType::F32, &xs), ArgValue::zeros(DType::F32, 128)];
        emulate(&cp_async_program(wait, barrier), &mut args, [1, 1, 1], 32).map(|_| args[1].values()).map_err(Box::new)
    };
    let e = run(false, true).unwrap_err();
    assert!(matches!(e.kind, EmuErrorKind::CpAsyncPending { issuer: 1, .. }), "{e}");
    let e = run(true, false).unwrap_err();
    assert!(matches!(e.kind, EmuErrorKind::SharedRace { first: Some(1), second: 0, .. }), "{e}");
    let got = run(true, true).unwrap();
    for t in 0..32 {
        for i in 0..4 {
            assert_eq!(got[4 * t + i], xs[4 * (t ^ 1) + i]);
        }
    }
}

#[test]
fn verifier_rejects_malformed_programs() {
    // A register used outside the `if` that defines it.
    let mut b = Builder::new("scope");
    let t = b.thread_id();
    let c = b_eq(&mut b, t, 0);
    let mut inner = None;
    b.if_(c, &[], |b| {
        inner = Some(b.i32(1));
        vec![]
    }, |_| vec![]);
    b.add(t, inner.unwrap());
    let e = verify(&b.finish()).unwrap_err();
    assert!(e.message.contains("before its definition"), "{e}");

    // Mismatched operand types.
    let mut b = Builder::new("types");
    let t = b.thread_id();
    let f = b.const_float(DType::F32, 1.0);
    b.add(t, f);
    let e = verify(&b.finish()).unwrap_err();
    assert!(e.message.contains("operands of types i32 and f32"), "{e}");

    // A 12-byte access, a bitwise op on floats, a bad bitcast.
    let mut b = Builder::new("sizes");
    let x = b.param_global("x", DType::F32);
    let z = b.i64(0);
    b.load_global(x, z, Ty::vec(DType::F32, 3), None, None);
    assert!(verify(&b.finish()).unwrap_err().message.contains("must be 1, 2, 4, 8 or 16 bytes"));
    let mut b = Builder::new("fand");
    let f = b.const_float(DType::F32, 1.0);
    b.and(f, f);
    assert!(verify(&b.finish()).unwrap_err().message.contains("not defined on f32"));
    let mut b = Builder::new("bitcast");
    let f = b.const_float(DType::F32, 1.0);
    b.bitcast(f, Ty::vec(DType::F16, 4));
    assert!(verify(&b.finish()).unwrap_err().message.contains("32 bits"));
}

#[test]
fn printed_form() {
    let mut b = Builder::new("axpy");
    let x = b.param_global("x", DType::F32);
    let n = b.param_dim("n");
    let s = b.shared("tile", 256, 16);
    let t = b.thread_id();
    let nn = b.param(n);
    let t64 = b.cast(t, DType::I64);
    let inb = b.cmp(CmpOp::Lt, t64, nn);
    let four = b.i64(4);
    let off = b.mul(t64, four);
    let zero = b.const_float(DType::F32, 0.0);
    let v = b.load_global(x, off, Ty::F32, Some(inb), Some(zero));
    let soff = b.cast(off, DType::I32);
    b.store_shared(s, soff, v, None);
    b.bar_sync();
    let (lo, hi, st) = (b.i32(0), b.i32(4), b.i32(1));
    let r = b.for_(lo, hi, st, &[v], |b, _i, c| vec![b.add(c[0], c[0])]);
    b.store_global(x, off, r[0], Some(inb));
    let p = b.finish();
    verify(&p).unwrap();
    let expect = "\
thread_program axpy(x: global f32*, n: dim) {
  shared tile: 256 bytes, align 16 (offset 0)
  // shared memory: 256 bytes
  %0: i32 = thread_id  // op0
  %1: i64 = param n  // op1
  %2: i64 = cast.i64 %0  // op2
  %3: bool = cmp.lt %2, %1  // op3
  %4: i64 = const 4  // op4
  %5: i64 = mul %2, %4  // op5
  %6: f32 = const 0 (0x0)  // op6
  %7: f32 = ld.global x[%5] if %3 else %6  // op7
  %8: i32 = cast.i32 %5  // op8
  st.shared tile[%8], %7  // op9
  bar.sync  // op10
  %9: i32 = const 0  // op11
  %10: i32 = const 4  // op12
  %11: i32 = const 1  // op13
  %15: f32 = for %12 = %9 to %10 step %11 iter(%13 = %7) {  // op14
    %14: f32 = add %13, %13  // op15
    yield %14
  }
  st.global x[%5], %15 if %3  // op16
}
";
    assert_eq!(print_program(&p), expect);
}

/// Every holder of a replicated value storing it (threads t and t + 32 hold element t % 32) is a
/// global race; letting one holder store (predicate `t < 32`) is not. A block reading what another
/// block wrote in the same launch is a race too.
#[test]
fn global_races_are_reported() {
    for guarded in [false, true] {
        let mut b = Builder::new("replicated_store");
        let out = b.param_global("out", DType::I32);
        let t = b.thread_id();
        let k32 = b.i32(32);
        let e = b.rem(t, k32);
        let four = b.i32(4);
        let off = b.mul(e, four);
        let off = b.cast(off, DType::I64);
        let first = b.cmp(CmpOp::Lt, t, k32);
        b.store_global(out, off, e, guarded.then_some(first));
        let mut args = vec![ArgValue::zeros(DType::I32, 32)];
        let r = emulate(&b.finish(), &mut args, [1, 1, 1], 64);
        if guarded {
            r.unwrap();
            assert_eq!(args[0].values(), (0..32).map(|i| i as f64).collect::<Vec<_>>());
        } else {
            let e = r.unwrap_err();
            assert!(matches!(&e.kind, EmuErrorKind::GlobalRace { tensor, offset: 0, first: Some(ThreadRef { thread: 0, .. }), first_write: true, second: ThreadRef { thread: 32, .. }, second_write: true } if tensor == "out"), "{e}");
        }
    }

    let mut b = Builder::new("cross_block");
    let x = b.param_global("x", DType::I32);
    let blk = b.block_id(0);
    let zero = b.i32(0);
    let z64 = b.i64(0);
    let is0 = b.cmp(CmpOp::Eq, blk, zero);
    b.if_(is0, &[], |b| {
        b.store_global(x, z64, blk, None);
        vec![]
    }, |b| {
        b.load_global(x, z64, Ty::I32, None, None);
        vec![]
    });
    let e = emulate(&b.finish(), &mut [ArgValue::zeros(DType::I32, 1)], [2, 1, 1], 1).unwrap_err();
    assert!(matches!(e.kind, EmuErrorKind::GlobalRace { first: Some(ThreadRef { block: [0, 0, 0], thread: 0 }), first_write: true, second: ThreadRef { block: [1, 0, 0], thread: 0 }, second_write: false, .. }), "{e}");
}

//! `while` in the thread-level program: carried values, per-thread trip counts (divergence), the
//! verifier's shape checks, the printed form, and collectives and barriers inside a loop that
//! threads leave at different times.

use tilec_core::thread::{emulate, print_program, verify, ArgValue, BinOp, Builder, CmpOp, EmuErrorKind, Program, ShflMode, Ty};
use tilec_dtype::DType;

/// out[t] = the number of Collatz steps from x[t] to 1 (capped at `cap`), and the last value.
fn collatz(cap: i32) -> Program {
    let mut b = Builder::new("collatz");
    let x = b.param_global("x", DType::I32);
    let out = b.param_global("out", DType::I32);
    let last = b.param_global("last", DType::I32);
    let t = b.thread_id();
    let four = b.i32(4);
    let off = b.mul(t, four);
    let off = b.cast(off, DType::I64);
    let n = b.load_global(x, off, Ty::I32, None, None);
    let zero = b.i32(0);
    let r = b.while_(
        &[n, zero],
        |b, c| {
            let one = b.i32(1);
            let cap = b.i32(cap);
            let above = b.cmp(CmpOp::Gt, c[0], one);
            let below = b.cmp(CmpOp::Lt, c[1], cap);
            b.binary(BinOp::And, above, below)
        },
        |b, c| {
            let (one, two, three) = (b.i32(1), b.i32(2), b.i32(3));
            let odd = b.rem(c[0], two);
            let is_odd = b.cmp(CmpOp::Eq, odd, one);
            let half = b.div(c[0], two);
            let triple = b.mul(c[0], three);
            let up = b.add(triple, one);
            let next = b.select(is_odd, up, half);
            vec![next, b.add(c[1], one)]
        },
    );
    b.store_global(out, off, r[1], None);
    b.store_global(last, off, r[0], None);
    b.finish()
}

#[test]
fn while_carries_values_through_per_thread_trip_counts() {
    let n = 70;
    let xs: Vec<f64> = (0..n).map(|i| ((i * 7919) % 97 + 1) as f64).collect();
    for cap in [1000, 20, 0] {
        let p = collatz(cap);
        let mut args = vec![ArgValue::tensor(DType::I32, &xs), ArgValue::zeros(DType::I32, n), ArgValue::zeros(DType::I32, n)];
        emulate(&p, &mut args, [1, 1, 1], n as u32).unwrap();
        let (steps, last) = (args[1].values(), args[2].values());
        for (i, &x) in xs.iter().enumerate() {
            let (mut v, mut s) = (x as i64, 0);
            while v > 1 && s < cap {
                v = if v % 2 == 1 { 3 * v + 1 } else { v / 2 };
                s += 1;
            }
            assert_eq!((steps[i], last[i]), (s as f64, v as f64), "thread {i} from {x}, cap {cap}");
        }
    }
}

#[test]
fn while_prints_its_condition_and_body() {
    let text = print_program(&collatz(5));
    assert!(text.contains("= while iter(%"), "{text}");
    assert!(text.contains("} do (%"), "{text}");
}

#[test]
fn the_verifier_checks_the_shape_of_a_while() {
    // The condition yields an i32 instead of a bool.
    let mut b = Builder::new("bad");
    let zero = b.i32(0);
    b.while_(&[zero], |_, c| c[0], |_, c| c.to_vec());
    let e = verify(&b.finish()).unwrap_err();
    assert!(e.to_string().contains("must yield one bool"), "{e}");
    // The body yields a value of another type.
    let mut b = Builder::new("bad");
    let zero = b.i32(0);
    b.while_(&[zero], |b, _| b.bool(false), |b, c| vec![b.cast(c[0], DType::I64)]);
    let e = verify(&b.finish()).unwrap_err();
    assert!(e.to_string().contains("carried i32"), "{e}");
    // A body value used after the loop.
    let mut b = Builder::new("bad");
    let zero = b.i32(0);
    let mut inner = None;
    b.while_(&[zero], |b, _| b.bool(false), |b, c| {
        let one = b.i32(1);
        let next = b.add(c[0], one);
        inner = Some(next);
        vec![next]
    });
    let leaked = inner.unwrap();
    let _ = b.add(leaked, leaked);
    assert!(verify(&b.finish()).is_err());
}

/// A loop of `trips(lane)` rounds with a `shfl` or a `bar.sync` in its body.
fn divergent_loop(barrier: bool, uniform: bool) -> Program {
    let mut b = Builder::new("div");
    let lane = b.lane_id();
    let zero = b.i32(0);
    b.while_(
        &[zero],
        |b, c| {
            let three = b.i32(3);
            let n = if uniform { three } else { b.rem(lane, three) };
            b.cmp(CmpOp::Lt, c[0], n)
        },
        |b, c| {
            if barrier {
                b.bar_sync();
            } else {
                let one = b.i32(1);
                b.shfl(ShflMode::Bfly, lane, one, u32::MAX);
            }
            let one = b.i32(1);
            vec![b.add(c[0], one)]
        },
    );
    b.finish()
}

#[test]
fn threads_leaving_a_while_early_make_collectives_and_barriers_fail() {
    for barrier in [false, true] {
        emulate(&divergent_loop(barrier, true), &mut [], [1, 1, 1], 32).unwrap();
        let e = emulate(&divergent_loop(barrier, false), &mut [], [1, 1, 1], 32).unwrap_err();
        let ok = if barrier { matches!(e.kind, EmuErrorKind::Deadlock { .. }) } else { matches!(e.kind, EmuErrorKind::DivergentCollective { .. }) };
        assert!(ok, "{e}");
    }
}

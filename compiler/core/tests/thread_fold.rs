//! Simplification while building thread programs (`thread/fold.rs`, value numbering in `Builder`):
//! pure ops are shared within their scope and never across it, identities and constant folding keep
//! values, and random integer expressions over runtime scalars and constants (zeros, ones, all-ones,
//! extremes: the operands the identities look for) evaluate on the emulator exactly as a reference
//! evaluator written from the op semantics of docs/thread.md says.

use rand::{Rng, SeedableRng};
use tilec_core::thread::{emulate, print_program, verify, ArgValue, BinOp, Builder, CmpOp, Reg};
use tilec_dtype::DType;

#[test]
fn pure_ops_are_numbered_by_value_within_their_scope_only() {
    let mut b = Builder::new("scopes");
    let out = b.param_global("out", DType::I32);
    let seven = b.i32(7);
    assert_eq!(b.i32(7), seven, "a constant built twice is one register");
    let t = b.thread_id();
    let x = b.add(t, seven);
    assert_eq!(b.add(t, seven), x, "a pure op built twice is one register");
    let (lo, hi, step) = (b.i32(0), b.i32(3), b.i32(1));
    let mut inner = None;
    let r = b.for_(lo, hi, step, &[x], |b, iv, carried| {
        assert_eq!(b.add(t, seven), x, "values of enclosing blocks are visible");
        let y = b.mul(iv, seven);
        inner = Some(y);
        vec![b.add(carried[0], y)]
    });
    let lo2 = b.i32(0);
    assert_eq!(lo2, lo);
    let iv_times = b.mul(t, seven);
    assert_ne!(Some(iv_times), inner);
    let i = b.cast(t, DType::I64);
    let four = b.i64(4);
    let off = b.mul(i, four);
    b.store_global(out, off, r[0], None);
    let p = b.finish();
    verify(&p).unwrap();
}

#[test]
fn identities_and_constants_fold() {
    let mut b = Builder::new("ids");
    let out = b.param_global("out", DType::I64);
    let t = b.thread_id();
    let t = b.cast(t, DType::I64);
    let (zero, one, yes) = (b.i64(0), b.i64(1), b.bool(true));
    assert_eq!(b.add(t, zero), t);
    assert_eq!(b.add(zero, t), t);
    assert_eq!(b.mul(one, t), t);
    assert_eq!(b.sub(t, zero), t);
    let p = b.cmp(CmpOp::Lt, t, one);
    assert_eq!(b.and(yes, p), p);
    assert_eq!(b.select(yes, t, one), t);
    assert_eq!(b.cast(t, DType::I64), t);
    let z = b.mul(t, zero);
    assert_eq!(z, zero, "x·0 is the constant 0");
    let six = b.i64(6);
    let folded = b.mul(six, six);
    assert_eq!(folded, b.i64(36), "constants fold");
    let offset = b.mul(t, six);
    b.store_global(out, offset, folded, None);
    let text = print_program(&b.finish());
    assert!(!text.contains(" = add") && text.matches(" = mul").count() == 1, "{text}");
}

/// The reference semantics of i32 ops (docs/thread.md): wrapping, `x/0 = -1`, `x%0 = x`, shifts of
/// 32 or more (or negative) give 0, or the sign for `shr`.
fn reference(op: BinOp, x: i32, y: i32) -> i32 {
    match op {
        BinOp::Add => x.wrapping_add(y),
        BinOp::Sub => x.wrapping_sub(y),
        BinOp::Mul => x.wrapping_mul(y),
        BinOp::Div if y == 0 => -1,
        BinOp::Div => x.wrapping_div(y),
        BinOp::Rem if y == 0 => x,
        BinOp::Rem => x.wrapping_rem(y),
        BinOp::Min => x.min(y),
        BinOp::Max => x.max(y),
        BinOp::And => x & y,
        BinOp::Or => x | y,
        BinOp::Xor => x ^ y,
        BinOp::Shl if !(0..32).contains(&y) => 0,
        BinOp::Shl => x << y,
        BinOp::Shr if !(0..32).contains(&y) => x >> 31,
        BinOp::Shr => x >> y,
    }
}

#[test]
fn random_integer_expressions_over_runtime_values_and_constants_evaluate_exactly() {
    const OPS: [BinOp; 12] = [BinOp::Add, BinOp::Sub, BinOp::Mul, BinOp::Div, BinOp::Rem, BinOp::Min, BinOp::Max, BinOp::And, BinOp::Or, BinOp::Xor, BinOp::Shl, BinOp::Shr];
    const SPECIAL: [i32; 8] = [0, 1, -1, 2, 31, 32, i32::MIN, i32::MAX];
    let mut rng = rand::rngs::StdRng::seed_from_u64(2026);
    for case in 0..60 {
        let inputs: Vec<i32> = (0..3).map(|_| if rng.random_bool(0.5) { SPECIAL[rng.random_range(0..8)] } else { rng.random() }).collect();
        let mut b = Builder::new("expr");
        let out = b.param_global("out", DType::I32);
        let params: Vec<usize> = (0..3).map(|i| b.param_scalar(&format!("x{i}"), DType::I32)).collect();
        // Each node: its register and its reference value; leaves are runtime scalars or constants.
        let mut nodes: Vec<(Reg, i32)> = params.iter().zip(&inputs).map(|(&p, &v)| (b.param(p), v)).collect();
        for _ in 0..24 {
            let pick = |rng: &mut rand::rngs::StdRng, b: &mut Builder, nodes: &[(Reg, i32)]| {
                if rng.random_bool(0.3) {
                    let c = if rng.random_bool(0.7) { SPECIAL[rng.random_range(0..8)] } else { rng.random_range(-40..40) };
                    (b.i32(c), c)
                } else {
                    nodes[rng.random_range(0..nodes.len())]
                }
            };
            let (x, y) = (pick(&mut rng, &mut b, &nodes), pick(&mut rng, &mut b, &nodes));
            let op = OPS[rng.random_range(0..OPS.len())];
            nodes.push((b.binary(op, x.0, y.0), reference(op, x.1, y.1)));
            if rng.random_bool(0.2) {
                // A comparison and a select on it, also over folded operands.
                let c = b.cmp(CmpOp::Lt, x.0, y.0);
                nodes.push((b.select(c, x.0, y.0), if x.1 < y.1 { x.1 } else { y.1 }));
            }
        }
        for (i, &(r, _)) in nodes.iter().enumerate() {
            let off = b.i64(4 * i as i64);
            b.store_global(out, off, r, None);
        }
        let program = b.finish();
        let mut args = vec![ArgValue::zeros(DType::I32, nodes.len())];
        args.extend(inputs.iter().map(|&v| ArgValue::Scalar { dtype: DType::I32, bits: v as u32 as u64 }));
        emulate(&program, &mut args, [1, 1, 1], 1).unwrap();
        let got = args[0].values();
        for (i, &(_, want)) in nodes.iter().enumerate() {
            assert_eq!(got[i], want as f64, "case {case} node {i} (inputs {inputs:?})\n{}", print_program(&program));
        }
    }
}

//! Local simplification while a program is built: constant folding and algebraic identities on
//! scalar integer and bool operations, so that a lowering can write index arithmetic plainly
//! (`x·0 + c`, `true ∧ p`, one bounds test per element) and the program still carries only what is
//! needed. Together with value numbering in [`super::Builder`] (a pure op built twice in one scope is
//! one register) this keeps thread programs — and the MLIR, LLVM IR and compile time behind them —
//! proportional to the work, not to the lowering's bookkeeping.
//!
//! Guarantees: a rewrite never changes a value. Folding evaluates with the emulator's own scalar
//! semantics ([`super::scalar`], `tilec_dtype::cast_bits`); identities are applied only where they
//! hold for every input of the type (integers and bool; floats are left alone, since `x + 0.0` is
//! not `x` for `x = -0.0` and NaNs have payloads).

use super::ops::{BinOp, CmpOp, Op};
use super::{scalar, Reg, Ty};
use tilec_dtype::{cast_bits, DType};

/// What building an op can be replaced by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Folded {
    /// An existing register holds the value.
    Reg(Reg),
    /// A scalar constant of this type and bit pattern.
    Const(Ty, u64),
}

/// The rewrite of `op` (whose result has type `result`), given the registers' types and the
/// constant value of any register known to be a scalar constant.
pub fn fold(op: &Op, result: Ty, ty: impl Fn(Reg) -> Ty, constant: impl Fn(Reg) -> Option<u64>) -> Option<Folded> {
    match *op {
        Op::Binary { op, a, b } => {
            let t = ty(a);
            if !t.is_scalar() || !(t.dtype.is_int() || t.dtype.is_bool()) {
                return None;
            }
            let (ca, cb) = (constant(a), constant(b));
            if let (Some(x), Some(y)) = (ca, cb) {
                return scalar::binary(op, t.dtype, x, y).ok().map(|v| Folded::Const(result, v));
            }
            binary_identity(op, t.dtype, a, b, ca, cb, result)
        }
        Op::Cmp { op, a, b } => {
            let t = ty(a);
            if !t.is_scalar() || !(t.dtype.is_int() || t.dtype.is_bool()) {
                return None;
            }
            match (constant(a), constant(b)) {
                (Some(x), Some(y)) => Some(Folded::Const(result, scalar::compare(op, t.dtype, x, y) as u64)),
                // `x == x`-style comparisons of a register with itself.
                _ if a == b => Some(Folded::Const(result, matches!(op, CmpOp::Eq | CmpOp::Le | CmpOp::Ge) as u64)),
                _ => None,
            }
        }
        Op::Select { cond, a, b } => {
            if a == b {
                return Some(Folded::Reg(a));
            }
            match constant(cond) {
                Some(c) if ty(cond).is_scalar() => Some(Folded::Reg(if c & 1 == 1 { a } else { b })),
                _ => None,
            }
        }
        Op::Cast { a, to } => {
            let from = ty(a);
            if from.dtype == to {
                return Some(Folded::Reg(a));
            }
            let exact = |d: DType| d.is_int() || d.is_bool();
            match constant(a) {
                Some(x) if from.is_scalar() && exact(from.dtype) && exact(to) => Some(Folded::Const(result, cast_bits(from.dtype, to, x))),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Identities of `a op b` with at most one constant operand, on an integer or bool type.
fn binary_identity(op: BinOp, dt: DType, a: Reg, b: Reg, ca: Option<u64>, cb: Option<u64>, result: Ty) -> Option<Folded> {
    let ones = if dt.is_bool() { 1 } else if dt.bits() >= 64 { u64::MAX } else { (1u64 << dt.bits()) - 1 };
    let is = |c: Option<u64>, v: u64| c == Some(v);
    // Each identity for a constant on either side (where the op commutes) or on the right.
    let commutes = matches!(op, BinOp::Add | BinOp::Mul | BinOp::And | BinOp::Or | BinOp::Xor | BinOp::Min | BinOp::Max);
    for (x, cy) in [(a, cb), (b, ca)].into_iter().take(if commutes { 2 } else { 1 }) {
        // `x op c` with constant `c` = cy.
        let folded = match op {
            BinOp::Add | BinOp::Or | BinOp::Xor if is(cy, 0) => Some(Folded::Reg(x)),
            BinOp::Sub | BinOp::Shl | BinOp::Shr if is(cy, 0) => Some(Folded::Reg(x)),
            BinOp::Mul | BinOp::Div if is(cy, 1) && !dt.is_bool() => Some(Folded::Reg(x)),
            BinOp::Mul if is(cy, 0) => Some(Folded::Const(result, 0)),
            BinOp::And if is(cy, ones) => Some(Folded::Reg(x)),
            BinOp::And if is(cy, 0) => Some(Folded::Const(result, 0)),
            BinOp::Or if is(cy, ones) => Some(Folded::Const(result, ones)),
            _ => None,
        };
        if folded.is_some() {
            return folded;
        }
    }
    // `x op x`.
    if a == b {
        return match op {
            BinOp::And | BinOp::Or | BinOp::Min | BinOp::Max => Some(Folded::Reg(a)),
            BinOp::Sub | BinOp::Xor => Some(Folded::Const(result, 0)),
            _ => None,
        };
    }
    None
}

//! Scalar semantics of the interpreter: arithmetic, comparison, conversion and memory encoding,
//! exact for each dtype (docs/dtypes.md): float results are rounded to their dtype after every
//! operation, integer results wrap to their width.

use super::value::Scalar;
use crate::numeric::{round_float, wrap_int};
use tilec_dtype::pack::{get as get_bits, set as set_bits};
use crate::tir::{BinaryOp, CmpOp, UnaryOp};
use tilec_dtype::DType;

/// An operation that has no defined result (integer division by zero).
pub struct Undefined(pub &'static str);

fn is_u64(dt: DType) -> bool {
    dt == DType::Int { bits: 64, signed: false }
}

pub fn binary(op: BinaryOp, dt: DType, a: Scalar, b: Scalar) -> Result<Scalar, Undefined> {
    Ok(match (a, b) {
        (Scalar::Float(x), Scalar::Float(y)) => {
            let r = match op {
                BinaryOp::Add => x + y,
                BinaryOp::Sub => x - y,
                BinaryOp::Mul => x * y,
                BinaryOp::Div => x / y,
                BinaryOp::Rem => x % y,
                // IEEE minNum/maxNum as PTX min/max: a NaN operand yields the other.
                BinaryOp::Min => x.min(y),
                BinaryOp::Max => x.max(y),
                BinaryOp::And | BinaryOp::Or => return Err(Undefined("bitwise operation on floats")),
            };
            Scalar::Float(round_float(dt, r))
        }
        (Scalar::Int(x), Scalar::Int(y)) if is_u64(dt) => {
            let (x, y) = (x as u64, y as u64);
            let r = match op {
                BinaryOp::Add => x.wrapping_add(y),
                BinaryOp::Sub => x.wrapping_sub(y),
                BinaryOp::Mul => x.wrapping_mul(y),
                // Division by zero is defined (docs/language.md): x / 0 = all ones, x % 0 = x.
                BinaryOp::Div => x.checked_div(y).unwrap_or(u64::MAX),
                BinaryOp::Rem => x.checked_rem(y).unwrap_or(x),
                BinaryOp::Min => x.min(y),
                BinaryOp::Max => x.max(y),
                BinaryOp::And => x & y,
                BinaryOp::Or => x | y,
            };
            Scalar::Int(r as i64)
        }
        (Scalar::Int(x), Scalar::Int(y)) => {
            let r = match op {
                BinaryOp::Add => x.wrapping_add(y),
                BinaryOp::Sub => x.wrapping_sub(y),
                BinaryOp::Mul => x.wrapping_mul(y),
                // Division by zero is defined (docs/language.md): x / 0 = -1 (all ones), x % 0 = x;
                // MIN / -1 wraps to MIN. Masked-off lanes of a tile hold zeros, so this must not fail.
                BinaryOp::Div if y == 0 => -1,
                BinaryOp::Div => x.wrapping_div(y),
                BinaryOp::Rem if y == 0 => x,
                BinaryOp::Rem => x.wrapping_rem(y),
                BinaryOp::Min => x.min(y),
                BinaryOp::Max => x.max(y),
                BinaryOp::And => x & y,
                BinaryOp::Or => x | y,
            };
            Scalar::Int(wrap_int(dt, r))
        }
        (Scalar::Bool(x), Scalar::Bool(y)) => Scalar::Bool(match op {
            BinaryOp::And | BinaryOp::Min | BinaryOp::Mul => x && y,
            BinaryOp::Or | BinaryOp::Max => x || y,
            _ => return Err(Undefined("arithmetic on booleans")),
        }),
        _ => return Err(Undefined("operands of different kinds")),
    })
}

pub fn compare(op: CmpOp, dt: DType, a: Scalar, b: Scalar) -> bool {
    let ord = match (a, b) {
        (Scalar::Float(x), Scalar::Float(y)) => x.partial_cmp(&y),
        (Scalar::Int(x), Scalar::Int(y)) if is_u64(dt) => Some((x as u64).cmp(&(y as u64))),
        (Scalar::Int(x), Scalar::Int(y)) => Some(x.cmp(&y)),
        (Scalar::Bool(x), Scalar::Bool(y)) => Some(x.cmp(&y)),
        _ => None,
    };
    op.holds(ord)
}

pub fn unary(op: UnaryOp, dt: DType, a: Scalar) -> Scalar {
    match (op, a) {
        (UnaryOp::Neg, Scalar::Float(x)) => Scalar::Float(-x),
        (UnaryOp::Neg, Scalar::Int(x)) => Scalar::Int(wrap_int(dt, x.wrapping_neg())),
        (UnaryOp::Not, Scalar::Bool(b)) => Scalar::Bool(!b),
        (_, other) => other,
    }
}

/// Converts a scalar to `to`: floats round to nearest even (small floats saturate); float → integer
/// truncates toward zero and saturates, NaN → 0; integer narrowing saturates (docs/dtypes.md).
pub fn cast(from: DType, to: DType, a: Scalar) -> Scalar {
    if to.is_bool() {
        return Scalar::Bool(match a {
            Scalar::Bool(b) => b,
            Scalar::Int(x) => x != 0,
            Scalar::Float(x) => x != 0.0,
        });
    }
    if to.is_float() {
        return Scalar::Float(match a {
            Scalar::Float(x) => round_float(to, x),
            // One rounding from the exact integer (an i64 through f64 would round twice).
            Scalar::Int(x) => tilec_dtype::decode(to, tilec_dtype::encode_int(to, exact_int(from, x))),
            Scalar::Bool(b) => b as i64 as f64,
        });
    }
    let DType::Int { bits, signed } = to else { unreachable!("non-int after bool and float") };
    let (lo, hi): (i128, i128) = if signed {
        (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1)
    } else {
        (0, (1i128 << bits) - 1)
    };
    let v: i128 = match a {
        Scalar::Bool(b) => b as i128,
        Scalar::Int(x) => exact_int(from, x),
        Scalar::Float(x) if x.is_nan() => 0,
        Scalar::Float(x) => x.trunc().clamp(lo as f64, hi as f64) as i128,
    };
    Scalar::Int(v.clamp(lo, hi) as i64)
}

/// Reads element `index` of a packed tensor of `dt`.
pub fn load(dt: DType, bytes: &[u8], index: usize) -> Scalar {
    let code = get_bits(dt.bits(), bytes, index);
    match dt {
        DType::Bool => Scalar::Bool(code != 0),
        DType::Int { bits, signed } => {
            let v = if signed && bits < 64 && (code >> (bits - 1)) & 1 == 1 { (code | (!0u64 << bits)) as i64 } else { code as i64 };
            Scalar::Int(v)
        }
        DType::F32 => Scalar::Float(f32::from_bits(code as u32) as f64),
        DType::F64 => Scalar::Float(f64::from_bits(code)),
        other => Scalar::Float(tilec_dtype::decode(other, code)),
    }
}

/// Writes element `index` of a packed tensor of `dt` (the value already has `dt`'s semantics).
pub fn store(dt: DType, bytes: &mut [u8], index: usize, v: Scalar) {
    let code = match (dt, v) {
        (DType::Bool, Scalar::Bool(b)) => b as u64,
        (DType::Int { bits, .. }, Scalar::Int(x)) => {
            if bits >= 64 {
                x as u64
            } else {
                (x as u64) & ((1u64 << bits) - 1)
            }
        }
        (DType::F32, Scalar::Float(x)) => (x as f32).to_bits() as u64,
        (DType::F64, Scalar::Float(x)) => x.to_bits(),
        (other, Scalar::Float(x)) => tilec_dtype::encode(other, x),
        (_, other) => panic!("store of {other:?} into {dt}: the checker guarantees matching kinds"),
    };
    set_bits(dt.bits(), bytes, index, code);
}

/// The exact value of an integer held in i64 (a u64 is held as its bit pattern).
fn exact_int(dt: DType, x: i64) -> i128 {
    if is_u64(dt) {
        x as u64 as i128
    } else {
        x as i128
    }
}

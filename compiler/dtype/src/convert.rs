//! Value conversions: decoding codes, encoding values, and casts between any two types.
//!
//! The rules (docs/dtypes.md has the full statement):
//! - into a float: round to nearest, ties to even, once, from the exact source value; overflow gives
//!   ±inf for f16/bf16/tf32/f32/f64 and saturates to ±max for small floats and e8m0; NaN becomes the
//!   canonical NaN, or +0 in a format without NaN;
//! - into an integer: truncate toward zero, then saturate to the type's range; NaN becomes 0 (Rust's
//!   float `as`); integer narrowing saturates too;
//! - into bool: nonzero (NaN included) is true.

use std::cmp::Ordering;

use crate::float::{mask, FloatFormat};
use crate::DType;

/// Bits of tf32 storage below its 10-bit mantissa: the code is an f32 pattern with these zero.
const TF32_LOW: u32 = 13;

/// The format `encode`/`decode` work in, and the shift of its code inside the stored pattern.
fn format(dt: DType) -> Option<(FloatFormat, u32)> {
    dt.float_format()
        .map(|f| (f, if dt == DType::TF32 { TF32_LOW } else { 0 }))
}

/// The exact value of bit pattern `bits` (only its low `dt.bits()` bits are read).
///
/// Every float code decodes exactly; every NaN code gives NaN. tf32 reads only the top 19 of its 32
/// bits, as the tensor cores do. Integers are converted to f64, exactly below 2^53 in magnitude and
/// rounded to nearest (ties to even) beyond, which only i64/u64 can reach; use [`decode_int`] for
/// their exact values. bool decodes to 0 or 1.
pub fn decode(dt: DType, bits: u64) -> f64 {
    let bits = bits & mask(dt.bits());
    match format(dt) {
        Some(_) if dt == DType::F64 => f64::from_bits(bits),
        Some((f, shift)) => f.decode(bits >> shift),
        None => decode_int(dt, bits) as f64,
    }
}

/// The bit pattern `v` becomes when stored as `dt` (the low `dt.bits()` bits of the result).
pub fn encode(dt: DType, v: f64) -> u64 {
    encode_near(dt, v, Ordering::Equal)
}

/// [`encode`] for a value known only approximately: the true value lies strictly between `v` and the
/// next f64 in the direction `sticky` (or is `v` when `Equal`). Used to round decimals exactly.
pub(crate) fn encode_near(dt: DType, v: f64, sticky: Ordering) -> u64 {
    match format(dt) {
        Some(_) if dt == DType::F64 => {
            if v.is_nan() {
                dt.nan_code().unwrap()
            } else {
                v.to_bits()
            }
        }
        Some((f, shift)) => f.encode_f64(v, sticky) << shift,
        None if dt == DType::Bool => (v != 0.0) as u64, // NaN != 0: true
        // `as i128` truncates toward zero, saturates and maps NaN to 0.
        None => encode_int(dt, v as i128),
    }
}

/// The value `v` becomes when stored as `dt`: `decode(dt, encode(dt, v))`.
pub fn round(dt: DType, v: f64) -> f64 {
    decode(dt, encode(dt, v))
}

/// The bit pattern of the exact integer `v` stored as `dt`: saturating for integer types, nonzero is
/// true for bool, correctly rounded (to nearest, ties to even) for floats.
pub fn encode_int(dt: DType, v: i128) -> u64 {
    match format(dt) {
        Some((f, shift)) => f.encode_int(v) << shift,
        None if dt == DType::Bool => (v != 0) as u64,
        None => {
            let (lo, hi) = dt.int_range().unwrap();
            (v.clamp(lo, hi) as u64) & mask(dt.bits())
        }
    }
}

/// The integer value of a code. Exact for integer types (sign-extended when signed) and bool (0 or
/// 1); for floats it is the value truncated toward zero and saturated to i128 (NaN gives 0), the same
/// rule as a cast to an integer type.
pub fn decode_int(dt: DType, bits: u64) -> i128 {
    let bits = bits & mask(dt.bits());
    match dt {
        DType::Bool => (bits != 0) as i128,
        DType::Int {
            bits: n,
            signed: true,
        } => ((bits << (64 - n as u32)) as i64 >> (64 - n as u32)) as i128,
        DType::Int { .. } => bits as i128,
        _ => decode(dt, bits) as i128,
    }
}

/// Converts a code of type `from` into a code of type `to`, exactly as the rules above say: the exact
/// source value (an integer for integer and bool sources, a float otherwise) is converted once.
pub fn cast_bits(from: DType, to: DType, bits: u64) -> u64 {
    if from.is_int() || from.is_bool() {
        encode_int(to, decode_int(from, bits))
    } else {
        encode(to, decode(from, bits))
    }
}

/// Whether `bits` is a NaN code of `dt`.
pub fn is_nan(dt: DType, bits: u64) -> bool {
    match format(dt) {
        Some((f, shift)) => f.is_nan_code((bits & mask(dt.bits())) >> shift),
        None => false,
    }
}

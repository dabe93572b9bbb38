//! Scalar semantics shared by the checker and the interpreter: how a value is rounded or wrapped
//! into a dtype. The rules are those of docs/dtypes.md, implemented by `tilec-dtype`.

use tilec_dtype::DType;

/// The value `v` becomes when stored as the float type `dt` (round to nearest even; the small
/// floats saturate).
pub fn round_float(dt: DType, v: f64) -> f64 {
    match dt {
        DType::F64 => v,
        DType::F32 => v as f32 as f64,
        _ => tilec_dtype::round(dt, v),
    }
}

/// Whether the integer `v` is representable in the integer type `dt`.
pub fn int_fits(dt: DType, v: i64) -> bool {
    let DType::Int { bits, signed } = dt else { return false };
    let bits = bits as u32;
    if signed {
        bits >= 64 || (v >= -(1i64 << (bits - 1)) && v < (1i64 << (bits - 1)))
    } else {
        v >= 0 && (bits >= 63 || v < (1i64 << bits))
    }
}

/// Wraps `v` into the integer type `dt` (two's complement), as GPU integer arithmetic does.
pub fn wrap_int(dt: DType, v: i64) -> i64 {
    let DType::Int { bits, signed } = dt else { return v };
    let bits = bits as u32;
    if bits >= 64 {
        return v;
    }
    let mask = (1u64 << bits) - 1;
    let low = (v as u64) & mask;
    if signed && low >> (bits - 1) == 1 {
        (low | !mask) as i64
    } else {
        low as i64
    }
}

//! Scalar semantics shared by the checker and the interpreter: how a value is rounded or wrapped
//! into a dtype. The rules are those of docs/dtypes.md, implemented by `tilec-dtype`.

use tilec_dtype::DType;

/// The value `v` becomes when stored as the float type `dt` (round to nearest even; the small
/// floats saturate).
pub fn round_float(dt: DType, v: f64) -> f64 {
    match dt {
        DType::F64 => v,
        DType::F32 => v as f32 as f64,
        _ => unsupported_until_dtype_merge(dt, v),
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

// MERGE-DTYPE: bridge until the tilec-dtype codec lands; replaced by calls into tilec_dtype.
fn unsupported_until_dtype_merge(_dt: DType, v: f64) -> f64 {
    v as f32 as f64
}

/// Reads element `index` of a densely packed little-endian tensor as raw bits.
pub fn get_bits(bits: u32, bytes: &[u8], index: usize) -> u64 {
    let start = index * bits as usize;
    let mut out = 0u64;
    for b in 0..bits as usize {
        let bit = start + b;
        out |= (((bytes[bit / 8] >> (bit % 8)) & 1) as u64) << b;
    }
    out
}

/// Writes element `index` of a densely packed little-endian tensor.
pub fn set_bits(bits: u32, bytes: &mut [u8], index: usize, code: u64) {
    let start = index * bits as usize;
    for b in 0..bits as usize {
        let bit = start + b;
        let mask = 1u8 << (bit % 8);
        if (code >> b) & 1 == 1 {
            bytes[bit / 8] |= mask;
        } else {
            bytes[bit / 8] &= !mask;
        }
    }
}

/// MERGE-DTYPE: the value of a float code of `dt` (f16 and narrower).
pub fn decode_float(dt: DType, code: u64) -> f64 {
    match dt {
        DType::F16 => {
            let (s, e, m) = ((code >> 15) & 1, (code >> 10) & 0x1f, code & 0x3ff);
            let mag = match e {
                0 => m as f64 * 2f64.powi(-24),
                31 if m == 0 => f64::INFINITY,
                31 => f64::NAN,
                _ => (1.0 + m as f64 / 1024.0) * 2f64.powi(e as i32 - 15),
            };
            if s == 1 { -mag } else { mag }
        }
        _ => f64::NAN,
    }
}

/// MERGE-DTYPE: the code of `v` in the float type `dt`.
pub fn encode_float(_dt: DType, _v: f64) -> u64 {
    0
}

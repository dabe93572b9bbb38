//! Kernel arguments and scalar values.
//!
//! A [`KernelArg`] is one by-value kernel parameter of a fixed width (the ABI in
//! docs/runtime.md). [`ScalarValue`] is what a user writes for a scalar parameter; it is encoded to
//! a `KernelArg` for the parameter's declared dtype with range checks, so `alpha=300` for a `u8`
//! parameter is an error rather than a silent wrap.

use npyz::half::{bf16, f16};
use tilec_dtype::DType;

/// One kernel argument, passed by value in exactly its own width.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum KernelArg {
    /// A device address (tensor parameters), 8 bytes.
    Ptr(u64),
    /// One byte, 0 or 1.
    Bool(bool),
    I8(i8),
    U8(u8),
    I16(i16),
    U16(u16),
    I32(i32),
    U32(u32),
    I64(i64),
    U64(u64),
    /// The bit pattern of an IEEE half.
    F16(u16),
    /// The bit pattern of a bfloat16.
    BF16(u16),
    F32(f32),
    F64(f64),
}

impl KernelArg {
    /// The argument's little-endian bytes, as the kernel sees them in its parameter buffer.
    pub fn to_le_bytes(&self) -> Vec<u8> {
        match *self {
            KernelArg::Ptr(v) | KernelArg::U64(v) => v.to_le_bytes().to_vec(),
            KernelArg::Bool(v) => vec![v as u8],
            KernelArg::I8(v) => vec![v as u8],
            KernelArg::U8(v) => vec![v],
            KernelArg::I16(v) => v.to_le_bytes().to_vec(),
            KernelArg::U16(v) | KernelArg::F16(v) | KernelArg::BF16(v) => v.to_le_bytes().to_vec(),
            KernelArg::I32(v) => v.to_le_bytes().to_vec(),
            KernelArg::U32(v) => v.to_le_bytes().to_vec(),
            KernelArg::I64(v) => v.to_le_bytes().to_vec(),
            KernelArg::F32(v) => v.to_le_bytes().to_vec(),
            KernelArg::F64(v) => v.to_le_bytes().to_vec(),
        }
    }
}

/// A scalar as the user gives it, before it is fitted to a parameter's dtype.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ScalarValue {
    Bool(bool),
    Int(i128),
    Float(f64),
    /// A raw bit pattern (written `0x...`), taken as the parameter's bits; the only way to give
    /// small-float and `e8m0` scalars.
    Bits(u64),
}

impl ScalarValue {
    /// Parses `true`/`false`, a decimal integer, `0x` hex bits, or a float (`1.5`, `-2e3`, `inf`, `nan`).
    pub fn parse(text: &str) -> Result<ScalarValue, String> {
        let t = text.trim();
        match t {
            "true" | "True" => return Ok(ScalarValue::Bool(true)),
            "false" | "False" => return Ok(ScalarValue::Bool(false)),
            _ => {}
        }
        if let Some(hex) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
            return u64::from_str_radix(hex, 16)
                .map(ScalarValue::Bits)
                .map_err(|_| format!("`{text}` is not a hexadecimal bit pattern of at most 64 bits"));
        }
        if let Ok(v) = t.parse::<i128>() {
            return Ok(ScalarValue::Int(v));
        }
        t.parse::<f64>()
            .map(ScalarValue::Float)
            .map_err(|_| format!("`{text}` is not a number, `true`/`false` or a 0x bit pattern"))
    }

    /// Encodes the value for a parameter of type `dtype` (see the ABI: sub-byte integers are
    /// sign- or zero-extended to one byte, small floats and `e8m0` travel as one byte of bits,
    /// `tf32` as an `f32`).
    pub fn encode(self, dtype: DType) -> Result<KernelArg, String> {
        let bits = dtype.bits();
        if let ScalarValue::Bits(b) = self {
            if bits < 64 && b >> bits != 0 {
                return Err(format!("bit pattern {b:#x} does not fit in {bits} bits"));
            }
            return Ok(match bits {
                1..=8 => KernelArg::U8(b as u8),
                16 => KernelArg::U16(b as u16),
                32 => KernelArg::U32(b as u32),
                _ => KernelArg::U64(b),
            });
        }
        let out_of_range = |v: &dyn std::fmt::Display| format!("{v} is out of range for {dtype}");
        match dtype {
            DType::Bool => match self {
                ScalarValue::Bool(b) => Ok(KernelArg::Bool(b)),
                ScalarValue::Int(0) => Ok(KernelArg::Bool(false)),
                ScalarValue::Int(1) => Ok(KernelArg::Bool(true)),
                _ => Err("a bool is `true`, `false`, 0 or 1".to_string()),
            },
            DType::Int { bits, signed } => {
                let v = match self {
                    ScalarValue::Int(v) => v,
                    ScalarValue::Bool(b) => b as i128,
                    ScalarValue::Float(f) => return Err(format!("{f} is not an integer ({dtype} expected)")),
                    ScalarValue::Bits(_) => return Err(BITS_HANDLED.into()),
                };
                let (lo, hi) = if signed {
                    (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1)
                } else {
                    (0, (1i128 << bits) - 1)
                };
                if v < lo || v > hi {
                    return Err(out_of_range(&v));
                }
                Ok(match (bits, signed) {
                    (1..=8, true) => KernelArg::I8(v as i8),
                    (1..=8, false) => KernelArg::U8(v as u8),
                    (16, true) => KernelArg::I16(v as i16),
                    (16, false) => KernelArg::U16(v as u16),
                    (32, true) => KernelArg::I32(v as i32),
                    (32, false) => KernelArg::U32(v as u32),
                    (_, true) => KernelArg::I64(v as i64),
                    (_, false) => KernelArg::U64(v as u64),
                })
            }
            DType::F16 | DType::BF16 | DType::TF32 | DType::F32 | DType::F64 => {
                let f = match self {
                    ScalarValue::Float(f) => f,
                    ScalarValue::Int(v) => v as f64,
                    ScalarValue::Bool(_) => return Err(format!("a bool is not a {dtype}")),
                    ScalarValue::Bits(_) => return Err(BITS_HANDLED.into()),
                };
                Ok(match dtype {
                    DType::F16 => KernelArg::F16(f16::from_f64(f).to_bits()),
                    DType::BF16 => KernelArg::BF16(bf16::from_f64(f).to_bits()),
                    DType::F64 => KernelArg::F64(f),
                    _ => KernelArg::F32(f as f32),
                })
            }
            DType::SmallFloat { .. } | DType::E8M0 => {
                Err(format!("give a {dtype} scalar as its bit pattern, e.g. 0x3c"))
            }
        }
    }
}

// `Bits` is handled before the per-type match; the arms naming it only keep the match exhaustive.
const BITS_HANDLED: &str = "a bit pattern was not applied";

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(text: &str, t: &str) -> Result<KernelArg, String> {
        ScalarValue::parse(text)?.encode(t.parse().unwrap())
    }

    #[test]
    fn scalars_encode_in_natural_width() {
        assert_eq!(enc("3", "i32"), Ok(KernelArg::I32(3)));
        assert_eq!(enc("-8", "i4"), Ok(KernelArg::I8(-8)));
        assert_eq!(enc("255", "u8"), Ok(KernelArg::U8(255)));
        assert_eq!(enc("1.5", "f32"), Ok(KernelArg::F32(1.5)));
        assert_eq!(enc("2", "f64"), Ok(KernelArg::F64(2.0)));
        assert_eq!(enc("1", "f16"), Ok(KernelArg::F16(0x3c00)));
        assert_eq!(enc("1", "bf16"), Ok(KernelArg::BF16(0x3f80)));
        assert_eq!(enc("true", "bool"), Ok(KernelArg::Bool(true)));
        assert_eq!(enc("0x38", "f8e4m3"), Ok(KernelArg::U8(0x38)));
        assert_eq!(enc("18446744073709551615", "u64"), Ok(KernelArg::U64(u64::MAX)));
        assert_eq!(KernelArg::F16(0x3c00).to_le_bytes(), vec![0x00, 0x3c]);
    }

    #[test]
    fn bad_scalars_are_rejected() {
        assert_eq!(enc("300", "u8").unwrap_err(), "300 is out of range for u8");
        assert_eq!(enc("8", "i4").unwrap_err(), "8 is out of range for i4");
        assert!(enc("1.5", "i32").unwrap_err().contains("not an integer"));
        assert!(enc("abc", "f32").unwrap_err().contains("is not a number"));
        assert!(enc("0x1ff", "u8").unwrap_err().contains("does not fit in 8 bits"));
        assert!(enc("1.0", "f8e4m3").unwrap_err().contains("bit pattern"));
        assert!(enc("2", "bool").is_err());
    }
}

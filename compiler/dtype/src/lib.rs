//! Element types of the tile language.
//!
//! A [`DType`] names the element type of a scalar, a register tile or a global tensor. Besides the
//! usual machine types it covers integers of every width from 1 to 8 bits and small floats `fNeXmY`
//! of every split (see docs/dtypes.md for their exact semantics).
//!
//! Modules: [`float`] (format parameters and the rounding routine), `info` (per-type metadata, as
//! methods of [`DType`]), [`convert`] (decode/encode/casts, re-exported here), [`pack`] (the storage
//! rule), [`decimal`] (exact decimal text) and [`report`] (the text of `tilec dtype`).

#![warn(missing_docs)]

use std::fmt;
use std::str::FromStr;

pub mod convert;
pub mod decimal;
pub mod float;
mod info;
pub mod pack;
pub mod report;

pub use convert::{cast_bits, decode, decode_int, encode, encode_int, is_nan, round};
pub use float::{FloatFormat, Overflow, Specials};
pub use pack::{pack_ints, pack_values, unpack_ints, unpack_values, PackError};

/// An element type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DType {
    /// One bit, `true` or `false`.
    Bool,
    /// A two's-complement (`signed`) or unsigned integer of `bits` bits: 1..=8, 16, 32 or 64.
    Int {
        /// Width in bits.
        bits: u8,
        /// Two's complement when true, unsigned when false.
        signed: bool,
    },
    /// IEEE 754 binary16.
    F16,
    /// bfloat16: f32's sign and 8-bit exponent with a 7-bit mantissa.
    BF16,
    /// NVIDIA's tf32: f32 storage with a 10-bit mantissa.
    TF32,
    /// IEEE 754 binary32.
    F32,
    /// IEEE 754 binary64.
    F64,
    /// A small float `fNeXmY` with `exp` = X exponent bits and `man` = Y mantissa bits, 1 + X + Y <= 8.
    /// `f8e4m3` and `f8e5m2` are the OCP FP8 formats; every other split is finite-only.
    SmallFloat {
        /// Exponent bits X >= 1.
        exp: u8,
        /// Mantissa bits Y >= 0.
        man: u8,
    },
    /// The OCP MX scale type: 8 exponent bits, no sign, no mantissa.
    E8M0,
}

impl DType {
    /// `i32`
    pub const I32: DType = DType::Int {
        bits: 32,
        signed: true,
    };
    /// `u32`
    pub const U32: DType = DType::Int {
        bits: 32,
        signed: false,
    };
    /// `i64`
    pub const I64: DType = DType::Int {
        bits: 64,
        signed: true,
    };
    /// `u8`
    pub const U8: DType = DType::Int {
        bits: 8,
        signed: false,
    };
    /// `i8`
    pub const I8: DType = DType::Int {
        bits: 8,
        signed: true,
    };
    /// `u64`
    pub const U64: DType = DType::Int {
        bits: 64,
        signed: false,
    };
    /// `i16`
    pub const I16: DType = DType::Int {
        bits: 16,
        signed: true,
    };
    /// `u16`
    pub const U16: DType = DType::Int {
        bits: 16,
        signed: false,
    };

    /// The number of bits one element occupies in a packed tensor.
    pub fn bits(self) -> u32 {
        match self {
            DType::Bool => 1,
            DType::Int { bits, .. } => bits as u32,
            DType::F16 | DType::BF16 => 16,
            DType::TF32 | DType::F32 => 32,
            DType::F64 => 64,
            DType::SmallFloat { exp, man } => 1 + exp as u32 + man as u32,
            DType::E8M0 => 8,
        }
    }

    /// Bytes needed for `numel` densely packed elements: `ceil(bits * numel / 8)`.
    pub fn nbytes(self, numel: usize) -> usize {
        (self.bits() as usize * numel).div_ceil(8)
    }

    /// Whether the type is a float (IEEE, tf32, small float or e8m0).
    pub fn is_float(self) -> bool {
        matches!(
            self,
            DType::F16
                | DType::BF16
                | DType::TF32
                | DType::F32
                | DType::F64
                | DType::SmallFloat { .. }
                | DType::E8M0
        )
    }

    /// Whether the type is an integer (signed or unsigned; bool is not).
    pub fn is_int(self) -> bool {
        matches!(self, DType::Int { .. })
    }

    /// Whether the type is a signed integer.
    pub fn is_signed_int(self) -> bool {
        matches!(self, DType::Int { signed: true, .. })
    }

    /// Whether the type is bool.
    pub fn is_bool(self) -> bool {
        self == DType::Bool
    }

    /// Whether an element is narrower than a byte (it may straddle bytes when packed).
    pub fn is_sub_byte(self) -> bool {
        self.bits() < 8
    }
}

/// A type name that is not one of the valid forms.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown element type `{name}`: {reason}\n  valid forms: bool; i1..i8, u1..u8, i16, i32, i64, u16, u32, u64; f16, bf16, tf32, f32, f64; fNeXmY with 1 <= X, 0 <= Y, 1+X+Y = N <= 8 (f8e4m3, f8e5m2, f6e3m2, f6e2m3, f4e2m1, ...); e8m0")]
pub struct ParseDTypeError {
    /// The name as written.
    pub name: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl FromStr for DType {
    type Err = ParseDTypeError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        let err = |reason| ParseDTypeError {
            name: name.to_string(),
            reason,
        };
        match name {
            "bool" => return Ok(DType::Bool),
            "f16" => return Ok(DType::F16),
            "bf16" => return Ok(DType::BF16),
            "tf32" => return Ok(DType::TF32),
            "f32" => return Ok(DType::F32),
            "f64" => return Ok(DType::F64),
            "e8m0" => return Ok(DType::E8M0),
            _ => {}
        }
        let num = |s: &str| -> Option<u8> {
            (!s.is_empty()
                && s.len() <= 2
                && s.bytes().all(|b| b.is_ascii_digit())
                && !(s.len() > 1 && s.starts_with('0')))
            .then(|| s.parse().ok())
            .flatten()
        };
        if let Some(rest) = name.strip_prefix('i').or_else(|| name.strip_prefix('u')) {
            let signed = name.starts_with('i');
            let bits = num(rest)
                .ok_or_else(|| err("an integer type is i or u followed by its width in bits"))?;
            return match bits {
                1..=8 | 16 | 32 | 64 => Ok(DType::Int { bits, signed }),
                _ => Err(err("integer widths are 1 to 8, 16, 32 and 64 bits")),
            };
        }
        if let Some(rest) = name.strip_prefix('f') {
            let (n, rest) = rest
                .split_once('e')
                .ok_or_else(|| err("a small float is written fNeXmY"))?;
            let (x, y) = rest
                .split_once('m')
                .ok_or_else(|| err("a small float is written fNeXmY"))?;
            let (n, x, y) = match (num(n), num(x), num(y)) {
                (Some(n), Some(x), Some(y)) => (n, x, y),
                _ => {
                    return Err(err(
                        "a small float is written fNeXmY with decimal N, X and Y",
                    ))
                }
            };
            if x < 1 {
                return Err(err("a small float needs at least one exponent bit"));
            }
            if 1 + x as u32 + y as u32 != n as u32 {
                return Err(err("in fNeXmY the widths must add up: N = 1 + X + Y"));
            }
            if n > 8 {
                return Err(err(
                    "small floats have at most 8 bits; use f16, bf16 or f32 for wider ones",
                ));
            }
            return Ok(DType::SmallFloat { exp: x, man: y });
        }
        Err(err("not a type name"))
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            DType::Bool => f.write_str("bool"),
            DType::Int { bits, signed } => write!(f, "{}{}", if signed { 'i' } else { 'u' }, bits),
            DType::F16 => f.write_str("f16"),
            DType::BF16 => f.write_str("bf16"),
            DType::TF32 => f.write_str("tf32"),
            DType::F32 => f.write_str("f32"),
            DType::F64 => f.write_str("f64"),
            DType::SmallFloat { exp, man } => write!(f, "f{}e{}m{}", 1 + exp + man, exp, man),
            DType::E8M0 => f.write_str("e8m0"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for name in [
            "bool", "i1", "u3", "i8", "u64", "f16", "bf16", "tf32", "f32", "f64", "f8e4m3",
            "f8e5m2", "f6e3m2", "f4e2m1", "f3e1m1", "f2e1m0", "e8m0",
        ] {
            let t: DType = name.parse().unwrap();
            assert_eq!(t.to_string(), name);
        }
    }

    #[test]
    fn bad_names_are_rejected() {
        for name in [
            "i9", "u0", "i07", "f8e4m4", "f9e5m3", "f4e0m3", "x", "", "f8e4", "i",
        ] {
            assert!(name.parse::<DType>().is_err(), "{name}");
        }
    }
}

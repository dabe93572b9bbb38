//! Per-type metadata: float format parameters, ranges and special values.
//!
//! These are the facts `tilec dtype NAME` prints and the code generator needs (bias, max finite,
//! NaN code, ...). Values are returned as f64, which holds every one of them exactly except the
//! integer limits of i64/u64 (use [`DType::int_range`] for those).

use crate::float::{FloatFormat, Overflow, Specials};
use crate::DType;

impl DType {
    /// The binary float format behind a float type; `None` for integers and bool.
    pub fn float_format(self) -> Option<FloatFormat> {
        let ieee = |exp_bits, man_bits| FloatFormat {
            exp_bits,
            man_bits,
            bias: (1 << (exp_bits - 1)) - 1,
            signed: true,
            subnormals: true,
            specials: Specials::Ieee,
            overflow: Overflow::Infinity,
        };
        Some(match self {
            DType::F16 => ieee(5, 10),
            DType::BF16 => ieee(8, 7),
            DType::TF32 => ieee(8, 10),
            DType::F32 => ieee(8, 23),
            DType::F64 => ieee(11, 52),
            DType::SmallFloat { exp, man } => {
                let (exp, man) = (exp as u32, man as u32);
                let specials = match (exp, man) {
                    (4, 3) => Specials::AllOnesNan,
                    (5, 2) => Specials::Ieee,
                    _ => Specials::None,
                };
                FloatFormat {
                    specials,
                    overflow: Overflow::Saturate,
                    ..ieee(exp, man)
                }
            }
            DType::E8M0 => FloatFormat {
                exp_bits: 8,
                man_bits: 0,
                bias: 127,
                signed: false,
                subnormals: false,
                specials: Specials::AllOnesNan,
                overflow: Overflow::Saturate,
            },
            DType::Bool | DType::Int { .. } => return None,
        })
    }

    /// Exponent field width of a float type.
    pub fn exp_bits(self) -> Option<u32> {
        self.float_format().map(|f| f.exp_bits)
    }

    /// Explicit mantissa (fraction) width of a float type.
    pub fn man_bits(self) -> Option<u32> {
        self.float_format().map(|f| f.man_bits)
    }

    /// Exponent bias of a float type: `2^(X-1) - 1` (127 for e8m0).
    pub fn bias(self) -> Option<i32> {
        self.float_format().map(|f| f.bias)
    }

    /// Whether the type can hold negative values (signed integers and every float but e8m0).
    pub fn is_signed(self) -> bool {
        match self {
            DType::Bool => false,
            DType::Int { signed, .. } => signed,
            _ => self.float_format().is_some_and(|f| f.signed),
        }
    }

    /// Whether the type has ±infinity codes (IEEE types and f8e5m2).
    pub fn has_inf(self) -> bool {
        self.float_format()
            .is_some_and(|f| f.specials == Specials::Ieee)
    }

    /// Whether the type has NaN codes (IEEE types, f8e4m3, f8e5m2, e8m0).
    pub fn has_nan(self) -> bool {
        self.float_format()
            .is_some_and(|f| f.specials != Specials::None)
    }

    /// Whether conversions into this type saturate to ±max on overflow (small floats, e8m0, integers)
    /// rather than producing ±inf (f16, bf16, tf32, f32, f64).
    pub fn saturates(self) -> bool {
        self.float_format()
            .is_none_or(|f| f.overflow == Overflow::Saturate)
    }

    /// The integer range `[min, max]` of an integer type or bool (`[0, 1]`).
    pub fn int_range(self) -> Option<(i128, i128)> {
        match self {
            DType::Bool => Some((0, 1)),
            DType::Int { bits, signed: true } => {
                Some((-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1))
            }
            DType::Int {
                bits,
                signed: false,
            } => Some((0, (1i128 << bits) - 1)),
            _ => None,
        }
    }

    /// The largest finite value (integers: their max, rounded to f64 for u64/i64).
    pub fn max_finite(self) -> f64 {
        match self.float_format() {
            Some(_) if self == DType::F64 => f64::MAX,
            Some(f) => f.decode(f.max_mag_code()),
            None => self.int_range().unwrap().1 as f64,
        }
    }

    /// The smallest (most negative) finite value: `-max_finite` for signed floats, `2^-127` for e8m0.
    pub fn min_finite(self) -> f64 {
        match self.float_format() {
            Some(f) if f.signed => -self.max_finite(),
            Some(f) => f.decode(0),
            None => self.int_range().unwrap().0 as f64,
        }
    }

    /// The smallest positive subnormal of a float type with subnormals (`None` for e8m0, for small
    /// floats without mantissa bits, whose only subnormal is zero, and for non-floats).
    pub fn smallest_subnormal(self) -> Option<f64> {
        let f = self.float_format()?;
        if !f.subnormals || f.man_bits == 0 {
            return None;
        }
        Some(if self == DType::F64 {
            f64::from_bits(1)
        } else {
            f.decode(1)
        })
    }

    /// The smallest positive normal value of a float type.
    pub fn smallest_normal(self) -> Option<f64> {
        let f = self.float_format()?;
        Some(if self == DType::F64 {
            f64::MIN_POSITIVE
        } else if f.subnormals {
            f.decode(1 << f.man_bits)
        } else {
            f.decode(0)
        })
    }

    /// The canonical NaN code of a type that has NaN (positive, quiet).
    pub fn nan_code(self) -> Option<u64> {
        let f = self.float_format()?;
        f.nan_code()
            .map(|c| if self == DType::TF32 { c << 13 } else { c })
    }

    /// The code of +inf, for types with infinities.
    pub fn inf_code(self) -> Option<u64> {
        let f = self.float_format()?;
        f.inf_code()
            .map(|c| if self == DType::TF32 { c << 13 } else { c })
    }

    /// Every small float type `fNeXmY` (N <= 8), ordered by N then X.
    pub fn all_small_floats() -> Vec<DType> {
        let mut v = Vec::new();
        for n in 2u8..=8 {
            for exp in 1..n {
                v.push(DType::SmallFloat {
                    exp,
                    man: n - 1 - exp,
                });
            }
        }
        v
    }

    /// Every type of at most 8 bits: bool, every integer width 1..=8, every small float, e8m0.
    pub fn all_narrow() -> Vec<DType> {
        let mut v = vec![DType::Bool];
        for bits in 1..=8 {
            v.push(DType::Int { bits, signed: true });
            v.push(DType::Int {
                bits,
                signed: false,
            });
        }
        v.extend(DType::all_small_floats());
        v.push(DType::E8M0);
        v
    }
}

//! Binary floating-point formats as parameters, and the one exact rounding routine every float
//! conversion goes through.
//!
//! Every float type of the language (f16, bf16, tf32, f32, f64, every `fNeXmY`, e8m0) is described by
//! a [`FloatFormat`]: exponent and mantissa widths, bias, whether it has a sign bit and subnormals,
//! which codes are special, and what happens on overflow. Encoding rounds an exact dyadic value
//! `m * 2^e` (any `u128` significand) once, to nearest with ties to even, so conversions from f64 and
//! from 128-bit integers are both correctly rounded (no double rounding through f64).

use std::cmp::Ordering;

/// Which codes of a format are not finite numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Specials {
    /// IEEE 754: the all-ones exponent field is infinity (mantissa 0) or NaN (mantissa != 0).
    Ieee,
    /// Only the all-ones magnitude is NaN; the all-ones exponent field otherwise holds normal numbers
    /// (OCP E4M3: S.1111.111 is NaN; e8m0: 0xFF is NaN). No infinities.
    AllOnesNan,
    /// Every code is a finite number (OCP MX FP6/FP4 and every other small float).
    None,
}

/// What a finite value beyond the largest finite one becomes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Overflow {
    /// IEEE: a value that rounds (with unbounded exponent) beyond max becomes ±infinity.
    Infinity,
    /// The result is clamped to ±max (small floats and e8m0).
    Saturate,
}

/// The parameters of one binary floating-point format (the code occupies the low `bits()` bits).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FloatFormat {
    /// Exponent field width X.
    pub exp_bits: u32,
    /// Mantissa (fraction) field width Y.
    pub man_bits: u32,
    /// Exponent bias: a normal code with exponent field `e` has scale `2^(e - bias)`.
    pub bias: i32,
    /// Whether the top bit is a sign bit (false only for e8m0).
    pub signed: bool,
    /// Whether exponent field 0 encodes subnormals (and zero). Without subnormals (e8m0) field 0 is an
    /// ordinary normal exponent and the format has no zero.
    pub subnormals: bool,
    /// Which codes are infinities or NaN.
    pub specials: Specials,
    /// What overflow produces.
    pub overflow: Overflow,
}

impl FloatFormat {
    /// Total width of a code.
    pub fn bits(&self) -> u32 {
        self.signed as u32 + self.exp_bits + self.man_bits
    }

    fn mag_mask(&self) -> u64 {
        mask(self.exp_bits + self.man_bits)
    }

    fn sign_bit(&self) -> u64 {
        if self.signed {
            1u64 << (self.exp_bits + self.man_bits)
        } else {
            0
        }
    }

    /// Smallest unbiased exponent of a normal number.
    fn emin(&self) -> i32 {
        if self.subnormals {
            1 - self.bias
        } else {
            -self.bias
        }
    }

    /// The magnitude code of the largest finite value.
    pub fn max_mag_code(&self) -> u64 {
        match self.specials {
            Specials::Ieee => (mask(self.exp_bits) - 1) << self.man_bits | mask(self.man_bits),
            Specials::AllOnesNan => self.mag_mask() - 1,
            Specials::None => self.mag_mask(),
        }
    }

    /// The canonical NaN code: positive sign, and for IEEE formats the quiet bit (mantissa MSB) alone.
    pub fn nan_code(&self) -> Option<u64> {
        match self.specials {
            Specials::Ieee => {
                Some(mask(self.exp_bits) << self.man_bits | 1u64 << (self.man_bits - 1))
            }
            Specials::AllOnesNan => Some(self.mag_mask()),
            Specials::None => None,
        }
    }

    /// The code of +infinity, if the format has infinities.
    pub fn inf_code(&self) -> Option<u64> {
        (self.specials == Specials::Ieee).then(|| mask(self.exp_bits) << self.man_bits)
    }

    /// Whether `code` (low `bits()` bits) is a NaN.
    pub fn is_nan_code(&self, code: u64) -> bool {
        let mag = code & self.mag_mask();
        match self.specials {
            Specials::Ieee => mag > mask(self.exp_bits) << self.man_bits,
            Specials::AllOnesNan => mag == self.mag_mask(),
            Specials::None => false,
        }
    }

    /// The exact value of a code. Exact for every format whose values lie in f64's normal range,
    /// which is all of them except f64 itself (decoded with `f64::from_bits` by the caller).
    pub fn decode(&self, code: u64) -> f64 {
        let mag = code & self.mag_mask();
        let neg = code & self.sign_bit() != 0;
        let e = (mag >> self.man_bits) as i32;
        let m = mag & mask(self.man_bits);
        let v = if self.is_nan_code(code) {
            return f64::NAN;
        } else if self.specials == Specials::Ieee && e == mask(self.exp_bits) as i32 {
            f64::INFINITY
        } else if self.subnormals && e == 0 {
            m as f64 * pow2(self.emin() - self.man_bits as i32)
        } else {
            ((1u64 << self.man_bits) | m) as f64 * pow2(e - self.bias - self.man_bits as i32)
        };
        if neg {
            -v
        } else {
            v
        }
    }

    /// Encodes the f64 `v`. `sticky` says where the true value lies relative to `v` when `v` is only an
    /// approximation of it (a decimal read as the nearest f64): it breaks exact ties of this format and
    /// is otherwise irrelevant. Pass `Ordering::Equal` when `v` is exact.
    pub fn encode_f64(&self, v: f64, sticky: Ordering) -> u64 {
        if v.is_nan() {
            // Finite-only formats have no NaN: NaN becomes +0 (as float->int casts make it 0).
            return self.nan_code().unwrap_or(0);
        }
        let neg = v.is_sign_negative();
        if !self.signed && (neg || v == 0.0) {
            // Unsigned and zero-free (e8m0): zero and negatives clamp to the smallest value.
            return 0;
        }
        let sign = if neg { self.sign_bit() } else { 0 };
        let sticky = if neg { sticky.reverse() } else { sticky };
        if v.is_infinite() {
            return sign | self.inf_code().unwrap_or_else(|| self.max_mag_code());
        }
        if v == 0.0 {
            return sign;
        }
        let bits = v.to_bits();
        let field = ((bits >> 52) & 0x7ff) as i32;
        let frac = bits & mask(52);
        let (m, e) = if field == 0 {
            (frac, -1074)
        } else {
            (frac | 1 << 52, field - 1075)
        };
        sign | self.round_mag(m as u128, e, sticky)
    }

    /// Encodes the exact integer `v` (round to nearest, ties to even; overflow per `self.overflow`).
    pub fn encode_int(&self, v: i128) -> u64 {
        if v == 0 || (!self.signed && v < 0) {
            // +0, or the smallest value of an unsigned zero-free format (see encode_f64).
            return 0;
        }
        let sign = if v < 0 { self.sign_bit() } else { 0 };
        sign | self.round_mag(v.unsigned_abs(), 0, Ordering::Equal)
    }

    /// The magnitude code nearest to `m * 2^e` (m > 0), ties to even significand; `sticky` as in
    /// [`encode_f64`](Self::encode_f64) but already oriented to the magnitude.
    fn round_mag(&self, m: u128, e: i32, sticky: Ordering) -> u64 {
        debug_assert!(m > 0);
        let y = self.man_bits as i32;
        let top = e + 127 - m.leading_zeros() as i32; // m * 2^e lies in [2^top, 2^(top+1))
        let mut te = top.max(self.emin());
        let shift = te - y - e; // bits of m below the quantum 2^(te - y)
        let (mut mant, rem) = if shift <= 0 {
            (m << -shift, Ordering::Less)
        } else if shift > 128 {
            (0, Ordering::Less) // m < 2^128 <= half a quantum
        } else if shift == 128 {
            (0, m.cmp(&(1u128 << 127)))
        } else {
            (
                m >> shift,
                (m & ((1u128 << shift) - 1)).cmp(&(1u128 << (shift - 1))),
            )
        };
        // `rem` compares the discarded part with half a quantum. It is exact in units of the input's
        // last bit, so the tiny `sticky` perturbation can only matter on an exact tie.
        let up = match rem {
            Ordering::Greater => true,
            Ordering::Less => false,
            Ordering::Equal => match sticky {
                Ordering::Greater => true,
                Ordering::Less => false,
                Ordering::Equal => mant & 1 == 1,
            },
        };
        if up {
            mant += 1;
        }
        if mant >> (y + 1) != 0 {
            mant >>= 1;
            te += 1;
        }
        let implicit = 1u128 << y;
        if mant < implicit && !self.subnormals {
            mant = implicit; // below the smallest value of a zero-free format: clamp up to it
        }
        let code = if mant < implicit {
            mant as u64 // subnormal (or zero) at te == emin
        } else {
            let field = te + self.bias;
            if field > mask(self.exp_bits) as i32 {
                return self.overflow_code();
            }
            (field as u64) << y | (mant - implicit) as u64
        };
        if code > self.max_mag_code() {
            return self.overflow_code();
        }
        code
    }

    fn overflow_code(&self) -> u64 {
        match self.overflow {
            Overflow::Infinity => self
                .inf_code()
                .expect("an overflow-to-infinity format has infinities"),
            Overflow::Saturate => self.max_mag_code(),
        }
    }
}

/// The low `n` bits set (n <= 64).
pub(crate) fn mask(n: u32) -> u64 {
    if n >= 64 {
        u64::MAX
    } else {
        (1u64 << n) - 1
    }
}

/// `2^k` exactly, for k in f64's normal exponent range.
pub(crate) fn pow2(k: i32) -> f64 {
    assert!(
        (-1022..=1023).contains(&k),
        "2^{k} is outside f64's normal range"
    );
    f64::from_bits(((k + 1023) as u64) << 52)
}

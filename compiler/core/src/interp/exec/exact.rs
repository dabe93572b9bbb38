//! Exact sums of f64 terms, rounded once: the fallback of `dot` (and float `sum`) when the fast f64
//! accumulation was not exact.
//!
//! The terms are the accumulator and products of two values of at most 24 significand bits, so each
//! is a finite f64 whose lowest set bit is at least 2^-350 and whose magnitude is below 2^257. They
//! are added into a fixed-point number with LSB 2^-352 held in base-2^32 digits (signed i64 digits
//! absorb up to 2^20 terms without carrying), which is then rounded to odd at 53 bits and rounded to
//! the target dtype: one correct rounding of the exact sum.

use crate::numeric::round_float;
use tilec_dtype::DType;

const DIGITS: usize = 22;
const LSB: i32 = -352;

/// The exact sum of `terms` rounded once to `dt`; `None` when a term is not finite or out of the
/// fixed-point range (the caller then keeps its IEEE f64 result).
pub fn exact_sum(dt: DType, terms: impl Iterator<Item = f64>) -> Option<f64> {
    let mut digits = [0i64; DIGITS];
    let mut all_neg_zero = true;
    let mut count = 0usize;
    for v in terms {
        count += 1;
        if count > 1 << 20 || !v.is_finite() {
            return None;
        }
        if v == 0.0 {
            all_neg_zero &= v.is_sign_negative();
            continue;
        }
        all_neg_zero = false;
        let bits = v.to_bits();
        let exp = ((bits >> 52) & 0x7FF) as i32;
        if exp == 0 {
            return None; // f64 subnormal: outside the range these terms can have
        }
        let m = (bits & ((1u64 << 52) - 1)) | (1u64 << 52);
        let offset = exp - 1075 - LSB;
        if offset < 0 || offset as usize / 32 + 2 >= DIGITS {
            return None;
        }
        let (idx, shift) = (offset as usize / 32, offset as u32 % 32);
        let wide = (m as u128) << shift;
        let sign = if v < 0.0 { -1 } else { 1 };
        for j in 0..3 {
            digits[idx + j] += sign * ((wide >> (32 * j)) as u64 & 0xFFFF_FFFF) as i64;
        }
    }
    normalize(&mut digits);
    let negative = digits[DIGITS - 1] < 0;
    if negative {
        for d in digits.iter_mut() {
            *d = -*d;
        }
        normalize(&mut digits);
    }
    let Some(h) = digits.iter().rposition(|&d| d != 0) else {
        return Some(if all_neg_zero { -0.0 } else { 0.0 });
    };
    let bit = |i: i64| i >= 0 && (digits[i as usize / 32] >> (i % 32)) & 1 == 1;
    let msb = h as i64 * 32 + 63 - digits[h].leading_zeros() as i64;
    let low = (msb - 52).max(0);
    let mut top: u64 = 0;
    for i in (low..=msb).rev() {
        top = (top << 1) | bit(i) as u64;
    }
    if (0..low).any(bit) {
        top |= 1; // round to odd: the discarded bits are not zero
    }
    let scale = f64::from_bits(((low + LSB as i64 + 1023) as u64) << 52);
    let v = top as f64 * scale; // exact: top < 2^53, the result is a normal f64
    Some(round_float(dt, if negative { -v } else { v }))
}

/// Carries so that every digit but the last is in 0..2^32; the last keeps the sign.
fn normalize(d: &mut [i64; DIGITS]) {
    for i in 0..DIGITS - 1 {
        let carry = d[i] >> 32;
        d[i] -= carry << 32;
        d[i + 1] += carry;
    }
}

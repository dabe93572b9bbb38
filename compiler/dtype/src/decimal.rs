//! Exact decimal text: printing any f64 with all its digits, reading decimal numbers exactly.
//!
//! Reports print values exactly (`0.001953125`, never a shortest round-trip form that hides digits),
//! and `--encode` rounds the decimal the user wrote, not the f64 nearest to it: a decimal just above
//! a tie of an 8-bit format may read as the tie itself in f64, and rounding that would go the wrong
//! way. A small base-10^9 big integer is all that is needed.

use std::cmp::Ordering;

/// A non-negative integer in base 10^9, least significant limb first.
#[derive(Clone, Debug)]
struct Big(Vec<u32>);

const BASE: u64 = 1_000_000_000;

impl Big {
    fn from_u64(mut x: u64) -> Big {
        let mut v = Vec::new();
        while x > 0 {
            v.push((x % BASE) as u32);
            x /= BASE;
        }
        Big(v)
    }

    fn mul_small(&mut self, k: u32) {
        let mut carry = 0u64;
        for limb in &mut self.0 {
            let t = *limb as u64 * k as u64 + carry;
            *limb = (t % BASE) as u32;
            carry = t / BASE;
        }
        while carry > 0 {
            self.0.push((carry % BASE) as u32);
            carry /= BASE;
        }
    }

    fn mul_pow(&mut self, base: u32, mut n: u64) {
        // base^chunk stays below 2^32 for base <= 10 and chunk = 9 (10^9 < 2^32).
        while n > 0 {
            let c = n.min(9);
            self.mul_small(base.pow(c as u32));
            n -= c;
        }
    }

    fn cmp(&self, other: &Big) -> Ordering {
        let (a, b) = (trim(&self.0), trim(&other.0));
        a.len()
            .cmp(&b.len())
            .then_with(|| a.iter().rev().cmp(b.iter().rev()))
    }

    fn to_digits(&self) -> String {
        let limbs = trim(&self.0);
        let Some((top, rest)) = limbs.split_last() else {
            return "0".into();
        };
        let mut s = top.to_string();
        for limb in rest.iter().rev() {
            s.push_str(&format!("{limb:09}"));
        }
        s
    }
}

fn trim(v: &[u32]) -> &[u32] {
    let n = v.iter().rposition(|&l| l != 0).map_or(0, |i| i + 1);
    &v[..n]
}

/// `|v| = m * 2^e` with `m` odd (v finite and nonzero).
fn split(v: f64) -> (u64, i64) {
    let bits = v.to_bits();
    let field = ((bits >> 52) & 0x7ff) as i64;
    let frac = bits & ((1 << 52) - 1);
    let (m, e) = if field == 0 {
        (frac, -1074)
    } else {
        (frac | 1 << 52, field - 1075)
    };
    let tz = m.trailing_zeros();
    (m >> tz, e + tz as i64)
}

/// The exact decimal value of `v`: all digits, no exponent, no trailing zeros; `nan`, `inf`, `-inf`,
/// `-0` for the special values.
pub fn format_exact(v: f64) -> String {
    if v.is_nan() {
        return "nan".into();
    }
    let sign = if v.is_sign_negative() { "-" } else { "" };
    if v.is_infinite() {
        return format!("{sign}inf");
    }
    if v == 0.0 {
        return format!("{sign}0");
    }
    let (m, e) = split(v);
    let mut big = Big::from_u64(m);
    if e >= 0 {
        big.mul_pow(2, e as u64);
        return format!("{sign}{}", big.to_digits());
    }
    // m / 2^k = m * 5^k / 10^k
    let k = (-e) as usize;
    big.mul_pow(5, k as u64);
    let digits = big.to_digits();
    let digits = format!(
        "{}{digits}",
        "0".repeat((k + 1).saturating_sub(digits.len()))
    );
    let (int, frac) = digits.split_at(digits.len() - k);
    format!("{sign}{int}.{}", frac.trim_end_matches('0'))
}

/// A number read from text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Number {
    /// `nan` (any case).
    Nan,
    /// `inf`, `infinity` with an optional sign.
    Inf {
        /// Negative infinity.
        neg: bool,
    },
    /// `(-1)^neg * digits * 10^exp10`; `digits` has no leading or trailing zeros (empty for zero).
    Finite {
        /// A minus sign was written (kept for zero: `-0`).
        neg: bool,
        /// Decimal digits 0..=9, most significant first.
        digits: Vec<u8>,
        /// Power of ten the digits are scaled by.
        exp10: i64,
    },
}

/// Reads `nan`, `inf`, `+inf`, `-inf`, `infinity` (any case), or a decimal
/// `[+-]digits[.digits][e[+-]digits]` (either digit run before or after the point may be empty, not
/// both).
pub fn parse_number(s: &str) -> Result<Number, &'static str> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    match body.to_ascii_lowercase().as_str() {
        "nan" => return Ok(Number::Nan),
        "inf" | "infinity" => return Ok(Number::Inf { neg }),
        _ => {}
    }
    let (mantissa, exp) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int.is_empty() && frac.is_empty() {
        return Err("expected a decimal number such as 1.5, -0.25, 3e-2, or inf, -inf, nan");
    }
    if !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
        return Err("expected a decimal number such as 1.5, -0.25, 3e-2, or inf, -inf, nan");
    }
    let mut exp10: i64 = match exp {
        None => 0,
        Some(x) => {
            let digits = x.strip_prefix(['+', '-']).unwrap_or(x);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err("the exponent after `e` must be an integer");
            }
            // Exponents this large make any value 0 or infinite; clamping keeps the arithmetic small.
            let mag = digits.parse::<i64>().unwrap_or(i64::MAX).min(1_000_000);
            if x.starts_with('-') {
                -mag
            } else {
                mag
            }
        }
    };
    exp10 -= frac.len() as i64;
    let mut digits: Vec<u8> = int.bytes().chain(frac.bytes()).map(|b| b - b'0').collect();
    let lead = digits.iter().position(|&d| d != 0).unwrap_or(digits.len());
    digits.drain(..lead);
    while digits.last() == Some(&0) {
        digits.pop();
        exp10 += 1;
    }
    if digits.is_empty() {
        exp10 = 0;
    }
    Ok(Number::Finite { neg, digits, exp10 })
}

impl Number {
    /// The nearest f64 (ties to even), and where the exact value lies relative to it.
    pub fn to_f64(&self) -> (f64, Ordering) {
        match self {
            Number::Nan => (f64::NAN, Ordering::Equal),
            Number::Inf { neg: false } => (f64::INFINITY, Ordering::Equal),
            Number::Inf { neg: true } => (f64::NEG_INFINITY, Ordering::Equal),
            Number::Finite { neg, digits, exp10 } => {
                let sign = if *neg { -1.0 } else { 1.0 };
                if digits.is_empty() {
                    return (sign * 0.0, Ordering::Equal);
                }
                let text: String = digits.iter().map(|d| (b'0' + d) as char).collect();
                let mag: f64 = format!("{text}e{exp10}")
                    .parse()
                    .expect("a well-formed decimal");
                if mag == 0.0 || mag.is_infinite() {
                    return (
                        sign * mag,
                        if *neg {
                            Ordering::Less
                        } else {
                            Ordering::Greater
                        },
                    );
                }
                let c = cmp_exact(digits, *exp10, mag);
                (sign * mag, if *neg { c.reverse() } else { c })
            }
        }
    }

    /// The value truncated toward zero, saturated to i128 (NaN gives 0, ±inf saturate).
    pub fn trunc_i128(&self) -> i128 {
        match self {
            Number::Nan => 0,
            Number::Inf { neg } => {
                if *neg {
                    i128::MIN
                } else {
                    i128::MAX
                }
            }
            Number::Finite { neg, digits, exp10 } => {
                let keep = digits.len() as i64 + exp10;
                if keep <= 0 {
                    return 0;
                }
                if keep > 40 {
                    return if *neg { i128::MIN } else { i128::MAX };
                }
                let mut x: i128 = 0;
                for i in 0..keep as usize {
                    let d = *digits.get(i).unwrap_or(&0) as i128;
                    let next = x.checked_mul(10).and_then(|x| {
                        if *neg {
                            x.checked_sub(d)
                        } else {
                            x.checked_add(d)
                        }
                    });
                    match next {
                        Some(n) => x = n,
                        None => return if *neg { i128::MIN } else { i128::MAX },
                    }
                }
                x
            }
        }
    }

    /// Whether the value is nonzero (NaN counts as nonzero).
    pub fn is_nonzero(&self) -> bool {
        !matches!(self, Number::Finite { digits, .. } if digits.is_empty())
    }
}

/// Compares `digits * 10^exp10` with the positive finite f64 `v`, exactly.
fn cmp_exact(digits: &[u8], exp10: i64, v: f64) -> Ordering {
    // Any f64 has at most 767 significant decimal digits, so a longer decimal that agrees with `v` on
    // its first 800 digits is larger than `v` exactly when a later digit is nonzero (none is zero:
    // trailing zeros were stripped).
    const KEEP: usize = 800;
    let (digits, tail, exp10) = if digits.len() > KEEP {
        (
            &digits[..KEEP],
            Ordering::Greater,
            exp10 + (digits.len() - KEEP) as i64,
        )
    } else {
        (digits, Ordering::Equal, exp10)
    };
    let (m, e) = split(v);
    // Scale both sides by 10^s so that both are integers.
    let s = 0.max(-exp10).max(-e);
    let mut lhs = Big(Vec::new());
    for chunk in digits.chunks(9) {
        lhs.mul_pow(10, chunk.len() as u64);
        let add = chunk.iter().fold(0u32, |a, &d| a * 10 + d as u32);
        add_small(&mut lhs, add);
    }
    lhs.mul_pow(10, (exp10 + s) as u64);
    let mut rhs = Big::from_u64(m);
    rhs.mul_pow(2, (e + s) as u64);
    rhs.mul_pow(5, s as u64);
    lhs.cmp(&rhs).then(tail)
}

fn add_small(b: &mut Big, mut k: u32) {
    let mut i = 0;
    while k > 0 {
        if i == b.0.len() {
            b.0.push(0);
        }
        let t = b.0[i] as u64 + k as u64;
        b.0[i] = (t % BASE) as u32;
        k = (t / BASE) as u32;
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_printing() {
        assert_eq!(format_exact(0.001953125), "0.001953125");
        assert_eq!(format_exact(-448.0), "-448");
        assert_eq!(format_exact(-0.0), "-0");
        assert_eq!(format_exact(f64::NAN), "nan");
        assert_eq!(format_exact(f64::NEG_INFINITY), "-inf");
        assert_eq!(format_exact(2f64.powi(-24)), "0.000000059604644775390625");
        assert_eq!(format_exact(2f64.powi(64)), "18446744073709551616");
        assert_eq!(
            format_exact(0.1),
            "0.1000000000000000055511151231257827021181583404541015625"
        );
        let tiny = format_exact(f64::from_bits(1));
        assert_eq!(tiny.len(), 2 + 1074);
        assert!(
            tiny.starts_with(&format!("0.{}494065645841246544", "0".repeat(323))),
            "{tiny}"
        );
        assert!(tiny.ends_with("5625"));
    }

    #[test]
    fn parsing() {
        assert_eq!(
            parse_number("-1.50e1"),
            Ok(Number::Finite {
                neg: true,
                digits: vec![1, 5],
                exp10: 0
            })
        );
        assert_eq!(
            parse_number(".5"),
            Ok(Number::Finite {
                neg: false,
                digits: vec![5],
                exp10: -1
            })
        );
        assert_eq!(
            parse_number("-0.0"),
            Ok(Number::Finite {
                neg: true,
                digits: vec![],
                exp10: 0
            })
        );
        assert_eq!(parse_number("-INF"), Ok(Number::Inf { neg: true }));
        assert_eq!(parse_number("NaN"), Ok(Number::Nan));
        for bad in [
            "", ".", "1.2.3", "1e", "e5", "abc", "1e+-2", "--1", "0x10", "1 ",
        ] {
            assert!(parse_number(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn exact_comparison() {
        let n = |s| parse_number(s).unwrap();
        assert_eq!(n("0.1").to_f64(), (0.1, Ordering::Less));
        assert_eq!(n("0.5").to_f64(), (0.5, Ordering::Equal));
        assert_eq!(n("-0.1").to_f64(), (-0.1, Ordering::Greater));
        assert_eq!(
            n("1.0625000000000000000001").to_f64(),
            (1.0625, Ordering::Greater)
        );
        assert_eq!(
            n("1.0624999999999999999999").to_f64(),
            (1.0625, Ordering::Less)
        );
        let long = format!("1.0625{}1", "0".repeat(2000));
        assert_eq!(n(&long).to_f64(), (1.0625, Ordering::Greater));
        assert_eq!(n("2.9999999999999999999").trunc_i128(), 2);
        assert_eq!(n("-2.9999999999999999999").trunc_i128(), -2);
        assert_eq!(n("1e50").trunc_i128(), i128::MAX);
        assert_eq!(
            n("-170141183460469231731687303715884105728").trunc_i128(),
            i128::MIN
        );
        assert_eq!(
            n("-170141183460469231731687303715884105729").trunc_i128(),
            i128::MIN
        );
        assert_eq!(
            n("170141183460469231731687303715884105727").trunc_i128(),
            i128::MAX
        );
        assert_eq!(n("12345.678e2").trunc_i128(), 1234567);
        assert!(n("1e-400").is_nonzero() && !n("-0.000").is_nonzero());
    }
}

//! Widening low-bit codes to f16 two at a time with bit tricks, from the raw 32-bit words a thread
//! loaded (docs/thread.md, "lowering"): each step builds one u32 holding two f16 bit patterns, then
//! one f16x2 instruction fixes both values. No code is ever extracted or converted by itself.
//!
//! [`trick`] is the single table of which (source, target) pairs take this path; every other cast
//! of a low-bit tile converts element by element.

use crate::thread::{BinOp, Builder, Reg, Ty};
use tilec_dtype::DType;

/// How codes of one low-bit type become f16.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Trick {
    /// `u8`/`i8`: `prmt` puts each byte under the exponent of 1024 (`0x64`), giving the f16
    /// `1024 + byte`; `sub.f16x2` of 1024 (1152 for `i8`, whose sign bit is flipped first so the
    /// byte is `value + 128`) leaves the value. Two elements per `prmt`.
    Bytes { signed: bool },
    /// `uN`/`iN` of 1 to 7 bits: the code's bits at the bottom of each f16
    /// half, ORed into `0x6400` by one `lop3` (which also flips the sign bit of a signed code,
    /// making it `value + 2^(N-1)`), are the f16 `1024 + code`; `sub.f16x2` of `1024` (plus
    /// `2^(N-1)` when signed) leaves the value. Every value is an integer below 2048: exact.
    Int { bits: u32, signed: bool },
    /// A finite-only small float `fNeXmY` with `N <= 7` and `X <= 4`: the exponent and mantissa
    /// fields go to the f16 exponent and mantissa positions (the mantissa's top bit at bit 9) and the
    /// sign to bit 15; read as an f16 that is `(-1)^s 2^(e-15) (1 + m/2^Y)` (normal) or
    /// `(-1)^s 2^-14 m/2^Y` (e = 0), which `mul.f16x2` by `2^(15-b)` (`b` the small bias) makes
    /// exactly the small float's value, subnormals and both zeros included: the product is a power
    /// of two times a value of at most `Y + 1` significant bits, inside f16's range (the largest,
    /// `2^(2^X-1-b)(2-2^-Y)`, is at most 480 for `X = 4`). `X = 5` is left out: the all-ones
    /// exponent is finite there but would read as f16 infinity/NaN; so are the FP8 types, which
    /// have specials of their own and are not packed.
    Float { exp: u32, man: u32 },
}

/// The bit-trick path from low-bit `from` to `to`, or `None` where the cast is done element by
/// element. Targets are `f16` and `f32` (f32 by a widening cast of the exact f16 values).
pub(super) fn trick(from: DType, to: DType) -> Option<Trick> {
    if to != DType::F16 && to != DType::F32 {
        return None;
    }
    match from {
        DType::Int { bits: 8, signed } => Some(Trick::Bytes { signed }),
        DType::Int { bits, signed } if bits < 8 => Some(Trick::Int { bits: u32::from(bits), signed }),
        DType::SmallFloat { exp, man } if exp <= 4 && 1 + exp + man <= 7 => Some(Trick::Float { exp: u32::from(exp), man: u32::from(man) }),
        _ => None,
    }
}

impl Trick {
    /// The width of one code.
    pub(super) fn bits(self) -> u32 {
        match self {
            Trick::Bytes { .. } => 8,
            Trick::Int { bits, .. } => bits,
            Trick::Float { exp, man } => 1 + exp + man,
        }
    }

    /// Where a code's lowest bit goes in each f16 half.
    fn at(self) -> u32 {
        match self {
            Trick::Float { man, .. } => 10 - man,
            _ => 0,
        }
    }
}

fn h2(b: &mut Builder, half: u32) -> Reg {
    let r = b.u32(half | half << 16);
    b.bitcast(r, Ty::F16X2)
}

/// `x` shifted left by `by` (right when negative).
fn shift(b: &mut Builder, x: Reg, by: i64) -> Reg {
    match by {
        0 => x,
        by if by > 0 => {
            let k = b.u32(by as u32);
            b.shl(x, k)
        }
        by => {
            let k = b.u32((-by) as u32);
            b.shr(x, k)
        }
    }
}

/// A u32 with the `p` bits at bit `bit` of `words` (LSB-first, word 0 first) at bit `to`; its other
/// bits are whatever the shifts bring (the caller masks them). A code that straddles two words is
/// joined from both.
fn field(b: &mut Builder, words: &[Reg], bit: u32, p: u32, to: u32) -> Reg {
    let (k, off) = ((bit / 32) as usize, bit % 32);
    let lo = shift(b, words[k], i64::from(to) - i64::from(off));
    if off + p <= 32 {
        return lo;
    }
    // Straddles: `off > 32 - p >= to`, so `lo` was a right shift, and the rest comes from the next
    // word shifted left by less than 32.
    let hi = shift(b, words[k + 1], i64::from(32 - off + to));
    b.or(lo, hi)
}

/// The elements `0..n` of codes packed in `words` (`n * p` = 32 × words), as pairs `(i, j)` that
/// share one f16x2: `j` 16 bits after `i` in the same word where `p` divides 16 (one shift brings
/// both into place), else `i` and `i + n/2`.
fn pairs(n: u32, p: u32) -> Vec<(u32, u32)> {
    if 16 % p == 0 {
        let per = 32 / p;
        (0..n / per).flat_map(|w| (0..per / 2).map(move |i| (w * per + i, w * per + i + per / 2))).collect()
    } else {
        (0..n / 2).map(|i| (i, i + n / 2)).collect()
    }
}

/// The elements of `words` (u32 registers holding `32 × words.len() / bits` codes of `t`'s type,
/// densely LSB-first) widened to f16 by `t`: `out[i]` is element `i`, exactly its value
/// (`tilec_dtype::decode`), for every code.
pub(super) fn widen_words(b: &mut Builder, t: Trick, words: &[Reg]) -> Vec<Reg> {
    let p = t.bits();
    let n = 32 * words.len() as u32 / p;
    let mut out = vec![None; n as usize];
    let mut put = |b: &mut Builder, f: Reg, (i, j): (u32, u32)| {
        out[i as usize] = Some(b.extract(f, 0));
        out[j as usize] = Some(b.extract(f, 1));
    };
    if let Trick::Bytes { signed } = t {
        let magic = b.u32(0x6464_6464);
        let bias = h2(b, if signed { 0x6480 } else { 0x6400 });
        let flip = b.u32(0x8080_8080);
        for (w, &q) in words.iter().enumerate() {
            let q = if signed { b.xor(q, flip) } else { q };
            let base = 4 * w as u32;
            // prmt byte 4 is a byte of `magic`: (q0, 0x64, q1, 0x64) and (q2, 0x64, q3, 0x64).
            for (sel, pair) in [(0x4140, (base, base + 1)), (0x4342, (base + 2, base + 3))] {
                let s = b.u32(sel);
                let h = b.prmt(q, magic, s);
                let h = b.bitcast(h, Ty::F16X2);
                let f = b.binary(BinOp::Sub, h, bias);
                put(b, f, pair);
            }
        }
    } else {
        let at = t.at();
        let code = (1u32 << p) - 1;
        let both = |m: u32| m | m << 16;
        // Per kind: the constants shared by every pair.
        let consts = match t {
            Trick::Int { signed, .. } => {
                let flip = if signed { 1 << (p - 1) } else { 0 };
                let (mask, magic) = (b.u32(both(code)), b.u32(both(0x6400 | flip)));
                (mask, magic, h2(b, 0x6400 | flip))
            }
            Trick::Float { exp, man } => {
                let em = b.u32(both(((1 << (exp + man)) - 1) << at));
                let sign = b.u32(0x8000_8000);
                // 2^(15 - bias) as an f16: exponent field 30 - bias.
                let bias = (1u32 << (exp - 1)) - 1;
                (em, sign, h2(b, (30 - bias) << 10))
            }
            Trick::Bytes { .. } => unreachable!(),
        };
        let halves = b.u32(0x0000_ffff);
        for (i, j) in pairs(n, p) {
            let lo = field(b, words, i * p, p, at);
            let pair = if j * p == i * p + 16 && (i * p) % 32 < 16 {
                lo
            } else {
                let hi = field(b, words, j * p, p, at + 16);
                // (lo & 0xffff) | (hi & ~0xffff): 0xF0 & 0xAA | 0xCC & !0xAA = 0xE4 with c = halves.
                b.lop3(lo, hi, halves, 0xE4)
            };
            let f = match t {
                Trick::Int { signed, .. } => {
                    let (mask, magic, bias) = consts;
                    // (a & b) | c, or (a & b) ^ c: 0xF0 & 0xCC | 0xAA = 0xEA, ^ = 0x6A.
                    let h = b.lop3(pair, mask, magic, if signed { 0x6A } else { 0xEA });
                    let h = b.bitcast(h, Ty::F16X2);
                    b.binary(BinOp::Sub, h, bias)
                }
                Trick::Float { exp, .. } => {
                    let (em, sign, scale) = consts;
                    // The sign sits just above the exponent field, at bit 10 + X: up to 15.
                    let s = shift(b, pair, i64::from(5 - exp));
                    let fields = b.and(pair, em);
                    let h = b.lop3(s, sign, fields, 0xEA);
                    let h = b.bitcast(h, Ty::F16X2);
                    b.binary(BinOp::Mul, h, scale)
                }
                Trick::Bytes { .. } => unreachable!(),
            };
            put(b, f, (i, j));
        }
    }
    out.into_iter().map(|x| x.expect("the pairs cover every element")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_cover_every_element_once() {
        for p in 1..=8 {
            // 32 codes fill `p` words.
            let n = 32;
            let mut seen = vec![0; n as usize];
            for (i, j) in pairs(n, p) {
                seen[i as usize] += 1;
                seen[j as usize] += 1;
            }
            assert!(seen.iter().all(|&c| c == 1), "p={p} n={n}");
        }
    }

    #[test]
    fn the_table_takes_what_is_exact() {
        let t = |s: &str| trick(s.parse().unwrap(), DType::F16);
        assert_eq!(t("u4"), Some(Trick::Int { bits: 4, signed: false }));
        assert_eq!(t("i8"), Some(Trick::Bytes { signed: true }));
        assert_eq!(t("f6e3m2"), Some(Trick::Float { exp: 3, man: 2 }));
        assert_eq!(t("f7e5m1"), None);
        assert_eq!(t("f8e4m3"), None);
        assert_eq!(trick(DType::Int { bits: 4, signed: false }, DType::BF16), None);
    }
}

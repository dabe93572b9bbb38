//! Scalar semantics of the thread-level IR on bit patterns (codes in a dtype's encoding).
//!
//! The rules are the tile language's (docs/dtypes.md, docs/language.md), re-implemented here on
//! codes with `tilec-dtype` (the interpreter's `interp::scalar` works on decoded values and is
//! private to it):
//! * floats: the exact result of `+ − × ÷ %` is computed in f64 and rounded once to the dtype
//!   (f64 carries at least 2p+2 bits of every narrower format, so the double rounding is innocuous);
//!   `fma` rounds once exactly (round-to-odd in f64, then to the dtype); `min`/`max` return the
//!   other operand when one is NaN and order -0 below +0 (PTX `min`/`max`); a NaN result is the
//!   dtype's canonical NaN (`neg` flips the sign bit instead);
//! * integers: results wrap to the width; `x / 0` is all ones and `x % 0 = x`; `MIN / -1` wraps;
//!   shift amounts of at least the width give 0 (or the sign for `shr` of a signed type), as PTX;
//! * bool: `and`/`min`, `or`/`max`, `xor`;
//! * casts: [`tilec_dtype::cast_bits`] (round to nearest even, float → int truncates and saturates,
//!   NaN → 0).

use super::ops::{BinOp, CmpOp, UnOp};
use tilec_dtype::{decode, decode_int, encode, DType};

fn mask(dt: DType) -> u64 {
    let bits = dt.bits();
    if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    }
}

fn wrap(dt: DType, v: i128) -> u64 {
    (v as u64) & mask(dt)
}

/// An operation without a result on these operands (e.g. a bitwise op on floats); the verifier
/// rejects such programs, so this is reported as an invalid program.
#[derive(Debug)]
pub struct Invalid(pub String);

/// `a op b` on codes of `dt`.
pub fn binary(op: BinOp, dt: DType, a: u64, b: u64) -> Result<u64, Invalid> {
    if dt.is_bool() {
        let (x, y) = (a & 1 == 1, b & 1 == 1);
        return Ok(match op {
            BinOp::And | BinOp::Min | BinOp::Mul => x && y,
            BinOp::Or | BinOp::Max => x || y,
            BinOp::Xor => x != y,
            _ => return Err(Invalid(format!("`{}` on bool", op.name()))),
        } as u64);
    }
    if dt.is_float() {
        let (x, y) = (decode(dt, a), decode(dt, b));
        let r = match op {
            BinOp::Add => x + y,
            BinOp::Sub => x - y,
            BinOp::Mul => x * y,
            BinOp::Div => x / y,
            BinOp::Rem => x % y,
            // -0 < +0 for min/max (PTX); f64::min leaves the sign of an equal zero open.
            BinOp::Min if x == 0.0 && y == 0.0 => if x.is_sign_negative() { x } else { y },
            BinOp::Max if x == 0.0 && y == 0.0 => if x.is_sign_negative() { y } else { x },
            BinOp::Min => x.min(y),
            BinOp::Max => x.max(y),
            _ => return Err(Invalid(format!("`{}` on {dt}", op.name()))),
        };
        return Ok(encode(dt, r));
    }
    let bits = dt.bits() as i128;
    let (x, y) = (decode_int(dt, a), decode_int(dt, b));
    let r: i128 = match op {
        BinOp::Add => x + y,
        BinOp::Sub => x - y,
        BinOp::Mul => x.wrapping_mul(y),
        BinOp::Div if y == 0 => -1,
        BinOp::Div => x / y,
        BinOp::Rem if y == 0 => x,
        BinOp::Rem => x % y,
        BinOp::Min => x.min(y),
        BinOp::Max => x.max(y),
        BinOp::And => x & y,
        BinOp::Or => x | y,
        BinOp::Xor => x ^ y,
        BinOp::Shl if y < 0 || y >= bits => 0,
        BinOp::Shl => x << y,
        // The amount is unsigned in PTX: a negative one is huge and clamps like any too large.
        BinOp::Shr if y < 0 || y >= bits => x >> 127,
        BinOp::Shr => x >> y,
    };
    Ok(wrap(dt, r))
}

/// A unary op on a code of `dt`.
pub fn unary(op: UnOp, dt: DType, a: u64) -> u64 {
    match op {
        UnOp::Not if dt.is_bool() => (a & 1) ^ 1,
        UnOp::Not => !a & mask(dt),
        // A sign flip (`neg.f32` flips the sign bit, also of zeros and infinities); e8m0 has no sign.
        UnOp::Neg if dt == DType::E8M0 => encode(dt, -decode(dt, a)),
        UnOp::Neg if dt.is_float() => a ^ (1u64 << (dt.bits() - 1)),
        UnOp::Neg => wrap(dt, -decode_int(dt, a)),
        UnOp::Abs if dt == DType::E8M0 => a,
        UnOp::Abs if dt.is_float() => a & !(1u64 << (dt.bits() - 1)),
        UnOp::Abs => wrap(dt, decode_int(dt, a).abs()),
        // The approximate functions are emulated correctly rounded; the hardware's `.approx` results
        // are within a few ulp of these (PTX ISA, "Floating-point instructions").
        UnOp::Sqrt => encode(dt, decode(dt, a).sqrt()),
        UnOp::Rsqrt => encode(dt, 1.0 / decode(dt, a).sqrt()),
        UnOp::Ex2 => encode(dt, decode(dt, a).exp2()),
        UnOp::Lg2 => encode(dt, decode(dt, a).log2()),
    }
}

/// The f64 nearest to `v` in the direction of `dir` (one ulp), for finite nonzero `v`.
fn step(v: f64, up: bool) -> f64 {
    let bits = v.to_bits();
    let away = (v > 0.0) == up; // moving away from zero increases the magnitude bits
    f64::from_bits(if away { bits + 1 } else { bits - 1 })
}

/// `a·b + c` rounded once to `dt`.
pub fn fma(dt: DType, a: u64, b: u64, c: u64) -> Result<u64, Invalid> {
    if dt.is_bool() {
        return Err(Invalid("`fma` on bool".into()));
    }
    if !dt.is_float() {
        let (x, y, z) = (decode_int(dt, a), decode_int(dt, b), decode_int(dt, c));
        return Ok(wrap(dt, x.wrapping_mul(y).wrapping_add(z)));
    }
    let (x, y, z) = (decode(dt, a), decode(dt, b), decode(dt, c));
    if dt == DType::F64 {
        return Ok(encode(dt, x.mul_add(y, z)));
    }
    // Every format narrower than f64 has at most 24 significant bits, so the product is exact in
    // f64; the sum is made round-to-odd (exact error by TwoSum), which f64's 53 bits then round
    // correctly to the narrow format.
    let p = x * y;
    let s = p + z;
    if s.is_finite() && s != 0.0 {
        let bb = s - p;
        let err = (p - (s - bb)) + (z - bb);
        if err != 0.0 && s.to_bits() & 1 == 0 {
            return Ok(encode(dt, step(s, err > 0.0)));
        }
    }
    Ok(encode(dt, s))
}

/// `a op b` on codes of `dt` (IEEE: NaN is unordered).
pub fn compare(op: CmpOp, dt: DType, a: u64, b: u64) -> bool {
    let ord = if dt.is_float() {
        decode(dt, a).partial_cmp(&decode(dt, b))
    } else {
        Some(decode_int(dt, a).cmp(&decode_int(dt, b)))
    };
    op.holds(ord)
}

/// `lop3.b32`: bit `i` of the result is bit `4·a_i + 2·b_i + c_i` of `lut` (so `lut = 0xF0` is `a`,
/// `0xCC` is `b`, `0xAA` is `c`, and a LUT is any expression of these three constants).
pub fn lop3(a: u32, b: u32, c: u32, lut: u8) -> u32 {
    let mut d = 0u32;
    for i in 0..32 {
        let idx = ((a >> i) & 1) << 2 | ((b >> i) & 1) << 1 | ((c >> i) & 1);
        d |= (((lut as u32) >> idx) & 1) << i;
    }
    d
}

/// `prmt.b32` in the default mode: byte `i` of the result is byte `sel[4i+2 : 4i]` of the eight
/// bytes `{b, a}` (bytes 0–3 are `a`'s, 4–7 `b`'s); if `sel[4i+3]` is set, the selected byte's sign
/// bit (bit 7) is replicated over the result byte instead.
pub fn prmt(a: u32, b: u32, sel: u32) -> u32 {
    let src = (a as u64) | ((b as u64) << 32);
    let mut d = 0u32;
    for i in 0..4 {
        let s = (sel >> (4 * i)) & 0xf;
        let byte = ((src >> (8 * (s & 7))) & 0xff) as u32;
        let out = if s & 8 != 0 {
            if byte & 0x80 != 0 {
                0xff
            } else {
                0
            }
        } else {
            byte
        };
        d |= out << (8 * i);
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lop3_luts() {
        let (a, b, c) = (0x1234_5678, 0x0f0f_0f0f, 0xff00_ff00);
        assert_eq!(lop3(a, b, c, 0xF0), a);
        assert_eq!(lop3(a, b, c, 0xCC), b);
        assert_eq!(lop3(a, b, c, 0xAA), c);
        assert_eq!(lop3(a, b, c, (0xF0 & 0xCC) | 0xAA), (a & b) | c);
        assert_eq!(lop3(a, b, c, 0xF0 ^ 0xCC ^ 0xAA), a ^ b ^ c);
    }

    #[test]
    fn prmt_default_mode() {
        let (a, b) = (0x4433_2211, 0x8877_6655);
        assert_eq!(prmt(a, b, 0x3210), a);
        assert_eq!(prmt(a, b, 0x7654), b);
        assert_eq!(prmt(a, b, 0x0123), 0x1122_3344);
        // sign replication of byte 7 (0x88, negative) and byte 0 (0x11, positive)
        assert_eq!(prmt(a, b, 0x8f00 | 0x0010), 0x00ff_2211);
    }

    #[test]
    fn fma_rounds_once() {
        // (1+2^-12)^2 = 1 + 2^-11 + 2^-24 is a tie between two f32s; adding 2^-80 puts the exact
        // result just above it, so it must round up. The f64 sum loses the 2^-80 (a naive double
        // rounding then ties to even, downwards); round-to-odd keeps it.
        let f = |v: f64| encode(DType::F32, v);
        let a = f(1.0 + 2f64.powi(-12));
        let r = fma(DType::F32, a, a, f(2f64.powi(-80))).unwrap();
        assert_eq!(decode(DType::F32, r), 1.0 + 2f64.powi(-11) + 2f64.powi(-23));
        let r = fma(DType::F32, a, a, f(-(2f64.powi(-80)))).unwrap();
        assert_eq!(decode(DType::F32, r), 1.0 + 2f64.powi(-11));
        let h = |v: f64| encode(DType::F16, v);
        let r = fma(DType::F16, h(1.0 + 2f64.powi(-10)), h(1.0), h(2f64.powi(-11))).unwrap();
        assert_eq!(decode(DType::F16, r), 1.0 + 2f64.powi(-9));
    }

    #[test]
    fn math_functions() {
        let f = |v: f32| u64::from(v.to_bits());
        assert_eq!(unary(UnOp::Abs, DType::F32, f(-0.0)), f(0.0));
        assert_eq!(unary(UnOp::Abs, DType::F32, f(f32::NEG_INFINITY)), f(f32::INFINITY));
        assert_eq!(unary(UnOp::Abs, DType::I32, 0x8000_0000), 0x8000_0000, "abs wraps the most negative");
        assert_eq!(unary(UnOp::Abs, DType::I8, 0xfb), 5);
        assert_eq!(unary(UnOp::Sqrt, DType::F32, f(2.0)), f(2.0f32.sqrt()), "correctly rounded");
        assert!(f32::from_bits(unary(UnOp::Sqrt, DType::F32, f(-1.0)) as u32).is_nan());
        assert_eq!(unary(UnOp::Rsqrt, DType::F32, f(0.25)), f(2.0));
        assert_eq!(unary(UnOp::Rsqrt, DType::F32, f(0.0)), f(f32::INFINITY));
        assert_eq!(unary(UnOp::Ex2, DType::F32, f(-3.0)), f(0.125));
        assert_eq!(unary(UnOp::Ex2, DType::F32, f(200.0)), f(f32::INFINITY));
        assert_eq!(unary(UnOp::Lg2, DType::F32, f(1024.0)), f(10.0));
        assert_eq!(unary(UnOp::Lg2, DType::F32, f(0.0)), f(f32::NEG_INFINITY));
    }

    #[test]
    fn integer_rules() {
        let i8t = DType::I8;
        assert_eq!(binary(BinOp::Add, i8t, 127, 1).unwrap(), 0x80);
        assert_eq!(binary(BinOp::Div, i8t, 5, 0).unwrap(), 0xff);
        assert_eq!(binary(BinOp::Rem, i8t, 5, 0).unwrap(), 5);
        assert_eq!(binary(BinOp::Div, i8t, 0x80, 0xff).unwrap(), 0x80);
        assert_eq!(binary(BinOp::Shr, i8t, 0x80, 9).unwrap(), 0xff);
        assert_eq!(binary(BinOp::Shr, DType::U8, 0x80, 9).unwrap(), 0);
        assert_eq!(binary(BinOp::Shl, DType::U32, 1, 32).unwrap(), 0);
        assert_eq!(binary(BinOp::Shl, DType::U32, 3, 31).unwrap(), 0x8000_0000);
        // A negative amount counts as a huge unsigned one.
        assert_eq!(binary(BinOp::Shr, i8t, 0x80, 0xff).unwrap(), 0xff);
        assert_eq!(binary(BinOp::Shr, i8t, 0x40, 0xff).unwrap(), 0);
        assert_eq!(unary(UnOp::Neg, DType::F16, 0x0000), 0x8000);
        assert_eq!(binary(BinOp::Min, DType::F16, 0x0000, 0x8000).unwrap(), 0x8000);
        assert_eq!(binary(BinOp::Max, DType::F16, 0x8000, 0x0000).unwrap(), 0x0000);
        assert_eq!(unary(UnOp::Neg, DType::F32, 0xff80_0000), 0x7f80_0000);
    }
}

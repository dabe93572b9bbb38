//! The cast matrix: every pair of a representative set of types, on every code of the narrow
//! source types and on boundary values of the wide ones, against reference semantics computed
//! independently (i128 arithmetic for integers, Rust `as` for f32/f64 and the wide integers, the
//! `half` crate for f16/bf16, the nearest-value search of `common` for narrow floats).

mod common;

use half::{bf16, f16};
use tilec_dtype::*;

const TYPES: &[&str] = &[
    "bool", "i1", "u1", "i3", "u3", "i4", "u4", "i8", "u8", "i16", "u16", "i32", "u32", "i64",
    "u64", "f16", "bf16", "tf32", "f32", "f64", "f8e4m3", "f8e5m2", "f6e3m2", "f6e2m3", "f4e2m1",
    "f3e1m1", "f5e4m0", "f8e3m4", "e8m0",
];

/// Source codes: every code of a narrow type; boundary values for the wide ones.
fn source_codes(dt: DType) -> Vec<u64> {
    if dt.bits() <= 8 {
        return (0..1u64 << dt.bits()).collect();
    }
    let mut codes = Vec::new();
    if dt.is_int() {
        let (lo, hi) = dt.int_range().unwrap();
        for v in [
            lo,
            lo + 1,
            hi,
            hi - 1,
            -1,
            0,
            1,
            2,
            7,
            8,
            127,
            128,
            255,
            256,
            -129,
            -128,
            448,
            449,
            465,
            57344,
            65504,
            65519,
            65520,
            1 << 24,
            (1 << 24) + 1,
            1 << 40,
            (1 << 53) + 1,
            i64::MAX as i128,
        ] {
            codes.push(encode_int(dt, v));
        }
    } else {
        for v in [
            0.0,
            1.0,
            0.5,
            2.5,
            3.5,
            127.5,
            128.0,
            255.9,
            256.0,
            300.7,
            448.0,
            464.0,
            465.0,
            6.0,
            5.0,
            0.25,
            0.3,
            65504.0,
            65520.0,
            1e5,
            2147483647.0,
            2147483648.0,
            4294967296.0,
            9.3e18,
            1.9e19,
            1e30,
            1e38,
            1e300,
            1e-3,
            1e-7,
            1e-30,
            1e-40,
            f64::INFINITY,
            f64::NAN,
            f64::MIN_POSITIVE,
        ] {
            codes.push(encode(dt, v));
            codes.push(encode(dt, -v));
        }
    }
    codes
}

/// What a value of exact integer `i` becomes in `to`.
fn from_int(to: DType, i: i128) -> f64 {
    match to {
        DType::Bool => (i != 0) as u8 as f64,
        DType::Int { .. } => {
            let (lo, hi) = to.int_range().unwrap();
            i.clamp(lo, hi) as f64
        }
        _ => from_float(to, i as f64), // every integer used here is exact in f64 or rounds the same
    }
}

/// What the exact float value `v` becomes in `to` (for f16/bf16/tf32, `v` must be exact in f32).
fn from_float(to: DType, v: f64) -> f64 {
    match to {
        DType::Bool => (v != 0.0 || v.is_nan()) as u8 as f64,
        DType::Int { .. } => {
            let (lo, hi) = to.int_range().unwrap();
            if v.is_nan() {
                0.0
            } else {
                (v.trunc().max(lo as f64).min(hi as f64)) as i128 as f64
            }
        }
        DType::F64 => v,
        DType::F32 => v as f32 as f64,
        DType::F16 => f16::from_f32(v as f32).to_f64(),
        DType::BF16 => bf16::from_f32(v as f32).to_f64(),
        DType::TF32 => {
            // tf32 = bf16's exponent with 10 mantissa bits: round the f32 value by hand
            let f = v as f32;
            if f.is_nan() || f.is_infinite() {
                return f as f64;
            }
            let b = f.to_bits();
            let keep = b & !0x1fff;
            let rest = b & 0x1fff;
            let up = rest > 0x1000 || (rest == 0x1000 && keep & 0x2000 != 0);
            f32::from_bits(if up { keep + 0x2000 } else { keep }) as f64
        }
        _ => common::ref_round(to, v),
    }
}

#[test]
fn cast_matrix() {
    let types: Vec<DType> = TYPES.iter().map(|t| t.parse().unwrap()).collect();
    let mut checked = 0;
    for &from in &types {
        for code in source_codes(from) {
            for &to in &types {
                let got = cast_bits(from, to, code);
                assert!(to.bits() == 64 || got >> to.bits() == 0);
                let want = if from.is_int() || from.is_bool() {
                    let i = decode_int(from, code);
                    if to.is_float()
                        && i.unsigned_abs() > 1 << 24
                        && !matches!(to, DType::F32 | DType::F64)
                    {
                        // f16/bf16/tf32 references go through f32: compare with the exact i128 rounding
                        // of `encode_int`, itself checked in tests/wide.rs
                        decode(to, encode_int(to, i))
                    } else {
                        from_int(to, i)
                    }
                } else {
                    let v = decode(from, code);
                    if matches!(to, DType::F16 | DType::BF16 | DType::TF32)
                        && v.is_finite()
                        && v as f32 as f64 != v
                    {
                        continue; // no double-rounding-free reference; f64 rounding is checked in wide.rs
                    }
                    from_float(to, v)
                };
                let got_v = if to.is_int() || to.is_bool() {
                    decode_int(to, got) as f64
                } else {
                    decode(to, got)
                };
                assert!(
                    common::same(got_v, want),
                    "cast {from} {code:#x} -> {to}: got {got_v} ({got:#x}), want {want}"
                );
                if want.is_nan() {
                    assert_eq!(Some(got), to.nan_code());
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 60_000, "{checked}");
}

#[test]
fn named_cast_rules() {
    let t = |s: &str| s.parse::<DType>().unwrap();
    // float -> int truncates toward zero and saturates; NaN -> 0
    assert_eq!(cast_bits(DType::F32, DType::I8, 2.9f32.to_bits() as u64), 2);
    assert_eq!(
        cast_bits(DType::F32, DType::I8, (-2.9f32).to_bits() as u64),
        (-2i8) as u8 as u64
    );
    assert_eq!(
        cast_bits(DType::F32, DType::I8, 1000f32.to_bits() as u64),
        127
    );
    assert_eq!(
        cast_bits(DType::F32, DType::U8, (-5f32).to_bits() as u64),
        0
    );
    assert_eq!(
        cast_bits(DType::F32, DType::I32, f32::NAN.to_bits() as u64),
        0
    );
    assert_eq!(cast_bits(t("f4e2m1"), t("u2"), 0x7), 3); // 6 -> 3
    assert_eq!(cast_bits(t("f4e2m1"), t("i2"), 0xf), 0b10); // -6 -> -2
                                                            // int narrowing saturates
    assert_eq!(cast_bits(DType::I32, DType::I8, 300), 127);
    assert_eq!(
        cast_bits(DType::I32, t("i4"), (-100i32) as u32 as u64),
        0b1000
    );
    assert_eq!(cast_bits(DType::I8, t("u4"), 0xff), 0); // -1 -> 0
    assert_eq!(cast_bits(t("u4"), t("i4"), 0xf), 0x7); // 15 -> 7
    assert_eq!(cast_bits(DType::Bool, t("i1"), 1), 0); // true (1) saturates to i1's max, 0
    assert_eq!(cast_bits(t("i1"), DType::Bool, 1), 1); // -1 is nonzero
                                                       // float -> float: once, from the exact value
    assert_eq!(
        cast_bits(DType::F32, t("f8e4m3"), 1000f32.to_bits() as u64),
        0x7e
    );
    assert_eq!(cast_bits(t("f8e5m2"), t("f8e4m3"), 0x7c), 0x7e); // inf -> max
    assert_eq!(cast_bits(t("f8e5m2"), t("f8e4m3"), 0x7d), 0x7f); // NaN -> canonical NaN
    assert_eq!(cast_bits(t("f8e4m3"), t("f4e2m1"), 0xff), 0); // NaN -> +0
    assert_eq!(cast_bits(t("f8e4m3"), DType::F16, 0x7e), 0x5f00); // 448
    assert_eq!(
        cast_bits(DType::F64, DType::F32, 0x7ff0_0000_0000_0001),
        0x7fc0_0000
    ); // sNaN quieted
    assert_eq!(cast_bits(t("f8e4m3"), DType::E8M0, 0x80), 0); // -0 -> 2^-127
}

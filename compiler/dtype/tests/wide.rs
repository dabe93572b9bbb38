//! Types wider than 8 bits: f16 and bf16 exhaustively against the `half` crate, f32 against Rust's
//! `as f32`, tf32 against a search over its two candidate neighbours, the wide integers against
//! Rust's saturating `as`, and integer-to-float rounding without double rounding.

use half::{bf16, f16};
use tilec_dtype::*;

mod common;
use common::same;

/// Pseudo-random f64 values over a wide exponent range, plus boundary values.
fn randoms(n: usize, emax: i32) -> Vec<f64> {
    let mut s = 0x853c49e6748fea9bu64;
    let mut out = vec![
        0.0,
        -0.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::MAX,
        f64::MIN,
        f64::MIN_POSITIVE,
        5e-324,
    ];
    for _ in 0..n {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        let mant = 1.0 + (s >> 11) as f64 / (1u64 << 53) as f64;
        let e = (s % (2 * emax as u64)) as i32 - emax;
        out.push(if s & 1 == 0 { mant } else { -mant } * 2f64.powi(e));
    }
    out
}

/// Every adjacent pair's midpoint and its f64 neighbours, for a 16-bit type.
fn midpoints(dt: DType) -> Vec<f64> {
    let mut vals: Vec<f64> = (0..1u64 << 16)
        .map(|c| decode(dt, c))
        .filter(|v| v.is_finite())
        .collect();
    vals.sort_by(f64::total_cmp);
    let mut out = Vec::new();
    for w in vals.windows(2) {
        let m = (w[0] + w[1]) / 2.0;
        out.extend([m, m.next_up(), m.next_down()]);
    }
    let top = vals[vals.len() - 1];
    let over = top + (top - vals[vals.len() - 2]) / 2.0; // the IEEE overflow threshold
    out.extend([
        over,
        over.next_down(),
        over.next_up(),
        -over,
        -over.next_down(),
    ]);
    out
}

#[test]
fn f16_all_codes_and_rounding_match_half() {
    for c in 0..1u64 << 16 {
        assert!(
            same(decode(DType::F16, c), f16::from_bits(c as u16).to_f64()),
            "{c:#x}"
        );
    }
    // half's from_f64 rounds through f32 (double rounding: -65488.00000000001 gives -65472 instead
    // of -65504), so it is the reference only for f32 inputs; f64 midpoints are checked exactly in
    // `midpoint_neighbours_round_outward`.
    for v in midpoints(DType::F16)
        .into_iter()
        .chain(randoms(200_000, 30))
    {
        let v = v as f32;
        let want = f16::from_f32(v);
        let got = encode(DType::F16, v as f64);
        if want.is_nan() {
            assert_eq!(got, 0x7e00);
        } else {
            assert_eq!(
                got,
                want.to_bits() as u64,
                "{v:e}: ours {got:#x} half {:#x}",
                want.to_bits()
            );
        }
    }
}

#[test]
fn bf16_all_codes_and_rounding_match_half() {
    for c in 0..1u64 << 16 {
        assert!(
            same(decode(DType::BF16, c), bf16::from_bits(c as u16).to_f64()),
            "{c:#x}"
        );
    }
    for v in midpoints(DType::BF16)
        .into_iter()
        .chain(randoms(200_000, 140))
    {
        let v = v as f32;
        let want = bf16::from_f32(v);
        let got = encode(DType::BF16, v as f64);
        if want.is_nan() {
            assert_eq!(got, 0x7fc0);
        } else {
            assert_eq!(
                got,
                want.to_bits() as u64,
                "{v:e}: ours {got:#x} half {:#x}",
                want.to_bits()
            );
        }
    }
}

#[test]
fn midpoint_neighbours_round_outward() {
    for dt in [DType::F16, DType::BF16] {
        let mut vals: Vec<f64> = (0..1u64 << 16)
            .map(|c| decode(dt, c))
            .filter(|v| v.is_finite())
            .collect();
        vals.sort_by(f64::total_cmp);
        vals.dedup();
        for w in vals.windows(2) {
            let (a, b) = (w[0], w[1]);
            let m = (a + b) / 2.0;
            assert_eq!(round(dt, m.next_up()), b, "{dt} {m:e}+");
            assert_eq!(round(dt, m.next_down()), a, "{dt} {m:e}-");
            let even = if encode(dt, a) & 1 == 0 { a } else { b };
            assert_eq!(round(dt, m), even, "{dt} {m:e}");
        }
    }
}

#[test]
fn f32_matches_rust_as() {
    let mut vals = randoms(300_000, 160);
    for x in [f32::MAX, f32::MIN_POSITIVE, f32::from_bits(1), 1.0f32] {
        let x = x as f64;
        let ulp = (x as f32).next_up() as f64 - x;
        vals.extend([
            x + ulp / 2.0,
            (x + ulp / 2.0).next_up(),
            (x + ulp / 2.0).next_down(),
            x / 2.0,
            -x,
        ]);
    }
    for v in vals {
        assert_eq!(encode(DType::F32, v), (v as f32).to_bits() as u64, "{v:e}");
        assert!(same(
            decode(DType::F32, encode(DType::F32, v)),
            v as f32 as f64
        ));
    }
    for c in (0..u32::MAX).step_by(65_521) {
        assert!(same(decode(DType::F32, c as u64), f32::from_bits(c) as f64));
    }
}

#[test]
fn tf32_is_f32_with_a_ten_bit_mantissa() {
    for v in randoms(300_000, 140) {
        let code = encode(DType::TF32, v);
        assert_eq!(code & 0x1fff, 0);
        let got = decode(DType::TF32, code);
        // reference: the candidates are the f32 truncation to 10 bits and the next tf32 value up
        let f = v as f32; // never crosses a tf32 boundary in a way that matters: checked via distance
        let lo = f32::from_bits(f.to_bits() & !0x1fff) as f64;
        let hi = f32::from_bits((f.to_bits() & !0x1fff) + 0x2000) as f64;
        if v.is_nan() {
            assert!(got.is_nan());
            continue;
        }
        if v.is_infinite() || v.abs() >= DType::TF32.max_finite() + 2f64.powi(116) {
            assert_eq!(
                got,
                if v > 0.0 {
                    f64::INFINITY
                } else {
                    f64::NEG_INFINITY
                },
                "{v:e}"
            );
            continue;
        }
        let (dl, dh) = ((v - lo).abs(), (hi - v).abs());
        let want = if dl < dh {
            lo
        } else if dh < dl {
            hi
        } else if (f.to_bits() >> 13) & 1 == 0 {
            lo
        } else {
            hi
        };
        assert!(
            same(got, want) || (got == 0.0 && want == 0.0),
            "{v:e}: {got:e} vs {want:e}"
        );
    }
}

#[test]
fn wide_integers_match_rust_as() {
    let mut vals = randoms(50_000, 70);
    for x in [
        i64::MAX as f64,
        i64::MIN as f64,
        u64::MAX as f64,
        2f64.powi(63),
        4294967295.5,
        -0.7,
        0.7,
        f64::NAN,
        2147483647.9,
        -2147483648.9,
    ] {
        vals.extend([x, x.next_up(), x.next_down()]);
    }
    for v in vals {
        let p = |dt: &str| encode(dt.parse().unwrap(), v);
        assert_eq!(p("i16"), v as i16 as u16 as u64, "{v}");
        assert_eq!(p("u16"), v as u16 as u64, "{v}");
        assert_eq!(p("i32"), v as i32 as u32 as u64, "{v}");
        assert_eq!(p("u32"), v as u32 as u64, "{v}");
        assert_eq!(p("i64"), v as i64 as u64, "{v}");
        assert_eq!(p("u64"), v as u64, "{v}");
    }
    assert_eq!(
        decode_int(DType::I64, encode_int(DType::I64, i64::MIN as i128)),
        i64::MIN as i128
    );
    assert_eq!(encode_int(DType::I64, i128::MAX), i64::MAX as u64);
    assert_eq!(encode_int(DType::U64, -1), 0);
    assert_eq!(decode(DType::U64, u64::MAX), 18446744073709551616.0); // rounded, documented
    assert_eq!(decode_int(DType::U64, u64::MAX), u64::MAX as i128);
    assert_eq!(decode(DType::I64, (1u64 << 53) + 1), 9007199254740992.0); // tie to even
}

#[test]
fn integers_round_to_floats_once() {
    // 2^60 + 2^52 + 1 is just above a bf16 tie; through f64 it would land on the tie and go down
    let x: i128 = (1 << 60) + (1 << 52) + 1;
    assert_eq!(
        decode(DType::BF16, encode_int(DType::BF16, x)),
        (1u64 << 60) as f64 + 2f64.powi(53)
    );
    assert_eq!(
        decode(DType::BF16, encode_int(DType::BF16, (1 << 60) + (1 << 52))),
        (1u64 << 60) as f64
    );
    let y: i128 = (1 << 60) + (1 << 36) + 1;
    assert_eq!(encode_int(DType::F32, y), (y as f32).to_bits() as u64);
    for v in [
        i128::MAX,
        i128::MIN,
        1 << 100,
        -(1 << 100) + 12345,
        16777217,
        -16777219,
        0,
        1,
        -1,
    ] {
        assert_eq!(
            encode_int(DType::F32, v),
            (v as f32).to_bits() as u64,
            "{v}"
        );
        assert_eq!(encode_int(DType::F64, v), (v as f64).to_bits(), "{v}");
    }
    assert_eq!(encode_int(DType::F16, 65519), 0x7bff);
    assert_eq!(encode_int(DType::F16, 65520), 0x7c00);
    assert_eq!(encode_int(DType::F16, -70000), 0xfc00);
    let e4m3: DType = "f8e4m3".parse().unwrap();
    assert_eq!(encode_int(e4m3, 1 << 100), 0x7e);
    assert_eq!(encode_int(e4m3, -465), 0xfe);
    assert_eq!(encode_int(DType::E8M0, 0), 0);
    assert_eq!(encode_int(DType::E8M0, 3), 129);
    assert_eq!(encode_int(DType::E8M0, i128::MAX), 254);
}

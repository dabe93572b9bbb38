//! Spot values straight from the OCP specifications (OCP 8-bit Floating Point Specification (OFP8)
//! rev 1.0 and OCP Microscaling Formats (MX) v1.0), IEEE 754 and the tf32 definition, hard-coded.

use tilec_dtype::*;

fn t(name: &str) -> DType {
    name.parse().unwrap()
}

#[test]
fn ofp8_e4m3() {
    let dt = t("f8e4m3");
    assert_eq!(dt.bias(), Some(7));
    assert_eq!(dt.max_finite(), 448.0); // S.1111.110
    assert_eq!(decode(dt, 0x7e), 448.0);
    assert_eq!(decode(dt, 0x77), 240.0); // 1.111 * 2^7
    assert_eq!(dt.smallest_normal(), Some(2f64.powi(-6))); // S.0001.000
    assert_eq!(dt.smallest_subnormal(), Some(2f64.powi(-9))); // S.0000.001
    assert_eq!(decode(dt, 0x07), 0.875 * 2f64.powi(-6)); // largest subnormal
    assert!(decode(dt, 0x7f).is_nan() && decode(dt, 0xff).is_nan()); // S.1111.111
    assert_eq!(decode(dt, 0x78), 256.0); // exponent 1111 is normal
    assert_eq!(decode(dt, 0x80).to_bits(), (-0.0f64).to_bits());
    assert!(!dt.has_inf());
    assert_eq!(encode(dt, 1.0), 0x38);
    assert_eq!(encode(dt, f64::INFINITY), 0x7e); // saturate (OFP8 SAT mode)
    assert_eq!(encode(dt, f64::NEG_INFINITY), 0xfe);
    assert_eq!(encode(dt, 464.0), 0x7e); // tie between 448 and (unrepresentable) 480 goes to even 448
    assert_eq!(encode(dt, 1e6), 0x7e);
    assert_eq!(encode(dt, f64::NAN), 0x7f);
}

#[test]
fn ofp8_e5m2() {
    let dt = t("f8e5m2");
    assert_eq!(dt.bias(), Some(15));
    assert_eq!(dt.max_finite(), 57344.0); // S.11110.11
    assert_eq!(decode(dt, 0x7b), 57344.0);
    assert_eq!(dt.smallest_normal(), Some(2f64.powi(-14)));
    assert_eq!(dt.smallest_subnormal(), Some(2f64.powi(-16)));
    assert_eq!(decode(dt, 0x7c), f64::INFINITY); // S.11111.00
    assert_eq!(decode(dt, 0xfc), f64::NEG_INFINITY);
    for c in [0x7d, 0x7e, 0x7f, 0xfd, 0xfe, 0xff] {
        assert!(decode(dt, c).is_nan());
    }
    assert_eq!(encode(dt, 1e9), 0x7b); // finite overflow saturates
    assert_eq!(encode(dt, -1e9), 0xfb);
    assert_eq!(encode(dt, f64::INFINITY), 0x7c); // inf stays inf
    assert_eq!(encode(dt, f64::NAN), 0x7e);
    assert_eq!(encode(dt, 1.5), 0x3e);
}

#[test]
fn mx_fp6_fp4() {
    let e3m2 = t("f6e3m2");
    assert_eq!(e3m2.bias(), Some(3));
    assert_eq!(e3m2.max_finite(), 28.0);
    assert_eq!(e3m2.smallest_normal(), Some(0.25));
    assert_eq!(e3m2.smallest_subnormal(), Some(0.0625));
    let e2m3 = t("f6e2m3");
    assert_eq!(e2m3.bias(), Some(1));
    assert_eq!(e2m3.max_finite(), 7.5);
    assert_eq!(e2m3.smallest_normal(), Some(1.0));
    assert_eq!(e2m3.smallest_subnormal(), Some(0.125));
    let e2m1 = t("f4e2m1");
    assert_eq!(e2m1.bias(), Some(1));
    assert_eq!(e2m1.max_finite(), 6.0);
    assert_eq!(e2m1.smallest_subnormal(), Some(0.5));
    // the eight FP4 magnitudes of the MX spec
    let mags: Vec<f64> = (0..8).map(|c| decode(e2m1, c)).collect();
    assert_eq!(mags, [0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0]);
    for dt in [e3m2, e2m3, e2m1] {
        assert!(!dt.has_inf() && !dt.has_nan());
        assert_eq!(encode(dt, f64::INFINITY), encode(dt, dt.max_finite()));
        assert_eq!(encode(dt, f64::NAN), 0);
    }
    assert_eq!(encode(e2m1, 5.0), 0x6); // tie between 4 (even significand) and 6
    assert_eq!(encode(e2m1, 2.5), 0x4); // tie between 2 and 3 goes to 2
    assert_eq!(encode(e2m1, 0.25), 0x0); // tie between 0 and 0.5 goes to 0
    assert_eq!(encode(e2m1, -0.25), 0x8); // ... keeping the sign
    assert_eq!(encode(e2m1, 0.2500001), 0x1);
}

#[test]
fn mx_e8m0() {
    let dt = DType::E8M0;
    assert_eq!(decode(dt, 127), 1.0);
    assert_eq!(decode(dt, 0), 2f64.powi(-127));
    assert_eq!(decode(dt, 254), 2f64.powi(127));
    assert!(decode(dt, 255).is_nan());
    assert_eq!(encode(dt, 1.5), 128); // ties go up (significand 1 is odd)
    assert_eq!(encode(dt, 1.4999), 127);
    assert_eq!(encode(dt, 3.0), 129);
    assert_eq!(encode(dt, 0.0), 0);
    assert_eq!(encode(dt, -5.0), 0);
    assert_eq!(encode(dt, f64::INFINITY), 254);
    assert_eq!(encode(dt, f64::NAN), 255);
    assert!(!dt.is_signed() && !dt.has_inf() && dt.has_nan());
}

#[test]
fn ieee_and_tf32() {
    assert_eq!(DType::F16.max_finite(), 65504.0);
    assert_eq!(DType::F16.smallest_subnormal(), Some(2f64.powi(-24)));
    assert_eq!(encode(DType::F16, 65519.99), 0x7bff);
    assert_eq!(encode(DType::F16, 65520.0), 0x7c00); // IEEE: tie at the overflow threshold -> inf
    assert_eq!(encode(DType::F16, f64::NAN), 0x7e00);
    assert_eq!(DType::BF16.max_finite(), 3.3895313892515355e38);
    assert_eq!(encode(DType::BF16, 1.0), 0x3f80);
    assert_eq!(encode(DType::BF16, f64::NAN), 0x7fc0);
    assert_eq!(encode(DType::F32, 1.0), 0x3f80_0000);
    assert_eq!(encode(DType::F32, f64::NAN), 0x7fc0_0000);
    assert_eq!(encode(DType::F64, f64::NAN), 0x7ff8_0000_0000_0000);
    // tf32: f32 layout, 10-bit mantissa, low 13 bits zero
    assert_eq!(encode(DType::TF32, 1.0), 0x3f80_0000);
    assert_eq!(encode(DType::TF32, 1.0 + 2f64.powi(-10)), 0x3f80_2000);
    assert_eq!(encode(DType::TF32, 1.0 + 2f64.powi(-11)), 0x3f80_0000); // tie to even
    assert_eq!(encode(DType::TF32, 1.0 + 3.0 * 2f64.powi(-11)), 0x3f80_4000); // tie to even (up)
    assert_eq!(decode(DType::TF32, 0x3f80_1fff), 1.0); // low bits ignored
    assert_eq!(
        DType::TF32.max_finite(),
        (2.0 - 2f64.powi(-10)) * 2f64.powi(127)
    );
    assert_eq!(DType::TF32.smallest_subnormal(), Some(2f64.powi(-136)));
    assert_eq!(encode(DType::TF32, 1e39), 0x7f80_0000);
    // f32/f64 metadata are Rust's constants
    assert_eq!(DType::F32.max_finite(), f32::MAX as f64);
    assert_eq!(DType::F32.min_finite(), f32::MIN as f64);
    assert_eq!(DType::F32.smallest_normal(), Some(f32::MIN_POSITIVE as f64));
    assert_eq!(
        DType::F32.smallest_subnormal(),
        Some(f32::from_bits(1) as f64)
    );
    assert_eq!(DType::F64.max_finite(), f64::MAX);
    assert_eq!(DType::F64.smallest_normal(), Some(f64::MIN_POSITIVE));
    assert_eq!(DType::F64.smallest_subnormal(), Some(5e-324));
    assert_eq!(DType::BF16.smallest_subnormal(), Some(2f64.powi(-133)));
    assert_eq!(DType::F16.inf_code(), Some(0x7c00));
    assert_eq!(DType::TF32.nan_code(), Some(0x7fc0_0000));
    assert_eq!(
        DType::I64.int_range(),
        Some((i64::MIN as i128, i64::MAX as i128))
    );
    assert_eq!(DType::U64.max_finite(), u64::MAX as f64);
    assert_eq!("i1".parse::<DType>().unwrap().int_range(), Some((-1, 0)));
}

//! The text of `tilec dtype`: descriptions, code tables and `--encode` lines.

use tilec_dtype::report::{describe, encode_text, encode_values, table, ReportError};
use tilec_dtype::*;

fn t(s: &str) -> DType {
    s.parse().unwrap()
}

fn field<'a>(text: &'a str, key: &str) -> &'a str {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}: ")))
        .unwrap_or_else(|| panic!("no `{key}` in\n{text}"))
}

#[test]
fn describe_e4m3() {
    let d = describe(t("f8e4m3"));
    for (k, v) in [
        ("type", "f8e4m3"),
        ("bits", "8"),
        ("signed", "yes"),
        ("exponent bits", "4"),
        ("mantissa bits", "3"),
        ("bias", "7"),
        ("min", "-448"),
        ("max", "448"),
        ("smallest subnormal", "0.001953125"),
        ("smallest normal", "0.015625"),
        ("infinities", "no"),
        ("nan", "yes (0x7f, 0xff; canonical 0x7f)"),
    ] {
        assert_eq!(field(&d, k), v, "{k}");
    }
    assert!(d.lines().all(|l| l.contains(": ")));
}

#[test]
fn describe_every_type() {
    let mut all = DType::all_narrow();
    all.extend([
        DType::F16,
        DType::BF16,
        DType::TF32,
        DType::F32,
        DType::F64,
        DType::I64,
        DType::U64,
        DType::I32,
    ]);
    for dt in all {
        let d = describe(dt);
        assert_eq!(field(&d, "type"), dt.to_string());
        assert_eq!(field(&d, "bits"), dt.bits().to_string());
        field(&d, "min");
        field(&d, "max");
        if dt.is_float() {
            for k in [
                "exponent bits",
                "mantissa bits",
                "bias",
                "smallest subnormal",
                "smallest normal",
                "infinities",
                "nan",
            ] {
                field(&d, k);
            }
        }
    }
    assert_eq!(field(&describe(t("i4")), "min"), "-8");
    assert_eq!(field(&describe(DType::U64), "max"), "18446744073709551615");
    assert_eq!(
        field(&describe(t("f8e5m2")), "infinities"),
        "yes (0x7c and 0xfc)"
    );
    assert_eq!(
        field(&describe(DType::F16), "nan"),
        "yes (0x7c01..=0x7fff, 0xfc01..=0xffff; canonical 0x7e00)"
    );
    assert_eq!(
        field(&describe(DType::E8M0), "max"),
        "170141183460469231731687303715884105728"
    );
}

#[test]
fn tables() {
    let tab = table(t("f8e4m3")).unwrap();
    let lines: Vec<&str> = tab.lines().collect();
    assert_eq!(lines.len(), 256);
    assert_eq!(lines[0], "0x00 0");
    assert_eq!(lines[1], "0x01 0.001953125");
    assert_eq!(lines[0x7e], "0x7e 448");
    assert_eq!(lines[0x7f], "0x7f nan");
    assert_eq!(lines[0x80], "0x80 -0");
    assert_eq!(lines[0xfe], "0xfe -448");
    assert!(table(t("f8e5m2")).unwrap().contains("0x7c inf\n"));
    assert!(table(t("f8e5m2")).unwrap().contains("0xfc -inf\n"));
    assert_eq!(
        table(t("u3")).unwrap(),
        "0x00 0\n0x01 1\n0x02 2\n0x03 3\n0x04 4\n0x05 5\n0x06 6\n0x07 7\n"
    );
    assert_eq!(
        table(t("i2")).unwrap(),
        "0x00 0\n0x01 1\n0x02 -2\n0x03 -1\n"
    );
    assert_eq!(table(DType::Bool).unwrap(), "0x00 0\n0x01 1\n");
    // every narrow type: one line per code, each value reading back to the code
    for dt in DType::all_narrow() {
        let tab = table(dt).unwrap();
        assert_eq!(tab.lines().count(), 1 << dt.bits());
        for (code, line) in tab.lines().enumerate() {
            let (hex, value) = line.split_once(' ').unwrap();
            assert_eq!(hex, format!("0x{code:02x}"));
            let back = encode_text(dt, value).unwrap();
            if is_nan(dt, code as u64) {
                assert_eq!(value, "nan");
            } else if !dt.is_bool() {
                assert_eq!(back, code as u64, "{dt} {line}");
            }
        }
    }
    let f16 = table(DType::F16).unwrap();
    assert_eq!(f16.lines().count(), 65536);
    assert!(f16.starts_with("0x0000 0\n0x0001 0.000000059604644775390625\n"));
    assert_eq!(
        table(DType::F32),
        Err(ReportError::TooWide {
            dtype: DType::F32,
            bits: 32
        })
    );
    assert!(table(DType::I64)
        .unwrap_err()
        .to_string()
        .contains("at most 16 bits"));
}

#[test]
fn encode_lines() {
    let out = encode_values(
        t("f8e4m3"),
        &[
            "1",
            "0.3",
            "1.0625",
            "1.0625000000000000000001",
            "500",
            "-inf",
            "nan",
            "-0",
            "1e-9",
        ],
    )
    .unwrap();
    assert_eq!(
        out,
        "1 -> 0x38 1\n0.3 -> 0x2a 0.3125\n1.0625 -> 0x38 1\n1.0625000000000000000001 -> 0x39 1.125\n500 -> 0x7e 448\n\
         -inf -> 0xfe -448\nnan -> 0x7f nan\n-0 -> 0x80 -0\n1e-9 -> 0x00 0\n"
    );
    // the decimal is rounded, not its nearest f64: these decimals are within half an f64 ulp of a tie
    let e2m1 = t("f4e2m1");
    assert_eq!(encode_text(e2m1, "2.5").unwrap(), 0x4);
    assert_eq!(encode_text(e2m1, "2.50000000000000000001").unwrap(), 0x5);
    assert_eq!(encode_text(e2m1, "-2.50000000000000000001").unwrap(), 0xd);
    assert_eq!(encode_text(e2m1, "2.49999999999999999999").unwrap(), 0x4);
    assert_eq!(encode_text(DType::F16, "65520").unwrap(), 0x7c00);
    assert_eq!(
        encode_text(DType::F16, "65519.9999999999999999999").unwrap(),
        0x7bff
    );
    assert_eq!(
        encode_text(DType::I8, "-2.999999999999999999999").unwrap(),
        0xfe
    );
    assert_eq!(
        encode_text(DType::U64, "18446744073709551615").unwrap(),
        u64::MAX
    );
    assert_eq!(
        encode_text(DType::I64, "9007199254740993").unwrap(),
        9007199254740993
    );
    assert_eq!(encode_text(DType::Bool, "1e-400").unwrap(), 1);
    assert_eq!(encode_text(DType::Bool, "-0.000").unwrap(), 0);
    assert_eq!(
        encode_values(t("u3"), &["9", "-1", "2.7"]).unwrap(),
        "9 -> 0x07 7\n-1 -> 0x00 0\n2.7 -> 0x02 2\n"
    );
    assert_eq!(
        encode_values(DType::F32, &["0.1"]).unwrap(),
        "0.1 -> 0x3dcccccd 0.100000001490116119384765625\n"
    );
    assert_eq!(encode_values(DType::E8M0, &["0.75", "0", "1e300"]).unwrap(), "0.75 -> 0x7f 1\n0 -> 0x00 0.0000000000000000000000000000000000000058774717541114375398436826861112283890933277838604376075437585313920862972736358642578125\n1e300 -> 0xfe 170141183460469231731687303715884105728\n");
}

#[test]
fn bad_inputs_are_errors() {
    let err = encode_values(t("f8e4m3"), &["1", "abc"]).unwrap_err();
    assert!(matches!(err, ReportError::BadValue { ref input, .. } if input == "abc"));
    assert!(err.to_string().contains("`abc`"));
    for bad in ["", "1.2.3", "0x10", "1e", "--1", "one"] {
        assert!(encode_text(DType::F16, bad).is_err(), "{bad}");
    }
    let err = "f8e4m4".parse::<DType>().unwrap_err().to_string();
    assert!(
        err.contains("valid forms") && err.contains("fNeXmY") && err.contains("e8m0"),
        "{err}"
    );
}

//! Exhaustive checks of every type of at most 8 bits against the independent reference in
//! `common`: decode tables, encode∘decode identity, and rounding of boundary-probing values.

mod common;

use common::*;
use tilec_dtype::*;

#[test]
fn every_narrow_type_is_covered() {
    // 1 bool + 16 integers + (1+2+...+7 = 28) small floats + e8m0
    assert_eq!(DType::all_narrow().len(), 1 + 16 + 28 + 1);
    for dt in DType::all_narrow() {
        assert!(dt.bits() <= 8);
        assert_eq!(dt.to_string().parse::<DType>().unwrap(), dt);
    }
}

#[test]
fn decode_tables_match_the_formula() {
    for dt in DType::all_narrow() {
        for code in 0..1u64 << dt.bits() {
            let (got, want) = (decode(dt, code), ref_decode(dt, code));
            assert!(same(got, want), "{dt} {code:#x}: {got} != {want}");
            // high bits beyond the type's width are ignored
            assert!(
                same(decode(dt, code | !0 << dt.bits()), want),
                "{dt} {code:#x} with high bits"
            );
            if dt.is_int() || dt.is_bool() {
                assert_eq!(decode_int(dt, code) as f64, want);
            }
        }
    }
}

#[test]
fn encode_decode_is_identity_on_every_code() {
    for dt in DType::all_narrow() {
        for code in 0..1u64 << dt.bits() {
            let v = decode(dt, code);
            let back = encode(dt, v);
            if v.is_nan() {
                assert!(is_nan(dt, code));
                assert_eq!(
                    Some(back),
                    dt.nan_code(),
                    "{dt} {code:#x}: every NaN maps to the canonical NaN"
                );
            } else {
                assert_eq!(back, code, "{dt} {code:#x} ({v})");
                assert_eq!(round(dt, v).to_bits(), v.to_bits());
            }
            if dt.is_int() || dt.is_bool() {
                assert_eq!(encode_int(dt, decode_int(dt, code)), code);
            }
        }
    }
}

#[test]
fn rounding_matches_nearest_search_on_probes() {
    let mut checked = 0usize;
    for dt in narrow_floats() {
        for v in probes(dt) {
            let want = ref_round(dt, v);
            let code = encode(dt, v);
            assert!(code < 1 << dt.bits());
            let got = decode(dt, code);
            assert!(
                same(got, want),
                "{dt}: {v:e} ({:#x}) rounds to {got} (code {code:#x}), want {want}",
                v.to_bits()
            );
            if want.is_nan() {
                assert_eq!(Some(code), dt.nan_code());
            }
            checked += 1;
        }
    }
    assert!(checked > 28 * 2000);
}

#[test]
fn integer_rounding_truncates_and_saturates() {
    for dt in DType::all_narrow().into_iter().filter(|t| t.is_int()) {
        let (lo, hi) = dt.int_range().unwrap();
        let mut vals = vec![
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            0.0,
            -0.0,
            1e300,
            -1e300,
        ];
        for i in lo - 3..=hi + 3 {
            let x = i as f64;
            vals.extend([
                x,
                x + 0.5,
                x - 0.5,
                x + 0.999,
                x - 0.999,
                x.next_up(),
                x.next_down(),
            ]);
        }
        for v in vals {
            let want = if v.is_nan() {
                0
            } else {
                (v.trunc().clamp(lo as f64, hi as f64)) as i128
            };
            assert_eq!(decode_int(dt, encode(dt, v)), want, "{dt} {v}");
        }
        for i in [i128::MIN, i128::MAX, lo - 1, hi + 1, -1000, 1000] {
            assert_eq!(
                decode_int(dt, encode_int(dt, i)),
                i.clamp(lo, hi),
                "{dt} {i}"
            );
        }
    }
}

#[test]
fn bool_is_nonzero() {
    for (v, b) in [
        (0.0, 0),
        (-0.0, 0),
        (1.0, 1),
        (-1e-300, 1),
        (f64::NAN, 1),
        (f64::NEG_INFINITY, 1),
        (0.4, 1),
    ] {
        assert_eq!(encode(DType::Bool, v), b, "{v}");
    }
    assert_eq!(encode_int(DType::Bool, 0), 0);
    assert_eq!(encode_int(DType::Bool, -7), 1);
    assert_eq!(decode(DType::Bool, 1), 1.0);
}

#[test]
fn metadata_matches_tables() {
    for dt in narrow_floats() {
        let vals = finite_values(dt);
        assert_eq!(dt.max_finite(), vals.last().unwrap().0, "{dt} max");
        assert_eq!(dt.min_finite(), vals[0].0, "{dt} min");
        let positive: Vec<f64> = vals.iter().map(|v| v.0).filter(|&v| v > 0.0).collect();
        let smallest = positive[0];
        match dt.smallest_subnormal() {
            Some(s) => assert_eq!(s, smallest, "{dt}"),
            None => assert_eq!(dt.smallest_normal(), Some(smallest), "{dt}"),
        }
        let n = (0..1u64 << dt.bits())
            .filter(|&c| ref_decode(dt, c).is_nan())
            .count();
        assert_eq!(dt.has_nan(), n > 0, "{dt}");
        let i = (0..1u64 << dt.bits())
            .filter(|&c| ref_decode(dt, c).is_infinite())
            .count();
        assert_eq!(dt.has_inf(), i > 0, "{dt}");
        assert_eq!(dt.is_signed(), dt != DType::E8M0);
        if let (Some(x), Some(y)) = (dt.exp_bits(), dt.man_bits()) {
            assert_eq!(1 + x + y, dt.bits() + (dt == DType::E8M0) as u32);
        }
    }
}

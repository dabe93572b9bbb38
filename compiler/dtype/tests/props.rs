//! Property tests: monotone, idempotent rounding for every type; packing round trips for every
//! element width with odd element counts; single-element access.

use proptest::prelude::*;
use tilec_dtype::pack::{get, pack, packed_len, set, unpack};
use tilec_dtype::*;

fn all_types() -> Vec<DType> {
    let mut v = DType::all_narrow();
    for bits in [16, 32, 64] {
        v.push(DType::Int { bits, signed: true });
        v.push(DType::Int {
            bits,
            signed: false,
        });
    }
    v.extend([DType::F16, DType::BF16, DType::TF32, DType::F32, DType::F64]);
    v
}

fn any_type() -> impl Strategy<Value = DType> {
    prop::sample::select(all_types())
}

/// f64 values spread over magnitudes from subnormal to huge, with special values.
fn any_value() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => -1.0e3f64..1.0e3,
        4 => (any::<bool>(), 1.0f64..2.0, -160i32..160).prop_map(|(neg, m, e)| if neg { -m } else { m } * 2f64.powi(e)),
        1 => any::<f64>(),
        1 => prop::sample::select(vec![0.0, -0.0, f64::INFINITY, f64::NEG_INFINITY, f64::MAX, f64::MIN, 5e-324]),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(20_000))]

    #[test]
    fn encode_is_monotone(dt in any_type(), a in any_value(), b in any_value()) {
        // bool (nonzero is true) is the one conversion that is not monotone
        prop_assume!(!dt.is_bool() && !a.is_nan() && !b.is_nan());
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        let (rl, rh) = (round(dt, lo), round(dt, hi));
        prop_assert!(rl <= rh, "{dt}: round({lo:e}) = {rl:e} > round({hi:e}) = {rh:e}");
    }

    #[test]
    fn rounding_is_idempotent(dt in any_type(), v in any_value()) {
        let r = round(dt, v);
        prop_assert_eq!(round(dt, r).to_bits(), r.to_bits());
        prop_assert!(dt.bits() == 64 || encode(dt, v) >> dt.bits() == 0);
        if dt.is_float() && !v.is_nan() && dt.has_nan() {
            prop_assert!(!r.is_nan());
        }
    }

    #[test]
    fn nan_goes_to_the_canonical_code(dt in any_type()) {
        let want = if dt.is_bool() { 1 } else { dt.nan_code().unwrap_or(0) };
        prop_assert_eq!(encode(dt, f64::NAN), want);
        prop_assert_eq!(encode(dt, -f64::NAN), want);
    }

    #[test]
    fn pack_round_trips(
        bits in prop::sample::select(vec![1u32, 2, 3, 4, 5, 6, 7, 8, 16, 32, 64]),
        raw in prop::collection::vec(any::<u64>(), 0..200),
        odd in any::<bool>(),
    ) {
        let mut codes: Vec<u64> = raw.iter().map(|c| if bits == 64 { *c } else { c & ((1u64 << bits) - 1) }).collect();
        if odd && codes.len().is_multiple_of(2) { codes.push(1); }
        let bytes = pack(bits, &codes);
        prop_assert_eq!(bytes.len(), packed_len(bits, codes.len()));
        prop_assert_eq!(bytes.len(), (bits as usize * codes.len()).div_ceil(8));
        prop_assert_eq!(&unpack(bits, &bytes, codes.len()).unwrap(), &codes);
        // padding bits of the last byte are zero
        let used = bits as usize * codes.len();
        if !used.is_multiple_of(8) {
            prop_assert_eq!(bytes[bytes.len() - 1] >> (used % 8), 0);
        }
        // bit k*n + j of the stream is bit j of element k
        for (k, &c) in codes.iter().enumerate().take(20) {
            for j in 0..bits as usize {
                let b = k * bits as usize + j;
                prop_assert_eq!((bytes[b / 8] >> (b % 8)) & 1, ((c >> j) & 1) as u8);
            }
            prop_assert_eq!(get(bits, &bytes, k), c);
        }
        // too short is an error
        if !bytes.is_empty() {
            prop_assert!(unpack(bits, &bytes[..bytes.len() - 1], codes.len()).is_err());
        }
    }

    #[test]
    fn set_touches_only_its_element(
        bits in prop::sample::select(vec![1u32, 2, 3, 4, 5, 6, 7, 8, 16, 32, 64]),
        fill in any::<u8>(),
        n in 1usize..50,
        code in any::<u64>(),
        idx in any::<prop::sample::Index>(),
    ) {
        let i = idx.index(n);
        let mut bytes = vec![fill; packed_len(bits, n)];
        let before = unpack(bits, &bytes, n).unwrap();
        set(bits, &mut bytes, i, code);
        let after = unpack(bits, &bytes, n).unwrap();
        for k in 0..n {
            let want = if k == i { if bits == 64 { code } else { code & ((1u64 << bits) - 1) } } else { before[k] };
            prop_assert_eq!(after[k], want);
        }
    }

    #[test]
    fn pack_values_round_trip(dt in any_type(), vals in prop::collection::vec(any_value(), 1..40)) {
        let bytes = pack_values(dt, &vals);
        let back = unpack_values(dt, &bytes, vals.len()).unwrap();
        for (v, b) in vals.iter().zip(&back) {
            let r = round(dt, *v);
            prop_assert!(r.to_bits() == b.to_bits() || (r.is_nan() && b.is_nan()));
        }
    }
}

#[test]
fn five_u3_values_pack_into_two_bytes() {
    // the worked example of docs/dtypes.md
    let bytes = pack(3, &[5, 3, 7, 0, 6]);
    assert_eq!(bytes, [0b1101_1101, 0b0110_0001]);
    assert_eq!(pack_ints("u3".parse().unwrap(), &[5, 3, 7, 0, 6]), bytes);
    assert_eq!(
        unpack_ints("u3".parse().unwrap(), &bytes, 5).unwrap(),
        [5, 3, 7, 0, 6]
    );
    assert_eq!(
        unpack_ints("i3".parse().unwrap(), &bytes, 5).unwrap(),
        [-3, 3, -1, 0, -2]
    );
    assert_eq!(
        unpack(3, &bytes[..1], 5),
        Err(PackError::TooShort {
            bits: 3,
            numel: 5,
            needed: 2,
            got: 1
        })
    );
    assert_eq!(unpack(0, &bytes, 1), Err(PackError::BadWidth(0)));
}

#[test]
fn wide_packing_is_little_endian() {
    assert_eq!(pack(16, &[0x1234, 0xabcd]), [0x34, 0x12, 0xcd, 0xab]);
    assert_eq!(pack(32, &[0x0102_0304]), [4, 3, 2, 1]);
    assert_eq!(
        pack_values(DType::F16, &[1.0, -2.0]),
        [0x00, 0x3c, 0x00, 0xc0]
    );
    assert_eq!(pack_values(DType::F32, &[1.0]), 1.0f32.to_le_bytes());
    assert_eq!(pack_values(DType::F64, &[0.1]), 0.1f64.to_le_bytes());
    assert_eq!(
        pack_ints(DType::I16, &[-2, 70000]),
        [0xfe, 0xff, 0xff, 0x7f]
    );
    assert_eq!(
        pack_values("f4e2m1".parse().unwrap(), &[1.0, -6.0, 0.5]),
        [0xf2, 0x01]
    );
    assert_eq!(
        pack_ints(DType::Bool, &[1, 0, 5, 0, 0, 0, 0, 0, 1]),
        [0b0000_0101, 0b1]
    );
}

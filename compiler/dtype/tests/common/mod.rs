//! Reference semantics written independently of the library's bit manipulation: decoding by the
//! textbook formula, rounding by searching the sorted value list. Shared by several test files.
#![allow(dead_code)]

use tilec_dtype::DType;

/// The value of `code` by the formula of docs/dtypes.md, special cases spelled out per format.
pub fn ref_decode(dt: DType, code: u64) -> f64 {
    match dt {
        DType::Bool => (code & 1) as f64,
        DType::Int { bits, signed } => {
            let c = (code & ((1u128 << bits) - 1) as u64) as i128;
            (if signed && c >= 1 << (bits - 1) {
                c - (1 << bits)
            } else {
                c
            }) as f64
        }
        DType::E8M0 => {
            let c = code & 0xff;
            if c == 0xff {
                f64::NAN
            } else {
                2f64.powi(c as i32 - 127)
            }
        }
        DType::SmallFloat { exp, man } => {
            let (x, y) = (exp as u32, man as u32);
            let n = 1 + x + y;
            let c = code & ((1 << n) - 1);
            let neg = c >> (n - 1) & 1 == 1;
            let e = (c >> y) & ((1 << x) - 1);
            let m = c & ((1 << y) - 1);
            let bias = 2i32.pow(x - 1) - 1;
            let frac = m as f64 / 2f64.powi(y as i32);
            let v = if (x, y) == (4, 3) && c & 0x7f == 0x7f {
                f64::NAN
            } else if (x, y) == (5, 2) && e == 31 {
                if m == 0 {
                    f64::INFINITY
                } else {
                    f64::NAN
                }
            } else if e == 0 {
                frac * 2f64.powi(1 - bias)
            } else {
                (1.0 + frac) * 2f64.powi(e as i32 - bias)
            };
            if neg {
                -v
            } else {
                v
            }
        }
        _ => panic!("no reference decoder for {dt}"),
    }
}

/// Same value, same sign of zero, or both NaN.
pub fn same(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || a.to_bits() == b.to_bits()
}

/// The finite values of a narrow float format, sorted, each with its canonical code.
pub fn finite_values(dt: DType) -> Vec<(f64, u64)> {
    let mut v: Vec<(f64, u64)> = (0..1u64 << dt.bits())
        .map(|c| (ref_decode(dt, c), c))
        .filter(|(x, _)| x.is_finite())
        .collect();
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    v
}

/// Smallest normal exponent of a narrow float format (e8m0 has no subnormals: -127).
fn emin(dt: DType) -> i32 {
    match dt {
        DType::E8M0 => -127,
        DType::SmallFloat { exp, .. } => 2 - 2i32.pow(exp as u32 - 1),
        _ => unreachable!(),
    }
}

/// Significand of |a| as an integer in units of a's quantum.
fn significand(dt: DType, a: f64) -> u64 {
    let a = a.abs();
    if a == 0.0 {
        return 0;
    }
    let y = dt.man_bits().unwrap() as i32;
    let e = (a.log2().floor() as i32).max(emin(dt));
    (a / 2f64.powi(e - y)) as u64
}

/// What `v` becomes in the narrow float format `dt` by the documented rules, found by search: nearest
/// value, a tie goes to the neighbour whose significand (in the smaller neighbour's quantum) is even,
/// i.e. to the smaller one when its significand is even, else to the larger; overflow saturates
/// (e5m2 keeps ±inf for ±inf inputs); NaN gives NaN or +0; e8m0 clamps everything below its range,
/// zero and negatives included, to 2^-127.
pub fn ref_round(dt: DType, v: f64) -> f64 {
    let vals = finite_values(dt);
    let has_nan = (0..1u64 << dt.bits()).any(|c| ref_decode(dt, c).is_nan());
    let has_inf = (0..1u64 << dt.bits()).any(|c| ref_decode(dt, c).is_infinite());
    if v.is_nan() {
        return if has_nan { f64::NAN } else { 0.0 };
    }
    if v.is_infinite() && has_inf {
        return v;
    }
    let (lo, hi) = (vals[0].0, vals[vals.len() - 1].0);
    if v >= hi {
        return hi;
    }
    if v <= lo {
        return lo;
    }
    let i = vals.partition_point(|&(x, _)| x <= v); // vals[i-1] <= v < vals[i]
    let (a, b) = (vals[i - 1].0, vals[i].0);
    let r = if v == a {
        a
    } else {
        let mid = (a + b) / 2.0;
        if v < mid {
            a
        } else if v > mid {
            b
        } else {
            let (small, large) = if a.abs() < b.abs() || (a.abs() == b.abs() && a == 0.0) {
                (a, b)
            } else {
                (b, a)
            };
            if significand(dt, small).is_multiple_of(2) {
                small
            } else {
                large
            }
        }
    };
    if r == 0.0 {
        // zero keeps the sign of the input
        if v.is_sign_negative() {
            -0.0
        } else {
            0.0
        }
    } else {
        r
    }
}

/// Values that probe every rounding boundary of a narrow float format: every value and its f64
/// neighbours, every midpoint and its neighbours, far out of range, tiny, zeros, inf, NaN.
pub fn probes(dt: DType) -> Vec<f64> {
    let vals: Vec<f64> = finite_values(dt).into_iter().map(|(v, _)| v).collect();
    let mut out = vec![
        0.0,
        -0.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        1e300,
        -1e300,
        1e-300,
        -1e-300,
        f64::from_bits(1),
        -f64::from_bits(1),
    ];
    for w in vals.windows(2) {
        let (a, b) = (w[0], w[1]);
        let mid = (a + b) / 2.0;
        out.extend([
            a,
            a.next_up(),
            a.next_down(),
            mid,
            mid.next_up(),
            mid.next_down(),
            b.next_down(),
        ]);
        out.extend([a + (b - a) * 0.25, a + (b - a) * 0.75]);
    }
    let (lo, hi) = (vals[0], vals[vals.len() - 1]);
    for x in [hi, -lo] {
        out.extend([
            x * 1.0001,
            x * 1.5,
            x * 2.0,
            x * 1e10,
            -x * 1.0001,
            -x * 1.5,
            -x * 2.0,
        ]);
    }
    // pseudo-random values over a wide exponent range
    let mut s = 0x9e3779b97f4a7c15u64 ^ dt.bits() as u64;
    for _ in 0..2000 {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        let mant = 1.0 + (s >> 11) as f64 / (1u64 << 53) as f64;
        let e = (s % 300) as i32 - 150;
        let sign = if s & 1 == 0 { 1.0 } else { -1.0 };
        out.push(sign * mant * 2f64.powi(e));
    }
    out
}

/// Every narrow float type the references cover.
pub fn narrow_floats() -> Vec<DType> {
    let mut v = DType::all_small_floats();
    v.push(DType::E8M0);
    v
}

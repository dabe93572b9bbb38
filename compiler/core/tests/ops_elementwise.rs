//! Math functions, `where` and `fma` against independent references on ragged inputs.

mod ops_common;
use ops_common::*;
use rand::Rng;
use tilec_core::interp::Arg;
use tilec_dtype::DType;

fn run_unary(src: &str, dt_in: DType, dt_out: DType, x: &[f64]) -> Vec<f64> {
    let k = kernel(src);
    let n = x.len();
    let (mut xb, mut yb) = (pack(dt_in, x), poison(dt_out, n));
    run(&k, &mut [Arg::Tensor(&mut xb), Arg::Tensor(&mut yb)], &[n as i64]);
    unpack(dt_out, &yb, n)
}

fn math_src(f: &str, dt: &str) -> String {
    format!(
        "kernel k(x: global {dt}[N], y: global {dt}[N]) grid(cdiv(N, 128)) {{
    let i = block.x * 128;
    store(y[i..], {f}(load(x[i..], [128])));
}}"
    )
}

#[test]
fn f32_math_against_std_f32() {
    let mut r = rng(11);
    let n = 1000;
    let pos: Vec<f64> = (0..n).map(|_| r.random_range(1e-6f32..1e4) as f64).collect();
    let any: Vec<f64> = (0..n).map(|_| r.random_range(-80.0f32..80.0) as f64).collect();
    // sqrt, abs, neg are exact: equal to the correctly rounded f32 results.
    let y = run_unary(&math_src("sqrt", "f32"), DType::F32, DType::F32, &pos);
    for (x, y) in pos.iter().zip(&y) {
        assert_eq!(*y as f32, (*x as f32).sqrt());
    }
    for (f, g) in [("abs", f32::abs as fn(f32) -> f32), ("neg", |x: f32| -x)] {
        let y = run_unary(&math_src(f, "f32"), DType::F32, DType::F32, &any);
        for (x, y) in any.iter().zip(&y) {
            assert_eq!((*y as f32).to_bits(), g(*x as f32).to_bits(), "{f}({x})");
        }
    }
    // Transcendental: within 1 ulp of Rust's f32 functions (libm); both are within an ulp of exact.
    type F = fn(f32) -> f32;
    let cases: [(&str, F, &[f64]); 5] = [
        ("exp", f32::exp, &any),
        ("exp2", f32::exp2, &any),
        ("log", f32::ln, &pos),
        ("log2", f32::log2, &pos),
        ("rsqrt", |x: f32| 1.0 / x.sqrt(), &pos),
    ];
    for (f, g, xs) in cases {
        let y = run_unary(&math_src(f, "f32"), DType::F32, DType::F32, xs);
        for (x, y) in xs.iter().zip(&y) {
            assert!(ulps32(*y as f32, g(*x as f32)) <= 1, "{f}({x}) = {y}, std gives {}", g(*x as f32));
        }
    }
}

#[test]
fn f16_sqrt_and_exp_round_once() {
    let mut r = rng(12);
    let xs = random(&mut r, DType::F16, 777, 10.0);
    let pos: Vec<f64> = xs.iter().map(|x| x.abs()).collect();
    let y = run_unary(&math_src("sqrt", "f16"), DType::F16, DType::F16, &pos);
    for (x, y) in pos.iter().zip(&y) {
        // f32 sqrt is correctly rounded and 24 >= 2*11 + 2 bits, so rounding it to f16 is too.
        assert_eq!(*y, tilec_dtype::round(DType::F16, (*x as f32).sqrt() as f64), "sqrt({x})");
    }
    let y = run_unary(&math_src("exp", "f16"), DType::F16, DType::F16, &xs);
    for (x, y) in xs.iter().zip(&y) {
        let want = tilec_dtype::round(DType::F16, (*x as f32).exp() as f64);
        let ulp = tilec_dtype::round(DType::F16, want * (1.0 + 1.0 / 1024.0)) - want;
        assert!((y - want).abs() <= ulp.abs().max(1e-7), "exp({x}) = {y}, want {want}");
    }
}

#[test]
fn abs_and_neg_of_integers_wrap() {
    let src = "kernel k(x: global i8[N], y: global i8[N], z: global i8[N]) grid(cdiv(N, 64)) {
    let i = block.x * 64;
    let v = load(x[i..], [64]);
    store(y[i..], abs(v));
    store(z[i..], neg(v));
}";
    let k = kernel(src);
    let xs: Vec<i128> = (-128..128).collect();
    let n = xs.len();
    let (mut xb, mut yb, mut zb) = (pack_i(DType::I8, &xs), poison(DType::I8, n), poison(DType::I8, n));
    run(&k, &mut [Arg::Tensor(&mut xb), Arg::Tensor(&mut yb), Arg::Tensor(&mut zb)], &[n as i64]);
    let (y, z) = (unpack_i(DType::I8, &yb, n), unpack_i(DType::I8, &zb, n));
    for i in 0..n {
        assert_eq!(y[i], (xs[i] as i8).wrapping_abs() as i128);
        assert_eq!(z[i], (xs[i] as i8).wrapping_neg() as i128);
    }
}

#[test]
fn where_broadcasts_condition_and_literals() {
    let src = "kernel k(x: global f32[M, N], t: global f32[N], y: global f32[M, N]) grid(cdiv(M, 8), cdiv(N, 16)) {
    let r = block.x * 8;
    let c = block.y * 16;
    let v = load(x[r.., c..], [8, 16]);
    let th = load(t[c..], [16]);
    store(y[r.., c..], where(v > th, v, 0.5) + where(true, 1.0, v));
}";
    let k = kernel(src);
    let (m, n) = (21, 37);
    let mut r = rng(13);
    let x = random(&mut r, DType::F32, m * n, 1.0);
    let t = random(&mut r, DType::F32, n, 1.0);
    let (mut xb, mut tb, mut yb) = (pack(DType::F32, &x), pack(DType::F32, &t), poison(DType::F32, m * n));
    run(&k, &mut [Arg::Tensor(&mut xb), Arg::Tensor(&mut tb), Arg::Tensor(&mut yb)], &[m as i64, n as i64]);
    let y = unpack(DType::F32, &yb, m * n);
    for i in 0..m {
        for j in 0..n {
            let v = x[i * n + j] as f32;
            let want = (if v > t[j] as f32 { v } else { 0.5 }) + 1.0;
            assert_eq!(y[i * n + j] as f32, want);
        }
    }
}

#[test]
fn fma_f32_matches_hardware_fused_multiply_add() {
    let src = "kernel k(a: global f32[N], b: global f32[N], c: global f32[N], y: global f32[N]) grid(cdiv(N, 100)) {
    let i = block.x * 100;
    store(y[i..], fma(load(a[i..], [100]), load(b[i..], [100]), load(c[i..], [100])));
}";
    let k = kernel(src);
    let n = 5003;
    let mut r = rng(14);
    // Hard cases: c close to -a*b so that the product's low bits decide the rounding.
    let a: Vec<f32> = (0..n).map(|_| r.random_range(-2.0f32..2.0)).collect();
    let b: Vec<f32> = (0..n).map(|_| r.random_range(-2.0f32..2.0)).collect();
    let c: Vec<f32> = (0..n)
        .map(|i| match i % 3 {
            0 => -(a[i] * b[i]),
            1 => r.random_range(-1e-7f32..1e-7),
            _ => -(a[i] * b[i]) * (1.0 + f32::EPSILON * r.random_range(-4.0f32..4.0)),
        })
        .collect();
    let f = |v: &[f32]| pack(DType::F32, &v.iter().map(|&x| x as f64).collect::<Vec<_>>());
    let (mut ab, mut bb, mut cb, mut yb) = (f(&a), f(&b), f(&c), poison(DType::F32, n));
    run(&k, &mut [Arg::Tensor(&mut ab), Arg::Tensor(&mut bb), Arg::Tensor(&mut cb), Arg::Tensor(&mut yb)], &[n as i64]);
    let y = unpack(DType::F32, &yb, n);
    for i in 0..n {
        assert_eq!((y[i] as f32).to_bits(), a[i].mul_add(b[i], c[i]).to_bits(), "fma({}, {}, {})", a[i], b[i], c[i]);
    }
}

/// The value of `dt` nearest to `num / 2^scale` (ties to the even code), by exhaustive search over
/// every code of a narrow type: an independent reference for the small formats.
fn nearest_code(dt: DType, num: i128, scale: i32) -> f64 {
    let mut best: Option<(i128, u64, f64)> = None;
    for code in 0..(1u64 << dt.bits()) {
        let v = tilec_dtype::decode(dt, code);
        if !v.is_finite() {
            continue;
        }
        let vn = (v * 2f64.powi(scale)) as i128;
        assert_eq!(vn as f64, v * 2f64.powi(scale));
        let d = (vn - num).abs();
        let better = match best {
            None => true,
            Some((bd, bc, _)) => d < bd || (d == bd && code & 1 == 0 && bc & 1 == 1),
        };
        if better {
            best = Some((d, code, v));
        }
    }
    best.unwrap().2
}

#[test]
fn fma_small_floats_round_once() {
    for dt in ["f8e4m3", "f8e5m2", "f6e3m2", "f4e2m1"] {
        let dtype: DType = dt.parse().unwrap();
        let src = format!(
            "kernel k(a: global {dt}[N], b: global {dt}[N], c: global {dt}[N], y: global {dt}[N]) grid(cdiv(N, 64)) {{
    let i = block.x * 64;
    store(y[i..], fma(load(a[i..], [64]), load(b[i..], [64]), load(c[i..], [64])));
}}"
        );
        let k = kernel(&src);
        let n = 2000;
        let mut r = rng(15);
        let max = dtype.max_finite().min(16.0);
        let (a, b, c) = (random(&mut r, dtype, n, max), random(&mut r, dtype, n, max), random(&mut r, dtype, n, max));
        let (mut ab, mut bb, mut cb, mut yb) = (pack(dtype, &a), pack(dtype, &b), pack(dtype, &c), poison(dtype, n));
        run(&k, &mut [Arg::Tensor(&mut ab), Arg::Tensor(&mut bb), Arg::Tensor(&mut cb), Arg::Tensor(&mut yb)], &[n as i64]);
        let y = unpack(dtype, &yb, n);
        let s = |x: f64| (x * 1024.0) as i128; // every value of these formats is a multiple of 2^-10
        for i in 0..n {
            let num = s(a[i]) * s(b[i]) + s(c[i]) * 1024;
            let want = nearest_code(dtype, num, 20);
            assert!(y[i] == want || (y[i] == 0.0 && want == 0.0), "{dt}: fma({}, {}, {}) = {}, want {want}", a[i], b[i], c[i], y[i]);
        }
    }
}

#[test]
fn two_argument_max_min_stay_elementwise() {
    let src = "kernel k(x: global f32[N], y: global f32[N], z: global f32[N], s: global f32[N]) grid(cdiv(N, 32)) {
    let i = block.x * 32;
    let a = load(x[i..], [32]);
    let b = load(y[i..], [32]);
    store(z[i..], max(a, b) - min(a, 0.0));
    store(s[i..], zeros<f32>[32] + max(a) + where(block.x == 0, 0.0, 1.0));
}";
    let k = kernel(src);
    let n = 45;
    let mut r = rng(16);
    let (x, y) = (random(&mut r, DType::F32, n, 3.0), random(&mut r, DType::F32, n, 3.0));
    let (mut xb, mut yb, mut zb, mut sb) = (pack(DType::F32, &x), pack(DType::F32, &y), poison(DType::F32, n), poison(DType::F32, n));
    run(&k, &mut [Arg::Tensor(&mut xb), Arg::Tensor(&mut yb), Arg::Tensor(&mut zb), Arg::Tensor(&mut sb)], &[n as i64]);
    let (z, s) = (unpack(DType::F32, &zb, n), unpack(DType::F32, &sb, n));
    for i in 0..n {
        assert_eq!(z[i] as f32, x[i].max(y[i]) as f32 - x[i].min(0.0) as f32);
        let blk = i / 32;
        // the block's max includes the masked-off zeros of the last, partial block
        let mut m = x[blk * 32..(blk * 32 + 32).min(n)].iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        if blk * 32 + 32 > n {
            m = m.max(0.0);
        }
        assert_eq!(s[i], m + blk as f64, "s[{i}]");
    }
}

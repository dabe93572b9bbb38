//! Reductions and `cumsum` against references computed in i128 / exact f64 on ragged inputs.

mod ops_common;
use ops_common::*;
use rand::Rng;
use tilec_core::interp::Arg;
use tilec_dtype::DType;

/// Rows of x reduced along dim 1 (and dim 0 per column block), masked-off elements being zero.
#[test]
fn sum_max_min_along_each_dim_f32() {
    let src = "kernel k(x: global f32[M, N], rs: global f32[M], rmax: global f32[M], cmin: global f32[1, N], tot: global f32[1])
    grid(cdiv(M, 16)) {
    let r = block.x * 16;
    let v = load(x[r.., ..], [16, 64]);
    store(rs[r..], sum(v, dim: 1));
    store(rmax[r..], max(v, dim: -1));
    let cm = min(v, dim: 0, keepdim: true);
    let first = zeros<f32>[1] + sum(v);
    store(tot, first);
    store(cmin[block.x.., ..], cm);
}";
    let k = kernel(src);
    let (m, n) = (16, 50); // one block so the full-sum store is deterministic; N < 64 leaves zeros
    let mut r = rng(21);
    let x = random(&mut r, DType::F32, m * n, 100.0);
    let (mut xb, mut a, mut b, mut c, mut d) =
        (pack(DType::F32, &x), poison(DType::F32, m), poison(DType::F32, m), poison(DType::F32, n), poison(DType::F32, 1));
    run(&k, &mut [Arg::Tensor(&mut xb), Arg::Tensor(&mut a), Arg::Tensor(&mut b), Arg::Tensor(&mut c), Arg::Tensor(&mut d)], &[m as i64, n as i64]);
    let (rs, rmax, cmin, tot) = (unpack(DType::F32, &a, m), unpack(DType::F32, &b, m), unpack(DType::F32, &c, n), unpack(DType::F32, &d, 1));
    // Exact reference: f32 values in [-100, 100] are multiples of 2^-149; scale by 2^40 after
    // checking that every input is a multiple of 2^-40 (values above 2^-17 in magnitude are).
    let s = |v: f64| {
        let t = v * 2f64.powi(40);
        assert_eq!(t.fract(), 0.0);
        t as i128
    };
    let to_f32 = |nn: i128| (nn as f64 * 2f64.powi(-40)) as f32; // |nn| < 2^53: exact then one rounding
    let mut all = 0i128;
    for i in 0..m {
        let row = &x[i * n..(i + 1) * n];
        let exact: i128 = row.iter().map(|&v| s(v)).sum();
        all += exact;
        assert_eq!(rs[i] as f32, to_f32(exact), "row {i}");
        // 14 masked-off zeros take part in the max of a 64-wide tile
        let mx = row.iter().cloned().fold(0.0f64, f64::max);
        assert_eq!(rmax[i], mx);
    }
    for j in 0..n {
        let mn = (0..m).map(|i| x[i * n + j]).fold(f64::INFINITY, f64::min);
        assert_eq!(cmin[j], mn);
    }
    assert_eq!(tot[0] as f32, to_f32(all));
}

#[test]
fn integer_sums_wrap_and_unsigned_max() {
    let src = "kernel k(x: global i8[N], u: global u64[N], s: global i8[1], m: global u64[1], n: global i64[1]) {
    let v = load(x, [300]);
    let w = load(u, [300]);
    store(s, zeros<i8>[1] + sum(v));
    store(m, zeros<u64>[1] + max(w));
    store(n, zeros<i64>[1] + sum(cast<i64>(v)));
}";
    let k = kernel(src);
    let nn = 293;
    let mut r = rng(22);
    let x: Vec<i128> = (0..nn).map(|_| r.random_range(-128..128)).collect();
    let u: Vec<i128> = (0..nn).map(|_| r.random::<u64>() as i128).collect();
    let (mut xb, mut ub, mut sb, mut mb, mut nb) = (pack_i(DType::I8, &x), pack_i(DType::U64, &u), poison(DType::I8, 1), poison(DType::U64, 1), poison(DType::I64, 1));
    run(&k, &mut [Arg::Tensor(&mut xb), Arg::Tensor(&mut ub), Arg::Tensor(&mut sb), Arg::Tensor(&mut mb), Arg::Tensor(&mut nb)], &[nn as i64]);
    let exact: i128 = x.iter().sum();
    assert_eq!(unpack_i(DType::I8, &sb, 1)[0], exact.rem_euclid(256) - if exact.rem_euclid(256) >= 128 { 256 } else { 0 });
    assert_eq!(unpack_i(DType::U64, &mb, 1)[0], *u.iter().max().unwrap());
    assert_eq!(unpack_i(DType::I64, &nb, 1)[0], exact);
}

#[test]
fn any_all_and_nan_ignoring_max() {
    let src = "kernel k(x: global f32[4, 8], mx: global f32[4], mn: global f32[4], an: global bool[4], al: global bool[4]) {
    let v = load(x, [4, 8]);
    store(mx, max(v, dim: 1));
    store(mn, min(v, dim: 1));
    store(an, any(v > 1.0, dim: 1));
    store(al, all(v > 1.0, dim: 1));
}";
    let k = kernel(src);
    let nan = f64::NAN;
    let x = [
        [nan, 1.0, 5.0, nan, -3.0, 2.0, 2.0, 0.5],
        [nan; 8],
        [2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0],
        [f64::NEG_INFINITY, -1.0, -2.0, -3.0, -4.0, -5.0, -6.0, f64::INFINITY],
    ];
    let flat: Vec<f64> = x.iter().flatten().cloned().collect();
    let (mut xb, mut a, mut b, mut c, mut d) = (pack(DType::F32, &flat), poison(DType::F32, 4), poison(DType::F32, 4), poison(DType::Bool, 4), poison(DType::Bool, 4));
    run(&k, &mut [Arg::Tensor(&mut xb), Arg::Tensor(&mut a), Arg::Tensor(&mut b), Arg::Tensor(&mut c), Arg::Tensor(&mut d)], &[]);
    let (mx, mn) = (unpack(DType::F32, &a, 4), unpack(DType::F32, &b, 4));
    assert_eq!(mx[0], 5.0);
    assert_eq!(mn[0], -3.0);
    assert!(mx[1].is_nan() && mn[1].is_nan());
    assert_eq!((mx[2], mn[2]), (9.0, 2.0));
    assert_eq!((mx[3], mn[3]), (f64::INFINITY, f64::NEG_INFINITY));
    assert_eq!(unpack_i(DType::Bool, &c, 4), vec![1, 0, 1, 1]);
    assert_eq!(unpack_i(DType::Bool, &d, 4), vec![0, 0, 1, 0]);
}

#[test]
fn cumsum_is_sequential_with_rounding_each_step() {
    let src = "kernel k(x: global f16[M, N], y: global f16[M, N], z: global i32[M, N]) grid(cdiv(M, 4)) {
    let r = block.x * 4;
    let v = load(x[r.., ..], [4, 40]);
    store(y[r.., ..], cumsum(v, dim: 1));
    store(z[r.., ..], cumsum(cast<i32>(v * 1000.0), dim: 0));
}";
    let k = kernel(src);
    let (m, n) = (13, 37);
    let mut r = rng(23);
    let x = random(&mut r, DType::F16, m * n, 30.0);
    let (mut xb, mut yb, mut zb) = (pack(DType::F16, &x), poison(DType::F16, m * n), poison(DType::I32, m * n));
    run(&k, &mut [Arg::Tensor(&mut xb), Arg::Tensor(&mut yb), Arg::Tensor(&mut zb)], &[m as i64, n as i64]);
    let (y, z) = (unpack(DType::F16, &yb, m * n), unpack_i(DType::I32, &zb, m * n));
    for i in 0..m {
        let mut acc = 0.0f32; // f16 + f16 is exact in f32, so rounding the f32 sum to f16 is one rounding
        for j in 0..n {
            acc = tilec_dtype::round(DType::F16, (acc + x[i * n + j] as f32) as f64) as f32;
            assert_eq!(y[i * n + j], acc as f64, "y[{i},{j}]");
        }
    }
    // Down the columns within each block of 4 rows.
    for j in 0..n {
        let mut acc = 0i128;
        for i in 0..m {
            if i % 4 == 0 {
                acc = 0;
            }
            let v = tilec_dtype::round(DType::F16, x[i * n + j] * 1000.0).trunc() as i128;
            acc += v;
            assert_eq!(z[i * n + j], acc, "z[{i},{j}]");
        }
    }
}

#[test]
fn float_sum_is_exact_then_rounded_once() {
    let src = "kernel k(x: global f32[3, 4], y: global f32[3], h: global bf16[4], z: global bf16[1]) {
    store(y, sum(load(x, [3, 4]), dim: 1));
    store(z, zeros<bf16>[1] + sum(load(h, [4])));
}";
    let k = kernel(src);
    let p = |e: i32| 2f64.powi(e);
    let x = [
        p(60), 1.0, -p(60), 0.0, // exactly 1 (in-order f64 accumulation gives 0)
        1.0, p(-24), p(-100), 0.0, // a tie broken by 2^-100: 1 + 2^-23
        -0.0, -0.0, -0.0, -0.0, // all negative zeros: -0
    ];
    // bf16: 1 + 2^-8 is a tie between 1 and 1 + 2^-7; -2^-30 + 2^-30 cancels, so it stays a tie -> 1.
    let h = [1.0, p(-8), p(-30), -p(-30)];
    let (mut xb, mut yb, mut hb, mut zb) = (pack(DType::F32, &x), poison(DType::F32, 3), pack(DType::BF16, &h), poison(DType::BF16, 1));
    run(&k, &mut [Arg::Tensor(&mut xb), Arg::Tensor(&mut yb), Arg::Tensor(&mut hb), Arg::Tensor(&mut zb)], &[]);
    let y = unpack(DType::F32, &yb, 3);
    assert_eq!(y[0], 1.0);
    assert_eq!(y[1], 1.0 + p(-23));
    assert!(y[2] == 0.0 && y[2].is_sign_negative());
    assert_eq!(unpack(DType::BF16, &zb, 1)[0], 1.0);
}

#[test]
fn keepdim_without_dim_and_scalar_results() {
    let src = "kernel k(x: global i32[3, 5], a: global i32[1, 1], s: global i32[1], r: global i32[1]) {
    let v = load(x, [3, 5]);
    store(a, sum(v, keepdim: true));
    store(s, zeros<i32>[1] + min(v));
    store(r, squeeze(sum(sum(v, dim: 1, keepdim: true), dim: 0, keepdim: true), 0));
}";
    let k = kernel(src);
    let x: Vec<i128> = (0..15).map(|i| i * i - 40).collect();
    let (mut xb, mut ab, mut sb, mut rb) = (pack_i(DType::I32, &x), poison(DType::I32, 1), poison(DType::I32, 1), poison(DType::I32, 1));
    run(&k, &mut [Arg::Tensor(&mut xb), Arg::Tensor(&mut ab), Arg::Tensor(&mut sb), Arg::Tensor(&mut rb)], &[]);
    let total: i128 = x.iter().sum();
    assert_eq!(unpack_i(DType::I32, &ab, 1), vec![total]);
    assert_eq!(unpack_i(DType::I32, &sb, 1), vec![*x.iter().min().unwrap()]);
    assert_eq!(unpack_i(DType::I32, &rb, 1), vec![total]);
}

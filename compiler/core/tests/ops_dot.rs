//! `dot`: against i128 / exact references, ragged sizes, and the tiled GEMM speed requirement.

mod ops_common;
use ops_common::*;
use rand::Rng;
use tilec_core::interp::Arg;
use tilec_dtype::DType;

const GEMM: &str = "
kernel gemm<BM: int = 64, BN: int = 64, BK: int = 32>(a: global f16[M, K], b: global f16[K, N], c: global f32[M, N])
    grid(cdiv(N, BN), cdiv(M, BM)) warps(4)
{
    let m0 = block.y * BM;
    let n0 = block.x * BN;
    let acc = zeros<f32>[BM, BN];
    for k in range(0, K, BK) {
        let x = load(a[m0.., k..], [BM, BK]);
        let y = load(b[k.., n0..], [BK, BN]);
        acc = dot(x, y, acc);
    }
    store(c[m0.., n0..], acc);
}
";

/// The tiled GEMM's result, computed independently in integers: f16 values are multiples of 2^-24,
/// so products and the f32 accumulator are integer multiples of 2^-48 (checked); each `dot` call adds
/// one K-tile of exact products to the accumulator and rounds once to f32.
fn reference(a: &[f64], b: &[f64], k: usize, n: usize, bk: usize, i: usize, j: usize) -> f32 {
    let s24 = |x: f64| (x * (1u64 << 24) as f64) as i128;
    let mut acc = 0.0f32;
    for k0 in (0..k).step_by(bk) {
        let scaled = acc as f64 * 2f64.powi(48);
        assert_eq!(scaled.fract(), 0.0);
        let mut nn = scaled as i128;
        for p in k0..(k0 + bk).min(k) {
            nn += s24(a[i * k + p]) * s24(b[p * n + j]);
        }
        acc = i128_to_f32(nn);
    }
    acc
}

/// Rounds N·2^-48 to f32 independently of the interpreter: integer arithmetic then one conversion
/// of an exact value (N fits in 2^53 for these inputs, checked).
fn i128_to_f32(nn: i128) -> f32 {
    i128_scaled_to_f32(nn, 48)
}

/// Rounds N·2^-scale to f32 (round to odd on 26 bits, then one rounding).
fn i128_scaled_to_f32(nn: i128, scale: i32) -> f32 {
    assert!(nn.unsigned_abs() < 1u128 << 100);
    // Split into a 2^53-exact head? Use f64 only when exact; otherwise round manually via shifts.
    let mag = nn.unsigned_abs();
    let bits = 128 - mag.leading_zeros();
    let shift = bits.saturating_sub(26); // keep 26 bits: 24 + guard + sticky
    let mut top = (mag >> shift) as u64;
    if mag & ((1u128 << shift) - 1) != 0 {
        top |= 1; // sticky (round to odd on the extra bits)
    }
    let v = (top as f64) * 2f64.powi(shift as i32 - scale); // exact: top < 2^26
    let v = v as f32; // one correct rounding from a round-to-odd value with 2 extra bits
    if nn < 0 { -v } else { v }
}

fn run_gemm(m: usize, n: usize, k: usize, seed: u64, defines: &[(&str, &str)]) -> (Vec<f32>, Vec<f64>, Vec<f64>) {
    let kern = kernel_with(GEMM, defines);
    let mut rng = rng(seed);
    let a = random(&mut rng, DType::F16, m * k, 2.0);
    let b = random(&mut rng, DType::F16, k * n, 2.0);
    let (mut ab, mut bb) = (pack(DType::F16, &a), pack(DType::F16, &b));
    let mut cb = poison(DType::F32, m * n);
    // dims in order of first appearance: M, K, N
    run(&kern, &mut [Arg::Tensor(&mut ab), Arg::Tensor(&mut bb), Arg::Tensor(&mut cb)], &[m as i64, k as i64, n as i64]);
    let c: Vec<f32> = cb.chunks(4).map(|x| f32::from_le_bytes(x.try_into().unwrap())).collect();
    (c, a, b)
}

#[test]
fn gemm_256_f16_is_fast_and_exactly_rounded() {
    let (m, n, k) = (256, 256, 256);
    let t = std::time::Instant::now();
    let (c, a, b) = run_gemm(m, n, k, 1, &[]);
    let secs = t.elapsed().as_secs_f64();
    eprintln!("interpreted 256x256x256 f16 GEMM (64x64x32 tiles, 16 blocks): {:.3} s", secs);
    assert!(secs < 2.0, "GEMM took {secs} s");
    let mut f64_err = 0.0f64;
    let mut exact = 0usize;
    for i in 0..m {
        for j in 0..n {
            let want = reference(&a, &b, k, n, 32, i, j);
            exact += (c[i * n + j] == want) as usize;
            let r64: f64 = (0..k).map(|p| a[i * k + p] * b[p * n + j]).sum();
            f64_err = f64_err.max((r64 - c[i * n + j] as f64).abs());
            assert_eq!(c[i * n + j], want, "c[{i},{j}]");
        }
    }
    assert!(f64_err < 1e-3, "{f64_err}");
    assert_eq!(exact, m * n, "every output is the exact sum rounded once");
}

#[test]
fn gemm_ragged_sizes_are_masked() {
    for (m, n, k, seed) in [(70, 33, 45, 2), (1, 1, 1, 3), (65, 129, 31, 4)] {
        let (c, a, b) = run_gemm(m, n, k, seed, &[("BM", "32"), ("BN", "16"), ("BK", "16")]);
        for i in 0..m {
            for j in 0..n {
                let want = reference(&a, &b, k, n, 16, i, j);
                assert_eq!(c[i * n + j], want, "{m}x{n}x{k}: c[{i},{j}]");
            }
        }
    }
}

#[test]
fn dot_rounds_once_to_f32() {
    // 1 + 2^-30 + 2^-30: the exact sum is 1 + 2^-29, which rounds to 1 in f32; summing in f32 step by
    // step would also give 1. But 2^24 + 1 + 1 (rows of ones) shows the single rounding: the exact
    // 2^24 + 2 is representable, while per-step f32 rounding gives 2^24.
    let src = "
kernel k(a: global f32[4, 4], b: global f32[4, 4], c: global f32[4, 4]) {
    let x = load(a, [4, 4]);
    let y = load(b, [4, 4]);
    store(c, dot(x, y));
}";
    let kern = kernel(src);
    let mut a = vec![0.0f64; 16];
    let mut b = vec![0.0f64; 16];
    a[0] = 16777216.0;
    a[1] = 1.0;
    a[2] = 1.0;
    b[0] = 1.0;
    b[4] = 1.0;
    b[8] = 1.0;
    let (mut ab, mut bb, mut cb) = (pack(DType::F32, &a), pack(DType::F32, &b), poison(DType::F32, 16));
    run(&kern, &mut [Arg::Tensor(&mut ab), Arg::Tensor(&mut bb), Arg::Tensor(&mut cb)], &[]);
    let c = unpack(DType::F32, &cb, 16);
    assert_eq!(c[0], 16777218.0);
    assert_eq!(&c[1..4], &[0.0, 0.0, 0.0]);

    // Order independence: 2^60 + 1 - 2^60 is exactly 1 (f64 accumulation in order would give 0),
    // and 2^-100 survives next to 1 + 2^-24 - 1 (the exact sum 2^-24 + 2^-100 rounds to itself
    // plus nothing in f32, but decides a tie in the second row).
    let mut a = vec![0.0f64; 16];
    a[0] = 2f64.powi(60);
    a[1] = 1.0;
    a[2] = -(2f64.powi(60));
    // row 1: 1 + 2^-24 (a tie between 1 and 1 + 2^-23) + 2^-100 → rounds up to 1 + 2^-23
    a[4] = 1.0;
    a[5] = 2f64.powi(-24);
    a[6] = 2f64.powi(-100);
    let (mut ab, mut bb, mut cb) = (pack(DType::F32, &a), pack(DType::F32, &b), poison(DType::F32, 16));
    run(&kern, &mut [Arg::Tensor(&mut ab), Arg::Tensor(&mut bb), Arg::Tensor(&mut cb)], &[]);
    let c = unpack(DType::F32, &cb, 16);
    assert_eq!(c[0], 1.0);
    assert_eq!(c[4], 1.0 + 2f64.powi(-23));
}

#[test]
fn dot_of_f32_is_the_exact_sum_rounded_once() {
    // f32 inputs with 24-bit significands and spread exponents: the f64 sum is almost never exact.
    let src = "
kernel k(a: global f32[M, K], b: global f32[K, N], s: global f32[M, N], c: global f32[M, N]) grid(cdiv(M, 8), cdiv(N, 8)) {
    let x = load(a[block.x * 8.., ..], [8, 64]);
    let y = load(b[.., block.y * 8..], [64, 8]);
    let acc = load(s[block.x * 8.., block.y * 8..], [8, 8]);
    store(c[block.x * 8.., block.y * 8..], dot(x, y, acc));
}";
    let kern = kernel(src);
    let (m, k, n) = (21, 57, 19);
    let mut r = rng(6);
    // value = integer in (-2^24, 2^24) times 2^-(24 + e), e in 0..20: a multiple of 2^-44.
    let mut gen = |cnt: usize| -> Vec<f64> {
        (0..cnt).map(|_| r.random_range(-(1i64 << 24) + 1..1i64 << 24) as f64 * 2f64.powi(-24 - r.random_range(0..20))).collect()
    };
    let (a, b, acc) = (gen(m * k), gen(k * n), gen(m * n));
    let (mut ab, mut bb, mut sb, mut cb) = (pack(DType::F32, &a), pack(DType::F32, &b), pack(DType::F32, &acc), poison(DType::F32, m * n));
    run(&kern, &mut [Arg::Tensor(&mut ab), Arg::Tensor(&mut bb), Arg::Tensor(&mut sb), Arg::Tensor(&mut cb)], &[m as i64, k as i64, n as i64]);
    let c = unpack(DType::F32, &cb, m * n);
    let s44 = |v: f64| (v * 2f64.powi(44)) as i128;
    let mut f64_differs = 0;
    for i in 0..m {
        for j in 0..n {
            let nn: i128 = s44(acc[i * n + j]) * (1i128 << 44) + (0..k).map(|p| s44(a[i * k + p]) * s44(b[p * n + j])).sum::<i128>();
            let want = i128_scaled_to_f32(nn, 88);
            assert_eq!(c[i * n + j] as f32, want, "c[{i},{j}]");
            let seq: f64 = (0..k).fold(acc[i * n + j], |s, p| s + a[i * k + p] * b[p * n + j]);
            f64_differs += (seq as f32 != want) as usize;
        }
    }
    eprintln!("{f64_differs} of {} outputs differ from in-order f64 accumulation", m * n);
}

#[test]
fn dot_of_small_floats_and_bf16() {
    for dt in ["bf16", "f8e4m3", "f8e5m2", "f4e2m1", "tf32"] {
        let src = format!(
            "
kernel k(a: global {dt}[M, K], b: global {dt}[K, N], c: global f32[M, N]) grid(cdiv(M, 16)) {{
    let x = load(a[block.x * 16.., ..], [16, 8]);
    let y = load(b, [8, 8]);
    store(c[block.x * 16.., ..], dot(x, y));
}}"
        );
        let dtype: DType = dt.parse().unwrap();
        let kern = kernel(&src);
        let (m, k, n) = (37, 7, 5);
        let mut r = rng(9);
        let a = random(&mut r, dtype, m * k, 4.0);
        let b = random(&mut r, dtype, k * n, 4.0);
        let (mut ab, mut bb, mut cb) = (pack(dtype, &a), pack(dtype, &b), poison(DType::F32, m * n));
        run(&kern, &mut [Arg::Tensor(&mut ab), Arg::Tensor(&mut bb), Arg::Tensor(&mut cb)], &[m as i64, k as i64, n as i64]);
        let c = unpack(DType::F32, &cb, m * n);
        for i in 0..m {
            for j in 0..n {
                // Exact: products of these formats are dyadic with few bits, their sums fit f32 exactly.
                let want: f64 = (0..k).map(|p| a[i * k + p] * b[p * n + j]).sum::<f64>() as f32 as f64;
                assert_eq!(c[i * n + j], want, "{dt} c[{i},{j}]");
            }
        }
    }
}

#[test]
fn dot_of_integers_wraps_in_i32() {
    for dt in ["i8", "u8", "i4", "i32"] {
        let src = format!(
            "
kernel k(a: global {dt}[M, K], b: global {dt}[K, N], acc: global i32[M, N], c: global i32[M, N]) grid(cdiv(M, 8)) {{
    let x = load(a[block.x * 8.., ..], [8, 32]);
    let y = load(b, [32, 16]);
    let s = load(acc[block.x * 8.., ..], [8, 16]);
    store(c[block.x * 8.., ..], dot(x, y, s));
}}"
        );
        let dtype: DType = dt.parse().unwrap();
        let (lo, hi) = dtype.int_range().unwrap();
        let kern = kernel(&src);
        let (m, k, n) = (19, 29, 13);
        let mut r = rng(5);
        let a: Vec<i128> = (0..m * k).map(|_| r.random_range(lo..=hi)).collect();
        let b: Vec<i128> = (0..k * n).map(|_| r.random_range(lo..=hi)).collect();
        let acc: Vec<i128> = (0..m * n).map(|_| r.random_range(i32::MIN as i128..=i32::MAX as i128)).collect();
        let (mut ab, mut bb, mut sb, mut cb) = (pack_i(dtype, &a), pack_i(dtype, &b), pack_i(DType::I32, &acc), poison(DType::I32, m * n));
        run(&kern, &mut [Arg::Tensor(&mut ab), Arg::Tensor(&mut bb), Arg::Tensor(&mut sb), Arg::Tensor(&mut cb)], &[m as i64, k as i64, n as i64]);
        let c = unpack_i(DType::I32, &cb, m * n);
        for i in 0..m {
            for j in 0..n {
                let exact: i128 = acc[i * n + j] + (0..k).map(|p| a[i * k + p] * b[p * n + j]).sum::<i128>();
                let want = exact.rem_euclid(1 << 32);
                let want = if want >= 1 << 31 { want - (1 << 32) } else { want };
                assert_eq!(c[i * n + j], want, "{dt} c[{i},{j}]");
            }
        }
    }
}

#[test]
fn dot_exact_sum_spans_the_whole_f32_range() {
    let src = "
kernel k(a: global f32[4, 4], b: global f32[4, 4], c: global f32[4, 4]) {
    store(c, dot(load(a, [4, 4]), load(b, [4, 4])));
}";
    let kern = kernel(src);
    let p = |e: i32| 2f64.powi(e);
    // c[i, 0] = Σ_k a[i, k] * b[k, 0] with b[.., 0] = [1, 1, 2^-75, 2^-149].
    let mut b = vec![0.0; 16];
    b[0] = 1.0;
    b[4] = 1.0;
    b[8] = p(-75);
    b[12] = p(-149);
    let a = [
        [p(100), -p(100), 0.0, p(-149)],  // 2^100 - 2^100 + 2^-298: rounds to +0
        [0.0, 0.0, p(-75), 0.0],          // 2^-150: a tie between 0 and 2^-149, to even: 0
        [0.0, 0.0, p(-75), p(-149)],      // 2^-150 + 2^-298: just above the tie: 2^-149
        [p(127), p(127), 0.0, 0.0],       // 2^128: overflows to +inf
    ];
    let flat: Vec<f64> = a.iter().flatten().cloned().collect();
    let (mut ab, mut bb, mut cb) = (pack(DType::F32, &flat), pack(DType::F32, &b), poison(DType::F32, 16));
    run(&kern, &mut [Arg::Tensor(&mut ab), Arg::Tensor(&mut bb), Arg::Tensor(&mut cb)], &[]);
    let c = unpack(DType::F32, &cb, 16);
    assert!(c[0] == 0.0 && c[0].is_sign_positive());
    assert_eq!(c[4], 0.0);
    assert_eq!(c[8], p(-149));
    assert_eq!(c[12], f64::INFINITY);
}

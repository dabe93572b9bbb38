//! Shape operations, `arange` and `view<T>` against index formulas and bit-level references.

mod ops_common;
use ops_common::*;
use rand::Rng;
use tilec_core::interp::Arg;
use tilec_dtype::DType;

fn ints(n: usize) -> Vec<i128> {
    (0..n as i128).map(|i| i * 7 - 300).collect()
}

#[test]
fn transpose_permute_reshape_squeeze_unsqueeze() {
    let src = "kernel k(x: global i32[6, 4], t: global i32[4, 6], p: global i32[3, 4, 2], r: global i32[8, 3], q: global i32[6, 4]) {
    let v = load(x, [6, 4]);
    store(t, transpose(v));
    let v3 = reshape(v, [2, 3, 4]);
    store(p, permute(v3, [1, 2, 0]));
    store(r, reshape(v, [8, 3]));
    let u = unsqueeze(v, 1);
    let s = squeeze(u, -2);
    store(q, s + squeeze(unsqueeze(v, 0), 0) - v);
}";
    let k = kernel(src);
    let x = ints(24);
    let (mut xb, mut tb, mut pb, mut rb, mut qb) = (pack_i(DType::I32, &x), poison(DType::I32, 24), poison(DType::I32, 24), poison(DType::I32, 24), poison(DType::I32, 24));
    run(&k, &mut [Arg::Tensor(&mut xb), Arg::Tensor(&mut tb), Arg::Tensor(&mut pb), Arg::Tensor(&mut rb), Arg::Tensor(&mut qb)], &[]);
    let (t, p, r, q) = (unpack_i(DType::I32, &tb, 24), unpack_i(DType::I32, &pb, 24), unpack_i(DType::I32, &rb, 24), unpack_i(DType::I32, &qb, 24));
    for i in 0..6 {
        for j in 0..4 {
            assert_eq!(t[j * 6 + i], x[i * 4 + j]);
        }
    }
    // p[b, c, a] = v3[a, b, c] with v3 = [2, 3, 4]
    for a in 0..2 {
        for b in 0..3 {
            for c in 0..4 {
                assert_eq!(p[(b * 4 + c) * 2 + a], x[(a * 3 + b) * 4 + c]);
            }
        }
    }
    assert_eq!(r, x);
    assert_eq!(q, x);
}

#[test]
fn broadcast_and_repeat() {
    let src = "kernel k(x: global f32[3], b: global f32[4, 3], y: global f32[2, 3], r: global f32[4, 9]) {
    let v = load(x, [3]);
    store(b, broadcast(v, [4, 3]));
    let m = load(y, [2, 3]);
    store(r, repeat(m, [2, 3]));
}";
    let k = kernel(src);
    let mut g = rng(31);
    let x = random(&mut g, DType::F32, 3, 5.0);
    let y = random(&mut g, DType::F32, 6, 5.0);
    let (mut xb, mut bb, mut yb, mut rb) = (pack(DType::F32, &x), poison(DType::F32, 12), pack(DType::F32, &y), poison(DType::F32, 36));
    run(&k, &mut [Arg::Tensor(&mut xb), Arg::Tensor(&mut bb), Arg::Tensor(&mut yb), Arg::Tensor(&mut rb)], &[]);
    let (b, r) = (unpack(DType::F32, &bb, 12), unpack(DType::F32, &rb, 36));
    for i in 0..4 {
        for j in 0..3 {
            assert_eq!(b[i * 3 + j], x[j]);
        }
        for j in 0..9 {
            assert_eq!(r[i * 9 + j], y[(i % 2) * 3 + j % 3], "numpy.tile semantics");
        }
    }
}

#[test]
fn arange_builds_masks() {
    // Zero every element at or beyond the diagonal offset `d`.
    let src = "kernel k<D: int = 3>(x: global i64[M, 16], y: global i64[M, 16]) grid(cdiv(M, 8)) {
    let r = block.x * 8;
    let rows = unsqueeze(arange(8), 1) + r;
    let cols = unsqueeze(arange(16), 0);
    let v = load(x[r.., ..], [8, 16]);
    store(y[r.., ..], where(cols - rows < D, v, 0) + sum(arange(2, 5)) - 9);
}";
    let k = kernel(src);
    let m = 21;
    let x: Vec<i128> = (0..m * 16).map(|i| i as i128 + 1).collect();
    let (mut xb, mut yb) = (pack_i(DType::I64, &x), poison(DType::I64, m * 16));
    run(&k, &mut [Arg::Tensor(&mut xb), Arg::Tensor(&mut yb)], &[m as i64]);
    let y = unpack_i(DType::I64, &yb, m * 16);
    for i in 0..m {
        for j in 0..16 {
            let want = if (j as i128) - (i as i128) < 3 { x[i * 16 + j] } else { 0 };
            assert_eq!(y[i * 16 + j], want, "[{i},{j}]");
        }
    }
}

/// Packs codes little-endian, LSB-first, independently of tilec's pack module.
fn pack_bits(bits: u32, codes: &[u64]) -> Vec<u8> {
    let mut out = vec![0u8; (codes.len() * bits as usize).div_ceil(8)];
    for (i, &c) in codes.iter().enumerate() {
        for b in 0..bits as usize {
            let pos = i * bits as usize + b;
            out[pos / 8] |= (((c >> b) & 1) as u8) << (pos % 8);
        }
    }
    out
}

#[test]
fn view_reinterprets_bits() {
    let src = "kernel k(x: global u8[4, 16], a: global u4[4, 32], b: global f16[4, 8], c: global u8[4, 16], d: global i3[4, 8]) {
    let v = load(x, [4, 16]);
    store(a, view<u4>(v));
    store(b, view<f16>(v));
    store(c, view<u8>(view<f16>(v)));
    let six = reshape(v, [4, 16]);
    store(d, view<i3>(view<u4>(six)));
}";
    // i3 from u4[4, 32]: 32 * 4 = 128 bits is not a multiple of 3 -> use a shape where it is.
    let src = src.replace("global i3[4, 8]", "global u2[4, 64]").replace("view<i3>", "view<u2>");
    let k = kernel(&src);
    let mut g = rng(32);
    let x: Vec<u64> = (0..64).map(|_| g.random::<u8>() as u64).collect();
    let mut xb = pack_bits(8, &x);
    let (mut ab, mut bb, mut cb, mut db) = (poison("u4".parse::<DType>().unwrap(), 128), poison(DType::F16, 32), poison(DType::U8, 64), poison("u2".parse::<DType>().unwrap(), 256));
    run(&k, &mut [Arg::Tensor(&mut xb), Arg::Tensor(&mut ab), Arg::Tensor(&mut bb), Arg::Tensor(&mut cb), Arg::Tensor(&mut db)], &[]);
    // The same bytes, whatever the element type; except f16 NaN codes, which the value semantics
    // canonicalise (documented): compare the f16 view by value.
    assert_eq!(ab, xb);
    assert_eq!(db, xb);
    let b = unpack(DType::F16, &bb, 32);
    for i in 0..32 {
        let code = x[2 * i] | (x[2 * i + 1] << 8);
        let want = tilec_dtype::decode(DType::F16, code);
        assert!(b[i] == want || (b[i].is_nan() && want.is_nan()), "f16[{i}]");
    }
    let c = unpack_i(DType::U8, &cb, 64);
    for i in 0..64 {
        let code = x[i & !1] | (x[i | 1] << 8);
        if !tilec_dtype::decode(DType::F16, code).is_nan() {
            assert_eq!(c[i] as u64, x[i]);
        }
    }
}

#[test]
fn view_of_a_scalar_and_of_signed_narrow_ints() {
    let src = "kernel k(x: global f32[N], y: global i32[N], z: global i4[8]) {
    let v = load(x, [16]);
    let s = view<i32>(sum(v, dim: 0));
    store(y, view<i32>(v) + s - s);
    store(z, view<i4>(cast<u8>(arange(0, 4) * 17 + 1)));
}";
    let k = kernel(src);
    let xs = [1.0f64, -2.5, 0.1, 3e38, -0.0, 1e-45];
    let n = xs.len();
    let (mut xb, mut yb, mut zb) = (pack(DType::F32, &xs), poison(DType::I32, n), poison("i4".parse::<DType>().unwrap(), 8));
    run(&k, &mut [Arg::Tensor(&mut xb), Arg::Tensor(&mut yb), Arg::Tensor(&mut zb)], &[n as i64]);
    let y = unpack_i(DType::I32, &yb, n);
    for i in 0..n {
        assert_eq!(y[i], (xs[i] as f32).to_bits() as i32 as i128);
    }
    // bytes 1, 18, 35, 52 -> nibbles low first: 1,0, 2,1, 3,2, 4,3 (all below 8, so positive in i4)
    assert_eq!(unpack_i("i4".parse::<DType>().unwrap(), &zb, 8), vec![1, 0, 2, 1, 3, 2, 4, 3]);
}

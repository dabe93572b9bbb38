//! A warp-level GEMM as a lowering of `dot` would emit it: per K step, `cp.async` copies of the A
//! (16×16) and B (16×8) tiles into shared memory, `wait_group` and `bar.sync`, `ldmatrix.x4` for A,
//! `ldmatrix.x2.trans` for B (row-major K×N in shared memory), `mma.sync.m16n8k16` accumulating a
//! carried f32x4 fragment, and a closing `bar.sync` before the tiles are overwritten. Checked
//! against an f64 product; without the closing barrier the emulator reports the race.

use rand::Rng;
use tilec_core::thread::{emulate, ArgValue, Builder, CmpOp, EmuErrorKind, MmaKind, Program};
use tilec_dtype::{decode, encode, DType};

const M: i32 = 16;
const N: i32 = 8;

fn gemm(k: i32, closing_barrier: bool) -> Program {
    let mut b = Builder::new("gemm");
    let pa = b.param_global("a", DType::F16);
    let pb = b.param_global("b", DType::F16);
    let pd = b.param_global("d", DType::F32);
    let sa = b.shared("a_tile", 16 * 16 * 2, 128);
    let sb = b.shared("b_tile", 16 * 8 * 2, 128);
    let l = b.lane_id();
    let c = |b: &mut Builder, v: i32| b.i32(v);
    let (c2, c8, c16) = (c(&mut b, 2), c(&mut b, 8), c(&mut b, 16));
    let kk = c(&mut b, k);
    let nn = c(&mut b, N);
    // ldmatrix row addresses (loop-invariant): A matrix j = l/8 at block (j%2, j/2), row l%8;
    // B matrix j = (l%16)/8 holds K rows 8j..8j+7.
    let j = b.div(l, c8);
    let r = b.rem(l, c8);
    let jr = b.rem(j, c2);
    let jc = b.div(j, c2);
    let row0 = b.mul(jr, c8);
    let arow = b.add(row0, r);
    let acol = b.mul(jc, c8);
    let a_el = b.mul(arow, c16);
    let a_el = b.add(a_el, acol);
    let a_addr = b.mul(a_el, c2);
    let brow = b.rem(l, c16);
    let b_addr = b.mul(brow, c16);
    // Copy roles: lane l copies A row l/2, half l%2; lanes 0..15 copy B row l.
    let a_row = b.div(l, c2);
    let a_half = b.rem(l, c2);
    let a_half_el = b.mul(a_half, c8);
    let s_off = b.mul(l, c16);
    let zero = b.const_float(DType::F32, 0.0);
    let acc0 = b.pack(&[zero; 4]);
    let (lo, hi, step) = (c(&mut b, 0), kk, c16);
    let acc = b.for_(lo, hi, step, &[acc0], |b, k0, carried| {
        // A[a_row][k0 + 8 a_half ..] → a_tile[16 l ..]
        let g = b.mul(a_row, kk);
        let g = b.add(g, k0);
        let g = b.add(g, a_half_el);
        let g = b.mul(g, c2);
        let g = b.cast(g, DType::I64);
        b.cp_async(sa, s_off, pa, g, 16, None);
        let is_b = b.cmp(CmpOp::Lt, l, c16);
        b.if_(is_b, &[], |b| {
            // B[k0 + l][0..8] → b_tile[16 l ..]
            let g = b.add(k0, l);
            let g = b.mul(g, nn);
            let g = b.mul(g, c2);
            let g = b.cast(g, DType::I64);
            b.cp_async(sb, s_off, pb, g, 16, None);
            vec![]
        }, |_| vec![]);
        b.cp_async_commit();
        b.cp_async_wait(0);
        b.bar_sync();
        let fa = b.ldmatrix(sa, a_addr, 4, false);
        let fb = b.ldmatrix(sb, b_addr, 2, true);
        let d = b.mma(MmaKind::M16N8K16F16, fa, fb, carried[0]);
        if closing_barrier {
            b.bar_sync();
        }
        vec![d]
    })[0];
    // D: element i of lane l is (l/4 + 8 (i/2), 2 (l%4) + i%2).
    let c4 = c(&mut b, 4);
    let group = b.div(l, c4);
    let tig = b.rem(l, c4);
    for i in 0..4 {
        let off_r = c(&mut b, 8 * (i / 2));
        let row = b.add(group, off_r);
        let col = b.mul(tig, c2);
        let off_c = c(&mut b, i % 2);
        let col = b.add(col, off_c);
        let e = b.mul(row, nn);
        let e = b.add(e, col);
        let e = b.mul(e, c4);
        let e = b.cast(e, DType::I64);
        let v = b.extract(acc, i as u32);
        b.store_global(pd, e, v, None);
    }
    b.finish()
}

#[test]
fn warp_gemm_with_cp_async_ldmatrix_and_mma() {
    let mut rng = rand::rng();
    let k = 64;
    let (m, n, kz) = (M as usize, N as usize, k as usize);
    let h = |v: f64| decode(DType::F16, encode(DType::F16, v));
    let a: Vec<f64> = (0..m * kz).map(|_| h(rng.random_range(-2.0..2.0))).collect();
    let bm: Vec<f64> = (0..kz * n).map(|_| h(rng.random_range(-2.0..2.0))).collect();
    let mut args = vec![ArgValue::tensor(DType::F16, &a), ArgValue::tensor(DType::F16, &bm), ArgValue::zeros(DType::F32, m * n)];
    emulate(&gemm(k, true), &mut args, [1, 1, 1], 32).unwrap();
    let d = args[2].values();
    for i in 0..m {
        for j in 0..n {
            let terms: Vec<f64> = (0..kz).map(|x| a[i * kz + x] * bm[x * n + j]).collect();
            let exact: f64 = terms.iter().sum();
            let mag: f64 = terms.iter().map(|t| t.abs()).sum();
            // One f32 rounding per K step of 16.
            assert!((d[i * n + j] - exact).abs() <= mag * 8.0 * f32::EPSILON as f64, "D[{i}][{j}] = {}, expected {exact}", d[i * n + j]);
        }
    }
    let e = emulate(&gemm(k, false), &mut args, [1, 1, 1], 32).unwrap_err();
    assert!(matches!(&e.kind, EmuErrorKind::SharedRace { first_write: false, second_write: true, buffer, .. } if buffer == "a_tile"), "{e}");
}

//! `mma.sync` in the thread-level emulator against the layout crate's fragment layouts
//! (`atoms::mma`) and an f64 (or exact integer) matrix product.
//!
//! Each lane gathers its A, B and C fragments from global memory at the coordinates
//! `atoms::mma(..).coords(lane, i)` (passed to the program as index tables, so the layout crate is
//! the only source of the fragment layout on the test's side), runs `mma.sync`, and scatters D by
//! the C layout.

use rand::Rng;
use tilec_core::thread::{emulate, mma_fragment, ArgValue, Builder, MmaKind, MmaOperand, Program, Ty};
use tilec_dtype::{decode, encode, DType};
use tilec_layout::atoms::{self, Operand};

/// `table[lane * n + i]` = row-major index (in a tile with `cols` columns) of fragment element `i`.
fn index_table(shape: &str, dtype: &str, op: Operand) -> Vec<f64> {
    let l = atoms::mma(shape, dtype, op).unwrap();
    let cols = l.shape()[1];
    let n = l.num_values();
    assert_eq!(l.num_threads(), 32);
    let mut t = Vec::new();
    for lane in 0..32 {
        for i in 0..n {
            let c = l.coords(lane, i).unwrap();
            t.push((c[0] * cols + c[1]) as f64);
        }
    }
    t
}

/// Params: a, b, c, d, ia, ib, ic. Gathers fragments, runs the mma, scatters D.
fn mma_program(kind: MmaKind) -> Program {
    let input = kind.input();
    let acc = kind.acc();
    let mut b = Builder::new("mma");
    let pa = b.param_global("a", input);
    let pb = b.param_global("b", input);
    let pc = b.param_global("c", acc.dtype);
    let pd = b.param_global("d", acc.dtype);
    let tables = [b.param_global("ia", DType::I32), b.param_global("ib", DType::I32), b.param_global("ic", DType::I32)];
    let lane = b.lane_id();
    let esize = b.i64(input.bits() as i64 / 8);
    let asize = b.i64(4);
    let four = b.i64(4);
    // Element `i` of this lane's fragment of operand `op`, loaded from `param` by the table.
    let frag_len = |op: usize| -> u32 {
        let p = 32 / input.bits();
        [4 * p, 2 * p, 4][op]
    };
    let gather = |b: &mut Builder, op: usize, param: usize, dt: DType, size: tilec_core::thread::Reg| {
        let n = frag_len(op);
        let lane64 = b.cast(lane, DType::I64);
        let nn = b.i64(n as i64);
        let base = b.mul(lane64, nn);
        let mut elems = Vec::new();
        for i in 0..n {
            let ii = b.i64(i as i64);
            let slot = b.add(base, ii);
            let toff = b.mul(slot, four);
            let idx = b.load_global(tables[op], toff, Ty::scalar(DType::I32), None, None);
            let idx = b.cast(idx, DType::I64);
            let off = b.mul(idx, size);
            elems.push(b.load_global(param, off, Ty::scalar(dt), None, None));
        }
        b.pack(&elems)
    };
    let fa = gather(&mut b, 0, pa, input, esize);
    let fb = gather(&mut b, 1, pb, input, esize);
    let fc = gather(&mut b, 2, pc, acc.dtype, asize);
    let ra = b.bitcast(fa, Ty::vec(DType::U32, 4));
    let rb = b.bitcast(fb, Ty::vec(DType::U32, 2));
    let d = b.mma(kind, ra, rb, fc);
    let lane64 = b.cast(lane, DType::I64);
    let base = b.mul(lane64, four);
    for i in 0..4 {
        let ii = b.i64(i);
        let slot = b.add(base, ii);
        let toff = b.mul(slot, four);
        let idx = b.load_global(tables[2], toff, Ty::scalar(DType::I32), None, None);
        let idx = b.cast(idx, DType::I64);
        let off = b.mul(idx, asize);
        let v = b.extract(d, i as u32);
        b.store_global(pd, off, v, None);
    }
    b.finish()
}

fn run_float(kind: MmaKind, name: &str, seed_scale: f64) {
    let mut rng = rand::rng();
    let input = kind.input();
    let (m, n, k) = kind.shape();
    let shape = format!("m{m}n{n}k{k}");
    let a: Vec<f64> = (0..m * k).map(|_| decode(input, encode(input, rng.random_range(-4.0..4.0) * seed_scale))).collect();
    let bm: Vec<f64> = (0..k * n).map(|_| decode(input, encode(input, rng.random_range(-4.0..4.0)))).collect();
    let c: Vec<f64> = (0..m * n).map(|_| rng.random_range(-8.0f32..8.0) as f64).collect();
    let mut args = vec![
        ArgValue::tensor(input, &a),
        ArgValue::tensor(input, &bm),
        ArgValue::tensor(DType::F32, &c),
        ArgValue::zeros(DType::F32, m * n),
        ArgValue::tensor(DType::I32, &index_table(&shape, name, Operand::A)),
        ArgValue::tensor(DType::I32, &index_table(&shape, name, Operand::B)),
        ArgValue::tensor(DType::I32, &index_table(&shape, name, Operand::C)),
    ];
    let p = mma_program(kind);
    emulate(&p, &mut args, [1, 1, 1], 32).unwrap();
    let d = args[3].values();
    for i in 0..m {
        for j in 0..n {
            let mut exact = c[i * n + j];
            let mut mag = exact.abs();
            for kk in 0..k {
                exact += a[i * k + kk] * bm[kk * n + j];
                mag += (a[i * k + kk] * bm[kk * n + j]).abs();
            }
            let got = d[i * n + j];
            // f32 accumulation: within a few f32 ulps of the magnitude of the terms.
            assert!((got - exact).abs() <= mag * 4.0 * f32::EPSILON as f64, "{name} D[{i}][{j}] = {got}, expected {exact}");
        }
    }
}

#[test]
fn mma_m16n8k16_f16_matches_f64_product() {
    for _ in 0..5 {
        run_float(MmaKind::M16N8K16F16, "f16", 1.0);
    }
}

#[test]
fn mma_m16n8k16_bf16_matches_f64_product() {
    for _ in 0..5 {
        run_float(MmaKind::M16N8K16BF16, "bf16", 100.0);
    }
}

#[test]
fn mma_m16n8k8_tf32_matches_f64_product() {
    for _ in 0..5 {
        run_float(MmaKind::M16N8K8TF32, "tf32", 1000.0);
    }
}

#[test]
fn mma_m16n8k32_s8_is_exact() {
    let mut rng = rand::rng();
    let (m, n, k) = (16, 8, 32);
    for (kind, dt, name, range) in [(MmaKind::M16N8K32S8, DType::I8, "s8", -128..128), (MmaKind::M16N8K32U8, DType::U8, "u8", 0..256)] {
        let a: Vec<f64> = (0..m * k).map(|_| rng.random_range(range.clone()) as f64).collect();
        let bm: Vec<f64> = (0..k * n).map(|_| rng.random_range(range.clone()) as f64).collect();
        let c: Vec<f64> = (0..m * n).map(|_| rng.random_range(-100000..100000) as f64).collect();
        let mut args = vec![
            ArgValue::tensor(dt, &a),
            ArgValue::tensor(dt, &bm),
            ArgValue::tensor(DType::I32, &c),
            ArgValue::zeros(DType::I32, m * n),
            ArgValue::tensor(DType::I32, &index_table("m16n8k32", name, Operand::A)),
            ArgValue::tensor(DType::I32, &index_table("m16n8k32", name, Operand::B)),
            ArgValue::tensor(DType::I32, &index_table("m16n8k32", name, Operand::C)),
        ];
        emulate(&mma_program(kind), &mut args, [1, 1, 1], 32).unwrap();
        let d = args[3].values();
        for i in 0..m {
            for j in 0..n {
                let exact: f64 = c[i * n + j] + (0..k).map(|kk| a[i * k + kk] * bm[kk * n + j]).sum::<f64>();
                assert_eq!(d[i * n + j], exact, "{name} D[{i}][{j}]");
            }
        }
    }
}

/// The emulator's own fragment tables (written from the PTX ISA) agree with the layout crate's.
#[test]
fn fragment_tables_agree_with_layout_atoms() {
    let cases = [
        (MmaKind::M16N8K16F16, "m16n8k16", "f16"),
        (MmaKind::M16N8K16BF16, "m16n8k16", "bf16"),
        (MmaKind::M16N8K32S8, "m16n8k32", "s8"),
        (MmaKind::M16N8K8TF32, "m16n8k8", "tf32"),
    ];
    for (kind, shape, dt) in cases {
        for (op, aop) in [(MmaOperand::A, Operand::A), (MmaOperand::B, Operand::B), (MmaOperand::C, Operand::C)] {
            let l = atoms::mma(shape, dt, aop).unwrap();
            for lane in 0..32 {
                for i in 0..l.num_values() {
                    let c = l.coords(lane, i).unwrap();
                    assert_eq!(mma_fragment(kind, op, lane as usize, i as usize), (c[0] as usize, c[1] as usize), "{shape} {dt} {aop} lane {lane} element {i}");
                }
            }
        }
    }
}

#[test]
fn mma_in_divergent_code_is_reported() {
    use tilec_core::thread::{CmpOp, EmuErrorKind};
    let mut b = Builder::new("bad");
    let t = b.thread_id();
    let z = b.const_bits(Ty::U32, 0);
    let a = b.pack(&[z, z, z, z]);
    let bb = b.pack(&[z, z]);
    let f = b.const_float(DType::F32, 0.0);
    let c = b.pack(&[f, f, f, f]);
    let sixteen = b.i32(16);
    let cond = b.cmp(CmpOp::Lt, t, sixteen);
    b.if_(cond, &[], |b| {
        b.mma(MmaKind::M16N8K16F16, a, bb, c);
        vec![]
    }, |_| vec![]);
    let p = b.finish();
    let e = emulate(&p, &mut [], [1, 1, 1], 32).unwrap_err();
    assert!(matches!(e.kind, EmuErrorKind::DivergentCollective { warp: 0, active: 0xffff, required: u32::MAX }), "{e}");
}

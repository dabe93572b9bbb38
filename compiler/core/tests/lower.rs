//! The tile IR → thread-level lowering, run on the emulator (every thread of every block) against the
//! tile interpreter and against references computed here in f64, on ragged sizes with poisoned outputs.

mod ops_common;

use ops_common::{kernel, kernel_with, pack, rng, unpack};
use rand::Rng;
use tilec_core::interp::{self, Arg};
use tilec_core::thread::{self, ArgValue};
use tilec_core::tir::{Kernel, ParamKind};
use tilec_dtype::DType;

/// One launch argument for both executors.
#[derive(Clone)]
enum In {
    Tensor(Vec<u8>),
    Scalar(DType, f64),
}

fn grid_of(k: &Kernel, dims: &[i64]) -> [u32; 3] {
    k.grid.clone().map(|e| e.eval(dims).expect("grid evaluates") as u32)
}

/// Runs `k` on the emulator; returns the tensors after the run.
fn emulate(k: &Kernel, args: &[In], dims: &[i64]) -> Result<Vec<Vec<u8>>, String> {
    let program = tilec_core::lower::lower(k).map_err(|d| d.message)?;
    let mut emu_args: Vec<ArgValue> = k
        .params
        .iter()
        .zip(args)
        .map(|(p, a)| match (&p.kind, a) {
            (ParamKind::Tensor { dtype, .. }, In::Tensor(b)) => ArgValue::Global { dtype: *dtype, bytes: b.clone() },
            (_, In::Scalar(dt, v)) => ArgValue::Scalar { dtype: *dt, bits: scalar_bits(*dt, *v) },
            _ => panic!("argument kinds"),
        })
        .collect();
    emu_args.extend(dims.iter().map(|d| ArgValue::Dim(*d)));
    thread::emulate(&program, &mut emu_args, grid_of(k, dims), k.threads()).map_err(|e| e.to_string())?;
    Ok(emu_args
        .into_iter()
        .filter_map(|a| match a {
            ArgValue::Global { bytes, .. } => Some(bytes),
            _ => None,
        })
        .collect())
}

fn scalar_bits(dt: DType, v: f64) -> u64 {
    let mut b = [0u8; 8];
    let p = pack(dt, &[v]);
    b[..p.len()].copy_from_slice(&p);
    u64::from_le_bytes(b)
}

/// Runs `k` on the tile interpreter; returns the tensors after the run.
fn interpret(k: &Kernel, args: &[In], dims: &[i64]) -> Vec<Vec<u8>> {
    try_interpret(k, args, dims).unwrap_or_else(|e| panic!("the interpreter fails: {e}"))
}

/// [`interpret`], or the interpreter's error.
fn try_interpret(k: &Kernel, args: &[In], dims: &[i64]) -> Result<Vec<Vec<u8>>, String> {
    let mut tensors: Vec<Vec<u8>> = args.iter().filter_map(|a| if let In::Tensor(b) = a { Some(b.clone()) } else { None }).collect();
    let mut it = tensors.iter_mut();
    let mut iargs: Vec<Arg<'_>> = args
        .iter()
        .map(|a| match a {
            In::Tensor(_) => Arg::Tensor(it.next().unwrap()),
            In::Scalar(dt, v) => Arg::Scalar(interp::scalar_from_le_bytes(*dt, &pack(*dt, &[*v]))),
        })
        .collect();
    interp::run(k, &mut iargs, dims).map_err(|e| e.message)?;
    drop(iargs);
    Ok(tensors)
}

fn poison(bytes: usize) -> Vec<u8> {
    vec![0xFF; bytes]
}

fn random(n: usize, seed: u64) -> Vec<f64> {
    let mut r = rng(seed);
    (0..n).map(|_| r.random_range(-4.0..4.0f64).round() / 4.0 + r.random_range(-1.0..1.0)).collect()
}

const VECTOR_ADD: &str = "
kernel vector_add<BLOCK: int = 256>(a: global f32[N], b: global f32[N], c: global f32[N])
    grid(cdiv(N, BLOCK)) warps(4)
{
    let start = block.x * BLOCK;
    store(c[start..], load(a[start..], [BLOCK]) + load(b[start..], [BLOCK]));
}";

#[test]
fn vector_add_matches_f64_reference_on_ragged_lengths() {
    for (n, block) in [(1usize, "256"), (1000, "256"), (3001, "512"), (77, "128"), (130, "64")] {
        let k = kernel_with(VECTOR_ADD, &[("BLOCK", block)]);
        let (a, b) = (random(n, n as u64), random(n, n as u64 + 1));
        let args = [In::Tensor(pack(DType::F32, &a)), In::Tensor(pack(DType::F32, &b)), In::Tensor(poison(4 * n))];
        let out = emulate(&k, &args, &[n as i64]).unwrap();
        let c = unpack(DType::F32, &out[2], n);
        for i in 0..n {
            assert_eq!(c[i], ((a[i] as f32) + (b[i] as f32)) as f64, "n={n} block={block} element {i}");
        }
        assert_eq!(out[0], pack(DType::F32, &a), "inputs are left alone");
    }
}

#[test]
fn masks_where_arange_and_scalars_match_the_interpreter() {
    let k = kernel(
        "
kernel masked(alpha: f32, x: global f32[N], y: global f32[N], z: global f16[N], w: global i32[N])
    grid(cdiv(N, 128)) warps(2)
{
    let i = block.x * 128;
    let v = load(x[i..], [128]);
    let pos = load(x[i..], [128], mask: v > 0.0, other: -1.0);
    store(y[i..], where(v < -0.5, alpha * v, pos - 0.25));
    let even = (arange(128) % 2) == 0;
    store(z[i..], cast<f16>(v * 3.0 + alpha), mask: even);
    store(w[i..], cast<i32>(arange(128) + i) * 7 - cast<i32>(v * 10.0));
}",
    );
    for n in [5usize, 128, 300, 1023] {
        let x = random(n, 7 + n as u64);
        let args = [In::Scalar(DType::F32, 1.5), In::Tensor(pack(DType::F32, &x)), In::Tensor(poison(4 * n)), In::Tensor(poison(2 * n)), In::Tensor(poison(4 * n))];
        let emu = emulate(&k, &args, &[n as i64]).unwrap();
        let reference = interpret(&k, &args, &[n as i64]);
        assert_eq!(emu, reference, "n={n}");
        // Independently: odd elements of z stay poisoned, w is exact.
        let z = unpack(DType::F16, &emu[2], n);
        assert!(z.iter().skip(1).step_by(2).all(|v| v.is_nan()), "masked-off stores must not write");
        let w = ops_common::unpack_i(DType::I32, &emu[3], n);
        for i in 0..n {
            assert_eq!(w[i], (i as i128) * 7 - ((x[i] as f32) * 10.0).trunc() as i128, "w[{i}]");
        }
    }
}

#[test]
fn two_dimensional_tiles_and_loops_match_the_interpreter() {
    // Column sums of a [R, C] matrix folded over row blocks of 8, carried through a `for` loop.
    let k = kernel(
        "
kernel fold(x: global f32[R, C], y: global f32[8, C]) grid(cdiv(C, 32)) warps(4) {
    let j = block.x * 32;
    let acc = zeros<f32>[8, 32];
    for r in range(0, R, 8) {
        acc = acc + load(x[r.., j..], [8, 32]) * 2.0;
    }
    store(y[0.., j..], acc);
}",
    );
    for (r, c) in [(1usize, 1usize), (37, 45), (64, 32), (100, 70)] {
        let x = random(r * c, (r * c) as u64);
        let args = [In::Tensor(pack(DType::F32, &x)), In::Tensor(poison(4 * 8 * c))];
        let dims = dims_for(&k, &[("R", r as i64), ("C", c as i64)]);
        let emu = emulate(&k, &args, &dims).unwrap();
        assert_eq!(emu, interpret(&k, &args, &dims), "r={r} c={c}");
        let y = unpack(DType::F32, &emu[1], 8 * c);
        for row in 0..8 {
            for col in 0..c {
                let want: f64 = (row..r).step_by(8).map(|i| x[i * c + col] * 2.0).sum();
                assert!((y[row * c + col] - want).abs() <= 1e-5 * (1.0 + want.abs()), "y[{row},{col}] = {} want {want}", y[row * c + col]);
            }
        }
    }
}

fn dims_for(k: &Kernel, given: &[(&str, i64)]) -> Vec<i64> {
    k.dims.iter().map(|d| given.iter().find(|(n, _)| n == d).unwrap_or_else(|| panic!("dim {d}")).1).collect()
}

#[test]
fn unsupported_operations_are_refused_at_their_source() {
    // A masked store of 4-bit elements would need a read-modify-write of bytes other threads share.
    let src = "kernel k(x: global u4[N]) grid(cdiv(N, 512)) warps(1) {
    store(x[block.x * 512..], zeros<u4>[512], mask: arange(512) < 7);
}";
    let k = kernel(src);
    let err = tilec_core::lower::lower(&k).unwrap_err();
    let rendered = tilec_core::diag::render_all(&[err], &tilec_core::Source::new("k.tile", src), false);
    assert!(rendered.contains("not lowered"), "{rendered}");
}

#[test]
fn reductions_and_broadcasts_match_the_interpreter() {
    // Row sums (f32 accumulation in another order than the interpreter's exact sum: compared with a
    // tolerance against f64), column maxima broadcast back (exact), and `any` over the whole tile.
    let mut seen = String::new();
    for (br, bc, w) in [("4", "64", "4"), ("16", "32", "2"), ("2", "256", "8"), ("32", "8", "1")] {
        let src = format!(
            "kernel rows(x: global f32[R, C], s: global f32[R], d: global f32[R, C], hit: global i32[R]) grid(cdiv(R, {br})) warps({w}) {{
    let r = block.x * {br};
    let v = load(x[r.., 0..], [{br}, {bc}]);
    store(s[r..], sum(v, dim: 1));
    store(d[r.., 0..], v - max(v, dim: 1, keepdim: true));
    store(hit[r..], zeros<i32>[{br}] + cast<i32>(any(v > 3.0)));
}}"
        );
        let k = kernel(&src);
        seen += &thread::print_program(&tilec_core::lower::lower(&k).unwrap());
        let c: usize = bc.parse().unwrap();
        for rows in [1usize, 37] {
            let mut x = random(rows * c, (rows * c) as u64 + 3);
            x.iter_mut().for_each(|v| *v *= 1.5);
            let args = [In::Tensor(pack(DType::F32, &x)), In::Tensor(poison(4 * rows)), In::Tensor(poison(4 * rows * c)), In::Tensor(poison(4 * rows))];
            let dims = dims_for(&k, &[("R", rows as i64), ("C", c as i64)]);
            let emu = emulate(&k, &args, &dims).unwrap_or_else(|e| panic!("br={br} bc={bc} warps={w}: {e}"));
            let reference = interpret(&k, &args, &dims);
            assert_eq!(emu[2], reference[2], "x - rowmax is exact (br={br} bc={bc} warps={w})");
            assert_eq!(emu[3], reference[3], "any is exact");
            let s = unpack(DType::F32, &emu[1], rows);
            for i in 0..rows {
                let want: f64 = x[i * c..(i + 1) * c].iter().map(|&v| v as f32 as f64).sum();
                assert!((s[i] - want).abs() <= 1e-5 * (1.0 + want.abs()) * c as f64, "row {i}: {} want {want}", s[i]);
            }
        }
    }
    // Both ways across threads were taken: shuffles within warps, shared memory across them.
    assert!(seen.contains("shfl") && seen.contains("bar.sync") && seen.contains("st.shared"), "{seen}");
}

#[test]
fn shape_operations_that_move_no_data_match_the_interpreter() {
    // A transpose, unsqueeze/squeeze, a reshape, and the standard library's ragged-column mask, all
    // of which the inference lays out so that no element changes thread or slot.
    let k = kernel(
        "
use std::reduce;
kernel shapes(x: global f32[R, C], t: global f32[C, R], m: global f32[R, C], s: global f32[R])
    grid(1) warps(2)
{
    let v = load(x[0.., 0..], [16, 32]);
    store(t[0.., 0..], transpose(v) + 1.0);
    let masked = reduce::mask_cols(v, C - 3, -2.0);
    store(m[0.., 0..], masked + cast<f32>(unsqueeze(arange(16), 1)) * 0.5);
    store(s[0..], squeeze(reduce::row_max(masked), 1));
}",
    );
    for (r, c) in [(16usize, 32usize), (5, 7), (13, 32)] {
        let x = random(r * c, (r * c) as u64 + 11);
        let args = [In::Tensor(pack(DType::F32, &x)), In::Tensor(poison(4 * r * c)), In::Tensor(poison(4 * r * c)), In::Tensor(poison(4 * r))];
        let dims = dims_for(&k, &[("R", r as i64), ("C", c as i64)]);
        let emu = emulate(&k, &args, &dims).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(emu, interpret(&k, &args, &dims), "r={r} c={c}");
        let t = unpack(DType::F32, &emu[1], r * c);
        assert!((0..r).all(|i| (0..c).all(|j| t[j * r + i] == (x[i * c + j] as f32 + 1.0) as f64)), "transpose");
    }
}

/// Every tensor parameter random (outputs poisoned), scalars small positive, on the given dims.
fn example_args(k: &Kernel, dims: &[i64], seed: u64) -> Vec<In> {
    k.params
        .iter()
        .enumerate()
        .map(|(i, p)| match &p.kind {
            ParamKind::Tensor { dtype, shape, .. } => {
                let n: usize = shape
                    .iter()
                    .map(|d| match d {
                        tilec_core::tir::Dim::Sym(s) => dims[*s] as usize,
                        tilec_core::tir::Dim::Fixed(n) => *n as usize,
                    })
                    .product();
                if k.reads(i) {
                    In::Tensor(pack(*dtype, &random(n, seed + i as u64)))
                } else {
                    In::Tensor(poison(dtype.nbytes(n)))
                }
            }
            ParamKind::Scalar(dt) => In::Scalar(*dt, 1e-5),
        })
        .collect()
}

#[test]
fn softmax_layernorm_and_rmsnorm_examples_run_as_thread_programs() {
    for (file, name) in [("softmax.tile", "softmax"), ("layernorm.tile", "layernorm"), ("layernorm.tile", "rmsnorm")] {
        let src = std::fs::read_to_string(format!("{}/../../examples/{file}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        let program = tilec_core::compile_to_tir(&src, &Default::default()).unwrap_or_else(|_| panic!("{file} compiles"));
        let k = program.kernels.iter().find(|k| k.name == name).unwrap();
        for (m, n) in [(3i64, 700i64), (5, 64)] {
            let dims = dims_for(k, &[("M", m), ("N", n)]);
            let args = example_args(k, &dims, (m * n) as u64);
            let emu = emulate(k, &args, &dims).unwrap_or_else(|e| panic!("{name}: {e}"));
            let reference = interpret(k, &args, &dims);
            for (e, r) in emu.iter().zip(&reference) {
                let (e, r) = (unpack(DType::F32, e, e.len() / 4), unpack(DType::F32, r, r.len() / 4));
                for (i, (x, y)) in e.iter().zip(&r).enumerate() {
                    assert!((x - y).abs() <= 2e-5 * (1.0 + y.abs()), "{name} m={m} n={n} element {i}: {x} vs the interpreter's {y}");
                }
            }
        }
    }
}

#[test]
fn matmul_example_runs_with_staged_dots() {
    let src = std::fs::read_to_string(format!("{}/../../examples/matmul.tile", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let program = tilec_core::compile_to_tir(&src, &Default::default()).unwrap_or_else(|_| panic!("matmul compiles"));
    let k = &program.kernels[0];
    let layouts = tilec_core::passes::layout_infer::infer(k).unwrap();
    assert_eq!(layouts.dots().len(), 1);
    let (m, n, kk) = (70usize, 40usize, 50usize);
    let dims = dims_for(k, &[("M", m as i64), ("N", n as i64), ("K", kk as i64)]);
    let args = example_args(k, &dims, 5);
    let emu = emulate(k, &args, &dims).unwrap_or_else(|e| panic!("{e}"));
    let (In::Tensor(a), In::Tensor(b)) = (&args[0], &args[1]) else { unreachable!() };
    let (a, b) = (unpack(DType::F16, a, m * kk), unpack(DType::F16, b, kk * n));
    let c = unpack(DType::F16, &emu[2], m * n);
    for i in 0..m {
        for j in 0..n {
            let want: f64 = (0..kk).map(|p| a[i * kk + p] * b[p * n + j]).sum();
            assert!((c[i * n + j] - want).abs() <= 2e-3 * (1.0 + want.abs()), "c[{i},{j}] = {} want {want}", c[i * n + j]);
        }
    }
}

#[test]
fn layout_conversions_go_through_shared_memory() {
    // `transpose(v)` keeps v's threads; adding a tile loaded in its own coalesced layout makes
    // inference convert one of them.
    let k = kernel(
        "
kernel mix(x: global f32[R, C], z: global f32[C, R], y: global f32[C, R], f: global i32[C, R]) grid(1) warps(2) {
    let v = load(x[0.., 0..], [16, 64]);
    let w = load(z[0.., 0..], [64, 16]);
    let t = transpose(v) + w;
    store(y[0.., 0..], t);
    store(f[0.., 0..], cast<i32>(transpose(v > 0.0)) + cast<i32>(w > 0.5));
}",
    );
    let layouts = tilec_core::passes::layout_infer::infer(&k).unwrap();
    assert!(!layouts.conversions().is_empty(), "{}", layouts.display(&k));
    for (r, c) in [(16usize, 64usize), (9, 33)] {
        let x = random(r * c, 21);
        let z = random(r * c, 22);
        let args = [In::Tensor(pack(DType::F32, &x)), In::Tensor(pack(DType::F32, &z)), In::Tensor(poison(4 * r * c)), In::Tensor(poison(4 * r * c))];
        let dims = dims_for(&k, &[("R", r as i64), ("C", c as i64)]);
        let emu = emulate(&k, &args, &dims).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(emu, interpret(&k, &args, &dims), "r={r} c={c}");
        let y = unpack(DType::F32, &emu[2], r * c);
        assert!((0..c).all(|i| (0..r).all(|j| y[i * r + j] == (x[j * c + i] as f32 + z[i * r + j] as f32) as f64)));
    }
}

#[test]
fn reshapes_permutes_and_transposes_of_loaded_tiles_match_the_interpreter() {
    let k = kernel(
        "
kernel moves(x: global f32[R, C], y: global f32[4, 512], z: global f32[32, 8, 8], w: global f32[C, R]) grid(1) warps(4) {
    let v = load(x[0.., 0..], [32, 64]);
    store(y[0.., 0..], reshape(v, [4, 512]) * 3.0);
    store(z[0.., 0.., 0..], permute(reshape(v, [8, 4, 64]), [1, 0, 2]) + 1.0);
    store(w[0.., 0..], transpose(v) - load(w[0.., 0..], [64, 32]));
}",
    );
    let program = thread::print_program(&tilec_core::lower::lower(&k).unwrap());
    assert!(program.contains("ld.shared"), "the transposed tile is converted for the subtraction");
    for (r, c) in [(32usize, 64usize), (17, 50)] {
        let x = random(r * c, 31);
        let w = random(r * c, 32);
        let args = [In::Tensor(pack(DType::F32, &x)), In::Tensor(poison(4 * 2048)), In::Tensor(poison(4 * 2048)), In::Tensor(pack(DType::F32, &w))];
        let dims = dims_for(&k, &[("R", r as i64), ("C", c as i64)]);
        let emu = emulate(&k, &args, &dims).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(emu, interpret(&k, &args, &dims), "r={r} c={c}");
    }
}

#[test]
fn if_else_with_yields_matches_the_interpreter() {
    let k = kernel(
        "
kernel branches(x: global f32[N], y: global f32[N]) grid(cdiv(N, 64)) warps(4) {
    let i = block.x * 64;
    let v = load(x[i..], [64]);
    let r = v;
    let s = 0.0;
    if block.x % 2 == 0 {
        r = v * 2.0;
    } else {
        r = max(v, dim: 0, keepdim: true) + v;
        s = sum(v);
    }
    store(y[i..], r + s);
}",
    );
    for n in [64usize, 200, 333] {
        let x = random(n, 41 + n as u64);
        let args = [In::Tensor(pack(DType::F32, &x)), In::Tensor(poison(4 * n))];
        let emu = emulate(&k, &args, &[n as i64]).unwrap_or_else(|e| panic!("{e}"));
        let y = unpack(DType::F32, &emu[1], n);
        for blk in 0..n.div_ceil(64) {
            let part: Vec<f64> = (blk * 64..(blk * 64 + 64)).map(|j| if j < n { x[j] as f32 as f64 } else { 0.0 }).collect();
            let (mx, sm) = (part.iter().cloned().fold(f64::MIN, f64::max), part.iter().sum::<f64>());
            for j in blk * 64..(blk * 64 + 64).min(n) {
                let v = part[j - blk * 64];
                let want = if blk % 2 == 0 { v * 2.0 } else { (mx + v) as f32 as f64 + sm };
                assert!((y[j] - want).abs() <= 1e-5 * (1.0 + want.abs()), "y[{j}] = {} want {want}", y[j]);
            }
        }
    }
}

/// Random contents for a tensor of `dt`: integers in the type's small range, floats around 1.
fn random_of(dt: DType, n: usize, seed: u64) -> Vec<f64> {
    let mut r = rng(seed);
    (0..n)
        .map(|_| match dt {
            d if d.is_float() => r.random_range(-2.0..2.0f64),
            d if d.is_signed() => r.random_range(-100..100i32) as f64,
            _ => r.random_range(0..200u32) as f64,
        })
        .collect()
}

/// Every repository kernel the lowering accepts runs on the emulator and agrees with the interpreter
/// (integers exactly, floats to a few units in the last place of their type), on ragged sizes.
#[test]
fn every_kernel_that_lowers_agrees_with_the_interpreter() {
    let root = format!("{}/../..", env!("CARGO_MANIFEST_DIR"));
    let mut lowered = Vec::new();
    for dir in ["examples", "tests/kernels", "tests/lang"] {
        let mut files: Vec<_> = std::fs::read_dir(format!("{root}/{dir}")).unwrap().map(|f| f.unwrap().path()).filter(|p| p.extension().is_some_and(|e| e == "tile")).collect();
        files.sort();
        for path in files {
            let src = std::fs::read_to_string(&path).unwrap();
            let program = tilec_core::compile_source("k.tile", &src, path.parent(), &Default::default()).1.unwrap_or_else(|_| panic!("{} compiles", path.display()));
            for k in &program.kernels {
                if tilec_core::lower::lower(k).is_err() {
                    continue;
                }
                lowered.push(k.name.clone());
                // Emulated staged dots are slow (every thread's K loop): one ragged size for those.
                let has_dot = !tilec_core::passes::layout_infer::infer(k).unwrap().dots().is_empty();
                let sizes: &[i64] = if has_dot { &[45] } else { &[45, 130] };
                for &size in sizes {
                    let dims: Vec<i64> = k.dims.iter().map(|_| size).collect();
                    let args: Vec<In> = k
                        .params
                        .iter()
                        .enumerate()
                        .map(|(i, p)| match &p.kind {
                            ParamKind::Tensor { dtype, shape, .. } => {
                                let n: usize = shape.iter().map(|d| match d {
                                    tilec_core::tir::Dim::Sym(s) => dims[*s] as usize,
                                    tilec_core::tir::Dim::Fixed(n) => *n as usize,
                                }).product();
                                if k.reads(i) { In::Tensor(pack(*dtype, &random_of(*dtype, n, i as u64 + size as u64))) } else { In::Tensor(poison(dtype.nbytes(n))) }
                            }
                            ParamKind::Scalar(dt) => In::Scalar(*dt, if dt.is_float() { 0.5 } else { 3.0 }),
                        })
                        .collect();
                    // A kernel the interpreter rejects at run time (tests/lang/shared_misuse.tile)
                    // must fail on the emulator too.
                    let reference = match try_interpret(k, &args, &dims) {
                        Ok(r) => r,
                        Err(e) => {
                            assert!(emulate(k, &args, &dims).is_err(), "{}: the interpreter fails ({e}) but the emulator runs", k.name);
                            continue;
                        }
                    };
                    let emu = emulate(k, &args, &dims).unwrap_or_else(|e| panic!("{}: {e}", k.name));
                    let tensors = k.params.iter().filter_map(|p| if let ParamKind::Tensor { dtype, .. } = p.kind { Some((p.name.clone(), dtype)) } else { None });
                    for ((name, dt), (e, r)) in tensors.zip(emu.iter().zip(&reference)) {
                        let n = e.len() * 8 / dt.bits() as usize;
                        let (e, r) = (unpack(dt, e, n), unpack(dt, r, n));
                        // f32 math and sums differ in the last bits; f16/bf16 results by an ulp of
                        // their type after rounding.
                        let tol = if dt.is_float() { if dt.bits() >= 32 { 2e-5 } else { 1e-2 } } else { 0.0 };
                        for (j, (x, y)) in e.iter().zip(&r).enumerate() {
                            let ok = (x.is_nan() && y.is_nan()) || (x - y).abs() <= tol * (1.0 + y.abs());
                            assert!(ok, "{} `{name}`[{j}] (size {size}): emulator {x}, interpreter {y}", k.name);
                        }
                    }
                }
            }
        }
    }
    // The kernels this lowering is known to cover; one that stops lowering shows up here.
    for name in ["vector_add", "softmax", "layernorm", "rmsnorm", "matmul", "attention", "axpy_f16", "fold_columns", "int_ops", "masked", "math_ops", "widen", "imports", "annotated", "strided_copy", "owners", "staged_sum", "shared_misuse", "matmul_a16wx", "ctl", "loops", "column_sums", "quantize"] {
        assert!(lowered.iter().any(|l| l == name), "`{name}` no longer lowers (lowered: {lowered:?})");
    }
}

#[test]
fn strided_tensors_are_indexed_by_their_strides() {
    let src = std::fs::read_to_string(format!("{}/../../tests/kernels/strided.tile", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let k = kernel(&src);
    let (m, n, lda, ldb) = (21usize, 37usize, 45usize, 26usize);
    let a = random((m - 1) * lda + n, 51);
    let args = [In::Tensor(pack(DType::F32, &a)), In::Tensor(poison(4 * ((n - 1) * ldb + m)))];
    let dims = dims_for(&k, &[("M", m as i64), ("N", n as i64), ("LDA", lda as i64), ("LDB", ldb as i64)]);
    let emu = emulate(&k, &args, &dims).unwrap_or_else(|e| panic!("{e}"));
    let b = unpack(DType::F32, &emu[1], (n - 1) * ldb + m);
    for i in 0..m {
        for j in 0..n {
            assert_eq!(b[i + j * ldb], a[i * lda + j] as f32 as f64, "b[{i}, {j}]");
        }
    }
    // Gaps between the columns of b stay untouched.
    assert!(b[m..ldb].iter().all(|v| v.is_nan()));
}

/// Both executors on `k` with `example_args`; floats of the outputs compared within `tol` relative.
fn agree(k: &Kernel, dims: &[i64], seed: u64, tol: f64) {
    let args = example_args(k, dims, seed);
    let emu = emulate(k, &args, dims).unwrap_or_else(|e| panic!("{}: {e}", k.name));
    let reference = interpret(k, &args, dims);
    let tensors = k.params.iter().filter_map(|p| if let ParamKind::Tensor { dtype, .. } = p.kind { Some((p.name.clone(), dtype)) } else { None });
    for ((name, dt), (e, r)) in tensors.zip(emu.iter().zip(&reference)) {
        let n = e.len() * 8 / dt.bits() as usize;
        let (e, r) = (unpack(dt, e, n), unpack(dt, r, n));
        for (j, (x, y)) in e.iter().zip(&r).enumerate() {
            let ok = (x.is_nan() && y.is_nan()) || (x - y).abs() <= tol * (1.0 + y.abs());
            assert!(ok, "{} `{name}`[{j}] dims {dims:?}: emulator {x}, interpreter {y}", k.name);
        }
    }
}

#[test]
fn pipelined_matmul_stages_through_shared_memory_with_cp_async() {
    let src = std::fs::read_to_string(format!("{}/../../examples/matmul.tile", env!("CARGO_MANIFEST_DIR"))).unwrap();
    for (bm, bn, bk, stages) in [("64", "64", "32", "2"), ("64", "32", "16", "3"), ("32", "64", "32", "4")] {
        let k = kernel_with(&src, &[("PIPELINED", "true"), ("BM", bm), ("BN", bn), ("BK", bk), ("STAGES", stages)]);
        let program = tilec_core::lower::lower(&k).unwrap_or_else(|d| panic!("{}", d.message));
        let text = thread::print_program(&program);
        assert!(text.contains("cp.async.16") && text.contains("cp.async.wait_group"), "16-byte asynchronous copies");
        // Ragged M, N and K (rows of 50 halves are not 16-byte aligned: element copies), then
        // aligned rows (every in-bounds chunk a cp.async).
        for (m, n, kk) in [(70i64, 40i64, 50i64), (33, 70, 64)] {
            let dims = dims_for(&k, &[("M", m), ("N", n), ("K", kk)]);
            agree(&k, &dims, (m + kk) as u64, 1e-2);
        }
    }
}

#[test]
fn shared_tiles_of_the_language_tests_match_the_interpreter() {
    let src = std::fs::read_to_string(format!("{}/../../tests/lang/pipeline.tile", env!("CARGO_MANIFEST_DIR"))).unwrap();
    for wait in ["0", "1"] {
        let k = kernel_with(&src, &[("WAIT", wait)]);
        for (m, kk) in [(45i64, 130i64), (16, 32), (17, 64)] {
            let dims = dims_for(&k, &[("M", m), ("K", kk)]);
            agree(&k, &dims, m as u64, 2e-5);
        }
    }
    // Without its closing barrier the next copy overwrites a stage other threads still read.
    let racy = src.replace("acc = acc + load(s[kb % 2]);\n        barrier();", "acc = acc + load(s[kb % 2]);");
    assert_ne!(racy, src);
    // (With 8 rows of 32 a thread reads elements that another thread copies; in some other shapes
    // every thread reads back only its own copies, which needs no barrier.)
    let k = kernel_with(&src, &[("BM", "8")]);
    let dims = dims_for(&k, &[("M", 64), ("K", 128)]);
    agree(&k, &dims, 3, 2e-5);
    let k = kernel_with(&racy, &[("BM", "8")]);
    let err = emulate(&k, &example_args(&k, &dims, 3), &dims).unwrap_err();
    assert!(err.contains("race"), "{err}");
}

/// A repository kernel compiled with the standard library and `-D` overrides.
fn example(file: &str, name: &str, defines: &[(&str, &str)]) -> Kernel {
    let path = std::path::PathBuf::from(format!("{}/../../{file}", env!("CARGO_MANIFEST_DIR")));
    let src = std::fs::read_to_string(&path).unwrap();
    let options = tilec_core::sema::Options { defines: defines.iter().map(|(n, v)| tilec_core::sema::Define { name: n.to_string(), value: v.to_string() }).collect() };
    let program = tilec_core::compile_source("k.tile", &src, path.parent(), &options).1.unwrap_or_else(|_| panic!("{file} compiles"));
    program.kernels.into_iter().find(|k| k.name == name).unwrap()
}

/// The `ld.global`/`st.global` types of a thread program, e.g. `["f32x4", "f32"]`.
fn global_access_types(p: &thread::Program) -> Vec<String> {
    fn walk(p: &thread::Program, b: &thread::Block, out: &mut Vec<String>) {
        for i in &b.insts {
            match &i.op {
                thread::Op::LoadGlobal { ty, .. } => out.push(ty.to_string()),
                thread::Op::StoreGlobal { value, .. } => out.push(p.ty(*value).to_string()),
                _ => {}
            }
            for sub in i.op.blocks() {
                walk(p, sub, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(p, &p.body, &mut out);
    out
}

#[test]
fn vector_add_and_softmax_move_16_bytes_per_access_and_stay_right_at_ragged_sizes() {
    let k = kernel_with(VECTOR_ADD, &[("BLOCK", "1024")]);
    let program = tilec_core::lower::lower(&k).unwrap();
    let types = global_access_types(&program);
    // 8 elements per thread: two f32x4 per tensor. The tile origin `block.x * 1024` is a multiple
    // of 4 elements: no runtime test; only groups cut by the end go element by element.
    assert_eq!(types.iter().filter(|t| *t == "f32x4").count(), 6, "{types:?}");
    for n in [100003usize, 4096, 5] {
        let (a, b) = (random(n, n as u64), random(n, n as u64 + 1));
        let args = [In::Tensor(pack(DType::F32, &a)), In::Tensor(pack(DType::F32, &b)), In::Tensor(poison(4 * n))];
        let out = emulate(&k, &args, &[n as i64]).unwrap();
        let c = unpack(DType::F32, &out[2], n);
        assert!((0..n).all(|i| c[i] == ((a[i] as f32) + (b[i] as f32)) as f64), "n={n}");
    }
    // softmax: a [4, 256] f32 tile per block; rows are N apart, so the f32x4 path is taken when N
    // is a multiple of 4 (a block-uniform test) and the element path otherwise.
    let k = example("examples/softmax.tile", "softmax", &[]);
    let types = global_access_types(&tilec_core::lower::lower(&k).unwrap());
    assert!(types.iter().any(|t| t == "f32x4") && types.iter().any(|t| t == "f32"), "{types:?}");
    for (m, n) in [(5i64, 1024i64), (3, 1001), (2, 258)] {
        let dims = dims_for(&k, &[("M", m), ("N", n)]);
        let args = example_args(&k, &dims, (m * n) as u64);
        let emu = emulate(&k, &args, &dims).unwrap_or_else(|e| panic!("{e}"));
        let reference = interpret(&k, &args, &dims);
        let (e, r) = (unpack(DType::F32, &emu[1], (m * n) as usize), unpack(DType::F32, &reference[1], (m * n) as usize));
        for (i, (x, y)) in e.iter().zip(&r).enumerate() {
            assert!((x - y).abs() <= 2e-5 * (1.0 + y.abs()), "softmax m={m} n={n} element {i}: {x} vs {y}");
        }
    }
}

#[test]
fn f16_tiles_move_as_f16x8() {
    let k = kernel(
        "
kernel scale(x: global f16[R, C], y: global f16[R, C]) grid(cdiv(R, 8)) warps(2) {
    let r = block.x * 8;
    store(y[r.., 0..], load(x[r.., 0..], [8, 128]) * 2.0);
}",
    );
    let types = global_access_types(&tilec_core::lower::lower(&k).unwrap());
    assert!(types.iter().filter(|t| *t == "f16x8").count() >= 2, "{types:?}");
    for (r, c) in [(16usize, 128usize), (13, 120), (9, 77)] {
        let x = random(r * c, 61);
        let args = [In::Tensor(pack(DType::F16, &x)), In::Tensor(poison(2 * r * c))];
        let dims = dims_for(&k, &[("R", r as i64), ("C", c as i64)]);
        let emu = emulate(&k, &args, &dims).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(emu, interpret(&k, &args, &dims), "r={r} c={c}");
    }
}

#[test]
fn misaligned_views_fall_back_to_narrower_accesses() {
    // A column offset of 3 is never a multiple of 4: element accesses, statically. A runtime offset
    // `o` is tested per launch: the same kernel takes f32x4 for o = 8 and elements for o = 3.
    let k = kernel(
        "
kernel shifted(o: i64, x: global f32[N], y: global f32[N], z: global f32[N]) grid(cdiv(N, 256)) warps(2) {
    let i = block.x * 256;
    store(y[i..], load(x[i + 3..], [256]));
    store(z[i + o..], load(x[i..], [256]) + 1.0);
}",
    );
    let program = tilec_core::lower::lower(&k).unwrap();
    let types = global_access_types(&program);
    assert!(types.iter().any(|t| t == "f32x4"), "{types:?}");
    for (n, o) in [(1000usize, 8.0), (1000, 3.0), (77, 3.0), (1024, 0.0)] {
        let x = random(n, 71);
        let args = [In::Scalar(DType::I64, o), In::Tensor(pack(DType::F32, &x)), In::Tensor(poison(4 * n)), In::Tensor(poison(4 * n))];
        let emu = emulate(&k, &args, &[n as i64]).unwrap_or_else(|e| panic!("n={n} o={o}: {e}"));
        assert_eq!(emu, interpret(&k, &args, &[n as i64]), "n={n} o={o}");
        let y = unpack(DType::F32, &emu[1], n);
        assert!((0..n).all(|i| if i + 3 < n { y[i] == x[i + 3] as f32 as f64 } else { y[i] == 0.0 }), "n={n}");
    }
}

/// Random codes of packed type `dt` for `n` elements, packed, and their values.
fn random_codes(dt: DType, n: usize, seed: u64) -> (Vec<u8>, Vec<f64>) {
    let mut r = rng(seed);
    let codes: Vec<u64> = (0..n).map(|_| r.random_range(0..(1u64 << dt.bits()))).collect();
    let values = codes.iter().map(|&c| if dt.is_float() { tilec_dtype::decode(dt, c) } else { tilec_dtype::decode_int(dt, c) as f64 }).collect();
    (tilec_dtype::pack::pack(dt.bits(), &codes), values)
}

#[test]
fn packed_tensors_load_and_store_whole_bytes_of_every_width() {
    // Copies of packed tiles (stores of whole bytes) and their values widened to f32, for every
    // width, on lengths that end mid-byte; outputs poisoned.
    for wt in ["bool", "u1", "u2", "i3", "u4", "i4", "f4e2m1", "u5", "f6e3m2", "i7"] {
        let k = kernel_with(
            "
kernel copy<WT: dtype = u4>(x: global WT[N], y: global WT[N], f: global f32[N]) grid(cdiv(N, 512)) warps(1) {
    let i = block.x * 512;
    let v = load(x[i..], [512]);
    store(y[i..], v);
    store(f[i..], cast<f32>(v));
}",
            &[("WT", wt)],
        );
        let dt: DType = wt.parse().unwrap();
        for n in [512usize, 1001, 13] {
            let (bytes, values) = random_codes(dt, n, n as u64 + dt.bits() as u64);
            let args = [In::Tensor(bytes), In::Tensor(poison(dt.nbytes(n))), In::Tensor(poison(4 * n))];
            let emu = emulate(&k, &args, &[n as i64]).unwrap_or_else(|e| panic!("{wt} n={n}: {e}"));
            let reference = interpret(&k, &args, &[n as i64]);
            assert_eq!(unpack(dt, &emu[1], n), unpack(dt, &reference[1], n), "{wt} n={n}: the copy");
            assert_eq!(unpack(dt, &emu[1], n), values, "{wt} n={n}: the copy against the codes");
            assert!(emu[2] == reference[2], "{wt} n={n}: the widened values differ");
        }
    }
}

#[test]
fn packed_loads_of_two_dimensional_views_at_any_alignment() {
    // Rows of an odd number of u3/f6 elements start mid-byte: the group path is versioned on the
    // row length, and columns at offset 5 start mid-byte everywhere.
    for wt in ["i3", "f6e3m2", "u4"] {
        let k = kernel_with(
            "
kernel rows<WT: dtype = u4>(x: global WT[R, C], f: global f32[R, C], g: global f32[R, C]) grid(cdiv(R, 4)) warps(2) {
    let r = block.x * 4;
    store(f[r.., 0..], cast<f32>(load(x[r.., 0..], [4, 256])));
    store(g[r.., 0..], cast<f32>(load(x[r.., 5..], [4, 256])));
}",
            &[("WT", wt)],
        );
        let dt: DType = wt.parse().unwrap();
        for (r, c) in [(8usize, 256usize), (7, 251), (5, 96)] {
            let (bytes, _) = random_codes(dt, r * c, (r * c) as u64);
            let args = [In::Tensor(bytes), In::Tensor(poison(4 * r * c)), In::Tensor(poison(4 * r * c))];
            let dims = dims_for(&k, &[("R", r as i64), ("C", c as i64)]);
            let emu = emulate(&k, &args, &dims).unwrap_or_else(|e| panic!("{wt} r={r} c={c}: {e}"));
            assert!(emu == interpret(&k, &args, &dims), "{wt} r={r} c={c}: the emulator and the interpreter differ");
        }
    }
}

#[test]
fn packed_stores_a_thread_cannot_own_whole_bytes_of_are_refused() {
    for (src, what) in [
        ("kernel k(x: global u4[N]) grid(1) warps(2) { store(x[0..], zeros<u4>[64]); }", "part of a byte"),
        ("kernel k(x: global u4[N]) grid(1) warps(1) { store(x[1..], zeros<u4>[512]); }", "part of a byte"),
        ("kernel k(x: global u4[N]) grid(1) warps(1) { store(x[0..], zeros<u4>[512], mask: arange(512) < 7); }", "masked store"),
    ] {
        let err = tilec_core::lower::lower(&kernel(src)).unwrap_err();
        assert!(err.message.contains(what), "{src}: {}", err.message);
    }
}

#[test]
fn weight_relayout_stores_packed_tiles() {
    let k = example("stdlib/lowbit.tile", "relayout", &[]);
    let (kk, n) = (64usize, 128usize);
    let dt: DType = "u4".parse().unwrap();
    let (bytes, _) = random_codes(dt, kk * n, 81);
    let args = [In::Tensor(bytes), In::Tensor(poison(dt.nbytes(kk * n)))];
    let dims = dims_for(&k, &[("K", kk as i64), ("N", n as i64), ("KB", 2), ("NB", 2)]);
    let emu = emulate(&k, &args, &dims).unwrap_or_else(|e| panic!("{e}"));
    assert!(emu == interpret(&k, &args, &dims), "the emulator and the interpreter differ");
}

#[test]
fn matmul_a16wx_emulates_for_u4_f6e3m2_and_i3_weights() {
    let (m, n, kk) = (19usize, 70usize, 96usize);
    for (wt, zero, g) in [("u4", 8, 32usize), ("u4", 8, 16), ("f6e3m2", 0, 32), ("i3", 0, 64)] {
        let dt: DType = wt.parse().unwrap();
        let k = example("examples/matmul_a16wx.tile", "matmul_a16wx", &[("WT", wt), ("ZERO", &zero.to_string()), ("G", &g.to_string())]);
        let program = thread::print_program(&tilec_core::lower::lower(&k).unwrap());
        // u4 and f6e3m2 weights are widened two at a time by lop3 (widen.rs), none element by
        // element; i3 rows of this kernel's layout are not groups of whole 32-bit words.
        if wt != "i3" {
            assert!(program.contains("lop3.b32"), "{wt} weights are converted by lop3 bit tricks");
            assert_eq!(casts_of(&program, wt), 0, "{wt} weights are cast one element at a time");
        }
        let kg = kk.div_ceil(g);
        let a = random(m * kk, 91);
        let (wbytes, q) = random_codes(dt, kk * n, 92);
        let mut r = rng(93);
        let s: Vec<f64> = (0..kg * n).map(|_| r.random_range(0.01..0.2)).collect();
        let args = [In::Tensor(pack(DType::F16, &a)), In::Tensor(wbytes), In::Tensor(pack(DType::F16, &s)), In::Tensor(poison(2 * m * n))];
        let dims = dims_for(&k, &[("M", m as i64), ("N", n as i64), ("K", kk as i64), ("KG", kg as i64)]);
        let emu = emulate(&k, &args, &dims).unwrap_or_else(|e| panic!("{wt} G={g}: {e}"));
        let reference = interpret(&k, &args, &dims);
        let (c, ci) = (unpack(DType::F16, &emu[3], m * n), unpack(DType::F16, &reference[3], m * n));
        let (a, s) = (unpack(DType::F16, &pack(DType::F16, &a), m * kk), unpack(DType::F16, &pack(DType::F16, &s), kg * n));
        for i in 0..m {
            for j in 0..n {
                // The kernel's dequantisation: (q - zero) exactly, times the scale, rounded to f16.
                let want: f64 = (0..kk).map(|p| a[i * kk + p] * tilec_dtype::round(DType::F16, (q[p * n + j] - zero as f64) * s[p / g * n + j])).sum();
                let (x, y) = (c[i * n + j], ci[i * n + j]);
                assert!((x - want).abs() <= 2e-3 + want.abs() / 1024.0, "{wt} G={g} c[{i},{j}] = {x} want {want}");
                assert!((x - y).abs() <= 2e-3 + y.abs() / 1024.0, "{wt} G={g} c[{i},{j}] = {x}, the interpreter's {y}");
            }
        }
    }
}


const BREAKS: &str = "
kernel breaks<BLOCK: int = 64>(x: global f32[N], y: global f32[N], z: global f32[N], limit: i32)
    grid(cdiv(N, BLOCK)) warps(2)
{
    let i = block.x * BLOCK;
    let v = load(x[i..], [BLOCK]);
    let acc = zeros<f32>[BLOCK];
    let total = 0.0;
    // `for` with `continue` and a data-dependent `break` after a reduction (a barrier-using
    // exchange inside the guarded rest of the iteration).
    for k in range(0, 12) {
        if k % 3 == 1 { continue; }
        acc = acc + v * cast<f32>(k);
        total = total + sum(acc);
        if total > cast<f32>(limit) { break; }
        acc = acc - 0.25;
    }
    // `while` whose body leaves from inside nested `if`s, around an inner loop that breaks.
    let w = zeros<f32>[BLOCK];
    let n = 0;
    while n < 40 {
        n = n + 1;
        let inner = 0;
        for j in range(0, 100) {
            if j * j > n { break; }
            inner = inner + 1;
        }
        if n % 2 == 0 {
            if n > cast<i64>(limit) { break; } else { continue; }
        }
        w = w + v * cast<f32>(inner);
    }
    store(y[i..], acc + total);
    store(z[i..], w + cast<f32>(n));
}";

#[test]
fn break_and_continue_in_for_and_while_match_the_interpreter() {
    let k = kernel(BREAKS);
    let program = tilec_core::lower::lower(&k).unwrap_or_else(|d| panic!("{}", d.message));
    assert!(thread::print_program(&program).contains("= while iter("), "loops with `break` become thread-program `while`s");
    for (size, limit) in [(45usize, 3.0), (130, 50.0), (64, 1000.0), (7, -1.0)] {
        let x = random(size, size as u64);
        let args = [In::Tensor(pack(DType::F32, &x)), In::Tensor(poison(4 * size)), In::Tensor(poison(4 * size)), In::Scalar(DType::I32, limit)];
        let dims = [size as i64];
        let emu = emulate(&k, &args, &dims).unwrap_or_else(|e| panic!("{e}"));
        let reference = interpret(&k, &args, &dims);
        for t in 1..3 {
            let (e, r) = (unpack(DType::F32, &emu[t], size), unpack(DType::F32, &reference[t], size));
            for (j, (a, b)) in e.iter().zip(&r).enumerate() {
                assert!((a - b).abs() <= 2e-5 * (1.0 + b.abs()), "tensor {t}[{j}] size {size} limit {limit}: emulator {a}, interpreter {b}");
            }
        }
    }
}

#[test]
fn vector_groups_of_aligned_rows_are_decided_by_their_first_element_at_ragged_tile_edges() {
    // Rows of 72 and 40 f16 are multiples of 8: the wide version's 16-byte groups are wholly inside
    // or wholly outside the tensor, so each is one predicated `f16x8` access — no per-element path
    // in that version — while M = 77 and N = 72 cut the tiles (64x64, BK 32) in the middle. The
    // emulator checks every address, and the result must match the interpreter.
    let k = example("examples/matmul.tile", "matmul", &[]);
    let program = tilec_core::lower::lower(&k).unwrap();
    let text = thread::print_program(&program);
    let wide_version = text.split("} else {").next().unwrap();
    assert!(wide_version.contains("f16x8 = ld.global") && !wide_version.contains(": f16 = ld.global"), "{wide_version}");
    for (m, n, kk) in [(77i64, 72i64, 40i64), (64, 8, 8), (5, 136, 24)] {
        let dims = dims_for(&k, &[("M", m), ("N", n), ("K", kk)]);
        agree(&k, &dims, (m + n + kk) as u64, 2e-3);
    }
}

/// How many `cast`s in a printed thread program take an operand of type `ty` (a register's type
/// is on the line that defines it: `%7: u3 = ...`).
fn casts_of(program: &str, ty: &str) -> usize {
    let def = |l: &str| l.trim().split_once(": ").and_then(|(r, rest)| Some((r.to_string(), rest.split(' ').next()?.to_string())));
    let types: std::collections::HashMap<String, String> = program.lines().filter_map(def).collect();
    program
        .lines()
        .filter_map(|l| l.split_once("= cast.")?.1.split(' ').nth(1).map(str::to_string))
        .filter(|operand| types.get(operand).is_some_and(|t| t == ty))
        .count()
}

/// The low-bit types whose casts to f16/f32 take the bit-trick path (lower/widen.rs), by name.
fn widened_types() -> Vec<String> {
    let mut types: Vec<String> = ["u1", "i1", "u2", "i2", "u3", "i3", "u4", "i4", "u6", "i6", "u8", "i8"].map(String::from).to_vec();
    for x in 1..=4 {
        for y in 0..=6 - x {
            types.push(format!("f{}e{x}m{y}", 1 + x + y));
        }
    }
    types
}

#[test]
fn bit_trick_widening_is_exact_for_every_code() {
    // Every code at many positions within a thread's words (the code sequence shifts by one each
    // period), then random codes; against tilec_dtype's decode, zero signs included. The program
    // converts with lop3/prmt and casts no low-bit element by itself.
    for wt in widened_types() {
        let dt: DType = wt.parse().unwrap();
        let p = dt.bits() as usize;
        for to in ["f16", "f32"] {
            let k = kernel_with(
                "
kernel widen<WT: dtype = u4, TO: dtype = f16>(x: global WT[N], f: global TO[N]) grid(cdiv(N, 1024)) warps(1) {
    let i = block.x * 1024;
    store(f[i..], cast<TO>(load(x[i..], [1024])));
}",
                &[("WT", &wt), ("TO", to)],
            );
            let program = thread::print_program(&tilec_core::lower::lower(&k).unwrap());
            // 32 codes of 5 or 7 bits span more than a 16-byte access: no group is whole words.
            if p != 5 && p != 7 {
                let trick = if p == 8 { "prmt.b32" } else { "lop3.b32" };
                assert!(program.contains(trick), "{wt} → {to}: no {trick}");
                assert!(casts_of(&program, &wt) == 0, "{wt} → {to}: a per-element cast\n{program}");
            }
            let tt: DType = to.parse().unwrap();
            let n = 4096usize;
            let mut r = rng(p as u64);
            let codes: Vec<u64> = (0..n).map(|i| if i < 2048 { ((i + i / (1 << p)) % (1 << p)) as u64 } else { r.random_range(0..1u64 << p) }).collect();
            let bytes = if p == 8 { codes.iter().map(|&c| c as u8).collect() } else { tilec_dtype::pack::pack(dt.bits(), &codes) };
            let args = [In::Tensor(bytes), In::Tensor(poison(tt.nbytes(n)))];
            let emu = emulate(&k, &args, &[n as i64]).unwrap_or_else(|e| panic!("{wt} → {to}: {e}"));
            let got = unpack(tt, &emu[1], n);
            for (i, &c) in codes.iter().enumerate() {
                let want = if dt.is_float() { tilec_dtype::decode(dt, c) } else { tilec_dtype::decode_int(dt, c) as f64 };
                assert_eq!(got[i].to_bits(), want.to_bits(), "{wt} → {to}: element {i}, code {c:#x}: {} want {want}", got[i]);
            }
        }
    }
}

//! `dot` by instruction selection (`lower/mma.rs`): f16 and bf16 matrix products lowered to
//! `ldmatrix` + `mma.sync`, run on the emulator (which checks shared-memory races, barriers and
//! whole-warp collectives) against the tile interpreter and an f64 reference, on ragged sizes with
//! poisoned outputs, over tile shapes and warp counts; and the FMA fallback when the target has no
//! mma.

mod ops_common;

use ops_common::{kernel, pack, rng, unpack};
use tilec_core::interp::{self, Arg};
use tilec_core::lower::{lower_with, Options};
use tilec_core::thread::{self, print_program, ArgValue, Program};
use tilec_core::tir::Kernel;
use tilec_dtype::DType;

/// The tiled product `c = a @ b` (`a: [M, K]`, `b: [K, N]` of `dt`, f32 accumulation and output).
fn matmul_kernel(dt: &str, bm: i64, bn: i64, bk: i64, warps: i64) -> Kernel {
    kernel(&format!(
        "
kernel mm(a: global {dt}[M, K], b: global {dt}[K, N], c: global f32[M, N]) grid(cdiv(M, {bm}), cdiv(N, {bn})) warps({warps}) {{
    let m0 = block.x * {bm};
    let n0 = block.y * {bn};
    let acc = zeros<f32>[{bm}, {bn}];
    for k in range(0, K, {bk}) {{
        acc = dot(load(a[m0.., k..], [{bm}, {bk}]), load(b[k.., n0..], [{bk}, {bn}]), acc);
    }}
    store(c[m0.., n0..], acc);
}}"
    ))
}

fn dims(k: &Kernel, m: usize, n: usize, kk: usize) -> Vec<i64> {
    k.dims.iter().map(|d| match d.as_str() { "M" => m, "N" => n, "K" => kk, other => panic!("dim {other}") } as i64).collect()
}

/// Runs `program` (lowered from `k`) on the emulator over the tensors `args`; returns them after.
fn emulate(k: &Kernel, program: &Program, args: &[Vec<u8>], dims: &[i64]) -> Vec<Vec<u8>> {
    let mut emu: Vec<ArgValue> = k
        .params
        .iter()
        .zip(args)
        .map(|(p, bytes)| match p.kind {
            tilec_core::tir::ParamKind::Tensor { dtype, .. } => ArgValue::Global { dtype, bytes: bytes.clone() },
            _ => panic!("tensor parameters only"),
        })
        .collect();
    emu.extend(dims.iter().map(|&d| ArgValue::Dim(d)));
    let grid = k.grid.clone().map(|e| e.eval(dims).expect("grid evaluates") as u32);
    thread::emulate(program, &mut emu, grid, k.threads()).unwrap_or_else(|e| panic!("{}: {e}", k.name));
    emu.into_iter().filter_map(|a| if let ArgValue::Global { bytes, .. } = a { Some(bytes) } else { None }).collect()
}

fn interpret(k: &Kernel, args: &[Vec<u8>], dims: &[i64]) -> Vec<Vec<u8>> {
    let mut tensors = args.to_vec();
    let mut iargs: Vec<Arg<'_>> = tensors.iter_mut().map(|t| Arg::Tensor(t)).collect();
    interp::run(k, &mut iargs, dims).expect("interpreter runs");
    drop(iargs);
    tensors
}

/// Random `dt` matrices `a [m, k]`, `b [k, n]` and a poisoned output.
fn inputs(dt: DType, m: usize, n: usize, kk: usize, seed: u64) -> (Vec<f64>, Vec<f64>, Vec<Vec<u8>>) {
    let mut r = rng(seed);
    let a = ops_common::random(&mut r, dt, m * kk, 2.0);
    let b = ops_common::random(&mut r, dt, kk * n, 2.0);
    let args = vec![pack(dt, &a), pack(dt, &b), vec![0xFF; 4 * m * n]];
    (a, b, args)
}

/// Checks `c` (f32, `[m, n]`) against the exact product and the interpreter's `reference`: each
/// within `roundings` f32 roundings of the sum of the terms' magnitudes.
#[allow(clippy::too_many_arguments)]
fn check_product(what: &str, a: &[f64], b: &[f64], c: &[f64], reference: &[f64], m: usize, n: usize, kk: usize, roundings: f64) {
    for i in 0..m {
        for j in 0..n {
            let exact: f64 = (0..kk).map(|p| a[i * kk + p] * b[p * n + j]).sum();
            let mag: f64 = (0..kk).map(|p| (a[i * kk + p] * b[p * n + j]).abs()).sum();
            let tol = roundings * mag * f64::from(f32::EPSILON) / 2.0;
            let (x, y) = (c[i * n + j], reference[i * n + j]);
            assert!((x - exact).abs() <= tol, "{what}: c[{i},{j}] = {x}, exact {exact}");
            assert!((x - y).abs() <= 2.0 * tol, "{what}: c[{i},{j}] = {x}, interpreter {y}");
        }
    }
}

/// Counts of the lines of `text` that contain each of `words`.
fn count(text: &str, word: &str) -> usize {
    text.lines().filter(|l| l.contains(word)).count()
}

#[test]
fn f16_and_bf16_dots_become_mma_sync_and_match_the_interpreter() {
    let configs: &[(DType, i64, i64, i64, i64)] = &[
        (DType::F16, 16, 16, 16, 1),
        (DType::F16, 16, 16, 32, 2),
        (DType::F16, 32, 32, 32, 2),
        (DType::F16, 64, 64, 32, 4),
        (DType::F16, 128, 64, 64, 4),
        (DType::F16, 64, 128, 16, 8),
        (DType::F16, 128, 128, 32, 8),
        (DType::F16, 32, 16, 64, 1),
        (DType::BF16, 16, 32, 16, 2),
        (DType::BF16, 64, 64, 64, 4),
        (DType::BF16, 128, 32, 32, 8),
    ];
    let (mut x4_trans, mut x2_trans) = (false, false);
    for &(dt, bm, bn, bk, warps) in configs {
        let k = matmul_kernel(&dt.to_string(), bm, bn, bk, warps);
        let program = lower_with(&k, &Options::SM80).unwrap_or_else(|d| panic!("{}", d.message));
        let text = print_program(&program);
        let what = format!("{dt} {bm}x{bn}x{bk} warps {warps}");
        assert!(count(&text, "mma.sync.m16n8k16") > 0 && count(&text, "ldmatrix.x4 ") > 0, "{what}: no mma.sync / ldmatrix.x4 for A:\n{text}");
        assert_eq!(count(&text, " fma "), 0, "{what}: scalar FMAs left");
        // Each warp issues (BM/16)(BN/8)(BK/16) mmas per K step over its share of the tile; the
        // warps share the tile's atoms evenly (or replicate them).
        let atoms = (bm / 16) * (bn / 8) * (bk / 16);
        assert_eq!(count(&text, "mma.sync") as i64, atoms / (warps.min((bm / 16) * (bn / 8))), "{what}");
        x4_trans |= text.contains("ldmatrix.x4.trans");
        x2_trans |= text.contains("ldmatrix.x2.trans");
        for (m, n, kk) in [(77usize, 45usize, 50usize), (bm as usize, bn as usize, bk as usize)] {
            let (a, b, args) = inputs(dt, m, n, kk, (m * n + kk) as u64 + bm as u64);
            let d = dims(&k, m, n, kk);
            let emu = emulate(&k, &program, &args, &d);
            let reference = interpret(&k, &args, &d);
            let (c, r) = (unpack(DType::F32, &emu[2], m * n), unpack(DType::F32, &reference[2], m * n));
            // One f32 rounding per mma (K steps of 16), and the interpreter's one per dot.
            let steps = (kk.div_ceil(bk as usize) * bk as usize / 16) as f64;
            check_product(&format!("{what} ({m}x{n}x{kk})"), &a, &b, &c, &r, m, n, kk, steps + 1.0);
            assert_eq!(emu[..2], args[..2], "{what}: inputs are left alone");
        }
    }
    assert!(x4_trans && x2_trans, "both B loads were exercised: x4.trans {x4_trans}, x2.trans {x2_trans}");
}

#[test]
fn operands_already_in_fragment_layout_feed_the_mma_from_registers() {
    // A is loaded straight into the mma A layout (an annotation): no staging, no ldmatrix for it.
    let k = kernel(
        r#"
kernel regfed(a: global f16[M, K], b: global f16[K, N], c: global f32[M, N]) grid(cdiv(M, 16), cdiv(N, 16)) warps(1) {
    let m0 = block.x * 16;
    let n0 = block.y * 16;
    let acc = zeros<f32>[16, 16];
    for k in range(0, K, 32) {
        let x = layout(load(a[m0.., k..], [16, 32]), "local(1,2) * mma(m16n8k16, f16, a)");
        acc = dot(x, load(b[k.., n0..], [32, 16]), acc);
    }
    store(c[m0.., n0..], acc);
}"#,
    );
    let program = lower_with(&k, &Options::SM80).unwrap();
    let text = print_program(&program);
    assert_eq!(count(&text, "mma.sync"), 4, "{text}");
    assert_eq!(count(&text, "ldmatrix.x4 "), 0, "A comes from registers:\n{text}");
    assert_eq!(count(&text, "ldmatrix.x4.trans"), 2, "B is staged:\n{text}");
    assert!(!text.contains("shared mma_a"), "{text}");
    let (m, n, kk) = (37, 29, 70);
    let (a, b, args) = inputs(DType::F16, m, n, kk, 3);
    let d = dims(&k, m, n, kk);
    let emu = emulate(&k, &program, &args, &d);
    let reference = interpret(&k, &args, &d);
    let (c, r) = (unpack(DType::F32, &emu[2], m * n), unpack(DType::F32, &reference[2], m * n));
    check_product("register-fed A", &a, &b, &c, &r, m, n, kk, 3.0 * 2.0 + 1.0);
}

#[test]
fn targets_without_mma_or_ldmatrix_get_the_fallbacks() {
    let k = matmul_kernel("f16", 32, 32, 32, 2);
    let no_ldmatrix = Options { ldmatrix: false, ..Options::SM80 };
    for (options, mma, ldmatrix) in [(Options::SCALAR, false, false), (no_ldmatrix, true, false), (Options::SM90, true, true)] {
        let program = lower_with(&k, &options).unwrap();
        let text = print_program(&program);
        assert_eq!(text.contains("mma.sync"), mma, "{options:?}");
        assert_eq!(text.contains("ldmatrix"), ldmatrix, "{options:?}");
        assert_eq!(text.contains(" fma "), !mma, "{options:?}: the FMA loop");
        let (m, n, kk) = (45, 50, 77);
        let (a, b, args) = inputs(DType::F16, m, n, kk, 11);
        let d = dims(&k, m, n, kk);
        let emu = emulate(&k, &program, &args, &d);
        let reference = interpret(&k, &args, &d);
        let (c, r) = (unpack(DType::F32, &emu[2], m * n), unpack(DType::F32, &reference[2], m * n));
        // The FMA loop rounds once per element of K.
        let roundings = if mma { 6.0 + 1.0 } else { 96.0 + 1.0 };
        check_product(&format!("{options:?}"), &a, &b, &c, &r, m, n, kk, roundings);
    }
}

#[test]
fn dots_of_other_types_keep_the_fma_path() {
    // f32 operands (the language has no tf32 semantics) and integers are not mma dots.
    for (dt, acc) in [("f32", "f32"), ("i8", "i32")] {
        let k = kernel(&format!(
            "
kernel k(a: global {dt}[16, 32], b: global {dt}[32, 16], c: global {acc}[16, 16]) grid(1) warps(1) {{
    store(c[0.., 0..], dot(load(a[0.., 0..], [16, 32]), load(b[0.., 0..], [32, 16]), zeros<{acc}>[16, 16]));
}}"
        ));
        let text = print_program(&lower_with(&k, &Options::SM80).unwrap());
        assert!(!text.contains("mma.sync") && text.contains(" fma "), "{dt} into {acc}:\n{text}");
    }
}

#[test]
fn the_matmul_example_lowers_to_ldmatrix_and_mma_sync() {
    let src = std::fs::read_to_string(format!("{}/../../examples/matmul.tile", env!("CARGO_MANIFEST_DIR"))).unwrap();
    for (bm, bn, bk) in [("64", "64", "32"), ("128", "128", "64"), ("64", "128", "32")] {
        let k = ops_common::kernel_with(&src, &[("BM", bm), ("BN", bn), ("BK", bk)]);
        let sm80 = lower_with(&k, &Options::SM80).unwrap();
        let text = print_program(&sm80);
        assert!(text.contains("mma.sync.m16n8k16.f32.f16.f16.f32"), "{text}");
        assert!(text.contains("ldmatrix.x4 mma_a") && text.contains("ldmatrix.x4.trans mma_b"), "{text}");
        assert!(!text.contains(" fma ") && !text.contains("shared exchange"), "no scalar-FMA dot loop, no generic conversion:\n{text}");
        // The FMA fallback stages converted operands a second time: within 48 KiB for 64x64x32.
        let scalar = (bm == "64" && bk == "32").then(|| lower_with(&k, &Options::SCALAR).unwrap());
        if let Some(scalar) = &scalar {
            let stext = print_program(scalar);
            assert!(!stext.contains("mma.sync") && !stext.contains("ldmatrix") && stext.contains(" fma "));
        }

        let (m, n, kk) = (77usize, 45usize, 50usize);
        let (a, b, mut args) = inputs(DType::F16, m, n, kk, 17);
        args[2] = vec![0xFF; 2 * m * n];
        let d = dims(&k, m, n, kk);
        let reference = unpack(DType::F16, &interpret(&k, &args, &d)[2], m * n);
        for (what, program) in [("sm_80", Some(&sm80)), ("scalar", scalar.as_ref())] {
            let Some(program) = program else { continue };
            let c = unpack(DType::F16, &emulate(&k, program, &args, &d)[2], m * n);
            for i in 0..m {
                for j in 0..n {
                    let exact: f64 = (0..kk).map(|p| a[i * kk + p] * b[p * n + j]).sum();
                    let (x, y) = (c[i * n + j], reference[i * n + j]);
                    // Rounded to f16 from f32 sums that differ in their last bits: within one f16 ulp.
                    assert!((x - y).abs() <= y.abs() * 2f64.powi(-10) + 1e-6, "{what} {bm}x{bn}x{bk}: c[{i},{j}] = {x}, interpreter {y}");
                    assert!((x - exact).abs() <= exact.abs() * 2f64.powi(-10) + 1e-3, "{what}: c[{i},{j}] = {x}, exact {exact}");
                }
            }
        }
    }
}

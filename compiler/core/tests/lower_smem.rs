//! Shared-memory planning in the lowering (`lower/smem_plan.rs`, `lower/scratch.rs`): `dot`
//! operands read by `ldmatrix` straight from the kernel's shared tiles, swizzled tiles chosen by the
//! bank-conflict analysis, and scratch buffers that reuse each other's bytes. Each lowered program
//! runs on the emulator (races, barriers, uninitialised shared memory, bounds, alignment) against
//! the tile interpreter on ragged sizes with poisoned outputs.

mod ops_common;

use ops_common::{kernel, kernel_with, pack, rng, unpack};
use tilec_core::interp::{self, Arg};
use tilec_core::lower::{lower_with, Options};
use tilec_core::thread::{self, print_program, ArgValue, Program};
use tilec_core::tir::{Kernel, ParamKind};
use tilec_dtype::DType;
use tilec_layout::smem::{self, SmemLayout, WarpAccess};
use tilec_layout::{IntTuple, Layout, Swizzle, SwizzledLayout};

fn dims(k: &Kernel, given: &[(&str, i64)]) -> Vec<i64> {
    k.dims.iter().map(|d| given.iter().find(|(n, _)| n == d).unwrap_or_else(|| panic!("dim {d}")).1).collect()
}

/// Random inputs for every tensor parameter but the last, which is poisoned (NaN).
fn args(k: &Kernel, d: &[i64], seed: u64) -> Vec<Vec<u8>> {
    let mut r = rng(seed);
    let tensors: Vec<(DType, usize)> = k
        .params
        .iter()
        .filter_map(|p| match &p.kind {
            ParamKind::Tensor { dtype, shape, .. } => Some((*dtype, shape.iter().map(|s| match s { tilec_core::tir::Dim::Sym(i) => d[*i] as usize, tilec_core::tir::Dim::Fixed(n) => *n as usize }).product())),
            _ => None,
        })
        .collect();
    let last = tensors.len() - 1;
    tensors.iter().enumerate().map(|(i, &(dt, n))| if i == last { vec![0xFF; n * dt.bits() as usize / 8] } else { pack(dt, &ops_common::random(&mut r, dt, n, 2.0)) }).collect()
}

fn emulate(k: &Kernel, program: &Program, args: &[Vec<u8>], d: &[i64]) -> Result<Vec<Vec<u8>>, String> {
    let mut emu: Vec<ArgValue> = k
        .params
        .iter()
        .zip(args)
        .map(|(p, bytes)| match p.kind {
            ParamKind::Tensor { dtype, .. } => ArgValue::Global { dtype, bytes: bytes.clone() },
            _ => panic!("tensor parameters only"),
        })
        .collect();
    emu.extend(d.iter().map(|&x| ArgValue::Dim(x)));
    let grid = k.grid.clone().map(|e| e.eval(d).expect("grid evaluates") as u32);
    thread::emulate(program, &mut emu, grid, k.threads()).map_err(|e| e.to_string())?;
    Ok(emu.into_iter().filter_map(|a| if let ArgValue::Global { bytes, .. } = a { Some(bytes) } else { None }).collect())
}

fn interpret(k: &Kernel, args: &[Vec<u8>], d: &[i64]) -> Vec<Vec<u8>> {
    let mut tensors = args.to_vec();
    let mut iargs: Vec<Arg<'_>> = tensors.iter_mut().map(|t| Arg::Tensor(t)).collect();
    interp::run(k, &mut iargs, d).expect("interpreter runs");
    drop(iargs);
    tensors
}

/// The program's output (the last tensor, `dt`, `n` elements) on the emulator equals the
/// interpreter's within `tol` relative (f32 sums in another order; f16 results one ulp).
fn agree(k: &Kernel, program: &Program, d: &[i64], seed: u64, dt: DType, n: usize, tol: f64) {
    let args = args(k, d, seed);
    let emu = emulate(k, program, &args, d).unwrap_or_else(|e| panic!("{} {d:?}: {e}", k.name));
    let reference = interpret(k, &args, d);
    let (e, r) = (unpack(dt, emu.last().unwrap(), n), unpack(dt, reference.last().unwrap(), n));
    for (j, (x, y)) in e.iter().zip(&r).enumerate() {
        assert!((x.is_nan() && y.is_nan()) || (x - y).abs() <= tol * (1.0 + y.abs()), "{} dims {d:?}: out[{j}] = {x}, interpreter {y}", k.name);
    }
}

fn matmul_example(defines: &[(&str, &str)]) -> Kernel {
    let src = std::fs::read_to_string(format!("{}/../../examples/matmul.tile", env!("CARGO_MANIFEST_DIR"))).unwrap();
    kernel_with(&src, defines)
}

/// The swizzle in a shared allocation's name (`tile0.Sw<2,3,3>`), the identity without one.
fn swizzle_of(name: &str) -> Swizzle {
    let Some((_, sw)) = name.split_once(".Sw<") else { return Swizzle::identity() };
    let p: Vec<i64> = sw.trim_end_matches('>').split(',').map(|x| x.parse().unwrap()).collect();
    Swizzle::new(p[0], p[1], p[2]).unwrap()
}

#[test]
fn the_pipelined_matmul_reads_its_shared_tiles_with_ldmatrix_and_agrees_with_the_interpreter() {
    // (BM, BN, BK, STAGES); STAGES=3 with BK=64 fills the 48 KiB with the tiles alone.
    for (bm, bn, bk, stages) in [("64", "64", "32", "2"), ("64", "64", "32", "4"), ("64", "32", "16", "3"), ("32", "64", "32", "4"), ("64", "64", "64", "3"), ("128", "64", "32", "2")] {
        let k = matmul_example(&[("PIPELINED", "true"), ("BM", bm), ("BN", bn), ("BK", bk), ("STAGES", stages)]);
        let what = format!("{bm}x{bn}x{bk} stages {stages}");
        let program = lower_with(&k, &Options::SM80).unwrap_or_else(|d| panic!("{what}: {}", d.message));
        let text = print_program(&program);
        // Fragments come from the tile buffers themselves: no staging tiles, no ld.shared.
        assert!(text.contains("ldmatrix.x4 tile0") && text.contains("ldmatrix.x4.trans tile1"), "{what}:\n{text}");
        assert!(!text.contains("mma_a") && !text.contains("mma_b") && !text.contains("ld.shared"), "{what}: no staging round trip");
        assert!(text.contains("cp.async.16 tile0") && text.contains("mma.sync.m16n8k16"), "{what}");
        let (_, total) = program.shared_layout();
        assert!(total <= 48 * 1024, "{what}: {total} bytes");
        for (m, n, kk) in [(70i64, 40i64, 50i64), (33, 70, 64), (130, 65, 97)] {
            let d = dims(&k, &[("M", m), ("N", n), ("K", kk)]);
            agree(&k, &program, &d, (m + n + kk) as u64, DType::F16, (m * n) as usize, 2f64.powi(-10));
        }
    }
}

#[test]
fn the_tile_swizzle_removes_the_bank_conflicts_of_the_matmul_tiles() {
    let k = matmul_example(&[("PIPELINED", "true"), ("BM", "64"), ("BN", "64"), ("BK", "32"), ("STAGES", "3")]);
    let program = lower_with(&k, &Options::SM80).unwrap();
    let sw_a = swizzle_of(&program.shared[0].name);
    let sw_b = swizzle_of(&program.shared[1].name);
    assert!(!sw_a.is_identity() && !sw_b.is_identity(), "{:?}", program.shared);
    // A [64, 32] f16 per stage: 4 warps read it with ldmatrix.x4 (16 rows x 16 columns each) and the
    // 128 threads copy it in 16-byte chunks, 4 per row. B [32, 64]: ldmatrix.x4.trans, 8 chunks a row.
    let plane = |rows: i64, cols: i64| Layout::row_major(IntTuple::from(vec![rows, cols])).unwrap();
    let accesses = |rows: i64, cols: i64| {
        let mut out = Vec::new();
        for r0 in (0..rows).step_by(16) {
            for c0 in (0..cols).step_by(16) {
                out.push(WarpAccess::ldmatrix(&[[r0, c0], [r0 + 8, c0], [r0, c0 + 8], [r0 + 8, c0 + 8]], 16).unwrap());
            }
        }
        let chunks: Vec<Vec<i64>> = (0..rows * cols / 8).map(|c| vec![c / (cols / 8), c % (cols / 8) * 8]).collect();
        out.extend(chunks.chunks(32).map(|lanes| WarpAccess::vectorized(lanes, 8, 16).unwrap()));
        out
    };
    for (what, rows, cols, sw) in [("A", 64, 32, sw_a), ("B", 32, 64, sw_b)] {
        let acc = accesses(rows, cols);
        let plain = smem::analyze_all(&SmemLayout::Plain(plane(rows, cols)), 16, &acc).unwrap();
        let swizzled = smem::analyze_all(&SmemLayout::Swizzled(SwizzledLayout::new(sw, plane(rows, cols))), 16, &acc).unwrap();
        assert!(swizzled.vectors_intact, "{what}: {sw} splits vectors");
        assert!(swizzled.conflicts < plain.conflicts, "{what}: {sw} has {} conflicts, row-major {}", swizzled.conflicts, plain.conflicts);
        assert_eq!(swizzled.conflicts, 0, "{what}: {sw}");
    }
}

#[test]
fn scratch_buffers_share_bytes_where_their_live_ranges_do_not_overlap() {
    // The FMA fallback of the 128x128x64 matmul converts both operands, stages them, and relays out
    // the accumulator: 16 + 16 KiB of staged operands live at once, exchanges before and after.
    // One buffer after another would need more than 48 KiB.
    let k = matmul_example(&[("BM", "128"), ("BN", "128"), ("BK", "64")]);
    let program = lower_with(&k, &Options::SCALAR).unwrap_or_else(|d| panic!("{}", d.message));
    let sum: u32 = program.shared.iter().map(|a| a.bytes.next_multiple_of(16)).sum();
    let (offsets, total) = program.shared_layout();
    assert!(sum > 48 * 1024 && total <= 48 * 1024, "without reuse {sum} bytes, planned {total}");
    assert!(offsets.iter().zip(&offsets[1..]).any(|(a, b)| b <= a), "some buffer reuses bytes: {offsets:?}");
    // Reuse introduces no race (the emulator checks every byte per barrier epoch), and the results
    // stay the interpreter's.
    for (m, n, kk) in [(130i64, 70i64, 100i64), (64, 128, 64)] {
        let d = dims(&k, &[("M", m), ("N", n), ("K", kk)]);
        agree(&k, &program, &d, m as u64, DType::F16, (m * n) as usize, 2f64.powi(-10));
    }
}

#[test]
fn a_loop_of_reductions_reuses_one_scratch_region_without_races() {
    // Each iteration: two cross-warp column reductions, one after the other, each with its own
    // scratch buffer: they share bytes, and the loop's back edge crosses their closing barriers.
    let k = kernel(
        "
kernel k(x: global f32[M, N], y: global f32[M, N]) grid(cdiv(M, 64)) warps(4) {
    let m0 = block.x * 64;
    let acc = zeros<f32>[64, 128];
    for j in range(0, N, 128) {
        let t = load(x[m0.., j..], [64, 128]);
        let s = sum(t, dim: 0, keepdim: true);
        let h = max(t, dim: 0, keepdim: true);
        acc = acc + t * s + h;
    }
    store(y[m0.., 0..], acc);
}",
    );
    let program = lower_with(&k, &Options::SM80).unwrap_or_else(|d| panic!("{}", d.message));
    let sum: u32 = program.shared.iter().map(|a| a.bytes.next_multiple_of(16)).sum();
    let (_, total) = program.shared_layout();
    assert!(program.shared.len() >= 2 && total < sum, "planned {total}, one after another {sum}: {:?}", program.shared);
    for (m, n) in [(70i64, 128i64), (130, 256)] {
        let d = dims(&k, &[("M", m), ("N", n)]);
        agree(&k, &program, &d, n as u64, DType::F32, (m * n) as usize, 1e-4);
    }
}

/// Counts of the program's `cp.async` copies and vector `ld.global`s in its printed text.
fn copies(text: &str) -> (usize, usize) {
    let cp = text.lines().filter(|l| l.contains("cp.async")).count();
    let vld = text.lines().filter(|l| l.contains("ld.global") && l.contains("x8")).count();
    (cp, vld)
}

#[test]
fn without_cp_async_the_pipelined_matmul_copies_its_tiles_synchronously_and_agrees_with_the_interpreter() {
    // AMD (`SCALAR`: no cp.async, dot as FMAs), and sm_80 with cp.async taken away: there the tiles
    // are swizzled for ldmatrix, so the synchronous copies go through the swizzle too.
    let no_cp_async = Options { cp_async: false, ..Options::SM80 };
    for (bm, bn, bk, stages) in [("64", "64", "32", "2"), ("32", "64", "32", "3"), ("64", "32", "16", "4"), ("32", "32", "64", "2")] {
        let k = matmul_example(&[("PIPELINED", "true"), ("BM", bm), ("BN", bn), ("BK", bk), ("STAGES", stages)]);
        let what = format!("{bm}x{bn}x{bk} stages {stages}");
        let with = print_program(&lower_with(&k, &Options::SM80).unwrap_or_else(|d| panic!("{what}: {}", d.message)));
        assert!(with.contains("cp.async.16 tile0") && with.contains("cp.async.commit_group") && with.contains("cp.async.wait_group"), "{what}: sm_80 keeps cp.async");
        for (target, options) in [("scalar", Options::SCALAR), ("sm_80 without cp.async", no_cp_async)] {
            let program = lower_with(&k, &options).unwrap_or_else(|d| panic!("{what} {target}: {}", d.message));
            let text = print_program(&program);
            let (cp, vld) = copies(&text);
            assert_eq!(cp, 0, "{what} {target}: no cp.async, no groups:\n{text}");
            // The whole 16-byte chunks stay whole: 8 f16 a load.
            assert!(vld > 0, "{what} {target}: vector loads of whole chunks:\n{text}");
            if options.ldmatrix {
                assert!(program.shared.iter().any(|a| !swizzle_of(&a.name).is_identity()), "{what} {target}: swizzled tiles {:?}", program.shared);
            }
            // Ragged M, N and K: chunks wholly outside (zeros), straddling the edge, and misaligned
            // rows (odd K, odd N) copied element by element.
            for (m, n, kk) in [(70i64, 40i64, 50i64), (33, 70, 64), (130, 65, 97)] {
                let d = dims(&k, &[("M", m), ("N", n), ("K", kk)]);
                agree(&k, &program, &d, (m + n + kk) as u64, DType::F16, (m * n) as usize, 2f64.powi(-10));
            }
        }
    }
}

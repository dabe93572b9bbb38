//! `atomic_add` in the thread-level lowering (lower/atomics.rs), run on the emulator (every thread
//! of every block) against the tile interpreter and against references computed here in f64 or
//! exactly: partial column sums of many blocks meeting in one row on ragged sizes and 1 to 8
//! warps, replicated layouts (a tile smaller than the block, a reduction's result held by many
//! threads) adding each element once, integer wrap-around, and the dtypes no GPU adds atomically
//! refused with a diagnostic.

mod ops_common;

use ops_common::{emulate_and_interpret, kernel, kernel_with, pack, pack_i, rng, unpack, unpack_i};
use rand::Rng;
use tilec_core::thread;
use tilec_core::tir::Kernel;
use tilec_dtype::DType;

fn column_sums_source(warps: u32) -> String {
    let src = std::fs::read_to_string(format!("{}/../../tests/kernels/column_sums.tile", env!("CARGO_MANIFEST_DIR"))).unwrap();
    assert!(src.contains("warps(4)"));
    src.replace("warps(4)", &format!("warps({warps})"))
}

/// Runs `k` on the emulator and on the interpreter with `tensors` (one per tensor parameter);
/// returns both sets of tensors afterwards.
fn run_both(k: &Kernel, tensors: &[Vec<u8>], dims: &[i64]) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    emulate_and_interpret(k, tensors, dims)
}

/// `out[j] = init[j] + Σ_i x[i, j]` over ragged M×N with every tile size and 1 to 8 warps: the
/// blocks of a column add their partial sums into one element. Compared with an f64 reference
/// (f32 sums in another order differ by rounding only) and with the interpreter.
#[test]
fn column_sums_match_an_f64_reference_on_ragged_sizes_and_warp_counts() {
    let mut g = rng(7);
    for warps in [1, 2, 4, 8] {
        let src = column_sums_source(warps);
        for (bm, bn) in [("32", "64"), ("16", "32"), ("8", "256"), ("64", "16")] {
            let k = kernel_with(&src, &[("BM", bm), ("BN", bn)]);
            for (m, n) in [(1usize, 1usize), (45, 130), (100, 33), (3, 257)] {
                let x: Vec<f64> = (0..m * n).map(|_| g.random_range(-2.0..2.0f64)).collect();
                let init: Vec<f64> = (0..n).map(|_| g.random_range(-1.0..1.0f64)).collect();
                let (x, init) = (unpack(DType::F32, &pack(DType::F32, &x), m * n), unpack(DType::F32, &pack(DType::F32, &init), n));
                let (emu, interp) = run_both(&k, &[pack(DType::F32, &x), pack(DType::F32, &init)], &[m as i64, n as i64]);
                let (e, r) = (unpack(DType::F32, &emu[1], n), unpack(DType::F32, &interp[1], n));
                for j in 0..n {
                    let want = init[j] + (0..m).map(|i| x[i * n + j]).sum::<f64>();
                    let scale = 1.0 + (0..m).map(|i| x[i * n + j].abs()).sum::<f64>();
                    let what = format!("warps {warps}, BM {bm}, BN {bn}, {m}x{n}: out[{j}]");
                    assert!((e[j] - want).abs() <= 1e-6 * scale, "{what}: emulator {}, f64 {want}", e[j]);
                    assert!((e[j] - r[j]).abs() <= 1e-6 * scale, "{what}: emulator {}, interpreter {}", e[j], r[j]);
                }
                // The input is untouched.
                assert_eq!(unpack(DType::F32, &emu[0], m * n), x);
            }
        }
    }
}

/// A tile of 8 ones added by a block of 128 threads: its layout replicates every element over
/// many threads, and only the first holder adds it, so each block adds exactly 1 per element.
/// Integers make a double count exact to see.
#[test]
fn replicated_elements_are_added_once() {
    let src = "kernel ones(out: global i32[N]) grid(3) warps(4) {
    atomic_add(out[2..], zeros<i32>[8] + 1);
}";
    let k = kernel(src);
    let n = 12;
    let init: Vec<i128> = (0..n).map(|i| i * 100).collect();
    let (emu, interp) = run_both(&k, &[pack_i(DType::I32, &init)], &[n as i64]);
    let want: Vec<i128> = (0..n).map(|i| i * 100 + if (2..10).contains(&i) { 3 } else { 0 }).collect();
    assert_eq!(unpack_i(DType::I32, &emu[0], n as usize), want);
    assert_eq!(unpack_i(DType::I32, &interp[0], n as usize), want);

    // Row sums of a 4×64 tile over 256 threads: each sum is held by the threads of the reduced
    // mode, plus a ragged edge (N = 6 of the 8 target elements).
    let src = "kernel rows(x: global i64[4, 64], out: global i64[N]) grid(2) warps(8) {
    atomic_add(out[0..], sum(load(x[0.., 0..], [8, 64]), dim: 1));
}";
    let k = kernel(src);
    let x: Vec<i128> = (0..256).map(|i| i * 7 - 300).collect();
    let (emu, interp) = run_both(&k, &[pack_i(DType::I64, &x), pack_i(DType::I64, &[0; 6])], &[6]);
    let mut want = vec![0i128; 6];
    for (r, w) in want.iter_mut().enumerate().take(4) {
        *w = 2 * (0..64).map(|c| x[r * 64 + c]).sum::<i128>();
    }
    assert_eq!(unpack_i(DType::I64, &emu[1], 6), want);
    assert_eq!(unpack_i(DType::I64, &interp[1], 6), want);
}

/// u32 and i32 sums wrap around like the interpreter's.
#[test]
fn integer_atomics_wrap() {
    let src = "kernel wrap(x: global u32[N], out: global u32[1]) grid(cdiv(N, 64)) warps(2) {
    atomic_add(out[0..], sum(load(x[block.x * 64..], [64]), dim: 0, keepdim: true));
}";
    let k = kernel(src);
    let n = 300usize;
    let x: Vec<i128> = (0..n as i128).map(|i| 4_000_000_000 - i).collect();
    let (emu, interp) = run_both(&k, &[pack_i(DType::U32, &x), pack_i(DType::U32, &[5])], &[n as i64]);
    let want = (5 + x.iter().sum::<i128>()).rem_euclid(1 << 32);
    assert_eq!(unpack_i(DType::U32, &emu[1], 1), vec![want]);
    assert_eq!(unpack_i(DType::U32, &interp[1], 1), vec![want]);
}

/// Narrow integers (and other dtypes without a hardware atomic add) are refused at the call, with
/// the dtype named.
#[test]
fn dtypes_without_an_atomic_add_are_refused() {
    for dt in ["i16", "u8", "f8e4m3"] {
        let src = format!(
            "kernel narrow(x: global {dt}[N], out: global {dt}[N]) grid(1) warps(1) {{
    atomic_add(out[0..], load(x[0..], [32]));
}}"
        );
        let k = kernel(&src);
        let d = tilec_core::lower::lower(&k).unwrap_err();
        assert!(d.message.contains(&format!("no atomic add of {dt} elements")), "{}", d.message);
        let rendered = tilec_core::diag::render_all(&[d], &tilec_core::Source::new("k.tile", &src), false);
        assert!(rendered.contains("atomic_add(out[0..]"), "{rendered}");
    }
}

/// The lowered program issues one `red.global.add` per slot, each under a predicate.
#[test]
fn one_predicated_atomic_per_slot() {
    let k = kernel_with(&column_sums_source(4), &[("BM", "32"), ("BN", "64")]);
    let p = tilec_core::lower::lower(&k).unwrap();
    let text = thread::print_program(&p);
    let atomics: Vec<&str> = text.lines().filter(|l| l.contains("red.global.add")).collect();
    // 64 columns over 128 threads in the reduced tile's layout: at most 64 per thread, at least 1.
    assert!(!atomics.is_empty() && atomics.len() <= 64, "{text}");
    assert!(atomics.iter().all(|l| l.contains(" if %")), "{text}");
}

/// `atomic_add` into a strided tensor addresses its elements by the declared strides, on the
/// emulator and in the interpreter alike (every third element of `out`; the others stay poisoned).
#[test]
fn atomics_into_strided_tensors_follow_the_strides() {
    let k = kernel(
        "kernel strided_sums(x: global i32[M, N], out: global i32[N] strides(S)) grid(cdiv(M, 16)) warps(2) {
    atomic_add(out[0..], sum(load(x[block.x * 16.., 0..], [16, 32]), dim: 0));
}",
    );
    let (m, n, s) = (45usize, 29usize, 3usize);
    let dims: Vec<i64> = k.dims.iter().map(|d| match d.as_str() { "M" => m as i64, "N" => n as i64, _ => s as i64 }).collect();
    let mut r = rng(7);
    let x: Vec<i128> = (0..m * n).map(|_| r.random_range(-1000..1000)).collect();
    let poison = -7i128;
    let out: Vec<i128> = vec![poison; n * s];
    let (emu, interp) = run_both(&k, &[pack_i(DType::I32, &x), pack_i(DType::I32, &out)], &dims);
    for (name, got) in [("emulator", &emu[1]), ("interpreter", &interp[1])] {
        let got = unpack_i(DType::I32, got, n * s);
        for (i, &g) in got.iter().enumerate() {
            let want = if i % s == 0 { poison + (0..m).map(|row| x[row * n + i / s]).sum::<i128>() } else { poison };
            assert_eq!(g, want, "{name}: out buffer[{i}]");
        }
    }
}

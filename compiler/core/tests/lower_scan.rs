//! `cumsum`, `repeat` and `bitcast` in the thread-level lowering (lower/scan.rs, lower/repack.rs),
//! run on the emulator against the tile interpreter and against references computed here another
//! way (exact integer prefix sums wrapped to the type, f64 float prefix sums, numpy-style tiling,
//! bytes reinterpreted in Rust), on ragged tensors with masked loads and poisoned outputs.

mod ops_common;

use ops_common::{emulate_and_interpret, kernel, pack, pack_i, rng, unpack, unpack_i};
use rand::Rng;
use tilec_core::thread::print_program;
use tilec_core::tir::Kernel;
use tilec_dtype::DType;

/// Runs `k` (grid 1) on the emulator and on the interpreter with `inputs` for the tensors it reads
/// and 0xFF poison for the others; returns both sets of tensors.
fn run_both(k: &Kernel, inputs: &[Vec<u8>], sizes: &[(usize, DType)], dims: &[i64]) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let mut given = inputs.iter();
    let args: Vec<Vec<u8>> = k
        .params
        .iter()
        .enumerate()
        .map(|(i, _)| if k.reads(i) { given.next().expect("an input per read tensor").clone() } else { vec![0xFF; sizes[i].1.nbytes(sizes[i].0)] })
        .collect();
    emulate_and_interpret(k, &args, dims)
}

/// Random representable values of `dt`: integers over most of a narrow type's range (so prefix sums
/// wrap), floats in [-2, 2].
fn random_values(dt: DType, n: usize, seed: u64) -> Vec<f64> {
    let mut g = rng(seed);
    (0..n)
        .map(|_| match dt {
            d if d.is_float() => tilec_dtype::round(d, g.random_range(-2.0..2.0)),
            d if d.is_signed() => f64::from(g.random_range(-100..100)),
            _ => f64::from(g.random_range(0..200)),
        })
        .collect()
}

/// `v` wrapped to integer type `dt`.
fn wrap(dt: DType, v: i128) -> i128 {
    let m = 1i128 << dt.bits();
    let w = v.rem_euclid(m);
    if dt.is_signed() && w >= m / 2 {
        w - m
    } else {
        w
    }
}

/// One cumsum case: a `tile` loaded (masked) from an `r x c` tensor, scanned along `dim`.
struct Scan<'a> {
    dt: DType,
    warps: u32,
    tile: [usize; 2],
    tensor: [usize; 2],
    dim: usize,
    /// A layout to put the loaded tile in first.
    layout: Option<&'a str>,
}

impl Scan<'_> {
    fn source(&self) -> String {
        let [br, bc] = self.tile;
        let t = self.dt;
        let loaded = format!("load(x[0.., 0..], [{br}, {bc}])");
        let loaded = match self.layout {
            Some(l) => format!("layout({loaded}, \"{l}\")"),
            None => loaded,
        };
        format!(
            "kernel scan(x: global {t}[R, C], y: global {t}[R, C]) grid(1) warps({}) {{
    store(y[0.., 0..], cumsum({loaded}, dim: {}));
}}",
            self.warps, self.dim
        )
    }

    /// Runs both executors and checks them against each other and against prefix sums computed here.
    fn check(&self, seed: u64) {
        let src = self.source();
        let k = kernel(&src);
        let [r, c] = self.tensor;
        let n = r * c;
        let x = random_values(self.dt, n, seed);
        let (emu, reference) = run_both(&k, &[pack(self.dt, &x)], &[(n, self.dt), (n, self.dt)], &[r as i64, c as i64]);
        let case = format!("{src}\n{r} x {c}");
        assert_eq!(emu[0], reference[0], "the input is left alone: {case}");
        let (rows, cols) = (r.min(self.tile[0]), c.min(self.tile[1]));
        let inside = |i: usize, j: usize| i < rows && j < cols;
        // The prefix ending at (i, j) along the scanned dimension, inside the tile and the tensor.
        let prefix: Vec<(usize, usize)> = (0..n).map(|e| (e / c, e % c)).collect();
        let along = |i: usize, j: usize| -> Vec<usize> {
            if self.dim == 0 {
                (0..=i).map(|a| a * c + j).collect()
            } else {
                (0..=j).map(|b| i * c + b).collect()
            }
        };
        if self.dt.is_float() {
            let (e, rf) = (unpack(self.dt, &emu[1], n), unpack(self.dt, &reference[1], n));
            let eps = match self.dt.bits() {
                64 => f64::EPSILON,
                32 => f64::from(f32::EPSILON),
                _ => 2f64.powi(-10),
            };
            for (idx, &(i, j)) in prefix.iter().enumerate() {
                if !inside(i, j) {
                    assert!(e[idx].is_nan() && rf[idx].is_nan(), "y[{i}, {j}] outside the tile stays poisoned: {case}");
                    continue;
                }
                let terms = along(i, j);
                let want: f64 = terms.iter().map(|&t| x[t]).sum();
                let magnitude: f64 = terms.iter().map(|&t| x[t].abs()).sum();
                // Rounding of the partial sums: at most one unit per addition (plus the final rounding).
                let tol = eps * (terms.len() as f64 + 1.0) * (magnitude + 1.0);
                assert!((e[idx] - want).abs() <= tol, "emulator y[{i}, {j}] = {} want {want} (±{tol}): {case}", e[idx]);
                assert!((e[idx] - rf[idx]).abs() <= 2.0 * tol, "emulator y[{i}, {j}] = {} interpreter {}: {case}", e[idx], rf[idx]);
            }
        } else {
            assert_eq!(emu[1], reference[1], "integers agree exactly with the interpreter: {case}");
            let got = unpack_i(self.dt, &emu[1], n);
            for (idx, &(i, j)) in prefix.iter().enumerate() {
                if !inside(i, j) {
                    continue;
                }
                let want = wrap(self.dt, along(i, j).iter().map(|&t| x[t] as i128).sum());
                assert_eq!(got[idx], want, "y[{i}, {j}]: {case}");
            }
            let untouched = pack_i(self.dt, &[wrap(self.dt, -1)]);
            for (idx, &(i, j)) in prefix.iter().enumerate() {
                if !inside(i, j) && self.dt.bits() >= 8 {
                    let b = (self.dt.bits() / 8) as usize;
                    assert_eq!(emu[1][idx * b..(idx + 1) * b], untouched[..], "y[{i}, {j}] outside the tile stays poisoned: {case}");
                }
            }
        }
    }
}

#[test]
fn cumsum_along_rows_and_columns_matches_the_interpreter_and_exact_prefix_sums() {
    let dtypes = [DType::F32, DType::F16, DType::I32, DType::I8, DType::U8];
    let mut seed = 0;
    for dt in dtypes {
        for warps in [1u32, 2, 4, 8] {
            for (tile, tensor) in [([1, 256], [1, 200]), ([16, 64], [13, 64]), ([64, 32], [70, 29]), ([8, 1024], [5, 1000]), ([4, 8], [3, 8])] {
                for dim in 0..2 {
                    seed += 1;
                    Scan { dt, warps, tile, tensor, dim, layout: None }.check(seed);
                }
            }
        }
    }
}

#[test]
fn cumsum_of_64_bit_values_moves_them_in_halves() {
    for dt in [DType::I64, DType::F64] {
        for warps in [1u32, 4] {
            for dim in 0..2 {
                Scan { dt, warps, tile: [32, 64], tensor: [29, 61], dim, layout: None }.check(u64::from(warps) + dim as u64);
            }
        }
    }
    let text = print_program(&tilec_core::lower::lower(&kernel(&Scan { dt: DType::I64, warps: 1, tile: [1, 64], tensor: [1, 64], dim: 1, layout: None }.source())).unwrap());
    assert!(text.contains("shfl.sync.up"), "{text}");
}

#[test]
fn cumsum_in_layouts_that_interleave_thread_and_value_modes() {
    // Along dimension 1: 2 values in a thread, 4 lanes, 2 more values, 2 more lanes; replicated
    // and spread rows besides.
    for (layout, warps, tile) in [
        ("spatial(1,2).local(1,2).spatial(4,4).local(1,2)", 1, [4, 32]),
        ("local(2,1).spatial(8,4).local(1,4)", 1, [16, 16]),
        ("replicate(2).spatial(2,32).local(2,2)", 4, [4, 64]),
        ("column_spatial(8,16).local(1,2)", 4, [8, 32]),
        ("spatial(128,1)", 4, [128, 1]),
    ] {
        for dim in 0..2 {
            for dt in [DType::F32, DType::I8] {
                let tensor = [tile[0] - 1, tile[1].max(2) - 1];
                let tensor = [tensor[0].max(1), tensor[1].max(1)];
                Scan { dt, warps, tile, tensor, dim, layout: Some(layout) }.check(7);
            }
        }
    }
}

#[test]
fn cumsum_scans_within_warps_by_shfl_up_and_across_warps_through_shared_memory() {
    let lower = |warps, tile| print_program(&tilec_core::lower::lower(&kernel(&Scan { dt: DType::F32, warps, tile, tensor: tile, dim: 1, layout: None }.source())).unwrap());
    let one_warp = lower(1, [1, 128]);
    assert!(one_warp.contains("shfl.sync.up") && !one_warp.contains("bar.sync"), "{one_warp}");
    let four_warps = lower(4, [1, 512]);
    assert!(four_warps.contains("shfl.sync.up") && four_warps.contains("bar.sync"), "{four_warps}");
}

#[test]
fn cumsum_of_a_small_tile_in_a_big_block_and_in_a_loop() {
    // 8 elements over 256 threads: most threads hold replicas. In a loop, the shared buffer of the
    // cross-warp exchange is reused on every iteration.
    let k = kernel(
        "kernel looped(x: global i32[N], y: global i32[N], z: global i32[N]) grid(1) warps(8) {
    let acc = zeros<i32>[1024];
    for i in range(0, 3) {
        acc = acc + cumsum(load(x[i..], [1024]), dim: 0);
    }
    store(y[0..], acc);
    store(z[0..], cumsum(load(x[0..], [8]), dim: 0));
}",
    );
    for n in [1000usize, 1030, 5] {
        let x = random_values(DType::I32, n, n as u64);
        let (emu, reference) = run_both(&k, &[pack(DType::I32, &x)], &[(n, DType::I32); 3], &[n as i64]);
        assert_eq!(emu, reference, "n={n}");
        let (y, z) = (unpack_i(DType::I32, &emu[1], n), unpack_i(DType::I32, &emu[2], n));
        let get = |j: usize| if j < n { x[j] as i128 } else { 0 };
        for (j, &got) in y.iter().enumerate().take(1024) {
            let want: i128 = (0..3).map(|i| (0..=j).map(|t| get(t + i)).sum::<i128>()).sum();
            assert_eq!(got, want, "y[{j}] n={n}");
        }
        for (j, &got) in z.iter().enumerate().take(8) {
            assert_eq!(got, (0..=j).map(get).sum::<i128>(), "z[{j}] n={n}");
        }
    }
}

/// The dims of `k` by name.
fn dims_of(k: &Kernel, given: &[(&str, usize)]) -> Vec<i64> {
    k.dims.iter().map(|d| given.iter().find(|(n, _)| n == d).unwrap_or_else(|| panic!("dim {d}")).1 as i64).collect()
}

#[test]
fn repeat_matches_the_interpreter_and_numpy_tile() {
    for (dt, warps, tile, reps, tensor) in [
        (DType::F32, 4u32, [8usize, 16usize], [2usize, 3usize], [7usize, 13usize]),
        (DType::I8, 1, [4, 32], [3, 1], [4, 20]),
        (DType::F16, 8, [1, 64], [4, 2], [1, 50]),
        (DType::U8, 2, [16, 4], [1, 8], [9, 4]),
        (DType::I32, 4, [2, 2], [16, 32], [1, 2]),
    ] {
        let ([br, bc], [a, b], [r, c]) = (tile, reps, tensor);
        let src = format!(
            "kernel rep(x: global {dt}[R, C], y: global {dt}[S, T]) grid(1) warps({warps}) {{
    store(y[0.., 0..], repeat(load(x[0.., 0..], [{br}, {bc}]), [{a}, {b}]));
}}"
        );
        let k = kernel(&src);
        let (s, t) = (br * a, bc * b);
        let x = random_values(dt, r * c, (r * c) as u64);
        let dims = dims_of(&k, &[("R", r), ("C", c), ("S", s), ("T", t)]);
        let (emu, reference) = run_both(&k, &[pack(dt, &x)], &[(r * c, dt), (s * t, dt)], &dims);
        assert_eq!(emu[1], reference[1], "{src}");
        let y = unpack(dt, &emu[1], s * t);
        for i in 0..s {
            for j in 0..t {
                let (si, sj) = (i % br, j % bc);
                let want = if si < r && sj < c { x[si * c + sj] } else { 0.0 };
                assert_eq!(y[i * t + j], want, "y[{i}, {j}]: {src}");
            }
        }
    }
}

/// `view<to>` of a `tile` loaded (masked) from an `r x c` tensor of `from`, against the interpreter
/// and against the tile's bytes reinterpreted here.
fn check_bitcast(from: DType, to: DType, warps: u32, tile: [usize; 2], tensor: [usize; 2], layout: Option<&str>) -> String {
    let ([br, bc], [r, c]) = (tile, tensor);
    let t = bc * from.bits() as usize / to.bits() as usize;
    let loaded = format!("load(x[0.., 0..], [{br}, {bc}])");
    let loaded = layout.map_or(loaded.clone(), |l| format!("layout({loaded}, \"{l}\")"));
    let src = format!(
        "kernel view(x: global {from}[R, C], y: global {to}[S, {t}]) grid(1) warps({warps}) {{
    store(y[0.., 0..], view<{to}>({loaded}));
}}"
    );
    let k = kernel(&src);
    let mut g = rng((r * c + t) as u64);
    // Integer sources take random codes; float sources random values (no NaN payloads).
    let x: Vec<f64> = if from.is_float() {
        random_values(from, r * c, 3)
    } else {
        (0..r * c).map(|_| wrap(from, g.random_range(0..1i128 << from.bits())) as f64).collect()
    };
    let dims = dims_of(&k, &[("R", r), ("C", c), ("S", br), ("T", t)]);
    let (emu, reference) = run_both(&k, &[pack(from, &x)], &[(r * c, from), (br * t, to)], &dims);
    let tile_values: Vec<f64> = (0..br * bc).map(|e| if e / bc < r && e % bc < c { x[e / bc * c + e % bc] } else { 0.0 }).collect();
    let want = unpack(to, &pack(from, &tile_values), br * t);
    for (name, out) in [("emulator", &emu[1]), ("interpreter", &reference[1])] {
        let got = unpack(to, out, br * t);
        for (e, (g, w)) in got.iter().zip(&want).enumerate() {
            assert!(g == w || (g.is_nan() && w.is_nan()), "{name} y[{}, {}] = {g} want {w}: {src}", e / t, e % t);
        }
    }
    print_program(&tilec_core::lower::lower(&k).unwrap())
}

#[test]
fn bitcast_widening_narrowing_and_same_width_match_the_interpreter_and_the_bytes() {
    check_bitcast(DType::U8, DType::U32, 4, [8, 64], [5, 61], None);
    check_bitcast(DType::I32, DType::U8, 2, [16, 16], [16, 9], None);
    check_bitcast(DType::F32, DType::I32, 1, [4, 32], [3, 32], None);
    check_bitcast(DType::U8, DType::F16, 4, [4, 128], [4, 100], None);
    check_bitcast(DType::F16, DType::U8, 8, [2, 256], [2, 255], None);
    check_bitcast(DType::I16, DType::I64, 1, [4, 16], [4, 15], None);
    // Sub-byte results are stored packed.
    check_bitcast(DType::U8, DType::Int { bits: 4, signed: false }, 4, [8, 32], [8, 31], None);
    check_bitcast(DType::Int { bits: 4, signed: false }, DType::U8, 1, [8, 64], [8, 64], None);
}

#[test]
fn bitcast_of_a_layout_without_whole_groups_converts_it_first() {
    // One byte per thread: the four bytes of a u32 are gathered into one thread first.
    let text = check_bitcast(DType::U8, DType::U32, 8, [8, 32], [7, 30], Some("spatial(8,32)"));
    assert!(text.contains("bitcast"), "{text}");
}

#[test]
fn bitcast_between_widths_that_do_not_divide_groups_whole_elements() {
    // Three bytes are four 6-bit codes: no register layout pairs them up by the inference's rule,
    // which refuses the bitcast (as the lowering would a layout splitting a group): a diagnostic,
    // never a wrong result.
    let f6: DType = "f6e3m2".parse().unwrap();
    let i6 = DType::Int { bits: 6, signed: true };
    for (from, to, bc) in [(DType::U8, i6, 48usize), (i6, DType::U8, 64), (DType::U8, f6, 12)] {
        let src = format!(
            "kernel view(x: global {from}[R, C], y: global {to}[S, T]) grid(1) warps(1) {{
    store(y[0.., 0..], view<{to}>(load(x[0.., 0..], [4, {bc}])));
}}"
        );
        match tilec_core::lower::lower(&kernel(&src)) {
            Ok(_) => {
                check_bitcast(from, to, 1, [4, bc], [4, bc], None);
            }
            Err(e) => assert!(e.message.contains("whole groups") || e.message.contains("cannot produce the layout"), "{src}: {}", e.message),
        }
    }
}

//! `atomic_add` (masked read-modify-write across blocks) and `print` (one stderr line per block).

mod ops_common;
use ops_common::*;
use rand::Rng;
use tilec_core::interp::Arg;
use tilec_dtype::DType;

#[test]
fn atomic_add_accumulates_column_sums_across_blocks() {
    // Each block adds its 8 rows' column sums into y; the grid covers M rows raggedly.
    let src = "kernel k(x: global i32[M, N], y: global i32[N], f: global bf16[N], g: global bf16[N]) grid(cdiv(M, 8)) {
    let r = block.x * 8;
    let v = load(x[r.., ..], [8, 32]);
    atomic_add(y[..], sum(v, dim: 0));
    atomic_add(f, cast<bf16>(sum(v, dim: 0)));
    atomic_add(g[-3..], zeros<bf16>[32] + 1.0);
}";
    let k = kernel(src);
    let (m, n) = (45, 29);
    let mut g = rng(41);
    let x: Vec<i128> = (0..m * n).map(|_| g.random_range(-1_000_000_000..1_000_000_000)).collect();
    let y0: Vec<i128> = (0..n).map(|_| g.random_range(-1000..1000)).collect();
    let (mut xb, mut yb) = (pack_i(DType::I32, &x), pack_i(DType::I32, &y0));
    let (mut fb, mut gb) = (pack(DType::BF16, &vec![0.0; n]), pack(DType::BF16, &vec![0.5; n]));
    run(&k, &mut [Arg::Tensor(&mut xb), Arg::Tensor(&mut yb), Arg::Tensor(&mut fb), Arg::Tensor(&mut gb)], &[m as i64, n as i64]);
    let y = unpack_i(DType::I32, &yb, n);
    let wrap = |v: i128| {
        let w = v.rem_euclid(1 << 32);
        if w >= 1 << 31 { w - (1 << 32) } else { w }
    };
    let (f, gg) = (unpack(DType::BF16, &fb, n), unpack(DType::BF16, &gb, n));
    for j in 0..n {
        let mut acc = y0[j];
        let mut facc = 0.0f64;
        for b in 0..m.div_ceil(8) {
            let part = wrap((b * 8..(b * 8 + 8).min(m)).map(|i| x[i * n + j]).sum::<i128>());
            acc += part;
            // cast<bf16> of the i32 block sum, then a bf16 add rounded once (f64 holds both exactly).
            let p = tilec_dtype::decode(DType::BF16, tilec_dtype::encode_int(DType::BF16, part));
            facc = tilec_dtype::round(DType::BF16, facc + p);
        }
        assert_eq!(y[j], wrap(acc), "y[{j}]");
        assert_eq!(f[j], facc, "f[{j}]");
        // The view at -3 covers columns -3..29: every in-bounds column gets 1 per block.
        assert_eq!(gg[j], if j < 29 { 0.5 + m.div_ceil(8) as f64 } else { 0.5 });
    }
}

const PRINT: &str = "kernel k(x: global f32[N], i: global i16[2, 3]) grid(2) {
    let v = load(x[block.x * 2..], [2]);
    print(\"values\", v, block.x, load(i, [2, 3]) < 0, sum(v) > 1.0);
    print(\"hello\");
}";

#[test]
fn print_writes_one_line_per_block() {
    if std::env::var_os("TILEC_OPS_PRINT_CHILD").is_some() {
        let k = kernel(PRINT);
        let mut xb = pack(DType::F32, &[0.5, 1.25, -3.0, 0.1]);
        let mut ib = pack_i(DType::I16, &[1, -2, 3, -4, 5, -6]);
        run(&k, &mut [Arg::Tensor(&mut xb), Arg::Tensor(&mut ib)], &[4]);
        return;
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "print_writes_one_line_per_block", "--nocapture", "--test-threads=1"])
        .env("TILEC_OPS_PRINT_CHILD", "1")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("[block")).collect();
    assert_eq!(
        lines,
        [
            "[block (0, 0, 0)] values: f32[2] [0.5, 1.25], 0, bool[2, 3] [[false, true, false], [true, false, true]], true",
            "[block (0, 0, 0)] hello",
            "[block (1, 0, 0)] values: f32[2] [-3.0, 0.1], 1, bool[2, 3] [[false, true, false], [true, false, true]], false",
            "[block (1, 0, 0)] hello",
        ],
        "stderr was:\n{err}"
    );
}

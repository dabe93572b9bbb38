//! Layout conversions in the thread-level lowering: inside a warp by `shfl.sync.idx`
//! (`lower/shuffle.rs`), across warps through shared memory; both run on the emulator against the
//! tile interpreter, bit-exact, on ragged sizes with poisoned outputs.

mod ops_common;

use ops_common::{emulate_and_interpret, kernel, pack, rng};
use rand::Rng;
use tilec_core::thread::print_program;
use tilec_core::tir::{Kernel, ParamKind};

/// Emulator and interpreter results for random inputs (outputs poisoned) on `R x C` tensors.
fn run_both(k: &Kernel, r: usize, c: usize, seed: u64) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let mut g = rng(seed);
    let args: Vec<Vec<u8>> = k
        .params
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let ParamKind::Tensor { dtype, .. } = p.kind else { panic!("tensors only") };
            if k.reads(i) {
                let v: Vec<f64> = (0..r * c).map(|_| if dtype.is_float() { g.random_range(-2.0..2.0) } else { f64::from(g.random_range(-100..100)) }).collect();
                pack(dtype, &v)
            } else {
                vec![0xFF; dtype.nbytes(r * c)]
            }
        })
        .collect();
    let dims: Vec<i64> = k.dims.iter().map(|d| if d == "R" { r as i64 } else { c as i64 }).collect();
    emulate_and_interpret(k, &args, &dims)
}

#[test]
fn conversions_inside_a_warp_use_shuffles() {
    // One warp: a conversion between row-major and column-major thread orders keeps each element in
    // its slot and moves it to another lane.
    // f32, f16 and i8 values and a bool mask are converted.
    let k = kernel(
        r#"
kernel inwarp(x: global f32[R, C], h: global f16[R, C], q: global i8[R, C],
              y: global f32[R, C], g: global f16[R, C], p: global i8[R, C], f: global f32[R, C]) grid(1) warps(1) {
    let t = layout(load(x[0.., 0..], [8, 32]), "spatial(8,4).local(1,8)");
    let u = layout(load(x[0.., 0..], [8, 32]), "column_spatial(8,4).local(1,8)");
    store(y[0.., 0..], t * 2.0 + u);
    let a = layout(load(h[0.., 0..], [8, 32]), "spatial(8,4).local(1,8)");
    let b = layout(load(h[0.., 0..], [8, 32]), "column_spatial(8,4).local(1,8)");
    store(g[0.., 0..], a - b);
    let i = layout(load(q[0.., 0..], [8, 32]), "local(2,1).spatial(4,8).local(1,4)");
    let j = layout(load(q[0.., 0..], [8, 32]), "local(2,1).column_spatial(4,8).local(1,4)");
    store(p[0.., 0..], i + j * cast<i8>(2));
    let m = layout(t > 0.0, "column_spatial(8,4).local(1,8)");
    store(f[0.., 0..], where(m, u, -1.0));
}"#,
    );
    let layouts = tilec_core::passes::layout_infer::infer(&k).unwrap();
    assert!(layouts.conversions().len() >= 4, "{}", layouts.display(&k));
    let text = print_program(&tilec_core::lower::lower(&k).unwrap());
    assert!(text.contains("shfl.sync.idx"), "{text}");
    assert!(!text.contains("shared exchange") && !text.contains("bar.sync"), "no shared-memory round trip:\n{text}");
    for (r, c) in [(8usize, 32usize), (5, 19), (8, 7)] {
        let (emu, reference) = run_both(&k, r, c, (r * c) as u64);
        assert_eq!(emu, reference, "r={r} c={c}");
    }
}

#[test]
fn conversions_across_warps_go_through_shared_memory() {
    // Two warps: in the column-major order thread 32 holds element (0, 16), which the row-major
    // order gives thread 2 of the other warp.
    let k = kernel(
        r#"
kernel acrosswarps(x: global f32[R, C], y: global f32[R, C]) grid(1) warps(2) {
    let t = layout(load(x[0.., 0..], [16, 32]), "spatial(16,4).local(1,8)");
    let u = layout(load(x[0.., 0..], [16, 32]), "column_spatial(16,4).local(1,8)");
    store(y[0.., 0..], t - u * 0.5);
}"#,
    );
    let text = print_program(&tilec_core::lower::lower(&k).unwrap());
    assert!(!text.contains("shfl") && text.contains("shared exchange"), "{text}");
    for (r, c) in [(16usize, 32usize), (11, 30)] {
        let (emu, reference) = run_both(&k, r, c, 7 + r as u64);
        assert_eq!(emu, reference, "r={r} c={c}");
    }
}

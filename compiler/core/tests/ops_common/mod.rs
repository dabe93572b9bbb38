//! Helpers shared by the ops tests: compile a kernel, pack and unpack tensors, run.
#![allow(dead_code)]

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tilec_core::interp::{self, Arg};
use tilec_core::tir::Kernel;
use tilec_core::{diag, Source};
use tilec_dtype::DType;

pub fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

/// Compiles `src` (one kernel) with `-D` overrides, panicking with rendered diagnostics on error.
pub fn kernel_with(src: &str, defines: &[(&str, &str)]) -> Kernel {
    let options = tilec_core::sema::Options {
        defines: defines.iter().map(|(n, v)| tilec_core::sema::Define { name: n.to_string(), value: v.to_string() }).collect(),
    };
    match tilec_core::compile_to_tir(src, &options) {
        Ok(p) => p.kernels.into_iter().next().expect("one kernel"),
        Err(d) => panic!("{}", diag::render_all(&d, &Source::new("k.tile", src), false)),
    }
}

pub fn kernel(src: &str) -> Kernel {
    kernel_with(src, &[])
}

/// The rendered diagnostics of a source that must fail to compile.
pub fn diags(src: &str) -> String {
    match tilec_core::compile_to_tir(src, &Default::default()) {
        Ok(_) => panic!("expected an error for:\n{src}"),
        Err(d) => diag::render_all(&d, &Source::new("k.tile", src), false),
    }
}

pub fn pack(dt: DType, v: &[f64]) -> Vec<u8> {
    tilec_dtype::pack::pack_values(dt, v)
}

pub fn unpack(dt: DType, b: &[u8], n: usize) -> Vec<f64> {
    tilec_dtype::pack::unpack_values(dt, b, n).unwrap()
}

pub fn pack_i(dt: DType, v: &[i128]) -> Vec<u8> {
    tilec_dtype::pack::pack_ints(dt, v)
}

pub fn unpack_i(dt: DType, b: &[u8], n: usize) -> Vec<i128> {
    tilec_dtype::pack::unpack_ints(dt, b, n).unwrap()
}

/// An output buffer of `n` elements of `dt`, poisoned with 0xFF bytes.
pub fn poison(dt: DType, n: usize) -> Vec<u8> {
    vec![0xFF; dt.nbytes(n)]
}

/// Random values of `dt` in [-range, range], already representable.
pub fn random(rng: &mut StdRng, dt: DType, n: usize, range: f64) -> Vec<f64> {
    (0..n).map(|_| tilec_dtype::round(dt, rng.random_range(-range..=range))).collect()
}

pub fn run(k: &Kernel, args: &mut [Arg<'_>], dims: &[i64]) {
    interp::run(k, args, dims).unwrap_or_else(|d| panic!("run failed: {}", d.render(&Source::new("k.tile", ""), false)));
}

/// The distance in units in the last place of f32 between two f32 values.
pub fn ulps32(a: f32, b: f32) -> u64 {
    if a == b || (a.is_nan() && b.is_nan()) {
        return 0;
    }
    let key = |x: f32| {
        let i = x.to_bits() as i32;
        if i < 0 { i64::from(i32::MIN) - i64::from(i) } else { i64::from(i) }
    };
    (key(a) - key(b)).unsigned_abs()
}

pub fn f16() -> DType {
    DType::F16
}

/// Runs `k` (tensor parameters only, one buffer each in `tensors`) lowered to its thread-level
/// program on the emulator, over the kernel's grid, and on the tile interpreter; returns the tensors
/// after each.
pub fn emulate_and_interpret(k: &Kernel, tensors: &[Vec<u8>], dims: &[i64]) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    use tilec_core::thread::{self, ArgValue};
    use tilec_core::tir::ParamKind;
    let program = tilec_core::lower::lower(k).unwrap_or_else(|d| panic!("{}", d.message));
    let mut emu: Vec<ArgValue> = k
        .params
        .iter()
        .zip(tensors)
        .map(|(p, b)| match p.kind {
            ParamKind::Tensor { dtype, .. } => ArgValue::Global { dtype, bytes: b.clone() },
            _ => panic!("tensor parameters only"),
        })
        .collect();
    emu.extend(dims.iter().map(|&d| ArgValue::Dim(d)));
    let grid = k.grid.clone().map(|e| e.eval(dims).expect("grid evaluates") as u32);
    thread::emulate(&program, &mut emu, grid, k.threads()).unwrap_or_else(|e| panic!("{}: {e}", k.name));
    let emu = emu.into_iter().filter_map(|a| if let ArgValue::Global { bytes, .. } = a { Some(bytes) } else { None }).collect();
    let mut reference = tensors.to_vec();
    let mut iargs: Vec<Arg<'_>> = reference.iter_mut().map(|t| Arg::Tensor(t)).collect();
    interp::run(k, &mut iargs, dims).unwrap_or_else(|e| panic!("the interpreter fails: {}", e.message));
    drop(iargs);
    (emu, reference)
}

//! The tile interpreter: runs tile IR on the CPU with exact dtype semantics.
//!
//! It is the reference every backend is tested against. Blocks of the grid run one after another;
//! each executes the kernel body with whole tiles as values. Loads and stores are bounds-masked as
//! the language defines (elements outside a tensor read as zero and are not written); operations with
//! no defined result, such as an integer division by zero, stop the run with the kernel's source location.

mod exec;
mod scalar;
mod value;

pub use exec::format_scalar;
pub use value::{Data, Scalar, Value};

use crate::diag::Diagnostic;
use crate::tir::{Dim, Kernel, ParamKind};

/// A run-time argument for one kernel parameter.
pub enum Arg<'a> {
    /// A tensor's elements, densely packed little-endian (docs/dtypes.md), read and written in place.
    Tensor(&'a mut [u8]),
    Scalar(Scalar),
}

/// Upper bound on the number of blocks one interpreted launch may have.
const MAX_BLOCKS: i64 = 1 << 31;

/// Runs `kernel` over its whole grid. `dims` gives the size of each symbolic dimension.
pub fn run(kernel: &Kernel, args: &mut [Arg<'_>], dims: &[i64]) -> Result<(), Diagnostic> {
    if args.len() != kernel.params.len() || dims.len() != kernel.dims.len() {
        return Err(Diagnostic::error(format!(
            "kernel `{}` takes {} arguments and {} dimensions, {} and {} given",
            kernel.name,
            kernel.params.len(),
            kernel.dims.len(),
            args.len(),
            dims.len()
        )));
    }
    let mut tensors: Vec<Option<exec::TensorRef<'_, '_>>> = Vec::new();
    let mut scalars = Vec::new();
    for (p, a) in kernel.params.iter().zip(args.iter_mut()) {
        match (&p.kind, a) {
            (ParamKind::Tensor { dtype, shape, strides }, Arg::Tensor(bytes)) => {
                let value = |d: &Dim| match d {
                    Dim::Sym(i) => dims[*i],
                    Dim::Fixed(n) => *n as i64,
                };
                let extents: Vec<i64> = shape.iter().map(value).collect();
                let strides: Vec<i64> = match strides {
                    Some(s) => s.iter().map(value).collect(),
                    None => row_major(&extents),
                };
                // The element furthest into the buffer, plus one: all a strided tensor needs; a
                // row-major tensor must match its buffer exactly.
                let reach = if extents.iter().any(|&e| e <= 0) {
                    Some(0)
                } else {
                    extents.iter().zip(&strides).try_fold(1i64, |acc, (&e, &s)| acc.checked_add((e - 1).checked_mul(s)?))
                };
                let need = reach.and_then(|r| usize::try_from(r).ok()).map(|n| dtype.nbytes(n));
                let fits = match (need, p_strided(&p.kind)) {
                    (Some(n), true) => n <= bytes.len(),
                    (Some(n), false) => n == bytes.len(),
                    (None, _) => false,
                };
                if !fits {
                    return Err(Diagnostic::error(format!(
                        "tensor `{}` has {} bytes but its shape needs {}",
                        p.name,
                        bytes.len(),
                        need.map_or("more than the address space".to_string(), |n| n.to_string())
                    )));
                }
                tensors.push(Some(exec::TensorRef { dtype: *dtype, extents, strides, bytes }));
                scalars.push(None);
            }
            (ParamKind::Scalar(_), Arg::Scalar(s)) => {
                tensors.push(None);
                scalars.push(Some(*s));
            }
            _ => return Err(Diagnostic::error(format!("argument for `{}` is of the wrong kind", p.name))),
        }
    }
    let mut grid = [0i64; 3];
    for (g, e) in grid.iter_mut().zip(&kernel.grid) {
        *g = e.eval(dims).ok_or_else(|| Diagnostic::error(format!("the grid size `{}` cannot be evaluated (division by zero or overflow)", e.display(&kernel.dims))))?;
        if *g < 0 {
            return Err(Diagnostic::error(format!("the grid size `{}` is negative ({g})", e.display(&kernel.dims))));
        }
    }
    if grid.iter().try_fold(1i64, |a, &g| a.checked_mul(g)).is_none_or(|n| n > MAX_BLOCKS) {
        return Err(Diagnostic::error(format!("the grid {grid:?} has too many blocks")));
    }
    let mut machine = exec::Machine { kernel, tensors, scalars, dims, env: vec![None; kernel.values.len()], block: [0; 3], signal: None, shared: Vec::new(), groups: Default::default() };
    for z in 0..grid[2] {
        for y in 0..grid[1] {
            for x in 0..grid[0] {
                machine.block = [x, y, z];
                machine.block_body()?;
            }
        }
    }
    Ok(())
}

/// Row-major strides of `extents`, in elements.
fn row_major(extents: &[i64]) -> Vec<i64> {
    let mut s = vec![1i64; extents.len()];
    for d in (0..extents.len().saturating_sub(1)).rev() {
        s[d] = s[d + 1].saturating_mul(extents[d + 1].max(1));
    }
    s
}

fn p_strided(kind: &ParamKind) -> bool {
    matches!(kind, ParamKind::Tensor { strides: Some(_), .. })
}

/// A scalar argument from its little-endian bytes (the kernel ABI's encoding of `dt`).
pub fn scalar_from_le_bytes(dt: tilec_dtype::DType, bytes: &[u8]) -> Scalar {
    scalar::load(dt, bytes, 0)
}

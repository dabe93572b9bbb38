//! Compiled artifacts: the code for one kernel plus the runtime's manifest, so that it runs without
//! the compiler (`tile-run`, or `tile_runtime::run_artifact` in a program).

use crate::{Codegen, CodegenError, KernelPath, Stage, Target, Vendor};
use tile_runtime::manifest::{CodeKind, DimSpec, Manifest, Param, ParamKind, FORMAT_VERSION};
use tilec_core::tir::{Dim, Kernel, ParamKind as TirParamKind, Program};

/// The manifest of `kernel` compiled for `target` by the direct emitter: its ABI, symbolic dims and
/// launch configuration. On NVIDIA targets it is also the thread path's (both launch 32 threads per
/// warp); see [`manifest_for`].
pub fn manifest(kernel: &Kernel, target: Target) -> Manifest {
    manifest_for(kernel, target, &KernelPath::Direct { fallback: None })
}

/// The manifest of `kernel` compiled for `target` along `path` (the block size depends on it on
/// AMD: the thread-level program's warps are 32 lanes, the direct emitter's are the wavefront's 64).
pub fn manifest_for(kernel: &Kernel, target: Target, path: &KernelPath) -> Manifest {
    let spec = |d: &Dim| match d {
        Dim::Sym(i) => DimSpec::Sym(kernel.dims[*i].clone()),
        Dim::Fixed(n) => DimSpec::Fixed(*n),
    };
    let params = kernel
        .params
        .iter()
        .map(|p| match &p.kind {
            TirParamKind::Tensor { dtype, shape, strides } => Param {
                name: p.name.clone(),
                kind: ParamKind::Tensor,
                dtype: *dtype,
                shape: Some(shape.iter().map(spec).collect()),
                strides: strides.as_ref().map(|s| s.iter().map(spec).collect()),
            },
            TirParamKind::Scalar(dtype) => Param { name: p.name.clone(), kind: ParamKind::Scalar, dtype: *dtype, shape: None, strides: None },
        })
        .collect();
    let grid = [0, 1, 2].map(|i| kernel.grid[i].display(&kernel.dims));
    Manifest {
        format: FORMAT_VERSION,
        kernel: kernel.name.clone(),
        target: target.name().to_string(),
        code: match target.vendor() {
            Vendor::Nvidia => CodeKind::Ptx,
            Vendor::Amd => CodeKind::Hsaco,
        },
        params,
        dims: kernel.dims.clone(),
        grid,
        block: [crate::threads_per_block(kernel, target, path), 1, 1],
        shared_bytes: crate::dynamic_shared_bytes(path),
    }
}

/// PTX for one kernel on an NVIDIA target, by the code generator `codegen`.
pub fn ptx(kernel: &Kernel, target: Target, codegen: Codegen) -> Result<String, CodegenError> {
    crate::generate_with(&Program { kernels: vec![kernel.clone()] }, target, Stage::Assembly, codegen).map(|g| g.text)
}

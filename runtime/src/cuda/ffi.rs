//! The only `unsafe` code of the CUDA backend: probing for libcuda and submitting a launch.
//!
//! Everything else goes through cudarc's safe API.

use cudarc::driver::{CudaFunction, CudaStream, DriverError, LaunchConfig, PushKernelArg};

use crate::args::KernelArg;

/// Whether `libcuda` can be loaded. cudarc's dynamic loader panics on the first driver call when
/// the library is absent, so every entry point checks this first.
pub(super) fn driver_present() -> bool {
    // SAFETY: `is_culib_present` only tries `dlopen` on the candidate library names and drops the
    // handle; it calls no driver function and touches no shared state of ours.
    unsafe { cudarc::driver::sys::is_culib_present() }
}

/// Launches `func` on `stream` with `args` passed by value in order.
pub(super) fn launch(stream: &CudaStream, func: &CudaFunction, cfg: LaunchConfig, args: &[KernelArg]) -> Result<(), DriverError> {
    let mut b = stream.launch_builder(func);
    for a in args {
        match a {
            KernelArg::Ptr(v) | KernelArg::U64(v) => b.arg(v),
            KernelArg::Bool(v) => b.arg(v),
            KernelArg::I8(v) => b.arg(v),
            KernelArg::U8(v) => b.arg(v),
            KernelArg::I16(v) => b.arg(v),
            KernelArg::U16(v) | KernelArg::F16(v) | KernelArg::BF16(v) => b.arg(v),
            KernelArg::I32(v) => b.arg(v),
            KernelArg::U32(v) => b.arg(v),
            KernelArg::I64(v) => b.arg(v),
            KernelArg::F32(v) => b.arg(v),
            KernelArg::F64(v) => b.arg(v),
        };
    }
    // SAFETY: every argument is a plain value borrowed from `args`, which outlives the call
    // (cuLaunchKernel copies the parameter values before returning). Pointer arguments are device
    // addresses of buffers the caller keeps alive until it synchronizes. That their number and
    // widths match the kernel's signature is the ABI contract of the manifest (docs/runtime.md);
    // the driver cannot check it, and a mismatch corrupts only the kernel's own parameters.
    unsafe { b.launch(cfg) }.map(|_| ())
}

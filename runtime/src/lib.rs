//! The thin tilec runtime: runs compiled `.tile` kernels without the compiler, LLVM or Rust.
//!
//! An artifact is a code object (PTX, cubin or hsaco) plus a JSON [`manifest::Manifest`] that
//! describes the kernel's parameters, symbolic dims and launch grid. This crate binds host arrays
//! ([`host::HostArray`], read from `.npy` by [`npy`]) to the manifest, moves them to a CUDA
//! ([`cuda`]) or HIP ([`hip`]) device, launches per the ABI in docs/runtime.md and brings the
//! results back ([`run_artifact`]). The `tile-run` binary is the command-line face of it.

// `unsafe` is confined to the FFI modules `cuda::ffi` and `hip::ffi`.
#![deny(unsafe_code)]

pub mod args;
pub mod bind;
pub mod cuda;
pub mod error;
pub mod expr;
pub mod hip;
pub mod host;
pub mod launch;
pub mod manifest;
pub mod npy;
pub mod timing;

pub use args::{KernelArg, ScalarValue};
pub use bind::{Binding, BindError, BoundParam, Launch};
pub use error::RuntimeError;
pub use host::HostArray;
pub use launch::{run_artifact, run_artifact_timed, run_launch, Device, Gpu, RunOutput, TimingRequest};
pub use manifest::{CodeKind, DimSpec, Manifest, Param, ParamKind};
pub use npy::{NpyArray, NpyError};
pub use tilec_dtype::DType;
pub use timing::{LaunchDims, Timing};

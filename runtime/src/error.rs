//! The runtime's top-level error: one variant per failure domain, each message a complete sentence
//! that a user can act on (the `tile-run` binary prints it as is, on one line).

use crate::bind::BindError;
use crate::manifest::ManifestError;
use crate::npy::NpyError;

/// Everything that can go wrong while loading, binding, launching or timing a compiled kernel.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// `libcuda.so` is not installed (or not on the loader path); no CUDA call was attempted.
    #[error("no CUDA driver (libcuda.so) found on this machine; use --device cpu (the tilec interpreter) or run on a machine with an NVIDIA driver")]
    NoCudaDriver,
    /// `libamdhip64.so` could not be loaded; no HIP call was attempted.
    #[error("no HIP runtime (libamdhip64.so) found on this machine ({detail}); install ROCm or use --device cpu")]
    NoHipRuntime { detail: String },
    /// A CUDA driver call failed; `name` is the driver's error name (e.g. `CUDA_ERROR_INVALID_PTX`).
    #[error("CUDA error {name} in {call}{}", context_suffix(.context))]
    Cuda { call: &'static str, name: String, context: String },
    /// A HIP call failed; `name` is `hipGetErrorName`'s answer (e.g. `hipErrorInvalidImage`).
    #[error("HIP error {name} in {call}{}", context_suffix(.context))]
    Hip { call: &'static str, name: String, context: String },
    /// The requested device ordinal does not exist.
    #[error("{api} device {ordinal} does not exist: this machine has {count} device(s)")]
    NoSuchDevice { api: &'static str, ordinal: usize, count: usize },
    /// The kernel code handed to a backend is unusable before the driver even sees it.
    #[error("invalid kernel code: {0}")]
    InvalidCode(String),
    /// The code kind in the manifest cannot run on the chosen device (e.g. `hsaco` on CUDA).
    #[error("cannot run {code} code on a {device} device")]
    CodeDeviceMismatch { code: &'static str, device: &'static str },
    /// A launch configuration that no device accepts (zero or too-large grid/block).
    #[error("invalid launch configuration: {0}")]
    InvalidLaunch(String),
    #[error(transparent)]
    Bind(#[from] BindError),
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    #[error(transparent)]
    Npy(#[from] NpyError),
    /// Reading or writing a file other than an `.npy` (manifest, code object).
    #[error("cannot {action} `{path}`: {source}")]
    Io { action: &'static str, path: String, source: std::io::Error },
}

fn context_suffix(context: &str) -> String {
    if context.is_empty() {
        String::new()
    } else {
        format!(" ({context})")
    }
}

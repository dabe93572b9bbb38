//! The device-agnostic launcher: binds arguments, moves tensors, launches per the ABI, and brings
//! every tensor back. Backends plug in through the small [`Gpu`] trait.

use crate::args::KernelArg;
use crate::bind::{Binding, BoundParam, Launch};
use crate::cuda::{CudaDevice, CudaKernel, DeviceBuffer};
use crate::error::RuntimeError;
use crate::hip::{HipBuffer, HipDevice, HipKernel};
use crate::host::HostArray;
use crate::manifest::{CodeKind, Manifest};
use crate::timing::{LaunchDims, Timing};

/// Which device to run on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Device {
    /// A CUDA device by ordinal.
    Cuda(usize),
    /// A HIP device by ordinal.
    Hip(usize),
}

/// How to time a kernel: `warmup` untimed launches, then `reps` timed ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimingRequest {
    pub warmup: usize,
    pub reps: usize,
}

/// What a run produces: every tensor parameter after the launch, in parameter order, and the
/// timing when one was requested.
#[derive(Clone, Debug, PartialEq)]
pub struct RunOutput {
    pub tensors: Vec<(String, HostArray)>,
    pub timing: Option<Timing>,
}

/// The operations the launcher needs from a backend.
pub trait Gpu {
    type Buffer;
    type Kernel;
    fn load_kernel(&self, code: &[u8], kind: CodeKind, kernel: &str) -> Result<Self::Kernel, RuntimeError>;
    fn upload(&self, bytes: &[u8]) -> Result<Self::Buffer, RuntimeError>;
    fn download(&self, buf: &Self::Buffer) -> Result<Vec<u8>, RuntimeError>;
    fn ptr_arg(&self, buf: &Self::Buffer) -> KernelArg;
    fn launch(&self, kernel: &Self::Kernel, dims: LaunchDims, args: &[KernelArg]) -> Result<(), RuntimeError>;
    fn synchronize(&self) -> Result<(), RuntimeError>;
    fn time_launch(&self, kernel: &Self::Kernel, dims: LaunchDims, args: &[KernelArg], warmup: usize, reps: usize) -> Result<Timing, RuntimeError>;
}

macro_rules! impl_gpu {
    ($dev:ty, $buf:ty, $kernel:ty) => {
        impl Gpu for $dev {
            type Buffer = $buf;
            type Kernel = $kernel;
            fn load_kernel(&self, code: &[u8], kind: CodeKind, kernel: &str) -> Result<$kernel, RuntimeError> {
                <$dev>::load_kernel(self, code, kind, kernel)
            }
            fn upload(&self, bytes: &[u8]) -> Result<$buf, RuntimeError> {
                <$dev>::upload(self, bytes)
            }
            fn download(&self, buf: &$buf) -> Result<Vec<u8>, RuntimeError> {
                <$dev>::download(self, buf)
            }
            fn ptr_arg(&self, buf: &$buf) -> KernelArg {
                <$dev>::ptr_arg(self, buf)
            }
            fn launch(&self, kernel: &$kernel, dims: LaunchDims, args: &[KernelArg]) -> Result<(), RuntimeError> {
                <$dev>::launch(self, kernel, dims, args)
            }
            fn synchronize(&self) -> Result<(), RuntimeError> {
                <$dev>::synchronize(self)
            }
            fn time_launch(&self, kernel: &$kernel, dims: LaunchDims, args: &[KernelArg], warmup: usize, reps: usize) -> Result<Timing, RuntimeError> {
                <$dev>::time_launch(self, kernel, dims, args, warmup, reps)
            }
        }
    };
}
impl_gpu!(CudaDevice, DeviceBuffer, CudaKernel);
impl_gpu!(HipDevice, HipBuffer, HipKernel);

impl Launch {
    /// The launch geometry.
    pub fn launch_dims(&self) -> LaunchDims {
        LaunchDims { grid: self.grid, block: self.block, shared_bytes: self.shared_bytes }
    }

    /// The kernel's argument list per the ABI: each parameter in order (a tensor as the device
    /// pointer `ptrs` gives for it, in tensor order), then every dim as an `i64`.
    pub fn kernel_args(&self, ptrs: &[KernelArg]) -> Vec<KernelArg> {
        let mut ptrs = ptrs.iter();
        let mut out = Vec::with_capacity(self.params.len() + self.dims.len());
        for p in &self.params {
            match p {
                BoundParam::Tensor { .. } => out.push(ptrs.next().copied().unwrap_or(KernelArg::Ptr(0))),
                BoundParam::Scalar { arg, .. } => out.push(*arg),
            }
        }
        out.extend(self.dims.iter().map(|(_, v)| KernelArg::I64(*v)));
        out
    }
}

/// Runs a bound launch on any backend: uploads every tensor (outputs were poisoned with `0xFF`
/// while binding), launches once, synchronizes, downloads every tensor, then optionally times.
pub fn run_launch<G: Gpu>(gpu: &G, code: &[u8], kind: CodeKind, launch: &Launch, timing: Option<TimingRequest>) -> Result<RunOutput, RuntimeError> {
    let kernel = gpu.load_kernel(code, kind, &launch.kernel)?;
    let mut buffers = Vec::new();
    for p in &launch.params {
        if let BoundParam::Tensor { name, array, .. } = p {
            buffers.push((name.clone(), array, gpu.upload(&array.data)?));
        }
    }
    let ptrs: Vec<KernelArg> = buffers.iter().map(|(_, _, b)| gpu.ptr_arg(b)).collect();
    let args = launch.kernel_args(&ptrs);
    let dims = launch.launch_dims();
    gpu.launch(&kernel, dims, &args)?;
    gpu.synchronize()?;
    let mut tensors = Vec::with_capacity(buffers.len());
    for (name, array, buf) in &buffers {
        let data = gpu.download(buf)?;
        tensors.push((name.clone(), HostArray { dtype: array.dtype, shape: array.shape.clone(), data }));
    }
    let timing = match timing {
        Some(t) => Some(gpu.time_launch(&kernel, dims, &args, t.warmup, t.reps)?),
        None => None,
    };
    Ok(RunOutput { tensors, timing })
}

/// Binds `bindings` to `manifest` and runs the kernel in `code` on `device`; returns every tensor
/// parameter (inputs included) after the launch.
pub fn run_artifact(manifest: &Manifest, code: &[u8], bindings: Vec<(String, Binding)>, device: Device) -> Result<Vec<(String, HostArray)>, RuntimeError> {
    Ok(run_artifact_timed(manifest, code, bindings, device, None)?.tensors)
}

/// [`run_artifact`] with optional timing of repeated launches after the checked run.
pub fn run_artifact_timed(
    manifest: &Manifest,
    code: &[u8],
    bindings: Vec<(String, Binding)>,
    device: Device,
    timing: Option<TimingRequest>,
) -> Result<RunOutput, RuntimeError> {
    // Reject a code kind the device cannot run before binding or touching the device.
    match (device, manifest.code) {
        (Device::Cuda(_), CodeKind::Hsaco) => return Err(RuntimeError::CodeDeviceMismatch { code: "hsaco", device: "CUDA" }),
        (Device::Hip(_), CodeKind::Ptx | CodeKind::Cubin) => {
            return Err(RuntimeError::CodeDeviceMismatch { code: manifest.code.name(), device: "HIP" })
        }
        _ => {}
    }
    let launch = manifest.bind(bindings)?;
    match device {
        Device::Cuda(ordinal) => run_launch(&CudaDevice::open(ordinal)?, code, manifest.code, &launch, timing),
        Device::Hip(ordinal) => run_launch(&HipDevice::open(ordinal)?, code, manifest.code, &launch, timing),
    }
}

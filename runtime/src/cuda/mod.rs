//! The CUDA backend, over cudarc's driver API loaded at run time.
//!
//! Every public entry point first checks that `libcuda` exists (cudarc would panic otherwise) and
//! turns every driver failure into [`RuntimeError::Cuda`] carrying the driver's error name.

#[allow(unsafe_code)]
mod ffi;

use std::sync::Arc;

use cudarc::driver::sys::{CUevent_flags, CUfunction_attribute};
use cudarc::driver::{CudaContext, CudaFunction, CudaSlice, CudaStream, DevicePtr, DriverError, LaunchConfig};

use crate::args::KernelArg;
use crate::error::RuntimeError;
use crate::manifest::CodeKind;
use crate::timing::{LaunchDims, Timing};

/// Static (non-opt-in) shared memory limit; above it a kernel must opt in to more.
const DEFAULT_SHARED_LIMIT: u32 = 48 * 1024;

fn cuda_err(call: &'static str, context: impl Into<String>) -> impl FnOnce(DriverError) -> RuntimeError {
    let context = context.into();
    move |e| RuntimeError::Cuda { call, name: format!("{:?}", e.0), context }
}

/// Whether a CUDA driver library can be loaded on this machine.
pub fn driver_present() -> bool {
    ffi::driver_present()
}

fn require_driver() -> Result<(), RuntimeError> {
    if driver_present() {
        Ok(())
    } else {
        Err(RuntimeError::NoCudaDriver)
    }
}

/// The number of CUDA devices, or [`RuntimeError::NoCudaDriver`].
pub fn device_count() -> Result<usize, RuntimeError> {
    require_driver()?;
    let n = CudaContext::device_count().map_err(cuda_err("cuDeviceGetCount", ""))?;
    Ok(n.max(0) as usize)
}

/// An open CUDA device: its primary context and the stream all work is queued on.
pub struct CudaDevice {
    ctx: Arc<CudaContext>,
    stream: Arc<CudaStream>,
}

/// Device memory of a known byte length (a zero-length buffer holds one unused byte, since the
/// driver refuses empty allocations).
pub struct DeviceBuffer {
    slice: CudaSlice<u8>,
    len: usize,
}

impl DeviceBuffer {
    /// The length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// A kernel function looked up in a loaded module (which it keeps alive).
pub struct CudaKernel {
    func: CudaFunction,
    name: String,
}

impl CudaKernel {
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl CudaDevice {
    /// Opens device `ordinal` (its primary context). Fails with [`RuntimeError::NoCudaDriver`]
    /// without a driver and [`RuntimeError::NoSuchDevice`] for a missing ordinal.
    pub fn open(ordinal: usize) -> Result<CudaDevice, RuntimeError> {
        let count = device_count()?;
        if ordinal >= count {
            return Err(RuntimeError::NoSuchDevice { api: "CUDA", ordinal, count });
        }
        let ctx = CudaContext::new(ordinal).map_err(cuda_err("cuCtxCreate", format!("device {ordinal}")))?;
        let stream = ctx.default_stream();
        Ok(CudaDevice { ctx, stream })
    }

    /// The device's name, e.g. `NVIDIA H100 80GB HBM3`.
    pub fn name(&self) -> Result<String, RuntimeError> {
        self.ctx.name().map_err(cuda_err("cuDeviceGetName", ""))
    }

    /// The compute capability `(major, minor)`.
    pub fn compute_capability(&self) -> Result<(i32, i32), RuntimeError> {
        self.ctx.compute_capability().map_err(cuda_err("cuDeviceGetAttribute", ""))
    }

    /// Loads PTX text or a cubin and looks `kernel` up in it.
    pub fn load_kernel(&self, code: &[u8], kind: CodeKind, kernel: &str) -> Result<CudaKernel, RuntimeError> {
        let ptx = match kind {
            CodeKind::Ptx => {
                let text = std::str::from_utf8(code).map_err(|e| RuntimeError::InvalidCode(format!("PTX is not UTF-8 text: {e}")))?;
                let text = text.trim_end_matches('\0');
                if text.contains('\0') {
                    return Err(RuntimeError::InvalidCode("PTX text contains a NUL byte".into()));
                }
                cudarc::nvrtc::Ptx::from_src(text)
            }
            CodeKind::Cubin => {
                if !code.starts_with(b"\x7fELF") {
                    return Err(RuntimeError::InvalidCode("a cubin is an ELF file, and this one does not start with \\x7fELF".into()));
                }
                cudarc::nvrtc::Ptx::from_binary(code.to_vec())
            }
            CodeKind::Hsaco => return Err(RuntimeError::CodeDeviceMismatch { code: "hsaco", device: "CUDA" }),
        };
        if kernel.contains('\0') {
            return Err(RuntimeError::InvalidCode(format!("kernel name {kernel:?} contains a NUL byte")));
        }
        let module = self.ctx.load_module(ptx).map_err(cuda_err("cuModuleLoadData", format!("loading {} code", kind.name())))?;
        let func = module.load_function(kernel).map_err(cuda_err("cuModuleGetFunction", format!("kernel `{kernel}`")))?;
        Ok(CudaKernel { func, name: kernel.to_string() })
    }

    /// Allocates `len` bytes (contents unspecified).
    pub fn alloc(&self, len: usize) -> Result<DeviceBuffer, RuntimeError> {
        let slice = self.stream.alloc_zeros::<u8>(len.max(1)).map_err(cuda_err("cuMemAlloc", format!("{len} bytes")))?;
        Ok(DeviceBuffer { slice, len })
    }

    /// Allocates a buffer holding a copy of `bytes`.
    pub fn upload(&self, bytes: &[u8]) -> Result<DeviceBuffer, RuntimeError> {
        if bytes.is_empty() {
            return self.alloc(0);
        }
        let slice = self.stream.clone_htod(bytes).map_err(cuda_err("cuMemcpyHtoD", format!("{} bytes", bytes.len())))?;
        Ok(DeviceBuffer { slice, len: bytes.len() })
    }

    /// Copies a buffer back to the host (waits for queued work first).
    pub fn download(&self, buf: &DeviceBuffer) -> Result<Vec<u8>, RuntimeError> {
        if buf.len == 0 {
            return Ok(Vec::new());
        }
        let mut v = self.stream.clone_dtoh(&buf.slice).map_err(cuda_err("cuMemcpyDtoH", format!("{} bytes", buf.len)))?;
        v.truncate(buf.len);
        Ok(v)
    }

    /// The device address of `buf`, as a kernel argument.
    pub fn ptr_arg(&self, buf: &DeviceBuffer) -> KernelArg {
        let (ptr, _sync) = buf.slice.device_ptr(&self.stream);
        KernelArg::Ptr(ptr)
    }

    /// Queues one launch (asynchronous; see [`CudaDevice::synchronize`]). An empty grid is a no-op.
    pub fn launch(&self, kernel: &CudaKernel, dims: LaunchDims, args: &[KernelArg]) -> Result<(), RuntimeError> {
        dims.check().map_err(RuntimeError::InvalidLaunch)?;
        if dims.is_empty() {
            return Ok(());
        }
        if dims.shared_bytes > DEFAULT_SHARED_LIMIT {
            kernel
                .func
                .set_attribute(CUfunction_attribute::CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, dims.shared_bytes as i32)
                .map_err(cuda_err("cuFuncSetAttribute", format!("{} bytes of dynamic shared memory", dims.shared_bytes)))?;
        }
        let cfg = LaunchConfig {
            grid_dim: (dims.grid[0], dims.grid[1], dims.grid[2]),
            block_dim: (dims.block[0], dims.block[1], dims.block[2]),
            shared_mem_bytes: dims.shared_bytes,
        };
        ffi::launch(&self.stream, &kernel.func, cfg, args)
            .map_err(cuda_err("cuLaunchKernel", format!("kernel `{}`, grid {:?}, block {:?}", kernel.name, dims.grid, dims.block)))
    }

    /// Waits for all queued work; a fault inside a kernel surfaces here.
    pub fn synchronize(&self) -> Result<(), RuntimeError> {
        self.stream.synchronize().map_err(cuda_err("cuStreamSynchronize", ""))
    }

    /// Runs `warmup` untimed launches, then times `reps` launches one by one with events.
    pub fn time_launch(
        &self,
        kernel: &CudaKernel,
        dims: LaunchDims,
        args: &[KernelArg],
        warmup: usize,
        reps: usize,
    ) -> Result<Timing, RuntimeError> {
        for _ in 0..warmup {
            self.launch(kernel, dims, args)?;
        }
        self.synchronize()?;
        let mut samples_ms = Vec::with_capacity(reps);
        // Events are created once, outside the timed region, so that only the record calls sit
        // between the launch and its end mark.
        let flags = Some(CUevent_flags::CU_EVENT_DEFAULT);
        let start = self.ctx.new_event(flags).map_err(cuda_err("cuEventCreate", ""))?;
        let end = self.ctx.new_event(flags).map_err(cuda_err("cuEventCreate", ""))?;
        for _ in 0..reps {
            start.record(&self.stream).map_err(cuda_err("cuEventRecord", ""))?;
            self.launch(kernel, dims, args)?;
            end.record(&self.stream).map_err(cuda_err("cuEventRecord", ""))?;
            end.synchronize().map_err(cuda_err("cuEventSynchronize", ""))?;
            samples_ms.push(start.elapsed_ms(&end).map_err(cuda_err("cuEventElapsedTime", ""))?);
        }
        Ok(Timing { samples_ms })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// On a machine without libcuda, opening a device is a clear error, not a panic.
    #[test]
    fn no_driver_is_a_clear_error() {
        if driver_present() {
            eprintln!("libcuda present; skipping the no-driver check");
            return;
        }
        let e = CudaDevice::open(0).err().expect("no driver, so no device");
        assert!(matches!(e, RuntimeError::NoCudaDriver));
        assert!(e.to_string().contains("no CUDA driver (libcuda.so) found on this machine"));
        assert!(matches!(device_count(), Err(RuntimeError::NoCudaDriver)));
    }
}

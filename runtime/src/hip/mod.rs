//! The HIP backend: AMD GPUs through `libamdhip64`, loaded at run time so that the runtime builds
//! and runs on machines without ROCm (where it reports [`RuntimeError::NoHipRuntime`]).
//!
//! The API mirrors [`crate::cuda`]: open, load a code object, move buffers, launch, time. All work
//! goes to the null stream of the device selected with `hipSetDevice`, which is per thread, so
//! every call re-selects the device; use one `HipDevice` from one thread at a time.

#[allow(unsafe_code)]
mod ffi;

use std::ffi::{c_void, CString};
use std::sync::Arc;

pub use ffi::LIBRARY_NAMES;
use ffi::{HipApi, HipError, HIP_SUCCESS};

use crate::args::KernelArg;
use crate::error::RuntimeError;
use crate::manifest::CodeKind;
use crate::timing::{LaunchDims, Timing};

/// An open HIP device.
pub struct HipDevice {
    api: Arc<HipApi>,
    ordinal: i32,
}

/// Device memory of a known byte length, freed on drop.
pub struct HipBuffer {
    api: Arc<HipApi>,
    ptr: *mut c_void,
    len: usize,
}

impl HipBuffer {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Drop for HipBuffer {
    fn drop(&mut self) {
        // A failure to free cannot be reported from drop; the device is being torn down anyway.
        let _ = self.api.free(self.ptr);
    }
}

struct Module {
    api: Arc<HipApi>,
    raw: ffi::Module,
}

impl Drop for Module {
    fn drop(&mut self) {
        let _ = self.api.module_unload(self.raw);
    }
}

/// A kernel function; keeps its module loaded.
pub struct HipKernel {
    func: ffi::Function,
    name: String,
    _module: Module,
}

impl HipKernel {
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// Whether the HIP runtime library can be loaded (and resolves every entry point we use).
pub fn runtime_present() -> bool {
    HipApi::load().is_ok()
}

impl HipDevice {
    /// Loads the HIP runtime and opens device `ordinal`.
    pub fn open(ordinal: usize) -> Result<HipDevice, RuntimeError> {
        let api = HipApi::load().map_err(|detail| RuntimeError::NoHipRuntime { detail })?;
        let dev = HipDevice { api, ordinal: ordinal as i32 };
        dev.check(dev.api.init(), "hipInit", "")?;
        let mut count = 0;
        dev.check(dev.api.device_count(&mut count), "hipGetDeviceCount", "")?;
        if ordinal >= count.max(0) as usize {
            return Err(RuntimeError::NoSuchDevice { api: "HIP", ordinal, count: count.max(0) as usize });
        }
        dev.select()?;
        Ok(dev)
    }

    fn check(&self, e: HipError, call: &'static str, context: &str) -> Result<(), RuntimeError> {
        if e == HIP_SUCCESS {
            Ok(())
        } else {
            Err(RuntimeError::Hip { call, name: self.api.error_name(e), context: context.to_string() })
        }
    }

    fn select(&self) -> Result<(), RuntimeError> {
        self.check(self.api.set_device(self.ordinal), "hipSetDevice", &format!("device {}", self.ordinal))
    }

    /// Loads an AMD code object (`hsaco`) and looks `kernel` up in it.
    pub fn load_kernel(&self, code: &[u8], kind: CodeKind, kernel: &str) -> Result<HipKernel, RuntimeError> {
        if kind != CodeKind::Hsaco {
            return Err(RuntimeError::CodeDeviceMismatch { code: kind.name(), device: "HIP" });
        }
        if !code.starts_with(b"\x7fELF") {
            return Err(RuntimeError::InvalidCode("an hsaco code object is an ELF file, and this one does not start with \\x7fELF".into()));
        }
        let cname = CString::new(kernel).map_err(|_| RuntimeError::InvalidCode(format!("kernel name {kernel:?} contains a NUL byte")))?;
        self.select()?;
        let mut raw = std::ptr::null_mut();
        self.check(self.api.module_load_data(&mut raw, code), "hipModuleLoadData", "loading hsaco code")?;
        let module = Module { api: self.api.clone(), raw };
        let mut func = std::ptr::null_mut();
        self.check(self.api.module_get_function(&mut func, module.raw, &cname), "hipModuleGetFunction", &format!("kernel `{kernel}`"))?;
        Ok(HipKernel { func, name: kernel.to_string(), _module: module })
    }

    /// Allocates `len` bytes (at least one, as empty allocations are refused).
    pub fn alloc(&self, len: usize) -> Result<HipBuffer, RuntimeError> {
        self.select()?;
        let mut ptr = std::ptr::null_mut();
        self.check(self.api.malloc(&mut ptr, len.max(1)), "hipMalloc", &format!("{len} bytes"))?;
        Ok(HipBuffer { api: self.api.clone(), ptr, len })
    }

    /// Allocates a buffer holding a copy of `bytes`.
    pub fn upload(&self, bytes: &[u8]) -> Result<HipBuffer, RuntimeError> {
        let buf = self.alloc(bytes.len())?;
        if !bytes.is_empty() {
            self.check(self.api.memcpy_htod(buf.ptr, bytes), "hipMemcpyHtoD", &format!("{} bytes", bytes.len()))?;
        }
        Ok(buf)
    }

    /// Copies a buffer back to the host (synchronous with respect to queued work).
    pub fn download(&self, buf: &HipBuffer) -> Result<Vec<u8>, RuntimeError> {
        self.select()?;
        let mut out = vec![0u8; buf.len];
        if buf.len > 0 {
            self.check(self.api.memcpy_dtoh(&mut out, buf.ptr), "hipMemcpyDtoH", &format!("{} bytes", buf.len))?;
        }
        Ok(out)
    }

    /// The device address of `buf`, as a kernel argument.
    pub fn ptr_arg(&self, buf: &HipBuffer) -> KernelArg {
        KernelArg::Ptr(buf.ptr as u64)
    }

    /// Queues one launch. An empty grid is a no-op.
    pub fn launch(&self, kernel: &HipKernel, dims: LaunchDims, args: &[KernelArg]) -> Result<(), RuntimeError> {
        dims.check().map_err(RuntimeError::InvalidLaunch)?;
        if dims.is_empty() {
            return Ok(());
        }
        self.select()?;
        // One 8-byte-aligned slot per argument holding its little-endian value; HIP reads each
        // argument's own width from the pointer we give it.
        let mut slots: Vec<u64> = args
            .iter()
            .map(|a| {
                let mut b = [0u8; 8];
                let v = a.to_le_bytes();
                b[..v.len()].copy_from_slice(&v);
                u64::from_le_bytes(b)
            })
            .collect();
        let mut params: Vec<*mut c_void> = slots.iter_mut().map(|s| (s as *mut u64).cast()).collect();
        let e = self.api.launch(kernel.func, dims.grid, dims.block, dims.shared_bytes, &mut params);
        self.check(e, "hipModuleLaunchKernel", &format!("kernel `{}`, grid {:?}, block {:?}", kernel.name, dims.grid, dims.block))
    }

    /// Waits for all queued work; a fault inside a kernel surfaces here.
    pub fn synchronize(&self) -> Result<(), RuntimeError> {
        self.select()?;
        self.check(self.api.device_synchronize(), "hipDeviceSynchronize", "")
    }

    /// Runs `warmup` untimed launches, then times `reps` launches one by one with events.
    pub fn time_launch(&self, kernel: &HipKernel, dims: LaunchDims, args: &[KernelArg], warmup: usize, reps: usize) -> Result<Timing, RuntimeError> {
        for _ in 0..warmup {
            self.launch(kernel, dims, args)?;
        }
        self.synchronize()?;
        let start = self.event()?;
        let end = self.event()?;
        let mut samples_ms = Vec::with_capacity(reps);
        for _ in 0..reps {
            self.check(self.api.event_record(start.0), "hipEventRecord", "")?;
            self.launch(kernel, dims, args)?;
            self.check(self.api.event_record(end.0), "hipEventRecord", "")?;
            self.check(self.api.event_synchronize(end.0), "hipEventSynchronize", "")?;
            let mut ms = 0f32;
            self.check(self.api.event_elapsed(&mut ms, start.0, end.0), "hipEventElapsedTime", "")?;
            samples_ms.push(ms);
        }
        Ok(Timing { samples_ms })
    }

    fn event(&self) -> Result<EventGuard, RuntimeError> {
        let mut e = std::ptr::null_mut();
        self.check(self.api.event_create(&mut e), "hipEventCreate", "")?;
        Ok(EventGuard(e, self.api.clone()))
    }
}

struct EventGuard(ffi::Event, Arc<HipApi>);

impl Drop for EventGuard {
    fn drop(&mut self) {
        let _ = self.1.event_destroy(self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Without ROCm, opening a device is a clear error naming the libraries tried, not a panic.
    #[test]
    fn no_runtime_is_a_clear_error() {
        if runtime_present() {
            eprintln!("HIP runtime present; skipping the no-runtime check");
            return;
        }
        let e = HipDevice::open(0).err().expect("no HIP runtime, so no device");
        assert!(matches!(e, RuntimeError::NoHipRuntime { .. }));
        let msg = e.to_string();
        assert!(msg.starts_with("no HIP runtime (libamdhip64.so) found on this machine"), "{msg}");
        assert!(msg.contains("libamdhip64.so.6"), "{msg}");
    }
}

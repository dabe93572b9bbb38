//! The raw HIP runtime API, resolved from `libamdhip64` at run time with `libloading`.
//!
//! Only the handful of entry points the launcher needs are bound. Each wrapper method is a thin
//! `unsafe` call whose soundness argument is written next to it; callers see a safe API in
//! `hip/mod.rs`. Signatures follow `hip_runtime_api.h` (ROCm 5 and 6 agree on all of them).

use std::ffi::{c_char, c_int, c_uint, c_void, CStr};
use std::sync::Arc;

use libloading::Library;

pub(super) type HipError = c_int;
pub(super) type Module = *mut c_void;
pub(super) type Function = *mut c_void;
pub(super) type Event = *mut c_void;
pub(super) type Stream = *mut c_void;
pub(super) const HIP_SUCCESS: HipError = 0;

/// Library names tried in order.
pub const LIBRARY_NAMES: &[&str] = &["libamdhip64.so", "libamdhip64.so.6", "libamdhip64.so.5"];

/// The resolved entry points. The function pointers are only valid while `_lib` is loaded, which
/// is why the table owns it and is shared behind an `Arc`.
pub(super) struct HipApi {
    init: unsafe extern "C" fn(c_uint) -> HipError,
    get_device_count: unsafe extern "C" fn(*mut c_int) -> HipError,
    set_device: unsafe extern "C" fn(c_int) -> HipError,
    module_load_data: unsafe extern "C" fn(*mut Module, *const c_void) -> HipError,
    module_unload: unsafe extern "C" fn(Module) -> HipError,
    module_get_function: unsafe extern "C" fn(*mut Function, Module, *const c_char) -> HipError,
    malloc: unsafe extern "C" fn(*mut *mut c_void, usize) -> HipError,
    free: unsafe extern "C" fn(*mut c_void) -> HipError,
    memcpy_htod: unsafe extern "C" fn(*mut c_void, *const c_void, usize) -> HipError,
    memcpy_dtoh: unsafe extern "C" fn(*mut c_void, *mut c_void, usize) -> HipError,
    #[allow(clippy::type_complexity)]
    module_launch_kernel: unsafe extern "C" fn(
        Function, c_uint, c_uint, c_uint, c_uint, c_uint, c_uint, c_uint, Stream, *mut *mut c_void, *mut *mut c_void,
    ) -> HipError,
    device_synchronize: unsafe extern "C" fn() -> HipError,
    get_error_name: unsafe extern "C" fn(HipError) -> *const c_char,
    event_create: unsafe extern "C" fn(*mut Event) -> HipError,
    event_record: unsafe extern "C" fn(Event, Stream) -> HipError,
    event_synchronize: unsafe extern "C" fn(Event) -> HipError,
    event_elapsed_time: unsafe extern "C" fn(*mut f32, Event, Event) -> HipError,
    event_destroy: unsafe extern "C" fn(Event) -> HipError,
    _lib: Library,
}

// SAFETY: the table holds immutable function pointers and the library handle; the HIP runtime's
// entry points are thread-safe per the HIP documentation.
unsafe impl Send for HipApi {}
// SAFETY: as above; no method mutates the table.
unsafe impl Sync for HipApi {}

impl HipApi {
    /// Loads the first library of [`LIBRARY_NAMES`] that opens and resolves every entry point.
    /// The error text says what was tried.
    pub(super) fn load() -> Result<Arc<HipApi>, String> {
        let mut tried = Vec::new();
        for name in LIBRARY_NAMES {
            // SAFETY: loading the HIP runtime runs its initialisers, which have no preconditions
            // on the host program; we load a well-known system library by its documented name.
            let lib = match unsafe { Library::new(name) } {
                Ok(lib) => lib,
                Err(e) => {
                    tried.push(format!("{name}: {e}"));
                    continue;
                }
            };
            return Self::resolve(lib).map(Arc::new).map_err(|e| format!("{name} lacks {e}"));
        }
        Err(tried.join("; "))
    }

    fn resolve(lib: Library) -> Result<HipApi, String> {
        macro_rules! sym {
            ($name:literal) => {
                // SAFETY: the symbol is looked up by its exact C name and assigned to a field whose
                // type is that function's C signature from hip_runtime_api.h; the copied pointer
                // stays valid because the table keeps `lib` loaded.
                *unsafe { lib.get(concat!($name, "\0").as_bytes()) }.map_err(|e| format!("`{}` ({e})", $name))?
            };
        }
        Ok(HipApi {
            init: sym!("hipInit"),
            get_device_count: sym!("hipGetDeviceCount"),
            set_device: sym!("hipSetDevice"),
            module_load_data: sym!("hipModuleLoadData"),
            module_unload: sym!("hipModuleUnload"),
            module_get_function: sym!("hipModuleGetFunction"),
            malloc: sym!("hipMalloc"),
            free: sym!("hipFree"),
            memcpy_htod: sym!("hipMemcpyHtoD"),
            memcpy_dtoh: sym!("hipMemcpyDtoH"),
            module_launch_kernel: sym!("hipModuleLaunchKernel"),
            device_synchronize: sym!("hipDeviceSynchronize"),
            get_error_name: sym!("hipGetErrorName"),
            event_create: sym!("hipEventCreate"),
            event_record: sym!("hipEventRecord"),
            event_synchronize: sym!("hipEventSynchronize"),
            event_elapsed_time: sym!("hipEventElapsedTime"),
            event_destroy: sym!("hipEventDestroy"),
            _lib: lib,
        })
    }

    /// The symbolic name of a HIP error code (e.g. `hipErrorInvalidImage`).
    pub(super) fn error_name(&self, e: HipError) -> String {
        // SAFETY: hipGetErrorName accepts any code and returns a pointer to a static,
        // NUL-terminated string (or null, which we check).
        let p = unsafe { (self.get_error_name)(e) };
        if p.is_null() {
            return format!("hipError({e})");
        }
        // SAFETY: non-null pointers from hipGetErrorName point to static C strings.
        unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
    }

    pub(super) fn init(&self) -> HipError {
        // SAFETY: hipInit takes flags (must be 0) and no pointers.
        unsafe { (self.init)(0) }
    }

    pub(super) fn device_count(&self, out: &mut c_int) -> HipError {
        // SAFETY: `out` is a valid, exclusive pointer to an int for the call's duration.
        unsafe { (self.get_device_count)(out) }
    }

    pub(super) fn set_device(&self, ordinal: c_int) -> HipError {
        // SAFETY: no pointers; an invalid ordinal is reported as an error code.
        unsafe { (self.set_device)(ordinal) }
    }

    /// `image` must be a complete code object; HIP reads its size from the ELF headers.
    pub(super) fn module_load_data(&self, out: &mut Module, image: &[u8]) -> HipError {
        // SAFETY: `image` is a live slice for the duration of the call (HIP copies what it needs);
        // `out` is a valid pointer. The caller checked the ELF magic so HIP parses an ELF header.
        unsafe { (self.module_load_data)(out, image.as_ptr().cast()) }
    }

    pub(super) fn module_unload(&self, m: Module) -> HipError {
        // SAFETY: `m` came from hipModuleLoadData and is unloaded exactly once (by its owner's Drop).
        unsafe { (self.module_unload)(m) }
    }

    pub(super) fn module_get_function(&self, out: &mut Function, m: Module, name: &CStr) -> HipError {
        // SAFETY: `m` is a live module, `name` a NUL-terminated string, `out` a valid pointer.
        unsafe { (self.module_get_function)(out, m, name.as_ptr()) }
    }

    pub(super) fn malloc(&self, out: &mut *mut c_void, len: usize) -> HipError {
        // SAFETY: `out` is a valid pointer to receive the allocation.
        unsafe { (self.malloc)(out, len) }
    }

    pub(super) fn free(&self, p: *mut c_void) -> HipError {
        // SAFETY: `p` came from hipMalloc and is freed exactly once (by its buffer's Drop).
        unsafe { (self.free)(p) }
    }

    /// Copies `src` to device address `dst`, which must hold at least `src.len()` bytes.
    pub(super) fn memcpy_htod(&self, dst: *mut c_void, src: &[u8]) -> HipError {
        // SAFETY: `src` is a live host slice of exactly the copied length; `dst` is a device
        // allocation of at least that length (checked by the caller).
        unsafe { (self.memcpy_htod)(dst, src.as_ptr().cast(), src.len()) }
    }

    /// Copies `dst.len()` bytes from device address `src`, which must hold at least that many.
    pub(super) fn memcpy_dtoh(&self, dst: &mut [u8], src: *mut c_void) -> HipError {
        // SAFETY: `dst` is a live, exclusive host slice of exactly the copied length; `src` is a
        // device allocation of at least that length (checked by the caller). The call is
        // synchronous, so the slice is written before it returns.
        unsafe { (self.memcpy_dtoh)(dst.as_mut_ptr().cast(), src, dst.len()) }
    }

    /// Launches on the null stream. `params` holds one pointer per kernel argument, each to a
    /// value of that argument's exact width.
    pub(super) fn launch(&self, f: Function, grid: [u32; 3], block: [u32; 3], shared: u32, params: &mut [*mut c_void]) -> HipError {
        // SAFETY: `f` is a live function handle; `params` and the values it points to are owned by
        // the caller and outlive the call (HIP copies argument values at launch). `extra` is null.
        // That the argument list matches the kernel's signature is the manifest ABI's contract.
        unsafe {
            (self.module_launch_kernel)(
                f,
                grid[0],
                grid[1],
                grid[2],
                block[0],
                block[1],
                block[2],
                shared,
                std::ptr::null_mut(),
                params.as_mut_ptr(),
                std::ptr::null_mut(),
            )
        }
    }

    pub(super) fn device_synchronize(&self) -> HipError {
        // SAFETY: no arguments.
        unsafe { (self.device_synchronize)() }
    }

    pub(super) fn event_create(&self, out: &mut Event) -> HipError {
        // SAFETY: `out` is a valid pointer to receive the event.
        unsafe { (self.event_create)(out) }
    }

    pub(super) fn event_record(&self, e: Event) -> HipError {
        // SAFETY: `e` is a live event; the null stream is always valid.
        unsafe { (self.event_record)(e, std::ptr::null_mut()) }
    }

    pub(super) fn event_synchronize(&self, e: Event) -> HipError {
        // SAFETY: `e` is a live, recorded event.
        unsafe { (self.event_synchronize)(e) }
    }

    pub(super) fn event_elapsed(&self, out: &mut f32, start: Event, end: Event) -> HipError {
        // SAFETY: both events are live and completed; `out` is a valid pointer.
        unsafe { (self.event_elapsed_time)(out, start, end) }
    }

    pub(super) fn event_destroy(&self, e: Event) -> HipError {
        // SAFETY: `e` is a live event destroyed exactly once (by its owner's Drop).
        unsafe { (self.event_destroy)(e) }
    }
}

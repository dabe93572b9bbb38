//! The one unsafe bridge of the backend: MLIR's LLVM-dialect translation hands its `llvm::Module` to
//! inkwell. melior (mlir-sys) and inkwell (llvm-sys) each declare their own opaque LLVM types for the
//! same C++ objects, so the raw pointers are cast between them.

use inkwell::context::Context as LlvmContext;
use inkwell::module::Module as LlvmModule;
use melior::ir::OperationRef;

/// Translates a module-like MLIR operation in the LLVM dialect (plus NVVM/ROCDL) to an LLVM module
/// owned by `llvm`.
/// The translations must have been registered on the module's context.
pub fn translate_to_llvm<'l>(module: OperationRef<'_, '_>, llvm: &'l LlvmContext) -> Option<LlvmModule<'l>> {
    // SAFETY: `module` is a live MLIR operation borrowed for the call. `llvm.raw()` is a live LLVMContext for 'l; the
    // translation creates the returned module in that context, so the module cannot outlive it. The
    // pointer types differ only in which crate declared the opaque struct. A null result means the
    // translation failed (the error went to the MLIR diagnostic handler) and is turned into `None`.
    unsafe {
        let ctx = llvm.raw() as mlir_sys::LLVMContextRef;
        let raw = mlir_sys::mlirTranslateModuleToLLVMIR(module.to_raw(), ctx);
        if raw.is_null() {
            None
        } else {
            Some(LlvmModule::new(raw as inkwell::llvm_sys::prelude::LLVMModuleRef))
        }
    }
}

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

/// Registers, in `registry`, only the dialects tilec's MLIR uses (the conversion passes load NVVM
/// and ROCDL themselves): far cheaper than registering every dialect MLIR has.
pub fn insert_used_dialects(registry: &melior::dialect::DialectRegistry) {
    use melior::dialect::DialectHandle;
    for h in [DialectHandle::gpu(), DialectHandle::llvm(), DialectHandle::scf(), DialectHandle::cf(), DialectHandle::func()] {
        h.insert_dialect(registry);
    }
    // SAFETY: each mlirGetDialectHandle__X__ returns a static handle of a dialect linked into this
    // binary; `from_raw` only wraps it.
    let raw = unsafe {
        [
            mlir_sys::mlirGetDialectHandle__arith__(),
            mlir_sys::mlirGetDialectHandle__math__(),
            mlir_sys::mlirGetDialectHandle__memref__(),
            mlir_sys::mlirGetDialectHandle__vector__(),
            mlir_sys::mlirGetDialectHandle__rocdl__(),
        ]
    };
    for h in raw {
        // SAFETY: see above; the handle is valid for the life of the process.
        unsafe { DialectHandle::from_raw(h) }.insert_dialect(registry);
    }
}

/// Registers the passes of tilec's pipeline (`mlir::pipeline`) so the textual pipeline parses.
pub fn register_pipeline_passes() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    // SAFETY: these functions only add entries to MLIR's global pass registry; `Once` keeps them
    // from running twice (registering twice is an error in MLIR).
    ONCE.call_once(|| unsafe {
        mlir_sys::mlirRegisterTransformsCanonicalizer();
        mlir_sys::mlirRegisterTransformsCSE();
        mlir_sys::mlirRegisterTransformsLoopInvariantCodeMotion();
        mlir_sys::mlirRegisterConversionSCFToControlFlow();
        mlir_sys::mlirRegisterConversionConvertGpuOpsToNVVMOps();
        mlir_sys::mlirRegisterConversionConvertGpuOpsToROCDLOps();
        mlir_sys::mlirRegisterConversionReconcileUnrealizedCasts();
    });
}

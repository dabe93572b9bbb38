//! Tile IR → MLIR (built with melior), and the MLIR pass pipeline down to the LLVM dialect.
//!
//! Each kernel becomes a `gpu.func` in one `gpu.module`, by one of two emitters: [`thread`] emits the
//! thread-level program `tilec_core::lower` made of it (layouts, vector accesses, warp instructions);
//! the direct emitter (the rest of this module) compiles the tile IR itself. In the direct emitter, register tiles are distributed over the
//! block's threads (see [`distribute`]); each thread holds its slots as separate SSA values, so tile
//! arithmetic becomes scalar `arith` operations per slot, loads and stores become masked `llvm.load` /
//! `llvm.store` on global pointers, and loops become `scf.for` with the slots as iteration arguments.
//! The pipeline then lowers `scf` to `cf` and the module to the LLVM dialect with NVVM or ROCDL
//! intrinsics (`convert-gpu-to-nvvm` / `convert-gpu-to-rocdl`).

mod arith;
mod atomic;
mod distribute;
mod exchange;
mod kernel;
mod memory;
mod smem;
mod thread;

use crate::error::CodegenError;
use crate::target::{Target, Vendor};
use melior::dialect::DialectRegistry;
use melior::ir::Module;
use melior::pass::PassManager;
use melior::utility::{parse_pass_pipeline, register_all_llvm_translations};
use melior::Context;
use tilec_core::tir::Program;

/// An MLIR context with the dialects, passes and LLVM translations tilec uses, and no others (creating
/// a context with every dialect and pass of MLIR registered costs several milliseconds per compile).
pub fn new_context() -> Context {
    let registry = DialectRegistry::new();
    crate::ffi::insert_used_dialects(&registry);
    let context = Context::new();
    context.append_dialect_registry(&registry);
    context.load_all_available_dialects();
    crate::ffi::register_pipeline_passes();
    register_all_llvm_translations(&context);
    context
}

/// The operations (a `gpu.func` and its globals) of one kernel's thread-level program, run by
/// `threads` threads per block; nothing is emitted if any op cannot be.
/// Also returns the bytes of dynamic shared memory its launch needs (0 when it is static).
pub fn emit_thread_program<'c>(context: &'c Context, program: &tilec_core::thread::Program, threads: u32, target: Target, span: tilec_core::syntax::Span) -> Result<(Vec<melior::ir::Operation<'c>>, u32), CodegenError> {
    thread::emit(context, program, threads, target, span).map(|e| (e.ops, e.dynamic_shared_bytes))
}

/// A module holding one `gpu.module` of `ops` (from [`emit_thread_program`]).
pub fn module_of<'c>(context: &'c Context, ops: Vec<melior::ir::Operation<'c>>) -> Result<Module<'c>, CodegenError> {
    let module = kernel::wrap(context, ops)?;
    if !module.as_operation().verify() {
        return Err(CodegenError::internal("MLIR construction", "the built module does not verify"));
    }
    Ok(module)
}

/// Builds the MLIR module of every kernel of `program` for `target`. Kernel `i` is `emitted[i]` when
/// that is given (from [`emit_thread_program`]), else the direct emitter compiles its tile IR.
pub fn build_module<'c>(context: &'c Context, program: &Program, target: Target, emitted: Vec<Option<Vec<melior::ir::Operation<'c>>>>) -> Result<Module<'c>, CodegenError> {
    let module = kernel::build(context, program, target, emitted)?;
    if !module.as_operation().verify() {
        // MLIR's diagnostic handler has already printed what failed to verify.
        return Err(CodegenError::internal("MLIR construction", "the built module does not verify"));
    }
    Ok(module)
}

/// The pass pipeline from tilec's MLIR to the LLVM dialect, as MLIR's textual pipeline syntax.
pub fn pipeline(target: Target) -> String {
    // NVIDIA: math ops become libdevice calls (linked in llvm.rs); AMD gets LLVM intrinsics directly
    // (arith.rs), which the AMDGPU backend implements without ROCm's device libraries.
    let to_target = match target.vendor() {
        Vendor::Nvidia => "convert-gpu-to-nvvm{index-bitwidth=64}".to_string(),
        Vendor::Amd => format!("convert-gpu-to-rocdl{{chipset={} index-bitwidth=64}}", target.name()),
    };
    // Only CSE before the conversions: LLVM's -O3 canonicalises, folds and hoists again anyway, and
    // `convert-scf-to-cf` is slow on IR with many duplicate constants (each `scf.if` of a predicated
    // access splits its block); canonicalize + LICM cost more than they saved (matmul: 34 → 21 ms).
    format!("builtin.module(gpu.module(cse,convert-scf-to-cf,{to_target}),reconcile-unrealized-casts)")
}

/// Runs [`pipeline`] on `module`.
pub fn lower_to_llvm_dialect(context: &Context, module: &mut Module<'_>, target: Target) -> Result<(), CodegenError> {
    let pm = PassManager::new(context);
    pm.enable_verifier(true);
    parse_pass_pipeline(pm.as_operation_pass_manager(), &pipeline(target))
        .map_err(|e| CodegenError::internal("MLIR pass pipeline", e.to_string()))?;
    pm.run(module).map_err(|e| CodegenError::internal("MLIR pass pipeline", e.to_string()))
}

/// The `gpu.module` holding the kernels: the unit MLIR translates to one LLVM module (it is a
/// one-region symbol table, which is all the translation asks of a module).
pub fn device_module<'c, 'm>(module: &'m Module<'c>) -> Result<melior::ir::OperationRef<'c, 'm>, CodegenError> {
    use melior::ir::block::BlockLike;
    module.body().first_operation().ok_or_else(|| CodegenError::internal("MLIR translation", "the module holds no gpu.module"))
}

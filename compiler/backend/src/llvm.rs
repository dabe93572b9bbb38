//! LLVM IR → PTX or AMDGCN assembly with inkwell target machines.

use crate::error::CodegenError;
use crate::target::{Target, Vendor};
use inkwell::module::Module;
use inkwell::passes::PassBuilderOptions;
use inkwell::targets::{CodeModel, FileType, InitializationConfig, RelocMode, Target as LlvmTarget, TargetMachine, TargetTriple};
use inkwell::OptimizationLevel;
use std::sync::Once;

fn initialize() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let config = InitializationConfig::default();
        LlvmTarget::initialize_nvptx(&config);
        LlvmTarget::initialize_amd_gpu(&config);
    });
}

/// A target machine for `target`, optimising at -O3.
pub fn target_machine(target: Target) -> Result<TargetMachine, CodegenError> {
    initialize();
    let triple = TargetTriple::create(target.triple());
    let llvm_target = LlvmTarget::from_triple(&triple).map_err(|e| CodegenError::internal("LLVM target", e.to_string()))?;
    let reloc = match target.vendor() {
        Vendor::Nvidia => RelocMode::Default,
        Vendor::Amd => RelocMode::PIC,
    };
    llvm_target
        .create_target_machine(&triple, target.name(), target.features(), OptimizationLevel::Aggressive, reloc, CodeModel::Default)
        .ok_or_else(|| CodegenError::internal("LLVM target", format!("LLVM cannot create a target machine for {target}")))
}

/// Sets the module's triple and data layout and runs LLVM's -O3 pipeline on it.
pub fn optimize(module: &Module<'_>, tm: &TargetMachine) -> Result<(), CodegenError> {
    module.set_triple(&tm.get_triple());
    module.set_data_layout(&tm.get_target_data().get_data_layout());
    module.verify().map_err(|e| CodegenError::internal("LLVM IR", e.to_string()))?;
    module.run_passes("default<O3>", tm, PassBuilderOptions::create()).map_err(|e| CodegenError::internal("LLVM optimisation", e.to_string()))
}

/// Emits assembly: PTX for NVIDIA targets, AMDGCN (with kernel descriptors) for AMD targets.
pub fn emit_assembly(module: &Module<'_>, tm: &TargetMachine) -> Result<String, CodegenError> {
    let buf = tm.write_to_memory_buffer(module, FileType::Assembly).map_err(|e| CodegenError::internal("LLVM code generation", e.to_string()))?;
    String::from_utf8(buf.as_slice().to_vec()).map_err(|e| CodegenError::internal("LLVM code generation", e.to_string()))
}

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

/// Where libdevice is: $TILEC_LIBDEVICE, or tools/cuda/nvvm/libdevice/libdevice.10.bc (scripts/setup.sh
/// puts it there) in the current folder or a folder above the compiler's executable.
fn libdevice_path() -> Option<std::path::PathBuf> {
    if let Some(p) = std::env::var_os("TILEC_LIBDEVICE") {
        return Some(p.into());
    }
    let rel = std::path::Path::new("tools/cuda/nvvm/libdevice/libdevice.10.bc");
    let beside = std::env::current_exe().ok().and_then(|exe| exe.ancestors().map(|d| d.join(rel)).find(|p| p.exists()));
    beside.or_else(|| rel.exists().then(|| rel.to_path_buf())).or_else(|| {
        let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(rel);
        here.exists().then_some(here)
    })
}

/// Links NVIDIA's libdevice into `module` when it calls a libdevice function (`__nv_*`, which is how
/// MLIR lowers math functions), as CUDA does; the -O3 pipeline then keeps only what is used.
/// Returns whether it linked anything.
pub fn link_libdevice<'c>(module: &Module<'c>, context: &'c inkwell::context::Context) -> Result<bool, CodegenError> {
    let needs = module.get_functions().any(|f| f.get_name().to_bytes().starts_with(b"__nv_") && f.count_basic_blocks() == 0);
    if !needs {
        return Ok(false);
    }
    let path = libdevice_path().ok_or_else(|| CodegenError::Unsupported {
        message: "math functions on NVIDIA targets need libdevice: run scripts/setup.sh, or set TILEC_LIBDEVICE to libdevice.10.bc".into(),
        span: Default::default(),
    })?;
    let lib = Module::parse_bitcode_from_path(&path, context).map_err(|e| CodegenError::internal("libdevice", format!("{}: {e}", path.display())))?;
    module.link_in_module(lib).map_err(|e| CodegenError::internal("libdevice", e.to_string()))?;
    // Internal linkage for everything libdevice brought: -O3 inlines what is used and drops the rest
    // (left external, every libdevice function would be emitted into the PTX).
    for f in module.get_functions() {
        if f.count_basic_blocks() > 0 && f.get_name().to_bytes().starts_with(b"__nv_") {
            f.set_linkage(inkwell::module::Linkage::Internal);
        }
    }
    let mut g = module.get_first_global();
    while let Some(global) = g {
        if global.get_initializer().is_some() {
            global.set_linkage(inkwell::module::Linkage::Internal);
        }
        g = global.get_next_global();
    }
    // libdevice asks `__nvvm_reflect("__CUDA_FTZ")`; 0 keeps subnormals, as the interpreter does.
    let i32t = context.i32_type();
    module.add_basic_value_flag("nvvm-reflect-ftz", inkwell::module::FlagBehavior::Override, i32t.const_int(0, false));
    Ok(true)
}

/// Drops what nothing uses (libdevice's unused functions, once internal) before the expensive -O3.
pub fn drop_unused(module: &Module<'_>, tm: &TargetMachine) -> Result<(), CodegenError> {
    module.run_passes("globaldce", tm, PassBuilderOptions::create()).map_err(|e| CodegenError::internal("LLVM globaldce", e.to_string()))
}

/// Emits assembly: PTX for NVIDIA targets, AMDGCN (with kernel descriptors) for AMD targets.
pub fn emit_assembly(module: &Module<'_>, tm: &TargetMachine) -> Result<String, CodegenError> {
    let buf = tm.write_to_memory_buffer(module, FileType::Assembly).map_err(|e| CodegenError::internal("LLVM code generation", e.to_string()))?;
    String::from_utf8(buf.as_slice().to_vec()).map_err(|e| CodegenError::internal("LLVM code generation", e.to_string()))
}

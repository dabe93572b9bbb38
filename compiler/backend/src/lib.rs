//! tilec's code generation: tile IR → MLIR (melior) → MLIR passes → LLVM IR → PTX or AMDGCN (inkwell).
//!
//! This crate links LLVM and MLIR statically; everything before it (`tilec-core`) does not.

mod error;
mod ffi;
mod llvm;
pub mod mlir;
mod target;

pub use error::CodegenError;
pub use target::{Target, UnknownTarget, Vendor};

use std::time::{Duration, Instant};
use tilec_core::tir::Program;

/// Where code generation stops.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// The MLIR tilec builds (gpu, arith, scf and llvm dialects), before any pass.
    Mlir,
    /// The MLIR after the pass pipeline: LLVM dialect with NVVM or ROCDL intrinsics.
    LoweredMlir,
    /// LLVM IR after LLVM's -O3 pipeline.
    Llvm,
    /// Target assembly: PTX or AMDGCN.
    Assembly,
}

/// Compiles every kernel of `program` for `target`, returning the text of the requested stage.
pub fn generate(program: &Program, target: Target, stage: Stage) -> Result<String, CodegenError> {
    generate_timed(program, target, stage).map(|(text, _)| text)
}

/// How long each stage of code generation took, in order.
pub type StageTimes = Vec<(&'static str, Duration)>;

/// [`generate`], also returning how long each stage took.
pub fn generate_timed(program: &Program, target: Target, stage: Stage) -> Result<(String, StageTimes), CodegenError> {
    let mut times = Vec::new();
    let mut clock = Instant::now();
    let mut lap = |name: &'static str, times: &mut Vec<(&'static str, Duration)>| {
        times.push((name, clock.elapsed()));
        clock = Instant::now();
    };
    let context = mlir::new_context();
    lap("MLIR context", &mut times);
    let mut module = mlir::build_module(&context, program, target)?;
    lap("MLIR construction", &mut times);
    if stage == Stage::Mlir {
        return Ok((module.as_operation().to_string(), times));
    }
    mlir::lower_to_llvm_dialect(&context, &mut module, target)?;
    lap("MLIR passes", &mut times);
    if stage == Stage::LoweredMlir {
        return Ok((module.as_operation().to_string(), times));
    }
    let device = mlir::device_module(&module)?;
    let llvm_context = inkwell::context::Context::create();
    let llvm_module = ffi::translate_to_llvm(device, &llvm_context)
        .ok_or_else(|| CodegenError::internal("MLIR to LLVM IR translation", "the translation failed"))?;
    lap("translation to LLVM IR", &mut times);
    let tm = llvm::target_machine(target)?;
    if target.vendor() == Vendor::Nvidia && llvm::link_libdevice(&llvm_module, &llvm_context)? {
        llvm::drop_unused(&llvm_module, &tm)?;
    }
    llvm::optimize(&llvm_module, &tm)?;
    lap("LLVM -O3", &mut times);
    if stage == Stage::Llvm {
        return Ok((llvm_module.print_to_string().to_string(), times));
    }
    let asm = llvm::emit_assembly(&llvm_module, &tm)?;
    lap("code generation", &mut times);
    Ok((asm, times))
}

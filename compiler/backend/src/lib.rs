//! tilec's code generation: tile IR (directly, or as the thread-level program it lowers to) → MLIR (melior) → MLIR passes → LLVM IR → PTX or AMDGCN (inkwell).
//!
//! This crate links LLVM and MLIR statically; everything before it (`tilec-core`) does not.

mod error;
mod ffi;
mod llvm;
pub mod mlir;
mod select;
mod target;

pub use error::CodegenError;
pub use select::{dynamic_shared_bytes, threads_per_block, Codegen, KernelPath};
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

/// Compiles every kernel of `program` for `target` (each by the thread-level program when it lowers
/// to one, see [`Codegen::Auto`]), returning the text of the requested stage.
pub fn generate(program: &Program, target: Target, stage: Stage) -> Result<String, CodegenError> {
    generate_with(program, target, stage, Codegen::Auto).map(|g| g.text)
}

/// How long each stage of code generation took, in order.
pub type StageTimes = Vec<(&'static str, Duration)>;

/// [`generate`], also returning how long each stage took.
pub fn generate_timed(program: &Program, target: Target, stage: Stage) -> Result<(String, StageTimes), CodegenError> {
    generate_with(program, target, stage, Codegen::Auto).map(|g| (g.text, g.times))
}

/// What [`generate_with`] produced.
#[derive(Clone, Debug)]
pub struct Generated {
    /// The text of the requested stage.
    pub text: String,
    /// How long each stage took, in order.
    pub times: StageTimes,
    /// The path each kernel took, by name, in the program's order.
    pub paths: Vec<(String, KernelPath)>,
}

/// Compiles every kernel of `program` for `target` with the code generator `codegen`.
pub fn generate_with(program: &Program, target: Target, stage: Stage, codegen: Codegen) -> Result<Generated, CodegenError> {
    let mut times = Vec::new();
    let mut clock = Instant::now();
    let mut lap = |name: &'static str, times: &mut Vec<(&'static str, Duration)>| {
        times.push((name, clock.elapsed()));
        clock = Instant::now();
    };
    let context = mlir::new_context();
    lap("MLIR context", &mut times);
    let mut emitted = Vec::new();
    let mut paths = Vec::new();
    for kernel in &program.kernels {
        let (ops, path) = select::choose(&context, kernel, target, codegen)?;
        emitted.push(ops);
        paths.push((kernel.name.clone(), path));
    }
    lap("thread-level lowering and emission", &mut times);
    let module = mlir::build_module(&context, program, target, emitted)?;
    lap("MLIR construction", &mut times);
    let text = finish(&context, module, target, stage, &mut times)?;
    Ok(Generated { text, times, paths })
}

/// Compiles one hand-made thread-level program (run by `threads` threads per block) for an NVIDIA
/// `target`: what tests of the thread emitter use. The program is verified first.
pub fn generate_thread_program(program: &tilec_core::thread::Program, threads: u32, target: Target, stage: Stage) -> Result<String, CodegenError> {
    tilec_core::thread::verify(program).map_err(|e| CodegenError::internal("thread-level program", format!("{e:?}")))?;
    let context = mlir::new_context();
    let (ops, _) = mlir::emit_thread_program(&context, program, threads, target, tilec_core::syntax::Span::new(0, 0))?;
    let module = mlir::module_of(&context, ops)?;
    finish(&context, module, target, stage, &mut Vec::new())
}

/// Runs the rest of the pipeline on a built module, up to `stage`.
fn finish(context: &melior::Context, mut module: melior::ir::Module<'_>, target: Target, stage: Stage, times: &mut StageTimes) -> Result<String, CodegenError> {
    let mut clock = Instant::now();
    let mut lap = |name: &'static str, times: &mut StageTimes| {
        times.push((name, clock.elapsed()));
        clock = Instant::now();
    };
    if stage == Stage::Mlir {
        return Ok(module.as_operation().to_string());
    }
    mlir::lower_to_llvm_dialect(context, &mut module, target)?;
    lap("MLIR passes", times);
    if stage == Stage::LoweredMlir {
        return Ok(module.as_operation().to_string());
    }
    let device = mlir::device_module(&module)?;
    let llvm_context = inkwell::context::Context::create();
    let llvm_module = ffi::translate_to_llvm(device, &llvm_context)
        .ok_or_else(|| CodegenError::internal("MLIR to LLVM IR translation", "the translation failed"))?;
    lap("translation to LLVM IR", times);
    let tm = llvm::target_machine(target)?;
    if target.vendor() == Vendor::Nvidia && llvm::link_libdevice(&llvm_module, &llvm_context)? {
        llvm::drop_unused(&llvm_module, &tm)?;
    }
    llvm::optimize(&llvm_module, &tm)?;
    lap("LLVM -O3", times);
    if stage == Stage::Llvm {
        return Ok(llvm_module.print_to_string().to_string());
    }
    let asm = llvm::emit_assembly(&llvm_module, &tm)?;
    lap("code generation", times);
    Ok(asm)
}

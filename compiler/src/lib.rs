//! tilec: a compiler for a thread-block-level tile language for GPU kernels.
//!
//! The pipeline, stage by stage (docs/architecture.md has the map):
//!
//! 1. [`syntax`]: source → tokens (logos) → AST (lalrpop), with spans;
//! 2. [`sema`]: names, types, shapes, compile-time parameters → typed tile IR ([`tir`]);
//! 3. [`interp`]: the tile interpreter, the reference semantics, runs tile IR on the CPU;
//! 4. [`lower`]: tile IR → thread-level program ([`thread`]), what each thread of a block runs;
//! 5. [`backend`]: the thread-level program (or, where it does not lower, the tile IR directly) → MLIR
//!    (melior) → MLIR passes → LLVM IR → PTX / AMDGCN (inkwell); [`Codegen`] chooses.
//!
//! ```
//! let src = "kernel scale(x: global f32[N], y: global f32[N]) grid(cdiv(N, 256)) warps(2) {
//!     let v = load(x[block.x * 256..], [256]);
//!     store(y[block.x * 256..], v * 2.0);
//! }";
//! let program = tilec::compile_str("scale.tile", src, &tilec::Options::default()).unwrap();
//! assert_eq!(program.kernels[0].name, "scale");
//! let ptx = tilec::generate(&program, tilec::Target::Sm90, tilec::Stage::Assembly).unwrap();
//! assert!(ptx.contains(".entry scale"));
//! ```

pub mod artifact;
pub mod execute;

pub use tile_runtime as runtime;
pub use tilec_backend::{generate, generate_thread_program, generate_timed, generate_with, dynamic_shared_bytes, threads_per_block, Codegen, CodegenError, Generated, KernelPath, Stage, Target, Vendor};
pub use tilec_core::diag::{render_all, Diagnostic, Source};
pub use tilec_core::sema::{Define, Options};
pub use tilec_core::{compile_source, interp, lower, modules, sema, syntax, thread, tir};
pub use tilec_dtype as dtype;

use tilec_core::tir::Program;

/// The compiler's options, built up and then used for any number of sources.
///
/// ```
/// let compiler = tilec::Compiler::new().define("BLOCK", "256");
/// let program = compiler.compile_file(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/vector_add.tile"))).unwrap();
/// assert_eq!(program.kernels[0].signature(), "vector_add(a: global f32[N], b: global f32[N], c: global f32[N])");
/// ```
#[derive(Clone, Debug, Default)]
pub struct Compiler {
    pub options: Options,
    /// The code generator [`Compiler::build`] uses.
    pub codegen: Codegen,
}

impl Compiler {
    pub fn new() -> Compiler {
        Compiler::default()
    }

    /// Gives compile-time parameter `name` the value `value` (as `-D NAME=VALUE` does).
    pub fn define(mut self, name: &str, value: &str) -> Compiler {
        self.options.defines.push(Define { name: name.to_string(), value: value.to_string() });
        self
    }

    /// Chooses the code generator (`--codegen`): [`Codegen::Auto`] unless set.
    pub fn codegen(mut self, codegen: Codegen) -> Compiler {
        self.codegen = codegen;
        self
    }

    pub fn compile_str(&self, name: &str, text: &str) -> Result<Program, CompileError> {
        compile_str(name, text, &self.options)
    }

    /// Compiles one kernel for `target` with this compiler's code generator.
    pub fn build(&self, kernel: &tir::Kernel, target: Target) -> Result<Artifact, CodegenError> {
        build_with(kernel, target, self.codegen)
    }

    pub fn compile_file(&self, path: &std::path::Path) -> Result<Program, CompileError> {
        compile_file(path, &self.options)
    }
}

/// Compiled code for one kernel and the manifest that lets the runtime launch it without the compiler.
#[derive(Clone, Debug)]
pub struct Artifact {
    /// PTX (NVIDIA targets) or AMDGCN assembly (AMD targets).
    pub code: String,
    pub manifest: runtime::manifest::Manifest,
}

/// Compiles one kernel for `target` ([`Codegen::Auto`]).
pub fn build(kernel: &tir::Kernel, target: Target) -> Result<Artifact, CodegenError> {
    build_with(kernel, target, Codegen::Auto)
}

/// Compiles one kernel for `target` with the code generator `codegen`.
pub fn build_with(kernel: &tir::Kernel, target: Target, codegen: Codegen) -> Result<Artifact, CodegenError> {
    let generated = generate_with(&Program { kernels: vec![kernel.clone()] }, target, Stage::Assembly, codegen)?;
    Ok(Artifact { manifest: artifact::manifest_for(kernel, target, &generated.paths[0].1), code: generated.text })
}

/// An error of the driver: diagnostics about one source file.
#[derive(Debug)]
pub struct CompileError {
    pub source: Source,
    pub diagnostics: Vec<Diagnostic>,
}

impl CompileError {
    /// Renders every diagnostic against the source (ANSI colours if `color`).
    pub fn render(&self, color: bool) -> String {
        render_all(&self.diagnostics, &self.source, color)
    }
}

impl std::fmt::Display for CompileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.render(false))
    }
}

impl std::error::Error for CompileError {}

/// Parses and checks `text` (named `name` in diagnostics) into tile IR. It may import the standard
/// library (`use std::softmax;`); relative imports need a file ([`compile_file`]).
pub fn compile_str(name: &str, text: &str, options: &Options) -> Result<Program, CompileError> {
    let (source, program) = tilec_core::compile_source(name, text, None, options);
    program.map_err(|diagnostics| CompileError { source, diagnostics })
}

/// Reads and compiles a `.tile` file; its relative imports (`use helpers;`) are found beside it.
pub fn compile_file(path: &std::path::Path, options: &Options) -> Result<Program, CompileError> {
    let name = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let (source, program) = tilec_core::compile_source(&name, &text, path.parent(), options);
            program.map_err(|diagnostics| CompileError { source, diagnostics })
        }
        Err(e) => Err(CompileError {
            source: Source::new(name.clone(), ""),
            diagnostics: vec![Diagnostic::error(format!("cannot read `{name}`: {e}"))],
        }),
    }
}

//! tilec: a compiler for a thread-block-level tile language for GPU kernels.
//!
//! The pipeline, stage by stage (docs/architecture.md has the map):
//!
//! 1. [`syntax`]: source → tokens (logos) → AST (lalrpop), with spans;
//! 2. [`sema`]: names, types, shapes, compile-time parameters → typed tile IR ([`tir`]);
//! 3. [`interp`]: the tile interpreter, the reference semantics, runs tile IR on the CPU;
//! 4. [`backend`]: tile IR → MLIR (melior) → MLIR passes → LLVM IR → PTX / AMDGCN (inkwell).
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
pub use tilec_backend::{generate, CodegenError, Stage, Target, Vendor};
pub use tilec_core::diag::{render_all, Diagnostic, Source};
pub use tilec_core::sema::{Define, Options};
pub use tilec_core::{compile_source, interp, modules, sema, syntax, tir};
pub use tilec_dtype as dtype;

use tilec_core::tir::Program;

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

//! The pure part of tilec: syntax, semantic analysis, the tile IR, its passes and the tile interpreter.
//! Nothing here links LLVM, so it builds and tests fast.
//!
//! Pipeline: [`syntax`] (tokens, AST) → [`sema`] (names, types, shapes) → [`tir`] (typed tile IR) →
//! [`interp`] (reference execution); code generation lives in the `tilec-backend` crate.

pub mod diag;
pub mod interp;
pub mod lower;
pub mod modules;
pub mod numeric;
pub mod passes;
pub mod sema;
pub mod syntax;
pub mod thread;
pub mod tir;

pub use diag::{Diagnostic, Source};

/// Parses and checks one source text into tile IR (it may import the standard library).
pub fn compile_to_tir(src: &str, options: &sema::Options) -> Result<tir::Program, Vec<Diagnostic>> {
    compile_source("<source>", src, None, options).1
}

/// Loads `text` (named `name`) and what it imports (relative imports from `dir`), checks it, and
/// returns every file read (to render diagnostics against) with the tile IR of its kernels.
pub fn compile_source(name: &str, text: &str, dir: Option<&std::path::Path>, options: &sema::Options) -> (Source, Result<tir::Program, Vec<Diagnostic>>) {
    let (source, modules) = modules::load_program(name, text, dir, &modules::FileLoader);
    let program = modules.and_then(|m| sema::check_program(&m, options));
    (source, program)
}

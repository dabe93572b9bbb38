//! The pure part of tilec: syntax, semantic analysis, the tile IR, its passes and the tile interpreter.
//! Nothing here links LLVM, so it builds and tests fast.
//!
//! Pipeline: [`syntax`] (tokens, AST) → [`sema`] (names, types, shapes) → [`tir`] (typed tile IR) →
//! [`interp`] (reference execution); code generation lives in the `tilec-backend` crate.

pub mod diag;
pub mod interp;
pub mod numeric;
pub mod sema;
pub mod syntax;
pub mod tir;

pub use diag::{Diagnostic, Source};

/// Parses and checks one source file into tile IR.
pub fn compile_to_tir(src: &str, options: &sema::Options) -> Result<tir::Program, Vec<Diagnostic>> {
    let module = syntax::parse_module(src).map_err(|d| vec![d])?;
    sema::check_module(&module, options)
}

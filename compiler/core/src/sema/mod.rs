//! Semantic analysis: AST → typed tile IR.
//!
//! Resolves names, gives compile-time parameters their values (defaults or `-D` overrides), checks
//! types, shapes and memory scopes, makes implicit conversions explicit (literal typing, scalar splats,
//! broadcasts), and builds one specialised [`Kernel`] per kernel. Errors are collected, not thrown:
//! one run reports every independent problem; a name whose definition failed is poisoned so that its
//! uses do not repeat the report.

mod builder;
mod builtins;
mod consts;
mod expr;
mod function;
mod kernel;
mod program;
mod scope;
mod stmt;
mod tune;

use crate::diag::Diagnostic;
use crate::syntax::ast;
use crate::syntax::Span;
use crate::tir::{Kernel, Program};
use std::cell::RefCell;

/// A value for a compile-time parameter given from outside the source (`-D NAME=VALUE`).
#[derive(Clone, Debug, PartialEq)]
pub struct Define {
    pub name: String,
    pub value: String,
}

impl Define {
    /// Parses `NAME=VALUE`.
    pub fn parse(s: &str) -> Result<Define, String> {
        match s.split_once('=') {
            Some((n, v)) if !n.trim().is_empty() && !v.trim().is_empty() => {
                Ok(Define { name: n.trim().to_string(), value: v.trim().to_string() })
            }
            _ => Err(format!("`{s}` is not of the form NAME=VALUE")),
        }
    }
}

/// Options of semantic analysis.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Overrides for compile-time parameters, applied to every kernel that declares the name.
    pub defines: Vec<Define>,
}

/// Marks that an error was already reported into the checker's diagnostics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ErrorReported;

pub type Checked<T> = Result<T, ErrorReported>;

/// Collects diagnostics as they are found.
#[derive(Default)]
pub struct Reporter {
    diags: RefCell<Vec<Diagnostic>>,
}

impl Reporter {
    pub fn report(&self, d: Diagnostic) -> ErrorReported {
        self.diags.borrow_mut().push(d);
        ErrorReported
    }

    pub fn has_errors(&self) -> bool {
        !self.diags.borrow().is_empty()
    }

    pub fn into_diagnostics(self) -> Vec<Diagnostic> {
        self.diags.into_inner()
    }
}

/// Checks a loaded program (the root module first, then what it imports) and builds the tile IR of the
/// root module's kernels.
pub fn check_program(modules: &[crate::modules::Module], options: &Options) -> Result<Program, Vec<Diagnostic>> {
    let reporter = Reporter::default();
    let ctx = program::ProgramCtx::new(modules, &reporter);
    let module = &modules[0].ast;
    let mut kernels: Vec<Kernel> = Vec::new();
    let mut seen: Vec<(&str, Span)> = Vec::new();
    for item in &module.items {
        let ast::Item::Kernel(k) = item else { continue };
        if let Some((_, first)) = seen.iter().find(|(n, _)| *n == k.name.name) {
            reporter.report(
                Diagnostic::at(k.name.span, format!("kernel `{}` is defined twice", k.name.name), "second definition")
                    .with_secondary(*first, "first defined here"),
            );
            continue;
        }
        seen.push((&k.name.name, k.name.span));
        if let Ok(kernel) = kernel::check_kernel(k, options, &reporter, &ctx) {
            kernels.push(kernel);
        }
    }
    for d in &options.defines {
        let kernels_ast = || module.items.iter().filter_map(|i| if let ast::Item::Kernel(k) = i { Some(k) } else { None });
        let used = kernels_ast().any(|k| k.consts.iter().any(|c| c.name.name == d.name));
        if !used {
            let mut names: Vec<&str> = kernels_ast().flat_map(|k| k.consts.iter().map(|c| c.name.name.as_str())).collect();
            names.sort();
            names.dedup();
            let have = if names.is_empty() { "no kernel has compile-time parameters".to_string() } else { format!("compile-time parameters here: {}", names.join(", ")) };
            reporter.report(Diagnostic::error(format!("-D {}: no kernel has a compile-time parameter `{}`", d.name, d.name)).with_note(have));
        }
    }
    if reporter.has_errors() {
        return Err(reporter.into_diagnostics());
    }
    for k in &kernels {
        if let Err(e) = crate::tir::verify_kernel(k) {
            return Err(vec![Diagnostic::error(format!("internal compiler error: invalid tile IR for kernel `{}`: {e}", k.name))
                .with_note("this is a bug in tilec; please report it with the kernel that triggered it")]);
        }
    }
    Ok(Program { kernels })
}

//! What the subcommands share: errors rendered as diagnostics, `-D` options, output files.

use std::io::IsTerminal;
use std::path::Path;
use tilec::{CompileError, Define, Diagnostic, Options, Source};

/// A command failure: diagnostics, with the source they point into when there is one.
pub struct CliError {
    pub source: Option<Source>,
    pub diagnostics: Vec<Diagnostic>,
    /// A message already rendered by its owner (the layout calculator renders its own diagnostics).
    pub rendered: Option<String>,
}

impl CliError {
    /// A failure with no source location (command-line arguments, files).
    pub fn msg(message: impl Into<String>) -> CliError {
        CliError { source: None, diagnostics: vec![Diagnostic::error(message)], rendered: None }
    }

    /// Diagnostics pointing into `source`.
    pub fn in_source(source: Source, diagnostics: Vec<Diagnostic>) -> CliError {
        CliError { source: Some(source), diagnostics, rendered: None }
    }

    /// A failure whose diagnostic text is already rendered.
    pub fn rendered(text: String) -> CliError {
        CliError { source: None, diagnostics: Vec::new(), rendered: Some(text) }
    }

    pub fn render(&self, color: bool) -> String {
        if let Some(text) = &self.rendered {
            return text.clone();
        }
        match &self.source {
            Some(src) => tilec::render_all(&self.diagnostics, src, color),
            None => self.diagnostics.iter().map(|d| d.render(&Source::new("<command line>", ""), color)).collect(),
        }
    }
}

impl From<CompileError> for CliError {
    fn from(e: CompileError) -> CliError {
        CliError::in_source(e.source, e.diagnostics)
    }
}

pub type CliResult<T = ()> = Result<T, CliError>;

pub fn use_color() -> bool {
    std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal()
}

/// `-D NAME=VALUE` as a clap value parser.
pub fn parse_define(s: &str) -> Result<Define, String> {
    Define::parse(s)
}

pub fn options(defines: &[Define]) -> Options {
    Options { defines: defines.to_vec() }
}

/// Reads and compiles the source file; returns every file read (for later diagnostics) and the IR.
pub fn compile(path: &Path, defines: &[Define]) -> CliResult<(Source, tilec::tir::Program)> {
    let text = std::fs::read_to_string(path).map_err(|e| CliError::msg(format!("cannot read `{}`: {e}", path.display())))?;
    let (source, program) = tilec::compile_source(&path.display().to_string(), &text, path.parent(), &options(defines));
    match program {
        Ok(p) => Ok((source, p)),
        Err(diagnostics) => Err(CliError::in_source(source, diagnostics)),
    }
}

/// Writes `text` to `path`, or to standard output without a path.
pub fn write_output(path: Option<&Path>, text: &str) -> CliResult {
    match path {
        Some(p) => std::fs::write(p, text).map_err(|e| CliError::msg(format!("cannot write `{}`: {e}", p.display()))),
        None => {
            print!("{text}");
            Ok(())
        }
    }
}

//! Diagnostics: every user error of every stage, with source spans, rendered once by codespan-reporting.
//!
//! Stages return `Vec<Diagnostic>` (or one) rather than failing on the first problem where they can
//! go on; the driver renders them against the [`Source`] they refer to.

use crate::syntax::span::Span;
use codespan_reporting::diagnostic::{Diagnostic as CsDiagnostic, Label as CsLabel, Severity};
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term::{self, termcolor};

/// The source files of one compilation (the root file, then every module it imports), laid out in one
/// offset space as rustc's SourceMap does: file `i` occupies `[base_i, base_i + len_i]`, so a [`Span`]
/// is two offsets and still says which file it is in.
#[derive(Clone, Debug, Default)]
pub struct Source {
    files: Vec<SourceFile>,
}

#[derive(Clone, Debug)]
struct SourceFile {
    name: String,
    text: String,
    base: usize,
}

impl Source {
    /// A map holding one file, at offset 0.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Source {
        let mut s = Source::default();
        s.add(name, text);
        s
    }

    /// Adds a file; returns its base offset (what its spans start from).
    pub fn add(&mut self, name: impl Into<String>, text: impl Into<String>) -> usize {
        // One byte of gap, so the end of one file (a span at EOF) is never the start of the next.
        let base = self.files.last().map_or(0, |f| f.base + f.text.len() + 1);
        self.files.push(SourceFile { name: name.into(), text: text.into(), base });
        base
    }

    /// The name of the file holding `offset`.
    pub fn file_name(&self, offset: usize) -> Option<&str> {
        self.locate(offset).map(|i| self.files[i].name.as_str())
    }

    fn locate(&self, offset: usize) -> Option<usize> {
        self.files.iter().rposition(|f| f.base <= offset && offset <= f.base + f.text.len())
    }
}

/// A labelled span inside a diagnostic.
#[derive(Clone, Debug, PartialEq)]
pub struct Label {
    pub span: Span,
    pub message: String,
    pub primary: bool,
}

/// A problem found in the user's input.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    pub severity: Level,
    pub message: String,
    pub labels: Vec<Label>,
    pub notes: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Error,
    Warning,
}

impl Diagnostic {
    pub fn error(message: impl Into<String>) -> Diagnostic {
        Diagnostic { severity: Level::Error, message: message.into(), labels: Vec::new(), notes: Vec::new() }
    }

    /// An error pointing at `span` with a short label.
    pub fn at(span: Span, message: impl Into<String>, label: impl Into<String>) -> Diagnostic {
        Diagnostic::error(message).with_label(span, label)
    }

    pub fn with_label(mut self, span: Span, message: impl Into<String>) -> Diagnostic {
        self.labels.push(Label { span, message: message.into(), primary: self.labels.is_empty() });
        self
    }

    pub fn with_secondary(mut self, span: Span, message: impl Into<String>) -> Diagnostic {
        self.labels.push(Label { span, message: message.into(), primary: false });
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }

    pub fn with_help(self, help: impl Into<String>) -> Diagnostic {
        let help = format!("help: {}", help.into());
        self.with_note(help)
    }

    /// The primary span, if there is one.
    pub fn span(&self) -> Option<Span> {
        self.labels.iter().find(|l| l.primary).map(|l| l.span)
    }

    fn to_codespan(&self, source: &Source) -> Option<CsDiagnostic<usize>> {
        let severity = match self.severity {
            Level::Error => Severity::Error,
            Level::Warning => Severity::Warning,
        };
        let mut labels = Vec::new();
        for l in &self.labels {
            let file = source.locate(l.span.start as usize)?;
            let base = source.files[file].base;
            let range = l.span.start as usize - base..(l.span.end as usize - base).min(source.files[file].text.len());
            let label = if l.primary { CsLabel::primary(file, range) } else { CsLabel::secondary(file, range) };
            labels.push(label.with_message(&l.message));
        }
        Some(CsDiagnostic::new(severity).with_message(&self.message).with_labels(labels).with_notes(self.notes.clone()))
    }

    /// Renders the diagnostic against its source, with ANSI colours if `color`.
    pub fn render(&self, source: &Source, color: bool) -> String {
        let mut files = SimpleFiles::new();
        for f in &source.files {
            files.add(f.name.as_str(), f.text.as_str());
        }
        let config = term::Config::default();
        let Some(diag) = self.to_codespan(source) else {
            return format!("error: {}\n", self.message);
        };
        let rendered = if color {
            let mut buf = termcolor::Buffer::ansi();
            term::emit_to_write_style(&mut buf, &config, &files, &diag).map(|_| String::from_utf8_lossy(buf.as_slice()).into_owned())
        } else {
            term::emit_into_string(&config, &files, &diag)
        };
        // A span outside the file is a compiler bug; still say what went wrong rather than nothing.
        rendered.unwrap_or_else(|_| format!("error: {}\n", self.message))
    }
}

/// Renders many diagnostics, one after the other.
pub fn render_all(diags: &[Diagnostic], source: &Source, color: bool) -> String {
    diags.iter().map(|d| d.render(source, color)).collect()
}

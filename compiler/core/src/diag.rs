//! Diagnostics: every user error of every stage, with source spans, rendered once by codespan-reporting.
//!
//! Stages return `Vec<Diagnostic>` (or one) rather than failing on the first problem where they can
//! go on; the driver renders them against the [`Source`] they refer to.

use crate::syntax::span::Span;
use codespan_reporting::diagnostic::{Diagnostic as CsDiagnostic, Label as CsLabel, Severity};
use codespan_reporting::files::SimpleFile;
use codespan_reporting::term::{self, termcolor};

/// One source file: its name (as shown in diagnostics) and its text.
#[derive(Clone, Debug)]
pub struct Source {
    pub name: String,
    pub text: String,
}

impl Source {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Source {
        Source { name: name.into(), text: text.into() }
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

    fn to_codespan(&self) -> CsDiagnostic<()> {
        let severity = match self.severity {
            Level::Error => Severity::Error,
            Level::Warning => Severity::Warning,
        };
        let labels = self
            .labels
            .iter()
            .map(|l| {
                let label = if l.primary { CsLabel::primary((), l.span.range()) } else { CsLabel::secondary((), l.span.range()) };
                label.with_message(&l.message)
            })
            .collect();
        CsDiagnostic::new(severity).with_message(&self.message).with_labels(labels).with_notes(self.notes.clone())
    }

    /// Renders the diagnostic against its source, with ANSI colours if `color`.
    pub fn render(&self, source: &Source, color: bool) -> String {
        let file = SimpleFile::new(source.name.as_str(), source.text.as_str());
        let config = term::Config::default();
        let diag = self.to_codespan();
        let rendered = if color {
            let mut buf = termcolor::Buffer::ansi();
            term::emit_to_write_style(&mut buf, &config, &file, &diag).map(|_| String::from_utf8_lossy(buf.as_slice()).into_owned())
        } else {
            term::emit_into_string(&config, &file, &diag)
        };
        // A span outside the file is a compiler bug; still say what went wrong rather than nothing.
        rendered.unwrap_or_else(|_| format!("error: {}\n", self.message))
    }
}

/// Renders many diagnostics, one after the other.
pub fn render_all(diags: &[Diagnostic], source: &Source, color: bool) -> String {
    diags.iter().map(|d| d.render(source, color)).collect()
}

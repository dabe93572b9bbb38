//! Parsing: tokens → AST, with syntax errors turned into diagnostics.

use super::ast::Module;
use super::lexer::{tokenize_at, LexError, Token};
use crate::diag::Diagnostic;
use crate::syntax::span::Span;
use lalrpop_util::ParseError;

lalrpop_util::lalrpop_mod!(
    #[allow(clippy::all, unused)]
    grammar,
    "/syntax/grammar.rs"
);

type GrammarError<'src> = ParseError<usize, Token<'src>, LexError>;

/// Parses one source file.
pub fn parse_module(src: &str) -> Result<Module, Diagnostic> {
    parse_module_at(src, 0)
}

/// Parses one source file whose spans start at `base` (its place in a [`crate::Source`]).
pub fn parse_module_at(src: &str, base: usize) -> Result<Module, Diagnostic> {
    let tokens = tokenize_at(src, base).map_err(|e| lex_diagnostic(src, base, e))?;
    grammar::ModuleParser::new().parse(tokens).map_err(|e| parse_diagnostic(src, base, e))
}

fn lex_diagnostic(src: &str, base: usize, e: LexError) -> Diagnostic {
    let text = src.get(e.start - base..e.end - base).unwrap_or("?");
    Diagnostic::at(Span::new(e.start, e.end), format!("unexpected character `{text}`"), "not part of any token")
}

fn parse_diagnostic(src: &str, base: usize, e: GrammarError<'_>) -> Diagnostic {
    match e {
        ParseError::InvalidToken { location } => {
            Diagnostic::at(Span::new(location, location + 1), "invalid token", "here")
        }
        ParseError::UnrecognizedEof { location, expected } => {
            let at = location.min(base + src.len());
            Diagnostic::at(Span::new(at, at), "unexpected end of file", "the file ends here")
                .with_note(expected_note(&expected))
        }
        ParseError::UnrecognizedToken { token: (l, tok, r), expected } => {
            Diagnostic::at(Span::new(l, r), format!("unexpected `{tok}`"), "unexpected token").with_note(expected_note(&expected))
        }
        ParseError::ExtraToken { token: (l, tok, r) } => {
            Diagnostic::at(Span::new(l, r), format!("unexpected `{tok}` after the end"), "extra token")
        }
        ParseError::User { error } => lex_diagnostic(src, base, error),
    }
}

fn expected_note(expected: &[String]) -> String {
    let names: Vec<String> = expected.iter().map(|e| pretty_terminal(e)).collect();
    match names.as_slice() {
        [] => "no token can stand here".to_string(),
        [one] => format!("expected {one}"),
        _ => format!("expected one of {}", names.join(", ")),
    }
}

fn pretty_terminal(t: &str) -> String {
    match t {
        "IDENT" => "a name".into(),
        "INT" => "an integer".into(),
        "FLOAT" => "a number".into(),
        "STR" => "a string".into(),
        "GENERIC_OPEN" => "`<`".into(),
        quoted => format!("`{}`", quoted.trim_matches('"')),
    }
}

/// The value of an integer literal (decimal or `0x` hexadecimal, `_` separators allowed).
pub(crate) fn int_value(s: &str, l: usize, r: usize) -> Result<i64, GrammarError<'static>> {
    let clean: String = s.chars().filter(|&c| c != '_').collect();
    let parsed = match clean.strip_prefix("0x") {
        Some(hex) => i64::from_str_radix(hex, 16),
        None => clean.parse::<i64>(),
    };
    parsed.map_err(|_| ParseError::User { error: LexError { start: l, end: r } })
}

/// The value of a floating-point literal.
pub(crate) fn float_value(s: &str, l: usize, r: usize) -> Result<f64, GrammarError<'static>> {
    let clean: String = s.chars().filter(|&c| c != '_').collect();
    clean.parse::<f64>().map_err(|_| ParseError::User { error: LexError { start: l, end: r } })
}

/// The text of a string literal: quotes removed, `\"`, `\\` and `\n` resolved.
pub(crate) fn unescape(s: &str) -> String {
    let inner = &s[1..s.len() - 1];
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some(other) => out.push(other),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

//! Syntax: source text → tokens (logos) → AST (lalrpop).

pub mod ast;
pub mod lexer;
pub mod parse;
pub mod span;

pub use parse::{parse_module, parse_module_at};
pub use span::{Span, Spanned};

//! The lexer: source text → tokens (logos).
//!
//! Tokens carry byte offsets so the parser and every later stage can point at the source. One piece of
//! context the grammar cannot see with one token of look-ahead is resolved here: in `cast<f16>(x)` the
//! `<` opens a generic argument list rather than comparing, so it is emitted as [`Token::GenericOpen`]
//! when an identifier is followed directly (no space) by `<`, the matching `>` is followed by `(` or `[`,
//! and only names, integers and commas stand between.

use logos::Logos;
use std::fmt;

#[derive(Logos, Clone, Debug, PartialEq)]
#[logos(skip r"[ \t\r\n\f]+")]
#[logos(skip(r"//[^\n]*", allow_greedy = true))]
pub enum Token<'src> {
    #[token("kernel")]
    Kernel,
    #[token("let")]
    Let,
    #[token("for")]
    For,
    #[token("in")]
    In,
    #[token("global")]
    Global,
    #[token("fn")]
    Fn,
    #[token("use")]
    Use,
    #[token("if")]
    If,
    #[token("else")]
    Else,
    #[token("while")]
    While,
    #[token("break")]
    Break,
    #[token("continue")]
    Continue,
    #[token("return")]
    Return,
    #[token("tune")]
    Tune,
    #[token("true")]
    True,
    #[token("false")]
    False,

    #[regex(r"[A-Za-z_][A-Za-z0-9_]*")]
    Ident(&'src str),
    #[regex(r"[0-9][0-9_]*|0x[0-9a-fA-F_]+", priority = 3)]
    Int(&'src str),
    #[regex(r"[0-9][0-9_]*\.[0-9][0-9_]*([eE][+-]?[0-9]+)?|[0-9][0-9_]*[eE][+-]?[0-9]+")]
    Float(&'src str),
    /// A string literal with its quotes; escapes are `\"` and `\\` (used by `print`).
    #[regex(r#""([^"\\\n]|\\["\\n])*""#)]
    Str(&'src str),

    #[token("(")]
    LParen,
    #[token(")")]
    RParen,
    #[token("[")]
    LBracket,
    #[token("]")]
    RBracket,
    #[token("{")]
    LBrace,
    #[token("}")]
    RBrace,
    #[token(",")]
    Comma,
    #[token(";")]
    Semi,
    #[token(":")]
    Colon,
    #[token("::")]
    PathSep,
    #[token("->")]
    Arrow,
    #[token(".")]
    Dot,
    #[token("..")]
    DotDot,
    #[token("=")]
    Eq,
    #[token("+")]
    Plus,
    #[token("-")]
    Minus,
    #[token("*")]
    Star,
    #[token("/")]
    Slash,
    #[token("%")]
    Percent,
    #[token("==")]
    EqEq,
    #[token("!=")]
    NotEq,
    #[token("<")]
    Lt,
    #[token("<=")]
    Le,
    #[token(">")]
    Gt,
    #[token(">=")]
    Ge,
    #[token("&&")]
    AndAnd,
    #[token("||")]
    OrOr,
    #[token("!")]
    Bang,
    /// A `<` that opens generic arguments (`cast<f16>(x)`); see the module doc.
    GenericOpen,
}

impl fmt::Display for Token<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Token::Ident(s) | Token::Int(s) | Token::Float(s) | Token::Str(s) => return f.write_str(s),
            Token::Kernel => "kernel",
            Token::Let => "let",
            Token::For => "for",
            Token::In => "in",
            Token::Global => "global",
            Token::Fn => "fn",
            Token::Use => "use",
            Token::If => "if",
            Token::Else => "else",
            Token::While => "while",
            Token::Break => "break",
            Token::Continue => "continue",
            Token::Return => "return",
            Token::Tune => "tune",
            Token::PathSep => "::",
            Token::Arrow => "->",
            Token::True => "true",
            Token::False => "false",
            Token::LParen => "(",
            Token::RParen => ")",
            Token::LBracket => "[",
            Token::RBracket => "]",
            Token::LBrace => "{",
            Token::RBrace => "}",
            Token::Comma => ",",
            Token::Semi => ";",
            Token::Colon => ":",
            Token::Dot => ".",
            Token::DotDot => "..",
            Token::Eq => "=",
            Token::Plus => "+",
            Token::Minus => "-",
            Token::Star => "*",
            Token::Slash => "/",
            Token::Percent => "%",
            Token::EqEq => "==",
            Token::NotEq => "!=",
            Token::Lt | Token::GenericOpen => "<",
            Token::Le => "<=",
            Token::Gt => ">",
            Token::Ge => ">=",
            Token::AndAnd => "&&",
            Token::OrOr => "||",
            Token::Bang => "!",
        };
        f.write_str(s)
    }
}

/// A character sequence that is no token.
#[derive(Clone, Debug, PartialEq)]
pub struct LexError {
    pub start: usize,
    pub end: usize,
}

pub type Spanned<'src> = (usize, Token<'src>, usize);

/// Splits `src` into tokens with their byte ranges.
pub fn tokenize(src: &str) -> Result<Vec<Spanned<'_>>, LexError> {
    tokenize_at(src, 0)
}

/// Splits `src` into tokens whose offsets start at `base` (the file's place in a [`crate::Source`]).
pub fn tokenize_at(src: &str, base: usize) -> Result<Vec<Spanned<'_>>, LexError> {
    let mut out = Vec::new();
    let mut lex = Token::lexer(src);
    while let Some(tok) = lex.next() {
        let span = lex.span();
        match tok {
            Ok(tok) => out.push((base + span.start, tok, base + span.end)),
            Err(()) => return Err(LexError { start: base + span.start, end: base + span.end }),
        }
    }
    mark_generic_opens(&mut out);
    Ok(out)
}

fn mark_generic_opens(toks: &mut [Spanned<'_>]) {
    for i in 1..toks.len() {
        let (prev_end, is_ident) = (toks[i - 1].2, matches!(toks[i - 1].1, Token::Ident(_)));
        if !is_ident || toks[i].1 != Token::Lt || toks[i].0 != prev_end {
            continue;
        }
        let mut j = i + 1;
        while j < toks.len() && matches!(toks[j].1, Token::Ident(_) | Token::Int(_) | Token::Comma) {
            j += 1;
        }
        let closes = j < toks.len() && toks[j].1 == Token::Gt;
        let then_call = toks.get(j + 1).is_some_and(|t| matches!(t.1, Token::LParen | Token::LBracket));
        if closes && then_call && j > i + 1 {
            toks[i].1 = Token::GenericOpen;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<Token<'_>> {
        tokenize(src).unwrap().into_iter().map(|t| t.1).collect()
    }

    #[test]
    fn generic_open_only_before_calls() {
        assert_eq!(kinds("cast<f16>(x)")[1], Token::GenericOpen);
        assert_eq!(kinds("zeros<f32>[4]")[1], Token::GenericOpen);
        assert_eq!(kinds("a < b")[1], Token::Lt);
        assert_eq!(kinds("a<b")[1], Token::Lt);
        assert_eq!(kinds("a<b>c")[1], Token::Lt);
    }

    #[test]
    fn numbers_and_ranges() {
        assert_eq!(kinds("1..n"), vec![Token::Int("1"), Token::DotDot, Token::Ident("n")]);
        assert_eq!(kinds("1.5e3"), vec![Token::Float("1.5e3")]);
        assert_eq!(kinds("x // comment\n y"), vec![Token::Ident("x"), Token::Ident("y")]);
    }

    #[test]
    fn bad_character_is_an_error() {
        assert_eq!(tokenize("let x = $;"), Err(LexError { start: 8, end: 9 }));
    }
}

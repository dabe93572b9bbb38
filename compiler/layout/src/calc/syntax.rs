//! Lexer and recursive-descent parser of calculator expressions, with byte spans.
//!
//! Grammar (CuTe notation plus calls and operators):
//!
//! ```text
//! expr    := postfix (('*' | '/' | 'o') postfix)*
//! postfix := primary ('.' IDENT '(' args ')')*
//! primary := INT [':' primary]                 8   8:1
//!          | '(' args ')' [':' primary]        (4,2)   (4,2):(1,4)   (expr)
//!          | '<' args '>'                      <3:3,(2,4):(1,8)>   (a tiler)
//!          | 'Sw' '<' INT ',' INT ',' INT '>'  a swizzle
//!          | IDENT '(' args ')'                a call
//!          | IDENT                             a symbol: m16n8k16, f16, a, x4, trans
//! ```

use super::CalcError;
use std::ops::Range;

/// Maximum nesting of parentheses/calls, so that hostile input cannot exhaust the stack.
const MAX_DEPTH: usize = 200;

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Tok {
    Int(i64),
    Ident(String),
    LParen,
    RParen,
    LAngle,
    RAngle,
    Comma,
    Colon,
    Dot,
    Star,
    Slash,
    End,
}

#[derive(Clone, Debug)]
pub(crate) struct Token {
    pub tok: Tok,
    pub span: Range<usize>,
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Int(v) => format!("integer `{v}`"),
        Tok::Ident(s) => format!("`{s}`"),
        Tok::LParen => "`(`".into(),
        Tok::RParen => "`)`".into(),
        Tok::LAngle => "`<`".into(),
        Tok::RAngle => "`>`".into(),
        Tok::Comma => "`,`".into(),
        Tok::Colon => "`:`".into(),
        Tok::Dot => "`.`".into(),
        Tok::Star => "`*`".into(),
        Tok::Slash => "`/`".into(),
        Tok::End => "end of input".into(),
    }
}

pub(crate) fn lex(src: &str) -> Result<Vec<Token>, CalcError> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        let single = match c {
            b'(' => Some(Tok::LParen),
            b')' => Some(Tok::RParen),
            b'<' => Some(Tok::LAngle),
            b'>' => Some(Tok::RAngle),
            b',' => Some(Tok::Comma),
            b':' => Some(Tok::Colon),
            b'.' => Some(Tok::Dot),
            b'*' => Some(Tok::Star),
            b'/' => Some(Tok::Slash),
            _ => None,
        };
        if let Some(tok) = single {
            out.push(Token {
                tok,
                span: start..start + 1,
            });
            i += 1;
            continue;
        }
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let neg = c == b'-' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit);
        if c.is_ascii_alphanumeric() || c == b'_' || neg {
            i += 1;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            let word = &src[start..i];
            let digits = if neg { &word[1..] } else { word };
            if digits.bytes().all(|b| b.is_ascii_digit()) {
                let v: i64 = word.parse().map_err(|_| {
                    CalcError::new(
                        format!("integer `{word}` does not fit in 64 bits"),
                        start..i,
                    )
                })?;
                out.push(Token {
                    tok: Tok::Int(v),
                    span: start..i,
                });
            } else if neg
                || word.as_bytes()[0].is_ascii_digit()
                    && !word.bytes().any(|b| b.is_ascii_alphabetic())
            {
                return Err(CalcError::new(
                    format!("`{word}` is not an integer"),
                    start..i,
                ));
            } else {
                out.push(Token {
                    tok: Tok::Ident(word.to_string()),
                    span: start..i,
                });
            }
            continue;
        }
        let ch = src[i..].chars().next().unwrap_or('?');
        return Err(
            CalcError::new(format!("unexpected character `{ch}`"), i..i + ch.len_utf8()).with_help(
                "layouts are written `(4,2):(1,4)`; operations as calls like `coalesce(L)`",
            ),
        );
    }
    out.push(Token {
        tok: Tok::End,
        span: src.len()..src.len(),
    });
    Ok(out)
}

/// An expression with the span of its source text.
#[derive(Clone, Debug)]
pub(crate) struct Expr {
    pub kind: ExprKind,
    pub span: Range<usize>,
}

#[derive(Clone, Debug)]
pub(crate) enum ExprKind {
    Int(i64),
    /// A parenthesised list; one element without a trailing comma may be a grouping.
    Tuple(Vec<Expr>),
    /// `shape:stride`.
    Layout(Box<Expr>, Box<Expr>),
    /// `<a,b,...>`.
    Tiler(Vec<Expr>),
    /// `Sw<b,m,s>`.
    Swizzle(i64, i64, i64),
    Call(String, Range<usize>, Vec<Expr>),
    Method(Box<Expr>, String, Range<usize>, Vec<Expr>),
    Sym(String),
    Binary(char, Box<Expr>, Box<Expr>),
}

pub(crate) struct Parser {
    toks: Vec<Token>,
    pos: usize,
    depth: usize,
}

impl Parser {
    pub(crate) fn new(toks: Vec<Token>) -> Parser {
        Parser {
            toks,
            pos: 0,
            depth: 0,
        }
    }

    fn peek(&self) -> &Token {
        &self.toks[self.pos.min(self.toks.len() - 1)]
    }

    fn bump(&mut self) -> Token {
        let t = self.peek().clone();
        if self.pos < self.toks.len() - 1 {
            self.pos += 1;
        }
        t
    }

    fn expect(
        &mut self,
        want: Tok,
        ctx: &str,
        open: Option<Range<usize>>,
    ) -> Result<Token, CalcError> {
        let t = self.peek().clone();
        if t.tok == want {
            return Ok(self.bump());
        }
        let mut e = CalcError::new(
            format!(
                "expected {} {ctx}, found {}",
                describe(&want),
                describe(&t.tok)
            ),
            t.span.clone(),
        );
        if let Some(o) = open {
            e = e.with_help(&format!(
                "unbalanced bracket: the one opened at column {} is not closed",
                o.start + 1
            ));
        }
        Err(e)
    }

    pub(crate) fn parse_all(&mut self) -> Result<Expr, CalcError> {
        let e = self.expr()?;
        let t = self.peek().clone();
        if t.tok != Tok::End {
            let help = if t.tok == Tok::RParen {
                "unbalanced `)`: there is no matching `(`"
            } else {
                "remove it or join with an operator"
            };
            return Err(CalcError::new(
                format!("unexpected {} after the expression", describe(&t.tok)),
                t.span,
            )
            .with_help(help));
        }
        Ok(e)
    }

    fn enter(&mut self, span: &Range<usize>) -> Result<(), CalcError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(CalcError::new(
                "expression nested too deeply".to_string(),
                span.clone(),
            ));
        }
        Ok(())
    }

    fn expr(&mut self) -> Result<Expr, CalcError> {
        let mut lhs = self.postfix()?;
        loop {
            let op = match &self.peek().tok {
                Tok::Star => '*',
                Tok::Slash => '/',
                Tok::Ident(s) if s == "o" => 'o',
                _ => break,
            };
            self.bump();
            let rhs = self.postfix()?;
            let span = lhs.span.start..rhs.span.end;
            lhs = Expr {
                kind: ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)),
                span,
            };
        }
        Ok(lhs)
    }

    fn postfix(&mut self) -> Result<Expr, CalcError> {
        let mut e = self.primary()?;
        while self.peek().tok == Tok::Dot {
            self.bump();
            let t = self.bump();
            let Tok::Ident(name) = t.tok else {
                return Err(CalcError::new(
                    format!(
                        "expected a method name after `.`, found {}",
                        describe(&t.tok)
                    ),
                    t.span,
                ));
            };
            let open = self.expect(Tok::LParen, &format!("after method `{name}`"), None)?;
            let args = self.args(Tok::RParen, open.span.clone())?;
            let end = self.toks[self.pos - 1].span.end;
            let span = e.span.start..end;
            e = Expr {
                kind: ExprKind::Method(Box::new(e), name, t.span, args),
                span,
            };
        }
        Ok(e)
    }

    /// Comma-separated expressions up to `close` (consumed).
    fn args(&mut self, close: Tok, open: Range<usize>) -> Result<Vec<Expr>, CalcError> {
        self.enter(&open)?;
        let mut out = Vec::new();
        if self.peek().tok == close {
            self.bump();
            self.depth -= 1;
            return Ok(out);
        }
        loop {
            if self.peek().tok == Tok::End {
                return Err(CalcError::new(
                    format!("unbalanced bracket: missing {}", describe(&close)),
                    open,
                )
                .with_help("every `(` needs a `)` and every `<` a `>`"));
            }
            out.push(self.expr()?);
            let t = self.peek().clone();
            if t.tok == Tok::Comma {
                self.bump();
                continue;
            }
            if t.tok == close {
                self.bump();
                break;
            }
            if t.tok == Tok::End {
                return Err(CalcError::new(
                    format!("unbalanced bracket: missing {}", describe(&close)),
                    open,
                )
                .with_help("every `(` needs a `)` and every `<` a `>`"));
            }
            return Err(CalcError::new(
                format!(
                    "expected `,` or {}, found {}",
                    describe(&close),
                    describe(&t.tok)
                ),
                t.span,
            ));
        }
        self.depth -= 1;
        Ok(out)
    }

    fn maybe_stride(&mut self, shape: Expr) -> Result<Expr, CalcError> {
        if self.peek().tok != Tok::Colon {
            return Ok(shape);
        }
        self.bump();
        let stride = self.primary()?;
        let span = shape.span.start..stride.span.end;
        Ok(Expr {
            kind: ExprKind::Layout(Box::new(shape), Box::new(stride)),
            span,
        })
    }

    fn int_arg(&mut self) -> Result<i64, CalcError> {
        let t = self.bump();
        match t.tok {
            Tok::Int(v) => Ok(v),
            other => Err(CalcError::new(
                format!("expected an integer, found {}", describe(&other)),
                t.span,
            )),
        }
    }

    fn primary(&mut self) -> Result<Expr, CalcError> {
        let t = self.bump();
        match t.tok {
            Tok::Int(v) => self.maybe_stride(Expr {
                kind: ExprKind::Int(v),
                span: t.span,
            }),
            Tok::LParen => {
                let args = self.args(Tok::RParen, t.span.clone())?;
                let end = self.toks[self.pos - 1].span.end;
                self.maybe_stride(Expr {
                    kind: ExprKind::Tuple(args),
                    span: t.span.start..end,
                })
            }
            Tok::LAngle => {
                let args = self.args(Tok::RAngle, t.span.clone())?;
                let end = self.toks[self.pos - 1].span.end;
                if args.is_empty() {
                    return Err(CalcError::new(
                        "empty tiler `<>`".to_string(),
                        t.span.start..end,
                    ));
                }
                Ok(Expr {
                    kind: ExprKind::Tiler(args),
                    span: t.span.start..end,
                })
            }
            Tok::Ident(name) if name == "Sw" => {
                let open = self.expect(
                    Tok::LAngle,
                    "after `Sw` (a swizzle is written Sw<B,M,S>)",
                    None,
                )?;
                let b = self.int_arg()?;
                self.expect(Tok::Comma, "in Sw<B,M,S>", None)?;
                let m = self.int_arg()?;
                self.expect(Tok::Comma, "in Sw<B,M,S>", None)?;
                let s = self.int_arg()?;
                let close = self.expect(Tok::RAngle, "to close Sw<B,M,S>", Some(open.span))?;
                Ok(Expr {
                    kind: ExprKind::Swizzle(b, m, s),
                    span: t.span.start..close.span.end,
                })
            }
            Tok::Ident(name) => {
                if self.peek().tok == Tok::LParen {
                    let open = self.bump();
                    let args = self.args(Tok::RParen, open.span)?;
                    let end = self.toks[self.pos - 1].span.end;
                    Ok(Expr {
                        kind: ExprKind::Call(name, t.span.clone(), args),
                        span: t.span.start..end,
                    })
                } else {
                    Ok(Expr {
                        kind: ExprKind::Sym(name),
                        span: t.span,
                    })
                }
            }
            Tok::RParen => Err(CalcError::new(
                "unbalanced `)`: there is no matching `(`".to_string(),
                t.span,
            )),
            other => Err(CalcError::new(
                format!(
                    "expected a layout, number or call, found {}",
                    describe(&other)
                ),
                t.span,
            )),
        }
    }
}

//! Grid expressions: the small integer language of the manifest's `grid` entries.
//!
//! Grammar (usual precedence, left-associative):
//! `expr := term (('+'|'-') term)*`, `term := unary (('*'|'/'|'%') unary)*`,
//! `unary := '-' unary | atom`, `atom := INT | NAME | NAME '(' expr ',' expr ')' | '(' expr ')'`
//! with functions `cdiv`, `min`, `max`. `/` and `%` are floor division and its remainder (the
//! operands are launch sizes, normally non-negative). Arithmetic is checked `i64`: overflow and
//! division by zero are errors, never wrap-arounds.

use std::collections::BTreeMap;

/// A parsed grid expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expr {
    Int(i64),
    Name(String),
    Neg(Box<Expr>),
    Bin(BinOp, Box<Expr>, Box<Expr>),
    Call(Func, Box<Expr>, Box<Expr>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Func {
    Cdiv,
    Min,
    Max,
}

/// A syntax or evaluation error, with the expression text it concerns.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("in grid expression `{text}`: {message}")]
pub struct ExprError {
    pub text: String,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Int(i64),
    Name(String),
    Sym(char),
}

fn lex(text: &str) -> Result<Vec<(usize, Tok)>, String> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i] as char;
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() {
            let s = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            let v = text[s..i].parse::<i64>().map_err(|_| format!("integer `{}` is too large", &text[s..i]))?;
            out.push((s, Tok::Int(v)));
        } else if c.is_ascii_alphabetic() || c == '_' {
            let s = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            out.push((s, Tok::Name(text[s..i].to_string())));
        } else if "+-*/%(),".contains(c) {
            out.push((i, Tok::Sym(c)));
            i += 1;
        } else {
            let ch = text[i..].chars().next().unwrap_or('?');
            return Err(format!("unexpected character `{ch}` at column {}", i + 1));
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<(usize, Tok)>,
    pos: usize,
    len: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|t| &t.1)
    }
    fn col(&self) -> usize {
        self.toks.get(self.pos).map_or(self.len, |t| t.0) + 1
    }
    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(&Tok::Sym(c)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    fn expect(&mut self, c: char) -> Result<(), String> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(format!("expected `{c}` at column {}", self.col()))
        }
    }
    fn expr(&mut self) -> Result<Expr, String> {
        let mut lhs = self.term()?;
        loop {
            let op = if self.eat('+') {
                BinOp::Add
            } else if self.eat('-') {
                BinOp::Sub
            } else {
                return Ok(lhs);
            };
            lhs = Expr::Bin(op, Box::new(lhs), Box::new(self.term()?));
        }
    }
    fn term(&mut self) -> Result<Expr, String> {
        let mut lhs = self.unary()?;
        loop {
            let op = if self.eat('*') {
                BinOp::Mul
            } else if self.eat('/') {
                BinOp::Div
            } else if self.eat('%') {
                BinOp::Rem
            } else {
                return Ok(lhs);
            };
            lhs = Expr::Bin(op, Box::new(lhs), Box::new(self.unary()?));
        }
    }
    fn unary(&mut self) -> Result<Expr, String> {
        if self.eat('-') {
            return Ok(Expr::Neg(Box::new(self.unary()?)));
        }
        self.atom()
    }
    fn atom(&mut self) -> Result<Expr, String> {
        let col = self.col();
        match self.peek().cloned() {
            Some(Tok::Int(v)) => {
                self.pos += 1;
                Ok(Expr::Int(v))
            }
            Some(Tok::Name(name)) => {
                self.pos += 1;
                if !self.eat('(') {
                    return Ok(Expr::Name(name));
                }
                let func = match name.as_str() {
                    "cdiv" => Func::Cdiv,
                    "min" => Func::Min,
                    "max" => Func::Max,
                    _ => return Err(format!("unknown function `{name}` at column {col} (known: cdiv, min, max)")),
                };
                let a = self.expr()?;
                self.expect(',')?;
                let b = self.expr()?;
                self.expect(')')?;
                Ok(Expr::Call(func, Box::new(a), Box::new(b)))
            }
            Some(Tok::Sym('(')) => {
                self.pos += 1;
                let e = self.expr()?;
                self.expect(')')?;
                Ok(e)
            }
            Some(Tok::Sym(c)) => Err(format!("unexpected `{c}` at column {col}")),
            None => Err("unexpected end of expression".to_string()),
        }
    }
}

impl Expr {
    /// Parses a grid expression.
    pub fn parse(text: &str) -> Result<Expr, ExprError> {
        let err = |message| ExprError { text: text.to_string(), message };
        let toks = lex(text).map_err(err)?;
        let mut p = Parser { toks, pos: 0, len: text.len() };
        let e = p.expr().map_err(err)?;
        if p.pos != p.toks.len() {
            return Err(err(format!("unexpected text at column {}", p.col())));
        }
        Ok(e)
    }

    /// Every name the expression mentions, in order of first use.
    pub fn names(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.collect_names(&mut out);
        out
    }

    fn collect_names<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Expr::Int(_) => {}
            Expr::Name(n) => {
                if !out.contains(&n.as_str()) {
                    out.push(n)
                }
            }
            Expr::Neg(a) => a.collect_names(out),
            Expr::Bin(_, a, b) | Expr::Call(_, a, b) => {
                a.collect_names(out);
                b.collect_names(out);
            }
        }
    }

    /// Evaluates with the given dim values; `text` is the source, for messages.
    pub fn eval(&self, env: &BTreeMap<String, i64>, text: &str) -> Result<i64, ExprError> {
        self.eval_inner(env).map_err(|message| ExprError { text: text.to_string(), message })
    }

    fn eval_inner(&self, env: &BTreeMap<String, i64>) -> Result<i64, String> {
        let overflow = || "arithmetic overflow".to_string();
        Ok(match self {
            Expr::Int(v) => *v,
            Expr::Name(n) => *env.get(n).ok_or_else(|| format!("unknown dim `{n}`"))?,
            Expr::Neg(a) => a.eval_inner(env)?.checked_neg().ok_or_else(overflow)?,
            Expr::Bin(op, a, b) => {
                let (x, y) = (a.eval_inner(env)?, b.eval_inner(env)?);
                match op {
                    BinOp::Add => x.checked_add(y).ok_or_else(overflow)?,
                    BinOp::Sub => x.checked_sub(y).ok_or_else(overflow)?,
                    BinOp::Mul => x.checked_mul(y).ok_or_else(overflow)?,
                    BinOp::Div | BinOp::Rem if y == 0 => return Err("division by zero".to_string()),
                    BinOp::Div => x.checked_div_euclid(y).ok_or_else(overflow)?,
                    BinOp::Rem => x.checked_rem_euclid(y).ok_or_else(overflow)?,
                }
            }
            Expr::Call(f, a, b) => {
                let (x, y) = (a.eval_inner(env)?, b.eval_inner(env)?);
                match f {
                    Func::Min => x.min(y),
                    Func::Max => x.max(y),
                    Func::Cdiv if y == 0 => return Err("cdiv by zero".to_string()),
                    Func::Cdiv => {
                        let q = x.checked_div_euclid(y).ok_or_else(overflow)?;
                        if x.checked_rem_euclid(y).ok_or_else(overflow)? != 0 { q + 1 } else { q }
                    }
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(text: &str, env: &[(&str, i64)]) -> Result<i64, ExprError> {
        let env = env.iter().map(|(k, v)| (k.to_string(), *v)).collect();
        Expr::parse(text)?.eval(&env, text)
    }

    #[test]
    fn arithmetic_and_precedence() {
        assert_eq!(ev("1 + 2 * 3", &[]), Ok(7));
        assert_eq!(ev("(1 + 2) * 3", &[]), Ok(9));
        assert_eq!(ev("10 - 4 - 3", &[]), Ok(3));
        assert_eq!(ev("17 / 5", &[]), Ok(3));
        assert_eq!(ev("17 % 5", &[]), Ok(2));
        assert_eq!(ev("-3 + 5", &[]), Ok(2));
        assert_eq!(ev("-7 / 2", &[]), Ok(-4), "floor division");
    }

    #[test]
    fn functions_and_names() {
        assert_eq!(ev("cdiv(N, 1024)", &[("N", 1000)]), Ok(1));
        assert_eq!(ev("cdiv(N, 1024)", &[("N", 1025)]), Ok(2));
        assert_eq!(ev("cdiv(N, 1024)", &[("N", 2048)]), Ok(2));
        assert_eq!(ev("min(M, 4) * max(K_dim, 2)", &[("M", 7), ("K_dim", 1)]), Ok(8));
        assert_eq!(Expr::parse("cdiv(M, BM) * cdiv(N, BN) + M").unwrap().names(), vec!["M", "BM", "N", "BN"]);
    }

    #[test]
    fn errors_are_clear() {
        let e = ev("cdiv(N, 0)", &[("N", 3)]).unwrap_err();
        assert_eq!(e.to_string(), "in grid expression `cdiv(N, 0)`: cdiv by zero");
        assert!(ev("N + 1", &[]).unwrap_err().message.contains("unknown dim `N`"));
        assert!(ev("foo(1, 2)", &[]).unwrap_err().message.contains("unknown function `foo`"));
        assert!(ev("1 +", &[]).unwrap_err().message.contains("unexpected end"));
        assert!(ev("(1", &[]).unwrap_err().message.contains("expected `)`"));
        assert!(ev("1 2", &[]).unwrap_err().message.contains("unexpected text at column 3"));
        assert!(ev("2 ^ 3", &[]).unwrap_err().message.contains("unexpected character `^`"));
        assert!(ev("9223372036854775807 + 1", &[]).unwrap_err().message.contains("overflow"));
        assert!(ev("5 / 0", &[]).unwrap_err().message.contains("division by zero"));
        assert!(ev("99999999999999999999", &[]).unwrap_err().message.contains("too large"));
    }
}

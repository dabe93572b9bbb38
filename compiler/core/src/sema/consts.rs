//! Compile-time evaluation: parameter defaults, tile shapes, launch attributes.
//!
//! Compile-time expressions are built from integer and boolean literals, dtype names, compile-time
//! parameters, `+ - * / %`, comparisons, `&& || !`, and `cdiv min max`. Launch attributes may also
//! name symbolic dimensions; they become [`IndexExpr`]s evaluated at launch.

use super::scope::{Binding, Scopes};
use crate::diag::Diagnostic;
use crate::syntax::ast::{BinOp, Expr, ExprKind, UnOp};
use crate::tir::{ConstValue, IndexExpr};
use tilec_dtype::DType;

/// Evaluates a compile-time expression.
pub fn eval(e: &Expr, scopes: &Scopes) -> Result<ConstValue, Diagnostic> {
    match &e.kind {
        ExprKind::Int(v) => Ok(ConstValue::Int(*v)),
        ExprKind::Bool(v) => Ok(ConstValue::Bool(*v)),
        ExprKind::Float(_) => Err(Diagnostic::at(e.span, "compile-time values are integers, booleans or dtypes", "a float here")),
        ExprKind::Name(id) => match scopes.lookup(&id.name) {
            Some(Binding::Const(c)) => Ok(c.clone()),
            Some(Binding::Dim(_)) => Err(Diagnostic::at(id.span, format!("`{}` is a run-time dimension, not a compile-time value", id.name), "known only at launch")),
            Some(_) => Err(Diagnostic::at(id.span, format!("`{}` is not known at compile time", id.name), "a run-time value")),
            None => match id.name.parse::<DType>() {
                Ok(d) => Ok(ConstValue::DType(d)),
                Err(_) => Err(unknown_name(id.span, &id.name)),
            },
        },
        ExprKind::Unary(op, a) => match (op, eval(a, scopes)?) {
            (UnOp::Neg, ConstValue::Int(v)) => v.checked_neg().map(ConstValue::Int).ok_or_else(|| overflow(e)),
            (UnOp::Not, ConstValue::Bool(v)) => Ok(ConstValue::Bool(!v)),
            _ => Err(Diagnostic::at(e.span, "operator does not apply to this compile-time value", "here")),
        },
        ExprKind::Binary(op, a, b) => binary(e, *op, eval(a, scopes)?, eval(b, scopes)?),
        ExprKind::Call { module: None, callee, generics, args, named, bracket: false } if generics.is_empty() && named.is_empty() && is_int_fn(&callee.name) => {
            if args.len() != 2 {
                return Err(Diagnostic::at(e.span, format!("`{}` takes 2 arguments", callee.name), format!("{} given", args.len())));
            }
            let (a, b) = (int(&args[0], scopes)?, int(&args[1], scopes)?);
            let v = match callee.name.as_str() {
                "cdiv" if b == 0 => return Err(Diagnostic::at(args[1].span, "division by zero in a compile-time expression", "is zero")),
                "cdiv" => a.div_euclid(b) + (a.rem_euclid(b) != 0) as i64,
                "min" => a.min(b),
                _ => a.max(b),
            };
            Ok(ConstValue::Int(v))
        }
        _ => Err(Diagnostic::at(e.span, "this expression is not a compile-time value", "expected a constant expression")),
    }
}

/// Evaluates a compile-time integer.
pub fn int(e: &Expr, scopes: &Scopes) -> Result<i64, Diagnostic> {
    match eval(e, scopes)? {
        ConstValue::Int(v) => Ok(v),
        other => Err(Diagnostic::at(e.span, format!("expected a compile-time integer, found `{other}`"), "not an integer")),
    }
}

fn is_int_fn(name: &str) -> bool {
    matches!(name, "cdiv" | "min" | "max")
}

fn overflow(e: &Expr) -> Diagnostic {
    Diagnostic::at(e.span, "integer overflow in a compile-time expression", "overflows i64")
}

pub fn unknown_name(span: crate::syntax::Span, name: &str) -> Diagnostic {
    Diagnostic::at(span, format!("unknown name `{name}`"), "not found in this scope")
}

fn binary(e: &Expr, op: BinOp, a: ConstValue, b: ConstValue) -> Result<ConstValue, Diagnostic> {
    use ConstValue::*;
    let v = match (a, b) {
        (Int(a), Int(b)) => match op {
            BinOp::Add => Int(a.checked_add(b).ok_or_else(|| overflow(e))?),
            BinOp::Sub => Int(a.checked_sub(b).ok_or_else(|| overflow(e))?),
            BinOp::Mul => Int(a.checked_mul(b).ok_or_else(|| overflow(e))?),
            BinOp::Div | BinOp::Rem if b == 0 => {
                return Err(Diagnostic::at(e.span, "division by zero in a compile-time expression", "divides by zero"))
            }
            BinOp::Div => Int(a / b),
            BinOp::Rem => Int(a % b),
            BinOp::Eq => Bool(a == b),
            BinOp::Ne => Bool(a != b),
            BinOp::Lt => Bool(a < b),
            BinOp::Le => Bool(a <= b),
            BinOp::Gt => Bool(a > b),
            BinOp::Ge => Bool(a >= b),
            BinOp::And | BinOp::Or => return Err(Diagnostic::at(e.span, "`&&` and `||` take booleans", "integers here")),
        },
        (Bool(a), Bool(b)) => match op {
            BinOp::And => Bool(a && b),
            BinOp::Or => Bool(a || b),
            BinOp::Eq => Bool(a == b),
            BinOp::Ne => Bool(a != b),
            _ => return Err(Diagnostic::at(e.span, format!("`{}` does not apply to booleans", op.symbol()), "booleans here")),
        },
        (DType(a), DType(b)) => match op {
            BinOp::Eq => Bool(a == b),
            BinOp::Ne => Bool(a != b),
            _ => return Err(Diagnostic::at(e.span, format!("`{}` does not apply to dtypes", op.symbol()), "dtypes here")),
        },
        (a, b) => return Err(Diagnostic::at(e.span, format!("cannot combine `{a}` and `{b}` with `{}`", op.symbol()), "mismatched compile-time values")),
    };
    Ok(v)
}

/// Lowers a launch-attribute expression, which may name symbolic dimensions, to an [`IndexExpr`].
pub fn index_expr(e: &Expr, scopes: &Scopes) -> Result<IndexExpr, Diagnostic> {
    let bx = |x| Box::new(x);
    match &e.kind {
        ExprKind::Name(id) => match scopes.lookup(&id.name) {
            Some(Binding::Dim(i)) => Ok(IndexExpr::Dim(*i)),
            _ => Ok(IndexExpr::Const(int(e, scopes)?)),
        },
        ExprKind::Binary(op, a, b) => {
            let (a, b) = (bx(index_expr(a, scopes)?), bx(index_expr(b, scopes)?));
            Ok(match op {
                BinOp::Add => IndexExpr::Add(a, b),
                BinOp::Sub => IndexExpr::Sub(a, b),
                BinOp::Mul => IndexExpr::Mul(a, b),
                BinOp::Div => IndexExpr::Div(a, b),
                BinOp::Rem => IndexExpr::Rem(a, b),
                _ => return Err(Diagnostic::at(e.span, "launch sizes are integer expressions", "not an integer operation")),
            })
        }
        ExprKind::Call { module: None, callee, args, generics, named, bracket: false } if generics.is_empty() && named.is_empty() && is_int_fn(&callee.name) && args.len() == 2 => {
            let (a, b) = (bx(index_expr(&args[0], scopes)?), bx(index_expr(&args[1], scopes)?));
            Ok(match callee.name.as_str() {
                "cdiv" => IndexExpr::Cdiv(a, b),
                "min" => IndexExpr::Min(a, b),
                _ => IndexExpr::Max(a, b),
            })
        }
        _ => Ok(IndexExpr::Const(int(e, scopes)?)),
    }
}

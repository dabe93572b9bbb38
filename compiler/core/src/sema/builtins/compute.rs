//! Compute builtins: `cast<T>`, `zeros<T>[...]`, `cdiv`, `min`, `max`.

use super::super::expr::Operand;
use super::super::kernel::Checker;
use super::super::Checked;
use super::CallSite;
use crate::diag::Diagnostic;
use crate::syntax::ast::BinOp;
use crate::syntax::Span;
use crate::tir::{BinaryOp, Literal, Op, Type};

impl Checker<'_> {
    pub(super) fn builtin_cast(&mut self, c: &CallSite<'_>) -> Checked<Option<Operand>> {
        c.no_named(self)?;
        self.arity(c, 1)?;
        let dtype = self.generic_dtype(c)?;
        let x = self.expr(&c.args[0])?;
        let v = match x {
            Operand::Val(v) => v,
            lit => self.materialize(lit, c.args[0].span),
        };
        if self.b.ty(v).dtype() == dtype {
            return Ok(Some(Operand::Val(v)));
        }
        let ty = self.b.ty(v).with_dtype(dtype);
        Ok(Some(Operand::Val(self.b.push(Op::Cast(v), ty, c.e.span))))
    }

    pub(super) fn builtin_zeros(&mut self, c: &CallSite<'_>) -> Checked<Option<Operand>> {
        c.no_named(self)?;
        let dtype = self.generic_dtype(c)?;
        let shape = if c.bracket {
            self.dims(c.args, c.e.span)?
        } else {
            self.arity(c, 1)?;
            self.shape(&c.args[0])?
        };
        let zero = if dtype.is_float() { Literal::Float(0.0) } else if dtype.is_bool() { Literal::Bool(false) } else { Literal::Int(0) };
        let scalar = self.b.push(Op::Const(zero), Type::Scalar(dtype), c.e.span);
        Ok(Some(Operand::Val(self.b.push(Op::Splat(scalar), Type::Tile { dtype, shape }, c.e.span))))
    }

    pub(super) fn builtin_int_fn(&mut self, c: &CallSite<'_>) -> Checked<Option<Operand>> {
        c.no_named(self)?;
        self.arity(c, 2)?;
        let (a, b) = (self.expr(&c.args[0]), self.expr(&c.args[1]));
        let (a, b) = (a?, b?);
        self.int_fn(&c.callee.name, a, b, c.e.span).map(Some)
    }

    fn int_fn(&mut self, name: &str, a: Operand, b: Operand, span: Span) -> Checked<Operand> {
        if let (Operand::Int(x), Operand::Int(y)) = (a, b) {
            let v = match name {
                "cdiv" if y == 0 => return Err(self.rep.report(Diagnostic::at(span, "division by zero", "in `cdiv`"))),
                "cdiv" => x.div_euclid(y) + (x.rem_euclid(y) != 0) as i64,
                "min" => x.min(y),
                _ => x.max(y),
            };
            return Ok(Operand::Int(v));
        }
        let (x, y) = self.unify(a, b, name, span)?;
        let ty = self.b.ty(x).clone();
        match name {
            "cdiv" => {
                if !ty.dtype().is_int() {
                    return Err(self.rep.report(Diagnostic::at(span, format!("`cdiv` takes integers, found `{ty}`"), "not integers")));
                }
                // (x + y - 1) / y, the ceiling for the non-negative sizes cdiv is meant for.
                let sum = self.binary(BinOp::Add, Operand::Val(x), Operand::Val(y), span)?;
                let less = self.binary(BinOp::Sub, sum, Operand::Int(1), span)?;
                self.binary(BinOp::Div, less, Operand::Val(y), span)
            }
            _ => {
                if ty.dtype().is_bool() {
                    return Err(self.rep.report(Diagnostic::at(span, format!("`{name}` takes numbers, found `{ty}`"), "bool operands")));
                }
                let op = if name == "min" { BinaryOp::Min } else { BinaryOp::Max };
                Ok(Operand::Val(self.b.push(Op::Binary(op, x, y), ty, span)))
            }
        }
    }
}

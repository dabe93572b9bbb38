//! Reductions `sum max min any all` (over every dimension, or one with `dim:`, optionally keeping
//! it with `keepdim:`) and `cumsum(x, dim: d)`.

use super::super::consts;
use super::super::expr::Operand;
use super::super::kernel::Checker;
use super::super::Checked;
use super::CallSite;
use crate::diag::Diagnostic;
use crate::tir::{ConstValue, Op, ReduceOp, Type};

impl Checker<'_> {
    pub(super) fn builtin_reduce(&mut self, c: &CallSite<'_>) -> Checked<Option<Operand>> {
        c.only_named(self, &["dim", "keepdim"])?;
        let name = c.callee.name.as_str();
        if c.args.len() != 1 {
            let also = if matches!(name, "min" | "max") { format!("; `{name}(a, b)` without named arguments is the elementwise {name}") } else { String::new() };
            return Err(self.rep.report(Diagnostic::at(
                c.e.span,
                format!("`{name}` reduces one tile and takes 1 positional argument, {} given{also}", c.args.len()),
                "wrong number of arguments",
            )));
        }
        let op = match name {
            "sum" => ReduceOp::Sum,
            "max" => ReduceOp::Max,
            "min" => ReduceOp::Min,
            "any" => ReduceOp::Any,
            _ => ReduceOp::All,
        };
        let (x, ty) = self.tile_arg(c, 0)?;
        let is_bool = ty.dtype().is_bool();
        let logical = matches!(op, ReduceOp::Any | ReduceOp::All);
        if logical != is_bool {
            let diag = if logical {
                Diagnostic::at(c.args[0].span, format!("`{name}` reduces bool tiles, found `{ty}`"), "not bool").with_help("compare first, e.g. `any(x > 0)`")
            } else {
                Diagnostic::at(c.args[0].span, format!("`{name}` reduces numbers, found `{ty}`"), "bool elements").with_help("use `any` or `all` on bool tiles")
            };
            return Err(self.rep.report(diag));
        }
        let rank = ty.shape().len();
        let dim = match c.named("dim") {
            Some(e) => Some(self.dim_arg(e, rank, false, &ty)?),
            None => None,
        };
        let keepdim = match c.named("keepdim") {
            None => false,
            Some(e) => match consts::eval(e, &self.scopes) {
                Ok(ConstValue::Bool(b)) => b,
                Ok(other) => return Err(self.rep.report(Diagnostic::at(e.span, format!("`keepdim` is `true` or `false`, found `{other}`"), "not a bool"))),
                Err(d) => return Err(self.rep.report(d.with_note("`keepdim` must be known at compile time"))),
            },
        };
        let dtype = ty.dtype();
        let out = match (dim, keepdim) {
            (None, false) => Type::Scalar(dtype),
            (None, true) => Type::Tile { dtype, shape: vec![1; rank] },
            (Some(d), true) => {
                let mut s = ty.shape().to_vec();
                s[d] = 1;
                Type::Tile { dtype, shape: s }
            }
            (Some(d), false) => {
                let mut s = ty.shape().to_vec();
                s.remove(d);
                if s.is_empty() {
                    Type::Scalar(dtype)
                } else {
                    Type::Tile { dtype, shape: s }
                }
            }
        };
        Ok(Some(Operand::Val(self.b.push(Op::Reduce { op, value: x, dim }, out, c.e.span))))
    }

    pub(super) fn builtin_cumsum(&mut self, c: &CallSite<'_>) -> Checked<Option<Operand>> {
        c.only_named(self, &["dim"])?;
        self.arity(c, 1)?;
        let (x, ty) = self.tile_arg(c, 0)?;
        if !(ty.dtype().is_int() || ty.dtype().is_float()) {
            return Err(self.rep.report(Diagnostic::at(c.args[0].span, format!("`cumsum` takes numbers, found `{ty}`"), "not numbers")));
        }
        let Some(e) = c.named("dim") else {
            return Err(self.rep.report(
                Diagnostic::at(c.e.span, "`cumsum` needs the dimension to scan", "missing `dim:`").with_help("write `cumsum(x, dim: 0)`"),
            ));
        };
        let dim = self.dim_arg(e, ty.shape().len(), false, &ty)?;
        Ok(Some(Operand::Val(self.b.push(Op::Cumsum { value: x, dim }, ty, c.e.span))))
    }

    /// Positional argument `i`, which must be a register tile.
    pub(super) fn tile_arg(&mut self, c: &CallSite<'_>, i: usize) -> Checked<(crate::tir::ValueId, Type)> {
        let op = self.expr(&c.args[i])?;
        match op {
            Operand::Val(v) if self.b.ty(v).is_tile() => Ok((v, self.b.ty(v).clone())),
            other => Err(self.rep.report(Diagnostic::at(
                c.args[i].span,
                format!("`{}` works on a register tile, found {}", c.callee.name, self.describe(other)),
                "not a tile",
            ))),
        }
    }
}

//! `dot(a, b)` and `dot(a, b, acc)`: the tile matrix product.

use super::super::expr::Operand;
use super::super::kernel::Checker;
use super::super::Checked;
use super::CallSite;
use crate::diag::Diagnostic;
use crate::tir::{Literal, Op, Type};
use tilec_dtype::DType;

impl Checker<'_> {
    pub(super) fn builtin_dot(&mut self, c: &CallSite<'_>) -> Checked<Option<Operand>> {
        c.no_named(self)?;
        if !(2..=3).contains(&c.args.len()) {
            return Err(self.rep.report(Diagnostic::at(
                c.e.span,
                format!("`dot` takes 2 or 3 arguments (a, b or a, b, acc), {} given", c.args.len()),
                "wrong number of arguments",
            )));
        }
        let (a, b) = (self.value(&c.args[0]), self.value(&c.args[1]));
        let (a, b) = (a?, b?);
        let (ta, tb) = (self.b.ty(a).clone(), self.b.ty(b).clone());
        for (t, arg, which) in [(&ta, &c.args[0], "a"), (&tb, &c.args[1], "b")] {
            if t.shape().len() != 2 {
                return Err(self.rep.report(
                    Diagnostic::at(arg.span, format!("`dot` multiplies 2-D tiles, but `{which}` is `{t}`"), format!("rank {}", t.shape().len()))
                        .with_help("`a` is [M, K] and `b` is [K, N]; reshape first if needed"),
                ));
            }
        }
        if ta.dtype() != tb.dtype() {
            return Err(self.rep.report(
                Diagnostic::at(c.e.span, format!("dtype mismatch in `dot`: `{ta}` and `{tb}`"), format!("`{}` and `{}`", ta.dtype(), tb.dtype()))
                    .with_help("convert one side with `cast<T>(...)`"),
            ));
        }
        let (m, k, k2, n) = (ta.shape()[0], ta.shape()[1], tb.shape()[0], tb.shape()[1]);
        if k != k2 {
            return Err(self.rep.report(
                Diagnostic::at(c.e.span, format!("inner dimensions of `dot` differ: `a` is `{ta}` and `b` is `{tb}`"), format!("{k} vs {k2}"))
                    .with_secondary(c.args[0].span, format!("K = {k} here (columns of a)"))
                    .with_secondary(c.args[1].span, format!("K = {k2} here (rows of b)")),
            ));
        }
        let d = ta.dtype();
        let acc_dt = if d.is_float() && d != DType::F64 {
            DType::F32
        } else if d.is_int() {
            DType::I32
        } else {
            let why = if d == DType::F64 { "f64 has no matrix-multiply units; accumulators are f32" } else { "bool is not a number" };
            return Err(self.rep.report(Diagnostic::at(c.e.span, format!("`dot` does not take `{d}` operands"), why).with_note(
                "`dot` takes f16, bf16, tf32, f32 and small floats (accumulating in f32) or integers (accumulating in i32)",
            )));
        };
        let acc_ty = Type::Tile { dtype: acc_dt, shape: vec![m, n] };
        let acc = if let Some(e) = c.args.get(2) {
            let op = self.expr(e)?;
            match op {
                Operand::Val(v) if *self.b.ty(v) == acc_ty => v,
                other => {
                    return Err(self.rep.report(
                        Diagnostic::at(e.span, format!("the accumulator of `dot` must be `{acc_ty}`, found {}", self.describe(other)), format!("expected `{acc_ty}`"))
                            .with_note(format!("`{d}` operands accumulate in `{acc_dt}`; the result has the accumulator's type"))
                            .with_help(format!("start from `zeros<{acc_dt}>[{m}, {n}]`")),
                    ))
                }
            }
        } else {
            let zero = if acc_dt.is_float() { Literal::Float(0.0) } else { Literal::Int(0) };
            let s = self.b.push(Op::Const(zero), Type::Scalar(acc_dt), c.e.span);
            self.b.push(Op::Splat(s), acc_ty.clone(), c.e.span)
        };
        Ok(Some(Operand::Val(self.b.push(Op::Dot { a, b, acc }, acc_ty, c.e.span))))
    }
}

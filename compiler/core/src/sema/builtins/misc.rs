//! `atomic_add(view, tile)` and `print("fmt", values...)`.

use super::super::expr::Operand;
use super::super::kernel::Checker;
use super::super::Checked;
use super::CallSite;
use crate::diag::Diagnostic;
use crate::syntax::ast::ExprKind;
use crate::tir::{Inst, Op};

impl Checker<'_> {
    pub(super) fn builtin_atomic_add(&mut self, c: &CallSite<'_>) -> Checked<Option<Operand>> {
        c.no_named(self)?;
        self.arity(c, 2)?;
        let args = c.args;
        let (tensor, offsets) = self.view(&args[0])?;
        let value = self.expr(&args[1])?;
        let (dtype, rank) = self.tensor_info(tensor);
        let name = self.params[tensor].name.clone();
        let value = match value {
            Operand::Val(v) if self.b.ty(v).is_tile() => v,
            other => {
                return Err(self.rep.report(
                    Diagnostic::at(args[1].span, format!("`atomic_add` adds a register tile, found {}", self.describe(other)), "not a tile")
                        .with_help("make a tile of the value first, e.g. with `zeros<T>[...] + value`"),
                ))
            }
        };
        let ty = self.b.ty(value).clone();
        if !(dtype.is_int() || dtype.is_float()) {
            return Err(self.rep.report(Diagnostic::at(args[0].span, format!("`atomic_add` adds numbers, but `{name}` holds {dtype}"), "not numbers")));
        }
        if ty.dtype() != dtype {
            return Err(self.rep.report(
                Diagnostic::at(args[1].span, format!("dtype mismatch: `{name}` holds {dtype} but the tile is `{ty}`"), format!("`{}` elements", ty.dtype()))
                    .with_help(format!("convert with `cast<{dtype}>(...)`")),
            ));
        }
        if ty.shape().len() != rank {
            return Err(self.rep.report(Diagnostic::at(
                args[1].span,
                format!("`{name}` has {rank} dimension(s) but the tile `{ty}` has {}", ty.shape().len()),
                "rank differs",
            )));
        }
        self.b.push_inst(Inst { op: Op::AtomicAdd { tensor, offsets, value }, results: vec![], span: c.e.span });
        Ok(None)
    }

    pub(super) fn builtin_print(&mut self, c: &CallSite<'_>) -> Checked<Option<Operand>> {
        c.no_named(self)?;
        let Some(first) = c.args.first() else {
            return Err(self.rep.report(
                Diagnostic::at(c.e.span, "`print` needs a message string first", "no arguments").with_help("write `print(\"x\", x)`"),
            ));
        };
        let ExprKind::Str(format) = &first.kind else {
            return Err(self.rep.report(
                Diagnostic::at(first.span, "the first argument of `print` is a string literal", "not a string").with_help("write `print(\"x\", x)`"),
            ));
        };
        let mut args = Vec::new();
        let mut failed = None;
        for a in &c.args[1..] {
            match self.value(a) {
                Ok(v) => args.push(v),
                Err(e) => failed = Some(e),
            }
        }
        if let Some(e) = failed {
            return Err(e);
        }
        self.b.push_inst(Inst { op: Op::Print { format: format.clone(), args }, results: vec![], span: c.e.span });
        Ok(None)
    }
}

//! Layout annotations: `layout(x, "spatial(8,4).local(1,2)")` or `layout(x, L)` with a compile-time
//! parameter `L: layout = "..."`. The layout is a register (thread-value) layout of docs/layouts.md; it
//! must cover the tile's shape and spread it over exactly the kernel's threads.

use super::super::expr::{join, Operand};
use super::super::kernel::Checker;
use super::super::Checked;
use super::CallSite;
use crate::diag::Diagnostic;
use crate::syntax::ast::ExprKind;
use crate::syntax::Span;
use crate::tir::{ConstValue, LayoutConst, Op};

/// A layout from a string literal at `span`; a malformed one points at its offending column.
pub fn layout_from_literal(text: &str, span: Span) -> Result<ConstValue, Diagnostic> {
    tilec_layout::calc::register_layout(text).map(|tv| ConstValue::Layout(LayoutConst { text: text.to_string(), tv })).map_err(|e| {
        // The literal's text starts one byte (the quote) into its span.
        let r = e.span();
        let at = Span::new(span.start as usize + 1 + r.start, span.start as usize + 1 + r.end.max(r.start + 1));
        let mut d = Diagnostic::at(at, format!("invalid layout: {}", e.message()), "here");
        if let Some(h) = e.help() {
            d = d.with_help(h.to_string());
        }
        d.with_note("layouts are written as in `tilec layout`, e.g. \"spatial(8,4).local(1,2)\" (docs/layouts.md)")
    })
}

impl Checker<'_> {
    /// The layout named by a call's argument: a string literal or a `layout` compile-time value.
    fn layout_arg(&mut self, e: &crate::syntax::ast::Expr) -> Checked<LayoutConst> {
        let layout = match &e.kind {
            ExprKind::Str(text) => layout_from_literal(text, e.span).map_err(|d| self.rep.report(d))?,
            _ => super::super::consts::eval(e, &self.scopes).map_err(|d| self.rep.report(d))?,
        };
        match layout {
            ConstValue::Layout(l) => Ok(l),
            other => Err(self.rep.report(Diagnostic::at(e.span, format!("expected a layout, found `{other}`"), "not a layout"))),
        }
    }

    /// Checks that a layout spreads its tile over exactly the kernel's threads.
    fn check_layout_threads(&mut self, l: &LayoutConst, span: Span) -> Checked<()> {
        let threads = (self.warps_hint * 32) as i64;
        if l.tv.num_threads() != threads {
            return Err(self.rep.report(
                Diagnostic::at(span, format!("the layout spreads the tile over {} threads but the kernel has {threads}", l.tv.num_threads()), "thread count differs")
                    .with_note("a register layout covers every thread of the block: warps(W) gives 32 * W threads"),
            ));
        }
        Ok(())
    }

    /// `thread_ids(L)`: which thread holds each element of a tile laid out by `L`.
    pub(super) fn builtin_thread_ids(&mut self, c: &CallSite<'_>) -> Checked<Option<Operand>> {
        c.no_named(self)?;
        self.arity(c, 1)?;
        let l = self.layout_arg(&c.args[0])?;
        self.check_layout_threads(&l, c.args[0].span)?;
        if l.tv.replication() != 1 {
            return Err(self.rep.report(Diagnostic::at(c.args[0].span, format!("`{}` gives some elements to several threads", l.text), "replicated layout")
                .with_note("`thread_ids` needs one thread per element")));
        }
        let shape: Vec<u64> = l.tv.shape().iter().map(|&d| d as u64).collect();
        Ok(Some(Operand::Val(self.b.push(Op::ThreadIds(l), crate::tir::Type::Tile { dtype: tilec_dtype::DType::I64, shape }, c.e.span))))
    }

    pub(super) fn builtin_layout(&mut self, c: &CallSite<'_>) -> Checked<Option<Operand>> {
        c.no_named(self)?;
        self.arity(c, 2)?;
        let x = self.value(&c.args[0])?;
        let l = self.layout_arg(&c.args[1])?;
        let ty = self.b.ty(x).clone();
        let shape: Vec<u64> = l.tv.shape().iter().map(|&d| d as u64).collect();
        if !ty.is_tile() || ty.shape() != shape.as_slice() {
            return Err(self.rep.report(
                Diagnostic::at(c.e.span, format!("the layout covers a [{}] tile but the value is `{ty}`", join(&shape)), "shape mismatch")
                    .with_secondary(c.args[1].span, format!("`{}`", l.text)),
            ));
        }
        self.check_layout_threads(&l, c.args[1].span)?;
        Ok(Some(Operand::Val(self.b.push(Op::Annotate(x, l), ty, c.e.span))))
    }
}

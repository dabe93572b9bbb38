//! Shared memory: allocation (`let s = shared<f16>[2, 64, 32];`), views (`s[stage]`, `s[i.., j..]`),
//! loads and stores between shared memory and registers, asynchronous copies from global memory
//! (`copy_async`, `commit_group`, `wait_group`), and `barrier()`.

use super::super::consts;
use super::super::expr::{join, Operand};
use super::super::kernel::Checker;
use super::super::scope::Binding;
use super::super::Checked;
use super::CallSite;
use crate::diag::Diagnostic;
use crate::syntax::ast::{self, ExprKind, IndexArg};
use crate::tir::{BinaryOp, Inst, Literal, Op, ParamKind, SharedBuffer, SharedView, Type};
use tilec_dtype::DType;

/// The most shared memory one block may have on any supported target (sm_90: 227 KiB).
pub const MAX_SHARED_BYTES: usize = 227 * 1024;

impl Checker<'_> {
    pub fn is_shared_alloc(e: &ast::Expr) -> bool {
        matches!(&e.kind, ExprKind::Call { module: None, callee, .. } if callee.name == "shared")
    }

    /// `shared<T>[D0, D1, ...]`: a new buffer, and the view of all of it.
    pub fn shared_alloc(&mut self, e: &ast::Expr) -> Checked<SharedView> {
        let ExprKind::Call { callee, generics, args, named, bracket, .. } = &e.kind else { unreachable!("checked by is_shared_alloc") };
        let c = CallSite { e, callee, generics, args, named, bracket: *bracket };
        c.no_named(self)?;
        if !c.bracket {
            return Err(self.rep.report(Diagnostic::at(e.span, "a shared buffer's shape is written in brackets", "expected `shared<T>[...]`")));
        }
        let dtype = self.generic_dtype(&c)?;
        let shape = self.dims(args, e.span)?;
        let rank = shape.len();
        self.shared.push(SharedBuffer { dtype, shape, span: e.span });
        let zero = self.b.push(Op::Const(Literal::Int(0)), Type::Scalar(DType::I64), e.span);
        Ok(SharedView { buffer: self.shared.len() - 1, offsets: vec![zero; rank], spans: (0..rank).collect() })
    }

    /// The shared view an expression names, without checking its indices (None if it is not one).
    pub fn shared_view_of(&self, e: &ast::Expr) -> Option<SharedView> {
        let base = match &e.kind {
            ExprKind::Index(base, _) => base.as_ref(),
            _ => e,
        };
        match &base.kind {
            ExprKind::Name(id) => match self.scopes.lookup(&id.name) {
                Some(Binding::Shared(v)) => Some(v.clone()),
                _ => None,
            },
            _ => None,
        }
    }

    /// `s`, `s[stage]`, `s[stage, m.., ..]`: indices apply to the dimensions the view spans, in order;
    /// `i` fixes a dimension (it is no longer spanned), `i..` offsets it, `..` keeps it.
    pub fn shared_view(&mut self, e: &ast::Expr) -> Checked<SharedView> {
        let mut view = self.shared_view_of(e).expect("a shared view");
        let ExprKind::Index(_, args) = &e.kind else { return Ok(view) };
        if args.len() > view.spans.len() {
            return Err(self.rep.report(Diagnostic::at(e.span, format!("the view spans {} dimension(s) but {} indices are given", view.spans.len(), args.len()), "too many indices")));
        }
        let mut kept = Vec::new();
        for (i, a) in args.iter().enumerate() {
            let d = view.spans[i];
            let (x, fixes) = match a {
                IndexArg::Full(_) => {
                    kept.push(d);
                    continue;
                }
                IndexArg::From(x) => (x, false),
                IndexArg::At(x) => (x, true),
            };
            let op = self.expr(x)?;
            let off = self.index(op, x.span)?;
            view.offsets[d] = self.b.push(Op::Binary(BinaryOp::Add, view.offsets[d], off), Type::Scalar(DType::I64), x.span);
            if !fixes {
                kept.push(d);
            }
        }
        kept.extend_from_slice(&view.spans[args.len()..]);
        view.spans = kept;
        Ok(view)
    }

    /// The extents of the dimensions a view spans.
    fn view_shape(&self, v: &SharedView) -> Vec<u64> {
        v.spans.iter().map(|d| self.shared[v.buffer].shape[*d]).collect()
    }

    pub(super) fn builtin_load_shared(&mut self, c: &CallSite<'_>) -> Checked<Option<Operand>> {
        c.no_named(self)?;
        if !(1..=2).contains(&c.args.len()) {
            return Err(self.rep.report(Diagnostic::at(c.e.span, "`load` of shared memory takes a view and an optional shape", "wrong number of arguments")));
        }
        let view = self.shared_view(&c.args[0])?;
        let full = self.view_shape(&view);
        let shape = match c.args.get(1) {
            Some(s) => self.shape(s)?,
            None => full.clone(),
        };
        if shape.len() != full.len() || shape.iter().zip(&full).any(|(s, f)| s > f) {
            return Err(self.rep.report(Diagnostic::at(c.e.span, format!("a tile [{}] does not fit the shared view [{}]", join(&shape), join(&full)), "shape mismatch")));
        }
        let dtype = self.shared[view.buffer].dtype;
        Ok(Some(Operand::Val(self.b.push(Op::LoadShared(view), Type::Tile { dtype, shape }, c.e.span))))
    }

    pub(super) fn builtin_store_shared(&mut self, c: &CallSite<'_>) -> Checked<Option<Operand>> {
        c.no_named(self)?;
        self.arity(c, 2)?;
        let view = self.shared_view(&c.args[0])?;
        let value = self.value(&c.args[1])?;
        let ty = self.b.ty(value).clone();
        let (dtype, full) = (self.shared[view.buffer].dtype, self.view_shape(&view));
        if ty.dtype() != dtype {
            return Err(self.rep.report(
                Diagnostic::at(c.args[1].span, format!("dtype mismatch: the shared buffer holds {dtype} but the tile is `{ty}`"), format!("`{}` elements", ty.dtype()))
                    .with_help(format!("convert with `cast<{dtype}>(...)`")),
            ));
        }
        if !ty.is_tile() || ty.shape().len() != full.len() || ty.shape().iter().zip(&full).any(|(s, f)| s > f) {
            return Err(self.rep.report(Diagnostic::at(c.args[1].span, format!("the tile `{ty}` does not fit the shared view [{}]", join(&full)), "shape mismatch")));
        }
        self.b.push_inst(Inst { op: Op::StoreShared { view, value }, results: vec![], span: c.e.span });
        Ok(None)
    }

    /// `copy_async(s[stage], a[m0.., k0..])`: the whole view, from global memory.
    pub(super) fn builtin_copy_async(&mut self, c: &CallSite<'_>) -> Checked<Option<Operand>> {
        c.no_named(self)?;
        self.arity(c, 2)?;
        if self.shared_view_of(&c.args[0]).is_none() {
            return Err(self.rep.report(Diagnostic::at(c.args[0].span, "`copy_async` copies into shared memory", "not a shared view")));
        }
        let view = self.shared_view(&c.args[0])?;
        let (tensor, offsets) = self.view(&c.args[1])?;
        let ParamKind::Tensor { dtype, shape: dims, .. } = &self.params[tensor].kind else { unreachable!("view() gives tensors") };
        let (dtype, rank) = (*dtype, dims.len());
        let shape = self.view_shape(&view);
        if dtype != self.shared[view.buffer].dtype {
            return Err(self.rep.report(Diagnostic::at(c.e.span, format!("`copy_async` from {dtype} into a {} buffer", self.shared[view.buffer].dtype), "dtypes differ")));
        }
        if shape.len() != rank {
            return Err(self.rep.report(Diagnostic::at(c.e.span, format!("the shared view [{}] and the tensor `{}` differ in rank", join(&shape), self.params[tensor].name), "rank differs")));
        }
        self.b.push_inst(Inst { op: Op::CopyAsync { view, tensor, offsets, shape }, results: vec![], span: c.e.span });
        Ok(None)
    }

    pub(super) fn builtin_sync(&mut self, c: &CallSite<'_>) -> Checked<Option<Operand>> {
        c.no_named(self)?;
        let op = match c.callee.name.as_str() {
            "wait_group" => {
                self.arity(c, 1)?;
                match consts::int(&c.args[0], &self.scopes) {
                    Ok(n) if (0..=1024).contains(&n) => Op::WaitGroup(n as u32),
                    Ok(n) => return Err(self.rep.report(Diagnostic::at(c.args[0].span, format!("`wait_group({n})` is out of range"), "expected 0 to 1024"))),
                    Err(d) => return Err(self.rep.report(d)),
                }
            }
            "commit_group" => {
                self.arity(c, 0)?;
                Op::CommitGroup
            }
            _ => {
                self.arity(c, 0)?;
                Op::Barrier
            }
        };
        self.b.push_inst(Inst { op, results: vec![], span: c.e.span });
        Ok(None)
    }

    /// Reports a kernel whose shared buffers exceed what any target gives one block.
    pub fn check_shared_budget(&self, k: &ast::Kernel) {
        let total: usize = self.shared.iter().map(SharedBuffer::nbytes).sum();
        if total > MAX_SHARED_BYTES {
            let mut d = Diagnostic::at(k.name.span, format!("kernel `{}` allocates {total} bytes of shared memory", k.name.name), format!("more than {MAX_SHARED_BYTES} bytes"));
            for b in &self.shared {
                d = d.with_secondary(b.span, format!("{} bytes", b.nbytes()));
            }
            self.rep.report(d.with_note("sm_90 gives a block at most 227 KiB, sm_80 163 KiB, gfx90a and gfx942 64 KiB"));
        }
    }
}

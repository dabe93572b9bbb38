//! Memory builtins: `load` and `store` of register tiles from and to views of global tensors.

use super::super::consts;
use super::super::expr::{join, Operand};
use super::super::kernel::Checker;
use super::super::scope::Binding;
use super::super::Checked;
use super::{CallSite, MAX_TILE_ELEMENTS};
use crate::diag::Diagnostic;
use crate::syntax::ast::{self, ExprKind, IndexArg};
use crate::syntax::Span;
use crate::tir::{Literal, Op, ParamKind, Type, ValueId};
use tilec_dtype::DType;

impl Checker<'_> {
    pub(super) fn builtin_load(&mut self, c: &CallSite<'_>) -> Checked<Option<Operand>> {
        c.only_named(self, &["mask", "other"])?;
        self.arity(c, 2)?;
        let (tensor, offsets) = self.view(&c.args[0])?;
        let shape = self.shape(&c.args[1])?;
        let (dtype, rank) = self.tensor_info(tensor);
        if shape.len() != rank {
            return Err(self.rep.report(Diagnostic::at(
                c.args[1].span,
                format!("`{}` has {rank} dimension(s) but the tile shape has {}", self.params[tensor].name, shape.len()),
                format!("[{}]", join(&shape)),
            )));
        }
        let ty = Type::Tile { dtype, shape };
        let loaded = self.b.push(Op::Load { tensor, offsets }, ty.clone(), c.e.span);
        // `mask:` and `other:` select, element by element, between the loaded value and `other`
        // (zero by default); a global load has no side effect, so this is exactly a masked load.
        let Some(mask) = c.named("mask") else {
            if let Some(o) = c.named("other") {
                return Err(self.rep.report(Diagnostic::at(o.span, "`other:` needs a `mask:`", "no mask given")));
            }
            return Ok(Some(Operand::Val(loaded)));
        };
        let m = self.bool_mask(mask, &ty)?;
        let other = match c.named("other") {
            Some(o) => {
                let op = self.expr(o)?;
                self.coerce(op, &ty, o.span)?
            }
            None => {
                let zero = super::super::expr::Operand::Int(0);
                let zero = if dtype.is_float() { super::super::expr::Operand::Float(0.0) } else if dtype.is_bool() { super::super::expr::Operand::Bool(false) } else { zero };
                self.coerce(zero, &ty, c.e.span)?
            }
        };
        Ok(Some(Operand::Val(self.b.push(Op::Where(m, loaded, other), ty, c.e.span))))
    }

    /// A bool mask broadcast to the shape of `ty`.
    fn bool_mask(&mut self, mask: &ast::Expr, ty: &Type) -> Checked<ValueId> {
        let op = self.expr(mask)?;
        let want = ty.with_dtype(DType::Bool);
        if let Operand::Val(v) = op {
            if !self.b.ty(v).dtype().is_bool() {
                let found = self.b.ty(v).clone();
                return Err(self.rep.report(Diagnostic::at(mask.span, format!("a mask is a bool tile, found `{found}`"), "not bool")));
            }
        }
        self.coerce(op, &want, mask.span)
    }

    pub(super) fn builtin_store(&mut self, c: &CallSite<'_>) -> Checked<Option<Operand>> {
        c.only_named(self, &["mask"])?;
        self.arity(c, 2)?;
        let args = c.args;
        let (tensor, offsets) = self.view(&args[0])?;
        let value = self.expr(&args[1])?;
        let (dtype, rank) = self.tensor_info(tensor);
        let value = match value {
            Operand::Val(v) if self.b.ty(v).is_tile() => v,
            other => {
                return Err(self.rep.report(
                    Diagnostic::at(args[1].span, format!("`store` writes a register tile, found {}", self.describe(other)), "not a tile")
                        .with_help("make a tile of the value first, e.g. with `zeros<T>[...] + value`"),
                ))
            }
        };
        let ty = self.b.ty(value).clone();
        if ty.dtype() != dtype {
            return Err(self.rep.report(
                Diagnostic::at(args[1].span, format!("dtype mismatch: `{}` holds {dtype} but the tile is `{ty}`", self.params[tensor].name), format!("`{}` elements", ty.dtype()))
                    .with_help(format!("convert with `cast<{dtype}>(...)`")),
            ));
        }
        if ty.shape().len() != rank {
            return Err(self.rep.report(Diagnostic::at(
                args[1].span,
                format!("`{}` has {rank} dimension(s) but the tile `{ty}` has {}", self.params[tensor].name, ty.shape().len()),
                "rank differs",
            )));
        }
        let mask = match c.named("mask") {
            Some(m) => Some(self.bool_mask(m, &ty)?),
            None => None,
        };
        self.b.push_inst(crate::tir::Inst { op: Op::Store { tensor, offsets, value, mask }, results: vec![], span: c.e.span });
        Ok(None)
    }

    pub(crate) fn tensor_info(&self, tensor: usize) -> (DType, usize) {
        match &self.params[tensor].kind {
            ParamKind::Tensor { dtype, shape, .. } => (*dtype, shape.len()),
            ParamKind::Scalar(d) => (*d, 0),
        }
    }

    /// A view of a global tensor: `a` or `a[i.., j..]`, where `a` is a tensor parameter or a view
    /// bound to a function parameter; returns the tensor and one i64 offset per dimension.
    pub(crate) fn view(&mut self, e: &ast::Expr) -> Checked<(usize, Vec<ValueId>)> {
        let (base, args) = match &e.kind {
            ExprKind::Index(base, args) => (base.as_ref(), Some(args)),
            _ => (e, None),
        };
        let (tensor, base_offsets) = match &base.kind {
            ExprKind::Name(id) => match self.scopes.lookup(&id.name).cloned() {
                Some(Binding::Tensor(t)) => (t, None),
                Some(Binding::View(t, offs)) => (t, Some(offs)),
                Some(_) => return Err(self.rep.report(Diagnostic::at(id.span, format!("`{}` is not a global tensor", id.name), "expected a tensor parameter"))),
                None => return Err(self.rep.report(consts::unknown_name(id.span, &id.name))),
            },
            _ => return Err(self.rep.report(Diagnostic::at(base.span, "expected a global tensor or a view of one, as in `a[i..]`", "not a tensor view"))),
        };
        let (_, rank) = self.tensor_info(tensor);
        let mut offsets = Vec::with_capacity(rank);
        match args {
            None => {}
            Some(args) if args.len() != rank => {
                return Err(self.rep.report(Diagnostic::at(
                    e.span,
                    format!("`{}` has {rank} dimension(s) but the view gives {}", self.params[tensor].name, args.len()),
                    "one `start..` per dimension",
                )))
            }
            Some(args) => {
                for a in args {
                    match a {
                        IndexArg::Full(span) => offsets.push(self.b.push(Op::Const(Literal::Int(0)), Type::Scalar(DType::I64), *span)),
                        IndexArg::At(x) => {
                            return Err(self.rep.report(
                                Diagnostic::at(x.span, "a view of a global tensor keeps every dimension", "an index without `..`")
                                    .with_help("write `i..` and give the tile a size-1 dimension there"),
                            ))
                        }
                        IndexArg::From(x) => {
                            let op = self.expr(x)?;
                            offsets.push(self.index(op, x.span)?);
                        }
                    }
                }
            }
        }
        while offsets.len() < rank {
            offsets.push(self.b.push(Op::Const(Literal::Int(0)), Type::Scalar(DType::I64), e.span));
        }
        // A view of a view: the offsets add up.
        if let Some(base) = base_offsets {
            for (o, b) in offsets.iter_mut().zip(base) {
                *o = self.b.push(Op::Binary(crate::tir::BinaryOp::Add, b, *o), Type::Scalar(DType::I64), e.span);
            }
        }
        Ok((tensor, offsets))
    }

    /// An integer scalar as an i64 index (narrower integers are widened).
    pub fn index(&mut self, op: Operand, span: Span) -> Checked<ValueId> {
        if let Operand::Val(v) = op {
            let ty = self.b.ty(v).clone();
            if ty.is_tile() || !ty.dtype().is_int() {
                return Err(self.rep.report(Diagnostic::at(span, format!("an index must be an integer scalar, found `{ty}`"), "not an index")));
            }
            if ty.dtype() != DType::I64 {
                return Ok(self.b.push(Op::Cast(v), Type::Scalar(DType::I64), span));
            }
        }
        self.coerce(op, &Type::Scalar(DType::I64), span)
    }

    /// A tile shape written as a list of compile-time integers: `[BM, 32]`.
    pub(crate) fn shape(&mut self, e: &ast::Expr) -> Checked<Vec<u64>> {
        match &e.kind {
            ExprKind::List(items) => self.dims(items, e.span),
            _ => Err(self.rep.report(Diagnostic::at(e.span, "expected a tile shape, as in `[128]` or `[BM, BK]`", "not a shape"))),
        }
    }

    pub(crate) fn dims(&mut self, items: &[ast::Expr], span: Span) -> Checked<Vec<u64>> {
        if items.is_empty() {
            return Err(self.rep.report(Diagnostic::at(span, "a tile shape needs at least one dimension", "empty shape")));
        }
        let mut shape = Vec::new();
        for d in items {
            match consts::int(d, &self.scopes) {
                Ok(n) if n >= 1 => shape.push(n as u64),
                Ok(n) => return Err(self.rep.report(Diagnostic::at(d.span, format!("tile dimensions must be positive, found {n}"), "not positive"))),
                Err(diag) => return Err(self.rep.report(diag.with_note("tile shapes are static: use compile-time parameters"))),
            }
        }
        let numel = shape.iter().try_fold(1u64, |acc, &d| acc.checked_mul(d)).unwrap_or(u64::MAX);
        if numel > MAX_TILE_ELEMENTS {
            return Err(self.rep.report(Diagnostic::at(span, format!("a tile of {numel} elements is too large"), format!("at most {MAX_TILE_ELEMENTS} elements"))));
        }
        Ok(shape)
    }

}

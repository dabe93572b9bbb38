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
        c.no_named(self)?;
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
        Ok(Some(Operand::Val(self.b.push(Op::Load { tensor, offsets }, ty, c.e.span))))
    }

    pub(super) fn builtin_store(&mut self, c: &CallSite<'_>) -> Checked<Option<Operand>> {
        c.no_named(self)?;
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
        self.b.push_inst(crate::tir::Inst { op: Op::Store { tensor, offsets, value }, results: vec![], span: c.e.span });
        Ok(None)
    }

    pub(super) fn tensor_info(&self, tensor: usize) -> (DType, usize) {
        match &self.params[tensor].kind {
            ParamKind::Tensor { dtype, shape } => (*dtype, shape.len()),
            ParamKind::Scalar(d) => (*d, 0),
        }
    }

    /// A view of a global tensor: `a` or `a[i.., j..]`; returns the parameter and one i64 offset per dimension.
    pub(super) fn view(&mut self, e: &ast::Expr) -> Checked<(usize, Vec<ValueId>)> {
        let (base, args) = match &e.kind {
            ExprKind::Index(base, args) => (base.as_ref(), Some(args)),
            _ => (e, None),
        };
        let tensor = match &base.kind {
            ExprKind::Name(id) => match self.scopes.lookup(&id.name) {
                Some(Binding::Tensor(t)) => *t,
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
    pub(super) fn shape(&mut self, e: &ast::Expr) -> Checked<Vec<u64>> {
        match &e.kind {
            ExprKind::List(items) => self.dims(items, e.span),
            _ => Err(self.rep.report(Diagnostic::at(e.span, "expected a tile shape, as in `[128]` or `[BM, BK]`", "not a shape"))),
        }
    }

    pub(super) fn dims(&mut self, items: &[ast::Expr], span: Span) -> Checked<Vec<u64>> {
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

//! Built-in functions: `load`, `store`, `cast<T>`, `zeros<T>[...]`, `cdiv`, `min`, `max`.

use super::consts;
use super::expr::{join, Operand};
use super::kernel::Checker;
use super::scope::Binding;
use super::Checked;
use crate::diag::Diagnostic;
use crate::syntax::ast::{self, BinOp, ExprKind, IndexArg};
use crate::syntax::Span;
use crate::tir::{BinaryOp, ConstValue, Literal, Op, ParamKind, Type, ValueId};
use tilec_dtype::DType;

/// The largest register tile, in elements: beyond it a kernel cannot be register-resident anyway.
pub const MAX_TILE_ELEMENTS: u64 = 1 << 20;

const BUILTINS: &str = "load, store, cast, zeros, cdiv, min, max";

impl Checker<'_> {
    /// Checks a call; `None` for calls that produce no value (`store`).
    pub fn call(&mut self, e: &ast::Expr) -> Checked<Option<Operand>> {
        let ExprKind::Call { callee, generics, args, bracket } = &e.kind else { unreachable!("call() on a non-call") };
        let name = callee.name.as_str();
        let takes_generics = matches!(name, "cast" | "zeros");
        if !generics.is_empty() && !takes_generics {
            return Err(self.rep.report(Diagnostic::at(callee.span, format!("`{name}` takes no generic arguments"), "remove `<...>`")));
        }
        if *bracket && name != "zeros" {
            return Err(self.rep.report(Diagnostic::at(e.span, format!("`{name}[...]` is not a call"), "use parentheses")));
        }
        match name {
            "load" => {
                self.arity(e, args, 2)?;
                let (tensor, offsets) = self.view(&args[0])?;
                let shape = self.shape(&args[1])?;
                let (dtype, rank) = self.tensor_info(tensor);
                if shape.len() != rank {
                    return Err(self.rep.report(Diagnostic::at(
                        args[1].span,
                        format!("`{}` has {rank} dimension(s) but the tile shape has {}", self.params[tensor].name, shape.len()),
                        format!("[{}]", join(&shape)),
                    )));
                }
                let ty = Type::Tile { dtype, shape };
                Ok(Some(Operand::Val(self.b.push(Op::Load { tensor, offsets }, ty, e.span))))
            }
            "store" => {
                self.arity(e, args, 2)?;
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
                self.b.push_inst(crate::tir::Inst { op: Op::Store { tensor, offsets, value }, results: vec![], span: e.span });
                Ok(None)
            }
            "cast" => {
                self.arity(e, args, 1)?;
                let dtype = self.generic_dtype(callee, generics)?;
                let x = self.expr(&args[0])?;
                let v = match x {
                    Operand::Val(v) => v,
                    lit => self.materialize(lit, args[0].span),
                };
                let ty = self.b.ty(v).with_dtype(dtype);
                if self.b.ty(v).dtype() == dtype {
                    return Ok(Some(Operand::Val(v)));
                }
                Ok(Some(Operand::Val(self.b.push(Op::Cast(v), ty, e.span))))
            }
            "zeros" => {
                let dtype = self.generic_dtype(callee, generics)?;
                let shape = if *bracket {
                    self.dims(args, e.span)?
                } else {
                    self.arity(e, args, 1)?;
                    self.shape(&args[0])?
                };
                let zero = if dtype.is_float() { Literal::Float(0.0) } else if dtype.is_bool() { Literal::Bool(false) } else { Literal::Int(0) };
                let scalar = self.b.push(Op::Const(zero), Type::Scalar(dtype), e.span);
                Ok(Some(Operand::Val(self.b.push(Op::Splat(scalar), Type::Tile { dtype, shape }, e.span))))
            }
            "cdiv" | "min" | "max" => {
                self.arity(e, args, 2)?;
                let (a, b) = (self.expr(&args[0]), self.expr(&args[1]));
                let (a, b) = (a?, b?);
                self.int_fn(name, a, b, e.span).map(Some)
            }
            "range" => Err(self.rep.report(Diagnostic::at(e.span, "`range` can only drive a `for` loop", "not in a `for`"))),
            _ => Err(self.rep.report(
                Diagnostic::at(callee.span, format!("unknown function `{name}`"), "not a built-in function").with_note(format!("built-in functions: {BUILTINS}")),
            )),
        }
    }

    fn arity(&self, e: &ast::Expr, args: &[ast::Expr], n: usize) -> Checked<()> {
        if args.len() == n {
            return Ok(());
        }
        let ExprKind::Call { callee, .. } = &e.kind else { unreachable!() };
        Err(self.rep.report(Diagnostic::at(e.span, format!("`{}` takes {n} argument(s), {} given", callee.name, args.len()), "wrong number of arguments")))
    }

    fn generic_dtype(&self, callee: &ast::Ident, generics: &[ast::Expr]) -> Checked<DType> {
        match generics {
            [g] => match consts::eval(g, &self.scopes) {
                Ok(ConstValue::DType(d)) => Ok(d),
                Ok(other) => Err(self.rep.report(Diagnostic::at(g.span, format!("expected an element type, found `{other}`"), "not a dtype"))),
                Err(_) => match &g.kind {
                    ExprKind::Name(id) => self.dtype(id),
                    _ => Err(self.rep.report(Diagnostic::at(g.span, "expected an element type", "not a dtype"))),
                },
            },
            _ => Err(self.rep.report(Diagnostic::at(callee.span, format!("`{}` needs one element type, as in `{}<f32>`", callee.name, callee.name), "missing `<T>`"))),
        }
    }

    fn tensor_info(&self, tensor: usize) -> (DType, usize) {
        match &self.params[tensor].kind {
            ParamKind::Tensor { dtype, shape } => (*dtype, shape.len()),
            ParamKind::Scalar(d) => (*d, 0),
        }
    }

    /// A view of a global tensor: `a` or `a[i.., j..]`; returns the parameter and one i64 offset per dimension.
    fn view(&mut self, e: &ast::Expr) -> Checked<(usize, Vec<ValueId>)> {
        let (base, args) = match &e.kind {
            ExprKind::Index(base, args) => (base.as_ref(), Some(args)),
            _ => (e, None),
        };
        let tensor = match &base.kind {
            ExprKind::Name(id) => match self.scopes.lookup(&id.name) {
                Some(Binding::Tensor(t)) => *t,
                Some(_) => return Err(self.rep.report(Diagnostic::at(id.span, format!("`{}` is not a global tensor", id.name), "expected a tensor parameter"))),
                None => return Err(self.rep.report(super::consts::unknown_name(id.span, &id.name))),
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
    fn shape(&mut self, e: &ast::Expr) -> Checked<Vec<u64>> {
        match &e.kind {
            ExprKind::List(items) => self.dims(items, e.span),
            _ => Err(self.rep.report(Diagnostic::at(e.span, "expected a tile shape, as in `[128]` or `[BM, BK]`", "not a shape"))),
        }
    }

    fn dims(&mut self, items: &[ast::Expr], span: Span) -> Checked<Vec<u64>> {
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

//! Elementwise compute builtins: `exp exp2 log log2 sqrt rsqrt abs neg`, `where`, `fma`; and the
//! helpers the compute families share (compile-time integers, dimension arguments, common types).

use super::super::consts;
use super::super::expr::{broadcast_shape, join, Operand};
use super::super::kernel::Checker;
use super::super::Checked;
use super::CallSite;
use crate::diag::Diagnostic;
use crate::syntax::ast;
use crate::syntax::Span;
use crate::tir::{MathOp, Op, Type, UnaryOp};
use tilec_dtype::DType;

impl Checker<'_> {
    pub(super) fn builtin_math(&mut self, c: &CallSite<'_>) -> Checked<Option<Operand>> {
        c.no_named(self)?;
        self.arity(c, 1)?;
        let name = c.callee.name.as_str();
        let x = self.value(&c.args[0])?;
        let ty = self.b.ty(x).clone();
        let d = ty.dtype();
        let signed_ok = matches!(name, "abs" | "neg");
        if !(d.is_float() || (signed_ok && d.is_signed_int())) {
            let want = if signed_ok { "floats or signed integers" } else { "floats" };
            let mut diag = Diagnostic::at(c.args[0].span, format!("`{name}` takes {want}, found `{ty}`"), format!("`{d}` elements"));
            if d.is_int() {
                diag = diag.with_help(format!("convert first, e.g. `{name}(cast<f32>(...))`"));
            }
            return Err(self.rep.report(diag));
        }
        let op = match name {
            "neg" => return Ok(Some(Operand::Val(self.b.push(Op::Unary(UnaryOp::Neg, x), ty, c.e.span)))),
            "exp" => MathOp::Exp,
            "exp2" => MathOp::Exp2,
            "log" => MathOp::Log,
            "log2" => MathOp::Log2,
            "sqrt" => MathOp::Sqrt,
            "rsqrt" => MathOp::Rsqrt,
            _ => MathOp::Abs,
        };
        Ok(Some(Operand::Val(self.b.push(Op::Math(op, x), ty, c.e.span))))
    }

    pub(super) fn builtin_where(&mut self, c: &CallSite<'_>) -> Checked<Option<Operand>> {
        c.no_named(self)?;
        self.arity(c, 3)?;
        let ops = [self.expr(&c.args[0]), self.expr(&c.args[1]), self.expr(&c.args[2])];
        let [cond, a, b] = [ops[0]?, ops[1]?, ops[2]?];
        let cond = match cond {
            Operand::Bool(v) => self.materialize(Operand::Bool(v), c.args[0].span),
            Operand::Val(v) if self.b.ty(v).dtype().is_bool() => v,
            other => {
                return Err(self.rep.report(
                    Diagnostic::at(c.args[0].span, format!("`where` needs a bool condition, found {}", self.describe(other)), "not bool")
                        .with_help("compare to make one, e.g. `where(x > 0.0, x, 0.0)`"),
                ))
            }
        };
        let vt = self.common_type(&[(a, c.args[1].span), (b, c.args[2].span)], "where", c.e.span)?;
        let ct = self.b.ty(cond).clone();
        let Some(shape) = broadcast_shape(ct.shape(), vt.shape()) else {
            return Err(self.rep.report(Diagnostic::at(
                c.e.span,
                format!("shape mismatch in `where`: the condition is `{ct}` and the values are `{vt}`"),
                format!("[{}] and [{}] do not broadcast", join(ct.shape()), join(vt.shape())),
            )));
        };
        let target = if shape.is_empty() { Type::Scalar(vt.dtype()) } else { Type::Tile { dtype: vt.dtype(), shape } };
        let cond = self.coerce(Operand::Val(cond), &target.with_dtype(DType::Bool), c.args[0].span)?;
        let x = self.coerce(a, &target, c.args[1].span)?;
        let y = self.coerce(b, &target, c.args[2].span)?;
        Ok(Some(Operand::Val(self.b.push(Op::Where(cond, x, y), target, c.e.span))))
    }

    pub(super) fn builtin_fma(&mut self, c: &CallSite<'_>) -> Checked<Option<Operand>> {
        c.no_named(self)?;
        self.arity(c, 3)?;
        let ops = [self.expr(&c.args[0]), self.expr(&c.args[1]), self.expr(&c.args[2])];
        let ops = [ops[0]?, ops[1]?, ops[2]?];
        let with_spans: Vec<(Operand, Span)> = ops.iter().zip(c.args).map(|(o, a)| (*o, a.span)).collect();
        let target = self.common_type(&with_spans, "fma", c.e.span)?;
        if !target.dtype().is_float() {
            return Err(self.rep.report(
                Diagnostic::at(c.e.span, format!("`fma` takes floats, found `{target}`"), "not floats")
                    .with_help("for integers write `a * b + c`"),
            ));
        }
        let mut vals = Vec::new();
        for (o, s) in with_spans {
            vals.push(self.coerce(o, &target, s)?);
        }
        Ok(Some(Operand::Val(self.b.push(Op::Fma(vals[0], vals[1], vals[2]), target, c.e.span))))
    }

    /// The type operands meet at: the dtype of the typed ones (which must agree; literals take it),
    /// or the literals' default (f32 if any is a float, else i64 or bool); the shapes broadcast.
    pub(super) fn common_type(&mut self, ops: &[(Operand, Span)], what: &str, span: Span) -> Checked<Type> {
        let mut dtype: Option<(DType, Type)> = None;
        let mut shape: Vec<u64> = Vec::new();
        let mut first_shape: Option<Type> = None;
        for (o, s) in ops {
            let Operand::Val(v) = o else { continue };
            let ty = self.b.ty(*v).clone();
            match &dtype {
                Some((d, t0)) if *d != ty.dtype() => {
                    return Err(self.rep.report(
                        Diagnostic::at(*s, format!("dtype mismatch in `{what}`: `{t0}` and `{ty}`"), format!("this is `{}`", ty.dtype()))
                            .with_help("convert one side with `cast<T>(...)`"),
                    ))
                }
                Some(_) => {}
                None => dtype = Some((ty.dtype(), ty.clone())),
            }
            match broadcast_shape(&shape, ty.shape()) {
                Some(sh) => shape = sh,
                None => {
                    let prev = first_shape.clone().unwrap_or(ty.clone());
                    return Err(self.rep.report(Diagnostic::at(
                        span,
                        format!("shape mismatch in `{what}`: `{prev}` and `{ty}`"),
                        format!("[{}] and [{}] do not broadcast", join(&shape), join(ty.shape())),
                    )));
                }
            }
            if first_shape.is_none() {
                first_shape = Some(ty);
            }
        }
        let dtype = match dtype {
            Some((d, _)) => d,
            None => {
                let kinds: Vec<Operand> = ops.iter().map(|(o, _)| *o).collect();
                if kinds.iter().any(|o| matches!(o, Operand::Float(_))) {
                    DType::F32
                } else if kinds.iter().all(|o| matches!(o, Operand::Bool(_))) {
                    DType::Bool
                } else {
                    DType::I64
                }
            }
        };
        Ok(if shape.is_empty() { Type::Scalar(dtype) } else { Type::Tile { dtype, shape } })
    }

    /// A compile-time integer argument.
    pub(super) fn const_int(&self, e: &ast::Expr) -> Checked<i64> {
        consts::int(e, &self.scopes).map_err(|d| self.rep.report(d.with_note("this argument must be known at compile time")))
    }

    /// A dimension argument of a tile of rank `rank`: a compile-time integer, negative counting from
    /// the end (`-1` is the last). `extra` widens the range by one for `unsqueeze`.
    pub(super) fn dim_arg(&self, e: &ast::Expr, rank: usize, extra: bool, ty: &Type) -> Checked<usize> {
        let d = self.const_int(e)?;
        let r = rank as i64 + extra as i64;
        if d < -r || d >= r {
            return Err(self.rep.report(Diagnostic::at(
                e.span,
                format!("dimension {d} is out of range for `{ty}`"),
                format!("expected a dimension in {}..={}", -r, r - 1),
            )));
        }
        Ok(if d < 0 { (d + r) as usize } else { d as usize })
    }
}

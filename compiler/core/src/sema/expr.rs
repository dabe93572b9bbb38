//! Expressions: typing, literal conversion, broadcasting.
//!
//! Literals stay untyped until they meet a typed operand (`x * 2` with `x: f16[...]` makes `2` an f16);
//! a literal standing alone becomes i64, f32 or bool. Elementwise operands must agree in dtype (no
//! silent conversions: `cast<T>` says where precision changes); shapes broadcast by numpy's rules and a
//! scalar meets a tile by splatting.

use super::consts::unknown_name;
use super::kernel::Checker;
use super::scope::Binding;
use super::Checked;
use crate::diag::Diagnostic;
use crate::syntax::ast::{self, BinOp, ExprKind, UnOp};
use crate::syntax::Span;
use crate::tir::{BinaryOp, CmpOp, ConstValue, Literal, Op, Type, UnaryOp, ValueId};
use tilec_dtype::DType;

/// The result of an expression: a typed value or a literal not yet given a type.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Operand {
    Val(ValueId),
    Int(i64),
    Float(f64),
    Bool(bool),
}

impl Checker<'_> {
    /// Checks an expression that must produce a value.
    pub fn expr(&mut self, e: &ast::Expr) -> Checked<Operand> {
        match &e.kind {
            ExprKind::Int(v) => Ok(Operand::Int(*v)),
            ExprKind::Float(v) => Ok(Operand::Float(*v)),
            ExprKind::Bool(v) => Ok(Operand::Bool(*v)),
            ExprKind::Name(id) => self.name(id),
            ExprKind::Unary(op, a) => {
                let a = self.expr(a)?;
                self.unary(*op, a, e.span)
            }
            ExprKind::Binary(op, a, b) => {
                let (a, b) = (self.expr(a), self.expr(b));
                self.binary(*op, a?, b?, e.span)
            }
            ExprKind::Field(base, field) => self.field(base, field, e.span),
            ExprKind::Call { .. } => match self.call(e)? {
                Some(v) => Ok(v),
                None => Err(self.rep.report(Diagnostic::at(e.span, "this call produces no value", "used as a value here"))),
            },
            ExprKind::Index(base, _) => {
                let what = match &base.kind {
                    ExprKind::Name(id) if matches!(self.scopes.lookup(&id.name), Some(Binding::Tensor(_) | Binding::View(..))) => {
                        format!("`{}[...]` is a view of a global tensor, not a value", id.name)
                    }
                    _ => "only global tensors can be indexed".to_string(),
                };
                Err(self.rep.report(
                    Diagnostic::at(e.span, what, "not a register value").with_help("read it into registers with `load(view, [shape])`"),
                ))
            }
            ExprKind::Str(_) => Err(self.rep.report(Diagnostic::at(e.span, "a string is not a value", "strings are only for `print`"))),
            ExprKind::List(_) => Err(self.rep.report(Diagnostic::at(e.span, "a list is not a value", "lists only give shapes, as in `load(a[i..], [128])`"))),
        }
    }

    /// Checks an expression and gives a literal its default type.
    pub fn value(&mut self, e: &ast::Expr) -> Checked<ValueId> {
        let op = self.expr(e)?;
        Ok(self.materialize(op, e.span))
    }

    /// A literal standing alone: `i64`, `f32` or `bool`.
    pub fn materialize(&mut self, op: Operand, span: Span) -> ValueId {
        match op {
            Operand::Val(v) => v,
            Operand::Int(v) => self.b.push(Op::Const(Literal::Int(v)), Type::Scalar(DType::I64), span),
            Operand::Float(v) => self.b.push(Op::Const(Literal::Float(crate::numeric::round_float(DType::F32, v))), Type::Scalar(DType::F32), span),
            Operand::Bool(v) => self.b.push(Op::Const(Literal::Bool(v)), Type::Scalar(DType::Bool), span),
        }
    }

    fn name(&mut self, id: &ast::Ident) -> Checked<Operand> {
        match self.scopes.lookup(&id.name).cloned() {
            Some(Binding::Local(v)) => Ok(Operand::Val(v)),
            Some(Binding::Const(ConstValue::Int(v))) => Ok(Operand::Int(v)),
            Some(Binding::Const(ConstValue::Bool(v))) => Ok(Operand::Bool(v)),
            Some(Binding::Const(ConstValue::Layout(l))) => {
                Err(self.rep.report(Diagnostic::at(id.span, format!("`{}` is the layout {:?}, not a value", id.name, l.text), "a layout").with_help(format!("annotate a tile with it: `layout(x, {})`", id.name))))
            }
            Some(Binding::Const(ConstValue::DType(d))) => {
                Err(self.rep.report(Diagnostic::at(id.span, format!("`{}` is the dtype `{d}`, not a value", id.name), "a type")))
            }
            Some(Binding::Poisoned) => Err(super::ErrorReported),
            Some(Binding::Dim(i)) => Ok(Operand::Val(self.b.push(Op::DimSize(i), Type::Scalar(DType::I64), id.span))),
            Some(Binding::Shared(_)) => Err(self.rep.report(
                Diagnostic::at(id.span, format!("`{}` is in shared memory; arithmetic works on register tiles", id.name), "shared memory")
                    .with_help(format!("read it into registers first: `load({})`", id.name)),
            )),
            Some(Binding::Tensor(_) | Binding::View(..)) => Err(self.rep.report(
                Diagnostic::at(id.span, format!("`{}` is a global tensor; arithmetic works on register tiles", id.name), "global memory")
                    .with_help(format!("load it first: `load({}[i..], [SIZE])`", id.name)),
            )),
            None if id.name == "block" => Err(self.rep.report(Diagnostic::at(id.span, "`block` is not a value", "use `block.x`, `block.y` or `block.z`"))),
            None => Err(self.rep.report(unknown_name(id.span, &id.name))),
        }
    }

    fn field(&mut self, base: &ast::Expr, field: &ast::Ident, span: Span) -> Checked<Operand> {
        let is_block = matches!(&base.kind, ExprKind::Name(id) if id.name == "block" && self.scopes.lookup("block").is_none());
        if !is_block {
            return Err(self.rep.report(Diagnostic::at(span, "unknown field access", "only `block.x`, `block.y`, `block.z` have fields")));
        }
        let axis = match field.name.as_str() {
            "x" => 0,
            "y" => 1,
            "z" => 2,
            other => return Err(self.rep.report(Diagnostic::at(field.span, format!("`block` has no field `{other}`"), "expected `x`, `y` or `z`"))),
        };
        Ok(Operand::Val(self.b.push(Op::BlockIndex(axis), Type::Scalar(DType::I64), span)))
    }

    /// How an operand is described in messages: its type, or `an integer literal`.
    pub fn describe(&self, op: Operand) -> String {
        match op {
            Operand::Val(v) => format!("`{}`", self.b.ty(v)),
            Operand::Int(_) => "an integer literal".into(),
            Operand::Float(_) => "a float literal".into(),
            Operand::Bool(_) => "a boolean literal".into(),
        }
    }

    /// Converts an operand to exactly `target`: a literal becomes a constant of its dtype, a scalar is
    /// splatted, a tile is broadcast. Dtypes must agree.
    pub fn coerce(&mut self, op: Operand, target: &Type, span: Span) -> Checked<ValueId> {
        let scalar = match op {
            Operand::Val(v) => {
                let ty = self.b.ty(v).clone();
                if ty == *target {
                    return Ok(v);
                }
                if ty.dtype() != target.dtype() {
                    return Err(self.rep.report(
                        Diagnostic::at(span, format!("dtype mismatch: expected `{}`, found `{}`", target, ty), format!("this is `{}`", ty.dtype()))
                            .with_help(format!("convert explicitly with `cast<{}>(...)`", target.dtype())),
                    ));
                }
                if ty.is_tile() {
                    if !broadcastable(ty.shape(), target.shape()) {
                        return Err(self.rep.report(Diagnostic::at(
                            span,
                            format!("shape mismatch: `{ty}` cannot be broadcast to `{target}`"),
                            format!("shape [{}]", join(ty.shape())),
                        )));
                    }
                    return Ok(self.b.push(Op::Broadcast(v), target.clone(), span));
                }
                v
            }
            lit => self.literal(lit, target.dtype(), span)?,
        };
        if target.is_tile() {
            Ok(self.b.push(Op::Splat(scalar), target.clone(), span))
        } else {
            Ok(scalar)
        }
    }

    /// A scalar constant of `dtype` from a literal, if the literal fits.
    fn literal(&mut self, lit: Operand, dtype: DType, span: Span) -> Checked<ValueId> {
        let value = match (lit, dtype) {
            (Operand::Bool(b), DType::Bool) => Literal::Bool(b),
            (Operand::Int(v), d) if d.is_int() => {
                if !crate::numeric::int_fits(d, v) {
                    return Err(self.rep.report(Diagnostic::at(span, format!("the literal {v} does not fit in `{d}`"), format!("out of range for {d}"))));
                }
                Literal::Int(v)
            }
            (Operand::Int(v), d) if d.is_float() => Literal::Float(crate::numeric::round_float(d, v as f64)),
            (Operand::Float(v), d) if d.is_float() => Literal::Float(crate::numeric::round_float(d, v)),
            (lit, d) => {
                return Err(self.rep.report(Diagnostic::at(span, format!("{} cannot be used as `{d}`", self.describe(lit)), format!("expected a `{d}` value"))))
            }
        };
        Ok(self.b.push(Op::Const(value), Type::Scalar(dtype), span))
    }

    fn unary(&mut self, op: UnOp, a: Operand, span: Span) -> Checked<Operand> {
        match (op, a) {
            (UnOp::Neg, Operand::Int(v)) => Ok(Operand::Int(v.wrapping_neg())),
            (UnOp::Neg, Operand::Float(v)) => Ok(Operand::Float(-v)),
            (UnOp::Not, Operand::Bool(v)) => Ok(Operand::Bool(!v)),
            (_, Operand::Val(v)) => {
                let ty = self.b.ty(v).clone();
                let ok = match op {
                    UnOp::Neg => ty.dtype().is_float() || ty.dtype().is_signed_int(),
                    UnOp::Not => ty.dtype().is_bool(),
                };
                if !ok {
                    let (sym, want) = if op == UnOp::Neg { ("-", "a signed number") } else { ("!", "a bool") };
                    return Err(self.rep.report(Diagnostic::at(span, format!("`{sym}` needs {want}, found `{ty}`"), "wrong operand type")));
                }
                let uop = if op == UnOp::Neg { UnaryOp::Neg } else { UnaryOp::Not };
                Ok(Operand::Val(self.b.push(Op::Unary(uop, v), ty, span)))
            }
            (_, lit) => Err(self.rep.report(Diagnostic::at(span, format!("operator does not apply to {}", self.describe(lit)), "wrong operand type"))),
        }
    }

    pub fn binary(&mut self, op: BinOp, a: Operand, b: Operand, span: Span) -> Checked<Operand> {
        if let Some(folded) = fold(op, a, b) {
            return folded.map_err(|msg| self.rep.report(Diagnostic::at(span, msg, "in this expression")));
        }
        let (a, b) = self.unify(a, b, op.symbol(), span)?;
        let ty = self.b.ty(a).clone();
        let dtype = ty.dtype();
        if op.is_comparison() {
            let cmp = match op {
                BinOp::Eq => CmpOp::Eq,
                BinOp::Ne => CmpOp::Ne,
                BinOp::Lt => CmpOp::Lt,
                BinOp::Le => CmpOp::Le,
                BinOp::Gt => CmpOp::Gt,
                _ => CmpOp::Ge,
            };
            if dtype.is_bool() && !matches!(cmp, CmpOp::Eq | CmpOp::Ne) {
                return Err(self.rep.report(Diagnostic::at(span, format!("`{}` does not order booleans", op.symbol()), "bool operands")));
            }
            return Ok(Operand::Val(self.b.push(Op::Compare(cmp, a, b), ty.with_dtype(DType::Bool), span)));
        }
        let bop = match op {
            BinOp::Add => BinaryOp::Add,
            BinOp::Sub => BinaryOp::Sub,
            BinOp::Mul => BinaryOp::Mul,
            BinOp::Div => BinaryOp::Div,
            BinOp::Rem => BinaryOp::Rem,
            BinOp::And => BinaryOp::And,
            _ => BinaryOp::Or,
        };
        let fits = if op.is_logical() { dtype.is_bool() } else { dtype.is_int() || dtype.is_float() };
        if !fits {
            let want = if op.is_logical() { "bool operands" } else { "numbers" };
            return Err(self.rep.report(Diagnostic::at(span, format!("`{}` takes {want}, found `{ty}`", op.symbol()), "wrong operand types")));
        }
        Ok(Operand::Val(self.b.push(Op::Binary(bop, a, b), ty, span)))
    }

    /// Brings two operands to one type (see the module doc).
    pub fn unify(&mut self, a: Operand, b: Operand, what: &str, span: Span) -> Checked<(ValueId, ValueId)> {
        let target = match (a, b) {
            (Operand::Val(x), Operand::Val(y)) => {
                let (tx, ty) = (self.b.ty(x).clone(), self.b.ty(y).clone());
                if tx.dtype() != ty.dtype() {
                    return Err(self.rep.report(
                        Diagnostic::at(span, format!("dtype mismatch in `{what}`: `{tx}` and `{ty}`"), format!("`{}` and `{}`", tx.dtype(), ty.dtype()))
                            .with_help("convert one side with `cast<T>(...)`"),
                    ));
                }
                match broadcast_shape(tx.shape(), ty.shape()) {
                    Some(shape) if shape.is_empty() => tx,
                    Some(shape) => Type::Tile { dtype: tx.dtype(), shape },
                    None => {
                        return Err(self.rep.report(Diagnostic::at(
                            span,
                            format!("shape mismatch in `{what}`: `{tx}` and `{ty}`"),
                            format!("[{}] and [{}] do not broadcast", join(tx.shape()), join(ty.shape())),
                        )))
                    }
                }
            }
            (Operand::Val(x), _) | (_, Operand::Val(x)) => self.b.ty(x).clone(),
            _ => unreachable!("two literals are folded before unify"),
        };
        let (x, y) = (self.coerce(a, &target, span)?, self.coerce(b, &target, span)?);
        Ok((x, y))
    }
}

/// Folds an operation on two literals; `None` if either operand is a value.
fn fold(op: BinOp, a: Operand, b: Operand) -> Option<Result<Operand, String>> {
    use Operand::*;
    let r = match (a, b) {
        (Int(x), Int(y)) => match op {
            BinOp::Add => x.checked_add(y).map(Int),
            BinOp::Sub => x.checked_sub(y).map(Int),
            BinOp::Mul => x.checked_mul(y).map(Int),
            BinOp::Div => x.checked_div(y).map(Int),
            BinOp::Rem => x.checked_rem(y).map(Int),
            BinOp::Eq => Some(Bool(x == y)),
            BinOp::Ne => Some(Bool(x != y)),
            BinOp::Lt => Some(Bool(x < y)),
            BinOp::Le => Some(Bool(x <= y)),
            BinOp::Gt => Some(Bool(x > y)),
            BinOp::Ge => Some(Bool(x >= y)),
            BinOp::And | BinOp::Or => return Some(Err("`&&` and `||` take booleans".into())),
        }
        .ok_or_else(|| "integer overflow or division by zero in a constant expression".to_string()),
        (Int(_) | Float(_), Int(_) | Float(_)) => {
            let f = |o: Operand| if let Int(v) = o { v as f64 } else if let Float(v) = o { v } else { 0.0 };
            let (x, y) = (f(a), f(b));
            match op {
                BinOp::Add => Ok(Float(x + y)),
                BinOp::Sub => Ok(Float(x - y)),
                BinOp::Mul => Ok(Float(x * y)),
                BinOp::Div => Ok(Float(x / y)),
                BinOp::Rem => Ok(Float(x % y)),
                BinOp::Eq => Ok(Bool(x == y)),
                BinOp::Ne => Ok(Bool(x != y)),
                BinOp::Lt => Ok(Bool(x < y)),
                BinOp::Le => Ok(Bool(x <= y)),
                BinOp::Gt => Ok(Bool(x > y)),
                BinOp::Ge => Ok(Bool(x >= y)),
                BinOp::And | BinOp::Or => Err("`&&` and `||` take booleans".into()),
            }
        }
        (Bool(x), Bool(y)) => match op {
            BinOp::And => Ok(Bool(x && y)),
            BinOp::Or => Ok(Bool(x || y)),
            BinOp::Eq => Ok(Bool(x == y)),
            BinOp::Ne => Ok(Bool(x != y)),
            _ => Err(format!("`{}` does not apply to booleans", op.symbol())),
        },
        (Val(_), _) | (_, Val(_)) => return None,
        _ => Err(format!("`{}` cannot combine a boolean with a number", op.symbol())),
    };
    Some(r)
}

/// numpy's broadcasting: align trailing dimensions; each pair is equal or has a 1.
pub fn broadcast_shape(a: &[u64], b: &[u64]) -> Option<Vec<u64>> {
    let n = a.len().max(b.len());
    let mut out = vec![0; n];
    for i in 0..n {
        let x = if i < n - a.len() { 1 } else { a[i - (n - a.len())] };
        let y = if i < n - b.len() { 1 } else { b[i - (n - b.len())] };
        out[i] = match (x, y) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => return None,
        };
    }
    Some(out)
}

fn broadcastable(from: &[u64], to: &[u64]) -> bool {
    from.len() <= to.len() && broadcast_shape(from, to).as_deref() == Some(to)
}

pub fn join(shape: &[u64]) -> String {
    shape.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ")
}

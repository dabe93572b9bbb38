//! Shape builtins on register tiles: `transpose permute reshape squeeze unsqueeze broadcast repeat`,
//! `arange`, and the bit reinterpretation `view<T>`.

use super::super::expr::{join, Operand};
use super::super::kernel::Checker;
use super::super::Checked;
use super::{CallSite, MAX_TILE_ELEMENTS};
use crate::diag::Diagnostic;
use crate::syntax::ast::{self, ExprKind};
use crate::tir::{Op, Type};
use tilec_dtype::DType;

impl Checker<'_> {
    pub(super) fn builtin_shape(&mut self, c: &CallSite<'_>) -> Checked<Option<Operand>> {
        c.no_named(self)?;
        let name = c.callee.name.as_str();
        self.arity(c, if name == "transpose" { 1 } else { 2 })?;
        if name == "broadcast" {
            let x = self.value(&c.args[0])?;
            let shape = self.shape(&c.args[1])?;
            let target = Type::Tile { dtype: self.b.ty(x).dtype(), shape };
            return Ok(Some(Operand::Val(self.coerce(Operand::Val(x), &target, c.e.span)?)));
        }
        let (x, ty) = self.tile_arg(c, 0)?;
        let shape = ty.shape().to_vec();
        let dtype = ty.dtype();
        let rank = shape.len();
        let (op, out): (Op, Vec<u64>) = match name {
            "transpose" => {
                if rank != 2 {
                    return Err(self.rep.report(
                        Diagnostic::at(c.args[0].span, format!("`transpose` takes a 2-D tile, found `{ty}`"), format!("rank {rank}"))
                            .with_help("use `permute(x, [...])` for other ranks"),
                    ));
                }
                (Op::Permute { value: x, perm: vec![1, 0] }, vec![shape[1], shape[0]])
            }
            "permute" => {
                let perm = self.int_list(&c.args[1])?;
                let mut seen = vec![false; rank];
                let valid = perm.len() == rank && perm.iter().all(|&p| p >= 0 && (p as usize) < rank && !std::mem::replace(&mut seen[p as usize], true));
                if !valid {
                    return Err(self.rep.report(Diagnostic::at(
                        c.args[1].span,
                        format!("`[{}]` is not a permutation of the {rank} dimensions of `{ty}`", perm.iter().map(|p| p.to_string()).collect::<Vec<_>>().join(", ")),
                        format!("expected each of 0..{rank} once"),
                    )));
                }
                let perm: Vec<usize> = perm.iter().map(|&p| p as usize).collect();
                let out = perm.iter().map(|&p| shape[p]).collect();
                (Op::Permute { value: x, perm }, out)
            }
            "reshape" => {
                let to = self.shape(&c.args[1])?;
                let (a, b): (u64, u64) = (shape.iter().product(), to.iter().product());
                if a != b {
                    return Err(self.rep.report(Diagnostic::at(
                        c.e.span,
                        format!("cannot reshape `{ty}` to [{}]: {a} elements vs {b}", join(&to)),
                        "element counts differ",
                    )));
                }
                (Op::Reshape(x), to)
            }
            "squeeze" => {
                let d = self.dim_arg(&c.args[1], rank, false, &ty)?;
                if shape[d] != 1 {
                    return Err(self.rep.report(Diagnostic::at(
                        c.args[1].span,
                        format!("`squeeze` removes a dimension of size 1, but dimension {d} of `{ty}` has size {}", shape[d]),
                        "not size 1",
                    )));
                }
                let mut s = shape.clone();
                s.remove(d);
                (Op::Reshape(x), s)
            }
            "unsqueeze" => {
                let d = self.dim_arg(&c.args[1], rank, true, &ty)?;
                let mut s = shape.clone();
                s.insert(d, 1);
                (Op::Reshape(x), s)
            }
            _ => {
                let reps = self.shape(&c.args[1])?;
                if reps.len() != rank {
                    return Err(self.rep.report(Diagnostic::at(
                        c.args[1].span,
                        format!("`repeat` needs one count per dimension: `{ty}` has {rank}, [{}] has {}", join(&reps), reps.len()),
                        "rank differs",
                    )));
                }
                let out: Vec<u64> = shape.iter().zip(&reps).map(|(a, b)| a.saturating_mul(*b)).collect();
                (Op::Repeat { value: x, reps }, out)
            }
        };
        let numel = out.iter().try_fold(1u64, |a, &d| a.checked_mul(d)).unwrap_or(u64::MAX);
        if numel > MAX_TILE_ELEMENTS {
            return Err(self.rep.report(Diagnostic::at(c.e.span, format!("a tile of {numel} elements is too large"), format!("at most {MAX_TILE_ELEMENTS} elements"))));
        }
        let out_ty = if out.is_empty() { Type::Scalar(dtype) } else { Type::Tile { dtype, shape: out } };
        Ok(Some(Operand::Val(self.b.push(op, out_ty, c.e.span))))
    }

    pub(super) fn builtin_arange(&mut self, c: &CallSite<'_>) -> Checked<Option<Operand>> {
        c.no_named(self)?;
        let (start, end) = match c.args.len() {
            1 => (0, self.const_int(&c.args[0])?),
            2 => (self.const_int(&c.args[0])?, self.const_int(&c.args[1])?),
            n => return Err(self.rep.report(Diagnostic::at(c.e.span, format!("`arange` takes 1 or 2 arguments (END or START, END), {n} given"), "wrong number of arguments"))),
        };
        let n = end.checked_sub(start).unwrap_or(-1);
        if n < 1 || n as u64 > MAX_TILE_ELEMENTS {
            return Err(self.rep.report(Diagnostic::at(
                c.e.span,
                format!("`arange({start}, {end})` would have {n} elements"),
                format!("needs START < END and at most {MAX_TILE_ELEMENTS} elements"),
            )));
        }
        let ty = Type::Tile { dtype: DType::I64, shape: vec![n as u64] };
        Ok(Some(Operand::Val(self.b.push(Op::Arange { start }, ty, c.e.span))))
    }

    pub(super) fn builtin_view(&mut self, c: &CallSite<'_>) -> Checked<Option<Operand>> {
        c.no_named(self)?;
        self.arity(c, 1)?;
        let to = self.generic_dtype(c)?;
        let x = self.value(&c.args[0])?;
        let ty = self.b.ty(x).clone();
        let (fb, tb) = (ty.dtype().bits() as u64, to.bits() as u64);
        let out = match &ty {
            Type::Scalar(_) if fb == tb => Type::Scalar(to),
            Type::Scalar(d) => {
                return Err(self.rep.report(Diagnostic::at(
                    c.e.span,
                    format!("a view whose bit counts differ: `{d}` has {fb} bits, `{to}` has {tb}"),
                    "a scalar view keeps its bit count",
                )))
            }
            Type::Tile { shape, .. } => {
                let last = *shape.last().expect("tiles have a dimension");
                let bits = last * fb;
                if bits % tb != 0 {
                    return Err(self.rep.report(
                        Diagnostic::at(
                            c.e.span,
                            format!("a view whose bit counts differ: a row of `{ty}` has {last} × {fb} = {bits} bits, not a multiple of the {tb} bits of `{to}`"),
                            format!("`{ty}` as `{to}`"),
                        )
                        .with_note("`view<T>` reinterprets each row (the last dimension); the other dimensions stay"),
                    ));
                }
                let mut s = shape.clone();
                *s.last_mut().expect("non-empty") = bits / tb;
                Type::Tile { dtype: to, shape: s }
            }
        };
        if ty.dtype() == to {
            return Ok(Some(Operand::Val(x)));
        }
        Ok(Some(Operand::Val(self.b.push(Op::Bitcast(x), out, c.e.span))))
    }

    /// A list of compile-time integers `[a, b, ...]` (any sign).
    fn int_list(&mut self, e: &ast::Expr) -> Checked<Vec<i64>> {
        let ExprKind::List(items) = &e.kind else {
            return Err(self.rep.report(Diagnostic::at(e.span, "expected a list of compile-time integers, as in `[1, 0]`", "not a list")));
        };
        items.iter().map(|i| self.const_int(i)).collect()
    }
}

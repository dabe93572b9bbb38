//! Device functions, inlined at each call.
//!
//! The arguments are checked in the caller's scope; the body is checked in a scope of its own (the
//! caller's names are not visible) with the parameters bound to the arguments: values as values, a
//! global tensor or a view of one (`a[m0.., 0..]`) as a view. Compile-time parameters come from explicit
//! generic arguments (`f<128>(x)`), from the parameters' type annotations (`x: T[M, N]` binds `T`, `M`
//! and `N` to the argument's dtype and extents), or from their defaults. A function's value is that of
//! its last statement `return e;`. Recursion is reported, with the chain of calls.

use super::builtins::CallSite;
use super::consts;
use super::expr::Operand;
use super::kernel::Checker;
use super::scope::Binding;
use super::Checked;
use crate::diag::Diagnostic;
use crate::syntax::ast::{self, ExprKind, StmtKind};
use crate::tir::{ConstValue, ParamKind, Type};
use tilec_dtype::DType;

/// A checked argument.
enum Arg {
    Value(Operand, crate::syntax::Span),
    View(usize, Vec<crate::tir::ValueId>),
    Shared(crate::tir::SharedView),
}

impl Checker<'_> {
    pub fn inline(&mut self, module: usize, f: &ast::Function, c: &CallSite<'_>) -> Checked<Option<Operand>> {
        let key = (module, f.name.name.clone());
        if let Some(pos) = self.call_stack.iter().position(|k| *k == key) {
            let chain: Vec<&str> = self.call_stack[pos..].iter().map(|(_, n)| n.as_str()).chain([f.name.name.as_str()]).collect();
            return Err(self.rep.report(
                Diagnostic::at(c.e.span, format!("recursive call of `{}`", f.name.name), "calls a function that is already running")
                    .with_secondary(f.name.span, "defined here")
                    .with_note(format!("call chain: {}", chain.join(" -> ")))
                    .with_note("device functions are inlined, so they cannot recurse"),
            ));
        }
        c.no_named(self)?;
        if c.args.len() != f.params.len() {
            return Err(self.rep.report(
                Diagnostic::at(c.e.span, format!("`{}` takes {} argument(s), {} given", f.name.name, f.params.len(), c.args.len()), "wrong number of arguments")
                    .with_secondary(f.name.span, "defined here"),
            ));
        }
        if c.generics.len() > f.consts.len() {
            return Err(self.rep.report(Diagnostic::at(c.e.span, format!("`{}` takes {} compile-time argument(s), {} given", f.name.name, f.consts.len(), c.generics.len()), "too many `<...>` arguments")));
        }
        // Arguments, in the caller's scope.
        let mut args = Vec::new();
        for (p, a) in f.params.iter().zip(c.args) {
            let wants_view = p.ty.as_ref().is_some_and(|t| t.global) || self.is_tensor_expr(a);
            args.push(if self.shared_view_of(a).is_some() {
                Arg::Shared(self.shared_view(a)?)
            } else if wants_view {
                let (t, offs) = self.view(a)?;
                Arg::View(t, offs)
            } else {
                Arg::Value(self.expr(a)?, a.span)
            });
        }
        let mut generics = Vec::new();
        for g in c.generics {
            generics.push(consts::eval(g, &self.scopes).map_err(|d| self.rep.report(d))?);
        }

        // The body, in its own scope.
        self.scopes.push_boundary();
        self.call_stack.push(key);
        let saved_loops = std::mem::take(&mut self.loops);
        let saved_module = std::mem::replace(&mut self.module, module);
        let result = self.inline_body(f, args, generics, c);
        self.module = saved_module;
        self.loops = saved_loops;
        self.call_stack.pop();
        self.scopes.pop();
        result
    }

    fn is_tensor_expr(&self, e: &ast::Expr) -> bool {
        let base = match &e.kind {
            ExprKind::Index(base, _) => base.as_ref(),
            _ => e,
        };
        matches!(&base.kind, ExprKind::Name(id) if matches!(self.scopes.lookup(&id.name), Some(Binding::Tensor(_) | Binding::View(..))))
    }

    fn inline_body(&mut self, f: &ast::Function, args: Vec<Arg>, generics: Vec<ConstValue>, c: &CallSite<'_>) -> Checked<Option<Operand>> {
        for (cp, g) in f.consts.iter().zip(generics) {
            self.scopes.bind(&cp.name.name, Binding::Const(g));
        }
        for (p, a) in f.params.iter().zip(args) {
            match a {
                Arg::View(t, offs) => {
                    if let Some(ty) = &p.ty {
                        self.check_tensor_annotation(ty, t, c)?;
                    }
                    self.scopes.bind(&p.name.name, Binding::View(t, offs));
                }
                Arg::Shared(view) => self.scopes.bind(&p.name.name, Binding::Shared(view)),
                Arg::Value(op, span) => {
                    let v = match &p.ty {
                        Some(ty) => self.bind_annotation(ty, op, span)?,
                        None => self.materialize(op, span),
                    };
                    self.scopes.bind(&p.name.name, Binding::Local(v));
                }
            }
        }
        for cp in &f.consts {
            if self.scopes.lookup(&cp.name.name).is_some() {
                continue;
            }
            let value = match &cp.default {
                Some(d) => consts::eval(d, &self.scopes).map_err(|d| self.rep.report(d))?,
                None => {
                    return Err(self.rep.report(
                        Diagnostic::at(c.e.span, format!("cannot tell the compile-time parameter `{}` of `{}`", cp.name.name, f.name.name), "not inferred")
                            .with_secondary(cp.span, "declared here")
                            .with_help(format!("give it explicitly: `{}<...>(...)`, or use it in a parameter's type", f.name.name)),
                    ))
                }
            };
            self.scopes.bind(&cp.name.name, Binding::Const(value));
        }
        let (last, init) = match f.body.stmts.split_last() {
            Some((last @ ast::Stmt { kind: StmtKind::Return(_), .. }, init)) => (Some(last), init),
            _ => (None, f.body.stmts.as_slice()),
        };
        let mut failed = false;
        for st in init {
            failed |= self.stmt(st).is_err();
        }
        let value = match last.map(|s| &s.kind) {
            Some(StmtKind::Return(Some(e))) => Some(self.expr(e)?),
            _ => None,
        };
        if failed {
            return Err(super::ErrorReported);
        }
        Ok(value)
    }

    /// Checks (and for unknown names, binds) `x: T[M, N]` against a value; returns the value, with a
    /// literal given the annotated scalar type.
    fn bind_annotation(&mut self, ty: &ast::TypeAnn, op: Operand, span: crate::syntax::Span) -> Checked<crate::tir::ValueId> {
        if ty.global {
            return Err(self.rep.report(Diagnostic::at(span, "this parameter takes a global tensor or a view of one", "a register value given")));
        }
        let arg_ty = match op {
            Operand::Val(v) => Some(self.b.ty(v).clone()),
            _ => None,
        };
        let dtype = match (self.scopes.lookup(&ty.dtype.name).cloned(), &arg_ty) {
            (Some(Binding::Const(ConstValue::DType(d))), _) => d,
            (None, _) if ty.dtype.name.parse::<DType>().is_ok() => ty.dtype.name.parse::<DType>().unwrap(),
            (None, Some(t)) => {
                self.scopes.bind(&ty.dtype.name, Binding::Const(ConstValue::DType(t.dtype())));
                t.dtype()
            }
            (None, None) => return Err(self.rep.report(Diagnostic::at(span, format!("cannot tell the dtype `{}` from a literal", ty.dtype.name), "give the argument a type"))),
            _ => return Err(self.rep.report(Diagnostic::at(ty.dtype.span, format!("`{}` is not a dtype", ty.dtype.name), "expected an element type"))),
        };
        let Some(dims) = &ty.dims else {
            return self.coerce(op, &Type::Scalar(dtype), span);
        };
        let Some(arg_ty) = arg_ty.filter(|t| t.is_tile()) else {
            return Err(self.rep.report(Diagnostic::at(span, format!("this parameter takes a `{}[...]` tile", ty.dtype.name), "not a tile")));
        };
        if arg_ty.shape().len() != dims.len() {
            return Err(self.rep.report(Diagnostic::at(span, format!("the parameter has {} dimension(s) but the argument is `{arg_ty}`", dims.len()), "rank differs")));
        }
        for (d, &extent) in dims.iter().zip(arg_ty.shape()) {
            if let ExprKind::Name(id) = &d.kind {
                if self.scopes.lookup(&id.name).is_none() {
                    self.scopes.bind(&id.name, Binding::Const(ConstValue::Int(extent as i64)));
                    continue;
                }
            }
            let want = consts::int(d, &self.scopes).map_err(|d| self.rep.report(d))?;
            if want != extent as i64 {
                return Err(self.rep.report(Diagnostic::at(span, format!("shape mismatch: the parameter wants extent {want} where the argument `{arg_ty}` has {extent}"), "wrong shape")));
            }
        }
        self.coerce(op, &Type::Tile { dtype, shape: arg_ty.shape().to_vec() }, span)
    }

    fn check_tensor_annotation(&mut self, ty: &ast::TypeAnn, tensor: usize, c: &CallSite<'_>) -> Checked<()> {
        let ParamKind::Tensor { dtype, shape, .. } = &self.params[tensor].kind else { return Ok(()) };
        let (dtype, rank) = (*dtype, shape.len());
        match self.scopes.lookup(&ty.dtype.name).cloned() {
            Some(Binding::Const(ConstValue::DType(d))) if d != dtype => {
                return Err(self.rep.report(Diagnostic::at(c.e.span, format!("the parameter wants a `{d}` tensor, `{}` holds {dtype}", self.params[tensor].name), "dtype mismatch")))
            }
            Some(_) => {}
            None => match ty.dtype.name.parse::<DType>() {
                Ok(d) if d != dtype => {
                    return Err(self.rep.report(Diagnostic::at(c.e.span, format!("the parameter wants a `{d}` tensor, `{}` holds {dtype}", self.params[tensor].name), "dtype mismatch")))
                }
                Ok(_) => {}
                Err(_) => self.scopes.bind(&ty.dtype.name, Binding::Const(ConstValue::DType(dtype))),
            },
        }
        if let Some(dims) = &ty.dims {
            if dims.len() != rank {
                return Err(self.rep.report(Diagnostic::at(c.e.span, format!("the parameter has {} dimension(s), `{}` has {rank}", dims.len(), self.params[tensor].name), "rank differs")));
            }
        }
        Ok(())
    }
}

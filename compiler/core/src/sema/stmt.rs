//! Statements: `let`, assignment, `for` with loop-carried values, expression statements.
//!
//! Variables are SSA values rebound by assignment. A `for` body that assigns a variable declared
//! outside it carries that variable: the loop takes its value on entry as an argument, the body yields
//! its value at the end of each iteration, and after the loop the name is bound to the final value.

use super::kernel::Checker;
use super::scope::{Binding, Scopes};
use super::{consts, Checked};
use crate::diag::Diagnostic;
use crate::syntax::ast::{self, ExprKind, StmtKind};
use crate::tir::{Inst, Op, Type};
use std::collections::HashSet;
use tilec_dtype::DType;

impl Checker<'_> {
    /// Checks a block's statements, reporting each failing statement and going on with the next.
    pub fn block(&mut self, b: &ast::Block) {
        for s in &b.stmts {
            let _ = self.stmt(s);
        }
    }

    pub(super) fn stmt(&mut self, s: &ast::Stmt) -> Checked<()> {
        match &s.kind {
            StmtKind::Let { name, value } if Self::is_shared_alloc(value) => {
                let view = self.shared_alloc(value)?;
                self.scopes.bind(&name.name, Binding::Shared(view));
            }
            StmtKind::Let { name, value } if self.shared_view_of(value).is_some() => {
                let view = self.shared_view(value)?;
                self.scopes.bind(&name.name, Binding::Shared(view));
            }
            StmtKind::Let { name, value } => {
                let v = self.value(value);
                match v {
                    Ok(v) => self.scopes.bind(&name.name, Binding::Local(v)),
                    // Poison the name so its uses do not report again.
                    Err(e) => {
                        self.scopes.bind(&name.name, Binding::Poisoned);
                        return Err(e);
                    }
                }
            }
            StmtKind::Assign { name, value } => {
                let old = match self.scopes.lookup(&name.name).cloned() {
                    Some(Binding::Local(v)) => v,
                    Some(Binding::Poisoned) => return Err(super::ErrorReported),
                    Some(_) => {
                        return Err(self.rep.report(Diagnostic::at(name.span, format!("cannot assign to `{}`", name.name), "not a local variable")
                            .with_note("parameters and compile-time values are read-only; declare a variable with `let`")))
                    }
                    None => {
                        return Err(self.rep.report(Diagnostic::at(name.span, format!("cannot assign to undeclared `{}`", name.name), "not declared")
                            .with_help(format!("declare it first: `let {} = ...;`", name.name))))
                    }
                };
                let ty = self.b.ty(old).clone();
                let op = self.expr(value)?;
                let v = self.coerce(op, &ty, value.span)?;
                self.scopes.assign(&name.name, v);
            }
            StmtKind::Expr(e) => match &e.kind {
                ExprKind::Call { .. } => {
                    self.call(e)?;
                }
                _ => {
                    self.expr(e)?;
                }
            },
            StmtKind::For { var, iter, hints, body } => {
                let hints = self.loop_hints(hints)?;
                self.for_loop(var, iter, body, hints, s.span)?
            }
            StmtKind::If { cond, then, els } => self.if_else(cond, then, els.as_ref(), s.span)?,
            StmtKind::While { cond, body } => self.while_loop(cond, body, s.span)?,
            StmtKind::Break | StmtKind::Continue => {
                let Some(lp) = self.loops.last() else {
                    let what = if matches!(s.kind, StmtKind::Break) { "break" } else { "continue" };
                    return Err(self.rep.report(Diagnostic::at(s.span, format!("`{what}` outside of a loop"), "not in a `for` or `while`")));
                };
                let vals: Vec<_> = lp
                    .names
                    .iter()
                    .map(|n| match self.scopes.lookup_in(lp.frame, n) {
                        Some(Binding::Local(v)) => *v,
                        _ => unreachable!("carried names stay bound in the loop frame"),
                    })
                    .collect();
                let op = if matches!(s.kind, StmtKind::Break) { Op::Break(vals) } else { Op::Continue(vals) };
                self.b.push_inst(Inst { op, results: vec![], span: s.span });
            }
            StmtKind::Return(_) => {
                return Err(self.rep.report(
                    Diagnostic::at(s.span, "`return` can only end a function body", "not the last statement of a function")
                        .with_note("kernels return nothing; a device function returns the value of its last statement `return e;`"),
                ))
            }
        }
        Ok(())
    }

    /// The variables declared outside `blocks` and assigned inside them, with their current values.
    fn carried_by(&self, blocks: &[&ast::Block]) -> Vec<(String, crate::tir::ValueId)> {
        let mut carried: Vec<(String, crate::tir::ValueId)> = Vec::new();
        for b in blocks {
            for name in assigned_outside(b) {
                if carried.iter().any(|(n, _)| *n == name) {
                    continue;
                }
                if let Some(Binding::Local(v)) = self.scopes.lookup(&name) {
                    carried.push((name, *v));
                }
            }
        }
        carried
    }

    /// A block in a scope of its own; returns the values of `names` at its end.
    fn branch(&mut self, b: &ast::Block, names: &[(String, crate::tir::ValueId)]) -> Vec<crate::tir::ValueId> {
        self.scopes.push();
        self.block(b);
        self.scopes.pop();
        names
            .iter()
            .map(|(n, old)| match self.scopes.lookup(n) {
                Some(Binding::Local(v)) => *v,
                _ => *old,
            })
            .collect()
    }

    fn if_else(&mut self, cond: &ast::Expr, then: &ast::Block, els: Option<&ast::Block>, span: crate::syntax::Span) -> Checked<()> {
        // A condition known at compile time selects its branch; the other is not checked, so a branch
        // may use what only makes sense for some parameter values (a compile-time `if`).
        if let Ok(crate::tir::ConstValue::Bool(c)) = consts::eval(cond, &self.scopes) {
            if let Some(b) = if c { Some(then) } else { els } {
                self.scopes.push();
                self.block(b);
                self.scopes.pop();
            }
            return Ok(());
        }
        let c = self.value(cond)?;
        let ty = self.b.ty(c).clone();
        if ty != Type::Scalar(DType::Bool) {
            return Err(self.rep.report(
                Diagnostic::at(cond.span, format!("an `if` needs a bool scalar, found `{ty}`"), "not a bool scalar")
                    .with_help("for an elementwise choice between tiles, use `where(cond, a, b)`"),
            ));
        }
        let blocks: Vec<&ast::Block> = std::iter::once(then).chain(els).collect();
        let carried = self.carried_by(&blocks);
        self.b.open_block(vec![], span);
        let then_vals = self.branch(then, &carried);
        let then_block = self.b.close_block(then_vals);
        for (n, old) in &carried {
            self.scopes.assign(n, *old);
        }
        self.b.open_block(vec![], span);
        let else_vals = match els {
            Some(e) => self.branch(e, &carried),
            None => carried.iter().map(|(_, v)| *v).collect(),
        };
        let else_block = self.b.close_block(else_vals);
        let results: Vec<_> = carried.iter().map(|(_, v)| self.b.new_value(self.b.ty(*v).clone(), span)).collect();
        self.b.push_inst(Inst { op: Op::If { cond: c, then: then_block, els: else_block }, results: results.clone(), span });
        for ((n, _), r) in carried.iter().zip(results) {
            self.scopes.assign(n, r);
        }
        Ok(())
    }

    fn while_loop(&mut self, cond: &ast::Expr, body: &ast::Block, span: crate::syntax::Span) -> Checked<()> {
        let carried = self.carried_by(&[body]);
        let inits: Vec<_> = carried.iter().map(|(_, v)| *v).collect();
        let types: Vec<Type> = inits.iter().map(|v| self.b.ty(*v).clone()).collect();

        let cond_args = self.b.open_block(types.clone(), span);
        self.scopes.push();
        for ((n, _), a) in carried.iter().zip(&cond_args) {
            self.scopes.bind(n, Binding::Local(*a));
        }
        let c = self.value(cond);
        self.scopes.pop();
        let c = match c {
            Ok(c) if *self.b.ty(c) == Type::Scalar(DType::Bool) => c,
            Ok(c) => {
                let ty = self.b.ty(c).clone();
                self.b.close_block(vec![]);
                return Err(self.rep.report(Diagnostic::at(cond.span, format!("a `while` needs a bool scalar, found `{ty}`"), "not a bool scalar")));
            }
            Err(e) => {
                self.b.close_block(vec![]);
                return Err(e);
            }
        };
        let cond_block = self.b.close_block(vec![c]);

        let body_args = self.b.open_block(types, span);
        let yields = self.loop_body(&carried, &body_args, body, |_| {});
        let body_block = self.b.close_block(yields);

        let results: Vec<_> = inits.iter().map(|v| self.b.new_value(self.b.ty(*v).clone(), span)).collect();
        self.b.push_inst(Inst { op: Op::While { inits, cond: cond_block, body: body_block }, results: results.clone(), span });
        for ((n, _), r) in carried.iter().zip(results) {
            self.scopes.assign(n, r);
        }
        Ok(())
    }

    /// Checks a loop body: binds the carried names to `args` in a loop frame (where `break` and
    /// `continue` find them), the body's own `let`s in a frame above; returns the values to yield.
    fn loop_body(
        &mut self,
        carried: &[(String, crate::tir::ValueId)],
        args: &[crate::tir::ValueId],
        body: &ast::Block,
        bind_extra: impl FnOnce(&mut Scopes),
    ) -> Vec<crate::tir::ValueId> {
        self.scopes.push();
        for ((name, _), arg) in carried.iter().zip(args) {
            self.scopes.bind(name, Binding::Local(*arg));
        }
        let frame = self.scopes.depth();
        self.loops.push(LoopCtx { names: carried.iter().map(|(n, _)| n.clone()).collect(), frame });
        self.scopes.push();
        bind_extra(&mut self.scopes);
        self.block(body);
        self.scopes.pop();
        self.loops.pop();
        let yields = carried
            .iter()
            .map(|(name, _)| match self.scopes.lookup_in(frame, name) {
                Some(Binding::Local(v)) => *v,
                _ => unreachable!("carried names stay bound in the loop frame"),
            })
            .collect();
        self.scopes.pop();
        yields
    }

    /// `unroll`, `unroll(N)`, `pipeline(STAGES)` after a `for`'s range.
    fn loop_hints(&mut self, hints: &[ast::Attr]) -> Checked<crate::tir::LoopHints> {
        let mut out = crate::tir::LoopHints::default();
        for h in hints {
            let name = h.name.name.as_str();
            let n = match (name, h.args.as_slice()) {
                ("unroll", []) => 0,
                ("unroll" | "pipeline", [e]) => match consts::int(e, &self.scopes) {
                    Ok(n) if (1..=64).contains(&n) => n as u32,
                    Ok(n) => return Err(self.rep.report(Diagnostic::at(e.span, format!("`{name}({n})` is out of range"), "expected 1 to 64"))),
                    Err(d) => return Err(self.rep.report(d)),
                },
                ("unroll" | "pipeline", _) => {
                    return Err(self.rep.report(Diagnostic::at(h.span, format!("`{name}` takes one compile-time integer"), "wrong arguments")))
                }
                _ => {
                    return Err(self.rep.report(
                        Diagnostic::at(h.name.span, format!("unknown loop hint `{name}`"), "not a loop hint").with_note("loop hints: `unroll`, `unroll(N)`, `pipeline(STAGES)`"),
                    ))
                }
            };
            let slot = if name == "unroll" { &mut out.unroll } else { &mut out.pipeline };
            if slot.replace(n).is_some() {
                return Err(self.rep.report(Diagnostic::at(h.span, format!("`{name}` is given twice"), "repeated")));
            }
        }
        Ok(out)
    }

    fn for_loop(&mut self, var: &ast::Ident, iter: &ast::Expr, body: &ast::Block, hints: crate::tir::LoopHints, span: crate::syntax::Span) -> Checked<()> {
        let args = match &iter.kind {
            ExprKind::Call { module: None, callee, args, generics, named, bracket: false } if callee.name == "range" && generics.is_empty() && named.is_empty() => args,
            _ => return Err(self.rep.report(Diagnostic::at(iter.span, "a `for` loop runs over `range(start, end)` or `range(start, end, step)`", "expected `range(...)`"))),
        };
        if !(2..=3).contains(&args.len()) {
            return Err(self.rep.report(Diagnostic::at(iter.span, format!("`range` takes 2 or 3 arguments, {} given", args.len()), "wrong number of arguments")));
        }
        let (start, end) = (self.expr(&args[0]), self.expr(&args[1]));
        let (start, end) = (self.index(start?, args[0].span)?, self.index(end?, args[1].span)?);
        let step = match args.get(2) {
            None => 1,
            Some(e) => match consts::int(e, &self.scopes) {
                Ok(s) if s > 0 => s,
                Ok(s) => return Err(self.rep.report(Diagnostic::at(e.span, format!("the step of `range` must be positive, found {s}"), "not positive"))),
                Err(d) => return Err(self.rep.report(d.with_note("the step of `range` is a compile-time integer"))),
            },
        };

        // Variables declared outside and assigned inside are carried through the loop.
        let carried = self.carried_by(&[body]);
        let inits: Vec<_> = carried.iter().map(|(_, v)| *v).collect();
        let mut arg_types = vec![Type::Scalar(DType::I64)];
        arg_types.extend(inits.iter().map(|v| self.b.ty(*v).clone()));
        let block_args = self.b.open_block(arg_types, span);
        // Two frames: the carried values, then the body's own `let`s, so a `let` that shadows a carried
        // name after assigning it does not replace what the loop yields.
        let iv = block_args[0];
        let yields = self.loop_body(&carried, &block_args[1..], body, |scopes| scopes.bind(&var.name, Binding::Local(iv)));
        let body = self.b.close_block(yields);

        let results: Vec<_> = inits.iter().map(|v| self.b.new_value(self.b.ty(*v).clone(), span)).collect();
        self.b.push_inst(Inst { op: Op::For { start, end, step, inits, body, hints }, results: results.clone(), span });
        for ((name, _), r) in carried.iter().zip(results) {
            self.scopes.assign(name, r);
        }
        Ok(())
    }
}

/// Names assigned in `b` (or nested loops) before any `let` of the same name in `b`, in first-seen order.
fn assigned_outside(b: &ast::Block) -> Vec<String> {
    fn walk(b: &ast::Block, declared: &mut HashSet<String>, out: &mut Vec<String>) {
        for s in &b.stmts {
            match &s.kind {
                StmtKind::Let { name, .. } => {
                    declared.insert(name.name.clone());
                }
                StmtKind::Assign { name, .. } if !declared.contains(&name.name) && !out.contains(&name.name) => out.push(name.name.clone()),
                StmtKind::For { var, body, .. } => nested(body, Some(&var.name), declared, out),
                StmtKind::While { body, .. } => nested(body, None, declared, out),
                StmtKind::If { then, els, .. } => {
                    nested(then, None, declared, out);
                    if let Some(e) = els {
                        nested(e, None, declared, out);
                    }
                }
                _ => {}
            }
        }
    }
    fn nested(b: &ast::Block, var: Option<&String>, declared: &HashSet<String>, out: &mut Vec<String>) {
        let mut inner = declared.clone();
        inner.extend(var.cloned());
        let mut found = Vec::new();
        walk(b, &mut inner, &mut found);
        for n in found {
            if !declared.contains(&n) && !out.contains(&n) {
                out.push(n);
            }
        }
    }
    let mut out = Vec::new();
    walk(b, &mut HashSet::new(), &mut out);
    out
}

/// An enclosing loop, for `break` and `continue`: its carried names and the frame that holds them.
pub struct LoopCtx {
    pub names: Vec<String>,
    pub frame: usize,
}

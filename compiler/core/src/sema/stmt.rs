//! Statements: `let`, assignment, `for` with loop-carried values, expression statements.
//!
//! Variables are SSA values rebound by assignment. A `for` body that assigns a variable declared
//! outside it carries that variable: the loop takes its value on entry as an argument, the body yields
//! its value at the end of each iteration, and after the loop the name is bound to the final value.

use super::kernel::Checker;
use super::scope::Binding;
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

    fn stmt(&mut self, s: &ast::Stmt) -> Checked<()> {
        match &s.kind {
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
            StmtKind::For { var, iter, body } => self.for_loop(var, iter, body, s.span)?,
        }
        Ok(())
    }

    fn for_loop(&mut self, var: &ast::Ident, iter: &ast::Expr, body: &ast::Block, span: crate::syntax::Span) -> Checked<()> {
        let args = match &iter.kind {
            ExprKind::Call { callee, args, generics, named, bracket: false } if callee.name == "range" && generics.is_empty() && named.is_empty() => args,
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
        let mut carried: Vec<(String, crate::tir::ValueId)> = Vec::new();
        for name in assigned_outside(body) {
            if let Some(Binding::Local(v)) = self.scopes.lookup(&name) {
                carried.push((name, *v));
            }
        }
        let inits: Vec<_> = carried.iter().map(|(_, v)| *v).collect();
        let mut arg_types = vec![Type::Scalar(DType::I64)];
        arg_types.extend(inits.iter().map(|v| self.b.ty(*v).clone()));
        let block_args = self.b.open_block(arg_types, span);

        // Two frames: the carried values, then the body's own `let`s, so a `let` that shadows a carried
        // name after assigning it does not replace what the loop yields.
        self.scopes.push();
        for ((name, _), arg) in carried.iter().zip(&block_args[1..]) {
            self.scopes.bind(name, Binding::Local(*arg));
        }
        self.scopes.push();
        self.scopes.bind(&var.name, Binding::Local(block_args[0]));
        self.block(body);
        self.scopes.pop();
        let yields: Vec<_> = carried
            .iter()
            .map(|(name, _)| match self.scopes.lookup(name) {
                Some(Binding::Local(v)) => *v,
                _ => unreachable!("carried names stay bound in the loop frame"),
            })
            .collect();
        self.scopes.pop();
        let body = self.b.close_block(yields);

        let results: Vec<_> = inits.iter().map(|v| self.b.new_value(self.b.ty(*v).clone(), span)).collect();
        self.b.push_inst(Inst { op: Op::For { start, end, step, inits, body }, results: results.clone(), span });
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
                StmtKind::For { var, body, .. } => {
                    let mut inner = declared.clone();
                    inner.insert(var.name.clone());
                    let mut nested = Vec::new();
                    walk(body, &mut inner, &mut nested);
                    for n in nested {
                        if !declared.contains(&n) && !out.contains(&n) {
                            out.push(n);
                        }
                    }
                }
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    walk(b, &mut HashSet::new(), &mut out);
    out
}

//! Built-in functions, one file per family; this file dispatches a call by name and holds what the
//! families share (argument counts, generic arguments, named arguments).

mod annotate;
mod compute;
mod dot;
mod math;
mod memory;
mod misc;
mod reduce;
mod shape;
mod shared;

pub use annotate::layout_from_literal;

use super::expr::Operand;
use super::kernel::Checker;
use super::Checked;
use crate::diag::Diagnostic;
use crate::syntax::ast::{self, ExprKind, NamedArg};
use crate::tir::ConstValue;
use tilec_dtype::DType;

/// The largest register tile, in elements: beyond it a kernel cannot be register-resident anyway.
pub const MAX_TILE_ELEMENTS: u64 = 1 << 20;

/// Every built-in function, for the "unknown function" note.
const BUILTINS: &[&str] = &[
    "load", "store", "cast", "zeros", "cdiv", "min", "max", "range", "shared", "copy_async", "commit_group", "wait_group", "barrier", "layout", "thread_ids", "threads",
    "exp", "exp2", "log", "log2", "sqrt", "rsqrt", "abs", "neg", "where", "fma", "dot", "sum", "any", "all", "cumsum",
    "transpose", "permute", "reshape", "squeeze", "unsqueeze", "broadcast", "repeat", "arange", "view", "atomic_add", "print",
];

/// Whether `name` is a built-in function (a device function may not take its name).
pub fn is_builtin(name: &str) -> bool {
    BUILTINS.contains(&name)
}

/// A call as written: what each builtin checks its arguments against.
pub struct CallSite<'e> {
    pub e: &'e ast::Expr,
    pub callee: &'e ast::Ident,
    pub generics: &'e [ast::Expr],
    pub args: &'e [ast::Expr],
    pub named: &'e [NamedArg],
    /// Written `f<T>[...]` rather than `f<T>(...)`.
    pub bracket: bool,
}

impl CallSite<'_> {
    /// The named argument `name`, if given.
    pub fn named(&self, name: &str) -> Option<&ast::Expr> {
        self.named.iter().find(|a| a.name.name == name).map(|a| &a.value)
    }

    /// Rejects named arguments other than `allowed` (and repeated ones).
    pub fn only_named(&self, cx: &Checker<'_>, allowed: &[&str]) -> Checked<()> {
        for (i, a) in self.named.iter().enumerate() {
            if !allowed.contains(&a.name.name.as_str()) {
                let takes = if allowed.is_empty() { "no named arguments".to_string() } else { format!("named arguments {}", allowed.join(", ")) };
                return Err(cx.rep.report(Diagnostic::at(a.name.span, format!("`{}` has no argument named `{}`", self.callee.name, a.name.name), format!("it takes {takes}"))));
            }
            if self.named[..i].iter().any(|b| b.name.name == a.name.name) {
                return Err(cx.rep.report(Diagnostic::at(a.name.span, format!("`{}` is given twice", a.name.name), "repeated")));
            }
        }
        Ok(())
    }

    pub fn no_named(&self, cx: &Checker<'_>) -> Checked<()> {
        self.only_named(cx, &[])
    }
}

impl Checker<'_> {
    /// Checks a call; `None` for calls that produce no value (`store`).
    pub fn call(&mut self, e: &ast::Expr) -> Checked<Option<Operand>> {
        let ExprKind::Call { module, callee, generics, args, named, bracket } = &e.kind else { unreachable!("call() on a non-call") };
        let c = CallSite { e, callee, generics, args, named, bracket: *bracket };
        let name = callee.name.as_str();
        if module.is_some() || !is_builtin(name) {
            match self.ctx.resolve(self.module, module.as_ref(), name) {
                Ok(Some(f)) => return self.inline(f.module, f.function, &c),
                Ok(None) => {}
                Err(d) => return Err(self.rep.report(d)),
            }
        }
        if !generics.is_empty() && !matches!(name, "cast" | "zeros" | "shared" | "view") {
            return Err(self.rep.report(Diagnostic::at(callee.span, format!("`{name}` takes no generic arguments"), "remove `<...>`")));
        }
        if c.bracket && !matches!(name, "zeros" | "shared") {
            return Err(self.rep.report(Diagnostic::at(e.span, format!("`{name}[...]` is not a call"), "use parentheses")));
        }
        match name {
            "load" if c.args.first().is_some_and(|a| self.shared_view_of(a).is_some()) => self.builtin_load_shared(&c),
            "store" if c.args.first().is_some_and(|a| self.shared_view_of(a).is_some()) => self.builtin_store_shared(&c),
            "load" => self.builtin_load(&c),
            "store" => self.builtin_store(&c),
            "copy_async" => self.builtin_copy_async(&c),
            "layout" => self.builtin_layout(&c),
            "thread_ids" => self.builtin_thread_ids(&c),
            "threads" => {
                c.no_named(self)?;
                self.arity(&c, 0)?;
                Ok(Some(Operand::Val(self.b.push(crate::tir::Op::Threads, crate::tir::Type::Scalar(tilec_dtype::DType::I64), e.span))))
            }
            "commit_group" | "wait_group" | "barrier" => self.builtin_sync(&c),
            "shared" => Err(self.rep.report(
                Diagnostic::at(e.span, "shared memory is allocated by a `let`", "not in a `let`").with_help("write `let s = shared<f16>[2, 64, 32];`"),
            )),
            "cast" => self.builtin_cast(&c),
            "zeros" => self.builtin_zeros(&c),
            "exp" | "exp2" | "log" | "log2" | "sqrt" | "rsqrt" | "abs" | "neg" => self.builtin_math(&c),
            "where" => self.builtin_where(&c),
            "fma" => self.builtin_fma(&c),
            "dot" => self.builtin_dot(&c),
            "min" | "max" if c.args.len() == 1 || !c.named.is_empty() => self.builtin_reduce(&c),
            "sum" | "any" | "all" => self.builtin_reduce(&c),
            "cumsum" => self.builtin_cumsum(&c),
            "transpose" | "permute" | "reshape" | "squeeze" | "unsqueeze" | "broadcast" | "repeat" => self.builtin_shape(&c),
            "arange" => self.builtin_arange(&c),
            "view" => self.builtin_view(&c),
            "atomic_add" => self.builtin_atomic_add(&c),
            "print" => self.builtin_print(&c),
            "cdiv" | "min" | "max" => self.builtin_int_fn(&c),
            "range" => Err(self.rep.report(Diagnostic::at(e.span, "`range` can only drive a `for` loop", "not in a `for`"))),
            _ => {
                let mut d = Diagnostic::at(callee.span, format!("unknown function `{name}`"), "no function of this name here")
                    .with_note(format!("built-in functions: {}", BUILTINS.join(", ")));
                let visible = self.ctx.visible(self.module);
                if !visible.is_empty() {
                    d = d.with_note(format!("functions here: {}", visible.join(", ")));
                }
                Err(self.rep.report(d))
            }
        }
    }

    pub(crate) fn arity(&self, c: &CallSite<'_>, n: usize) -> Checked<()> {
        if c.args.len() == n {
            return Ok(());
        }
        Err(self.rep.report(Diagnostic::at(c.e.span, format!("`{}` takes {n} argument(s), {} given", c.callee.name, c.args.len()), "wrong number of arguments")))
    }

    /// The one generic dtype argument of `cast<T>` or `zeros<T>`.
    pub(crate) fn generic_dtype(&self, c: &CallSite<'_>) -> Checked<DType> {
        match c.generics {
            [g] => match super::consts::eval(g, &self.scopes) {
                Ok(ConstValue::DType(d)) => Ok(d),
                Ok(other) => Err(self.rep.report(Diagnostic::at(g.span, format!("expected an element type, found `{other}`"), "not a dtype"))),
                Err(_) => match &g.kind {
                    ExprKind::Name(id) => self.dtype(id),
                    _ => Err(self.rep.report(Diagnostic::at(g.span, "expected an element type", "not a dtype"))),
                },
            },
            _ => Err(self.rep.report(Diagnostic::at(c.callee.span, format!("`{}` needs one element type, as in `{}<f32>`", c.callee.name, c.callee.name), "missing `<T>`"))),
        }
    }
}

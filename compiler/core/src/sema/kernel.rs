//! A kernel's signature: compile-time parameters, run-time parameters, launch attributes.

use super::builder::Builder;
use super::consts;
use super::scope::{Binding, Scopes};
use super::{Checked, Options, Reporter};
use crate::diag::Diagnostic;
use crate::syntax::ast;
use crate::tir::{ConstValue, Dim, IndexExpr, Kernel, Op, Param, ParamKind, Type};
use tilec_dtype::DType;

/// What a function body is checked with.
pub struct Checker<'a> {
    pub rep: &'a Reporter,
    pub ctx: &'a super::program::ProgramCtx<'a>,
    /// The module whose code is being checked (a device function's, while inlining it).
    pub module: usize,
    /// The functions being inlined, outermost first: (module, name).
    pub call_stack: Vec<(usize, String)>,
    pub b: Builder,
    pub scopes: Scopes,
    pub params: Vec<Param>,
    pub dims: Vec<String>,
    /// The loops around the statement being checked, innermost last.
    pub loops: Vec<super::stmt::LoopCtx>,
    /// Shared-memory buffers allocated so far.
    pub shared: Vec<crate::tir::SharedBuffer>,
    /// The kernel's `warps(...)`, for checks that depend on the thread count.
    pub warps_hint: u32,
}

/// The most threads a block may have (every current NVIDIA and AMD target).
const MAX_THREADS: i64 = 1024;

pub fn check_kernel<'a>(k: &ast::Kernel, options: &Options, rep: &'a Reporter, ctx: &'a super::program::ProgramCtx<'a>) -> Checked<Kernel> {
    let mut cx = Checker {
        rep,
        ctx,
        module: 0,
        call_stack: Vec::new(),
        b: Builder::new(),
        scopes: Scopes::new(),
        params: Vec::new(),
        dims: Vec::new(),
        loops: Vec::new(),
        shared: Vec::new(),
        warps_hint: 4,
    };
    let mut declared: Vec<(String, crate::syntax::Span)> = Vec::new();
    let mut declare = |id: &ast::Ident| -> Checked<()> {
        if let Some((_, first)) = declared.iter().find(|(n, _)| *n == id.name) {
            return Err(rep.report(
                Diagnostic::at(id.span, format!("`{}` is declared twice in kernel `{}`", id.name, k.name.name), "declared again here")
                    .with_secondary(*first, "first declared here"),
            ));
        }
        declared.push((id.name.clone(), id.span));
        Ok(())
    };

    // Compile-time parameters, in order: a default may use earlier ones.
    let mut consts = Vec::new();
    let mut ok = true;
    for c in &k.consts {
        ok &= declare(&c.name).is_ok();
        match const_value(c, options, &cx.scopes) {
            Ok(v) => {
                cx.scopes.bind(&c.name.name, Binding::Const(v.clone()));
                consts.push((c.name.name.clone(), v));
            }
            Err(d) => {
                rep.report(d);
                ok = false;
            }
        }
    }
    if !ok {
        return Err(super::ErrorReported);
    }

    // Run-time parameters; a dimension that names no compile-time value is symbolic. Every bad
    // parameter is reported, then checking stops (the body would only repeat the damage).
    let mut params_ok = true;
    for p in &k.params {
        let kind = match param_kind(&mut cx, p, &mut declare) {
            Ok(kind) => kind,
            Err(_) => {
                params_ok = false;
                continue;
            }
        };
        let index = cx.params.len();
        cx.params.push(Param { name: p.name.name.clone(), kind: kind.clone(), span: p.span });
        match kind {
            ParamKind::Tensor { .. } => cx.scopes.bind(&p.name.name, Binding::Tensor(index)),
            ParamKind::Scalar(d) => {
                let v = cx.b.push(Op::ScalarParam(index), Type::Scalar(d), p.span);
                cx.scopes.bind(&p.name.name, Binding::Local(v));
            }
        }
    }
    if !params_ok {
        return Err(super::ErrorReported);
    }

    let (grid, warps) = launch_attrs(k, &cx, rep)?;
    cx.warps_hint = warps;
    let tune = match &k.tune {
        Some(t) => Some(super::tune::space(t, k, &consts, rep)?),
        None => None,
    };
    cx.block(&k.body);
    cx.check_shared_budget(k);
    if rep.has_errors() {
        return Err(super::ErrorReported);
    }
    let Checker { b, params, dims, shared, .. } = cx;
    let (body, values) = b.finish();
    Ok(Kernel { name: k.name.name.clone(), consts, params, dims, grid, warps, tune, shared, values, body, span: k.span })
}

/// The kind of one run-time parameter (declaring its name and any new symbolic dims).
fn param_kind(cx: &mut Checker<'_>, p: &ast::Param, declare: &mut impl FnMut(&ast::Ident) -> Checked<()>) -> Checked<ParamKind> {
    let rep = cx.rep;
    declare(&p.name)?;
    Ok(match &p.ty {
        ast::ParamType::Scalar { dtype } => ParamKind::Scalar(cx.dtype(dtype)?),
        ast::ParamType::Global { dtype, dims, strides } => {
            let dtype = cx.dtype(dtype)?;
            let mut shape = Vec::new();
            for d in dims {
                shape.push(cx.dim(d, declare, 1)?);
            }
            if shape.is_empty() {
                return Err(rep.report(Diagnostic::at(p.span, "a global tensor needs at least one dimension", "no dimensions")));
            }
            let strides = match strides {
                None => None,
                Some(s) if s.len() != shape.len() => {
                    return Err(rep.report(Diagnostic::at(p.span, format!("`{}` has {} dimension(s) but {} strides", p.name.name, shape.len(), s.len()), "one stride per dimension")))
                }
                Some(s) => {
                    if dtype.is_sub_byte() {
                        return Err(rep.report(Diagnostic::at(p.span, format!("a `{dtype}` tensor cannot be strided: its elements are packed below byte boundaries"), "sub-byte dtype")));
                    }
                    let mut out = Vec::new();
                    for e in s {
                        out.push(cx.dim(e, declare, 0)?);
                    }
                    Some(out)
                }
            };
            ParamKind::Tensor { dtype, shape, strides }
        }
    })
}

fn const_value(c: &ast::ConstParam, options: &Options, scopes: &Scopes) -> Result<ConstValue, Diagnostic> {
    let kind = c.kind.name.as_str();
    if !matches!(kind, "int" | "bool" | "dtype" | "layout") {
        return Err(Diagnostic::at(c.kind.span, format!("unknown kind of compile-time parameter `{kind}`"), "expected `int`, `bool`, `dtype` or `layout`"));
    }
    let value = if let Some(d) = options.defines.iter().rev().find(|d| d.name == c.name.name) {
        parse_define(kind, &d.value).map_err(|why| {
            Diagnostic::error(format!("-D {}={}: {why}", d.name, d.value)).with_label(c.span, format!("`{}` is declared here as `{kind}`", c.name.name))
        })?
    } else if let (Some(e @ ast::Expr { kind: ast::ExprKind::Str(text), .. }), "layout") = (&c.default, kind) {
        super::builtins::layout_from_literal(text, e.span)?
    } else if let Some(e) = &c.default {
        consts::eval(e, scopes)?
    } else {
        return Err(Diagnostic::at(c.span, format!("compile-time parameter `{}` has no value", c.name.name), "no default")
            .with_help(format!("give it a default (`{}: {kind} = ...`) or a value on the command line (`-D {}=...`)", c.name.name, c.name.name)));
    };
    let fits = matches!(
        (kind, &value),
        ("int", ConstValue::Int(_)) | ("bool", ConstValue::Bool(_)) | ("dtype", ConstValue::DType(_)) | ("layout", ConstValue::Layout(_))
    );
    if !fits {
        let span = c.default.as_ref().map_or(c.span, |e| e.span);
        return Err(Diagnostic::at(span, format!("`{}` is declared `{kind}` but its value is `{value}`", c.name.name), format!("not a `{kind}`")));
    }
    Ok(value)
}

fn parse_define(kind: &str, v: &str) -> Result<ConstValue, String> {
    match kind {
        "int" => v.parse::<i64>().map(ConstValue::Int).map_err(|_| format!("`{v}` is not an integer")),
        "bool" => match v {
            "true" => Ok(ConstValue::Bool(true)),
            "false" => Ok(ConstValue::Bool(false)),
            _ => Err(format!("`{v}` is not `true` or `false`")),
        },
        "layout" => tilec_layout::calc::register_layout(v)
            .map(|tv| ConstValue::Layout(crate::tir::LayoutConst { text: v.to_string(), tv }))
            .map_err(|e| format!("not a register layout: {}", e.message())),
        _ => v.parse::<DType>().map(ConstValue::DType).map_err(|e| e.to_string()),
    }
}

fn launch_attrs(k: &ast::Kernel, cx: &Checker<'_>, rep: &Reporter) -> Checked<([IndexExpr; 3], u32)> {
    let mut grid = [IndexExpr::Const(1), IndexExpr::Const(1), IndexExpr::Const(1)];
    let mut warps = 4u32;
    let mut failed = false;
    for a in &k.attrs {
        match a.name.name.as_str() {
            "grid" => {
                if a.args.is_empty() || a.args.len() > 3 {
                    rep.report(Diagnostic::at(a.span, "`grid` takes one to three sizes", format!("{} given", a.args.len())));
                    failed = true;
                    continue;
                }
                for (i, e) in a.args.iter().enumerate() {
                    match consts::index_expr(e, &cx.scopes) {
                        Ok(IndexExpr::Const(n)) if n < 1 => {
                            rep.report(Diagnostic::at(e.span, format!("a grid size must be positive, this one is {n}"), "not positive"));
                            failed = true;
                        }
                        Ok(ix) => grid[i] = ix,
                        Err(d) => {
                            rep.report(d);
                            failed = true;
                        }
                    }
                }
            }
            "warps" => {
                let n = match a.args.as_slice() {
                    [e] => consts::int(e, &cx.scopes).map_err(|d| rep.report(d)),
                    _ => Err(rep.report(Diagnostic::at(a.span, "`warps` takes one compile-time integer", format!("{} given", a.args.len())))),
                };
                match n {
                    Ok(n) if (1..=MAX_THREADS / 32).contains(&n) => warps = n as u32,
                    Ok(n) => {
                        rep.report(Diagnostic::at(a.args[0].span, format!("`warps({n})` is out of range"), "must be 1 to 32")
                            .with_note("a block has at most 1024 threads, 32 per warp"));
                        failed = true;
                    }
                    Err(_) => failed = true,
                }
            }
            other => {
                rep.report(Diagnostic::at(a.name.span, format!("unknown kernel attribute `{other}`"), "expected `grid` or `warps`"));
                failed = true;
            }
        }
    }
    if failed {
        Err(super::ErrorReported)
    } else {
        Ok((grid, warps))
    }
}

impl Checker<'_> {
    /// Resolves a type name: a dtype, or a compile-time `dtype` parameter.
    pub fn dtype(&self, id: &ast::Ident) -> Checked<DType> {
        match self.scopes.lookup(&id.name) {
            Some(Binding::Const(ConstValue::DType(d))) => Ok(*d),
            Some(_) => Err(self.rep.report(Diagnostic::at(id.span, format!("`{}` is not a dtype", id.name), "expected an element type"))),
            None => id.name.parse::<DType>().map_err(|e| {
                self.rep.report(Diagnostic::at(id.span, format!("unknown element type `{}`", id.name), e.reason).with_note(
                    "valid forms: bool; i1..i8, u1..u8, i16, i32, i64, u16, u32, u64; f16, bf16, tf32, f32, f64; fNeXmY (f8e4m3, f6e3m2, f4e2m1, ...); e8m0",
                ))
            }),
        }
    }

    /// A dimension (or stride, with `min` 0) of a tensor parameter: a new or known symbolic name, or a
    /// compile-time value of at least `min`.
    fn dim(&mut self, d: &ast::Expr, declare: &mut impl FnMut(&ast::Ident) -> Checked<()>, min: i64) -> Checked<Dim> {
        if let ast::ExprKind::Name(id) = &d.kind {
            match self.scopes.lookup(&id.name) {
                Some(Binding::Dim(i)) => return Ok(Dim::Sym(*i)),
                None if id.name.parse::<DType>().is_err() => {
                    declare(id)?;
                    self.dims.push(id.name.clone());
                    let i = self.dims.len() - 1;
                    self.scopes.bind(&id.name, Binding::Dim(i));
                    return Ok(Dim::Sym(i));
                }
                _ => {}
            }
        }
        match consts::int(d, &self.scopes) {
            Ok(n) if n >= min => Ok(Dim::Fixed(n as u64)),
            Ok(n) => Err(self.rep.report(Diagnostic::at(d.span, format!("a tensor {} must be at least {min}, this one is {n}", if min == 0 { "stride" } else { "dimension" }), "out of range"))),
            Err(diag) => Err(self.rep.report(diag)),
        }
    }
}

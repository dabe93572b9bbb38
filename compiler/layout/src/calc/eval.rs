//! Evaluation of calculator expressions: literals, operators and method chains; calls are
//! dispatched to [`super::functions`].

use super::functions::call;
use super::syntax::{Expr, ExprKind};
use super::value::{as_layout, as_tiler, as_tuple, as_tv, kind, lerr, Arg, Value};
use super::CalcError;
use crate::int_tuple::IntTuple;
use crate::layout::Layout;
use crate::swizzle::{Swizzle, SwizzledLayout};
use crate::{algebra, divide};
use std::ops::Range;

const METHODS: &[&str] = &[
    "local",
    "spatial",
    "column_local",
    "column_spatial",
    "replicate",
];

/// Evaluates an expression.
pub(crate) fn eval(e: &Expr) -> Result<Value, CalcError> {
    let sp = &e.span;
    match &e.kind {
        ExprKind::Int(v) => Ok(Value::Tuple(IntTuple::Int(*v))),
        ExprKind::Sym(s) => Ok(Value::Sym(s.clone())),
        ExprKind::Swizzle(b, m, s) => Swizzle::new(*b, *m, *s)
            .map(Value::Swizzle)
            .map_err(|x| lerr(x, sp)),
        ExprKind::Tuple(items) => {
            let args = items
                .iter()
                .map(|x| {
                    Ok(Arg {
                        v: eval(x)?,
                        span: x.span.clone(),
                    })
                })
                .collect::<Result<Vec<_>, CalcError>>()?;
            if args.is_empty() {
                return Ok(Value::Tuple(IntTuple::Tuple(Vec::new())));
            }
            if args.len() == 1 && !matches!(args[0].v, Value::Tuple(_)) {
                return Ok(args
                    .into_iter()
                    .next()
                    .map(|a| a.v)
                    .unwrap_or(Value::Text(String::new())));
            }
            if args.iter().all(|a| matches!(a.v, Value::Tuple(_))) {
                return Ok(Value::Tuple(IntTuple::Tuple(
                    args.iter().map(as_tuple).collect::<Result<_, _>>()?,
                )));
            }
            if let Some(a) = args
                .iter()
                .find(|a| !matches!(a.v, Value::Tuple(_) | Value::Layout(_)))
            {
                return Err(CalcError::new(
                    format!(
                        "expected an integer or a layout in a tuple, found {}",
                        kind(&a.v)
                    ),
                    a.span.clone(),
                ));
            }
            // A tuple mixing layouts: a tiler (CuTe's make_tile).
            Ok(Value::Tiler(
                args.iter().map(as_layout).collect::<Result<_, _>>()?,
            ))
        }
        ExprKind::Tiler(items) => {
            let mut v = Vec::with_capacity(items.len());
            for x in items {
                v.push(as_layout(&Arg {
                    v: eval(x)?,
                    span: x.span.clone(),
                })?);
            }
            Ok(Value::Tiler(v))
        }
        ExprKind::Layout(s, d) => {
            let shape = as_tuple(&Arg {
                v: eval(s)?,
                span: s.span.clone(),
            })?;
            let stride = as_tuple(&Arg {
                v: eval(d)?,
                span: d.span.clone(),
            })?;
            Layout::new(shape, stride)
                .map(Value::Layout)
                .map_err(|x| lerr(x, sp))
        }
        ExprKind::Binary(op, l, r) => {
            let a = Arg {
                v: eval(l)?,
                span: l.span.clone(),
            };
            let b = Arg {
                v: eval(r)?,
                span: r.span.clone(),
            };
            binary(*op, &a, &b, sp)
        }
        ExprKind::Method(recv, name, nspan, args) => {
            let r = Arg {
                v: eval(recv)?,
                span: recv.span.clone(),
            };
            let tvr = as_tv(&r).map_err(|e| {
                e.with_help("methods chain register layouts: spatial(8,4).local(1,2)")
            })?;
            let args = eval_args(args)?;
            if !METHODS.contains(&name.as_str()) {
                return Err(
                    CalcError::new(format!("unknown method `{name}`"), nspan.clone()).with_help(
                        &format!("register layouts chain with: {}", METHODS.join(", ")),
                    ),
                );
            }
            let rhs = call(name, nspan, &args, sp)?;
            let rhs = as_tv(&Arg {
                v: rhs,
                span: sp.clone(),
            })?;
            tvr.product(&rhs).map(Value::Tv).map_err(|x| lerr(x, sp))
        }
        ExprKind::Call(name, nspan, args) => {
            let args = eval_args(args)?;
            call(name, nspan, &args, sp)
        }
    }
}

fn eval_args(args: &[Expr]) -> Result<Vec<Arg>, CalcError> {
    args.iter()
        .map(|x| {
            Ok(Arg {
                v: eval(x)?,
                span: x.span.clone(),
            })
        })
        .collect()
}

fn binary(op: char, a: &Arg, b: &Arg, sp: &Range<usize>) -> Result<Value, CalcError> {
    match (op, &a.v, &b.v) {
        ('*', Value::Tv(x), Value::Tv(y)) => x.product(y).map(Value::Tv).map_err(|e| lerr(e, sp)),
        ('/', Value::Tv(x), Value::Tv(y)) => x.div_right(y).map(Value::Tv).map_err(|e| lerr(e, sp)),
        ('o', _, _) => compose(a, b, sp),
        ('*', _, _) => Err(CalcError::new(
            format!(
                "`*` multiplies register layouts, not {} and {}",
                kind(&a.v),
                kind(&b.v)
            ),
            sp.clone(),
        )
        .with_help(
            "for shape:stride layouts use logical_product, blocked_product or raked_product",
        )),
        _ => Err(CalcError::new(
            format!(
                "`/` divides register layouts, not {} and {}",
                kind(&a.v),
                kind(&b.v)
            ),
            sp.clone(),
        )
        .with_help("for shape:stride layouts use logical_divide or zipped_divide")),
    }
}

pub(crate) fn compose(a: &Arg, b: &Arg, sp: &Range<usize>) -> Result<Value, CalcError> {
    match (&a.v, &b.v) {
        (Value::Swizzle(s), _) => Ok(Value::Swizzled(SwizzledLayout::new(*s, as_layout(b)?))),
        (Value::Swizzled(s), _) => s
            .compose(&as_layout(b)?)
            .map(Value::Swizzled)
            .map_err(|e| lerr(e, sp)),
        (_, Value::Tiler(_)) => {
            let t = as_tiler(b)?;
            divide::by_mode("composition", &as_layout(a)?, &t, algebra::composition)
                .map(Value::Layout)
                .map_err(|e| lerr(e, sp))
        }
        _ => algebra::composition(&as_layout(a)?, &as_layout(b)?)
            .map(Value::Layout)
            .map_err(|e| lerr(e, sp)),
    }
}

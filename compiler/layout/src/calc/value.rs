//! Calculator values and the coercions between them (a shape is a compact layout, a layout a
//! tiler, ...), with diagnostics that point at the offending argument.

use super::CalcError;
use crate::divide::Tiler;
use crate::int_tuple::IntTuple;
use crate::layout::Layout;
use crate::smem::{AccessPattern, SmemLayout};
use crate::swizzle::{Swizzle, SwizzledLayout};
use crate::tv::TvLayout;
use crate::LayoutError;
use std::ops::Range;

/// A calculator value.
#[derive(Clone, Debug)]
pub(crate) enum Value {
    /// An integer or integer tuple (a number, a shape, a coordinate).
    Tuple(IntTuple),
    Layout(Layout),
    Tiler(Vec<Layout>),
    Swizzle(Swizzle),
    Swizzled(SwizzledLayout),
    Tv(TvLayout),
    Sym(String),
    /// A value that is only printed (a coordinate list, a report line).
    Text(String),
}

pub(crate) fn lerr(e: LayoutError, span: &Range<usize>) -> CalcError {
    CalcError::new(e.to_string(), span.clone())
}

pub(crate) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Tuple(IntTuple::Int(_)) => "an integer",
        Value::Tuple(_) => "a tuple",
        Value::Layout(_) => "a layout",
        Value::Tiler(_) => "a tiler",
        Value::Swizzle(_) => "a swizzle",
        Value::Swizzled(_) => "a swizzled layout",
        Value::Tv(_) => "a register layout",
        Value::Sym(_) => "a name",
        Value::Text(_) => "a report",
    }
}

pub(crate) struct Arg {
    pub(crate) v: Value,
    pub(crate) span: Range<usize>,
}

pub(crate) fn want(what: &str, a: &Arg) -> CalcError {
    CalcError::new(
        format!("expected {what}, found {}", kind(&a.v)),
        a.span.clone(),
    )
}

pub(crate) fn as_tuple(a: &Arg) -> Result<IntTuple, CalcError> {
    match &a.v {
        Value::Tuple(t) => Ok(t.clone()),
        _ => Err(want("an integer or tuple of integers", a)),
    }
}

pub(crate) fn as_int(a: &Arg) -> Result<i64, CalcError> {
    match &a.v {
        Value::Tuple(IntTuple::Int(v)) => Ok(*v),
        _ => Err(want("an integer", a)),
    }
}

pub(crate) fn as_flat(a: &Arg) -> Result<Vec<i64>, CalcError> {
    match &a.v {
        Value::Tuple(IntTuple::Int(v)) => Ok(vec![*v]),
        Value::Tuple(t @ IntTuple::Tuple(v)) if v.iter().all(IntTuple::is_int) => Ok(t.leaves()),
        _ => Err(want("an integer or flat tuple of integers", a)),
    }
}

pub(crate) fn as_layout(a: &Arg) -> Result<Layout, CalcError> {
    match &a.v {
        Value::Layout(l) => Ok(l.clone()),
        Value::Tuple(t) => Layout::column_major(t.clone()).map_err(|e| lerr(e, &a.span)),
        _ => Err(want("a layout", a)),
    }
}

pub(crate) fn as_tiler(a: &Arg) -> Result<Tiler, CalcError> {
    match &a.v {
        Value::Tiler(v) => Ok(Tiler::Modes(v.clone())),
        Value::Layout(l) => Ok(Tiler::Layout(l.clone())),
        Value::Tuple(t) => Tiler::from_shape(t).map_err(|e| lerr(e, &a.span)),
        _ => Err(want("a tiler, layout or shape", a)),
    }
}

pub(crate) fn as_tv(a: &Arg) -> Result<TvLayout, CalcError> {
    match &a.v {
        Value::Tv(t) => Ok(t.clone()),
        _ => Err(want("a register layout", a)),
    }
}

pub(crate) fn as_sym<'a>(a: &'a Arg, choices: &str) -> Result<&'a str, CalcError> {
    match &a.v {
        Value::Sym(s) => Ok(s),
        _ => Err(want(&format!("one of {choices}"), a)),
    }
}

pub(crate) fn as_smem(a: &Arg) -> Result<SmemLayout, CalcError> {
    match &a.v {
        Value::Swizzled(s) => Ok(SmemLayout::Swizzled(s.clone())),
        _ => Ok(SmemLayout::Plain(as_layout(a)?)),
    }
}

pub(crate) fn pattern(a: &Arg) -> Result<AccessPattern, CalcError> {
    let choices = "x1, x2, x4 (ldmatrix) or vec4, vec8, vec16 (row-major vector stores)";
    match as_sym(a, choices)? {
        "x1" => Ok(AccessPattern::Ldmatrix { count: 1 }),
        "x2" => Ok(AccessPattern::Ldmatrix { count: 2 }),
        "x4" => Ok(AccessPattern::Ldmatrix { count: 4 }),
        s if s.starts_with("vec") => match s[3..].parse::<i64>() {
            Ok(b) if (1..=16).contains(&b) => Ok(AccessPattern::RowVector { bytes: b }),
            _ => Err(
                CalcError::new(format!("unknown access pattern `{s}`"), a.span.clone())
                    .with_help(choices),
            ),
        },
        s => Err(
            CalcError::new(format!("unknown access pattern `{s}`"), a.span.clone())
                .with_help(choices),
        ),
    }
}

pub(crate) fn matrix_count(a: &Arg) -> Result<u32, CalcError> {
    match as_sym(a, "x1, x2, x4")? {
        "x1" => Ok(1),
        "x2" => Ok(2),
        "x4" => Ok(4),
        s => Err(
            CalcError::new(format!("unknown matrix count `{s}`"), a.span.clone())
                .with_help("use x1, x2 or x4"),
        ),
    }
}

//! Evaluation of calculator expressions: values, coercions and the function table.

use super::syntax::{Expr, ExprKind};
use super::CalcError;
use crate::atoms::{self, Operand};
use crate::divide::Tiler;
use crate::int_tuple::IntTuple;
use crate::layout::Layout;
use crate::smem::{self, AccessPattern, SmemLayout};
use crate::swizzle::{Swizzle, SwizzledLayout};
use crate::tv::{self, TvLayout};
use crate::{algebra, divide, product, LayoutError};
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

/// Every callable name, with its argument synopsis, for help messages and docs.
pub(crate) const FUNCTIONS: &[(&str, &str)] = &[
    ("size", "size(L)"),
    ("cosize", "cosize(L)"),
    ("rank", "rank(L)"),
    ("depth", "depth(L)"),
    ("shape", "shape(L)"),
    ("stride", "stride(L)"),
    ("eval", "eval(L, i | (i,j,..)) or eval(TV, thread, value)"),
    ("make_layout", "make_layout(L0, L1, ...)"),
    ("coalesce", "coalesce(L [, profile])"),
    ("filter", "filter(L)"),
    ("flatten", "flatten(L)"),
    ("composition", "composition(A, B)"),
    ("complement", "complement(L [, cotarget size or shape])"),
    ("right_inverse", "right_inverse(L)"),
    ("left_inverse", "left_inverse(L)"),
    ("logical_divide", "logical_divide(L, tiler)"),
    ("zipped_divide", "zipped_divide(L, tiler)"),
    ("tiled_divide", "tiled_divide(L, tiler)"),
    ("flat_divide", "flat_divide(L, tiler)"),
    ("logical_product", "logical_product(L, tiler)"),
    ("zipped_product", "zipped_product(L, tiler)"),
    ("tiled_product", "tiled_product(L, tiler)"),
    ("flat_product", "flat_product(L, tiler)"),
    ("blocked_product", "blocked_product(L, M)"),
    ("raked_product", "raked_product(L, M)"),
    ("tile_to_shape", "tile_to_shape(L, shape [, order])"),
    ("swizzle", "swizzle(B, M, S)"),
    ("local", "local(n0, n1, ...)"),
    ("spatial", "spatial(n0, n1, ...)"),
    ("column_local", "column_local(n0, n1, ...)"),
    ("column_spatial", "column_spatial(n0, n1, ...)"),
    ("replicate", "replicate(k)"),
    ("tv", "tv(shape, ((threads),(values)):(..))"),
    ("to_layout", "to_layout(TV)"),
    ("left_divide", "left_divide(A, B)  (C with A = B * C)"),
    ("reduce", "reduce(TV, dim | (dims..))"),
    ("reshape", "reshape(TV, shape)"),
    ("permute", "permute(TV, (perm..))"),
    ("concat", "concat(TV, TV)"),
    ("holders", "holders(TV, (i,j,..))"),
    ("mma", "mma(m16n8k16|m16n8k32|m16n8k8, f16|bf16|s8|u8|tf32, a|b|c)"),
    ("ldmatrix", "ldmatrix(x1|x2|x4 [, trans])"),
    ("stmatrix", "stmatrix(x1|x2|x4 [, trans])"),
    ("wgmma_acc", "wgmma_acc(N)"),
    ("mfma", "mfma(32x32x8|16x16x16, f16, a|b|c)"),
    ("bank_conflicts", "bank_conflicts(L, element_bits, x1|x2|x4|vec4|vec8|vec16)"),
    ("choose_swizzle", "choose_swizzle((rows,cols), element_bits, x1|x2|x4|vec4|vec8|vec16)"),
];

const METHODS: &[&str] = &["local", "spatial", "column_local", "column_spatial", "replicate"];

fn lerr(e: LayoutError, span: &Range<usize>) -> CalcError {
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

struct Arg {
    v: Value,
    span: Range<usize>,
}

fn want(what: &str, a: &Arg) -> CalcError {
    CalcError::new(format!("expected {what}, found {}", kind(&a.v)), a.span.clone())
}

fn as_tuple(a: &Arg) -> Result<IntTuple, CalcError> {
    match &a.v {
        Value::Tuple(t) => Ok(t.clone()),
        _ => Err(want("an integer or tuple of integers", a)),
    }
}

fn as_int(a: &Arg) -> Result<i64, CalcError> {
    match &a.v {
        Value::Tuple(IntTuple::Int(v)) => Ok(*v),
        _ => Err(want("an integer", a)),
    }
}

fn as_flat(a: &Arg) -> Result<Vec<i64>, CalcError> {
    match &a.v {
        Value::Tuple(IntTuple::Int(v)) => Ok(vec![*v]),
        Value::Tuple(t @ IntTuple::Tuple(v)) if v.iter().all(IntTuple::is_int) => Ok(t.leaves()),
        _ => Err(want("an integer or flat tuple of integers", a)),
    }
}

fn as_layout(a: &Arg) -> Result<Layout, CalcError> {
    match &a.v {
        Value::Layout(l) => Ok(l.clone()),
        Value::Tuple(t) => Layout::column_major(t.clone()).map_err(|e| lerr(e, &a.span)),
        _ => Err(want("a layout", a)),
    }
}

fn as_tiler(a: &Arg) -> Result<Tiler, CalcError> {
    match &a.v {
        Value::Tiler(v) => Ok(Tiler::Modes(v.clone())),
        Value::Layout(l) => Ok(Tiler::Layout(l.clone())),
        Value::Tuple(t) => Tiler::from_shape(t).map_err(|e| lerr(e, &a.span)),
        _ => Err(want("a tiler, layout or shape", a)),
    }
}

fn as_tv(a: &Arg) -> Result<TvLayout, CalcError> {
    match &a.v {
        Value::Tv(t) => Ok(t.clone()),
        _ => Err(want("a register layout", a)),
    }
}

fn as_sym<'a>(a: &'a Arg, choices: &str) -> Result<&'a str, CalcError> {
    match &a.v {
        Value::Sym(s) => Ok(s),
        _ => Err(want(&format!("one of {choices}"), a)),
    }
}

fn as_smem(a: &Arg) -> Result<SmemLayout, CalcError> {
    match &a.v {
        Value::Swizzled(s) => Ok(SmemLayout::Swizzled(s.clone())),
        _ => Ok(SmemLayout::Plain(as_layout(a)?)),
    }
}

fn pattern(a: &Arg) -> Result<AccessPattern, CalcError> {
    let choices = "x1, x2, x4 (ldmatrix) or vec4, vec8, vec16 (row-major vector stores)";
    match as_sym(a, choices)? {
        "x1" => Ok(AccessPattern::Ldmatrix { count: 1 }),
        "x2" => Ok(AccessPattern::Ldmatrix { count: 2 }),
        "x4" => Ok(AccessPattern::Ldmatrix { count: 4 }),
        s if s.starts_with("vec") => match s[3..].parse::<i64>() {
            Ok(b) if (1..=16).contains(&b) => Ok(AccessPattern::RowVector { bytes: b }),
            _ => Err(CalcError::new(format!("unknown access pattern `{s}`"), a.span.clone()).with_help(choices)),
        },
        s => Err(CalcError::new(format!("unknown access pattern `{s}`"), a.span.clone()).with_help(choices)),
    }
}

fn matrix_count(a: &Arg) -> Result<u32, CalcError> {
    match as_sym(a, "x1, x2, x4")? {
        "x1" => Ok(1),
        "x2" => Ok(2),
        "x4" => Ok(4),
        s => Err(CalcError::new(format!("unknown matrix count `{s}`"), a.span.clone()).with_help("use x1, x2 or x4")),
    }
}

/// Evaluates an expression.
pub(crate) fn eval(e: &Expr) -> Result<Value, CalcError> {
    let sp = &e.span;
    match &e.kind {
        ExprKind::Int(v) => Ok(Value::Tuple(IntTuple::Int(*v))),
        ExprKind::Sym(s) => Ok(Value::Sym(s.clone())),
        ExprKind::Swizzle(b, m, s) => Swizzle::new(*b, *m, *s).map(Value::Swizzle).map_err(|x| lerr(x, sp)),
        ExprKind::Tuple(items) => {
            let args = items.iter().map(|x| Ok(Arg { v: eval(x)?, span: x.span.clone() })).collect::<Result<Vec<_>, CalcError>>()?;
            if args.is_empty() {
                return Ok(Value::Tuple(IntTuple::Tuple(Vec::new())));
            }
            if args.len() == 1 && !matches!(args[0].v, Value::Tuple(_)) {
                return Ok(args.into_iter().next().map(|a| a.v).unwrap_or(Value::Text(String::new())));
            }
            if args.iter().all(|a| matches!(a.v, Value::Tuple(_))) {
                return Ok(Value::Tuple(IntTuple::Tuple(args.iter().map(as_tuple).collect::<Result<_, _>>()?)));
            }
            if let Some(a) = args.iter().find(|a| !matches!(a.v, Value::Tuple(_) | Value::Layout(_))) {
                return Err(CalcError::new(format!("expected an integer or a layout in a tuple, found {}", kind(&a.v)), a.span.clone()));
            }
            // A tuple mixing layouts: a tiler (CuTe's make_tile).
            Ok(Value::Tiler(args.iter().map(as_layout).collect::<Result<_, _>>()?))
        }
        ExprKind::Tiler(items) => {
            let mut v = Vec::with_capacity(items.len());
            for x in items {
                v.push(as_layout(&Arg { v: eval(x)?, span: x.span.clone() })?);
            }
            Ok(Value::Tiler(v))
        }
        ExprKind::Layout(s, d) => {
            let shape = as_tuple(&Arg { v: eval(s)?, span: s.span.clone() })?;
            let stride = as_tuple(&Arg { v: eval(d)?, span: d.span.clone() })?;
            Layout::new(shape, stride).map(Value::Layout).map_err(|x| lerr(x, sp))
        }
        ExprKind::Binary(op, l, r) => {
            let a = Arg { v: eval(l)?, span: l.span.clone() };
            let b = Arg { v: eval(r)?, span: r.span.clone() };
            binary(*op, &a, &b, sp)
        }
        ExprKind::Method(recv, name, nspan, args) => {
            let r = Arg { v: eval(recv)?, span: recv.span.clone() };
            let tvr = as_tv(&r).map_err(|e| e.with_help("methods chain register layouts: spatial(8,4).local(1,2)"))?;
            let args = eval_args(args)?;
            if !METHODS.contains(&name.as_str()) {
                return Err(CalcError::new(format!("unknown method `{name}`"), nspan.clone())
                    .with_help(&format!("register layouts chain with: {}", METHODS.join(", "))));
            }
            let rhs = call(name, nspan, &args, sp)?;
            let rhs = as_tv(&Arg { v: rhs, span: sp.clone() })?;
            tvr.product(&rhs).map(Value::Tv).map_err(|x| lerr(x, sp))
        }
        ExprKind::Call(name, nspan, args) => {
            let args = eval_args(args)?;
            call(name, nspan, &args, sp)
        }
    }
}

fn eval_args(args: &[Expr]) -> Result<Vec<Arg>, CalcError> {
    args.iter().map(|x| Ok(Arg { v: eval(x)?, span: x.span.clone() })).collect()
}

fn binary(op: char, a: &Arg, b: &Arg, sp: &Range<usize>) -> Result<Value, CalcError> {
    match (op, &a.v, &b.v) {
        ('*', Value::Tv(x), Value::Tv(y)) => x.product(y).map(Value::Tv).map_err(|e| lerr(e, sp)),
        ('/', Value::Tv(x), Value::Tv(y)) => x.div_right(y).map(Value::Tv).map_err(|e| lerr(e, sp)),
        ('o', _, _) => compose(a, b, sp),
        ('*', _, _) => Err(CalcError::new(format!("`*` multiplies register layouts, not {} and {}", kind(&a.v), kind(&b.v)), sp.clone())
            .with_help("for shape:stride layouts use logical_product, blocked_product or raked_product")),
        _ => Err(CalcError::new(format!("`/` divides register layouts, not {} and {}", kind(&a.v), kind(&b.v)), sp.clone())
            .with_help("for shape:stride layouts use logical_divide or zipped_divide")),
    }
}

fn compose(a: &Arg, b: &Arg, sp: &Range<usize>) -> Result<Value, CalcError> {
    match (&a.v, &b.v) {
        (Value::Swizzle(s), _) => Ok(Value::Swizzled(SwizzledLayout::new(*s, as_layout(b)?))),
        (Value::Swizzled(s), _) => s.compose(&as_layout(b)?).map(Value::Swizzled).map_err(|e| lerr(e, sp)),
        (_, Value::Tiler(_)) => {
            let t = as_tiler(b)?;
            divide::by_mode("composition", &as_layout(a)?, &t, algebra::composition).map(Value::Layout).map_err(|e| lerr(e, sp))
        }
        _ => algebra::composition(&as_layout(a)?, &as_layout(b)?).map(Value::Layout).map_err(|e| lerr(e, sp)),
    }
}

fn arity(name: &str, nspan: &Range<usize>, args: &[Arg], lo: usize, hi: usize, sp: &Range<usize>) -> Result<(), CalcError> {
    if (lo..=hi).contains(&args.len()) {
        return Ok(());
    }
    let n = if lo == hi { format!("{lo}") } else { format!("{lo} to {hi}") };
    let synopsis = FUNCTIONS.iter().find(|(f, _)| *f == name).map(|(_, s)| *s).unwrap_or(name);
    let span = if args.len() > hi { args[hi].span.start..sp.end } else { nspan.start..sp.end };
    Err(CalcError::new(format!("`{name}` takes {n} argument{}, got {}", if hi == 1 { "" } else { "s" }, args.len()), span)
        .with_help(&format!("usage: {synopsis}")))
}

fn call(name: &str, nspan: &Range<usize>, args: &[Arg], sp: &Range<usize>) -> Result<Value, CalcError> {
    let ar = |lo, hi| arity(name, nspan, args, lo, hi, sp);
    let le = |e: LayoutError| lerr(e, sp);
    let lay = |l: Result<Layout, LayoutError>| l.map(Value::Layout).map_err(|e| lerr(e, sp));
    let num = |v: i64| Ok(Value::Tuple(IntTuple::Int(v)));
    match name {
        "size" | "cosize" | "rank" | "depth" => {
            ar(1, 1)?;
            match (&args[0].v, name) {
                (Value::Tv(t), "size") => num(t.size()),
                (Value::Tv(t), "rank") => num(t.rank() as i64),
                (Value::Swizzled(s), "size") => num(s.size()),
                (Value::Swizzled(s), "cosize") => num(s.cosize()),
                (Value::Swizzled(s), "rank") => num(s.layout.rank() as i64),
                (Value::Swizzled(s), "depth") => num(s.layout.depth() as i64),
                _ => {
                    let l = as_layout(&args[0])?;
                    num(match name {
                        "size" => l.size(),
                        "cosize" => l.cosize(),
                        "rank" => l.rank() as i64,
                        _ => l.depth() as i64,
                    })
                }
            }
        }
        "shape" | "stride" => {
            ar(1, 1)?;
            let l = as_layout(&args[0])?;
            Ok(Value::Tuple(if name == "shape" { l.shape().clone() } else { l.stride().clone() }))
        }
        "eval" => {
            ar(2, 3)?;
            if let Value::Tv(t) = &args[0].v {
                ar(3, 3)?;
                let c = t.coords(as_int(&args[1])?, as_int(&args[2])?).map_err(le)?;
                return Ok(Value::Tuple(IntTuple::from(c)));
            }
            ar(2, 2)?;
            let crd = as_tuple(&args[1])?;
            let v = match &args[0].v {
                Value::Swizzled(s) => s.eval_crd(&crd),
                _ => as_layout(&args[0])?.eval_crd(&crd),
            };
            v.map(|x| Value::Tuple(IntTuple::Int(x))).map_err(|e| lerr(e, &args[1].span))
        }
        "make_layout" => {
            ar(1, 64)?;
            Ok(Value::Layout(Layout::concat(&args.iter().map(as_layout).collect::<Result<Vec<_>, _>>()?)))
        }
        "coalesce" => {
            ar(1, 2)?;
            let l = as_layout(&args[0])?;
            match args.get(1) {
                None => Ok(Value::Layout(algebra::coalesce(&l))),
                Some(p) => lay(algebra::coalesce_profile(&l, &as_tuple(p)?)),
            }
        }
        "filter" => {
            ar(1, 1)?;
            Ok(Value::Layout(algebra::filter(&as_layout(&args[0])?)))
        }
        "flatten" => {
            ar(1, 1)?;
            Ok(Value::Layout(as_layout(&args[0])?.flatten()))
        }
        "composition" => {
            ar(2, 2)?;
            compose(&args[0], &args[1], sp)
        }
        "complement" => {
            ar(1, 2)?;
            let l = as_layout(&args[0])?;
            match args.get(1) {
                None => lay(algebra::complement_cosize(&l)),
                Some(c) => lay(algebra::complement_shape(&l, &as_tuple(c)?)),
            }
        }
        "right_inverse" => {
            ar(1, 1)?;
            Ok(Value::Layout(algebra::right_inverse(&as_layout(&args[0])?)))
        }
        "left_inverse" => {
            ar(1, 1)?;
            lay(algebra::left_inverse(&as_layout(&args[0])?))
        }
        "logical_divide" | "zipped_divide" | "tiled_divide" | "flat_divide" | "logical_product" | "zipped_product"
        | "tiled_product" | "flat_product" => {
            ar(2, 2)?;
            let (a, t) = (as_layout(&args[0])?, as_tiler(&args[1])?);
            let f = match name {
                "logical_divide" => divide::logical_divide,
                "zipped_divide" => divide::zipped_divide,
                "tiled_divide" => divide::tiled_divide,
                "flat_divide" => divide::flat_divide,
                "logical_product" => product::logical_product,
                "zipped_product" => product::zipped_product,
                "tiled_product" => product::tiled_product,
                _ => product::flat_product,
            };
            lay(f(&a, &t))
        }
        "blocked_product" | "raked_product" => {
            ar(2, 2)?;
            let (a, b) = (as_layout(&args[0])?, as_layout(&args[1])?);
            lay(if name == "blocked_product" { product::blocked_product(&a, &b) } else { product::raked_product(&a, &b) })
        }
        "tile_to_shape" => {
            ar(2, 3)?;
            let order = args.get(2).map(as_flat).transpose()?;
            lay(product::tile_to_shape(&as_layout(&args[0])?, &as_flat(&args[1])?, order.as_deref()))
        }
        "swizzle" => {
            ar(3, 3)?;
            Swizzle::new(as_int(&args[0])?, as_int(&args[1])?, as_int(&args[2])?).map(Value::Swizzle).map_err(le)
        }
        "local" | "spatial" | "column_local" | "column_spatial" => {
            ar(1, 8)?;
            let dims = args.iter().map(as_int).collect::<Result<Vec<_>, _>>()?;
            let f = match name {
                "local" => tv::local,
                "spatial" => tv::spatial,
                "column_local" => tv::column_local,
                _ => tv::column_spatial,
            };
            f(&dims).map(Value::Tv).map_err(le)
        }
        "replicate" => {
            ar(1, 1)?;
            tv::replicate(as_int(&args[0])?).map(Value::Tv).map_err(le)
        }
        "tv" => {
            ar(2, 2)?;
            TvLayout::from_layout(&as_flat(&args[0])?, &as_layout(&args[1])?).map(Value::Tv).map_err(le)
        }
        "to_layout" => {
            ar(1, 1)?;
            Ok(Value::Layout(as_tv(&args[0])?.to_layout()))
        }
        "left_divide" => {
            ar(2, 2)?;
            as_tv(&args[0])?.div_left(&as_tv(&args[1])?).map(Value::Tv).map_err(le)
        }
        "reduce" => {
            ar(2, 2)?;
            let dims = as_flat(&args[1])?.into_iter().map(|d| usize::try_from(d).unwrap_or(usize::MAX)).collect::<Vec<_>>();
            as_tv(&args[0])?.reduce(&dims, false).map(Value::Tv).map_err(le)
        }
        "reshape" => {
            ar(2, 2)?;
            as_tv(&args[0])?.reshape(&as_flat(&args[1])?).map(Value::Tv).map_err(le)
        }
        "permute" => {
            ar(2, 2)?;
            let p = as_flat(&args[1])?.into_iter().map(|d| usize::try_from(d).unwrap_or(usize::MAX)).collect::<Vec<_>>();
            as_tv(&args[0])?.permute(&p).map(Value::Tv).map_err(le)
        }
        "concat" => {
            ar(2, 2)?;
            as_tv(&args[0])?.concat(&as_tv(&args[1])?).map(Value::Tv).map_err(le)
        }
        "holders" => {
            ar(2, 2)?;
            let tvl = as_tv(&args[0])?;
            if tvl.replication() > 1 << 16 {
                return Err(CalcError::new("too many replicas to list".to_string(), args[0].span.clone()));
            }
            let h = tvl.holders(&as_flat(&args[1])?).map_err(|e| lerr(e, &args[1].span))?;
            let parts: Vec<String> = h.iter().map(|(t, v)| format!("T{t} V{v}")).collect();
            Ok(Value::Text(parts.join(", ")))
        }
        "mma" | "mfma" => {
            ar(3, 3)?;
            let shapes = if name == "mma" { atoms::MMA_SHAPES } else { atoms::MFMA_SHAPES };
            let known: Vec<&str> = shapes.iter().map(|(s, _)| *s).collect();
            let shape = as_sym(&args[0], &known.join(", "))?;
            let types: Vec<&str> = shapes.iter().flat_map(|(_, t)| t.iter().copied()).collect();
            let dtype = as_sym(&args[1], &types.join(", "))?;
            let op: Operand = as_sym(&args[2], "a, b, c")?.parse().map_err(|e| lerr(e, &args[2].span))?;
            let r = if name == "mma" { atoms::mma(shape, dtype, op) } else { atoms::mfma(shape, dtype, op) };
            r.map(Value::Tv).map_err(le)
        }
        "ldmatrix" | "stmatrix" => {
            ar(1, 2)?;
            let n = matrix_count(&args[0])?;
            let trans = match args.get(1) {
                None => false,
                Some(a) if as_sym(a, "trans")? == "trans" => true,
                Some(a) => return Err(CalcError::new("expected `trans`".to_string(), a.span.clone())),
            };
            atoms::ldmatrix(n, trans).map(Value::Tv).map_err(le)
        }
        "wgmma_acc" => {
            ar(1, 1)?;
            atoms::wgmma_acc(as_int(&args[0])?).map(Value::Tv).map_err(le)
        }
        "bank_conflicts" => {
            ar(3, 3)?;
            let smem = as_smem(&args[0])?;
            let base = smem.base();
            if base.rank() != 2 || base.size() > 1 << 20 {
                return Err(CalcError::new("bank_conflicts needs a rank-2 layout of at most 2^20 elements".to_string(), args[0].span.clone()));
            }
            let (rows, cols) = (base.mode(0).map_err(le)?.size(), base.mode(1).map_err(le)?.size());
            let bits = as_int(&args[1])?;
            let acc = smem::pattern_accesses(rows, cols, bits, &pattern(&args[2])?).map_err(le)?;
            let r = smem::analyze_all(&smem, bits, &acc).map_err(le)?;
            Ok(Value::Text(format!(
                "wavefronts {} (ideal {}), conflicts {}{}\n{}",
                r.wavefronts,
                r.ideal,
                r.conflicts,
                if r.vectors_intact { "" } else { ", vectors split by the layout" },
                r.conflicts
            )))
        }
        "choose_swizzle" => {
            ar(3, 3)?;
            let shape = as_flat(&args[0])?;
            if shape.len() != 2 || shape.iter().product::<i64>() > 1 << 20 || shape.iter().any(|&x| x < 1) {
                return Err(CalcError::new("expected a (rows,cols) tile of at most 2^20 elements".to_string(), args[0].span.clone()));
            }
            let bits = as_int(&args[1])?;
            match smem::choose_swizzle(shape[0], shape[1], bits, &pattern(&args[2])?).map_err(le)? {
                Some((sw, _)) => Ok(Value::Swizzle(sw)),
                None => Err(CalcError::new("no swizzle Sw<B,M,S> removes all conflicts".to_string(), sp.clone())),
            }
        }
        _ => {
            let names: Vec<&str> = FUNCTIONS.iter().map(|(n, _)| *n).collect();
            Err(CalcError::new(format!("unknown function `{name}`"), nspan.clone())
                .with_help(&format!("valid functions: {}", names.join(", "))))
        }
    }
}

//! The calculator's function table: every callable name, its arity, and its evaluation with
//! the layout algebra.

use super::eval::compose;
use super::value::*;
use super::CalcError;
use crate::atoms::{self, Operand};
use crate::int_tuple::IntTuple;
use crate::layout::Layout;
use crate::smem;
use crate::swizzle::Swizzle;
use crate::tv::{self, TvLayout};
use crate::{algebra, divide, product, LayoutError};
use std::ops::Range;

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
    (
        "mma",
        "mma(m16n8k16|m16n8k32|m16n8k8, f16|bf16|s8|u8|tf32, a|b|c)",
    ),
    ("ldmatrix", "ldmatrix(x1|x2|x4 [, trans])"),
    ("stmatrix", "stmatrix(x1|x2|x4 [, trans])"),
    ("wgmma_acc", "wgmma_acc(N)"),
    ("mfma", "mfma(32x32x8|16x16x16, f16, a|b|c)"),
    (
        "bank_conflicts",
        "bank_conflicts(L, element_bits, x1|x2|x4|vec4|vec8|vec16)",
    ),
    (
        "choose_swizzle",
        "choose_swizzle((rows,cols), element_bits, x1|x2|x4|vec4|vec8|vec16)",
    ),
];

fn arity(
    name: &str,
    nspan: &Range<usize>,
    args: &[Arg],
    lo: usize,
    hi: usize,
    sp: &Range<usize>,
) -> Result<(), CalcError> {
    if (lo..=hi).contains(&args.len()) {
        return Ok(());
    }
    let n = if lo == hi {
        format!("{lo}")
    } else {
        format!("{lo} to {hi}")
    };
    let synopsis = FUNCTIONS
        .iter()
        .find(|(f, _)| *f == name)
        .map(|(_, s)| *s)
        .unwrap_or(name);
    let span = if args.len() > hi {
        args[hi].span.start..sp.end
    } else {
        nspan.start..sp.end
    };
    Err(CalcError::new(
        format!(
            "`{name}` takes {n} argument{}, got {}",
            if hi == 1 { "" } else { "s" },
            args.len()
        ),
        span,
    )
    .with_help(&format!("usage: {synopsis}")))
}

pub(crate) fn call(
    name: &str,
    nspan: &Range<usize>,
    args: &[Arg],
    sp: &Range<usize>,
) -> Result<Value, CalcError> {
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
            Ok(Value::Tuple(if name == "shape" {
                l.shape().clone()
            } else {
                l.stride().clone()
            }))
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
            v.map(|x| Value::Tuple(IntTuple::Int(x)))
                .map_err(|e| lerr(e, &args[1].span))
        }
        "make_layout" => {
            ar(1, 64)?;
            Ok(Value::Layout(Layout::concat(
                &args.iter().map(as_layout).collect::<Result<Vec<_>, _>>()?,
            )))
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
        "logical_divide" | "zipped_divide" | "tiled_divide" | "flat_divide" | "logical_product"
        | "zipped_product" | "tiled_product" | "flat_product" => {
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
            lay(if name == "blocked_product" {
                product::blocked_product(&a, &b)
            } else {
                product::raked_product(&a, &b)
            })
        }
        "tile_to_shape" => {
            ar(2, 3)?;
            let order = args.get(2).map(as_flat).transpose()?;
            lay(product::tile_to_shape(
                &as_layout(&args[0])?,
                &as_flat(&args[1])?,
                order.as_deref(),
            ))
        }
        "swizzle" => {
            ar(3, 3)?;
            Swizzle::new(as_int(&args[0])?, as_int(&args[1])?, as_int(&args[2])?)
                .map(Value::Swizzle)
                .map_err(le)
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
            TvLayout::from_layout(&as_flat(&args[0])?, &as_layout(&args[1])?)
                .map(Value::Tv)
                .map_err(le)
        }
        "to_layout" => {
            ar(1, 1)?;
            Ok(Value::Layout(as_tv(&args[0])?.to_layout()))
        }
        "left_divide" => {
            ar(2, 2)?;
            as_tv(&args[0])?
                .div_left(&as_tv(&args[1])?)
                .map(Value::Tv)
                .map_err(le)
        }
        "reduce" => {
            ar(2, 2)?;
            let dims = as_flat(&args[1])?
                .into_iter()
                .map(|d| usize::try_from(d).unwrap_or(usize::MAX))
                .collect::<Vec<_>>();
            as_tv(&args[0])?
                .reduce(&dims, false)
                .map(Value::Tv)
                .map_err(le)
        }
        "reshape" => {
            ar(2, 2)?;
            as_tv(&args[0])?
                .reshape(&as_flat(&args[1])?)
                .map(Value::Tv)
                .map_err(le)
        }
        "permute" => {
            ar(2, 2)?;
            let p = as_flat(&args[1])?
                .into_iter()
                .map(|d| usize::try_from(d).unwrap_or(usize::MAX))
                .collect::<Vec<_>>();
            as_tv(&args[0])?.permute(&p).map(Value::Tv).map_err(le)
        }
        "concat" => {
            ar(2, 2)?;
            as_tv(&args[0])?
                .concat(&as_tv(&args[1])?)
                .map(Value::Tv)
                .map_err(le)
        }
        "holders" => {
            ar(2, 2)?;
            let tvl = as_tv(&args[0])?;
            if tvl.replication() > 1 << 16 {
                return Err(CalcError::new(
                    "too many replicas to list".to_string(),
                    args[0].span.clone(),
                ));
            }
            let h = tvl
                .holders(&as_flat(&args[1])?)
                .map_err(|e| lerr(e, &args[1].span))?;
            let parts: Vec<String> = h.iter().map(|(t, v)| format!("T{t} V{v}")).collect();
            Ok(Value::Text(parts.join(", ")))
        }
        "mma" | "mfma" => {
            ar(3, 3)?;
            let shapes = if name == "mma" {
                atoms::MMA_SHAPES
            } else {
                atoms::MFMA_SHAPES
            };
            let known: Vec<&str> = shapes.iter().map(|(s, _)| *s).collect();
            let shape = as_sym(&args[0], &known.join(", "))?;
            let types: Vec<&str> = shapes.iter().flat_map(|(_, t)| t.iter().copied()).collect();
            let dtype = as_sym(&args[1], &types.join(", "))?;
            let op: Operand = as_sym(&args[2], "a, b, c")?
                .parse()
                .map_err(|e| lerr(e, &args[2].span))?;
            let r = if name == "mma" {
                atoms::mma(shape, dtype, op)
            } else {
                atoms::mfma(shape, dtype, op)
            };
            r.map(Value::Tv).map_err(le)
        }
        "ldmatrix" | "stmatrix" => {
            ar(1, 2)?;
            let n = matrix_count(&args[0])?;
            let trans = match args.get(1) {
                None => false,
                Some(a) if as_sym(a, "trans")? == "trans" => true,
                Some(a) => {
                    return Err(CalcError::new(
                        "expected `trans`".to_string(),
                        a.span.clone(),
                    ))
                }
            };
            atoms::ldmatrix(n, trans).map(Value::Tv).map_err(le)
        }
        "wgmma_acc" => {
            ar(1, 1)?;
            atoms::wgmma_acc(as_int(&args[0])?)
                .map(Value::Tv)
                .map_err(le)
        }
        "bank_conflicts" => {
            ar(3, 3)?;
            let smem = as_smem(&args[0])?;
            let base = smem.base();
            if base.rank() != 2 || base.size() > 1 << 20 {
                return Err(CalcError::new(
                    "bank_conflicts needs a rank-2 layout of at most 2^20 elements".to_string(),
                    args[0].span.clone(),
                ));
            }
            let (rows, cols) = (
                base.mode(0).map_err(le)?.size(),
                base.mode(1).map_err(le)?.size(),
            );
            let bits = as_int(&args[1])?;
            let acc = smem::pattern_accesses(rows, cols, bits, &pattern(&args[2])?).map_err(le)?;
            let r = smem::analyze_all(&smem, bits, &acc).map_err(le)?;
            Ok(Value::Text(format!(
                "wavefronts {} (ideal {}), conflicts {}{}\n{}",
                r.wavefronts,
                r.ideal,
                r.conflicts,
                if r.vectors_intact {
                    ""
                } else {
                    ", vectors split by the layout"
                },
                r.conflicts
            )))
        }
        "choose_swizzle" => {
            ar(3, 3)?;
            let shape = as_flat(&args[0])?;
            if shape.len() != 2
                || shape.iter().product::<i64>() > 1 << 20
                || shape.iter().any(|&x| x < 1)
            {
                return Err(CalcError::new(
                    "expected a (rows,cols) tile of at most 2^20 elements".to_string(),
                    args[0].span.clone(),
                ));
            }
            let bits = as_int(&args[1])?;
            match smem::choose_swizzle(shape[0], shape[1], bits, &pattern(&args[2])?).map_err(le)? {
                Some((sw, _)) => Ok(Value::Swizzle(sw)),
                None => Err(CalcError::new(
                    "no swizzle Sw<B,M,S> removes all conflicts".to_string(),
                    sp.clone(),
                )),
            }
        }
        _ => {
            let names: Vec<&str> = FUNCTIONS.iter().map(|(n, _)| *n).collect();
            Err(
                CalcError::new(format!("unknown function `{name}`"), nspan.clone())
                    .with_help(&format!("valid functions: {}", names.join(", "))),
            )
        }
    }
}

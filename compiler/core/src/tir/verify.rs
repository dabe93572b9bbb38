//! The tile IR verifier: checks the invariants every pass may rely on.
//!
//! Run after semantic analysis and after every pass in debug and test builds; a failure is a compiler
//! bug, reported as such (never a user error).

use super::*;

/// Checks one kernel; returns a description of the first broken invariant.
pub fn verify_kernel(k: &Kernel) -> Result<(), String> {
    let mut defined = vec![false; k.values.len()];
    verify_block(k, &k.body, &mut defined)
}

fn verify_block(k: &Kernel, b: &Block, defined: &mut [bool]) -> Result<(), String> {
    for &a in &b.args {
        define(a, defined)?;
    }
    for inst in &b.insts {
        let uses: Vec<ValueId> = match &inst.op {
            Op::Const(_) | Op::BlockIndex(_) | Op::DimSize(_) | Op::ScalarParam(_) => vec![],
            Op::Unary(_, a) | Op::Cast(a) | Op::Splat(a) | Op::Broadcast(a) => vec![*a],
            Op::Math(_, a) | Op::Reshape(a) | Op::Bitcast(a) => vec![*a],
            Op::Reduce { value, .. } | Op::Cumsum { value, .. } | Op::Permute { value, .. } | Op::Repeat { value, .. } => vec![*value],
            Op::Where(a, b, c) | Op::Fma(a, b, c) | Op::Dot { a, b, acc: c } => vec![*a, *b, *c],
            Op::Arange { .. } => vec![],
            Op::AtomicAdd { offsets, value, .. } => offsets.iter().copied().chain([*value]).collect(),
            Op::Print { args, .. } => args.clone(),
            Op::Binary(_, a, b) | Op::Compare(_, a, b) => vec![*a, *b],
            Op::Load { offsets, .. } => offsets.clone(),
            Op::Store { offsets, value, mask, .. } => offsets.iter().copied().chain([*value]).chain(*mask).collect(),
            Op::For { start, end, inits, .. } => [*start, *end].into_iter().chain(inits.iter().copied()).collect(),
            Op::If { cond, .. } => vec![*cond],
            Op::While { inits, .. } => inits.clone(),
            Op::Break(vals) | Op::Continue(vals) => vals.clone(),
            Op::LoadShared(sv) => sv.offsets.clone(),
            Op::StoreShared { view, value } => view.offsets.iter().copied().chain([*value]).collect(),
            Op::CopyAsync { view, offsets, .. } => view.offsets.iter().chain(offsets).copied().collect(),
            Op::CommitGroup | Op::WaitGroup(_) | Op::Barrier => vec![],
            Op::Annotate(x, _) => vec![*x],
            Op::ThreadIds(_) | Op::Threads => vec![],
        };
        for u in &uses {
            if !defined.get(u.index()).copied().unwrap_or(false) {
                return Err(format!("%{} used before it is defined", u.0));
            }
        }
        match &inst.op {
            Op::Binary(_, a, b) | Op::Compare(_, a, b) if k.ty(*a) != k.ty(*b) => {
                return Err(format!("operands %{} and %{} differ in type", a.0, b.0));
            }
            Op::Load { tensor, offsets } | Op::Store { tensor, offsets, .. } => {
                let ParamKind::Tensor { shape, .. } = &k.params[*tensor].kind else {
                    return Err(format!("load/store of non-tensor parameter {}", k.params[*tensor].name));
                };
                if shape.len() != offsets.len() {
                    return Err(format!("{} offsets for a rank-{} tensor", offsets.len(), shape.len()));
                }
            }
            Op::For { step, inits, body, .. } => {
                if *step <= 0 || body.args.len() != inits.len() + 1 || body.yields.len() != inits.len() {
                    return Err("malformed for".into());
                }
                for (i, y) in inits.iter().zip(&body.args[1..]) {
                    if k.ty(*i) != k.ty(*y) {
                        return Err(format!("carried value %{} changes type in the loop", y.0));
                    }
                }
                let mut inner = defined.to_vec();
                verify_block(k, body, &mut inner)?;
                for y in &body.yields {
                    if !inner[y.index()] {
                        return Err(format!("yield of undefined %{}", y.0));
                    }
                }
            }
            Op::LoadShared(sv) | Op::StoreShared { view: sv, .. } | Op::CopyAsync { view: sv, .. } => {
                let Some(buf) = k.shared.get(sv.buffer) else { return Err(format!("no shared buffer {}", sv.buffer)) };
                if sv.offsets.len() != buf.shape.len() || sv.spans.iter().any(|d| *d >= buf.shape.len()) {
                    return Err(format!("malformed view of shared buffer {}", sv.buffer));
                }
            }
            Op::If { then, els, .. } => {
                if then.yields.len() != inst.results.len() || els.yields.len() != inst.results.len() {
                    return Err("if branches yield a different number of values than the if has results".into());
                }
                for b in [then, els] {
                    let mut inner = defined.to_vec();
                    verify_block(k, b, &mut inner)?;
                    for (y, r) in b.yields.iter().zip(&inst.results) {
                        if k.ty(*y) != k.ty(*r) {
                            return Err(format!("if yields %{} of another type than its result %{}", y.0, r.0));
                        }
                    }
                }
            }
            Op::While { inits, cond, body } => {
                if cond.args.len() != inits.len() || body.args.len() != inits.len() || body.yields.len() != inits.len() || cond.yields.len() != 1 {
                    return Err("malformed while".into());
                }
                for b in [cond, body] {
                    let mut inner = defined.to_vec();
                    verify_block(k, b, &mut inner)?;
                }
            }
            Op::AtomicAdd { tensor, offsets, value } => {
                let ParamKind::Tensor { shape, dtype, .. } = &k.params[*tensor].kind else {
                    return Err(format!("atomic_add into non-tensor parameter {}", k.params[*tensor].name));
                };
                if shape.len() != offsets.len() || k.ty(*value).shape().len() != shape.len() || k.ty(*value).dtype() != *dtype {
                    return Err("atomic_add value does not match its tensor".into());
                }
            }
            _ if inst.results.len() == 1 => check_compute(k, &inst.op, k.ty(inst.results[0]))?,
            _ => {}
        }
        for &r in &inst.results {
            define(r, defined)?;
        }
    }
    Ok(())
}

fn define(v: ValueId, defined: &mut [bool]) -> Result<(), String> {
    match defined.get_mut(v.index()) {
        Some(d) if !*d => {
            *d = true;
            Ok(())
        }
        Some(_) => Err(format!("%{} defined twice", v.0)),
        None => Err(format!("%{} is not in the value arena", v.0)),
    }
}

// Checks of the tile compute operations (math, where, fma, dot, reductions, shape ops, bitcast,
// arange): operand types against the result type.

/// Checks one instruction with a single result of type `ty`; other ops pass.
fn check_compute(k: &Kernel, op: &Op, ty: &Type) -> Result<(), String> {
    let t = |v: &ValueId| k.ty(*v);
    match op {
        Op::Math(m, a) => {
            if t(a) != ty {
                return Err(format!("{} changes the type", m.name()));
            }
            let d = ty.dtype();
            if !(d.is_float() || (*m == MathOp::Abs && d.is_signed_int())) {
                return Err(format!("{} on {d}", m.name()));
            }
        }
        Op::Where(c, a, b) if t(c) != &ty.with_dtype(tilec_dtype::DType::Bool) || t(a) != ty || t(b) != ty => {
            return Err("where operands do not match the result".into());
        }
        Op::Fma(a, b, c) if t(a) != ty || t(b) != ty || t(c) != ty || !ty.dtype().is_float() => {
            return Err("fma operands do not match the result".into());
        }
        Op::Dot { a, b, acc } => {
            let (sa, sb) = (t(a).shape(), t(b).shape());
            if sa.len() != 2 || sb.len() != 2 || sa[1] != sb[0] || t(a).dtype() != t(b).dtype() {
                return Err("dot operands are not [M, K] and [K, N] of one dtype".into());
            }
            if t(acc) != ty || ty.shape() != [sa[0], sb[1]] {
                return Err("dot accumulator does not match the result".into());
            }
            let want = if t(a).dtype().is_float() { tilec_dtype::DType::F32 } else { tilec_dtype::DType::Int { bits: 32, signed: true } };
            if ty.dtype() != want {
                return Err(format!("dot accumulates in {}, not {}", want, ty.dtype()));
            }
        }
        Op::Reduce { op, value, dim } => {
            let from = t(value);
            let is_bool = from.dtype().is_bool();
            if matches!(op, ReduceOp::Any | ReduceOp::All) != is_bool || ty.dtype() != from.dtype() || !from.is_tile() {
                return Err(format!("reduce {} of {from}", op.name()));
            }
            let ok = match dim {
                None => ty.numel() == 1 && (ty.shape().is_empty() || ty.shape().len() == from.shape().len()),
                Some(d) if *d < from.shape().len() => {
                    let mut keep = from.shape().to_vec();
                    keep[*d] = 1;
                    let mut drop = from.shape().to_vec();
                    drop.remove(*d);
                    ty.shape() == keep.as_slice() || ty.shape() == drop.as_slice()
                }
                Some(_) => false,
            };
            if !ok {
                return Err(format!("reduce result {ty} does not fit {from}"));
            }
        }
        Op::Cumsum { value, dim } if t(value) != ty || *dim >= ty.shape().len() || ty.dtype().is_bool() => {
            return Err("malformed cumsum".into());
        }
        Op::Permute { value, perm } => {
            let from = t(value).shape();
            let mut seen = vec![false; from.len()];
            for &p in perm {
                if p >= from.len() || std::mem::replace(&mut seen[p], true) {
                    return Err("permute is not a permutation".into());
                }
            }
            let want: Vec<u64> = perm.iter().map(|&p| from[p]).collect();
            if perm.len() != from.len() || ty.shape() != want.as_slice() || ty.dtype() != t(value).dtype() {
                return Err("permute result does not match".into());
            }
        }
        Op::Reshape(a) if t(a).numel() != ty.numel() || t(a).dtype() != ty.dtype() => {
            return Err("reshape changes the element count or dtype".into());
        }
        Op::Repeat { value, reps } => {
            let from = t(value).shape();
            let want: Vec<u64> = from.iter().zip(reps).map(|(a, b)| a * b).collect();
            if reps.len() != from.len() || ty.shape() != want.as_slice() || ty.dtype() != t(value).dtype() {
                return Err("repeat result does not match".into());
            }
        }
        Op::Arange { .. } if ty.shape().len() != 1 || ty.dtype() != tilec_dtype::DType::I64 => {
            return Err("arange gives a 1-D i64 tile".into());
        }
        Op::Bitcast(a) => {
            let (from, fd, td) = (t(a), t(a).dtype().bits() as u64, ty.dtype().bits() as u64);
            let (fs, ts) = (from.shape(), ty.shape());
            let ok = if fs.is_empty() {
                ts.is_empty() && fd == td
            } else {
                fs.len() == ts.len() && fs[..fs.len() - 1] == ts[..ts.len() - 1] && fs[fs.len() - 1] * fd == ts[ts.len() - 1] * td
            };
            if !ok {
                return Err(format!("bitcast of {from} to {ty} changes the bit count"));
            }
        }
        _ => {}
    }
    Ok(())
}

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
            Op::Store { offsets, value, .. } => offsets.iter().copied().chain([*value]).collect(),
            Op::For { start, end, inits, .. } => [*start, *end].into_iter().chain(inits.iter().copied()).collect(),
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
            Op::AtomicAdd { tensor, offsets, value } => {
                let ParamKind::Tensor { shape, dtype } = &k.params[*tensor].kind else {
                    return Err(format!("atomic_add into non-tensor parameter {}", k.params[*tensor].name));
                };
                if shape.len() != offsets.len() || k.ty(*value).shape().len() != shape.len() || k.ty(*value).dtype() != *dtype {
                    return Err("atomic_add value does not match its tensor".into());
                }
            }
            _ if inst.results.len() == 1 => super::verify_ops::check(k, &inst.op, k.ty(inst.results[0]))?,
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

//! Schedule spaces: `tune { BM in [64, 128], BN in [64, 128, 256], require(BM * BN <= 32768) }`.
//!
//! Every entry names a compile-time parameter of the kernel and lists values of its kind; `require`
//! constraints are compile-time booleans over the parameters. The space is enumerated here (its size
//! is bounded) so that an autotuner gets exactly the valid points, and an empty space is an error.

use super::consts;
use super::scope::{Binding, Scopes};
use super::{Checked, ErrorReported, Reporter};
use crate::diag::Diagnostic;
use crate::syntax::ast;
use crate::tir::{ConstValue, TuneSpace};

/// The most points a space may have before constraints.
const MAX_POINTS: usize = 100_000;

pub fn space(t: &ast::Tune, k: &ast::Kernel, consts: &[(String, ConstValue)], rep: &Reporter) -> Checked<TuneSpace> {
    let mut scopes = Scopes::new();
    for (n, v) in consts {
        scopes.bind(n, Binding::Const(v.clone()));
    }
    let mut params: Vec<String> = Vec::new();
    let mut choices: Vec<Vec<ConstValue>> = Vec::new();
    let mut requires = Vec::new();
    let mut failed = false;
    for e in &t.entries {
        match e {
            ast::TuneEntry::Require(r) => requires.push(r),
            ast::TuneEntry::Param { name, values } => {
                let Some(decl) = k.consts.iter().find(|c| c.name.name == name.name) else {
                    let known: Vec<&str> = k.consts.iter().map(|c| c.name.name.as_str()).collect();
                    rep.report(
                        Diagnostic::at(name.span, format!("unknown tuning parameter `{}`", name.name), "not a compile-time parameter of this kernel").with_note(
                            if known.is_empty() { "the kernel has no compile-time parameters".to_string() } else { format!("compile-time parameters: {}", known.join(", ")) },
                        ),
                    );
                    failed = true;
                    continue;
                };
                if params.contains(&name.name) {
                    rep.report(Diagnostic::at(name.span, format!("`{}` is tuned twice", name.name), "repeated"));
                    failed = true;
                    continue;
                }
                if values.is_empty() {
                    rep.report(Diagnostic::at(name.span, format!("`{}` is given no values to try", name.name), "empty list"));
                    failed = true;
                    continue;
                }
                let mut vals = Vec::new();
                for v in values {
                    match consts::eval(v, &scopes) {
                        Ok(c) if kind_of(&c) == decl.kind.name => vals.push(c),
                        Ok(c) => {
                            rep.report(Diagnostic::at(v.span, format!("`{}` is declared `{}` but `{c}` is not", name.name, decl.kind.name), "wrong kind"));
                            failed = true;
                        }
                        Err(d) => {
                            rep.report(d);
                            failed = true;
                        }
                    }
                }
                params.push(name.name.clone());
                choices.push(vals);
            }
        }
    }
    if failed {
        return Err(ErrorReported);
    }
    let total = choices.iter().try_fold(1usize, |acc, c| acc.checked_mul(c.len())).unwrap_or(usize::MAX);
    if total > MAX_POINTS {
        return Err(rep.report(Diagnostic::at(t.span, format!("the schedule space has {total} points"), format!("at most {MAX_POINTS}"))));
    }
    let mut points = Vec::new();
    for index in 0..total {
        let mut rem = index;
        let mut point = Vec::with_capacity(params.len());
        for c in choices.iter().rev() {
            point.push(c[rem % c.len()].clone());
            rem /= c.len();
        }
        point.reverse();
        scopes.push();
        for (n, v) in params.iter().zip(&point) {
            scopes.bind(n, Binding::Const(v.clone()));
        }
        let mut ok = true;
        for r in &requires {
            match consts::eval(r, &scopes) {
                Ok(ConstValue::Bool(b)) => ok &= b,
                Ok(other) => return Err(rep.report(Diagnostic::at(r.span, format!("a `require` must be a boolean, this is `{other}`"), "not a condition"))),
                Err(d) => return Err(rep.report(d)),
            }
        }
        scopes.pop();
        if ok {
            points.push(point);
        }
    }
    if points.is_empty() {
        return Err(rep.report(Diagnostic::at(t.span, "no point of the schedule space satisfies its `require` constraints", "empty space")));
    }
    Ok(TuneSpace { params, points })
}

fn kind_of(c: &ConstValue) -> &'static str {
    match c {
        ConstValue::Int(_) => "int",
        ConstValue::Bool(_) => "bool",
        ConstValue::DType(_) => "dtype",
        ConstValue::Layout(_) => "layout",
    }
}

//! The textual form of the tile IR (`tilec build --emit tir`), used by snapshot tests.
//!
//! ```text
//! kernel vector_add<BLOCK = 1024>(a: global f32[N], ...) grid(cdiv(N, 1024), 1, 1) warps(4) {
//!   %0: i64 = block_index x
//!   %3: f32[1024] = load a[%2]
//! }
//! ```

use super::*;
use std::fmt::Write;

pub fn print_program(p: &Program) -> String {
    let mut out = String::new();
    for (i, k) in p.kernels.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        print_kernel(k, &mut out);
    }
    out
}

fn print_kernel(k: &Kernel, out: &mut String) {
    write!(out, "kernel {}", k.name).unwrap();
    if !k.consts.is_empty() {
        let consts: Vec<String> = k.consts.iter().map(|(n, v)| format!("{n} = {v}")).collect();
        write!(out, "<{}>", consts.join(", ")).unwrap();
    }
    let params: Vec<String> = k.params.iter().map(|p| param(k, p)).collect();
    let grid: Vec<String> = k.grid.iter().map(|g| g.display(&k.dims)).collect();
    write!(out, "({}) grid({}) warps({})", params.join(", "), grid.join(", "), k.warps).unwrap();
    if let Some(t) = &k.tune {
        write!(out, " tune({}: {} points)", t.params.join(", "), t.points.len()).unwrap();
    }
    out.push_str(" {\n");
    for (i, b) in k.shared.iter().enumerate() {
        let dims: Vec<String> = b.shape.iter().map(|d| d.to_string()).collect();
        writeln!(out, "  smem{i}: shared {}[{}]", b.dtype, dims.join(", ")).unwrap();
    }
    block(k, &k.body, 1, out);
    out.push_str("}\n");
}

fn param(k: &Kernel, p: &Param) -> String {
    k.signature_of(p)
}

fn v(id: ValueId) -> String {
    format!("%{}", id.0)
}

fn list(ids: &[ValueId]) -> String {
    ids.iter().map(|&i| v(i)).collect::<Vec<_>>().join(", ")
}

fn block(k: &Kernel, b: &Block, depth: usize, out: &mut String) {
    let pad = "  ".repeat(depth);
    for inst in &b.insts {
        out.push_str(&pad);
        if !inst.results.is_empty() {
            let res: Vec<String> = inst.results.iter().map(|&r| format!("{}: {}", v(r), k.ty(r))).collect();
            write!(out, "{} = ", res.join(", ")).unwrap();
        }
        match &inst.op {
            Op::Const(Literal::Int(c)) => write!(out, "const {c}").unwrap(),
            Op::Const(Literal::Float(c)) => write!(out, "const {c:?}").unwrap(),
            Op::Const(Literal::Bool(c)) => write!(out, "const {c}").unwrap(),
            Op::BlockIndex(a) => write!(out, "block_index {}", ["x", "y", "z"][*a as usize]).unwrap(),
            Op::DimSize(i) => write!(out, "dim {}", k.dims[*i]).unwrap(),
            Op::ScalarParam(i) => write!(out, "param {}", k.params[*i].name).unwrap(),
            Op::Unary(op, a) => write!(out, "{} {}", format!("{op:?}").to_lowercase(), v(*a)).unwrap(),
            Op::Binary(op, a, b) => write!(out, "{} {}, {}", format!("{op:?}").to_lowercase(), v(*a), v(*b)).unwrap(),
            Op::Compare(op, a, b) => write!(out, "cmp {} {}, {}", format!("{op:?}").to_lowercase(), v(*a), v(*b)).unwrap(),
            Op::Cast(a) => write!(out, "cast {}", v(*a)).unwrap(),
            Op::Splat(a) => write!(out, "splat {}", v(*a)).unwrap(),
            Op::Broadcast(a) => write!(out, "broadcast {}", v(*a)).unwrap(),
            Op::Math(op, a) => write!(out, "{} {}", op.name(), v(*a)).unwrap(),
            Op::Where(c, a, b) => write!(out, "where {}, {}, {}", v(*c), v(*a), v(*b)).unwrap(),
            Op::Fma(a, b, c) => write!(out, "fma {}, {}, {}", v(*a), v(*b), v(*c)).unwrap(),
            Op::Dot { a, b, acc } => write!(out, "dot {}, {}, {}", v(*a), v(*b), v(*acc)).unwrap(),
            Op::Reduce { op, value, dim: Some(d) } => write!(out, "reduce {} {} dim {d}", op.name(), v(*value)).unwrap(),
            Op::Reduce { op, value, dim: None } => write!(out, "reduce {} {}", op.name(), v(*value)).unwrap(),
            Op::Cumsum { value, dim } => write!(out, "cumsum {} dim {dim}", v(*value)).unwrap(),
            Op::Permute { value, perm } => {
                write!(out, "permute {} [{}]", v(*value), perm.iter().map(|p| p.to_string()).collect::<Vec<_>>().join(", ")).unwrap()
            }
            Op::Reshape(a) => write!(out, "reshape {}", v(*a)).unwrap(),
            Op::Repeat { value, reps } => {
                write!(out, "repeat {} [{}]", v(*value), reps.iter().map(|p| p.to_string()).collect::<Vec<_>>().join(", ")).unwrap()
            }
            Op::Arange { start } => write!(out, "arange {start}").unwrap(),
            Op::Bitcast(a) => write!(out, "bitcast {}", v(*a)).unwrap(),
            Op::AtomicAdd { tensor, offsets, value } => {
                write!(out, "atomic_add {}[{}], {}", k.params[*tensor].name, list(offsets), v(*value)).unwrap()
            }
            Op::Print { format, args } => {
                write!(out, "print {format:?}").unwrap();
                if !args.is_empty() {
                    write!(out, ", {}", list(args)).unwrap();
                }
            }
            Op::Load { tensor, offsets } => write!(out, "load {}[{}]", k.params[*tensor].name, list(offsets)).unwrap(),
            Op::Store { tensor, offsets, value, mask } => {
                write!(out, "store {}[{}], {}", k.params[*tensor].name, list(offsets), v(*value)).unwrap();
                if let Some(m) = mask {
                    write!(out, " mask {}", v(*m)).unwrap();
                }
            }
            Op::For { start, end, step, inits, body, hints } => {
                write!(out, "for {} in range({}, {}, {step})", v(body.args[0]), v(*start), v(*end)).unwrap();
                match hints.unroll {
                    Some(0) => out.push_str(" unroll"),
                    Some(n) => write!(out, " unroll({n})").unwrap(),
                    None => {}
                }
                if let Some(n) = hints.pipeline {
                    write!(out, " pipeline({n})").unwrap();
                }
                if !inits.is_empty() {
                    let carried: Vec<String> =
                        body.args[1..].iter().zip(inits).map(|(a, i)| format!("{} = {}", v(*a), v(*i))).collect();
                    write!(out, " carry({})", carried.join(", ")).unwrap();
                }
                out.push_str(" {\n");
                block(k, body, depth + 1, out);
                if !body.yields.is_empty() {
                    writeln!(out, "{pad}  yield {}", list(&body.yields)).unwrap();
                }
                write!(out, "{pad}}}").unwrap();
            }
            Op::If { cond, then, els } => {
                writeln!(out, "if {} {{", v(*cond)).unwrap();
                nested(k, then, depth, out);
                writeln!(out, "{pad}}} else {{").unwrap();
                nested(k, els, depth, out);
                write!(out, "{pad}}}").unwrap();
            }
            Op::While { inits, cond, body } => {
                let carried: Vec<String> = cond.args.iter().zip(inits).map(|(a, i)| format!("{} = {}", v(*a), v(*i))).collect();
                writeln!(out, "while carry({}) {{", carried.join(", ")).unwrap();
                nested(k, cond, depth, out);
                write!(out, "{pad}}} do (").unwrap();
                writeln!(out, "{}) {{", list(&body.args)).unwrap();
                nested(k, body, depth, out);
                write!(out, "{pad}}}").unwrap();
            }
            Op::LoadShared(sv) => write!(out, "load_shared {}", shared(sv)).unwrap(),
            Op::StoreShared { view, value } => write!(out, "store_shared {}, {}", shared(view), v(*value)).unwrap(),
            Op::CopyAsync { view, tensor, offsets, shape } => {
                let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
                write!(out, "copy_async {} <- {}[{}] [{}]", shared(view), k.params[*tensor].name, list(offsets), dims.join(", ")).unwrap()
            }
            Op::CommitGroup => out.push_str("commit_group"),
            Op::WaitGroup(n) => write!(out, "wait_group {n}").unwrap(),
            Op::Barrier => out.push_str("barrier"),
            Op::Annotate(x, l) => write!(out, "layout {} {:?}", v(*x), l.text).unwrap(),
            Op::ThreadIds(l) => write!(out, "thread_ids {:?}", l.text).unwrap(),
            Op::Threads => out.push_str("threads"),
            Op::Break(vals) => write!(out, "break {}", list(vals)).unwrap(),
            Op::Continue(vals) => write!(out, "continue {}", list(vals)).unwrap(),
        }
        out.push('\n');
    }
}

fn shared(sv: &SharedView) -> String {
    let spans: Vec<String> = sv.spans.iter().map(|d| d.to_string()).collect();
    format!("smem{}[{}] spans({})", sv.buffer, list(&sv.offsets), spans.join(", "))
}

/// A nested block's instructions and its yield, one level deeper.
fn nested(k: &Kernel, b: &Block, depth: usize, out: &mut String) {
    block(k, b, depth + 1, out);
    if !b.yields.is_empty() {
        writeln!(out, "{}yield {}", "  ".repeat(depth + 1), list(&b.yields)).unwrap();
    }
}

//! The textual form of thread-level programs (for snapshots and debugging). Each instruction is
//! one line ending in its op id; registers print as `%N`, parameters and shared allocations by name.

use super::ops::Op;
use super::{Block, Inst, ParamKind, Program, Reg};
use std::fmt::Write;
use tilec_dtype::{decode, decode_int};

/// Prints `p` as text.
pub fn print_program(p: &Program) -> String {
    let mut out = String::new();
    let params: Vec<String> = p
        .params
        .iter()
        .map(|q| match &q.kind {
            ParamKind::Global(d) => format!("{}: global {d}*", q.name),
            ParamKind::Scalar(d) => format!("{}: {d}", q.name),
            ParamKind::Dim => format!("{}: dim", q.name),
        })
        .collect();
    writeln!(out, "thread_program {}({}) {{", p.name, params.join(", ")).unwrap();
    let (offsets, total) = p.shared_layout();
    for (a, off) in p.shared.iter().zip(offsets) {
        writeln!(out, "  shared {}: {} bytes, align {} (offset {off})", a.name, a.bytes, a.align).unwrap();
    }
    if !p.shared.is_empty() {
        writeln!(out, "  // shared memory: {total} bytes").unwrap();
    }
    block(p, &p.body, 1, &mut out);
    out.push_str("}\n");
    out
}

fn r(x: Reg) -> String {
    format!("%{}", x.0)
}

fn list(xs: &[Reg]) -> String {
    xs.iter().map(|&x| r(x)).collect::<Vec<_>>().join(", ")
}

fn pred(p: &Option<Reg>) -> String {
    p.map(|p| format!(" if {}", r(p))).unwrap_or_default()
}

fn block(p: &Program, b: &Block, depth: usize, out: &mut String) {
    for inst in &b.insts {
        self::inst(p, inst, depth, out);
    }
    if !b.yields.is_empty() {
        writeln!(out, "{}yield {}", "  ".repeat(depth), list(&b.yields)).unwrap();
    }
}

fn inst(p: &Program, i: &Inst, depth: usize, out: &mut String) {
    let ind = "  ".repeat(depth);
    let lhs = if i.results.is_empty() {
        String::new()
    } else {
        let rs: Vec<String> = i.results.iter().map(|&x| format!("{}: {}", r(x), p.ty(x))).collect();
        format!("{} = ", rs.join(", "))
    };
    let gname = |k: usize| p.params.get(k).map(|q| q.name.clone()).unwrap_or_else(|| format!("param{k}"));
    let sname = |k: usize| p.shared.get(k).map(|q| q.name.clone()).unwrap_or_else(|| format!("shared{k}"));
    let name = i.op.name();
    let body = match &i.op {
        Op::Const { ty, bits } => {
            let d = ty.dtype;
            let v = if d.is_float() {
                format!("{} (0x{bits:x})", decode(d, *bits))
            } else {
                decode_int(d, *bits).to_string()
            };
            format!("{name} {v}")
        }
        Op::Undef { .. } | Op::Special(_) | Op::CpAsyncCommit | Op::CpAsyncWait { .. } | Op::BarSync => name,
        Op::Param { index } => format!("{name} {}", gname(*index)),
        Op::Cast { a, .. } | Op::Bitcast { a, .. } | Op::Unary { a, .. } => format!("{name} {}", r(*a)),
        Op::Extract { a, index } => format!("{name} {}[{index}]", r(*a)),
        Op::Insert { a, index, value } => format!("{name} {}[{index}] = {}", r(*a), r(*value)),
        Op::Lop3 { a, b, c, lut } => format!("{name} {}, {}, {}, 0x{lut:02x}", r(*a), r(*b), r(*c)),
        Op::LoadGlobal { param, offset, pred: pr, other, .. } => {
            let other = other.map(|o| format!(" else {}", r(o))).unwrap_or_default();
            format!("{name} {}[{}]{}{other}", gname(*param), r(*offset), pred(pr))
        }
        Op::StoreGlobal { param, offset, value, pred: pr } | Op::AtomicAddGlobal { param, offset, value, pred: pr } => format!("{name} {}[{}], {}{}", gname(*param), r(*offset), r(*value), pred(pr)),
        Op::LoadShared { buf, offset, .. } => format!("{name} {}[{}]", sname(*buf), r(*offset)),
        Op::StoreShared { buf, offset, value, pred: pr } => format!("{name} {}[{}], {}{}", sname(*buf), r(*offset), r(*value), pred(pr)),
        Op::CpAsync { buf, soffset, param, goffset, pred: pr, .. } => {
            format!("{name} {}[{}], {}[{}]{}", sname(*buf), r(*soffset), gname(*param), r(*goffset), pred(pr))
        }
        Op::Print { format, args } if args.is_empty() => format!("{name} {format:?}"),
        Op::Print { format, args } => format!("{name} {format:?}, {}", list(args)),
        Op::Shfl { value, b, c, mask, .. } => format!("{name} {}, {}, 0x{c:x}, 0x{mask:08x}", r(*value), r(*b)),
        Op::Ldmatrix { buf, offset, .. } => format!("{name} {}[{}]", sname(*buf), r(*offset)),
        Op::Stmatrix { buf, offset, value, .. } => format!("{name} {}[{}], {}", sname(*buf), r(*offset), r(*value)),
        Op::For { lo, hi, step, init, body } => {
            let iters: Vec<String> = body.args[1..].iter().zip(init).map(|(&a, &x)| format!("{} = {}", r(a), r(x))).collect();
            let mut s = format!("for {} = {} to {} step {}", r(body.args[0]), r(*lo), r(*hi), r(*step));
            if !iters.is_empty() {
                write!(s, " iter({})", iters.join(", ")).unwrap();
            }
            writeln!(out, "{ind}{lhs}{s} {{  // {}", i.id).unwrap();
            block(p, body, depth + 1, out);
            writeln!(out, "{ind}}}").unwrap();
            return;
        }
        Op::While { init, cond, body } => {
            let iters: Vec<String> = cond.args.iter().zip(init).map(|(&a, &x)| format!("{} = {}", r(a), r(x))).collect();
            writeln!(out, "{ind}{lhs}while iter({}) {{  // {}", iters.join(", "), i.id).unwrap();
            block(p, cond, depth + 1, out);
            writeln!(out, "{ind}}} do ({}) {{", list(&body.args)).unwrap();
            block(p, body, depth + 1, out);
            writeln!(out, "{ind}}}").unwrap();
            return;
        }
        Op::If { cond, then_block, else_block } => {
            writeln!(out, "{ind}{lhs}if {} {{  // {}", r(*cond), i.id).unwrap();
            block(p, then_block, depth + 1, out);
            if !else_block.insts.is_empty() || !else_block.yields.is_empty() {
                writeln!(out, "{ind}}} else {{").unwrap();
                block(p, else_block, depth + 1, out);
            }
            writeln!(out, "{ind}}}").unwrap();
            return;
        }
        op => format!("{name} {}", list(&op.operands())),
    };
    writeln!(out, "{ind}{lhs}{body}  // {}", i.id).unwrap();
}

//! The verifier of thread-level programs: every register defined once and before its uses (in an
//! enclosing block), operand types as each op requires, access sizes PTX has, parameter and
//! shared-allocation indices valid, and shared accesses with a constant offset in bounds and
//! naturally aligned. A failure is a bug of the lowering that built the program.

use super::ops::{BinOp, Op, UnOp};
use super::{Block, Inst, OpId, ParamKind, Program, Reg, Ty};
use crate::syntax::Span;
use std::collections::HashMap;
use std::fmt;
use tilec_dtype::DType;

/// A malformed program: the instruction at fault and what is wrong.
#[derive(Clone, Debug, PartialEq)]
pub struct VerifyError {
    pub op: Option<OpId>,
    pub span: Option<Span>,
    pub message: String,
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.op {
            Some(op) => write!(f, "invalid thread program at {op}: {}", self.message),
            None => write!(f, "invalid thread program: {}", self.message),
        }
    }
}

impl std::error::Error for VerifyError {}

/// Checks `p` (see the module documentation).
pub fn verify(p: &Program) -> Result<(), VerifyError> {
    for (i, a) in p.shared.iter().enumerate() {
        if !a.align.is_power_of_two() {
            return Err(VerifyError { op: None, span: None, message: format!("shared allocation {i} (`{}`) has alignment {}, not a power of two", a.name, a.align) });
        }
        if a.at.is_some_and(|at| at % a.align != 0) {
            return Err(VerifyError { op: None, span: None, message: format!("shared allocation {i} (`{}`) is placed at {}, not a multiple of its alignment {}", a.name, a.at.unwrap_or(0), a.align) });
        }
    }
    let mut v = Verifier { p, state: vec![State::Never; p.regs.len()], consts: HashMap::new(), inner: None };
    v.block(&p.body, &[])
}

#[derive(Clone, Copy, PartialEq)]
enum State {
    Never,
    Live,
    /// Defined in a block that has ended.
    OutOfScope,
}

struct Verifier<'a> {
    p: &'a Program,
    state: Vec<State>,
    consts: HashMap<Reg, u64>,
    /// An error inside a nested block, passed out unchanged.
    inner: Option<VerifyError>,
}

type R<T> = Result<T, String>;

fn access_size(ty: Ty, max: u32) -> R<u32> {
    let bits = ty.bits();
    if !bits.is_multiple_of(8) || !(bits / 8).is_power_of_two() || bits / 8 > max {
        return Err(format!("an access of {ty} ({bits} bits): must be 1, 2, 4, 8 or 16 bytes"));
    }
    Ok(bits / 8)
}

impl Verifier<'_> {
    fn define(&mut self, r: Reg) -> R<()> {
        match self.state.get_mut(r.index()) {
            None => Err(format!("register %{} has no type (outside the program's {} registers)", r.0, self.p.regs.len())),
            Some(State::Never) => {
                self.state[r.index()] = State::Live;
                Ok(())
            }
            Some(_) => Err(format!("register %{} is defined twice", r.0)),
        }
    }

    fn block(&mut self, b: &Block, arg_tys: &[Ty]) -> Result<(), VerifyError> {
        let err = |m: String| VerifyError { op: None, span: None, message: m };
        for (&a, &t) in b.args.iter().zip(arg_tys) {
            self.define(a).map_err(err)?;
            if self.p.ty(a) != t {
                return Err(err(format!("block argument %{} has type {}, expected {t}", a.0, self.p.ty(a))));
            }
        }
        for inst in &b.insts {
            if let Err(m) = self.inst(inst) {
                return Err(self.inner.take().unwrap_or(VerifyError { op: Some(inst.id), span: inst.span, message: format!("{}: {m}", inst.op.name()) }));
            }
        }
        for &y in &b.yields {
            self.used(y).map_err(err)?;
        }
        // What the block defined is not visible after it.
        for r in b.args.iter().chain(b.insts.iter().flat_map(|i| &i.results)) {
            self.state[r.index()] = State::OutOfScope;
        }
        Ok(())
    }

    fn nested(&mut self, b: &Block, arg_tys: &[Ty]) -> R<()> {
        self.block(b, arg_tys).map_err(|e| {
            self.inner = Some(e);
            String::new()
        })
    }

    fn used(&self, r: Reg) -> R<Ty> {
        match self.state.get(r.index()) {
            Some(State::Live) => Ok(self.p.ty(r)),
            _ => Err(format!("register %{} is used before its definition (or outside its block)", r.0)),
        }
    }

    fn scalar_int(&self, r: Reg, what: &str) -> R<()> {
        let t = self.used(r)?;
        if !t.is_scalar() || !t.dtype.is_int() {
            return Err(format!("{what} %{} must be an integer scalar, not {t}", r.0));
        }
        Ok(())
    }

    fn pred(&self, r: Option<Reg>) -> R<()> {
        if let Some(r) = r {
            let t = self.used(r)?;
            if t != Ty::BOOL {
                return Err(format!("predicate %{} must be bool, not {t}", r.0));
            }
        }
        Ok(())
    }

    fn global(&self, param: usize) -> R<()> {
        match self.p.params.get(param).map(|q| &q.kind) {
            Some(ParamKind::Global(_)) => Ok(()),
            Some(_) => Err(format!("parameter {param} is not a global tensor")),
            None => Err(format!("no parameter {param}")),
        }
    }

    fn shared(&self, buf: usize, offset: Reg, size: u32) -> R<()> {
        let a = self.p.shared.get(buf).ok_or_else(|| format!("no shared allocation {buf}"))?;
        self.scalar_int(offset, "offset")?;
        if let Some(&bits) = self.consts.get(&offset) {
            let off = tilec_dtype::decode_int(self.p.ty(offset).dtype, bits);
            if off < 0 || off + size as i128 > a.bytes as i128 {
                return Err(format!("{size} bytes at constant offset {off} are outside `{}` ({} bytes)", a.name, a.bytes));
            }
            if off % size as i128 != 0 {
                return Err(format!("constant offset {off} is not aligned to the access size {size}"));
            }
        }
        Ok(())
    }

    fn inst(&mut self, i: &Inst) -> R<()> {
        let p = self.p;
        for r in i.op.operands() {
            self.used(r)?;
        }
        let t = |r: Reg| p.ty(r);
        let expect_results = |tys: &[Ty]| -> R<()> {
            let got: Vec<Ty> = i.results.iter().map(|&r| p.ty(r)).collect();
            if got != tys {
                let s = |v: &[Ty]| v.iter().map(|t| t.to_string()).collect::<Vec<_>>().join(", ");
                return Err(format!("results have types ({}), expected ({})", s(&got), s(tys)));
            }
            Ok(())
        };
        match &i.op {
            Op::Const { ty, bits } => {
                if !ty.is_scalar() {
                    return Err(format!("a constant must be a scalar, not {ty}"));
                }
                if ty.dtype.bits() < 64 && bits >> ty.dtype.bits() != 0 {
                    return Err(format!("bit pattern 0x{bits:x} is wider than {}", ty.dtype));
                }
                expect_results(&[*ty])?;
                self.consts.insert(i.results[0], *bits);
            }
            Op::Undef { ty } => expect_results(&[*ty])?,
            Op::Special(s) => {
                if let super::Special::BlockId(a) | super::Special::NumBlocks(a) = s {
                    if *a > 2 {
                        return Err(format!("axis {a} (x, y, z are 0, 1, 2)"));
                    }
                }
                expect_results(&[Ty::I32])?
            }
            Op::Param { index } => match p.params.get(*index).map(|q| &q.kind) {
                Some(ParamKind::Scalar(d)) => expect_results(&[Ty::scalar(*d)])?,
                Some(ParamKind::Dim) => expect_results(&[Ty::I64])?,
                Some(ParamKind::Global(_)) => return Err(format!("parameter {index} is a global tensor: access it with loads and stores")),
                None => return Err(format!("no parameter {index}")),
            },
            Op::Binary { op, a, b } => {
                if t(*a) != t(*b) {
                    return Err(format!("operands of types {} and {}", t(*a), t(*b)));
                }
                let d = t(*a).dtype;
                let ok = if d.is_float() {
                    op.float_ok()
                } else if d.is_bool() {
                    matches!(op, BinOp::And | BinOp::Or | BinOp::Xor | BinOp::Min | BinOp::Max | BinOp::Mul)
                } else {
                    true
                };
                if !ok {
                    return Err(format!("not defined on {d}"));
                }
                expect_results(&[t(*a)])?
            }
            Op::Unary { op, a } => {
                let d = t(*a).dtype;
                let defined = match op {
                    UnOp::Neg => !d.is_bool(),
                    UnOp::Not => !d.is_float(),
                    UnOp::Abs => d.is_float() || d.is_signed(),
                    UnOp::Sqrt | UnOp::Rsqrt => matches!(d, DType::F32 | DType::F64),
                    UnOp::Ex2 | UnOp::Lg2 => d == DType::F32,
                };
                if !defined || !t(*a).is_scalar() && !matches!(op, UnOp::Neg | UnOp::Not) {
                    return Err(format!("not defined on {d}"));
                }
                expect_results(&[t(*a)])?
            }
            Op::Fma { a, b, c } => {
                if t(*a) != t(*b) || t(*a) != t(*c) || t(*a).dtype.is_bool() {
                    return Err(format!("operands of types {}, {}, {}", t(*a), t(*b), t(*c)));
                }
                expect_results(&[t(*a)])?
            }
            Op::Cmp { a, b, .. } => {
                if t(*a) != t(*b) {
                    return Err(format!("operands of types {} and {}", t(*a), t(*b)));
                }
                expect_results(&[t(*a).with_dtype(DType::Bool)])?
            }
            Op::Select { cond, a, b } => {
                if t(*a) != t(*b) {
                    return Err(format!("operands of types {} and {}", t(*a), t(*b)));
                }
                let c = t(*cond);
                if c.dtype != DType::Bool || (c.lanes != 1 && c.lanes != t(*a).lanes) {
                    return Err(format!("condition of type {c} for operands of {}", t(*a)));
                }
                expect_results(&[t(*a)])?
            }
            Op::Cast { a, to } => expect_results(&[t(*a).with_dtype(*to)])?,
            Op::Bitcast { a, to } => {
                if t(*a).bits() != to.bits() {
                    return Err(format!("{} ({} bits) to {to} ({} bits)", t(*a), t(*a).bits(), to.bits()));
                }
                expect_results(&[*to])?
            }
            Op::Pack { elems } => {
                let Some(&first) = elems.first() else { return Err("no elements".into()) };
                let e = t(first);
                if !e.is_scalar() || elems.iter().any(|&x| t(x) != e) {
                    return Err("elements must be scalars of one type".into());
                }
                expect_results(&[Ty::vec(e.dtype, elems.len() as u32)])?
            }
            Op::Extract { a, index } => {
                if *index >= t(*a).lanes {
                    return Err(format!("index {index} of a {}", t(*a)));
                }
                expect_results(&[t(*a).elem()])?
            }
            Op::Insert { a, index, value } => {
                if *index >= t(*a).lanes || t(*value) != t(*a).elem() {
                    return Err(format!("{} at index {index} of a {}", t(*value), t(*a)));
                }
                expect_results(&[t(*a)])?
            }
            Op::Lop3 { a, b, c, .. } | Op::Prmt { a, b, sel: c } => {
                for r in [a, b, c] {
                    if t(*r).bits() != 32 {
                        return Err(format!("operand %{} of type {} is not 32 bits", r.0, t(*r)));
                    }
                }
                expect_results(&[Ty::U32])?
            }
            Op::LoadGlobal { param, offset, ty, pred, other } => {
                self.global(*param)?;
                self.scalar_int(*offset, "offset")?;
                access_size(*ty, 16)?;
                self.pred(*pred)?;
                if let Some(o) = other {
                    if t(*o) != *ty {
                        return Err(format!("`else` value of type {}, expected {ty}", t(*o)));
                    }
                }
                expect_results(&[*ty])?
            }
            Op::StoreGlobal { param, offset, value, pred } => {
                self.global(*param)?;
                self.scalar_int(*offset, "offset")?;
                access_size(t(*value), 16)?;
                self.pred(*pred)?;
                expect_results(&[])?
            }
            Op::AtomicAddGlobal { param, offset, value, pred } => {
                self.global(*param)?;
                self.scalar_int(*offset, "offset")?;
                self.pred(*pred)?;
                let v = t(*value);
                let Some(ParamKind::Global(tensor)) = p.params.get(*param).map(|q| &q.kind) else { unreachable!("checked by `global`") };
                if !v.is_scalar() || v.dtype != *tensor {
                    return Err(format!("adds one element of the tensor's dtype {tensor}, not {v}"));
                }
                if !super::ops::atomic_add_supported(v.dtype) {
                    return Err(format!("no atomic add of {v} in global memory"));
                }
                expect_results(&[])?
            }
            Op::LoadShared { buf, offset, ty } => {
                let size = access_size(*ty, 16)?;
                self.shared(*buf, *offset, size)?;
                expect_results(&[*ty])?
            }
            Op::StoreShared { buf, offset, value, pred } => {
                let size = access_size(t(*value), 16)?;
                self.shared(*buf, *offset, size)?;
                self.pred(*pred)?;
                expect_results(&[])?
            }
            Op::CpAsync { buf, soffset, param, goffset, bytes, pred } => {
                if ![4, 8, 16].contains(bytes) {
                    return Err(format!("copies 4, 8 or 16 bytes, not {bytes}"));
                }
                self.shared(*buf, *soffset, *bytes)?;
                self.global(*param)?;
                self.scalar_int(*goffset, "global offset")?;
                self.pred(*pred)?;
                expect_results(&[])?
            }
            Op::CpAsyncCommit | Op::CpAsyncWait { .. } | Op::BarSync => expect_results(&[])?,
            Op::Shfl { value, b, mask, .. } => {
                if t(*value).bits() != 32 {
                    return Err(format!("shuffles 32-bit values, not {}", t(*value)));
                }
                self.scalar_int(*b, "lane operand")?;
                if *mask == 0 {
                    return Err("empty member mask".into());
                }
                expect_results(&[t(*value)])?
            }
            Op::Ldmatrix { buf, offset, count, .. } => {
                if ![1, 2, 4].contains(count) {
                    return Err(format!("x1, x2 or x4, not x{count}"));
                }
                self.shared(*buf, *offset, 16)?;
                expect_results(&[Ty::vec(DType::U32, *count)])?
            }
            Op::Stmatrix { buf, offset, value, count, .. } => {
                if ![1, 2, 4].contains(count) || t(*value).bits() != 32 * count {
                    return Err(format!("x1, x2 or x4 with 32 bits per matrix, not x{count} of {}", t(*value)));
                }
                self.shared(*buf, *offset, 16)?;
                expect_results(&[])?
            }
            Op::Mma { kind, a, b, c } => {
                if t(*a).bits() != 128 || t(*b).bits() != 64 || t(*c) != kind.acc() {
                    return Err(format!("A of 128 bits, B of 64 bits and C of {} expected, not {}, {}, {}", kind.acc(), t(*a), t(*b), t(*c)));
                }
                expect_results(&[kind.acc()])?
            }
            Op::For { lo, hi, step, init, body } => {
                for (r, w) in [(lo, "lower bound"), (hi, "upper bound"), (step, "step")] {
                    if t(*r) != Ty::I32 {
                        return Err(format!("{w} %{} must be i32, not {}", r.0, t(*r)));
                    }
                }
                if let Some(&s) = self.consts.get(step) {
                    if s as u32 as i32 <= 0 {
                        return Err("the step must be positive".into());
                    }
                }
                let tys: Vec<Ty> = init.iter().map(|&r| t(r)).collect();
                if body.args.len() != init.len() + 1 || body.yields.len() != init.len() {
                    return Err(format!("{} carried values, but {} body arguments and {} yields", init.len(), body.args.len(), body.yields.len()));
                }
                let mut arg_tys = vec![Ty::I32];
                arg_tys.extend(&tys);
                self.nested(body, &arg_tys)?;
                for (&y, &ty) in body.yields.iter().zip(&tys) {
                    if t(y) != ty {
                        return Err(format!("yield %{} of type {}, carried {ty}", y.0, t(y)));
                    }
                }
                expect_results(&tys)?
            }
            Op::Print { format, args } => {
                let holes = super::ops::print_holes(format)?;
                if holes != args.len() {
                    return Err(format!("{} arguments for a format with {holes} holes", args.len()));
                }
                if let Some(&a) = args.iter().find(|&&a| !t(a).is_scalar()) {
                    return Err(format!("argument %{} of type {}: only scalars print", a.0, t(a)));
                }
                expect_results(&[])?
            }
            Op::While { init, cond, body } => {
                let tys: Vec<Ty> = init.iter().map(|&r| t(r)).collect();
                if cond.args.len() != init.len() || body.args.len() != init.len() || body.yields.len() != init.len() {
                    return Err(format!(
                        "{} carried values, but {} condition arguments, {} body arguments and {} yields",
                        init.len(),
                        cond.args.len(),
                        body.args.len(),
                        body.yields.len()
                    ));
                }
                self.nested(cond, &tys)?;
                if cond.yields.len() != 1 || t(cond.yields[0]) != Ty::BOOL {
                    let ys: Vec<Ty> = cond.yields.iter().map(|&r| t(r)).collect();
                    return Err(format!("the condition must yield one bool, not {ys:?}"));
                }
                self.nested(body, &tys)?;
                for (&y, &ty) in body.yields.iter().zip(&tys) {
                    if t(y) != ty {
                        return Err(format!("yield %{} of type {}, carried {ty}", y.0, t(y)));
                    }
                }
                expect_results(&tys)?
            }
            Op::If { cond, then_block, else_block } => {
                if t(*cond) != Ty::BOOL {
                    return Err(format!("condition of type {}", t(*cond)));
                }
                let tys: Vec<Ty> = i.results.iter().map(|&r| t(r)).collect();
                for b in [then_block, else_block] {
                    self.nested(b, &[])?;
                    let ys: Vec<Ty> = b.yields.iter().map(|&r| t(r)).collect();
                    if ys != tys {
                        return Err(format!("a branch yields {} values of types {:?}, the results are {:?}", ys.len(), ys, tys));
                    }
                }
            }
        }
        for &r in &i.results {
            self.define(r)?;
        }
        self.fold(i);
        Ok(())
    }

    /// Records the value of an integer scalar computed from constants (offset arithmetic), so the
    /// shared accesses it addresses are checked too.
    fn fold(&mut self, i: &Inst) {
        let p = self.p;
        let value = match &i.op {
            Op::Binary { op, a, b } if p.ty(*a).is_scalar() && p.ty(*a).dtype.is_int() => match (self.consts.get(a), self.consts.get(b)) {
                (Some(&x), Some(&y)) => super::scalar::binary(*op, p.ty(*a).dtype, x, y).ok(),
                _ => None,
            },
            Op::Cast { a, to } if p.ty(*a).is_scalar() && p.ty(*a).dtype.is_int() && to.is_int() => {
                self.consts.get(a).map(|&x| tilec_dtype::cast_bits(p.ty(*a).dtype, *to, x))
            }
            _ => None,
        };
        if let Some(v) = value {
            self.consts.insert(i.results[0], v);
        }
    }
}

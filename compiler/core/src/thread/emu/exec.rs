//! Executing one block: every instruction for all active threads in lock-step.
//!
//! A register value is one `Option<u64>` code per element (`None`: never written, as after
//! `undef` or a predicated-off load without `else`); reading an unwritten element is an error.

mod collective;

use super::global::GlobalTracker;
use super::shared::Shared;
use super::{ArgValue, EmuError, EmuErrorKind};
use crate::thread::ops::{BinOp, Op, Special};
use crate::thread::{scalar, Block, Inst, Program, Reg, Ty};
use crate::interp::{format_scalar, Scalar};
use std::collections::{BTreeMap, VecDeque};
use tilec_dtype::pack::{get as get_bits, set as set_bits};
use tilec_dtype::{cast_bits, decode_int};

type Val = Vec<Option<u64>>;

/// One `cp.async` in flight: where it lands and what it carries (read at issue).
struct Copy {
    addr: u32,
    data: Vec<u8>,
}

/// A thread's `cp.async` state: copies not yet committed, and committed groups, oldest first.
#[derive(Default)]
struct Async {
    uncommitted: Vec<Copy>,
    groups: VecDeque<Vec<Copy>>,
}

struct Run<'a> {
    p: &'a Program,
    args: &'a mut [ArgValue],
    global: &'a mut GlobalTracker,
    block: [u32; 3],
    grid: [u32; 3],
    nthreads: u32,
    /// `regs[thread][reg]`.
    regs: Vec<Vec<Option<Val>>>,
    shared: Shared,
    asyncs: Vec<Async>,
    /// The lines `print` wrote, in execution order.
    out: &'a mut Vec<String>,
}

/// Runs block `block` of the grid.
pub fn run_block(p: &Program, args: &mut [ArgValue], global: &mut GlobalTracker, block: [u32; 3], grid: [u32; 3], nthreads: u32, out: &mut Vec<String>) -> Result<(), EmuError> {
    let mut run = Run {
        p,
        args,
        global,
        block,
        grid,
        nthreads,
        regs: vec![vec![None; p.regs.len()]; nthreads as usize],
        shared: Shared::new(p),
        asyncs: (0..nthreads).map(|_| Async::default()).collect(),
        out,
    };
    let all: Vec<u32> = (0..nthreads).collect();
    run.block(&p.body, &all)
}

/// The bytes of a register value of type `ty` (elements packed from the lowest bit).
fn to_bytes(ty: Ty, codes: &[u64]) -> Vec<u8> {
    let w = ty.dtype.bits();
    let mut bytes = vec![0u8; (ty.bits() as usize).div_ceil(8)];
    for (i, &c) in codes.iter().enumerate() {
        set_bits(w, &mut bytes, i, c);
    }
    bytes
}

fn from_bytes(ty: Ty, bytes: &[u8]) -> Vec<u64> {
    (0..ty.lanes as usize).map(|i| get_bits(ty.dtype.bits(), bytes, i)).collect()
}

fn full(codes: Vec<u64>) -> Val {
    codes.into_iter().map(Some).collect()
}

fn u32s(bytes: &[u8]) -> Vec<u32> {
    bytes.chunks(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
}

impl<'a> Run<'a> {
    fn err(&self, inst: &Inst, thread: Option<u32>, kind: EmuErrorKind) -> EmuError {
        EmuError { kind, op: Some(inst.id), span: inst.span, block: self.block, thread }
    }

    fn val(&self, inst: &Inst, t: u32, r: Reg) -> Result<&Val, EmuError> {
        self.regs[t as usize][r.index()].as_ref().ok_or_else(|| self.err(inst, Some(t), EmuErrorKind::Uninitialised { reg: r, element: None }))
    }

    /// Every element of `r` in thread `t` (all must be written).
    fn read(&self, inst: &Inst, t: u32, r: Reg) -> Result<Vec<u64>, EmuError> {
        let v = self.val(inst, t, r)?;
        let lanes = v.len();
        v.iter()
            .enumerate()
            .map(|(i, x)| x.ok_or_else(|| self.err(inst, Some(t), EmuErrorKind::Uninitialised { reg: r, element: (lanes > 1).then_some(i as u32) })))
            .collect()
    }

    fn read1(&self, inst: &Inst, t: u32, r: Reg) -> Result<u64, EmuError> {
        Ok(self.read(inst, t, r)?[0])
    }

    /// The exact integer value of scalar `r`.
    fn int(&self, inst: &Inst, t: u32, r: Reg) -> Result<i128, EmuError> {
        Ok(decode_int(self.p.ty(r).dtype, self.read1(inst, t, r)?))
    }

    fn pred(&self, inst: &Inst, t: u32, r: Option<Reg>) -> Result<bool, EmuError> {
        match r {
            None => Ok(true),
            Some(r) => Ok(self.read1(inst, t, r)? & 1 == 1),
        }
    }

    /// The 32-bit pattern of a 32-bit register.
    fn b32(&self, inst: &Inst, t: u32, r: Reg) -> Result<u32, EmuError> {
        Ok(u32s(&to_bytes(self.p.ty(r), &self.read(inst, t, r)?))[0])
    }

    fn set(&mut self, t: u32, r: Reg, v: Val) {
        self.regs[t as usize][r.index()] = Some(v);
    }

    fn block(&mut self, b: &'a Block, active: &[u32]) -> Result<(), EmuError> {
        for inst in &b.insts {
            self.inst(inst, active)?;
        }
        Ok(())
    }

    /// The yielded values of `b` in thread `t`.
    fn yields(&self, inst: &Inst, b: &Block, t: u32) -> Result<Vec<Val>, EmuError> {
        b.yields.iter().map(|&y| self.val(inst, t, y).cloned()).collect()
    }

    fn inst(&mut self, inst: &'a Inst, active: &[u32]) -> Result<(), EmuError> {
        match &inst.op {
            Op::BarSync => {
                if active.len() as u32 != self.nthreads {
                    let missing = (0..self.nthreads).find(|t| !active.contains(t));
                    return Err(self.err(inst, missing, EmuErrorKind::Deadlock { arrived: active.len() as u32, threads: self.nthreads }));
                }
                self.shared.epoch += 1;
                Ok(())
            }
            Op::Print { format, args } => {
                // Threads in order: the text of one line does not depend on the schedule, only the
                // order of lines of different threads (the lowering prints from one thread).
                let pieces = crate::thread::ops::print_pieces(format).map_err(|m| self.err(inst, None, EmuErrorKind::Invalid(m)))?;
                for &t in active {
                    let mut line = pieces[0].clone();
                    for (&a, piece) in args.iter().zip(&pieces[1..]) {
                        let dt = self.p.ty(a).dtype;
                        let bits = self.read1(inst, t, a)?;
                        let v = if dt.is_bool() {
                            Scalar::Bool(bits & 1 == 1)
                        } else if dt.is_float() {
                            Scalar::Float(tilec_dtype::decode(dt, bits))
                        } else {
                            Scalar::Int(decode_int(dt, bits) as i64)
                        };
                        line.push_str(&format_scalar(dt, v));
                        line.push_str(piece);
                    }
                    self.out.push(line);
                }
                Ok(())
            }
            Op::Shfl { .. } | Op::Ldmatrix { .. } | Op::Stmatrix { .. } | Op::Mma { .. } => self.collective(inst, active),
            Op::For { lo, hi, step, init, body } => self.for_loop(inst, active, (*lo, *hi, *step), init, body),
            Op::While { init, cond, body } => self.while_loop(inst, active, init, cond, body),
            Op::If { cond, then_block, else_block } => {
                let mut then_t = Vec::new();
                let mut else_t = Vec::new();
                for &t in active {
                    if self.read1(inst, t, *cond)? & 1 == 1 {
                        then_t.push(t);
                    } else {
                        else_t.push(t);
                    }
                }
                for (b, threads) in [(then_block, then_t), (else_block, else_t)] {
                    if threads.is_empty() {
                        continue;
                    }
                    self.block(b, &threads)?;
                    for &t in &threads {
                        let ys = self.yields(inst, b, t)?;
                        for (&r, v) in inst.results.iter().zip(ys) {
                            self.set(t, r, v);
                        }
                    }
                }
                Ok(())
            }
            _ => {
                for &t in active {
                    if let Some(v) = self.thread_op(inst, t)? {
                        self.set(t, inst.results[0], v);
                    }
                }
                Ok(())
            }
        }
    }

    fn for_loop(&mut self, inst: &Inst, active: &[u32], (lo, hi, step): (Reg, Reg, Reg), init: &[Reg], body: &'a Block) -> Result<(), EmuError> {
        let mut bounds = BTreeMap::new();
        let mut live = Vec::new();
        for &t in active {
            let (l, h, s) = (self.int(inst, t, lo)?, self.int(inst, t, hi)?, self.int(inst, t, step)?);
            if s <= 0 {
                return Err(self.err(inst, Some(t), EmuErrorKind::BadStep(s as i64)));
            }
            let vals: Vec<Val> = init.iter().map(|&r| self.val(inst, t, r).cloned()).collect::<Result<_, _>>()?;
            self.set(t, body.args[0], full(vec![(l as i32 as u32) as u64]));
            for (&a, v) in body.args[1..].iter().zip(vals) {
                self.set(t, a, v);
            }
            bounds.insert(t, (l, h, s));
            if l < h {
                live.push(t);
            }
        }
        while !live.is_empty() {
            self.block(body, &live)?;
            let mut next = Vec::new();
            for &t in &live {
                let ys = self.yields(inst, body, t)?;
                let b = bounds.get_mut(&t).unwrap();
                b.0 += b.2;
                self.set(t, body.args[0], full(vec![(b.0 as i32 as u32) as u64]));
                for (&a, v) in body.args[1..].iter().zip(ys) {
                    self.set(t, a, v);
                }
                if b.0 < b.1 {
                    next.push(t);
                }
            }
            live = next;
        }
        for &t in active {
            for (k, &r) in inst.results.iter().enumerate() {
                let v = self.val(inst, t, body.args[1 + k])?.clone();
                self.set(t, r, v);
            }
        }
        Ok(())
    }

    /// A `while`: each round, the threads still in the loop run `cond` on their carried values; those
    /// whose condition is false leave with them as results, the others run `body`.
    fn while_loop(&mut self, inst: &Inst, active: &[u32], init: &[Reg], cond: &'a Block, body: &'a Block) -> Result<(), EmuError> {
        let mut carried: BTreeMap<u32, Vec<Val>> = BTreeMap::new();
        for &t in active {
            carried.insert(t, init.iter().map(|&r| self.val(inst, t, r).cloned()).collect::<Result<_, _>>()?);
        }
        let mut live: Vec<u32> = active.to_vec();
        while !live.is_empty() {
            for &t in &live {
                for (&a, v) in cond.args.iter().zip(&carried[&t]) {
                    self.set(t, a, v.clone());
                }
            }
            self.block(cond, &live)?;
            let mut going = Vec::new();
            for &t in &live {
                if self.read1(inst, t, cond.yields[0])? & 1 == 1 {
                    going.push(t);
                }
            }
            if going.is_empty() {
                break;
            }
            for &t in &going {
                for (&a, v) in body.args.iter().zip(&carried[&t]) {
                    self.set(t, a, v.clone());
                }
            }
            self.block(body, &going)?;
            for &t in &going {
                let ys = self.yields(inst, body, t)?;
                carried.insert(t, ys);
            }
            live = going;
        }
        for (t, vals) in carried {
            for (&r, v) in inst.results.iter().zip(vals) {
                self.set(t, r, v);
            }
        }
        Ok(())
    }

    fn global_range(&self, inst: &Inst, t: u32, param: usize, offset: i128, size: u32) -> Result<std::ops::Range<usize>, EmuError> {
        let space = format!("global `{}`", self.p.params[param].name);
        let ArgValue::Global { bytes, .. } = &self.args[param] else { unreachable!("checked by emulate") };
        if offset < 0 || offset + size as i128 > bytes.len() as i128 {
            return Err(self.err(inst, Some(t), EmuErrorKind::OutOfBounds { space, offset, size, len: bytes.len() as u64 }));
        }
        if offset % size as i128 != 0 {
            return Err(self.err(inst, Some(t), EmuErrorKind::Misaligned { space, offset, align: size }));
        }
        Ok(offset as usize..offset as usize + size as usize)
    }

    fn global_bytes(&mut self, param: usize) -> &mut Vec<u8> {
        match &mut self.args[param] {
            ArgValue::Global { bytes, .. } => bytes,
            _ => unreachable!("checked by emulate"),
        }
    }

    fn shared_addr(&self, inst: &Inst, t: u32, buf: usize, offset: Reg, size: u32) -> Result<u32, EmuError> {
        let off = self.int(inst, t, offset)?;
        self.shared.address(buf, off, size, size).map_err(|k| self.err(inst, Some(t), k))
    }

    /// A per-thread instruction; returns the value of its result, if it has one.
    fn thread_op(&mut self, inst: &Inst, t: u32) -> Result<Option<Val>, EmuError> {
        let p = self.p;
        let ty = |r: Reg| p.ty(r);
        let invalid = |e: scalar::Invalid| self.err(inst, Some(t), EmuErrorKind::Invalid(e.0));
        let v: Val = match &inst.op {
            Op::Const { bits, .. } => vec![Some(*bits)],
            Op::Undef { ty } => vec![None; ty.lanes as usize],
            Op::Special(s) => {
                let v = match s {
                    Special::ThreadId => t,
                    Special::LaneId => t % 32,
                    Special::WarpId => t / 32,
                    Special::NumThreads => self.nthreads,
                    Special::BlockId(a) => self.block[*a as usize],
                    Special::NumBlocks(a) => self.grid[*a as usize],
                };
                vec![Some(v as u64)]
            }
            Op::Param { index } => match &self.args[*index] {
                ArgValue::Scalar { bits, .. } => vec![Some(*bits)],
                ArgValue::Dim(d) => vec![Some(*d as u64)],
                ArgValue::Global { .. } => unreachable!("checked by the verifier"),
            },
            Op::Binary { op, a, b } => {
                let d = ty(*a).dtype;
                let (x, y) = (self.read(inst, t, *a)?, self.read(inst, t, *b)?);
                full(x.iter().zip(&y).map(|(&x, &y)| scalar::binary(*op, d, x, y)).collect::<Result<_, _>>().map_err(invalid)?)
            }
            Op::Unary { op, a } => full(self.read(inst, t, *a)?.into_iter().map(|x| scalar::unary(*op, ty(*a).dtype, x)).collect()),
            Op::Fma { a, b, c } => {
                let d = ty(*a).dtype;
                let (x, y, z) = (self.read(inst, t, *a)?, self.read(inst, t, *b)?, self.read(inst, t, *c)?);
                full((0..x.len()).map(|i| scalar::fma(d, x[i], y[i], z[i])).collect::<Result<_, _>>().map_err(invalid)?)
            }
            Op::Cmp { op, a, b } => {
                let (x, y) = (self.read(inst, t, *a)?, self.read(inst, t, *b)?);
                full(x.iter().zip(&y).map(|(&x, &y)| scalar::compare(*op, ty(*a).dtype, x, y) as u64).collect())
            }
            Op::Select { cond, a, b } => {
                let c = self.read(inst, t, *cond)?;
                let (x, y) = (self.read(inst, t, *a)?, self.read(inst, t, *b)?);
                full((0..x.len()).map(|i| if c[if c.len() == 1 { 0 } else { i }] & 1 == 1 { x[i] } else { y[i] }).collect())
            }
            Op::Cast { a, to } => full(self.read(inst, t, *a)?.into_iter().map(|x| cast_bits(ty(*a).dtype, *to, x)).collect()),
            Op::Bitcast { a, to } => {
                let from = ty(*a);
                let v = self.val(inst, t, *a)?;
                let codes: Vec<u64> = v.iter().map(|x| x.unwrap_or(0)).collect();
                let out = from_bytes(*to, &to_bytes(from, &codes));
                let (wi, wo) = (from.dtype.bits() as usize, to.dtype.bits() as usize);
                // An output element is written iff every input element it overlaps is.
                out.into_iter()
                    .enumerate()
                    .map(|(j, c)| {
                        let (first, last) = (j * wo / wi, ((j + 1) * wo - 1) / wi);
                        v[first..=last].iter().all(Option::is_some).then_some(c)
                    })
                    .collect()
            }
            Op::Pack { elems } => full(elems.iter().map(|&e| self.read1(inst, t, e)).collect::<Result<_, _>>()?),
            Op::Extract { a, index } => {
                let x = self.val(inst, t, *a)?[*index as usize];
                vec![Some(x.ok_or_else(|| self.err(inst, Some(t), EmuErrorKind::Uninitialised { reg: *a, element: Some(*index) }))?)]
            }
            Op::Insert { a, index, value } => {
                let mut v = self.val(inst, t, *a)?.clone();
                v[*index as usize] = Some(self.read1(inst, t, *value)?);
                v
            }
            Op::Lop3 { a, b, c, lut } => vec![Some(scalar::lop3(self.b32(inst, t, *a)?, self.b32(inst, t, *b)?, self.b32(inst, t, *c)?, *lut) as u64)],
            Op::Prmt { a, b, sel } => vec![Some(scalar::prmt(self.b32(inst, t, *a)?, self.b32(inst, t, *b)?, self.b32(inst, t, *sel)?) as u64)],
            Op::LoadGlobal { param, offset, ty: lty, pred, other } => {
                if !self.pred(inst, t, *pred)? {
                    match other {
                        Some(o) => self.val(inst, t, *o)?.clone(),
                        None => vec![None; lty.lanes as usize],
                    }
                } else {
                    let off = self.int(inst, t, *offset)?;
                    let range = self.global_range(inst, t, *param, off, lty.bits() / 8)?;
                    self.global.read(*param, range.clone(), self.block, t).map_err(|k| self.err(inst, Some(t), k))?;
                    full(from_bytes(*lty, &self.global_bytes(*param)[range]))
                }
            }
            Op::StoreGlobal { param, offset, value, pred } => {
                if self.pred(inst, t, *pred)? {
                    let bytes = to_bytes(ty(*value), &self.read(inst, t, *value)?);
                    let off = self.int(inst, t, *offset)?;
                    let range = self.global_range(inst, t, *param, off, bytes.len() as u32)?;
                    self.global.write(*param, range.clone(), self.block, t).map_err(|k| self.err(inst, Some(t), k))?;
                    self.global_bytes(*param)[range].copy_from_slice(&bytes);
                }
                return Ok(None);
            }
            Op::AtomicAddGlobal { param, offset, value, pred } => {
                if self.pred(inst, t, *pred)? {
                    let vty = ty(*value);
                    let x = self.read1(inst, t, *value)?;
                    let off = self.int(inst, t, *offset)?;
                    let range = self.global_range(inst, t, *param, off, vty.bits() / 8)?;
                    let ArgValue::Global { bytes, .. } = &self.args[*param] else { unreachable!("checked by emulate") };
                    let old = from_bytes(vty, &bytes[range.clone()])[0];
                    let new = scalar::binary(BinOp::Add, vty.dtype, old, x).map_err(invalid)?;
                    self.global.atomic(*param, range.clone(), self.block, t).map_err(|k| self.err(inst, Some(t), k))?;
                    self.global_bytes(*param)[range].copy_from_slice(&to_bytes(vty, &[new]));
                }
                return Ok(None);
            }
            Op::LoadShared { buf, offset, ty: lty } => {
                let size = lty.bits() / 8;
                let addr = self.shared_addr(inst, t, *buf, *offset, size)?;
                let bytes = self.shared.read(t, addr, size).map_err(|k| self.err(inst, Some(t), k))?;
                full(from_bytes(*lty, &bytes))
            }
            Op::StoreShared { buf, offset, value, pred } => {
                if self.pred(inst, t, *pred)? {
                    let bytes = to_bytes(ty(*value), &self.read(inst, t, *value)?);
                    let addr = self.shared_addr(inst, t, *buf, *offset, bytes.len() as u32)?;
                    self.shared.write(t, addr, &bytes).map_err(|k| self.err(inst, Some(t), k))?;
                }
                return Ok(None);
            }
            Op::CpAsync { buf, soffset, param, goffset, bytes, pred } => {
                let addr = self.shared_addr(inst, t, *buf, *soffset, *bytes)?;
                // src-size 0 when the predicate is off: the destination is zero-filled.
                let data = if self.pred(inst, t, *pred)? {
                    let off = self.int(inst, t, *goffset)?;
                    let range = self.global_range(inst, t, *param, off, *bytes)?;
                    self.global.read(*param, range.clone(), self.block, t).map_err(|k| self.err(inst, Some(t), k))?;
                    self.global_bytes(*param)[range].to_vec()
                } else {
                    vec![0; *bytes as usize]
                };
                self.shared.start_async(t, addr, *bytes).map_err(|k| self.err(inst, Some(t), k))?;
                self.asyncs[t as usize].uncommitted.push(Copy { addr, data });
                return Ok(None);
            }
            Op::CpAsyncCommit => {
                let a = &mut self.asyncs[t as usize];
                let group = std::mem::take(&mut a.uncommitted);
                a.groups.push_back(group);
                return Ok(None);
            }
            Op::CpAsyncWait { n } => {
                while self.asyncs[t as usize].groups.len() > *n as usize {
                    let group = self.asyncs[t as usize].groups.pop_front().unwrap();
                    for c in group {
                        self.shared.finish_async(t, c.addr, &c.data);
                    }
                }
                return Ok(None);
            }
            Op::BarSync | Op::Print { .. } | Op::Shfl { .. } | Op::Ldmatrix { .. } | Op::Stmatrix { .. } | Op::Mma { .. } | Op::For { .. } | Op::If { .. } | Op::While { .. } => {
                unreachable!("handled by inst")
            }
        };
        Ok(Some(v))
    }
}

//! Tile IR → thread-level program, by the inferred register layouts (the first slice of issue 6's
//! lowering).
//!
//! 1. Every tile value gets its layout from `passes::layout_infer`; in each thread it becomes one
//!    register per value slot of that layout (`TvLayout::num_values`). Scalars are one register.
//! 2. Slot `v` of thread `t` holds tile coordinate `coords(t, v)`: the value part is a constant of
//!    the slot; the thread part is computed once from `thread_id` by the layout's thread modes
//!    (`(tid / prefix) % extent * stride`). A thread whose index along a replication mode is not 0
//!    holds copies, and does not store them.
//! 3. Elementwise operations are per slot; operands of one operation share a layout. Where inference
//!    asked for a conversion (at an operand, a loop's initial value or yield), the tile goes through
//!    shared memory: written row-major by one holder per element, a barrier, read back in the new
//!    layout, a barrier. Every conversion inference asked for is checked to have been made.
//! 4. Loads and stores are per element, bounds-masked, with the tile coordinate plus the view's
//!    offsets indexing the tensor (row-major, or by its declared strides); only the first holder of a replicated element stores it.
//! 5. Reductions fold a thread's own slots, then combine across each reduced thread mode: a
//!    butterfly of `shfl.bfly` inside a warp, a shared-memory exchange between barriers across warps.
//!    Broadcasts read a slot of the same thread (the inference lays the operand out so).
//! 6. Reshapes and permutes pass registers through: inference lays their results out so that every
//!    element stays in its thread and slot (checked exhaustively).
//! 7. Math functions run in f32 through `ex2`/`lg2`/`sqrt`/`rsqrt`, as on the GPU.
//! 8. `dot` stages both operands in shared memory and runs scalar FMAs over K for the accumulator
//!    slots each thread holds (mma.sync by layout division is the next step).
//! 9. `threads()` is a constant; `thread_ids(L)` is the thread index in layout `L`.
//! 10. `for` loops carry their slots; `if`/`else` (on a block-uniform scalar) yields them.
//!
//! Everything else (repeat, bitcast, cumsum, shared-memory tiles, `while`, packed tensors) is
//! refused with a diagnostic at its source; the interpreter and the GPU backend run those.

use crate::diag::Diagnostic;
use crate::passes::layout_infer::{self, Layouts, Role};
use crate::syntax::Span;
use crate::thread::{BinOp, Builder, CmpOp, Program, Reg, ShflMode, Ty, UnOp};
use crate::tir::{self, Dim, Inst, Kernel, Literal, MathOp, Op, ParamKind, ReduceOp, ValueId};
use std::collections::HashMap;
use tilec_layout::TvLayout;
use tilec_dtype::DType;

/// Lowers `kernel` to the thread program every thread of a block runs.
pub fn lower(kernel: &Kernel) -> Result<Program, Diagnostic> {
    let layouts = layout_infer::infer(kernel)?;
    let mut b = Builder::new(&kernel.name);
    let mut params = Vec::new();
    for p in &kernel.params {
        params.push(match &p.kind {
            ParamKind::Tensor { dtype, .. } if dtype.bits() % 8 == 0 && !dtype.is_bool() => b.param_global(&p.name, *dtype),
            ParamKind::Tensor { dtype, .. } => return Err(refuse(p.span, &format!("the thread-level lowering cannot access packed `{dtype}` tensors yet"))),
            ParamKind::Scalar(d) => b.param_scalar(&p.name, *d),
        });
    }
    let dims: Vec<usize> = kernel.dims.iter().map(|d| b.param_dim(d)).collect();
    let tid = b.thread_id();
    let tid = b.cast(tid, DType::I64);
    let mut cx = Lowering { kernel, layouts, b, params, dims, tid, env: HashMap::new(), converted: HashMap::new(), shared_bytes: 0, applied: Vec::new() };
    cx.applied = vec![false; cx.layouts.conversions().len()];
    cx.block(&kernel.body.insts)?;
    // Every conversion inference asked for was made: none can be skipped silently.
    if let Some(i) = cx.applied.iter().position(|done| !done) {
        let c = &cx.layouts.conversions()[i];
        return Err(refuse(c.at, &format!("the thread-level lowering cannot convert the layout of the {} here yet", c.user)));
    }
    Ok(cx.b.finish())
}

fn refuse(span: Span, message: &str) -> Diagnostic {
    Diagnostic::at(span, message.to_string(), "not lowered to the thread-level program yet")
        .with_note("the interpreter (`--device cpu`) and the GPU backend run every construct")
}

/// The slots of a tile in a tensor.
struct Access {
    /// Per slot: the element's byte offset (0 where masked off) and whether it is in bounds.
    elems: Vec<(Reg, Reg)>,
    /// Whether this thread is the first holder of its elements (the one that stores them).
    first: Reg,
    dtype: DType,
}

struct Lowering<'k> {
    kernel: &'k Kernel,
    layouts: Layouts,
    b: Builder,
    params: Vec<usize>,
    dims: Vec<usize>,
    tid: Reg,
    env: HashMap<ValueId, Vec<Reg>>,
    /// Operands of the instruction being lowered that were converted for it: their layout there.
    converted: HashMap<ValueId, TvLayout>,
    /// Static shared memory allocated so far (exchanges, staged `dot` operands).
    shared_bytes: u32,
    /// Which of the inferred conversions have been made.
    applied: Vec<bool>,
}

impl Lowering<'_> {
    fn get(&self, v: ValueId) -> Vec<Reg> {
        self.env[&v].clone()
    }

    fn block(&mut self, insts: &[Inst]) -> Result<(), Diagnostic> {
        for inst in insts {
            self.b.set_span(Some(inst.span));
            // Operands this use needs in another layout: converted for this instruction only.
            let wanted: Vec<usize> = (0..self.layouts.conversions().len())
                .filter(|&i| {
                    let c = &self.layouts.conversions()[i];
                    !self.applied[i] && c.at == inst.span && c.user.role == Role::Operand && c.user.op == inst.op.name()
                })
                .collect();
            let mut saved = Vec::new();
            for i in wanted {
                let c = self.layouts.conversions()[i].clone();
                if self.env.contains_key(&c.value) && !self.converted.contains_key(&c.value) {
                    let regs = self.convert(c.value, &c.from, &c.to, inst.span)?;
                    saved.push((c.value, self.env.insert(c.value, regs).expect("checked")));
                    self.converted.insert(c.value, c.to.clone());
                    self.applied[i] = true;
                }
            }
            let done = self.inst(inst);
            for (v, regs) in saved {
                self.env.insert(v, regs);
                self.converted.remove(&v);
            }
            done?;
        }
        Ok(())
    }

    /// The layout tile `v` has at the instruction being lowered (`None` for scalars).
    fn layout_of(&self, v: ValueId) -> Option<TvLayout> {
        self.converted.get(&v).or_else(|| self.layouts.of(v)).cloned()
    }

    /// The layout of tile `v`.
    fn layout(&self, v: ValueId) -> Result<TvLayout, Diagnostic> {
        self.layout_of(v).ok_or_else(|| refuse(self.kernel.span_of(v), "this tile has no layout"))
    }

    /// Per slot: the tile coordinate this thread holds, and whether the thread is the first holder.
    fn slots(&mut self, v: ValueId) -> Result<(Vec<Vec<Reg>>, Reg), Diagnostic> {
        let l = self.layout(v)?;
        self.slots_in(&l, self.kernel.span_of(v))
    }

    /// [`Self::slots`] of layout `l`.
    fn slots_in(&mut self, l: &TvLayout, at: Span) -> Result<(Vec<Vec<Reg>>, Reg), Diagnostic> {
        let rank = l.shape().len();
        let mut thread_part = vec![self.b.i64(0); rank];
        let mut first = self.b.bool(true);
        let mut prefix = 1i64;
        for m in l.thread_modes().to_vec() {
            let p = self.b.i64(prefix);
            let q = self.b.div(self.tid, p);
            let e = self.b.i64(m.extent);
            let idx = self.b.rem(q, e);
            match m.dim {
                Some(d) => {
                    let s = self.b.i64(m.stride);
                    let step = self.b.mul(idx, s);
                    thread_part[d] = self.b.add(thread_part[d], step);
                }
                None => {
                    let zero = self.b.i64(0);
                    let is_zero = self.b.cmp(CmpOp::Eq, idx, zero);
                    first = self.b.binary(BinOp::And, first, is_zero);
                }
            }
            prefix *= m.extent;
        }
        // Threads past the layout's (a small tile in a big block) hold nothing of their own.
        let n = self.b.i64(l.num_threads());
        let covered = self.b.cmp(CmpOp::Lt, self.tid, n);
        first = self.b.binary(BinOp::And, first, covered);
        let mut out = Vec::new();
        for value in 0..l.num_values() {
            let c = l.coords(0, value).map_err(|e| refuse(at, &e.to_string()))?;
            out.push(
                c.iter()
                    .zip(&thread_part)
                    .map(|(&k, &t)| {
                        let kc = self.b.i64(k);
                        self.b.add(t, kc)
                    })
                    .collect(),
            );
        }
        Ok((out, first))
    }

    /// Where the slots of the tile a memory op moves lie in the tensor.
    fn addresses(&mut self, tile: ValueId, tensor: usize, offsets: &[ValueId]) -> Result<Access, Diagnostic> {
        let ParamKind::Tensor { dtype, shape, strides } = &self.kernel.params[tensor].kind else { unreachable!("loads read tensors") };
        let dtype = *dtype;
        let mut dim = |d: &Dim| match d {
            Dim::Sym(i) => self.b.param(self.dims[*i]),
            Dim::Fixed(n) => self.b.i64(*n as i64),
        };
        let extents: Vec<Reg> = shape.iter().map(&mut dim).collect();
        // Element strides; `None` for row-major.
        let strides: Option<Vec<Reg>> = strides.as_ref().map(|s| s.iter().map(&mut dim).collect());
        let offs: Vec<Reg> = offsets.iter().map(|o| self.get(*o)[0]).collect();
        let (coords, first) = self.slots(tile)?;
        let bytes = self.b.i64((dtype.bits() / 8) as i64);
        let mut out = Vec::new();
        for c in coords {
            let mut linear = self.b.i64(0);
            let mut inside = self.b.bool(true);
            for d in 0..c.len() {
                let g = self.b.add(offs[d], c[d]);
                let zero = self.b.i64(0);
                let lo = self.b.cmp(CmpOp::Ge, g, zero);
                let hi = self.b.cmp(CmpOp::Lt, g, extents[d]);
                let both = self.b.binary(BinOp::And, lo, hi);
                inside = self.b.binary(BinOp::And, inside, both);
                linear = match &strides {
                    Some(st) => {
                        let step = self.b.mul(g, st[d]);
                        self.b.add(linear, step)
                    }
                    None => {
                        let scaled = self.b.mul(linear, extents[d]);
                        self.b.add(scaled, g)
                    }
                };
            }
            // A masked-off element's offset is clamped to 0: the emulator checks every address.
            let zero = self.b.i64(0);
            let safe = self.b.select(inside, linear, zero);
            out.push((self.b.mul(safe, bytes), inside));
        }
        Ok(Access { elems: out, first, dtype })
    }

    fn inst(&mut self, inst: &Inst) -> Result<(), Diagnostic> {
        let k = self.kernel;
        let result_ty = inst.results.first().map(|r| k.ty(*r).clone());
        let slots_of = |cx: &Self, v: ValueId| -> usize { cx.layout_of(v).map_or(1, |l| l.num_values() as usize) };
        let out: Vec<Reg> = match &inst.op {
            Op::Const(lit) => {
                let dt = result_ty.as_ref().expect("const has a result").dtype();
                vec![match *lit {
                    Literal::Int(v) => self.b.const_int(dt, v),
                    Literal::Float(v) => self.b.const_float(dt, v),
                    Literal::Bool(v) => self.b.bool(v),
                }]
            }
            Op::BlockIndex(axis) => {
                let id = self.b.block_id(*axis);
                vec![self.b.cast(id, DType::I64)]
            }
            Op::DimSize(i) => vec![self.b.param(self.dims[*i])],
            Op::ScalarParam(i) => vec![self.b.param(self.params[*i])],
            Op::Unary(op, a) => {
                let u = match op {
                    tir::UnaryOp::Neg => UnOp::Neg,
                    tir::UnaryOp::Not => UnOp::Not,
                };
                self.get(*a).into_iter().map(|x| self.b.unary(u, x)).collect()
            }
            Op::Binary(op, a, c) => {
                let bop = match op {
                    tir::BinaryOp::Add => BinOp::Add,
                    tir::BinaryOp::Sub => BinOp::Sub,
                    tir::BinaryOp::Mul => BinOp::Mul,
                    tir::BinaryOp::Div => BinOp::Div,
                    tir::BinaryOp::Rem => BinOp::Rem,
                    tir::BinaryOp::Min => BinOp::Min,
                    tir::BinaryOp::Max => BinOp::Max,
                    tir::BinaryOp::And => BinOp::And,
                    tir::BinaryOp::Or => BinOp::Or,
                };
                let (xs, ys) = (self.get(*a), self.get(*c));
                xs.into_iter().zip(ys).map(|(x, y)| self.b.binary(bop, x, y)).collect()
            }
            Op::Compare(op, a, c) => {
                let cop = match op {
                    tir::CmpOp::Eq => CmpOp::Eq,
                    tir::CmpOp::Ne => CmpOp::Ne,
                    tir::CmpOp::Lt => CmpOp::Lt,
                    tir::CmpOp::Le => CmpOp::Le,
                    tir::CmpOp::Gt => CmpOp::Gt,
                    tir::CmpOp::Ge => CmpOp::Ge,
                };
                let (xs, ys) = (self.get(*a), self.get(*c));
                xs.into_iter().zip(ys).map(|(x, y)| self.b.cmp(cop, x, y)).collect()
            }
            Op::Cast(a) => {
                let to = result_ty.as_ref().expect("cast has a result").dtype();
                self.get(*a).into_iter().map(|x| self.b.cast(x, to)).collect()
            }
            Op::Where(c, x, y) => {
                let (cs, xs, ys) = (self.get(*c), self.get(*x), self.get(*y));
                cs.into_iter().zip(xs).zip(ys).map(|((c, x), y)| self.b.select(c, x, y)).collect()
            }
            Op::Fma(a, c, d) => {
                let (xs, ys, zs) = (self.get(*a), self.get(*c), self.get(*d));
                xs.into_iter().zip(ys).zip(zs).map(|((x, y), z)| self.b.fma(x, y, z)).collect()
            }
            Op::Arange { start } => {
                let (coords, _) = self.slots(inst.results[0])?;
                let s = self.b.i64(*start);
                coords.into_iter().map(|c| self.b.add(c[0], s)).collect()
            }
            Op::Threads => vec![self.b.i64(i64::from(k.threads()))],
            Op::ThreadIds(l) => self.thread_ids(inst, &l.tv)?,
            Op::Dot { a, b, acc } => self.dot(inst, *a, *b, *acc)?,
            Op::Math(m, a) => self.math(inst, *m, *a)?,
            Op::Reduce { op, value, dim } => self.reduce(inst, *op, *value, *dim)?,
            Op::Broadcast(a) => self.broadcast(inst, *a)?,
            Op::Reshape(a) => self.shape_op(inst, *a, None)?,
            Op::Permute { value, perm } => self.shape_op(inst, *value, Some(perm))?,
            Op::Splat(a) => vec![self.get(*a)[0]; slots_of(self, inst.results[0])],
            Op::Annotate(a, _) => self.get(*a),
            Op::Load { tensor, offsets } => {
                let Access { elems: addrs, dtype, .. } = self.addresses(inst.results[0], *tensor, offsets)?;
                let zero = if dtype.is_float() { self.b.const_float(dtype, 0.0) } else { self.b.const_int(dtype, 0) };
                addrs.into_iter().map(|(off, inside)| self.b.load_global(self.params[*tensor], off, Ty::scalar(dtype), Some(inside), Some(zero))).collect()
            }
            Op::Store { tensor, offsets, value, mask } => {
                let Access { elems: addrs, first, .. } = self.addresses(*value, *tensor, offsets)?;
                let vals = self.get(*value);
                let masks = mask.map(|m| self.get(m));
                for (i, ((off, inside), v)) in addrs.into_iter().zip(vals).enumerate() {
                    let mut pred = self.b.binary(BinOp::And, inside, first);
                    if let Some(ms) = &masks {
                        pred = self.b.binary(BinOp::And, pred, ms[i]);
                    }
                    self.b.store_global(self.params[*tensor], off, v, Some(pred));
                }
                return Ok(());
            }
            Op::For { start, end, step, inits, body, .. } => return self.for_loop(inst, *start, *end, *step, inits, body),
            Op::If { cond, then, els } => return self.if_else(inst, *cond, then, els),
            other => {
                let name = if let Op::Math(m, _) = other { m.name() } else { other.name() };
                return Err(refuse(inst.span, &format!("the thread-level lowering does not handle `{name}` yet")));
            }
        };
        for (r, regs) in inst.results.iter().zip([out]) {
            self.env.insert(*r, regs);
        }
        Ok(())
    }

    /// A fresh shared buffer of `bytes` bytes (16-byte aligned), within the 48 KiB of static shared
    /// memory a block may have.
    fn shared(&mut self, name: &str, bytes: i64, at: Span) -> Result<usize, Diagnostic> {
        let bytes = u32::try_from(bytes).ok().filter(|b| self.shared_bytes + b.next_multiple_of(16) <= 48 * 1024);
        let Some(bytes) = bytes else {
            return Err(refuse(at, "the thread-level lowering would need more than 48 KiB of shared memory to exchange tiles here"));
        };
        self.shared_bytes += bytes.next_multiple_of(16);
        Ok(self.b.shared(name, bytes, 16))
    }

    /// Writes tile registers `regs` (layout `l`, element type `dt`) row-major into a fresh shared
    /// buffer, one writer per element, then waits at a barrier. Bools travel as u8. Returns the
    /// buffer and the type it holds.
    fn stage(&mut self, regs: &[Reg], l: &TvLayout, dt: DType, at: Span) -> Result<(usize, DType), Diagnostic> {
        let held = if dt.is_bool() { DType::U8 } else { dt };
        if held.bits() % 8 != 0 {
            return Err(refuse(at, &format!("the thread-level lowering cannot exchange `{dt}` tiles yet")));
        }
        let bytes = i64::from(held.bits() / 8);
        let buf = self.shared("exchange", l.size() * bytes, at)?;
        let (coords, first) = self.slots_in(l, at)?;
        for (c, &x) in coords.iter().zip(regs) {
            let off = self.row_major(c, l.shape(), bytes);
            let x = if dt.is_bool() { self.b.cast(x, held) } else { x };
            self.b.store_shared(buf, off, x, Some(first));
        }
        self.b.bar_sync();
        Ok((buf, held))
    }

    /// The byte offset of coordinate `c` in a row-major tile of `shape`.
    fn row_major(&mut self, c: &[Reg], shape: &[i64], bytes: i64) -> Reg {
        let mut linear = self.b.i64(0);
        for (&x, &n) in c.iter().zip(shape) {
            let n = self.b.i64(n);
            let scaled = self.b.mul(linear, n);
            linear = self.b.add(scaled, x);
        }
        let bytes = self.b.i64(bytes);
        self.b.mul(linear, bytes)
    }

    /// Tile `v` from layout `from` to layout `to`, through shared memory.
    fn convert(&mut self, v: ValueId, from: &TvLayout, to: &TvLayout, at: Span) -> Result<Vec<Reg>, Diagnostic> {
        let regs = self.get(v);
        self.relayout(&regs, self.kernel.ty(v).dtype(), from, to, at)
    }

    /// Tile registers `regs` (element type `dt`) from layout `from` to layout `to`.
    fn relayout(&mut self, regs: &[Reg], dt: DType, from: &TvLayout, to: &TvLayout, at: Span) -> Result<Vec<Reg>, Diagnostic> {
        let (buf, held) = self.stage(regs, from, dt, at)?;
        let (coords, _) = self.slots_in(to, at)?;
        let out = self.gather(buf, held, dt, &coords, to.shape());
        // The buffer is written again when this runs again (in a loop).
        self.b.bar_sync();
        Ok(out)
    }

    /// Reads the elements at `coords` of a staged row-major tile of `shape` (see [`Self::stage`]).
    fn gather(&mut self, buf: usize, held: DType, dt: DType, coords: &[Vec<Reg>], shape: &[i64]) -> Vec<Reg> {
        let bytes = i64::from(held.bits() / 8);
        coords
            .iter()
            .map(|c| {
                let off = self.row_major(c, shape, bytes);
                let x = self.b.load_shared(buf, off, Ty::scalar(held));
                if dt.is_bool() {
                    let zero = self.b.const_int(held, 0);
                    self.b.cmp(CmpOp::Ne, x, zero)
                } else {
                    x
                }
            })
            .collect()
    }

    /// `acc + a @ b` with scalar fused multiply-adds in the accumulator's type: both operands are
    /// staged in shared memory and each thread runs the K loop for the accumulator slots it holds.
    /// (The mma.sync path by layout division is the next step.)
    fn dot(&mut self, inst: &Inst, a: ValueId, b: ValueId, acc: ValueId) -> Result<Vec<Reg>, Diagnostic> {
        let k = self.kernel;
        let (la, lb, lc) = (self.layout(a)?, self.layout(b)?, self.layout(inst.results[0])?);
        if la.rank() != 2 || lb.rank() != 2 {
            return Err(refuse(inst.span, "the thread-level lowering handles 2-D dots only"));
        }
        let (n_k, n_n) = (la.shape()[1], lb.shape()[1]);
        let (ta, tb, tc) = (k.ty(a).dtype(), k.ty(b).dtype(), k.ty(inst.results[0]).dtype());
        let (ra, rb, racc) = (self.get(a), self.get(b), self.get(acc));
        let (abuf, ah) = self.stage(&ra, &la, ta, inst.span)?;
        let (bbuf, bh) = self.stage(&rb, &lb, tb, inst.span)?;
        let (coords, _) = self.slots_in(&lc, inst.span)?;
        let (ab, bb) = (i64::from(ah.bits() / 8), i64::from(bh.bits() / 8));
        // Per slot, the byte offsets of a[i, 0] and b[0, j]; the loop steps them.
        let mut rows = Vec::new();
        for c in &coords {
            let row = self.b.i64(n_k * ab);
            let ia = self.b.mul(c[0], row);
            let eb = self.b.i64(bb);
            let jb = self.b.mul(c[1], eb);
            rows.push((ia, jb));
        }
        let init: Vec<Reg> = racc.iter().map(|&x| self.b.cast(x, tc)).collect();
        let (lo, hi, st) = (self.b.i32(0), self.b.i32(n_k as i32), self.b.i32(1));
        let mut outer = std::mem::replace(&mut self.b, Builder::new(""));
        let results = outer.for_(lo, hi, st, &init, |bld, kk, carried| {
            std::mem::swap(bld, &mut self.b);
            let kk = self.b.cast(kk, DType::I64);
            let (sa, sb) = (self.b.i64(ab), self.b.i64(n_n * bb));
            let (ka, kb) = (self.b.mul(kk, sa), self.b.mul(kk, sb));
            let next = rows
                .iter()
                .zip(carried)
                .map(|(&(ia, jb), &c)| {
                    let oa = self.b.add(ia, ka);
                    let ob = self.b.add(jb, kb);
                    let x = self.b.load_shared(abuf, oa, Ty::scalar(ah));
                    let y = self.b.load_shared(bbuf, ob, Ty::scalar(bh));
                    let (x, y) = (self.b.cast(x, tc), self.b.cast(y, tc));
                    self.b.fma(x, y, c)
                })
                .collect();
            std::mem::swap(bld, &mut self.b);
            next
        });
        self.b = outer;
        // The buffers are written again when this runs again (in a loop).
        self.b.bar_sync();
        Ok(results)
    }

    /// `thread_ids(L)`: in layout `L` every slot of a thread holds that thread's index; the result's
    /// own layout, when another, gets the values through shared memory.
    fn thread_ids(&mut self, inst: &Inst, l: &TvLayout) -> Result<Vec<Reg>, Diagnostic> {
        let rl = self.layout(inst.results[0])?;
        if l.replication() != 1 || l.num_threads() != i64::from(self.kernel.threads()) {
            return Err(refuse(inst.span, "`thread_ids` needs a layout over all the block's threads without replication"));
        }
        let own = vec![self.tid; l.num_values() as usize];
        if &rl == l {
            return Ok(own);
        }
        self.relayout(&own, DType::I64, l, &rl, inst.span)
    }

    /// A math function per slot, as the GPU computes it: in f32 (f64 only for square roots), `exp`
    /// and `log` through the base-2 instructions.
    fn math(&mut self, inst: &Inst, m: MathOp, a: ValueId) -> Result<Vec<Reg>, Diagnostic> {
        let (dt, out) = (self.kernel.ty(a).dtype(), self.kernel.ty(inst.results[0]).dtype());
        let xs = self.get(a);
        if m == MathOp::Abs {
            return Ok(xs.into_iter().map(|x| self.b.unary(UnOp::Abs, x)).collect());
        }
        let work = match dt {
            DType::F64 if matches!(m, MathOp::Sqrt | MathOp::Rsqrt) => DType::F64,
            DType::F64 => return Err(refuse(inst.span, &format!("the thread-level lowering has no f64 `{}` yet", m.name()))),
            _ => DType::F32,
        };
        Ok(xs
            .into_iter()
            .map(|x| {
                let x = self.b.cast(x, work);
                let y = match m {
                    MathOp::Exp => {
                        let log2e = self.b.const_float(work, std::f64::consts::LOG2_E);
                        let scaled = self.b.mul(x, log2e);
                        self.b.unary(UnOp::Ex2, scaled)
                    }
                    MathOp::Exp2 => self.b.unary(UnOp::Ex2, x),
                    MathOp::Log => {
                        let ln2 = self.b.const_float(work, std::f64::consts::LN_2);
                        let l2 = self.b.unary(UnOp::Lg2, x);
                        self.b.mul(l2, ln2)
                    }
                    MathOp::Log2 => self.b.unary(UnOp::Lg2, x),
                    MathOp::Sqrt => self.b.unary(UnOp::Sqrt, x),
                    MathOp::Rsqrt => self.b.unary(UnOp::Rsqrt, x),
                    MathOp::Abs => unreachable!("handled above"),
                };
                self.b.cast(y, out)
            })
            .collect())
    }

    /// A reduction: each thread combines its own slots, then the threads along every reduced thread
    /// mode combine theirs: a butterfly of shuffles inside a warp, through shared memory across warps.
    /// Every holder ends with the whole result (the reduced modes become replication). Float sums
    /// accumulate in f32 (f64 for f64) and round once at the end.
    fn reduce(&mut self, inst: &Inst, op: ReduceOp, value: ValueId, dim: Option<usize>) -> Result<Vec<Reg>, Diagnostic> {
        let k = self.kernel;
        let l = self.layout(value)?;
        let dims: Vec<usize> = dim.map_or_else(|| (0..l.rank()).collect(), |d| vec![d]);
        let result = inst.results[0];
        if let Some(rl) = self.layout_of(result).as_ref() {
            let keepdim = rl.rank() == l.rank();
            if l.reduce(&dims, keepdim).ok().as_ref() != Some(rl) {
                return Err(refuse(inst.span, "this reduction's result is laid out apart from its operand, which the thread-level lowering cannot do yet"));
            }
        }
        let (src, out) = (k.ty(value).dtype(), k.ty(result).dtype());
        // Bools travel as u32 0/1 (shuffles move 32-bit values); `any` is their max, `all` their min.
        let acc = match src {
            DType::Bool => DType::U32,
            d if d.is_float() && d != DType::F64 => DType::F32,
            d => d,
        };
        let combine = match op {
            ReduceOp::Sum => BinOp::Add,
            ReduceOp::Max | ReduceOp::Any => BinOp::Max,
            ReduceOp::Min | ReduceOp::All => BinOp::Min,
        };
        let red = |m: &tilec_layout::tv::Mode| m.dim.is_some_and(|d| dims.contains(&d));

        // 1. Within the thread: slot `v` folds into the result slot made of its kept value digits.
        let kept: i64 = l.value_modes().iter().filter(|m| !red(m)).map(|m| m.extent).product();
        let mut partial: Vec<Option<Reg>> = vec![None; kept as usize];
        for (v, x) in self.get(value).into_iter().enumerate() {
            let (mut idx, mut r, mut scale) = (v as i64, 0i64, 1i64);
            for m in l.value_modes() {
                if !red(m) {
                    r += (idx % m.extent) * scale;
                    scale *= m.extent;
                }
                idx /= m.extent;
            }
            let x = self.b.cast(x, acc);
            let slot = &mut partial[r as usize];
            *slot = Some(match *slot {
                None => x,
                Some(p) => self.b.binary(combine, p, x),
            });
        }
        let mut partial: Vec<Reg> = partial.into_iter().map(|p| p.expect("every result slot has an operand slot")).collect();

        // 2. Across threads, one reduced thread mode at a time.
        let mut prefix = 1i64;
        for m in l.thread_modes().to_vec() {
            if red(&m) && m.extent > 1 {
                let pow2 = |x: i64| x & (x - 1) == 0;
                if acc.bits() == 32 && pow2(prefix) && pow2(m.extent) && prefix * m.extent <= 32 {
                    for p in partial.iter_mut() {
                        let mut lane_xor = prefix;
                        while lane_xor < prefix * m.extent {
                            let x = self.b.i32(lane_xor as i32);
                            let other = self.b.shfl(ShflMode::Bfly, *p, x, u32::MAX);
                            *p = self.b.binary(combine, *p, other);
                            lane_xor *= 2;
                        }
                    }
                } else {
                    partial = self.exchange(inst, &partial, acc, combine, prefix, m.extent, l.num_threads())?;
                }
            }
            prefix *= m.extent;
        }
        Ok(partial
            .into_iter()
            .map(|p| if out == DType::Bool { let zero = self.b.const_int(acc, 0); self.b.cmp(CmpOp::Ne, p, zero) } else { self.b.cast(p, out) })
            .collect())
    }

    /// Combines `partial` across the `extent` threads of one thread mode (thread index step
    /// `prefix`) through shared memory: every thread writes its values, and after a barrier reads and
    /// combines those of the threads that differ from it only along the mode.
    #[allow(clippy::too_many_arguments)]
    fn exchange(&mut self, inst: &Inst, partial: &[Reg], acc: DType, combine: BinOp, prefix: i64, extent: i64, layout_threads: i64) -> Result<Vec<Reg>, Diagnostic> {
        let threads = i64::from(self.kernel.threads());
        let bytes = (acc.bits() / 8) as i64;
        let size = threads * partial.len() as i64 * bytes;
        if threads % layout_threads != 0 || size > 48 * 1024 {
            return Err(refuse(inst.span, "this reduction needs a cross-warp exchange the thread-level lowering cannot lay out yet"));
        }
        let buf = self.b.shared("reduce", size as u32, 16);
        let n = partial.len() as i64;
        let slot_bytes = self.b.i64(n * bytes);
        let elem = self.b.i64(bytes);
        let base = self.b.mul(self.tid, slot_bytes);
        for (r, &p) in partial.iter().enumerate() {
            let at = self.b.i64(r as i64 * bytes);
            let off = self.b.add(base, at);
            self.b.store_shared(buf, off, p, None);
        }
        self.b.bar_sync();
        // The thread whose digit along the mode is 0, then steps of `prefix`.
        let p = self.b.i64(prefix);
        let e = self.b.i64(extent);
        let q = self.b.div(self.tid, p);
        let digit = self.b.rem(q, e);
        let back = self.b.mul(digit, p);
        let first = self.b.sub(self.tid, back);
        let mut out = Vec::new();
        for r in 0..n {
            let mut total = None;
            for j in 0..extent {
                let step = self.b.i64(j * prefix);
                let t = self.b.add(first, step);
                let row = self.b.mul(t, slot_bytes);
                let at = self.b.i64(r);
                let col = self.b.mul(at, elem);
                let off = self.b.add(row, col);
                let x = self.b.load_shared(buf, off, Ty::scalar(acc));
                total = Some(match total {
                    None => x,
                    Some(t) => self.b.binary(combine, t, x),
                });
            }
            out.push(total.expect("a mode has at least one step"));
        }
        // The buffer is reused when the reduction runs again (in a loop).
        self.b.bar_sync();
        Ok(out)
    }

    /// A broadcast: the operand's layout is the result's with the broadcast dimensions' modes
    /// replicated (the inference's rule), so each result slot reads an operand slot of its own thread.
    fn broadcast(&mut self, inst: &Inst, a: ValueId) -> Result<Vec<Reg>, Diagnostic> {
        let result = inst.results[0];
        let xs = self.get(a);
        let Some(rl) = self.layout_of(result) else { return Ok(xs) };
        let Some(al) = self.layout_of(a) else {
            // A scalar operand: every slot is that scalar.
            return Ok(vec![xs[0]; rl.num_values() as usize]);
        };
        let (from, to) = (self.kernel.ty(a).shape().to_vec(), rl.shape().to_vec());
        let lead = to.len() - from.len();
        let dims: Vec<usize> = (0..to.len()).filter(|&d| d < lead || (from[d - lead] == 1 && to[d] != 1)).collect();
        let mut want = rl.reduce(&dims, true).ok();
        if lead > 0 {
            want = want.and_then(|w| w.reduce(&(0..lead).collect::<Vec<_>>(), false).ok());
        }
        if want.as_ref() != Some(&al) {
            return Err(refuse(inst.span, "this broadcast's operand is laid out apart from its result, which the thread-level lowering cannot do yet"));
        }
        let red = |m: &tilec_layout::tv::Mode| m.dim.is_some_and(|d| dims.contains(&d));
        Ok((0..rl.num_values())
            .map(|v| {
                let (mut idx, mut r, mut scale) = (v, 0i64, 1i64);
                for m in rl.value_modes() {
                    if !red(m) {
                        r += (idx % m.extent) * scale;
                        scale *= m.extent;
                    }
                    idx /= m.extent;
                }
                xs[r as usize]
            })
            .collect())
    }

    /// A reshape or permute (`perm`). Each thread keeps its registers when, for every
    /// `(thread, slot)`, the result holds the element the operand held: the same row-major position
    /// for a reshape, the permuted coordinate for a permute (checked exhaustively).
    fn shape_op(&mut self, inst: &Inst, a: ValueId, perm: Option<&[usize]>) -> Result<Vec<Reg>, Diagnostic> {
        let result = inst.results[0];
        let xs = self.get(a);
        let (Some(al), Some(rl)) = (self.layout_of(a), self.layout_of(result)) else {
            // A tile to or from a one-element shape held as a scalar.
            return if xs.len() == 1 { Ok(xs) } else { Err(refuse(inst.span, "this shape operation mixes a tile and a scalar in a way the thread-level lowering cannot do yet")) };
        };
        let same = al.num_threads() == rl.num_threads()
            && al.num_values() == rl.num_values()
            && (0..al.num_threads()).all(|t| {
                (0..al.num_values()).all(|v| match (perm, al.coords(t, v), rl.coords(t, v)) {
                    (None, Ok(_), Ok(_)) => al.linear(t, v).ok() == rl.linear(t, v).ok(),
                    (Some(p), Ok(c), Ok(d)) => p.iter().map(|&i| c[i]).eq(d),
                    _ => false,
                })
            });
        if same {
            return Ok(xs);
        }        // Inference derives a reshape's or permute's result layout from its operand's (a conversion
        // elsewhere if needed), so this is a broken invariant rather than a missing feature.
        Err(refuse(inst.span, &format!("this `{}` would move elements between threads or slots; layout inference should have prevented that", inst.op.name())))
    }

    /// The registers of `v` for a loop's use of it as carried value `operand` (`role` Init or
    /// Yield), converted when inference asked for it.
    fn carried_use(&mut self, v: ValueId, at: Span, role: Role, operand: usize) -> Result<Vec<Reg>, Diagnostic> {
        let found = (0..self.layouts.conversions().len()).find(|&i| {
            let c = &self.layouts.conversions()[i];
            !self.applied[i] && c.value == v && c.at == at && c.user.role == role && c.user.operand == operand
        });
        match found {
            Some(i) => {
                let c = self.layouts.conversions()[i].clone();
                self.applied[i] = true;
                self.convert(v, &c.from, &c.to, at)
            }
            None => Ok(self.get(v)),
        }
    }

    /// Lowers `block` and returns the registers of its yields (converted where inference asked,
    /// `role` saying whether they feed a loop or an `if`'s branch).
    fn block_yielding(&mut self, block: &tir::Block, at: Span, role: Role) -> Result<Vec<Reg>, Diagnostic> {
        self.block(&block.insts)?;
        let mut out = Vec::new();
        for (i, y) in block.yields.iter().enumerate() {
            out.extend(self.carried_use(*y, at, role, i)?);
        }
        Ok(out)
    }

    /// Binds `values` to consecutive groups of `regs`, `counts[i]` registers for `values[i]`.
    fn bind_groups(&mut self, values: &[ValueId], regs: &[Reg], counts: &[usize]) {
        let mut next = 0;
        for (v, n) in values.iter().zip(counts) {
            self.env.insert(*v, regs[next..next + n].to_vec());
            next += n;
        }
    }

    /// `if` on a scalar condition: every thread computes the same condition, so both branches are
    /// block-uniform (barriers inside are safe). Each branch yields the results' slots.
    fn if_else(&mut self, inst: &Inst, cond: ValueId, then: &tir::Block, els: &tir::Block) -> Result<(), Diagnostic> {
        let c = self.get(cond)[0];
        let mut tys = Vec::new();
        let mut counts = Vec::new();
        for r in &inst.results {
            let n = self.layout_of(*r).map_or(1, |l| l.num_values() as usize);
            tys.extend(std::iter::repeat_n(Ty::scalar(self.kernel.ty(*r).dtype()), n));
            counts.push(n);
        }
        let mut outer = std::mem::replace(&mut self.b, Builder::new(""));
        // `if_` takes both branches as closures, which it runs one after the other: they share
        // `self` through a cell.
        let cell = std::cell::RefCell::new(&mut *self);
        let failure = std::cell::RefCell::new(None);
        let branch = |bld: &mut Builder, block: &tir::Block, role: Role| -> Vec<Reg> {
            let mut guard = cell.borrow_mut();
            let cx: &mut Self = &mut guard;
            std::mem::swap(bld, &mut cx.b);
            let yielded = cx.block_yielding(block, inst.span, role);
            let out = match yielded {
                Ok(out) => out,
                Err(e) => {
                    failure.borrow_mut().get_or_insert(e);
                    tys.iter().map(|&t| cx.b.undef(t)).collect()
                }
            };
            std::mem::swap(bld, &mut cx.b);
            out
        };
        let results = outer.if_(c, &tys, |bld| branch(bld, then, Role::Yield), |bld| branch(bld, els, Role::ElseYield));
        self.b = outer;
        if let Some(e) = failure.into_inner() {
            return Err(e);
        }
        self.bind_groups(&inst.results, &results, &counts);
        Ok(())
    }

    fn for_loop(&mut self, inst: &Inst, start: ValueId, end: ValueId, step: i64, inits: &[ValueId], body: &tir::Block) -> Result<(), Diagnostic> {
        let mut init = Vec::new();
        let mut counts = Vec::new();
        for (i, v) in inits.iter().enumerate() {
            let regs = self.carried_use(*v, inst.span, Role::Init, i)?;
            counts.push(regs.len());
            init.extend(regs);
        }
        // The thread program counts loops in i32.
        let (lo, hi) = (self.get(start)[0], self.get(end)[0]);
        let (lo, hi) = (self.b.cast(lo, DType::I32), self.b.cast(hi, DType::I32));
        let st = self.b.i32(i32::try_from(step).map_err(|_| refuse(inst.span, "this loop step does not fit the thread program's 32-bit counter"))?);
        let iv_dtype = self.kernel.ty(body.args[0]).dtype();
        // `for_` lends its builder to the body: swap it into `self` so the body lowers like any block.
        let mut outer = std::mem::replace(&mut self.b, Builder::new(""));
        let mut failure = None;
        let results = outer.for_(lo, hi, st, &init, |b, iv, carried| {
            std::mem::swap(b, &mut self.b);
            let iv = self.b.cast(iv, iv_dtype);
            self.env.insert(body.args[0], vec![iv]);
            self.bind_groups(&body.args[1..], carried, &counts);
            let yielded = self.block_yielding(body, inst.span, Role::Yield);
            let yields = match yielded {
                Ok(y) => y,
                Err(e) => {
                    failure = Some(e);
                    carried.to_vec()
                }
            };
            std::mem::swap(b, &mut self.b);
            yields
        });
        self.b = outer;
        if let Some(e) = failure {
            return Err(e);
        }
        self.bind_groups(&inst.results, &results, &counts);
        Ok(())
    }
}

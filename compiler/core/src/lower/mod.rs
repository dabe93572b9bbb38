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
//!    asked for a conversion (at an operand, a loop's initial value or yield), the tile moves by
//!    `shfl.sync.idx` when every element stays inside its warp (`shuffle.rs`), else through shared
//!    memory: written row-major by one holder per element, a barrier, read back in the new layout, a
//!    barrier. Every conversion inference asked for is checked to have been made.
//! 4. Loads and stores are bounds-masked, with the tile coordinate plus the view's offsets indexing
//!    the tensor (row-major, or by its declared strides); only the first holder of a replicated
//!    element stores it. Slots contiguous in memory move in accesses of up to 16 bytes where the
//!    alignment is proven (contiguity.rs); packed tensors are byte-addressed (packed.rs).
//! 5. Reductions fold a thread's own slots, then combine across each reduced thread mode: a
//!    butterfly of `shfl.bfly` inside a warp, a shared-memory exchange between barriers across warps.
//!    Broadcasts read a slot of the same thread (the inference lays the operand out so).
//! 6. Reshapes and permutes pass registers through: inference lays their results out so that every
//!    element stays in its thread and slot (checked exhaustively).
//! 7. Math functions run in f32 through `ex2`/`lg2`/`sqrt`/`rsqrt`, as on the GPU.
//! 8. `dot` is selected by layout division (`mma.rs`): when the target has `mma.sync` and the
//!    inferred layouts are products of the mma fragments, each warp issues `mma.sync` per atom, its
//!    operands read from a swizzled shared-memory staging tile by `ldmatrix` (or straight from
//!    registers already in fragment layout); otherwise both operands are staged in shared memory and
//!    each thread runs scalar FMAs over K for the accumulator slots it holds.
//! 9. `threads()` is a constant; `thread_ids(L)` is the thread index in layout `L`.
//! 10. `for` and `while` loops carry their slots; `if`/`else` (on a block-uniform scalar) yields
//!     them; `break`/`continue` are carried flags that guard the rest of an iteration (control.rs).
//! 11. Shared-memory tiles are static allocations; `load`/`store` at views move the slots of a
//!     register layout, `copy_async` is `cp.async` by chunks (shared_tiles.rs).
//!
//! 12. `atomic_add` is one `red.global.add` per element, bounds-masked and by the first holder only,
//!     like a store (atomics.rs); dtypes without a hardware atomic add are refused.
//! 13. `cumsum` scans by the levels of the scanned dimension's modes: slots in the thread, `shfl.up`
//!     inside a warp, shared memory across warps (scan.rs). `repeat` and `bitcast` rebuild slots
//!     from the operand slots of the same thread, which inference's layouts guarantee (repack.rs).
//!
//! 14. `print` stages its tiles in shared memory and thread 0 of the block prints the line
//!     (print.rs).
//!
//! Everything else (packed stores a thread does not own whole bytes of) is refused with a
//! diagnostic at its source; the tile interpreter runs those.

use crate::diag::Diagnostic;
use crate::passes::layout_infer::{self, Layouts, Role};
use crate::syntax::Span;
use crate::thread::{BinOp, Builder, CmpOp, Program, Reg, UnOp};
use crate::tir::{self, Inst, Kernel, Literal, Op, ParamKind, ValueId};
mod atomics;
mod compute;
mod contiguity;
mod control;
mod memory;
mod mma;
mod packed;
mod print;
mod repack;
mod scan;
mod scratch;
mod shared_tiles;
mod smem_plan;
mod shuffle;
mod widen;

use std::collections::HashMap;
use tilec_layout::TvLayout;
use tilec_dtype::DType;

/// What the target offers the lowering beyond scalar instructions. The lowering consults `mma` and
/// `ldmatrix` (instruction selection for `dot`), `cp_async` (`copy_async`: asynchronous copies, or
/// synchronous ones that have landed at once) and `shared_bytes` (the shared-memory budget of a
/// block); `stmatrix` describes the target for passes to come.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// `mma.sync` (f16/bf16 m16n8k16): sm_80 and later.
    pub mma: bool,
    /// `ldmatrix` from shared memory: sm_75 and later.
    pub ldmatrix: bool,
    /// `stmatrix` to shared memory: sm_90 and later.
    pub stmatrix: bool,
    /// `cp.async` global → shared copies: sm_80 and later.
    pub cp_async: bool,
    /// Shared memory one block may use, in bytes: the kernel's `shared<T>` tiles plus the lowering's
    /// scratch. Above 48 KiB NVIDIA needs dynamic shared memory, which the backend and the runtime
    /// arrange (the manifest's `shared_bytes`).
    pub shared_bytes: u32,
}

impl Options {
    /// NVIDIA sm_80 (A100): mma.sync, ldmatrix, cp.async; 163 KiB of shared memory per block.
    pub const SM80: Options = Options { mma: true, ldmatrix: true, stmatrix: false, cp_async: true, shared_bytes: 163 * 1024 };
    /// NVIDIA sm_90 (H100): sm_80's and stmatrix; 227 KiB of shared memory per block.
    pub const SM90: Options = Options { mma: true, ldmatrix: true, stmatrix: true, cp_async: true, shared_bytes: 227 * 1024 };
    /// Scalar instructions only (AMD targets, and the FMA fallback everywhere): `dot` becomes FMAs,
    /// `copy_async` synchronous copies; 64 KiB of shared memory (the LDS of a CDNA workgroup).
    pub const SCALAR: Options = Options { mma: false, ldmatrix: false, stmatrix: false, cp_async: false, shared_bytes: 64 * 1024 };
}

impl Default for Options {
    fn default() -> Options {
        Options::SM80
    }
}

/// Lowers `kernel` to the thread program every thread of a block runs, for an sm_80 target
/// ([`Options::SM80`]).
pub fn lower(kernel: &Kernel) -> Result<Program, Diagnostic> {
    lower_with(kernel, &Options::SM80)
}

/// Lowers `kernel` to the thread program every thread of a block runs, using the instructions
/// `options` says the target has.
pub fn lower_with(kernel: &Kernel, options: &Options) -> Result<Program, Diagnostic> {
    let layouts = layout_infer::infer(kernel)?;
    let mut b = Builder::new(&kernel.name);
    let mut params = Vec::new();
    for p in &kernel.params {
        params.push(match &p.kind {
            ParamKind::Tensor { dtype, .. } => b.param_global(&p.name, *dtype),
            ParamKind::Scalar(d) => b.param_scalar(&p.name, *d),
        });
    }
    let dims: Vec<usize> = kernel.dims.iter().map(|d| b.param_dim(d)).collect();
    let tid = b.thread_id();
    let tid = b.cast(tid, DType::I64);
    let applied = vec![false; layouts.conversions().len()];
    let divisibility = contiguity::Divisibility::of(kernel);
    let mut cx = Lowering {
        kernel,
        options: *options,
        layouts,
        b,
        params,
        dims,
        tid,
        env: HashMap::new(),
        converted: HashMap::new(),
        shared_bytes: 0,
        scratch_plan: Default::default(),
        applied,
        shared_tiles: Default::default(),
        divisibility,
        packed_groups: HashMap::new(),
        exits: Default::default(),
    };
    cx.allocate_shared_tiles()?;
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
        .with_note("the tile interpreter (`tilec run --device cpu`) runs every construct of the language")
}

/// The state of lowering one kernel: the builder, and the registers of every tile IR value so far.
struct Lowering<'k> {
    kernel: &'k Kernel,
    options: Options,
    layouts: Layouts,
    b: Builder,
    params: Vec<usize>,
    dims: Vec<usize>,
    tid: Reg,
    env: HashMap<ValueId, Vec<Reg>>,
    /// Operands of the instruction being lowered that were converted for it: their layout there.
    converted: HashMap<ValueId, TvLayout>,
    /// Static shared memory of the kernel's own `shared<T>` tiles.
    shared_bytes: u32,
    /// The placement of the lowering's scratch buffers after the tiles (`scratch.rs`).
    scratch_plan: scratch::ScratchPlan,
    /// Which of the inferred conversions have been made.
    applied: Vec<bool>,
    /// The kernel's `shared<T>[...]` buffers.
    shared_tiles: shared_tiles::SharedTiles,
    /// What the kernel's integer scalars are multiples of (for vector accesses).
    divisibility: contiguity::Divisibility,
    /// Tiles loaded from packed tensors: their raw groups of elements, for conversions by bit tricks.
    packed_groups: HashMap<ValueId, packed::Groups>,
    /// The loops being lowered, for `break` and `continue`.
    exits: control::LoopExits,
}

impl Lowering<'_> {
    fn get(&self, v: ValueId) -> Vec<Reg> {
        self.env[&v].clone()
    }

    fn block(&mut self, insts: &[Inst]) -> Result<(), Diagnostic> {
        for inst in insts {
            self.b.set_span(Some(inst.span));
            // Operands this use needs in another layout: converted for this instruction only. Inlined
            // copies of one function share spans, so the value must be one this instruction reads.
            let operands = inst.op.operands();
            let wanted: Vec<usize> = (0..self.layouts.conversions().len())
                .filter(|&i| {
                    let c = &self.layouts.conversions()[i];
                    !self.applied[i] && c.at == inst.span && c.user.role == Role::Operand && c.user.op == inst.op.name() && operands.contains(&c.value)
                })
                .collect();
            let mut saved = Vec::new();
            for i in wanted {
                let c = self.layouts.conversions()[i].clone();
                if self.dot_loads_operand_itself(inst, &c) {
                    // The mma lowering stages this operand for `ldmatrix` instead.
                    self.applied[i] = true;
                    continue;
                }
                if self.env.contains_key(&c.value) && !self.converted.contains_key(&c.value) {
                    // A packed tile cast by bit tricks is converted after the cast (packed.rs).
                    if self.converts_after_cast(inst, c.value) {
                        self.applied[i] = true;
                        continue;
                    }
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
        let (thread_part, first) = self.thread_part(l);
        let mut out = Vec::new();
        for value in 0..l.num_values() {
            let c = l.coords(0, value).map_err(|e| refuse(at, &e.to_string()))?;
            out.push(
                c.iter()
                    .zip(&thread_part)
                    .map(|(&k, &t)| match t {
                        Some(t) if k == 0 => t,
                        Some(t) => {
                            let kc = self.b.i64(k);
                            self.b.add(t, kc)
                        }
                        None => self.b.i64(k),
                    })
                    .collect(),
            );
        }
        Ok((out, first))
    }

    /// The thread part of layout `l`'s coordinates in this thread, per dimension (`None`: no thread
    /// mode steps it), and whether the thread is the first holder of its elements.
    fn thread_part(&mut self, l: &TvLayout) -> (Vec<Option<Reg>>, Reg) {
        // Trivial steps (a divisor or stride of 1, adding 0) are left out so the program stays
        // readable and small; the coordinates are the same.
        let rank = l.shape().len();
        let mut thread_part: Vec<Option<Reg>> = vec![None; rank];
        let mut first = self.b.bool(true);
        let mut prefix = 1i64;
        for m in l.thread_modes().to_vec() {
            let q = if prefix == 1 {
                self.tid
            } else {
                let p = self.b.i64(prefix);
                self.b.div(self.tid, p)
            };
            let e = self.b.i64(m.extent);
            let idx = self.b.rem(q, e);
            match m.dim {
                Some(d) => {
                    let step = if m.stride == 1 {
                        idx
                    } else {
                        let s = self.b.i64(m.stride);
                        self.b.mul(idx, s)
                    };
                    thread_part[d] = Some(match thread_part[d] {
                        Some(t) => self.b.add(t, step),
                        None => step,
                    });
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
        (thread_part, first)
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
                let cop = *op;
                let (xs, ys) = (self.get(*a), self.get(*c));
                xs.into_iter().zip(ys).map(|(x, y)| self.b.cmp(cop, x, y)).collect()
            }
            Op::Cast(a) => {
                let to = result_ty.as_ref().expect("cast has a result").dtype();
                match self.cast_packed(inst, *a, to)? {
                    Some(regs) => regs,
                    None => self.get(*a).into_iter().map(|x| self.b.cast(x, to)).collect(),
                }
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
            Op::Cumsum { value, dim } => self.cumsum(inst, *value, *dim)?,
            Op::Repeat { value, .. } => self.repeat(inst, *value)?,
            Op::Bitcast(a) => self.bitcast(inst, *a)?,
            Op::Splat(a) => vec![self.get(*a)[0]; slots_of(self, inst.results[0])],
            Op::Annotate(a, _) => self.get(*a),
            Op::Load { tensor, offsets } => self.load(inst.results[0], *tensor, offsets)?,
            Op::Store { tensor, offsets, value, mask } => return self.store(inst, *value, *tensor, offsets, *mask),
            Op::AtomicAdd { tensor, offsets, value } => return self.atomic_add(inst, *value, *tensor, offsets),
            Op::For { start, end, step, inits, body, .. } => return self.for_loop(inst, *start, *end, *step, inits, body),
            Op::While { inits, cond, body } => return self.while_loop(inst, inits, cond, body),
            Op::Break(vals) | Op::Continue(vals) => {
                self.leave_iteration(vals, matches!(inst.op, Op::Break(_)));
                return Ok(());
            }
            Op::If { cond, then, els } => return self.if_else(inst, *cond, then, els),
            Op::LoadShared(view) => self.load_shared_tile(inst, view)?,
            Op::StoreShared { view, value } => return self.store_shared_tile(inst, view, *value),
            Op::CopyAsync { view, tensor, offsets, shape } => return self.copy_async_tile(inst, view, *tensor, offsets, shape),
            Op::Print { format, args } => return self.print(inst, format, args),
            Op::CommitGroup | Op::WaitGroup(_) | Op::Barrier => {
                self.synchronise(&inst.op);
                return Ok(());
            }
            // Every op of the tile IR is matched: a new one must decide how it lowers here.
        };
        if let Some(r) = inst.results.first() {
            self.env.insert(*r, out);
        }
        Ok(())
    }
}

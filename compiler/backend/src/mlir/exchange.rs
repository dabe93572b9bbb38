//! Moving tile elements between threads through shared memory.
//!
//! Under the cyclic distribution (distribute.rs) an operation whose output element needs input
//! elements held by other threads — broadcasts, permutations, repeats, reductions, prefix sums, and
//! `dot` on the FMA path — goes through a per-kernel scratch buffer in shared memory: every thread
//! stores its slots at their element index, the block synchronises, every thread reads the elements
//! its output slots need, and the block synchronises again before the buffer is reused. This is the
//! same mechanism a layout conversion uses; layout-driven lowering will keep it for those and select
//! warp shuffles and tensor-core instructions where layouts allow.

use super::arith::{mlir_type, Ops};
use super::distribute::Distribution;
use super::kernel::{Emitter, Scope};
use crate::error::CodegenError;
use melior::dialect::arith::CmpiPredicate;
use melior::dialect::{arith, llvm, scf};
use melior::ir::block::BlockLike;
use melior::ir::operation::OperationBuilder;
use melior::ir::r#type::IntegerType;
use melior::ir::{Block, Region, RegionLike, Type, Value, ValueLike};
use tilec_core::syntax::Span;
use tilec_core::tir::{ReduceOp, ValueId};
use tilec_dtype::DType;

/// The most shared memory the exchange may use (the static limit of NVIDIA and AMD GPUs is 48 KiB).
const MAX_SCRATCH: u64 = 48 * 1024;

impl<'c> Emitter<'c, '_> {
    /// The storage type of an element in shared memory (bool as i8).
    fn cell_type(&self, dt: DType, span: Span) -> Result<Type<'c>, CodegenError> {
        if dt.is_bool() {
            Ok(IntegerType::new(self.ctx, 8).into())
        } else {
            mlir_type(self.ctx, dt, span)
        }
    }

    fn cell_bytes(dt: DType) -> u64 {
        if dt.is_bool() {
            1
        } else {
            (dt.bits() / 8) as u64
        }
    }

    /// Reserves `bytes` of scratch; the buffer is sized to the largest reservation.
    fn reserve(&self, bytes: u64, span: Span) -> Result<(), CodegenError> {
        if bytes > MAX_SCRATCH {
            return Err(CodegenError::unsupported(span, format!("exchanging this tile needs {bytes} bytes of shared memory, more than the {MAX_SCRATCH} the GPU backend uses")));
        }
        let mut s = self.scratch.borrow_mut();
        *s = (*s).max(bytes);
        Ok(())
    }

    /// The scratch buffer's address (`llvm.mlir.addressof`), offset by `byte_offset`.
    fn scratch_at<'a>(&self, block: &'a Block<'c>, byte_offset: u64) -> Value<'c, 'a> {
        let ops = Ops { ctx: self.ctx, block, loc: self.loc };
        let ptr = Type::parse(self.ctx, "!llvm.ptr<3>").expect("valid type");
        let base = ops.address_of(&self.scratch_name(), 3);
        if byte_offset == 0 {
            return base;
        }
        let off = ops.i64(byte_offset as i64);
        block.append_operation(llvm::get_element_ptr_dynamic(self.ctx, base, &[off], IntegerType::new(self.ctx, 8).into(), ptr, self.loc)).result(0).expect("one result").into()
    }

    pub(super) fn scratch_name(&self) -> String {
        format!("__tilec_scratch_{}", self.kernel.name)
    }

    pub(super) fn barrier(&self, block: &Block<'c>) {
        block.append_operation(OperationBuilder::new("gpu.barrier", self.loc).build().expect("valid operation"));
    }

    /// Element index `k * T + tid` of slot `k`.
    pub(super) fn slot_index<'a>(&self, s: &Scope<'c, 'a>, k: u64, threads: u32) -> Value<'c, 'a> {
        let ops = Ops { ctx: self.ctx, block: s.block, loc: self.loc };
        let first = ops.i64((k * threads as u64) as i64);
        ops.add(first, s.tid)
    }

    /// Stores every slot of `v` into scratch at `byte_offset` + element index * cell size.
    pub(super) fn stash<'a>(&self, s: &Scope<'c, 'a>, v: ValueId, byte_offset: u64, threads: u32, span: Span) -> Result<(), CodegenError> {
        let dt = self.kernel.ty(v).dtype();
        let dist = Distribution::new(self.kernel.ty(v).shape(), threads);
        self.reserve(byte_offset + dist.slots() * dist.threads * Self::cell_bytes(dt), span)?;
        let cell = self.cell_type(dt, span)?;
        let base = self.scratch_at(s.block, byte_offset);
        let ptr = Type::parse(self.ctx, "!llvm.ptr<3>").expect("valid type");
        for (k, x) in s.get(v).to_vec().into_iter().enumerate() {
            let e = self.slot_index(s, k as u64, threads);
            let x: Value = if dt.is_bool() { s.block.append_operation(arith::extui(x, cell, self.loc)).result(0).expect("one result").into() } else { x };
            let p: Value = s.block.append_operation(llvm::get_element_ptr_dynamic(self.ctx, base, &[e], cell, ptr, self.loc)).result(0).expect("one result").into();
            s.block.append_operation(llvm::store(self.ctx, x, p, self.loc, Default::default()));
        }
        Ok(())
    }

    /// Reads element `index` of a stashed tile of `dt` at `byte_offset`.
    pub(super) fn fetch<'a>(&self, block: &'a Block<'c>, dt: DType, byte_offset: u64, index: Value<'c, 'a>, span: Span) -> Result<Value<'c, 'a>, CodegenError> {
        let cell = self.cell_type(dt, span)?;
        let base = self.scratch_at(block, byte_offset);
        let ptr = Type::parse(self.ctx, "!llvm.ptr<3>").expect("valid type");
        let p: Value = block.append_operation(llvm::get_element_ptr_dynamic(self.ctx, base, &[index], cell, ptr, self.loc)).result(0).expect("one result").into();
        let x: Value = block.append_operation(llvm::load(self.ctx, p, cell, self.loc, Default::default())).result(0).expect("one result").into();
        Ok(if dt.is_bool() { block.append_operation(arith::trunci(x, IntegerType::new(self.ctx, 1).into(), self.loc)).result(0).expect("one result").into() } else { x })
    }

    /// The coordinates of row-major element `e` of `shape`.
    pub(super) fn coords<'a>(&self, ops: &Ops<'c, 'a>, e: Value<'c, 'a>, shape: &[u64]) -> Vec<Value<'c, 'a>> {
        let mut out = Vec::with_capacity(shape.len());
        let mut stride: u64 = shape.iter().product();
        for &d in shape {
            stride /= d.max(1);
            let st = ops.i64(stride as i64);
            let q = ops.div_s(e, st);
            let ext = ops.i64(d as i64);
            out.push(ops.rem_s(q, ext));
        }
        out
    }

    /// The row-major index of `coords` in `shape`, clamped into the tile (partial slots compute
    /// indices past the end; their results are never used, but their reads must stay in the buffer).
    pub(super) fn linear<'a>(&self, ops: &Ops<'c, 'a>, coords: &[Value<'c, 'a>], shape: &[u64]) -> Value<'c, 'a> {
        let mut at = ops.i64(0);
        for (c, &d) in coords.iter().zip(shape) {
            let ext = ops.i64(d as i64);
            let scaled = ops.mul(at, ext);
            at = ops.add(scaled, *c);
        }
        let last = ops.i64(shape.iter().product::<u64>() as i64 - 1);
        let zero = ops.i64(0);
        let past = ops.cmpi(CmpiPredicate::Sgt, at, last);
        let hi = ops.select(past, last, at);
        let below = ops.cmpi(CmpiPredicate::Slt, hi, zero);
        ops.select(below, zero, hi)
    }

    /// A gather: every output slot reads the input element `source(coords of the output element)`.
    pub(super) fn gather<'a>(
        &self,
        s: &Scope<'c, 'a>,
        input: ValueId,
        out_shape: &[u64],
        threads: u32,
        span: Span,
        source: impl Fn(&Ops<'c, 'a>, &[Value<'c, 'a>]) -> Vec<Value<'c, 'a>>,
    ) -> Result<Vec<Value<'c, 'a>>, CodegenError> {
        let in_ty = self.kernel.ty(input).clone();
        self.stash(s, input, 0, threads, span)?;
        self.barrier(s.block);
        let ops = Ops { ctx: self.ctx, block: s.block, loc: self.loc };
        let dist = Distribution::new(out_shape, threads);
        let mut out = Vec::new();
        for k in 0..dist.slots() {
            let e = self.slot_index(s, k, threads);
            let c = self.coords(&ops, e, out_shape);
            let src = source(&ops, &c);
            let at = self.linear(&ops, &src, in_ty.shape());
            out.push(self.fetch(s.block, in_ty.dtype(), 0, at, span)?);
        }
        self.barrier(s.block);
        Ok(out)
    }

    /// A loop block `(r: i64, acc)` for [`Self::finish_loop`].
    pub(super) fn loop_block(&self, acc: Type<'c>) -> Block<'c> {
        Block::new(&[(IntegerType::new(self.ctx, 64).into(), self.loc), (acc, self.loc)])
    }

    /// `scf.for r in lo..hi` over `body` (which ends with its yield), carrying one value from `init`.
    pub(super) fn finish_loop<'a>(&self, s: &Scope<'c, 'a>, body: Block<'c>, lo: Value<'c, 'a>, hi: Value<'c, 'a>, init: Value<'c, 'a>) -> Result<Value<'c, 'a>, CodegenError> {
        let ops = Ops { ctx: self.ctx, block: s.block, loc: self.loc };
        let one = ops.i64(1);
        let region = Region::new();
        region.append_block(body);
        let op = s.block.append_operation(
            OperationBuilder::new("scf.for", self.loc)
                .add_operands(&[lo, hi, one, init])
                .add_results(&[init.r#type()])
                .add_regions([region])
                .build()
                .map_err(|e| CodegenError::internal("MLIR construction", e.to_string()))?,
        );
        Ok(op.result(0).expect("one result").into())
    }

    /// `sum max min any all` over dimension `dim` (every dimension when `None`), sequentially.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn reduce<'a>(&self, s: &Scope<'c, 'a>, op: ReduceOp, input: ValueId, dim: Option<usize>, result: ValueId, threads: u32, span: Span) -> Result<Vec<Value<'c, 'a>>, CodegenError> {
        let in_ty = self.kernel.ty(input).clone();
        let dt = in_ty.dtype();
        let shape = in_ty.shape().to_vec();
        self.stash(s, input, 0, threads, span)?;
        self.barrier(s.block);
        let ops = Ops { ctx: self.ctx, block: s.block, loc: self.loc };
        let (out_shape, extent): (Vec<u64>, u64) = match dim {
            Some(d) => {
                let mut o = shape.clone();
                o[d] = 1;
                (o, shape[d])
            }
            None => (vec![1], shape.iter().product()),
        };
        let slots = if self.kernel.ty(result).is_tile() { Distribution::new(&out_shape, threads).slots() } else { 1 };
        let mut out = Vec::new();
        for k in 0..slots {
            let e = self.slot_index(s, k, threads);
            let c = if dim.is_some() { self.coords(&ops, e, &out_shape) } else { vec![] };
            let first = self.reduced_index(&ops, &c, dim, ops.i64(0), &shape);
            let init = self.fetch(s.block, dt, 0, first, span)?;
            let body = self.loop_block(init.r#type());
            {
                let o = Ops { ctx: self.ctx, block: &body, loc: self.loc };
                let r: Value = body.argument(0).expect("iv").into();
                let acc: Value = body.argument(1).expect("acc").into();
                let at = self.reduced_index(&o, &c, dim, r, &shape);
                let x = self.fetch(&body, dt, 0, at, span)?;
                let next = combine(&o, op, dt, acc, x);
                body.append_operation(scf::r#yield(&[next], self.loc));
            }
            let (lo, hi) = (ops.i64(1), ops.i64(extent as i64));
            out.push(self.finish_loop(s, body, lo, hi, init)?);
        }
        self.barrier(s.block);
        Ok(out)
    }

    /// Inclusive prefix sum along `dim`: output element `c` sums positions `0..=c[dim]` in order.
    pub(super) fn cumsum<'a>(&self, s: &Scope<'c, 'a>, input: ValueId, dim: usize, threads: u32, span: Span) -> Result<Vec<Value<'c, 'a>>, CodegenError> {
        let in_ty = self.kernel.ty(input).clone();
        let (dt, shape) = (in_ty.dtype(), in_ty.shape().to_vec());
        self.stash(s, input, 0, threads, span)?;
        self.barrier(s.block);
        let ops = Ops { ctx: self.ctx, block: s.block, loc: self.loc };
        let mut out = Vec::new();
        for k in 0..Distribution::new(&shape, threads).slots() {
            let e = self.slot_index(s, k, threads);
            let c = self.coords(&ops, e, &shape);
            let first = self.reduced_index(&ops, &c, Some(dim), ops.i64(0), &shape);
            let init = self.fetch(s.block, dt, 0, first, span)?;
            let body = self.loop_block(init.r#type());
            {
                let o = Ops { ctx: self.ctx, block: &body, loc: self.loc };
                let r: Value = body.argument(0).expect("iv").into();
                let acc: Value = body.argument(1).expect("acc").into();
                let at = self.reduced_index(&o, &c, Some(dim), r, &shape);
                let x = self.fetch(&body, dt, 0, at, span)?;
                let next = combine(&o, ReduceOp::Sum, dt, acc, x);
                body.append_operation(scf::r#yield(&[next], self.loc));
            }
            let one = ops.i64(1);
            let hi = ops.add(c[dim], one);
            out.push(self.finish_loop(s, body, one, hi, init)?);
        }
        self.barrier(s.block);
        Ok(out)
    }

    /// `dot(a, b, acc)` on the FMA path: both operands through shared memory, each output element an
    /// f32 (or i32) multiply-add loop over K.
    pub(super) fn dot<'a>(&self, s: &Scope<'c, 'a>, a: ValueId, b: ValueId, acc: ValueId, threads: u32, span: Span) -> Result<Vec<Value<'c, 'a>>, CodegenError> {
        let (ta, tb) = (self.kernel.ty(a).clone(), self.kernel.ty(b).clone());
        let (m, kk, n) = (ta.shape()[0], ta.shape()[1], tb.shape()[1]);
        let dt = ta.dtype();
        let a_bytes = Distribution::new(ta.shape(), threads).slots() * threads as u64 * Self::cell_bytes(dt);
        let b_off = a_bytes.div_ceil(16) * 16;
        self.stash(s, a, 0, threads, span)?;
        self.stash(s, b, b_off, threads, span)?;
        self.barrier(s.block);
        let acc_dt = self.kernel.ty(acc).dtype();
        let acc_ty = mlir_type(self.ctx, acc_dt, span)?;
        let ops = Ops { ctx: self.ctx, block: s.block, loc: self.loc };
        let mut out = Vec::new();
        for (slot, init) in s.get(acc).to_vec().into_iter().enumerate() {
            let e = self.slot_index(s, slot as u64, threads);
            let c = self.coords(&ops, e, &[m, n]);
            let body = self.loop_block(acc_ty);
            {
                let o = Ops { ctx: self.ctx, block: &body, loc: self.loc };
                let r: Value = body.argument(0).expect("iv").into();
                let sum: Value = body.argument(1).expect("acc").into();
                let ia = self.linear(&o, &[c[0], r], &[m, kk]);
                let ib = self.linear(&o, &[r, c[1]], &[kk, n]);
                let x = o.cast(dt, acc_dt, self.fetch(&body, dt, 0, ia, span)?, span)?;
                let y = o.cast(dt, acc_dt, self.fetch(&body, dt, b_off, ib, span)?, span)?;
                let next = if acc_dt.is_float() { o.fma(acc_dt, x, y, sum) } else { let p = o.mul(x, y); o.add(sum, p) };
                body.append_operation(scf::r#yield(&[next], self.loc));
            }
            let (lo, hi) = (ops.i64(0), ops.i64(kk as i64));
            out.push(self.finish_loop(s, body, lo, hi, init)?);
        }
        self.barrier(s.block);
        Ok(out)
    }

    /// The index of position `r` along the reduced dimension for the output element at `c`.
    fn reduced_index<'a>(&self, ops: &Ops<'c, 'a>, c: &[Value<'c, 'a>], dim: Option<usize>, r: Value<'c, 'a>, shape: &[u64]) -> Value<'c, 'a> {
        let Some(d) = dim else { return r };
        let coords: Vec<Value> = c.iter().enumerate().map(|(i, x)| if i == d { r } else { *x }).collect();
        self.linear(ops, &coords, shape)
    }
}

/// The reduction's combining operation on two values of `dt` (floats: NaN-ignoring max and min).
fn combine<'c, 'a>(o: &Ops<'c, 'a>, op: ReduceOp, dt: DType, a: Value<'c, '_>, b: Value<'c, '_>) -> Value<'c, 'a> {
    use tilec_core::tir::BinaryOp;
    let bop = match op {
        ReduceOp::Sum => BinaryOp::Add,
        ReduceOp::Max => BinaryOp::Max,
        ReduceOp::Min => BinaryOp::Min,
        ReduceOp::Any => BinaryOp::Or,
        ReduceOp::All => BinaryOp::And,
    };
    o.binary(bop, dt, a, b)
}

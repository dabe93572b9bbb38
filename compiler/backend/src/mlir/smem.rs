//! The kernel's own shared-memory buffers (`shared<T>[...]`), one shared-memory global each.
//!
//! `copy_async` is lowered as a plain copy (a global load and a shared store per element): it has
//! completed when it returns, which is one valid schedule of an asynchronous copy, so `commit_group`
//! and `wait_group` have nothing left to do; `barrier()` is `gpu.barrier`. (`cp.async` comes with
//! layout-driven lowering.)

use super::arith::{mlir_type, Ops};
use super::distribute::Distribution;
use super::kernel::{Emitter, Scope};
use crate::error::CodegenError;
use melior::dialect::arith::CmpiPredicate;
use melior::dialect::{llvm, scf};
use melior::ir::block::BlockLike;
use melior::ir::{Block, Region, RegionLike, Type, Value};
use tilec_core::syntax::Span;
use tilec_core::tir::{SharedView, ValueId};

impl<'c> Emitter<'c, '_> {
    pub(super) fn smem_name(&self, buffer: usize) -> String {
        format!("__tilec_smem{buffer}_{}", self.kernel.name)
    }

    /// Per slot of a tile of `shape` at `view`: (pointer to the element, slot guard for partial slots).
    fn smem_slots<'a>(&self, s: &Scope<'c, 'a>, view: &SharedView, shape: &[u64], threads: u32, span: Span) -> Result<Vec<(Value<'c, 'a>, Option<Value<'c, 'a>>)>, CodegenError> {
        let buf = &self.kernel.shared[view.buffer];
        let cell = mlir_type(self.ctx, buf.dtype, span)?;
        if !buf.dtype.bits().is_multiple_of(8) {
            return Err(CodegenError::unsupported(span, format!("the GPU backend cannot hold packed `{}` in shared memory yet", buf.dtype)));
        }
        let ops = Ops { ctx: self.ctx, block: s.block, loc: self.loc };
        let ptr = Type::parse(self.ctx, "!llvm.ptr<3>").expect("valid type");
        let base = ops.address_of(&self.smem_name(view.buffer), 3);
        let dist = Distribution::new(shape, threads);
        let numel = ops.i64(dist.numel as i64);
        let mut out = Vec::new();
        for k in 0..dist.slots() {
            let e = self.slot_index(s, k, threads);
            let c = self.coords(&ops, e, shape);
            let mut coord: Vec<Value> = view.offsets.iter().map(|o| s.get(*o)[0]).collect();
            for (i, d) in view.spans.iter().enumerate() {
                coord[*d] = ops.add(coord[*d], c[i]);
            }
            let at = self.linear(&ops, &coord, &buf.shape);
            let p: Value = s.block.append_operation(llvm::get_element_ptr_dynamic(self.ctx, base, &[at], cell, ptr, self.loc)).result(0).expect("one result").into();
            let guard = dist.slot_is_partial(k).then(|| ops.cmpi(CmpiPredicate::Slt, e, numel));
            out.push((p, guard));
        }
        Ok(out)
    }

    pub(super) fn load_shared<'a>(&self, s: &Scope<'c, 'a>, view: &SharedView, result: ValueId, threads: u32, span: Span) -> Result<Vec<Value<'c, 'a>>, CodegenError> {
        let shape = self.kernel.ty(result).shape().to_vec();
        let cell = mlir_type(self.ctx, self.kernel.shared[view.buffer].dtype, span)?;
        let slots = self.smem_slots(s, view, &shape, threads, span)?;
        Ok(slots.into_iter().map(|(p, _)| s.block.append_operation(llvm::load(self.ctx, p, cell, self.loc, Default::default())).result(0).expect("one result").into()).collect())
    }

    pub(super) fn store_shared<'a>(&self, s: &Scope<'c, 'a>, view: &SharedView, value: ValueId, threads: u32, span: Span) -> Result<(), CodegenError> {
        let shape = self.kernel.ty(value).shape().to_vec();
        let vals = s.get(value).to_vec();
        for ((p, guard), v) in self.smem_slots(s, view, &shape, threads, span)?.into_iter().zip(vals) {
            self.guarded(s.block, guard, |b| {
                b.append_operation(llvm::store(self.ctx, v, p, self.loc, Default::default()));
            });
        }
        Ok(())
    }

    /// A global tile (loaded with bounds masking) stored into shared memory.
    pub(super) fn copy_to_shared<'a>(&self, s: &mut Scope<'c, 'a>, view: &SharedView, loaded: Vec<Value<'c, 'a>>, shape: &[u64], threads: u32, span: Span) -> Result<(), CodegenError> {
        for ((p, guard), v) in self.smem_slots(s, view, shape, threads, span)?.into_iter().zip(loaded) {
            self.guarded(s.block, guard, |b| {
                b.append_operation(llvm::store(self.ctx, v, p, self.loc, Default::default()));
            });
        }
        Ok(())
    }

    /// Runs `body` under `scf.if guard` when there is a guard, else directly.
    fn guarded(&self, block: &Block<'c>, guard: Option<Value<'c, '_>>, body: impl Fn(&Block<'c>)) {
        let Some(g) = guard else {
            body(block);
            return;
        };
        let then_b = Block::new(&[]);
        body(&then_b);
        then_b.append_operation(scf::r#yield(&[], self.loc));
        let else_b = Block::new(&[]);
        else_b.append_operation(scf::r#yield(&[], self.loc));
        let (t, e) = (Region::new(), Region::new());
        t.append_block(then_b);
        e.append_block(else_b);
        block.append_operation(scf::r#if(g, &[], t, e, self.loc));
    }
}

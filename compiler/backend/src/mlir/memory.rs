//! Global memory: bounds-masked loads and stores of distributed tiles.
//!
//! For slot `k` a thread handles element `e = k * T + tid` of the tile; its coordinates, offset by the
//! view, index the row-major tensor. An element outside the tensor (in any dimension, or past the end
//! of a partial slot) is masked: a load yields zero, a store writes nothing. One unsigned comparison
//! `g < extent` per dimension also rejects negative coordinates.

use super::arith::{mlir_type, Ops};
use super::distribute::Distribution;
use super::kernel::{Emitter, Scope};
use crate::error::CodegenError;
use melior::dialect::arith::CmpiPredicate;
use melior::dialect::{llvm, scf};
use melior::ir::block::BlockLike;
use melior::ir::RegionLike;
use melior::ir::{Block, Region, Type, Value};
use tilec_core::syntax::Span;
use tilec_core::tir::{Dim, ParamKind, ValueId};
use tilec_dtype::DType;

/// The address and in-bounds predicate of one slot's element.
struct Access<'c, 'a> {
    ptr: Value<'c, 'a>,
    mask: Option<Value<'c, 'a>>,
}

impl<'c> Emitter<'c, '_> {
    fn accesses<'a>(
        &self,
        s: &Scope<'c, 'a>,
        tensor: usize,
        offsets: &[ValueId],
        shape: &[u64],
        threads: u32,
        span: Span,
    ) -> Result<(DType, Vec<Access<'c, 'a>>), CodegenError> {
        let k = self.kernel;
        let ParamKind::Tensor { dtype, shape: dims, strides } = &k.params[tensor].kind else {
            return Err(CodegenError::internal("MLIR construction", "load/store of a scalar parameter"));
        };
        if dtype.bits() % 8 != 0 || dtype.is_bool() {
            return Err(CodegenError::unsupported(span, format!("the GPU backend cannot access packed `{dtype}` tensors yet")));
        }
        let elem = mlir_type(self.ctx, *dtype, span)?;
        let ops = Ops { ctx: self.ctx, block: s.block, loc: self.loc };
        let value = |d: &Dim| match d {
            Dim::Sym(i) => s.args[k.params.len() + i],
            Dim::Fixed(n) => ops.i64(*n as i64),
        };
        let extents: Vec<Value> = dims.iter().map(value).collect();
        let tensor_strides: Option<Vec<Value>> = strides.as_ref().map(|st| st.iter().map(value).collect());
        let dist = Distribution::new(shape, threads);
        let numel = ops.i64(dist.numel as i64);
        let strides: Vec<u64> = (0..shape.len()).map(|d| shape[d + 1..].iter().product()).collect();
        let ptr_ty = Type::parse(self.ctx, "!llvm.ptr<1>").expect("valid type");
        let base = s.args[tensor];
        let mut out = Vec::new();
        for slot in 0..dist.slots() {
            let first = ops.i64((slot * dist.threads) as i64);
            let e = ops.add(first, s.tid);
            let mut mask = dist.slot_is_partial(slot).then(|| ops.cmpi(CmpiPredicate::Slt, e, numel));
            let mut linear: Option<Value> = None;
            for d in 0..shape.len() {
                let mut c = e;
                if strides[d] != 1 {
                    let st = ops.i64(strides[d] as i64);
                    c = ops.div_s(c, st);
                }
                if d > 0 {
                    let ext = ops.i64(shape[d] as i64);
                    c = ops.rem_s(c, ext);
                }
                let g = ops.add(s.get(offsets[d])[0], c);
                let inside = ops.cmpi(CmpiPredicate::Ult, g, extents[d]);
                mask = Some(match mask {
                    Some(m) => ops.and(m, inside),
                    None => inside,
                });
                linear = Some(match (&tensor_strides, linear) {
                    // Declared strides: the sum of coordinate times stride.
                    (Some(st), l) => {
                        let term = ops.mul(g, st[d]);
                        l.map_or(term, |l| ops.add(l, term))
                    }
                    // Row-major: Horner's rule over the extents.
                    (None, None) => g,
                    (None, Some(l)) => {
                        let scaled = ops.mul(l, extents[d]);
                        ops.add(scaled, g)
                    }
                });
            }
            let linear = linear.expect("tensors have at least one dimension");
            let ptr = s
                .block
                .append_operation(llvm::get_element_ptr_dynamic(self.ctx, base, &[linear], elem, ptr_ty, self.loc))
                .result(0)
                .expect("one result")
                .into();
            out.push(Access { ptr, mask });
        }
        Ok((*dtype, out))
    }

    pub(super) fn load<'a>(
        &self,
        s: &Scope<'c, 'a>,
        tensor: usize,
        offsets: &[ValueId],
        result: ValueId,
        threads: u32,
        span: Span,
    ) -> Result<Vec<Value<'c, 'a>>, CodegenError> {
        let shape = self.kernel.ty(result).shape().to_vec();
        self.load_tile(s, tensor, offsets, &shape, threads, span)
    }

    /// The slots of a bounds-masked tile of `shape` read from tensor `tensor` at `offsets`.
    pub(super) fn load_tile<'a>(
        &self,
        s: &Scope<'c, 'a>,
        tensor: usize,
        offsets: &[ValueId],
        shape: &[u64],
        threads: u32,
        span: Span,
    ) -> Result<Vec<Value<'c, 'a>>, CodegenError> {
        let (dtype, accesses) = self.accesses(s, tensor, offsets, shape, threads, span)?;
        let elem = mlir_type(self.ctx, dtype, span)?;
        let ops = Ops { ctx: self.ctx, block: s.block, loc: self.loc };
        let zero = ops.zero(dtype, span)?;
        let mut out = Vec::new();
        for a in accesses {
            let Some(mask) = a.mask else {
                out.push(s.block.append_operation(llvm::load(self.ctx, a.ptr, elem, self.loc, Default::default())).result(0).expect("one result").into());
                continue;
            };
            let then_b = Block::new(&[]);
            let loaded: Value = then_b.append_operation(llvm::load(self.ctx, a.ptr, elem, self.loc, Default::default())).result(0).expect("one result").into();
            then_b.append_operation(scf::r#yield(&[loaded], self.loc));
            let else_b = Block::new(&[]);
            else_b.append_operation(scf::r#yield(&[zero], self.loc));
            let (then_r, else_r) = (Region::new(), Region::new());
            then_r.append_block(then_b);
            else_r.append_block(else_b);
            let op = s.block.append_operation(scf::r#if(mask, &[elem], then_r, else_r, self.loc));
            out.push(op.result(0).expect("one result").into());
        }
        Ok(out)
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn store<'a>(
        &self,
        s: &Scope<'c, 'a>,
        tensor: usize,
        offsets: &[ValueId],
        value: ValueId,
        user_mask: Option<ValueId>,
        threads: u32,
        span: Span,
    ) -> Result<(), CodegenError> {
        let shape = self.kernel.ty(value).shape().to_vec();
        let (_, accesses) = self.accesses(s, tensor, offsets, &shape, threads, span)?;
        let ops = Ops { ctx: self.ctx, block: s.block, loc: self.loc };
        for (k, (a, v)) in accesses.into_iter().zip(s.get(value)).enumerate() {
            // The user's mask has the value's shape, hence its distribution: slot k masks slot k.
            let mask = match (a.mask, user_mask.map(|m| s.get(m)[k])) {
                (Some(x), Some(y)) => Some(ops.and(x, y)),
                (x, y) => x.or(y),
            };
            let Some(mask) = mask else {
                s.block.append_operation(llvm::store(self.ctx, *v, a.ptr, self.loc, Default::default()));
                continue;
            };
            let then_b = Block::new(&[]);
            then_b.append_operation(llvm::store(self.ctx, *v, a.ptr, self.loc, Default::default()));
            then_b.append_operation(scf::r#yield(&[], self.loc));
            let else_b = Block::new(&[]);
            else_b.append_operation(scf::r#yield(&[], self.loc));
            let (then_r, else_r) = (Region::new(), Region::new());
            then_r.append_block(then_b);
            else_r.append_block(else_b);
            s.block.append_operation(scf::r#if(mask, &[], then_r, else_r, self.loc));
        }
        Ok(())
    }
}

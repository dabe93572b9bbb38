//! Global memory: bounds-masked loads, stores and atomic adds of distributed tiles.
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

/// The address and in-bounds predicate of one slot's element; for a packed (sub-byte) tensor, the
/// address of the byte holding its first bit and the bit position in that byte.
struct Access<'c, 'a> {
    ptr: Value<'c, 'a>,
    mask: Option<Value<'c, 'a>>,
    shift: Option<Value<'c, 'a>>,
}

/// Whether elements of `dt` are read as codes and decoded: packed below byte boundaries (sub-byte
/// integers, bool), or small floats of any width (their codes are not LLVM types).
fn packed(dt: DType) -> bool {
    dt.bits() < 8 || super::arith::is_carried(dt)
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
        let elem: Type = if packed(*dtype) { melior::ir::r#type::IntegerType::new(self.ctx, 8).into() } else { mlir_type(self.ctx, *dtype, span)? };
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
            let mut linear = linear.expect("tensors have at least one dimension");
            let mut shift = None;
            if packed(*dtype) {
                // Element k occupies bits [k*n, (k+1)*n) of the byte stream (docs/dtypes.md).
                let bit = ops.mul(linear, ops.i64(dtype.bits() as i64));
                let three = ops.i64(3);
                linear = s.block.append_operation(melior::dialect::arith::shrui(bit, three, self.loc)).result(0).expect("one result").into();
                let seven = ops.i64(7);
                shift = Some(ops.and(bit, seven));
            }
            let ptr = s
                .block
                .append_operation(llvm::get_element_ptr_dynamic(self.ctx, base, &[linear], elem, ptr_ty, self.loc))
                .result(0)
                .expect("one result")
                .into();
            out.push(Access { ptr, mask, shift });
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
        let zero = ops.zero(super::arith::carrier(dtype), span)?;
        let mut out = Vec::new();
        if packed(dtype) {
            for a in accesses {
                let shift = a.shift.expect("packed accesses have a bit position");
                let then_b = Block::new(&[]);
                let v = self.unpack(&then_b, dtype, a.ptr, shift, span)?;
                then_b.append_operation(scf::r#yield(&[v], self.loc));
                let Some(mask) = a.mask else {
                    return Err(CodegenError::internal("MLIR construction", "packed loads are always bounds-checked"));
                };
                let else_b = Block::new(&[]);
                else_b.append_operation(scf::r#yield(&[zero], self.loc));
                let (then_r, else_r) = (Region::new(), Region::new());
                then_r.append_block(then_b);
                else_r.append_block(else_b);
                out.push(s.block.append_operation(scf::r#if(mask, &[elem], then_r, else_r, self.loc)).result(0).expect("one result").into());
            }
            return Ok(out);
        }
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
        let (dtype, accesses) = self.accesses(s, tensor, offsets, &shape, threads, span)?;
        if packed(dtype) {
            // Neighbouring elements share bytes: a store needs a read-modify-write that threads agree on.
            return Err(CodegenError::unsupported(span, format!("the GPU backend cannot store packed `{dtype}` tensors yet")));
        }
        let ops = Ops { ctx: self.ctx, block: s.block, loc: self.loc };
        for (k, (a, v)) in accesses.into_iter().zip(s.get(value)).enumerate() {
            // The user's mask has the value's shape, hence its distribution: slot k masks slot k.
            let mask = match (a.mask, user_mask.map(|m| s.get(m)[k])) {
                (Some(x), Some(y)) => Some(ops.and(x, y)),
                (x, y) => x.or(y),
            };
            self.append_masked(s, llvm::store(self.ctx, *v, a.ptr, self.loc, Default::default()), mask);
        }
        Ok(())
    }
}

impl<'c> Emitter<'c, '_> {
    /// `atomic_add(tensor[offsets..], value)`: one `llvm.atomicrmw` per slot (`mlir/atomic.rs`),
    /// masked like a store. Each element of the distribution has exactly one holder, so each is
    /// added once.
    pub(super) fn atomic_add<'a>(&self, s: &Scope<'c, 'a>, tensor: usize, offsets: &[ValueId], value: ValueId, threads: u32, span: Span) -> Result<(), CodegenError> {
        let shape = self.kernel.ty(value).shape().to_vec();
        let dtype = self.kernel.ty(value).dtype();
        if !tilec_core::thread::atomic_add_supported(dtype) {
            return Err(CodegenError::unsupported(span, format!("GPUs have no atomic add of {dtype} elements")));
        }
        let (_, accesses) = self.accesses(s, tensor, offsets, &shape, threads, span)?;
        for (a, v) in accesses.into_iter().zip(s.get(value)) {
            let op = super::atomic::atomic_add(self.ctx, self.loc, self.target, a.ptr, *v, dtype.is_float());
            self.append_masked(s, op, a.mask);
        }
        Ok(())
    }

    /// Appends side-effecting `op` (a store, an atomic), under `scf.if mask` when there is a mask.
    fn append_masked<'a>(&self, s: &Scope<'c, 'a>, op: melior::ir::Operation<'c>, mask: Option<Value<'c, 'a>>) {
        let Some(mask) = mask else {
            s.block.append_operation(op);
            return;
        };
        let then_b = Block::new(&[]);
        then_b.append_operation(op);
        then_b.append_operation(scf::r#yield(&[], self.loc));
        let else_b = Block::new(&[]);
        else_b.append_operation(scf::r#yield(&[], self.loc));
        let (then_r, else_r) = (Region::new(), Region::new());
        then_r.append_block(then_b);
        else_r.append_block(else_b);
        s.block.append_operation(scf::r#if(mask, &[], then_r, else_r, self.loc));
    }
}

impl<'c> Emitter<'c, '_> {
    /// The value of the packed element whose first bit is bit `shift` of the byte at `ptr`: its code
    /// (read from two bytes when it straddles them), then decoded into its carrier register.
    fn unpack<'a>(&self, block: &'a Block<'c>, dt: DType, ptr: Value<'c, 'a>, shift: Value<'c, 'a>, span: Span) -> Result<Value<'c, 'a>, CodegenError> {
        use melior::dialect::arith;
        use melior::ir::r#type::IntegerType;
        let ops = Ops { ctx: self.ctx, block, loc: self.loc };
        let (i8t, i16t): (Type, Type) = (IntegerType::new(self.ctx, 8).into(), IntegerType::new(self.ctx, 16).into());
        let bits = dt.bits() as i64;
        let push = |op| -> Value<'c, 'a> { block.append_operation(op).result(0).expect("one result").into() };
        let b0 = push(llvm::load(self.ctx, ptr, i8t, self.loc, Default::default()));
        let mut word = push(arith::extui(b0, i16t, self.loc));
        if 8 % bits != 0 {
            // The element may run into the next byte; that byte then exists (it holds part of it).
            let reach = ops.add(shift, ops.i64(bits));
            let straddles = ops.cmpi(CmpiPredicate::Sgt, reach, ops.i64(8));
            let then_b = Block::new(&[]);
            {
                let one = Ops { ctx: self.ctx, block: &then_b, loc: self.loc }.i64(1);
                let next: Value = then_b
                    .append_operation(llvm::get_element_ptr_dynamic(self.ctx, ptr, &[one], i8t, Type::parse(self.ctx, "!llvm.ptr<1>").expect("valid type"), self.loc))
                    .result(0)
                    .expect("one result")
                    .into();
                let b1: Value = then_b.append_operation(llvm::load(self.ctx, next, i8t, self.loc, Default::default())).result(0).expect("one result").into();
                then_b.append_operation(scf::r#yield(&[b1], self.loc));
            }
            let else_b = Block::new(&[]);
            let zero8 = Ops { ctx: self.ctx, block: &else_b, loc: self.loc }.int(i8t, 0);
            else_b.append_operation(scf::r#yield(&[zero8], self.loc));
            let (t, e) = (Region::new(), Region::new());
            t.append_block(then_b);
            e.append_block(else_b);
            let b1 = push(scf::r#if(straddles, &[i8t], t, e, self.loc));
            let hi = push(arith::extui(b1, i16t, self.loc));
            let eight = ops.int(i16t, 8);
            let hi = push(arith::shli(hi, eight, self.loc));
            word = push(arith::ori(word, hi, self.loc));
        }
        let sh = push(arith::trunci(shift, i16t, self.loc));
        let word = push(arith::shrui(word, sh, self.loc));
        let mask = ops.int(i16t, (1 << bits) - 1);
        let code16 = push(arith::andi(word, mask, self.loc));
        let code = push(arith::trunci(code16, i8t, self.loc));
        Ok(match dt {
            DType::Bool => {
                let zero = ops.int(i8t, 0);
                ops.cmpi(CmpiPredicate::Ne, code, zero)
            }
            DType::Int { signed: true, .. } => {
                // Sign-extend from `bits` inside the i8 carrier.
                let up = ops.int(i8t, 8 - bits);
                let shifted = push(arith::shli(code, up, self.loc));
                push(arith::shrsi(shifted, up, self.loc))
            }
            DType::Int { .. } => code,
            _ => self.decode_table(block, dt, code, span)?,
        })
    }
}

impl<'c> Emitter<'c, '_> {
    pub(super) fn table_name(&self, dt: DType) -> String {
        format!("__tilec_decode_{dt}_{}", self.kernel.name)
    }

    /// The exact f32 value of small-float code `code`, from a constant table of every code's value.
    pub(super) fn decode_table<'a>(&self, block: &'a Block<'c>, dt: DType, code: Value<'c, 'a>, span: Span) -> Result<Value<'c, 'a>, CodegenError> {
        let _ = span;
        self.tables.borrow_mut().insert(dt);
        let ops = Ops { ctx: self.ctx, block, loc: self.loc };
        let ptr = Type::parse(self.ctx, "!llvm.ptr<1>").expect("valid type");
        let base = ops.address_of(&self.table_name(dt), 1);
        let index: Value = block
            .append_operation(melior::dialect::arith::extui(code, melior::ir::r#type::IntegerType::new(self.ctx, 64).into(), self.loc))
            .result(0)
            .expect("one result")
            .into();
        let f32t = Type::float32(self.ctx);
        let p: Value = block.append_operation(llvm::get_element_ptr_dynamic(self.ctx, base, &[index], f32t, ptr, self.loc)).result(0).expect("one result").into();
        let _ = ops;
        Ok(block.append_operation(llvm::load(self.ctx, p, f32t, self.loc, Default::default())).result(0).expect("one result").into())
    }
}

/// The constant table of `dt`'s values (every code, in order), as f32.
pub(super) fn decode_table_global<'c>(ctx: &'c melior::Context, loc: melior::ir::Location<'c>, name: &str, dt: DType) -> Result<melior::ir::Operation<'c>, CodegenError> {
    let values: Vec<String> = (0..1u64 << dt.bits())
        // Bit patterns: exact, and NaN and the infinities need no special form.
        .map(|c| format!("0x{:08X}", (tilec_dtype::decode(dt, c) as f32).to_bits()))
        .collect();
    super::kernel::constant_table_global(ctx, loc, name, "f32", &values)
}

//! Global and shared memory accesses, global atomic adds and `cp.async`.
//!
//! Guarantees: every access is one `llvm.load`/`llvm.store` of the register's full width (up to 16
//! bytes) with `align` equal to that width, so LLVM emits one `ld.global.v4.b32`-style instruction;
//! a predicated access executes only when its predicate holds (`scf.if`), and a predicated-off load
//! yields its `other` register (zero without one: the emulator reports reading it). An atomic add
//! is one `llvm.atomicrmw` (`mlir/atomic.rs`), predicated the same way. Shared offsets
//! are relative to their allocation, placed by `Program::shared_layout`.

use super::{Emitter, Scope};
use crate::error::CodegenError;
use melior::dialect::{arith, llvm, scf};
use melior::ir::attribute::IntegerAttribute;
use melior::ir::block::BlockLike;
use melior::ir::r#type::IntegerType;
use melior::ir::RegionLike;
use melior::ir::{Block, Region, Type, Value, ValueLike};
use tilec_core::syntax::Span;
use tilec_core::thread::{Reg, Ty};

impl<'c> Emitter<'c, '_> {
    /// The type a register of `ty` is loaded and stored as: itself, or the integer of its width for
    /// fragments of sub-byte elements.
    fn memory_type(&self, ty: Ty) -> Type<'c> {
        if ty.is_scalar() || ty.dtype.bits().is_multiple_of(8) {
            self.ty(ty)
        } else {
            IntegerType::new(self.ctx, ty.bits()).into()
        }
    }

    fn options(&self, ty: Ty) -> llvm::LoadStoreOptions<'c> {
        let i64t = IntegerType::new(self.ctx, 64).into();
        llvm::LoadStoreOptions::new().align(Some(IntegerAttribute::new(i64t, (ty.bits() / 8) as i64)))
    }

    /// A byte offset (an integer register of any width; the verifier asks no more) as `bits` wide:
    /// sign-extended or truncated (shared offsets fit in 32 bits).
    fn offset_as<'a>(&self, s: &Scope<'c, 'a>, offset: Value<'c, 'a>, bits: u32) -> Value<'c, 'a> {
        let have = IntegerType::try_from(offset.r#type()).expect("an integer offset").width();
        let ty: Type = IntegerType::new(self.ctx, bits).into();
        match have.cmp(&bits) {
            std::cmp::Ordering::Equal => offset,
            std::cmp::Ordering::Less => self.push(s, arith::extsi(offset, ty, self.loc)),
            std::cmp::Ordering::Greater => self.push(s, arith::trunci(offset, ty, self.loc)),
        }
    }

    /// The address `offset` bytes into global parameter `param`.
    fn global_ptr<'a>(&self, s: &Scope<'c, 'a>, param: usize, offset: Value<'c, 'a>) -> Value<'c, 'a> {
        let offset = self.offset_as(s, offset, 64);
        let ptr = Type::parse(self.ctx, "!llvm.ptr<1>").expect("valid type");
        let i8t = IntegerType::new(self.ctx, 8).into();
        self.push(s, llvm::get_element_ptr_dynamic(self.ctx, s.args[param], &[offset], i8t, ptr, self.loc))
    }

    /// The address `offset` bytes into shared allocation `buf`.
    pub(super) fn shared_ptr<'a>(&self, s: &Scope<'c, 'a>, buf: usize, offset: Value<'c, 'a>) -> Value<'c, 'a> {
        let offset = self.offset_as(s, offset, 32);
        let ptr = Type::parse(self.ctx, "!llvm.ptr<3>").expect("valid type");
        let base = s.ops(self.loc, self.ctx).address_of(&self.shared_name(), 3);
        let (starts, _) = self.program.shared_layout();
        let at = if starts[buf] == 0 {
            offset
        } else {
            let start = self.i32_const(s, starts[buf] as i64);
            self.push(s, arith::addi(offset, start, self.loc))
        };
        let i8t = IntegerType::new(self.ctx, 8).into();
        self.push(s, llvm::get_element_ptr_dynamic(self.ctx, base, &[at], i8t, ptr, self.loc))
    }

    /// A load of `ty` from `ptr`, as the register type.
    fn load<'a>(&self, s: &Scope<'c, 'a>, ptr: Value<'c, 'a>, ty: Ty) -> Value<'c, 'a> {
        let v = self.push(s, llvm::load(self.ctx, ptr, self.memory_type(ty), self.loc, self.options(ty)));
        if self.memory_type(ty) == self.ty(ty) {
            v
        } else {
            self.bits_to_reg(s, v, ty)
        }
    }

    fn store<'a>(&self, s: &Scope<'c, 'a>, ptr: Value<'c, 'a>, value: Value<'c, 'a>, ty: Ty) {
        let v = if self.memory_type(ty) == self.ty(ty) { value } else { self.reg_to_bits(s, value, ty) };
        s.block.append_operation(llvm::store(self.ctx, v, ptr, self.loc, self.options(ty)));
    }

    /// Runs `body` in the `then` region of an `scf.if pred` without results.
    fn when(&self, s: &Scope<'c, '_>, pred: Value<'c, '_>, body: impl FnOnce(&Scope<'c, '_>)) {
        let then = Block::new(&[]);
        {
            let inner = Scope::bare(&then);
            body(&inner);
            then.append_operation(scf::r#yield(&[], self.loc));
        }
        let (rt, re) = (Region::new(), Region::new());
        rt.append_block(then);
        s.block.append_operation(scf::r#if(pred, &[], rt, re, self.loc));
    }

    pub fn load_global<'a>(&self, s: &Scope<'c, 'a>, param: usize, offset: Reg, ty: Ty, pred: Option<Reg>, other: Option<Reg>) -> Value<'c, 'a> {
        let ptr = self.global_ptr(s, param, s.get(offset));
        let Some(pred) = pred else { return self.load(s, ptr, ty) };
        let then = Block::new(&[]);
        {
            let inner = Scope::bare(&then);
            let v = self.load(&inner, ptr, ty);
            then.append_operation(scf::r#yield(&[v], self.loc));
        }
        let els = Block::new(&[]);
        {
            let inner = Scope::bare(&els);
            let v = match other {
                Some(o) => s.get(o),
                None => self.zero(&inner, ty),
            };
            els.append_operation(scf::r#yield(&[v], self.loc));
        }
        let (rt, re) = (Region::new(), Region::new());
        rt.append_block(then);
        re.append_block(els);
        self.push(s, scf::r#if(s.get(pred), &[self.ty(ty)], rt, re, self.loc))
    }

    pub fn store_global<'a>(&self, s: &Scope<'c, 'a>, param: usize, offset: Reg, value: Reg, pred: Option<Reg>) {
        let ptr = self.global_ptr(s, param, s.get(offset));
        let (v, ty) = (s.get(value), self.reg_ty(value));
        match pred {
            None => self.store(s, ptr, v, ty),
            Some(p) => self.when(s, s.get(p), |inner| self.store(inner, ptr, v, ty)),
        }
    }

    /// `red.global.add`: one `llvm.atomicrmw` of the scalar register (`add` or `fadd` by its dtype),
    /// inside `scf.if` when predicated, like a store.
    pub fn atomic_add_global<'a>(&self, s: &Scope<'c, 'a>, param: usize, offset: Reg, value: Reg, pred: Option<Reg>) {
        let ptr = self.global_ptr(s, param, s.get(offset));
        let (v, float) = (s.get(value), self.reg_ty(value).dtype.is_float());
        let add = |inner: &Scope<'c, '_>| {
            inner.block.append_operation(crate::mlir::atomic::atomic_add(self.ctx, self.loc, self.target, ptr, v, float));
        };
        match pred {
            None => add(s),
            Some(p) => self.when(s, s.get(p), add),
        }
    }

    pub fn load_shared<'a>(&self, s: &Scope<'c, 'a>, buf: usize, offset: Reg, ty: Ty) -> Value<'c, 'a> {
        let ptr = self.shared_ptr(s, buf, s.get(offset));
        self.load(s, ptr, ty)
    }

    pub fn store_shared<'a>(&self, s: &Scope<'c, 'a>, buf: usize, offset: Reg, value: Reg, pred: Option<Reg>) {
        let ptr = self.shared_ptr(s, buf, s.get(offset));
        let (v, ty) = (s.get(value), self.reg_ty(value));
        match pred {
            None => self.store(s, ptr, v, ty),
            Some(p) => self.when(s, s.get(p), |inner| self.store(inner, ptr, v, ty)),
        }
    }

    /// `cp.async.{ca,cg}.shared.global` of 4, 8 or 16 bytes (`cg`, which bypasses L1, for 16); a
    /// predicate becomes the source size (`bytes` or 0: zero fill), as PTX defines it.
    #[allow(clippy::too_many_arguments)]
    pub fn cp_async<'a>(&self, s: &Scope<'c, 'a>, buf: usize, soffset: Reg, param: usize, goffset: Reg, bytes: u32, pred: Option<Reg>, span: Span) -> Result<(), CodegenError> {
        if !matches!(bytes, 4 | 8 | 16) {
            return Err(CodegenError::unsupported(span, format!("cp.async copies 4, 8 or 16 bytes, not {bytes}")));
        }
        let dst = self.shared_ptr(s, buf, s.get(soffset));
        let src = self.global_ptr(s, param, s.get(goffset));
        let cache = if bytes == 16 { "cg" } else { "ca" };
        let name = format!("llvm.nvvm.cp.async.{cache}.shared.global.{bytes}");
        match pred {
            None => self.intrinsic_void(s, &name, &[dst, src]),
            Some(p) => {
                let (full, none) = (self.i32_const(s, bytes as i64), self.i32_const(s, 0));
                let size = s.ops(self.loc, self.ctx).select(s.get(p), full, none);
                self.intrinsic_void(s, &format!("{name}.s"), &[dst, src, size]);
            }
        }
        Ok(())
    }
}

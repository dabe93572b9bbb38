//! Barriers, warp collectives (`shfl.sync`, `ldmatrix`, `stmatrix`, `mma.sync`) and the bit tricks
//! of low-bit decoding (`lop3`, `prmt`), as the NVVM intrinsics or PTX instructions the thread IR
//! names (docs/thread.md's table), operand for operand.
//!
//! Guarantees: 32-bit operands of any type are passed by their bits; fragments keep the element
//! order of the PTX fragment tables (`u32x4` element `i` is register `i` of the instruction);
//! `stmatrix` (sm_90 only) is refused on sm_80.

use super::{Emitter, Scope};
use crate::error::CodegenError;
use crate::target::Target;
use melior::dialect::llvm;
use melior::ir::block::BlockLike;
use melior::ir::attribute::DenseI64ArrayAttribute;
use melior::ir::operation::OperationBuilder;
use melior::ir::{Type, Value};
use tilec_core::syntax::Span;
use tilec_core::thread::{MmaKind, Reg, ShflMode, Ty};
use tilec_dtype::DType;

impl<'c> Emitter<'c, '_> {
    /// `bar.sync 0` (`gpu.barrier`).
    pub fn bar_sync(&self, s: &Scope<'c, '_>) {
        s.block.append_operation(OperationBuilder::new("gpu.barrier", self.loc).build().expect("valid operation"));
    }

    /// A register of 32 bits as an i32.
    fn word<'a>(&self, s: &Scope<'c, 'a>, r: Reg) -> Value<'c, 'a> {
        self.reg_to_bits(s, s.get(r), self.reg_ty(r))
    }

    /// The `count` 32-bit words of register `r` (of `32 · count` bits, any type: `u32x4`, `f16x8`)
    /// as i32s, word `i` holding bits `[32i, 32i + 32)`.
    fn words<'a>(&self, s: &Scope<'c, 'a>, r: Reg, count: u32) -> Vec<Value<'c, 'a>> {
        let ty = Ty::vec(DType::U32, count);
        let v = self.bitcast(s, s.get(r), self.reg_ty(r), ty);
        if count == 1 {
            return vec![v];
        }
        (0..count).map(|i| self.extract(s, v, ty, i)).collect()
    }

    /// Calls an intrinsic returning `count` values of `elem` (a struct of them when more than one)
    /// and packs them into a register of type `ty`.
    fn call_fragment<'a>(&self, s: &Scope<'c, 'a>, name: &str, args: &[Value<'c, 'a>], elem: &str, ty: Ty) -> Value<'c, 'a> {
        if ty.is_scalar() {
            return self.intrinsic(s, name, args, self.ty(ty));
        }
        let fields = vec![elem; ty.lanes as usize].join(", ");
        let st = Type::parse(self.ctx, &format!("!llvm.struct<({fields})>")).expect("valid struct type");
        let call = self.intrinsic(s, name, args, st);
        let mut v = self.undef(s, ty);
        for i in 0..ty.lanes {
            let e = self.push(s, llvm::extract_value(self.ctx, call, DenseI64ArrayAttribute::new(self.ctx, &[i as i64]), self.ty(ty.elem()), self.loc));
            v = self.insert(s, v, i, e);
        }
        v
    }

    /// `shfl.sync.{mode}.b32 d, value, b, c, mask`.
    pub fn shfl<'a>(&self, s: &Scope<'c, 'a>, mode: ShflMode, value: Reg, b: Reg, c: u32, mask: u32) -> Value<'c, 'a> {
        if self.is_amd() {
            return self.shfl_amd(s, mode, value, b, c);
        }
        let v = self.word(s, value);
        let (m, c) = (self.i32_const(s, mask as i32 as i64), self.i32_const(s, c as i32 as i64));
        let r = self.intrinsic(s, &format!("llvm.nvvm.shfl.sync.{}.i32", mode.name()), &[m, v, s.get(b), c], self.i32_type());
        self.bits_to_reg(s, r, self.reg_ty(value))
    }

    /// `shfl.sync` on a 64-lane AMD wavefront whose halves are the program's warps: PTX's source
    /// lane (`thread::warp::shfl_source`: clamp and segment from `c`, the own lane when out of
    /// range) in this half, read with `ds_bpermute` (which addresses lanes by 4 bytes).
    fn shfl_amd<'a>(&self, s: &Scope<'c, 'a>, mode: ShflMode, value: Reg, b: Reg, c: u32) -> Value<'c, 'a> {
        use melior::dialect::arith::{self, CmpiPredicate};
        let l = self.loc;
        let ops = s.ops(self.loc, self.ctx);
        let k = |v: u32| self.i32_const(s, v as i64);
        let tid = self.special(s, tilec_core::thread::Special::ThreadId);
        let lane = self.push(s, arith::andi(tid, k(31), l));
        let bval = self.push(s, arith::andi(s.get(b), k(31), l));
        let (clamp, seg) = (c & 0x1f, (c >> 8) & 0x1f);
        let min_lane = self.push(s, arith::andi(lane, k(seg), l));
        let max_lane = self.push(s, arith::ori(min_lane, k(clamp & !seg), l));
        let (j, ok) = match mode {
            ShflMode::Up => {
                let j = self.push(s, arith::subi(lane, bval, l));
                (j, ops.cmpi(CmpiPredicate::Sge, j, max_lane))
            }
            ShflMode::Down => {
                let j = self.push(s, arith::addi(lane, bval, l));
                (j, ops.cmpi(CmpiPredicate::Sle, j, max_lane))
            }
            ShflMode::Bfly => {
                let j = self.push(s, arith::xori(lane, bval, l));
                (j, ops.cmpi(CmpiPredicate::Sle, j, max_lane))
            }
            ShflMode::Idx => {
                let sel = self.push(s, arith::andi(bval, k(!seg & 0x1f), l));
                let j = self.push(s, arith::ori(min_lane, sel, l));
                (j, ops.cmpi(CmpiPredicate::Sle, j, max_lane))
            }
        };
        let src = ops.select(ok, j, lane);
        let half = self.push(s, arith::andi(tid, k(32), l));
        let hw = self.push(s, arith::ori(half, src, l));
        let addr = self.push(s, arith::shli(hw, k(2), l));
        let r = self.intrinsic(s, "llvm.amdgcn.ds.bpermute", &[addr, self.word(s, value)], self.i32_type());
        self.bits_to_reg(s, r, self.reg_ty(value))
    }

    /// `ldmatrix.sync.aligned.m8n8.x{count}[.trans].shared.b16`; the result is `u32x{count}`.
    pub fn ldmatrix<'a>(&self, s: &Scope<'c, 'a>, buf: usize, offset: Reg, count: u32, trans: bool) -> Value<'c, 'a> {
        let ptr = self.shared_ptr(s, buf, s.get(offset));
        let name = format!("llvm.nvvm.ldmatrix.sync.aligned.m8n8.x{count}{}.b16", if trans { ".trans" } else { "" });
        self.call_fragment(s, &name, &[ptr], "i32", Ty::vec(DType::U32, count))
    }

    /// `stmatrix.sync.aligned.m8n8.x{count}[.trans].shared.b16` (sm_90; LLVM 19 has no intrinsic for
    /// it, so it is inline PTX with the 32-bit shared address).
    #[allow(clippy::too_many_arguments)]
    pub fn stmatrix<'a>(&self, s: &Scope<'c, 'a>, buf: usize, offset: Reg, value: Reg, count: u32, trans: bool, span: Span) -> Result<(), CodegenError> {
        if self.target != Target::Sm90 {
            return Err(CodegenError::unsupported(span, format!("stmatrix needs sm_90; `{}` does not have it", self.target)));
        }
        let ptr = self.shared_ptr(s, buf, s.get(offset));
        let addr = self.push(s, OperationBuilder::new("llvm.ptrtoint", self.loc).add_operands(&[ptr]).add_results(&[self.i32_type()]).build().expect("valid operation"));
        let mut args = vec![addr];
        args.extend(self.words(s, value, count));
        let regs: Vec<String> = (1..=count).map(|i| format!("${i}")).collect();
        let asm = format!("stmatrix.sync.aligned.m8n8.x{count}{}.shared.b16 [$0], {{{}}};", if trans { ".trans" } else { "" }, regs.join(", "));
        let constraints = format!("{},~{{memory}}", vec!["r"; count as usize + 1].join(","));
        self.inline_asm(s, &asm, &constraints, &args, None, true);
        Ok(())
    }

    /// `mma.sync.aligned.{kind}.row.col`: A of 128 bits, B of 64 (`u32x4`/`u32x2`, or the same bits
    /// as `f16x8`/`f16x4`...), C and D `f32x4` (`i32x4`).
    pub fn mma<'a>(&self, s: &Scope<'c, 'a>, kind: MmaKind, a: Reg, b: Reg, c: Reg) -> Value<'c, 'a> {
        let mut args = self.words(s, a, 4);
        args.extend(self.words(s, b, 2));
        if kind == MmaKind::M16N8K16F16 {
            // The f16 variant takes its A and B registers as <2 x half>.
            let h2 = self.ty(Ty::F16X2);
            for x in args.iter_mut() {
                *x = self.push(s, llvm::bitcast(*x, h2, self.loc));
            }
        }
        let acc = kind.acc();
        args.extend(self.words_of(s, s.get(c), acc));
        let (name, elem) = match kind {
            MmaKind::M16N8K16F16 => ("llvm.nvvm.mma.m16n8k16.row.col.f32.f32", "f32"),
            MmaKind::M16N8K16BF16 => ("llvm.nvvm.mma.m16n8k16.row.col.bf16", "f32"),
            MmaKind::M16N8K8TF32 => ("llvm.nvvm.mma.m16n8k8.row.col.tf32", "f32"),
            MmaKind::M16N8K32S8 => ("llvm.nvvm.mma.m16n8k32.row.col.s8", "i32"),
            MmaKind::M16N8K32U8 => ("llvm.nvvm.mma.m16n8k32.row.col.u8", "i32"),
        };
        self.call_fragment(s, name, &args, elem, acc)
    }

    /// The elements of fragment `v` of type `ty`.
    fn words_of<'a>(&self, s: &Scope<'c, 'a>, v: Value<'c, 'a>, ty: Ty) -> Vec<Value<'c, 'a>> {
        (0..ty.lanes).map(|i| self.extract(s, v, ty, i)).collect()
    }

    /// `lop3.b32 d, a, b, c, lut` (inline PTX: LLVM selects lop3 itself only from bit operations;
    /// on AMD the sum of the LUT's minterms).
    pub fn lop3<'a>(&self, s: &Scope<'c, 'a>, a: Reg, b: Reg, c: Reg, lut: u8) -> Value<'c, 'a> {
        let args = [self.word(s, a), self.word(s, b), self.word(s, c)];
        if self.is_amd() {
            use melior::dialect::arith;
            let l = self.loc;
            let ones = self.i32_const(s, -1);
            let not: Vec<Value> = args.iter().map(|x| self.push(s, arith::xori(*x, ones, l))).collect();
            let mut d = self.i32_const(s, 0);
            for i in (0..8).filter(|i| lut >> i & 1 == 1) {
                let pick = |k: usize, bit: u32| if i >> bit & 1 == 1 { args[k] } else { not[k] };
                let t = self.push(s, arith::andi(pick(0, 2), pick(1, 1), l));
                let t = self.push(s, arith::andi(t, pick(2, 0), l));
                d = self.push(s, arith::ori(d, t, l));
            }
            return d;
        }
        self.inline_asm(s, &format!("lop3.b32 $0, $1, $2, $3, {lut};"), "=r,r,r,r", &args, Some(self.i32_type()), false).expect("one result")
    }

    /// `prmt.b32 d, a, b, sel` in the default mode (on AMD, byte by byte with shifts).
    pub fn prmt<'a>(&self, s: &Scope<'c, 'a>, a: Reg, b: Reg, sel: Reg) -> Value<'c, 'a> {
        let args = [self.word(s, a), self.word(s, b), self.word(s, sel)];
        if self.is_amd() {
            return self.prmt_bits(s, args[0], args[1], args[2]);
        }
        self.intrinsic(s, "llvm.nvvm.prmt", &args, self.i32_type())
    }

    /// `prmt`'s default mode from bit operations: byte `i` of the result is byte `sel[4i+2:4i]` of
    /// `{b, a}`, or its sign replicated when `sel[4i+3]` is set (`thread::prmt`).
    fn prmt_bits<'a>(&self, s: &Scope<'c, 'a>, a: Value<'c, 'a>, b: Value<'c, 'a>, sel: Value<'c, 'a>) -> Value<'c, 'a> {
        use melior::dialect::arith::{self, CmpiPredicate};
        use melior::ir::r#type::IntegerType;
        let l = self.loc;
        let i64t: Type = IntegerType::new(self.ctx, 64).into();
        let k64 = |v: i64| self.int_const(s, i64t, v);
        let lo = self.push(s, arith::extui(a, i64t, l));
        let hi = self.push(s, arith::extui(b, i64t, l));
        let hi = self.push(s, arith::shli(hi, k64(32), l));
        let src = self.push(s, arith::ori(lo, hi, l));
        let sel = self.push(s, arith::extui(sel, i64t, l));
        let mut d = k64(0);
        for i in 0..4 {
            let nib = self.push(s, arith::shrui(sel, k64(4 * i), l));
            let nib = self.push(s, arith::andi(nib, k64(0xf), l));
            let which = self.push(s, arith::andi(nib, k64(7), l));
            let at = self.push(s, arith::shli(which, k64(3), l));
            let byte = self.push(s, arith::shrui(src, at, l));
            let byte = self.push(s, arith::andi(byte, k64(0xff), l));
            let sign = self.push(s, arith::andi(byte, k64(0x80), l));
            let negative = s.ops(self.loc, self.ctx).cmpi(CmpiPredicate::Ne, sign, k64(0));
            let replicated = s.ops(self.loc, self.ctx).select(negative, k64(0xff), k64(0));
            let sign_mode = self.push(s, arith::andi(nib, k64(8), l));
            let sign_mode = s.ops(self.loc, self.ctx).cmpi(CmpiPredicate::Ne, sign_mode, k64(0));
            let byte = s.ops(self.loc, self.ctx).select(sign_mode, replicated, byte);
            let byte = self.push(s, arith::shli(byte, k64(8 * i), l));
            d = self.push(s, arith::ori(d, byte, l));
        }
        self.push(s, arith::trunci(d, self.i32_type(), l))
    }
}

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

    /// The `count` i32 elements of fragment `v` (`u32x{count}`; a scalar when `count` is 1).
    fn words<'a>(&self, s: &Scope<'c, 'a>, v: Value<'c, 'a>, count: u32) -> Vec<Value<'c, 'a>> {
        if count == 1 {
            return vec![v];
        }
        let ty = Ty::vec(DType::U32, count);
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
        let v = self.word(s, value);
        let (m, c) = (self.i32_const(s, mask as i32 as i64), self.i32_const(s, c as i32 as i64));
        let r = self.intrinsic(s, &format!("llvm.nvvm.shfl.sync.{}.i32", mode.name()), &[m, v, s.get(b), c], self.i32_type());
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
        args.extend(self.words(s, s.get(value), count));
        let regs: Vec<String> = (1..=count).map(|i| format!("${i}")).collect();
        let asm = format!("stmatrix.sync.aligned.m8n8.x{count}{}.shared.b16 [$0], {{{}}};", if trans { ".trans" } else { "" }, regs.join(", "));
        let constraints = format!("{},~{{memory}}", vec!["r"; count as usize + 1].join(","));
        self.inline_asm(s, &asm, &constraints, &args, None, true);
        Ok(())
    }

    /// `mma.sync.aligned.{kind}.row.col`: A `u32x4`, B `u32x2`, C and D `f32x4` (`i32x4`).
    pub fn mma<'a>(&self, s: &Scope<'c, 'a>, kind: MmaKind, a: Reg, b: Reg, c: Reg) -> Value<'c, 'a> {
        let mut args = self.words(s, s.get(a), 4);
        args.extend(self.words(s, s.get(b), 2));
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

    /// `lop3.b32 d, a, b, c, lut` (inline PTX: LLVM selects lop3 itself only from bit operations).
    pub fn lop3<'a>(&self, s: &Scope<'c, 'a>, a: Reg, b: Reg, c: Reg, lut: u8) -> Value<'c, 'a> {
        let args = [self.word(s, a), self.word(s, b), self.word(s, c)];
        self.inline_asm(s, &format!("lop3.b32 $0, $1, $2, $3, {lut};"), "=r,r,r,r", &args, Some(self.i32_type()), false).expect("one result")
    }

    /// `prmt.b32 d, a, b, sel` in the default mode.
    pub fn prmt<'a>(&self, s: &Scope<'c, 'a>, a: Reg, b: Reg, sel: Reg) -> Value<'c, 'a> {
        let args = [self.word(s, a), self.word(s, b), self.word(s, sel)];
        self.intrinsic(s, "llvm.nvvm.prmt", &args, self.i32_type())
    }
}

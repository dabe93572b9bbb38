//! Constants, thread indices, parameters, arithmetic, comparisons, casts and fragment moves, with the
//! emulator's semantics (`thread/scalar.rs`): integers wrap, `x / 0` is all ones and `x % 0 = x`,
//! shift amounts of at least the width clamp, float `min`/`max` return the non-NaN operand, casts
//! are the tile language's (`arith.rs` implements them for both backends).
//!
//! Fragments (`vector<..>`) use one vector operation where MLIR's op is elementwise with the same
//! semantics (`add.f16x2`, `fma.rn.f16x2`); the rest is applied lane by lane.

use super::{Emitter, Scope};
use crate::error::CodegenError;
use melior::dialect::arith::{self, CmpiPredicate};
use melior::ir::attribute::IntegerAttribute;
use melior::ir::operation::OperationBuilder;
use melior::ir::r#type::IntegerType;
use melior::ir::{Attribute, Identifier, Type, Value, ValueLike};
use tilec_core::syntax::Span;
use tilec_core::thread::{BinOp, CmpOp, Reg, Special, Ty, UnOp};
use tilec_core::tir::{BinaryOp, CmpOp as TirCmp};
use tilec_dtype::DType;

/// `bits` of a `width`-bit pattern, sign-extended to i64 (what an MLIR integer attribute takes).
fn sext(bits: u64, width: u32) -> i64 {
    if width >= 64 {
        bits as i64
    } else {
        ((bits << (64 - width)) as i64) >> (64 - width)
    }
}

/// The suffix of an overloaded LLVM intrinsic for `ty` (`f32`, `v2f16`).
pub(super) fn intrinsic_suffix(ty: Ty) -> String {
    let elem = match ty.dtype {
        DType::F16 => "f16".to_string(),
        DType::BF16 => "bf16".to_string(),
        DType::F64 => "f64".to_string(),
        DType::F32 | DType::TF32 => "f32".to_string(),
        other => format!("i{}", other.bits()),
    };
    if ty.is_scalar() {
        elem
    } else {
        format!("v{}{elem}", ty.lanes)
    }
}

impl<'c> Emitter<'c, '_> {
    /// An integer constant of MLIR integer type `ty`.
    pub fn int_const<'a>(&self, s: &Scope<'c, 'a>, ty: Type<'c>, v: i64) -> Value<'c, 'a> {
        self.push(s, arith::constant(self.ctx, IntegerAttribute::new(ty, v).into(), self.loc))
    }

    pub fn i32_const<'a>(&self, s: &Scope<'c, 'a>, v: i64) -> Value<'c, 'a> {
        self.int_const(s, self.i32_type(), v)
    }

    /// The scalar of type `ty` with bit pattern `bits`.
    pub fn constant<'a>(&self, s: &Scope<'c, 'a>, ty: Ty, bits: u64) -> Value<'c, 'a> {
        let width = ty.dtype.bits();
        let ity: Type = IntegerType::new(self.ctx, width).into();
        let int = self.int_const(s, ity, sext(bits, width));
        if ty.dtype.is_float() && !Self::is_code(ty.dtype) {
            self.push(s, arith::bitcast(int, self.ty(ty), self.loc))
        } else {
            int
        }
    }

    /// An undefined register: the emulator reports reading it, so any value is right.
    pub fn undef<'a>(&self, s: &Scope<'c, 'a>, ty: Ty) -> Value<'c, 'a> {
        self.push(s, melior::dialect::llvm::undef(self.ty(ty), self.loc))
    }

    /// The all-zero register of type `ty`.
    pub fn zero<'a>(&self, s: &Scope<'c, 'a>, ty: Ty) -> Value<'c, 'a> {
        self.push(s, melior::dialect::llvm::zero(self.ty(ty), self.loc))
    }

    fn gpu_index<'a>(&self, s: &Scope<'c, 'a>, op: &str, axis: u8) -> Value<'c, 'a> {
        let dim = ["x", "y", "z"][axis as usize % 3];
        let idx = self.push(
            s,
            OperationBuilder::new(op, self.loc)
                .add_attributes(&[(Identifier::new(self.ctx, "dimension"), Attribute::parse(self.ctx, &format!("#gpu<dim {dim}>")).expect("valid attribute"))])
                .add_results(&[Type::index(self.ctx)])
                .build()
                .expect("valid operation"),
        );
        self.push(s, arith::index_cast(idx, self.i32_type(), self.loc))
    }

    /// Thread and block indices, as i32. Lanes and warps are of 32 threads (the program's model).
    pub fn special<'a>(&self, s: &Scope<'c, 'a>, sp: Special) -> Value<'c, 'a> {
        match sp {
            Special::ThreadId => self.gpu_index(s, "gpu.thread_id", 0),
            Special::LaneId => {
                let t = self.gpu_index(s, "gpu.thread_id", 0);
                let m = self.i32_const(s, 31);
                self.push(s, arith::andi(t, m, self.loc))
            }
            Special::WarpId => {
                let t = self.gpu_index(s, "gpu.thread_id", 0);
                let five = self.i32_const(s, 5);
                self.push(s, arith::shrui(t, five, self.loc))
            }
            Special::NumThreads => self.gpu_index(s, "gpu.block_dim", 0),
            Special::BlockId(a) => self.gpu_index(s, "gpu.block_id", a),
            Special::NumBlocks(a) => self.gpu_index(s, "gpu.grid_dim", a),
        }
    }

    /// A scalar or dimension argument (a bool arrives as an i8).
    pub fn param<'a>(&self, s: &Scope<'c, 'a>, index: usize) -> Value<'c, 'a> {
        let arg = s.args[index];
        if matches!(self.program.params[index].kind, tilec_core::thread::ParamKind::Scalar(DType::Bool)) {
            let zero = self.int_const(s, arg.r#type(), 0);
            self.push(s, arith::cmpi(self.ctx, CmpiPredicate::Ne, arg, zero, self.loc))
        } else {
            arg
        }
    }

    fn refuse_codes(&self, dt: DType, what: &str, span: Span) -> Result<(), CodegenError> {
        if Self::is_code(dt) {
            return Err(CodegenError::unsupported(span, format!("the thread-level backend cannot {what} `{dt}` values; cast them to a wider type first")));
        }
        Ok(())
    }

    /// Applies `f` to each lane of the operands (of type `ty`) and packs the results (of dtype `out`).
    fn lanewise<'a>(&self, s: &Scope<'c, 'a>, ty: Ty, out: DType, operands: &[Value<'c, 'a>], mut f: impl FnMut(&[Value<'c, 'a>]) -> Result<Value<'c, 'a>, CodegenError>) -> Result<Value<'c, 'a>, CodegenError> {
        if ty.is_scalar() {
            return f(operands);
        }
        let mut v = self.undef(s, ty.with_dtype(out));
        for i in 0..ty.lanes {
            let lanes: Vec<Value> = operands.iter().map(|o| self.extract(s, *o, ty, i)).collect();
            let r = f(&lanes)?;
            v = self.insert(s, v, i, r);
        }
        Ok(v)
    }

    pub fn binary<'a>(&self, s: &Scope<'c, 'a>, op: BinOp, a: Reg, b: Reg, span: Span) -> Result<Value<'c, 'a>, CodegenError> {
        let ty = self.reg_ty(a);
        let dt = ty.dtype;
        self.refuse_codes(dt, "compute on", span)?;
        let (x, y) = (s.get(a), s.get(b));
        let l = self.loc;
        let ops = s.ops(self.loc, self.ctx);
        if dt.is_bool() {
            return Ok(self.push(
                s,
                match op {
                    BinOp::And | BinOp::Min | BinOp::Mul => arith::andi(x, y, l),
                    BinOp::Or | BinOp::Max => arith::ori(x, y, l),
                    _ => arith::xori(x, y, l),
                },
            ));
        }
        let tir = |op: BinOp| match op {
            BinOp::Add => Some(BinaryOp::Add),
            BinOp::Sub => Some(BinaryOp::Sub),
            BinOp::Mul => Some(BinaryOp::Mul),
            BinOp::Div => Some(BinaryOp::Div),
            BinOp::Rem => Some(BinaryOp::Rem),
            BinOp::Min => Some(BinaryOp::Min),
            BinOp::Max => Some(BinaryOp::Max),
            BinOp::And => Some(BinaryOp::And),
            BinOp::Or => Some(BinaryOp::Or),
            BinOp::Xor | BinOp::Shl | BinOp::Shr => None,
        };
        // A constant divisor other than 0 (and -1 for signed types) or a constant shift amount
        // below the width needs none of the special cases: plain LLVM division and shifts.
        if let (true, Some(c)) = (ty.is_scalar() && dt.is_int(), self.const_bits(b)) {
            let w = dt.bits();
            let all_ones = if w >= 64 { u64::MAX } else { (1u64 << w) - 1 };
            let plain_div = c != 0 && !(dt.is_signed_int() && c & all_ones == all_ones);
            let signed = dt.is_signed_int();
            let op = match op {
                BinOp::Div if plain_div && signed => Some(arith::divsi(x, y, l)),
                BinOp::Div if plain_div => Some(arith::divui(x, y, l)),
                BinOp::Rem if plain_div && signed => Some(arith::remsi(x, y, l)),
                BinOp::Rem if plain_div => Some(arith::remui(x, y, l)),
                BinOp::Shl if c < w as u64 => Some(arith::shli(x, y, l)),
                BinOp::Shr if c < w as u64 && signed => Some(arith::shrsi(x, y, l)),
                BinOp::Shr if c < w as u64 => Some(arith::shrui(x, y, l)),
                _ => None,
            };
            if let Some(op) = op {
                return Ok(self.push(s, op));
            }
        }
        // Elementwise in one MLIR op with the same semantics on vectors: everything but integer
        // division (its special cases need constants) and shifts (clamped amounts).
        let direct = ty.is_scalar() || dt.is_float() || !matches!(op, BinOp::Div | BinOp::Rem | BinOp::Shl | BinOp::Shr);
        if direct {
            if let Some(t) = tir(op) {
                return Ok(ops.binary(t, dt, x, y));
            }
            if op == BinOp::Xor {
                return Ok(self.push(s, arith::xori(x, y, l)));
            }
        }
        self.lanewise(s, ty, dt, &[x, y], |v| {
            Ok(match tir(op) {
                Some(t) => ops.binary(t, dt, v[0], v[1]),
                None if op == BinOp::Xor => self.push(s, arith::xori(v[0], v[1], l)),
                None => self.shift(s, op, dt, v[0], v[1]),
            })
        })
    }

    /// `shl`/`shr` with PTX's clamping: an amount of at least the width (as unsigned) gives 0, or
    /// the sign for `shr` of a signed type (LLVM's shifts are poison there).
    fn shift<'a>(&self, s: &Scope<'c, 'a>, op: BinOp, dt: DType, a: Value<'c, 'a>, b: Value<'c, 'a>) -> Value<'c, 'a> {
        let l = self.loc;
        let ty = a.r#type();
        let width = dt.bits() as i64;
        let last = self.int_const(s, ty, width - 1);
        let zero = self.int_const(s, ty, 0);
        let ops = s.ops(self.loc, self.ctx);
        let too_far = ops.cmpi(CmpiPredicate::Ugt, b, last);
        let amount = ops.select(too_far, zero, b);
        let (shifted, clamped) = match op {
            BinOp::Shl => (self.push(s, arith::shli(a, amount, l)), zero),
            _ if dt.is_signed_int() => (self.push(s, arith::shrsi(a, amount, l)), self.push(s, arith::shrsi(a, last, l))),
            _ => (self.push(s, arith::shrui(a, amount, l)), zero),
        };
        ops.select(too_far, clamped, shifted)
    }

    pub fn unary<'a>(&self, s: &Scope<'c, 'a>, op: UnOp, a: Reg, span: Span) -> Result<Value<'c, 'a>, CodegenError> {
        let ty = self.reg_ty(a);
        let dt = ty.dtype;
        self.refuse_codes(dt, "compute on", span)?;
        let x = s.get(a);
        let l = self.loc;
        let ops = s.ops(self.loc, self.ctx);
        // Float sign operations act on the whole vector: they only touch sign bits.
        match op {
            UnOp::Neg if dt.is_float() => return Ok(self.push(s, arith::negf(x, l))),
            UnOp::Abs if dt.is_float() => return Ok(self.intrinsic(s, &format!("llvm.fabs.{}", intrinsic_suffix(ty)), &[x], self.ty(ty))),
            _ => {}
        }
        let f32_only = |name: &str| -> Result<(), CodegenError> {
            match dt {
                DType::F32 => Ok(()),
                DType::F64 if name == "rsqrt" => Ok(()),
                _ => Err(CodegenError::unsupported(span, format!("`{name}` of `{dt}` has no PTX instruction; compute it in f32"))),
            }
        };
        self.lanewise(s, ty, dt, &[x], |v| {
            let x = v[0];
            let ety = x.r#type();
            Ok(match op {
                UnOp::Neg | UnOp::Abs if dt.is_float() => unreachable!("handled above"),
                UnOp::Neg => {
                    let zero = self.int_const(s, ety, 0);
                    self.push(s, arith::subi(zero, x, l))
                }
                UnOp::Abs => {
                    let zero = self.int_const(s, ety, 0);
                    let neg = self.push(s, arith::subi(zero, x, l));
                    let is_neg = ops.cmpi(CmpiPredicate::Slt, x, zero);
                    ops.select(is_neg, neg, x)
                }
                // `not` of bool flips its one bit, of an integer every bit: xor with all ones.
                UnOp::Not => {
                    let ones = self.int_const(s, ety, -1);
                    self.push(s, arith::xori(x, ones, l))
                }
                UnOp::Sqrt if matches!(dt, DType::F32 | DType::F64) => self.intrinsic(s, &format!("llvm.sqrt.{}", intrinsic_suffix(ty.elem())), &[x], ety),
                UnOp::Sqrt => return Err(CodegenError::unsupported(span, format!("`sqrt` of `{dt}`: compute it in f32"))),
                // AMD: LLVM's intrinsics, which the AMDGPU backend implements (v_exp_f32, v_log_f32).
                UnOp::Rsqrt if self.is_amd() => {
                    f32_only("rsqrt")?;
                    let root = self.intrinsic(s, &format!("llvm.sqrt.{}", intrinsic_suffix(ty.elem())), &[x], ety);
                    let one = self.push(s, arith::constant(self.ctx, melior::ir::attribute::FloatAttribute::new(self.ctx, ety, 1.0).into(), self.loc));
                    self.push(s, arith::divf(one, root, l))
                }
                UnOp::Ex2 if self.is_amd() => {
                    f32_only("ex2")?;
                    self.intrinsic(s, "llvm.exp2.f32", &[x], ety)
                }
                UnOp::Lg2 if self.is_amd() => {
                    f32_only("lg2")?;
                    self.intrinsic(s, "llvm.log2.f32", &[x], ety)
                }
                UnOp::Rsqrt => {
                    f32_only("rsqrt")?;
                    let name = if dt == DType::F64 { "llvm.nvvm.rsqrt.approx.d" } else { "llvm.nvvm.rsqrt.approx.f" };
                    self.intrinsic(s, name, &[x], ety)
                }
                UnOp::Ex2 => {
                    f32_only("ex2")?;
                    self.intrinsic(s, "llvm.nvvm.ex2.approx.f", &[x], ety)
                }
                UnOp::Lg2 => {
                    f32_only("lg2")?;
                    self.intrinsic(s, "llvm.nvvm.lg2.approx.f", &[x], ety)
                }
            })
        })
    }

    /// `a·b + c`: one rounding for floats (`llvm.fma`, `fma.rn.f16x2` on fragments), wrapping for
    /// integers.
    pub fn fma<'a>(&self, s: &Scope<'c, 'a>, a: Reg, b: Reg, c: Reg, span: Span) -> Result<Value<'c, 'a>, CodegenError> {
        let ty = self.reg_ty(a);
        self.refuse_codes(ty.dtype, "compute on", span)?;
        let (x, y, z) = (s.get(a), s.get(b), s.get(c));
        if ty.dtype.is_float() {
            return Ok(self.intrinsic(s, &format!("llvm.fma.{}", intrinsic_suffix(ty)), &[x, y, z], self.ty(ty)));
        }
        let p = self.push(s, arith::muli(x, y, self.loc));
        Ok(self.push(s, arith::addi(p, z, self.loc)))
    }

    pub fn compare<'a>(&self, s: &Scope<'c, 'a>, op: CmpOp, a: Reg, b: Reg, span: Span) -> Result<Value<'c, 'a>, CodegenError> {
        let dt = self.reg_ty(a).dtype;
        self.refuse_codes(dt, "compare", span)?;
        let op = match op {
            CmpOp::Eq => TirCmp::Eq,
            CmpOp::Ne => TirCmp::Ne,
            CmpOp::Lt => TirCmp::Lt,
            CmpOp::Le => TirCmp::Le,
            CmpOp::Gt => TirCmp::Gt,
            CmpOp::Ge => TirCmp::Ge,
        };
        Ok(s.ops(self.loc, self.ctx).compare(op, dt, s.get(a), s.get(b)))
    }

    /// The tile language's conversion, lane by lane (`tilec_dtype::cast_bits`).
    pub fn cast<'a>(&self, s: &Scope<'c, 'a>, a: Reg, to: DType, span: Span) -> Result<Value<'c, 'a>, CodegenError> {
        let ty = self.reg_ty(a);
        if Self::is_code(to) {
            // Into a code: from the exact value (a code source decoded to its f32), rounded once by
            // integer operations on its float bits (`Ops::small_float_code`).
            let code_ty: Type = IntegerType::new(self.ctx, to.bits()).into();
            return self.lanewise(s, ty, to, &[s.get(a)], |v| {
                let (from, x) = if Self::is_code(ty.dtype) { (DType::F32, self.decode(s, ty.dtype, v[0])) } else { (ty.dtype, v[0]) };
                if from == to {
                    return Ok(v[0]);
                }
                let code = s.ops(self.loc, self.ctx).small_float_code(from, to, x, span)?;
                Ok(if to.bits() == 8 { code } else { self.push(s, arith::trunci(code, code_ty, self.loc)) })
            });
        }
        self.lanewise(s, ty, to, &[s.get(a)], |v| self.cast_scalar(s, ty.dtype, to, v[0]))
    }

    /// One scalar converted by the tile language's rules (also widens `print`'s arguments).
    pub(super) fn cast_scalar<'a>(&self, s: &Scope<'c, 'a>, from: DType, to: DType, a: Value<'c, 'a>) -> Result<Value<'c, 'a>, CodegenError> {
        if from == to {
            return Ok(a);
        }
        // tf32 is an f32 whose low 13 bits are zero: its value is the f32's.
        let (mut from, mut a) = (if from == DType::TF32 { DType::F32 } else { from }, a);
        if Self::is_code(from) {
            a = self.decode(s, from, a);
            from = DType::F32;
        }
        let via = if to == DType::TF32 { DType::F32 } else { to };
        if from != via {
            a = s.ops(self.loc, self.ctx).convert(from, via, a, self.scalar_type(via));
        }
        Ok(if to == DType::TF32 { self.round_to_tf32(s, a) } else { a })
    }

    /// An f32 rounded to nearest even at tf32's 10 fraction bits; NaN becomes tf32's NaN.
    fn round_to_tf32<'a>(&self, s: &Scope<'c, 'a>, a: Value<'c, 'a>) -> Value<'c, 'a> {
        let l = self.loc;
        let i32t = self.i32_type();
        let bits = self.push(s, arith::bitcast(a, i32t, l));
        let thirteen = self.i32_const(s, 13);
        let one = self.i32_const(s, 1);
        let odd = self.push(s, arith::shrui(bits, thirteen, l));
        let odd = self.push(s, arith::andi(odd, one, l));
        let half = self.i32_const(s, 0xfff);
        let r = self.push(s, arith::addi(bits, half, l));
        let r = self.push(s, arith::addi(r, odd, l));
        let keep = self.i32_const(s, !0x1fffi64);
        let r = self.push(s, arith::andi(r, keep, l));
        let nan_code = tilec_dtype::encode(DType::TF32, f64::NAN) as i64;
        let nan = self.int_const(s, i32t, sext(nan_code as u64, 32));
        let is_nan = self.push(s, arith::cmpf(self.ctx, arith::CmpfPredicate::Uno, a, a, l));
        let r = s.ops(self.loc, self.ctx).select(is_nan, nan, r);
        self.push(s, arith::bitcast(r, Type::float32(self.ctx), l))
    }

    /// The f32 value of a small-float or e8m0 code, from a constant table of every code's value.
    fn decode<'a>(&self, s: &Scope<'c, 'a>, dt: DType, code: Value<'c, 'a>) -> Value<'c, 'a> {
        let name = self.use_table(dt);
        let ptr = Type::parse(self.ctx, "!llvm.ptr<1>").expect("valid type");
        let base = s.ops(self.loc, self.ctx).address_of(&name, 1);
        let i64t: Type = IntegerType::new(self.ctx, 64).into();
        let at = self.push(s, arith::extui(code, i64t, self.loc));
        let f32t = Type::float32(self.ctx);
        let p = self.push(s, melior::dialect::llvm::get_element_ptr_dynamic(self.ctx, base, &[at], f32t, ptr, self.loc));
        self.push(s, melior::dialect::llvm::load(self.ctx, p, f32t, self.loc, Default::default()))
    }

    /// The register `a` of type `from` as a `to`: the same bits (element `i` at bits `[i·w, (i+1)·w)`).
    pub fn bitcast<'a>(&self, s: &Scope<'c, 'a>, a: Value<'c, 'a>, from: Ty, to: Ty) -> Value<'c, 'a> {
        if from == to {
            return a;
        }
        let bits = self.reg_to_bits(s, a, from);
        self.bits_to_reg(s, bits, to)
    }

    /// Whether `ty`'s MLIR type has the register's bit layout for LLVM's `bitcast`: elements of whole
    /// bytes (LLVM's vectors of sub-byte elements are laid out the same on little-endian targets, but
    /// lane-by-lane shifts say so without relying on it).
    fn bitcastable(ty: Ty) -> bool {
        ty.is_scalar() || (ty.dtype.bits().is_multiple_of(8) && !ty.dtype.is_bool())
    }

    /// The register as an integer of its total width.
    pub fn reg_to_bits<'a>(&self, s: &Scope<'c, 'a>, a: Value<'c, 'a>, ty: Ty) -> Value<'c, 'a> {
        let ity: Type = IntegerType::new(self.ctx, ty.bits()).into();
        if ty.is_scalar() {
            return if a.r#type() == ity { a } else { self.push(s, arith::bitcast(a, ity, self.loc)) };
        }
        if Self::bitcastable(ty) {
            return self.push(s, melior::dialect::llvm::bitcast(a, ity, self.loc));
        }
        let w = ty.dtype.bits() as i64;
        let mut acc = self.int_const(s, ity, 0);
        for i in 0..ty.lanes {
            let e = self.extract(s, a, ty, i);
            let e = self.reg_to_bits(s, e, ty.elem());
            let e = self.push(s, arith::extui(e, ity, self.loc));
            let at = self.int_const(s, ity, i as i64 * w);
            let e = self.push(s, arith::shli(e, at, self.loc));
            acc = self.push(s, arith::ori(acc, e, self.loc));
        }
        acc
    }

    /// An integer of `ty`'s total width as a register of type `ty`.
    pub fn bits_to_reg<'a>(&self, s: &Scope<'c, 'a>, bits: Value<'c, 'a>, ty: Ty) -> Value<'c, 'a> {
        let mty = self.ty(ty);
        if ty.is_scalar() {
            return if bits.r#type() == mty { bits } else { self.push(s, arith::bitcast(bits, mty, self.loc)) };
        }
        if Self::bitcastable(ty) {
            return self.push(s, melior::dialect::llvm::bitcast(bits, mty, self.loc));
        }
        let w = ty.dtype.bits() as i64;
        let ety: Type = IntegerType::new(self.ctx, w as u32).into();
        let mut v = self.undef(s, ty);
        for i in 0..ty.lanes {
            let at = self.int_const(s, bits.r#type(), i as i64 * w);
            let e = self.push(s, arith::shrui(bits, at, self.loc));
            let e = self.push(s, arith::trunci(e, ety, self.loc));
            let e = self.bits_to_reg(s, e, ty.elem());
            v = self.insert(s, v, i, e);
        }
        v
    }

    pub fn pack<'a>(&self, s: &Scope<'c, 'a>, elems: &[Reg], result: Reg) -> Value<'c, 'a> {
        let mut v = self.undef(s, self.reg_ty(result));
        for (i, e) in elems.iter().enumerate() {
            v = self.insert(s, v, i as u32, s.get(*e));
        }
        v
    }

    /// Element `index` of `v`, a fragment of type `ty`.
    pub fn extract<'a>(&self, s: &Scope<'c, 'a>, v: Value<'c, 'a>, ty: Ty, index: u32) -> Value<'c, 'a> {
        let at = self.i32_const(s, index as i64);
        self.push(s, OperationBuilder::new("llvm.extractelement", self.loc).add_operands(&[v, at]).add_results(&[self.ty(ty.elem())]).build().expect("valid operation"))
    }

    pub fn insert<'a>(&self, s: &Scope<'c, 'a>, v: Value<'c, 'a>, index: u32, value: Value<'c, 'a>) -> Value<'c, 'a> {
        let at = self.i32_const(s, index as i64);
        self.push(s, OperationBuilder::new("llvm.insertelement", self.loc).add_operands(&[v, value, at]).add_results(&[v.r#type()]).build().expect("valid operation"))
    }
}

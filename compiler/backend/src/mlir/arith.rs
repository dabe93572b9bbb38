//! Scalar operations per slot: constants, arithmetic, comparisons and conversions, with the semantics
//! of docs/dtypes.md (the same as the tile interpreter's).

use crate::error::CodegenError;
use melior::dialect::arith::{self, CmpfPredicate, CmpiPredicate};
use melior::ir::attribute::{FloatAttribute, IntegerAttribute};
use melior::ir::block::BlockLike;
use melior::ir::ValueLike;
use melior::ir::r#type::IntegerType;
use melior::ir::{Block, Location, Type, Value};
use melior::Context;
use tilec_core::syntax::Span;
use tilec_core::tir::{BinaryOp, CmpOp, Literal, UnaryOp};
use tilec_dtype::DType;

/// The MLIR type of a value of `dt` in registers. Integers narrower than a byte are carried in an i8
/// holding their (sign- or zero-extended) value, small floats and e8m0 in an f32 holding their exact
/// value: loads and casts of them are exact; arithmetic on them is refused (see [`is_carried`]).
pub fn mlir_type<'c>(ctx: &'c Context, dt: DType, span: Span) -> Result<Type<'c>, CodegenError> {
    let _ = span;
    Ok(match dt {
        DType::Bool => IntegerType::new(ctx, 1).into(),
        DType::Int { bits: bits @ (8 | 16 | 32 | 64), .. } => IntegerType::new(ctx, bits as u32).into(),
        DType::Int { .. } => IntegerType::new(ctx, 8).into(),
        DType::SmallFloat { .. } | DType::E8M0 => Type::float32(ctx),
        DType::F16 => Type::float16(ctx),
        DType::BF16 => Type::bfloat16(ctx),
        DType::F32 => Type::float32(ctx),
        DType::F64 => Type::float64(ctx),
        DType::TF32 => Type::float32(ctx),
    })
}

/// Whether values of `dt` live in a wider register type than their own (see [`mlir_type`]).
pub fn is_carried(dt: DType) -> bool {
    matches!(dt, DType::SmallFloat { .. } | DType::E8M0) || matches!(dt, DType::Int { bits, .. } if bits < 8)
}

/// The register type a carried value behaves as in conversions: its carrier's.
pub fn carrier(dt: DType) -> DType {
    match dt {
        DType::SmallFloat { .. } | DType::E8M0 => DType::F32,
        DType::Int { bits, signed } if bits < 8 => DType::Int { bits: 8, signed },
        other => other,
    }
}

/// Emits operations into one block.
pub struct Ops<'c, 'a> {
    pub ctx: &'c Context,
    pub block: &'a Block<'c>,
    pub loc: Location<'c>,
}

impl<'c, 'a> Ops<'c, 'a> {
    fn push(&self, op: melior::ir::Operation<'c>) -> Value<'c, 'a> {
        self.block.append_operation(op).result(0).expect("one result").into()
    }

    pub fn int(&self, ty: Type<'c>, v: i64) -> Value<'c, 'a> {
        self.push(arith::constant(self.ctx, IntegerAttribute::new(ty, v).into(), self.loc))
    }

    /// The address of global symbol `name` (a shared-memory buffer, a constant table) as a pointer in
    /// LLVM address space `space` (`llvm.mlir.addressof`).
    pub fn address_of(&self, name: &str, space: u32) -> Value<'c, 'a> {
        let ptr = Type::parse(self.ctx, &format!("!llvm.ptr<{space}>")).expect("valid type");
        self.push(
            melior::ir::operation::OperationBuilder::new("llvm.mlir.addressof", self.loc)
                .add_attributes(&[(melior::ir::Identifier::new(self.ctx, "global_name"), melior::ir::attribute::FlatSymbolRefAttribute::new(self.ctx, name).into())])
                .add_results(&[ptr])
                .build()
                .expect("valid operation"),
        )
    }

    pub fn i64(&self, v: i64) -> Value<'c, 'a> {
        self.int(IntegerType::new(self.ctx, 64).into(), v)
    }

    pub fn float(&self, ty: Type<'c>, v: f64) -> Value<'c, 'a> {
        self.push(arith::constant(self.ctx, FloatAttribute::new(self.ctx, ty, v).into(), self.loc))
    }

    pub fn literal(&self, dt: DType, lit: Literal, span: Span) -> Result<Value<'c, 'a>, CodegenError> {
        let ty = mlir_type(self.ctx, dt, span)?;
        Ok(match lit {
            Literal::Int(v) => self.int(ty, v),
            Literal::Bool(b) => self.int(ty, b as i64),
            Literal::Float(v) => self.float(ty, v),
        })
    }

    /// The zero of `dt` (what a masked load reads).
    pub fn zero(&self, dt: DType, span: Span) -> Result<Value<'c, 'a>, CodegenError> {
        let lit = if dt.is_float() { Literal::Float(0.0) } else { Literal::Int(0) };
        self.literal(dt, lit, span)
    }

    pub fn add(&self, a: Value<'c, '_>, b: Value<'c, '_>) -> Value<'c, 'a> {
        self.push(arith::addi(a, b, self.loc))
    }

    pub fn mul(&self, a: Value<'c, '_>, b: Value<'c, '_>) -> Value<'c, 'a> {
        self.push(arith::muli(a, b, self.loc))
    }

    pub fn and(&self, a: Value<'c, '_>, b: Value<'c, '_>) -> Value<'c, 'a> {
        self.push(arith::andi(a, b, self.loc))
    }

    pub fn cmpi(&self, p: CmpiPredicate, a: Value<'c, '_>, b: Value<'c, '_>) -> Value<'c, 'a> {
        self.push(arith::cmpi(self.ctx, p, a, b, self.loc))
    }

    pub fn select(&self, c: Value<'c, '_>, a: Value<'c, '_>, b: Value<'c, '_>) -> Value<'c, 'a> {
        self.push(arith::select(c, a, b, self.loc))
    }

    pub fn div_s(&self, a: Value<'c, '_>, b: Value<'c, '_>) -> Value<'c, 'a> {
        self.push(arith::divsi(a, b, self.loc))
    }

    pub fn rem_s(&self, a: Value<'c, '_>, b: Value<'c, '_>) -> Value<'c, 'a> {
        self.push(arith::remsi(a, b, self.loc))
    }

    pub fn index_to_i64(&self, v: Value<'c, '_>) -> Value<'c, 'a> {
        self.push(arith::index_cast(v, IntegerType::new(self.ctx, 64).into(), self.loc))
    }

    pub fn binary(&self, op: BinaryOp, dt: DType, a: Value<'c, '_>, b: Value<'c, '_>) -> Value<'c, 'a> {
        let l = self.loc;
        let signed = dt.is_signed_int();
        if !dt.is_float() && matches!(op, BinaryOp::Div | BinaryOp::Rem) {
            return self.int_div_rem(op, dt, a, b);
        }
        let op = if dt.is_float() {
            match op {
                BinaryOp::Add => arith::addf(a, b, l),
                BinaryOp::Sub => arith::subf(a, b, l),
                BinaryOp::Mul => arith::mulf(a, b, l),
                BinaryOp::Div => arith::divf(a, b, l),
                BinaryOp::Rem => arith::remf(a, b, l),
                // IEEE minNum/maxNum: a NaN operand yields the other (PTX min/max, the interpreter).
                // LLVM's intrinsics, not `arith.maxnumf`: MLIR 19 folds `arith.maxnumf` of a constant
                // NaN to NaN (tests/e2e/thread_fold.rs found it).
                BinaryOp::Min => return self.intrinsic(&format!("llvm.minnum.{}", float_suffix(dt)), &[a, b]),
                BinaryOp::Max => return self.intrinsic(&format!("llvm.maxnum.{}", float_suffix(dt)), &[a, b]),
                BinaryOp::And => arith::andi(a, b, l),
                BinaryOp::Or => arith::ori(a, b, l),
            }
        } else {
            match op {
                BinaryOp::Add => arith::addi(a, b, l),
                BinaryOp::Sub => arith::subi(a, b, l),
                BinaryOp::Mul => arith::muli(a, b, l),
                BinaryOp::Div | BinaryOp::Rem => unreachable!("handled by int_div_rem"),
                BinaryOp::Min if signed => arith::minsi(a, b, l),
                BinaryOp::Min => arith::minui(a, b, l),
                BinaryOp::Max if signed => arith::maxsi(a, b, l),
                BinaryOp::Max => arith::maxui(a, b, l),
                BinaryOp::And => arith::andi(a, b, l),
                BinaryOp::Or => arith::ori(a, b, l),
            }
        };
        self.push(op)
    }

    /// Integer `/` and `%` with the language's total semantics (docs/language.md): x / 0 = all ones,
    /// x % 0 = x, and signed MIN / -1 wraps; LLVM's sdiv/udiv are undefined there, so the divisor is
    /// made safe first and the special cases selected after.
    fn int_div_rem(&self, op: BinaryOp, dt: DType, a: Value<'c, '_>, b: Value<'c, '_>) -> Value<'c, 'a> {
        let l = self.loc;
        let ty = a.r#type();
        let (zero, one, ones) = (self.int(ty, 0), self.int(ty, 1), self.int(ty, -1));
        let by_zero = self.cmpi(CmpiPredicate::Eq, b, zero);
        if dt.is_signed_int() {
            let by_minus_one = self.cmpi(CmpiPredicate::Eq, b, ones);
            let special = self.push(arith::ori(by_zero, by_minus_one, l));
            let safe = self.select(special, one, b);
            let (plain, minus_one_result, zero_result) = match op {
                BinaryOp::Div => (self.push(arith::divsi(a, safe, l)), self.push(arith::subi(zero, a, l)), ones),
                _ => (self.push(arith::remsi(a, safe, l)), zero, a),
            };
            let v = self.select(by_minus_one, minus_one_result, plain);
            self.select(by_zero, zero_result, v)
        } else {
            let safe = self.select(by_zero, one, b);
            let (plain, zero_result) = match op {
                BinaryOp::Div => (self.push(arith::divui(a, safe, l)), ones),
                _ => (self.push(arith::remui(a, safe, l)), a),
            };
            self.select(by_zero, zero_result, plain)
        }
    }

    pub fn compare(&self, op: CmpOp, dt: DType, a: Value<'c, '_>, b: Value<'c, '_>) -> Value<'c, 'a> {
        if dt.is_float() {
            // Ordered predicates, except `!=` which holds for NaN (IEEE, as in the interpreter).
            let p = match op {
                CmpOp::Eq => CmpfPredicate::Oeq,
                CmpOp::Ne => CmpfPredicate::Une,
                CmpOp::Lt => CmpfPredicate::Olt,
                CmpOp::Le => CmpfPredicate::Ole,
                CmpOp::Gt => CmpfPredicate::Ogt,
                CmpOp::Ge => CmpfPredicate::Oge,
            };
            return self.push(arith::cmpf(self.ctx, p, a, b, self.loc));
        }
        let signed = dt.is_signed_int();
        let p = match op {
            CmpOp::Eq => CmpiPredicate::Eq,
            CmpOp::Ne => CmpiPredicate::Ne,
            CmpOp::Lt if signed => CmpiPredicate::Slt,
            CmpOp::Lt => CmpiPredicate::Ult,
            CmpOp::Le if signed => CmpiPredicate::Sle,
            CmpOp::Le => CmpiPredicate::Ule,
            CmpOp::Gt if signed => CmpiPredicate::Sgt,
            CmpOp::Gt => CmpiPredicate::Ugt,
            CmpOp::Ge if signed => CmpiPredicate::Sge,
            CmpOp::Ge => CmpiPredicate::Uge,
        };
        self.cmpi(p, a, b)
    }

    pub fn unary(&self, op: UnaryOp, dt: DType, a: Value<'c, '_>, span: Span) -> Result<Value<'c, 'a>, CodegenError> {
        Ok(match op {
            UnaryOp::Neg if dt.is_float() => self.push(arith::negf(a, self.loc)),
            UnaryOp::Neg => {
                let zero = self.zero(dt, span)?;
                self.push(arith::subi(zero, a, self.loc))
            }
            UnaryOp::Not => {
                let one = self.int(a.r#type(), 1);
                self.push(arith::xori(a, one, self.loc))
            }
        })
    }

    /// `exp exp2 log log2 sqrt rsqrt abs`. sqrt and abs are exact LLVM intrinsics everywhere. The
    /// transcendental functions are MLIR math ops on NVIDIA (they become libdevice calls, as in CUDA)
    /// and LLVM intrinsics on AMD (the AMDGPU backend implements them; the ROCm device libraries that
    /// MLIR's math lowering would call are not needed). They may differ from the interpreter's
    /// correctly rounded results by a few ulp (docs/ops.md).
    pub fn math(&self, op: tilec_core::tir::MathOp, dt: DType, a: Value<'c, '_>, vendor: crate::Vendor) -> Value<'c, 'a> {
        use tilec_core::tir::MathOp;
        let suffix = match dt {
            DType::F16 => "f16",
            DType::BF16 => "bf16",
            DType::F64 => "f64",
            _ => "f32",
        };
        match (op, vendor) {
            (MathOp::Abs, _) if !dt.is_float() => {
                let zero = self.int(a.r#type(), 0);
                let neg = self.push(arith::subi(zero, a, self.loc));
                let is_neg = self.cmpi(CmpiPredicate::Slt, a, zero);
                self.select(is_neg, neg, a)
            }
            (MathOp::Abs, _) => self.intrinsic(&format!("llvm.fabs.{suffix}"), &[a]),
            (MathOp::Sqrt, _) => self.intrinsic(&format!("llvm.sqrt.{suffix}"), &[a]),
            (MathOp::Rsqrt, crate::Vendor::Amd) => {
                let s = self.intrinsic(&format!("llvm.sqrt.{suffix}"), &[a]);
                let one = self.float(a.r#type(), 1.0);
                self.push(arith::divf(one, s, self.loc))
            }
            (_, crate::Vendor::Amd) => {
                let f = match op {
                    MathOp::Exp => "exp",
                    MathOp::Exp2 => "exp2",
                    MathOp::Log => "log",
                    _ => "log2",
                };
                self.intrinsic(&format!("llvm.{f}.{suffix}"), &[a])
            }
            (_, crate::Vendor::Nvidia) => {
                let name = match op {
                    MathOp::Exp => "math.exp",
                    MathOp::Exp2 => "math.exp2",
                    MathOp::Log => "math.log",
                    MathOp::Log2 => "math.log2",
                    _ => "math.rsqrt",
                };
                self.push(melior::ir::operation::OperationBuilder::new(name, self.loc).add_operands(&[a]).add_results(&[a.r#type()]).build().expect("valid operation"))
            }
        }
    }

    /// a * b + c with one rounding (`llvm.fma`).
    pub fn fma(&self, dt: DType, a: Value<'c, '_>, b: Value<'c, '_>, c: Value<'c, '_>) -> Value<'c, 'a> {
        let suffix = match dt {
            DType::F16 => "f16",
            DType::BF16 => "bf16",
            DType::F64 => "f64",
            _ => "f32",
        };
        self.intrinsic(&format!("llvm.fma.{suffix}"), &[a, b, c])
    }

    /// A call of the LLVM intrinsic `name`, with the type of its first operand.
    fn intrinsic(&self, name: &str, args: &[Value<'c, '_>]) -> Value<'c, 'a> {
        use melior::ir::attribute::StringAttribute;
        let op = melior::ir::operation::OperationBuilder::new("llvm.call_intrinsic", self.loc)
            .add_attributes(&[(melior::ir::Identifier::new(self.ctx, "intrin"), StringAttribute::new(self.ctx, name).into())])
            .add_operands(args)
            .add_results(&[args[0].r#type()])
            .build()
            .expect("valid operation");
        self.push(op)
    }

    /// Converts `a` from `from` to `to`: floats round to nearest even; float → integer truncates and
    /// saturates (NaN → 0); integer narrowing saturates; → bool tests for non-zero.
    pub fn cast(&self, from: DType, to: DType, a: Value<'c, 'a>, span: Span) -> Result<Value<'c, 'a>, CodegenError> {
        // Small floats go through `small_float_code` and a decode, which need the emitter's tables.
        if is_carried(to) {
            return Err(CodegenError::unsupported(span, format!("the GPU backend cannot convert values to `{to}` yet")));
        }
        // A carried value is exactly representable in its carrier: convert from that.
        let from = carrier(from);
        if from == to {
            return Ok(a);
        }
        let ty = mlir_type(self.ctx, to, span)?;
        Ok(self.convert(from, to, a, ty))
    }

    /// The code of `to` (a small float or e8m0) that `a`, a native value of `from` (bool, an integer
    /// of any width, or an LLVM float type; tf32 as its f32), becomes: `tilec_dtype::cast_bits`
    /// exactly, as an i8. The value is rounded once on its float bits by integer operations (there
    /// is no LLVM type to `fptrunc` to): f16/bf16, integers of at most 24 bits and bool go through
    /// f32 and 32-bit integers through f64, both exact; a 64-bit integer goes through f64, which
    /// rounds only magnitudes beyond 2^53, where every target but one already saturates; that one
    /// (max ≥ 2^52: f8e7m0) is refused rather than rounded twice.
    pub fn small_float_code(&self, from: DType, to: DType, a: Value<'c, 'a>, span: Span) -> Result<Value<'c, 'a>, CodegenError> {
        let l = self.loc;
        let (f32t, f64t) = (Type::float32(self.ctx), Type::float64(self.ctx));
        let (src, x) = match from {
            DType::F32 | DType::TF32 => (DType::F32, a),
            DType::F64 => (DType::F64, a),
            DType::F16 | DType::BF16 => (DType::F32, self.push(arith::extf(a, f32t, l))),
            DType::Bool => (DType::F32, self.push(arith::uitofp(a, f32t, l))),
            DType::Int { bits, signed } => {
                let max = tilec_dtype::decode(to, to.float_format().expect("a float").max_mag_code());
                if bits == 64 && max >= 2f64.powi(52) {
                    return Err(CodegenError::unsupported(span, format!("the GPU backend cannot convert 64-bit integers to `{to}` exactly yet")));
                }
                let ty = if bits <= 24 { f32t } else { f64t };
                let v = if signed { self.push(arith::sitofp(a, ty, l)) } else { self.push(arith::uitofp(a, ty, l)) };
                (if bits <= 24 { DType::F32 } else { DType::F64 }, v)
            }
            other => return Err(CodegenError::unsupported(span, format!("the GPU backend cannot convert `{other}` values to `{to}` yet"))),
        };
        let code = self.round_to_code(src, to, x);
        Ok(self.push(arith::trunci(code, IntegerType::new(self.ctx, 8).into(), l)))
    }

    /// [`Ops::small_float_code`] of `x`, an f32 or f64 (`src`), as an integer of `src`'s width.
    ///
    /// With the source's exponent field `F`, fraction `f` and `M` fraction bits, the value is
    /// `m · 2^(max(F,1) - bias - M)` where `m` is `f` plus the implicit bit when `F ≠ 0`. The target's
    /// quantum is `2^(te - Y)` with `te = max(F - bias, emin)` (`emin` is the target's smallest normal
    /// exponent; a source subnormal lies below every target's, so `te = emin` there too), so `m` is
    /// shifted right by `te - Y - (max(F,1) - bias - M)` bits, rounding to nearest with ties to the
    /// even kept bit. The code is then `(te + B) · 2^Y + mant - 2^Y`: that is the normal encoding,
    /// the subnormal one at `te = emin` (field 0), and a carry out of the mantissa moves into the
    /// exponent by itself. Beyond the largest code it saturates; ±Inf, NaN and the sign follow
    /// `FloatFormat::encode_f64`.
    fn round_to_code(&self, src: DType, to: DType, x: Value<'c, 'a>) -> Value<'c, 'a> {
        use tilec_dtype::Specials;
        let l = self.loc;
        let sf = src.float_format().expect("f32 or f64");
        let tf = to.float_format().expect("a small float");
        let w = sf.bits();
        let ity: Type = IntegerType::new(self.ctx, w).into();
        let c = |v: i64| self.int(ity, v);
        let (m_s, b_s) = (sf.man_bits as i64, sf.bias as i64);
        let (y, b_t) = (tf.man_bits as i64, tf.bias as i64);
        let emin = if tf.subnormals { 1 - b_t } else { -b_t };
        let bits = self.push(arith::bitcast(x, ity, l));
        let mag = self.push(arith::andi(bits, c(i64::MAX >> (64 - w)), l));
        let neg = self.cmpi(CmpiPredicate::Slt, bits, c(0));
        let inf_bits = c(((1i64 << sf.exp_bits) - 1) << m_s);
        let is_nan = self.cmpi(CmpiPredicate::Ugt, mag, inf_bits);
        let is_inf = self.cmpi(CmpiPredicate::Eq, mag, inf_bits);
        let field = self.push(arith::shrui(mag, c(m_s), l));
        let frac = self.push(arith::andi(mag, c((1i64 << m_s) - 1), l));
        let normal = self.cmpi(CmpiPredicate::Ne, field, c(0));
        let implicit = self.select(normal, c(1i64 << m_s), c(0));
        let m = self.push(arith::ori(frac, implicit, l));
        // te + bias_s = max(F, emin + bias_s) (≥ 0 for every target), and max(F, 1).
        let te_b = self.push(arith::maxsi(field, c(emin + b_s), l));
        let fe = self.push(arith::maxsi(field, c(1), l));
        // Right shift of m: ≥ 1 always; capped where m (< 2^(M+1)) is below half a quantum anyway.
        let shift = self.push(arith::subi(te_b, fe, l));
        let shift = self.push(arith::addi(shift, c(m_s - y), l));
        let shift = self.push(arith::minsi(shift, c(m_s + 2), l));
        let one = c(1);
        let kept = self.push(arith::shrui(m, shift, l));
        let odd = self.push(arith::andi(kept, one, l));
        let half = self.push(arith::shli(one, self.push(arith::subi(shift, one, l)), l));
        let r = self.push(arith::addi(m, self.push(arith::subi(half, one, l)), l));
        let r = self.push(arith::addi(r, odd, l));
        let mut mant = self.push(arith::shrui(r, shift, l));
        if !tf.subnormals {
            // A zero-free format (e8m0): anything below its smallest value rounds up to it.
            mant = self.push(arith::maxsi(mant, c(1i64 << y), l));
        }
        let field_t = self.push(arith::addi(te_b, c(b_t - b_s), l));
        let code = self.push(arith::shli(field_t, c(y), l));
        let code = self.push(arith::addi(code, mant, l));
        let code = self.push(arith::subi(code, c(1i64 << y), l));
        let max = tf.max_mag_code() as i64;
        let mut code = self.push(arith::minsi(code, c(max), l));
        if let Some(inf) = tf.inf_code() {
            code = self.select(is_inf, c(inf as i64), code);
        }
        if tf.signed {
            let sign = self.select(neg, c(1i64 << (tf.exp_bits + tf.man_bits)), c(0));
            code = self.push(arith::ori(code, sign, l));
        } else {
            // Unsigned (e8m0): zero and negatives clamp to the smallest value, code 0.
            let zero = self.cmpi(CmpiPredicate::Eq, mag, c(0));
            let low = self.push(arith::ori(neg, zero, l));
            code = self.select(low, c(0), code);
        }
        let nan = match tf.specials {
            Specials::None => 0,
            _ => tf.nan_code().expect("a NaN") as i64,
        };
        self.select(is_nan, c(nan), code)
    }

    /// [`Ops::cast`] of a scalar `a` held exactly in its own type (`from` native: bool, an integer of
    /// any width as `iN`, or an LLVM float type) to `to`, whose MLIR type is `ty`; `from != to`.
    pub fn convert(&self, from: DType, to: DType, a: Value<'c, 'a>, ty: Type<'c>) -> Value<'c, 'a> {
        let l = self.loc;
        if to.is_bool() {
            return if from.is_float() {
                let zero = self.float(a.r#type(), 0.0);
                self.push(arith::cmpf(self.ctx, CmpfPredicate::Une, a, zero, l))
            } else {
                let zero = self.int(a.r#type(), 0);
                self.cmpi(CmpiPredicate::Ne, a, zero)
            };
        }
        match (from.is_float(), to.is_float()) {
            // f16 ↔ bf16: through f32, which holds both exactly (one rounding).
            (true, true) if from.bits() == to.bits() => {
                let wide = self.push(arith::extf(a, Type::float32(self.ctx), l));
                self.push(generic_cast(self.ctx, "arith.truncf", wide, ty, l))
            }
            (true, true) if from.bits() < to.bits() => self.push(arith::extf(a, ty, l)),
            (true, true) => self.push(generic_cast(self.ctx, "arith.truncf", a, ty, l)),
            (false, true) if from.is_signed_int() => self.push(arith::sitofp(a, ty, l)),
            (false, true) => self.push(arith::uitofp(a, ty, l)),
            (true, false) => self.float_to_int(to, a, ty),
            (false, false) => self.int_to_int(from, to, a, ty),
        }
    }

    fn float_to_int(&self, to: DType, a: Value<'c, '_>, ty: Type<'c>) -> Value<'c, 'a> {
        let DType::Int { bits, signed } = to else { unreachable!() };
        let (lo, hi) = int_range(bits, signed);
        let fty = a.r#type();
        // fptosi is poison out of range; `select` never lets an unselected poison through.
        let raw = if signed { self.push(arith::fptosi(a, ty, self.loc)) } else { self.push(arith::fptoui(a, ty, self.loc)) };
        let (flo, fhi) = (self.float(fty, lo as f64), self.float(fty, hi as f64 + 1.0));
        let too_big = self.push(arith::cmpf(self.ctx, CmpfPredicate::Oge, a, fhi, self.loc));
        let too_small = self.push(arith::cmpf(self.ctx, CmpfPredicate::Ole, a, flo, self.loc));
        let nan = self.push(arith::cmpf(self.ctx, CmpfPredicate::Uno, a, a, self.loc));
        let (imax, imin, izero) = (self.int(ty, hi as i64), self.int(ty, lo as i64), self.int(ty, 0));
        let v = self.select(too_big, imax, raw);
        let v = self.select(too_small, imin, v);
        self.select(nan, izero, v)
    }

    fn int_to_int(&self, from: DType, to: DType, a: Value<'c, 'a>, ty: Type<'c>) -> Value<'c, 'a> {
        let DType::Int { bits: tb, signed: ts } = to else { unreachable!("int_to_int to a non-integer") };
        let DType::Int { bits: fb, signed: fs } = from else {
            // bool → integer: false is 0, true is 1.
            return self.push(arith::extui(a, ty, self.loc));
        };
        // Widen to a width that holds every source value exactly, clamp to the target range, narrow.
        let wide = (fb.max(tb) + 1).min(64);
        let wty: Type<'c> = IntegerType::new(self.ctx, wide as u32).into();
        let mut v = match (wide == fb, fs) {
            (true, _) => a,
            (false, true) => self.push(arith::extsi(a, wty, self.loc)),
            (false, false) => self.push(arith::extui(a, wty, self.loc)),
        };
        let (lo, hi) = int_range(tb, ts);
        let (src_lo, src_hi) = int_range(fb, fs);
        if fb == 64 && !fs {
            // A full-width unsigned source: only an unsigned upper clamp can apply.
            if hi < src_hi {
                let c = self.int(wty, hi as i64);
                v = self.push(arith::minui(v, c, self.loc));
            }
        } else {
            if hi < src_hi {
                let c = self.int(wty, hi as i64);
                v = self.push(arith::minsi(v, c, self.loc));
            }
            if lo > src_lo {
                let c = self.int(wty, lo as i64);
                v = self.push(arith::maxsi(v, c, self.loc));
            }
        }
        if wide > tb {
            self.push(arith::trunci(v, ty, self.loc))
        } else {
            v
        }
    }
}

/// The suffix of LLVM's float intrinsics for scalars of `dt`.
fn float_suffix(dt: DType) -> &'static str {
    match dt {
        DType::F16 => "f16",
        DType::BF16 => "bf16",
        DType::F64 => "f64",
        _ => "f32",
    }
}

fn int_range(bits: u8, signed: bool) -> (i128, i128) {
    if signed {
        (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1)
    } else {
        (0, (1i128 << bits) - 1)
    }
}

fn generic_cast<'c>(ctx: &'c Context, name: &str, a: Value<'c, '_>, ty: Type<'c>, l: Location<'c>) -> melior::ir::Operation<'c> {
    let _ = ctx;
    melior::ir::operation::OperationBuilder::new(name, l).add_operands(&[a]).add_results(&[ty]).build().expect("valid operation")
}

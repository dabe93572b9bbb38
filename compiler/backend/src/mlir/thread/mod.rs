//! Thread-level program → MLIR: one `thread::Program` becomes one `gpu.func`, op by op.
//!
//! Guarantees:
//! * the function has the kernel ABI of the direct backend (`kernel.rs`): one `!llvm.ptr<1>` per
//!   global tensor, one value per scalar (bool as i8), one i64 per symbolic dimension, in the
//!   program's parameter order (which `lower` makes the tile kernel's);
//! * every op has the semantics the emulator (`thread::emulate`, `thread/scalar.rs`) gives it, op by
//!   op, so a program the emulator accepts computes the same on the GPU (up to the `.approx`
//!   functions and `mma.sync`'s accumulation order, which the emulator documents);
//! * registers map one to one onto SSA values: a scalar of `dtype` is that MLIR type (sub-byte
//!   integers exactly `iN`, small floats and e8m0 as the integer of their code), a fragment is a
//!   `vector<lanes x T>`;
//! * shared memory is one `llvm.mlir.global` in address space 3 laid out by
//!   `Program::shared_layout`: static up to the target's static limit (48 KiB on NVIDIA), else the
//!   launch's dynamic shared memory, whose size [`Emitted::dynamic_shared_bytes`] reports;
//! * on AMD (64-lane wavefronts) the program's 32-lane warps are the two halves of a wavefront:
//!   `shfl.sync` is `ds_bpermute` inside the half, with PTX's source-lane rules; `lop3`/`prmt` are
//!   bit operations; the instructions AMD lacks (`cp.async`, `ldmatrix`, `stmatrix`, `mma.sync`)
//!   are refused;
//! * whatever cannot be emitted (those, 64-bit integers to f8e7m0, `stmatrix` on sm_80) is refused
//!   with [`CodegenError::Unsupported`] before anything is added to the module.
//!
//! Op families live in their own files: [`scalar`] (constants, arithmetic, casts, fragments),
//! [`memory`] (global, shared, atomic adds, `cp.async`), [`warp`] (barriers, shuffles, `ldmatrix`, `stmatrix`,
//! `mma.sync`, `lop3`, `prmt`), [`control`] (`for`, `if`), [`print`] (`gpu.printf`).

mod control;
mod memory;
mod print;
mod scalar;
mod warp;

use super::arith::Ops;
use crate::error::CodegenError;
use crate::target::{Target, Vendor};
use melior::ir::attribute::{StringAttribute, TypeAttribute};
use melior::ir::block::BlockLike;
use melior::ir::operation::OperationBuilder;
use melior::ir::r#type::IntegerType;
use melior::ir::RegionLike;
use melior::ir::{Attribute, Block, Identifier, Location, Operation, Region, Type, Value};
use melior::Context;
use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use tilec_core::syntax::Span;
use tilec_core::thread::{Inst, Op, ParamKind, Program, Reg, Ty};
use tilec_dtype::DType;

/// The operations one thread program adds to the `gpu.module`: its `gpu.func` and the globals it
/// reads (shared memory, small-float decode tables).
pub struct Emitted<'c> {
    pub ops: Vec<Operation<'c>>,
    /// Bytes of dynamic shared memory the launch must provide (0: the shared memory is static).
    pub dynamic_shared_bytes: u32,
}

/// Shared memory a block may hold statically (NVIDIA's limit without opting in; AMD's LDS).
fn static_shared_limit(target: Target) -> u32 {
    match target.vendor() {
        Vendor::Nvidia => 48 * 1024,
        Vendor::Amd => 64 * 1024,
    }
}

/// Emits `program` (run by `threads` threads per block) for `target`. `span` locates the kernel for
/// diagnostics of ops that carry no span.
pub fn emit<'c>(ctx: &'c Context, program: &Program, threads: u32, target: Target, span: Span) -> Result<Emitted<'c>, CodegenError> {
    let (_, shared_bytes) = program.shared_layout();
    if shared_bytes > target.lowering_options().shared_bytes {
        return Err(CodegenError::unsupported(span, format!("kernel `{}` needs {shared_bytes} bytes of shared memory; a block on `{target}` has at most {}", program.name, target.lowering_options().shared_bytes)));
    }
    // Above the static limit the allocations live in dynamic shared memory, which the launch provides
    // (the manifest's `shared_bytes`; the runtime opts the kernel in).
    let dynamic = shared_bytes > static_shared_limit(target);
    let e = Emitter { ctx, program, target, loc: Location::unknown(ctx), span, dynamic_shared: dynamic, types: Default::default(), tables: Default::default(), consts: Default::default() };
    let func = e.func(threads)?;
    let mut ops = vec![func];
    if dynamic {
        ops.push(dynamic_shared_global(ctx, e.loc, &e.shared_name()));
    } else if shared_bytes > 0 {
        ops.push(super::kernel::shared_global(ctx, e.loc, &e.shared_name(), shared_bytes as u64));
    }
    for dt in e.tables.borrow().iter() {
        ops.push(super::memory::decode_table_global(ctx, e.loc, &e.table_name(*dt), *dt)?);
    }
    Ok(Emitted { ops, dynamic_shared_bytes: if dynamic { shared_bytes } else { 0 } })
}

/// The block's dynamic shared memory: an external, unsized array in address space 3, 16-byte
/// aligned (PTX `.extern .shared .align 16 .b8 name[]`).
fn dynamic_shared_global<'c>(ctx: &'c Context, loc: Location<'c>, name: &str) -> Operation<'c> {
    let ty = Type::parse(ctx, "!llvm.array<0 x i8>").expect("valid type");
    OperationBuilder::new("llvm.mlir.global", loc)
        .add_attributes(&[
            (Identifier::new(ctx, "sym_name"), StringAttribute::new(ctx, name).into()),
            (Identifier::new(ctx, "global_type"), TypeAttribute::new(ty).into()),
            (Identifier::new(ctx, "linkage"), Attribute::parse(ctx, "#llvm.linkage<external>").expect("valid attribute")),
            (Identifier::new(ctx, "addr_space"), Attribute::parse(ctx, "3 : i32").expect("valid attribute")),
            (Identifier::new(ctx, "alignment"), Attribute::parse(ctx, "16 : i64").expect("valid attribute")),
        ])
        .add_regions([Region::new()])
        .build()
        .expect("valid operation")
}

/// What emission of one program needs everywhere.
pub(super) struct Emitter<'c, 'p> {
    pub ctx: &'c Context,
    pub program: &'p Program,
    pub target: Target,
    pub loc: Location<'c>,
    /// The kernel's span, for refusals of ops without their own.
    pub span: Span,
    /// Whether shared memory is the launch's dynamic shared memory (else one static global).
    pub dynamic_shared: bool,
    /// MLIR types of register types, built once each.
    types: RefCell<HashMap<Ty, Type<'c>>>,
    /// Small-float types whose decode tables the program reads.
    tables: RefCell<BTreeSet<DType>>,
    /// The bit patterns of the registers defined by `Const`: operands known at compile time let
    /// integer division and shifts skip their zero-divisor and clamping cases.
    consts: RefCell<HashMap<Reg, u64>>,
}

/// The SSA value of every register defined so far, indexed by [`Reg`]; a nested block starts from a
/// copy of its parent's (it sees everything defined before it, and nothing of it leaks out).
pub(super) struct Scope<'c, 'a> {
    pub block: &'a Block<'c>,
    pub vals: Vec<Option<Value<'c, 'a>>>,
    /// The `gpu.func` arguments, in ABI order.
    pub args: Vec<Value<'c, 'a>>,
}

impl<'c, 'a> Scope<'c, 'a> {
    pub fn get(&self, r: Reg) -> Value<'c, 'a> {
        self.vals[r.index()].expect("the verifier checked definitions before uses")
    }

    pub fn set(&mut self, r: Reg, v: Value<'c, 'a>) {
        self.vals[r.index()] = Some(v);
    }

    /// A scope for a block that only uses values computed outside it (by the caller, directly).
    pub fn bare(block: &'a Block<'c>) -> Scope<'c, 'a> {
        Scope { block, vals: Vec::new(), args: Vec::new() }
    }

    pub fn ops(&self, loc: Location<'c>, ctx: &'c Context) -> Ops<'c, 'a> {
        Ops { ctx, block: self.block, loc }
    }

    /// A scope for a block nested in this one.
    pub fn nested<'b>(&self, block: &'b Block<'c>) -> Scope<'c, 'b>
    where
        'a: 'b,
    {
        Scope { block, vals: self.vals.iter().map(|v| v.map(|v| v as Value<'c, 'b>)).collect(), args: self.args.clone() }
    }
}

impl<'c> Emitter<'c, '_> {
    /// The MLIR type of a scalar of `dt`: its own type, or the integer of its code for types LLVM has
    /// no arithmetic for (small floats, e8m0); tf32 is its f32 pattern.
    pub fn scalar_type(&self, dt: DType) -> Type<'c> {
        match dt {
            DType::Bool => IntegerType::new(self.ctx, 1).into(),
            DType::Int { bits, .. } => IntegerType::new(self.ctx, bits as u32).into(),
            DType::F16 => Type::float16(self.ctx),
            DType::BF16 => Type::bfloat16(self.ctx),
            DType::F32 | DType::TF32 => Type::float32(self.ctx),
            DType::F64 => Type::float64(self.ctx),
            DType::SmallFloat { .. } | DType::E8M0 => IntegerType::new(self.ctx, dt.bits()).into(),
        }
    }

    /// The MLIR type of a register: a scalar, or `vector<lanes x T>`.
    pub fn ty(&self, ty: Ty) -> Type<'c> {
        if let Some(t) = self.types.borrow().get(&ty) {
            return *t;
        }
        let elem = self.scalar_type(ty.dtype);
        let t = if ty.is_scalar() { elem } else { Type::parse(self.ctx, &format!("vector<{}x{}>", ty.lanes, elem)).expect("valid vector type") };
        self.types.borrow_mut().insert(ty, t);
        t
    }

    /// The bit pattern of `r` if a `Const` defined it.
    pub fn const_bits(&self, r: Reg) -> Option<u64> {
        self.consts.borrow().get(&r).copied()
    }

    pub fn reg_ty(&self, r: Reg) -> Ty {
        self.program.ty(r)
    }

    /// Whether registers of `dt` are codes without MLIR arithmetic (small floats, e8m0).
    pub fn is_code(dt: DType) -> bool {
        matches!(dt, DType::SmallFloat { .. } | DType::E8M0)
    }

    pub fn shared_name(&self) -> String {
        if self.dynamic_shared {
            format!("__tilec_dynamic_shared_{}", self.program.name)
        } else {
            format!("__tilec_shared_{}", self.program.name)
        }
    }

    pub fn table_name(&self, dt: DType) -> String {
        format!("__tilec_decode_{dt}_{}", self.program.name)
    }

    /// Registers that the program reads the decode table of `dt`; returns its symbol.
    pub fn use_table(&self, dt: DType) -> String {
        self.tables.borrow_mut().insert(dt);
        self.table_name(dt)
    }

    fn func(&self, threads: u32) -> Result<Operation<'c>, CodegenError> {
        let ctx = self.ctx;
        let p = self.program;
        let ptr = Type::parse(ctx, "!llvm.ptr<1>").expect("valid type");
        let mut arg_types = Vec::new();
        for q in &p.params {
            arg_types.push(match &q.kind {
                ParamKind::Global(_) => ptr,
                ParamKind::Scalar(DType::Bool) => IntegerType::new(ctx, 8).into(),
                ParamKind::Scalar(d) if Self::is_code(*d) || d.is_sub_byte() => {
                    return Err(CodegenError::unsupported(self.span, format!("the thread-level backend cannot pass `{d}` scalar parameters yet (`{}`)", q.name)))
                }
                ParamKind::Scalar(d) => self.scalar_type(*d),
                ParamKind::Dim => IntegerType::new(ctx, 64).into(),
            });
        }
        let entry = Block::new(&arg_types.iter().map(|t| (*t, self.loc)).collect::<Vec<_>>());
        {
            let args: Vec<Value> = (0..arg_types.len()).map(|i| entry.argument(i).expect("argument").into()).collect();
            let mut scope = Scope { block: &entry, vals: vec![None; p.regs.len()], args };
            self.insts(&mut scope, &p.body.insts)?;
            entry.append_operation(OperationBuilder::new("gpu.return", self.loc).build().expect("valid operation"));
        }
        let region = Region::new();
        region.append_block(entry);
        super::kernel::kernel_func(ctx, self.loc, self.target, &p.name, &arg_types, threads, region)
    }

    pub fn insts<'a>(&self, s: &mut Scope<'c, 'a>, insts: &[Inst]) -> Result<(), CodegenError> {
        for inst in insts {
            self.inst(s, inst)?;
        }
        Ok(())
    }

    /// One instruction: dispatch to its op family.
    fn inst<'a>(&self, s: &mut Scope<'c, 'a>, inst: &Inst) -> Result<(), CodegenError> {
        let span = inst.span.unwrap_or(self.span);
        let one = |v: Value<'c, 'a>| vec![v];
        let results: Vec<Value<'c, 'a>> = match &inst.op {
            Op::Const { ty, bits } => {
                self.consts.borrow_mut().insert(inst.results[0], *bits);
                one(self.constant(s, *ty, *bits))
            }
            Op::Undef { ty } => one(self.undef(s, *ty)),
            Op::Special(sp) => one(self.special(s, *sp)),
            Op::Param { index } => one(self.param(s, *index)),
            Op::Binary { op, a, b } => one(self.binary(s, *op, *a, *b, span)?),
            Op::Unary { op, a } => one(self.unary(s, *op, *a, span)?),
            Op::Fma { a, b, c } => one(self.fma(s, *a, *b, *c, span)?),
            Op::Cmp { op, a, b } => one(self.compare(s, *op, *a, *b, span)?),
            Op::Select { cond, a, b } => one(s.ops(self.loc, self.ctx).select(s.get(*cond), s.get(*a), s.get(*b))),
            Op::Cast { a, to } => one(self.cast(s, *a, *to, span)?),
            Op::Bitcast { a, to } => one(self.bitcast(s, s.get(*a), self.reg_ty(*a), *to)),
            Op::Pack { elems } => one(self.pack(s, elems, inst.results[0])),
            Op::Extract { a, index } => one(self.extract(s, s.get(*a), self.reg_ty(*a), *index)),
            Op::Insert { a, index, value } => one(self.insert(s, s.get(*a), *index, s.get(*value))),
            Op::Lop3 { a, b, c, lut } => one(self.lop3(s, *a, *b, *c, *lut)),
            Op::Prmt { a, b, sel } => one(self.prmt(s, *a, *b, *sel)),
            Op::LoadGlobal { param, offset, ty, pred, other } => one(self.load_global(s, *param, *offset, *ty, *pred, *other)),
            Op::StoreGlobal { param, offset, value, pred } => {
                self.store_global(s, *param, *offset, *value, *pred);
                vec![]
            }
            Op::AtomicAddGlobal { param, offset, value, pred } => {
                self.atomic_add_global(s, *param, *offset, *value, *pred);
                vec![]
            }
            Op::LoadShared { buf, offset, ty } => one(self.load_shared(s, *buf, *offset, *ty)),
            Op::StoreShared { buf, offset, value, pred } => {
                self.store_shared(s, *buf, *offset, *value, *pred);
                vec![]
            }
            op if self.is_amd() && matches!(op, Op::CpAsync { .. } | Op::CpAsyncCommit | Op::CpAsyncWait { .. } | Op::Ldmatrix { .. } | Op::Stmatrix { .. } | Op::Mma { .. }) => {
                return Err(CodegenError::unsupported(span, format!("`{}` is an NVIDIA instruction; `{}` has no equivalent the thread-level backend emits", op.name(), self.target)));
            }
            Op::CpAsync { buf, soffset, param, goffset, bytes, pred } => {
                self.cp_async(s, *buf, *soffset, *param, *goffset, *bytes, *pred, span)?;
                vec![]
            }
            Op::CpAsyncCommit => {
                self.intrinsic_void(s, "llvm.nvvm.cp.async.commit.group", &[]);
                vec![]
            }
            Op::CpAsyncWait { n } => {
                let n = s.ops(self.loc, self.ctx).int(IntegerType::new(self.ctx, 32).into(), *n as i64);
                self.intrinsic_void(s, "llvm.nvvm.cp.async.wait.group", &[n]);
                vec![]
            }
            Op::BarSync => {
                self.bar_sync(s);
                vec![]
            }
            Op::Print { format, args } => {
                self.print(s, format, args, span)?;
                vec![]
            }
            Op::Shfl { mode, value, b, c, mask } => one(self.shfl(s, *mode, *value, *b, *c, *mask)),
            Op::Ldmatrix { buf, offset, count, trans } => one(self.ldmatrix(s, *buf, *offset, *count, *trans)),
            Op::Stmatrix { buf, offset, value, count, trans } => {
                self.stmatrix(s, *buf, *offset, *value, *count, *trans, span)?;
                vec![]
            }
            Op::Mma { kind, a, b, c } => one(self.mma(s, *kind, *a, *b, *c)),
            Op::For { lo, hi, step, init, body } => self.for_loop(s, *lo, *hi, *step, init, body)?,
            Op::If { cond, then_block, else_block } => self.if_else(s, *cond, then_block, else_block, &inst.results)?,
            Op::While { init, cond, body } => self.while_loop(s, init, cond, body)?,
        };
        debug_assert_eq!(results.len(), inst.results.len(), "{}", inst.op.name());
        for (r, v) in inst.results.iter().zip(results) {
            s.set(*r, v);
        }
        Ok(())
    }

    /// Appends `op` and returns its first result.
    pub fn push<'a>(&self, s: &Scope<'c, 'a>, op: Operation<'c>) -> Value<'c, 'a> {
        s.block.append_operation(op).result(0).expect("one result").into()
    }

    /// A call of LLVM intrinsic `name` returning `result`.
    pub fn intrinsic<'a>(&self, s: &Scope<'c, 'a>, name: &str, args: &[Value<'c, '_>], result: Type<'c>) -> Value<'c, 'a> {
        self.push(
            s,
            OperationBuilder::new("llvm.call_intrinsic", self.loc)
                .add_attributes(&[(Identifier::new(self.ctx, "intrin"), StringAttribute::new(self.ctx, name).into())])
                .add_operands(args)
                .add_results(&[result])
                .build()
                .expect("valid operation"),
        )
    }

    /// A call of LLVM intrinsic `name` without a result.
    pub fn intrinsic_void(&self, s: &Scope<'c, '_>, name: &str, args: &[Value<'c, '_>]) {
        s.block.append_operation(
            OperationBuilder::new("llvm.call_intrinsic", self.loc)
                .add_attributes(&[(Identifier::new(self.ctx, "intrin"), StringAttribute::new(self.ctx, name).into())])
                .add_operands(args)
                .build()
                .expect("valid operation"),
        );
    }

    /// PTX inline assembly (`llvm.inline_asm`), with a result of type `result` if given.
    pub fn inline_asm<'a>(&self, s: &Scope<'c, 'a>, asm: &str, constraints: &str, args: &[Value<'c, '_>], result: Option<Type<'c>>, side_effects: bool) -> Option<Value<'c, 'a>> {
        let mut attrs = vec![
            (Identifier::new(self.ctx, "asm_string"), StringAttribute::new(self.ctx, asm).into()),
            (Identifier::new(self.ctx, "constraints"), StringAttribute::new(self.ctx, constraints).into()),
        ];
        if side_effects {
            attrs.push((Identifier::new(self.ctx, "has_side_effects"), Attribute::unit(self.ctx)));
        }
        let op = OperationBuilder::new("llvm.inline_asm", self.loc).add_attributes(&attrs).add_operands(args).add_results(result.as_slice()).build().expect("valid operation");
        let op = s.block.append_operation(op);
        result.map(|_| op.result(0).expect("one result").into())
    }

    pub fn is_amd(&self) -> bool {
        self.target.vendor() == Vendor::Amd
    }

    pub fn i32_type(&self) -> Type<'c> {
        IntegerType::new(self.ctx, 32).into()
    }
}

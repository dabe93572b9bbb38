//! One kernel → one `gpu.func`: its signature (the kernel ABI) and its body.
//!
//! ABI, shared with the runtime's manifest: one `!llvm.ptr<1>` per tensor parameter, one value per
//! scalar parameter (bool as i8), then one i64 per symbolic dimension, in declaration order.

use super::arith::{mlir_type, Ops};
use super::distribute::Distribution;
use crate::error::CodegenError;
use crate::target::Target;
use melior::dialect::scf;
use melior::ir::attribute::{DenseI32ArrayAttribute, StringAttribute, TypeAttribute};
use melior::ir::block::BlockLike;
use melior::ir::ValueLike;
use melior::ir::operation::OperationBuilder;
use melior::ir::r#type::{FunctionType, IntegerType};
use melior::ir::RegionLike;
use melior::ir::{Attribute, Block, Identifier, Location, Module, Region, Type, Value};
use melior::Context;
use std::collections::HashMap;
use tilec_core::tir::{Inst, Kernel, Op, ParamKind, Program, ValueId};
use tilec_dtype::DType;

/// Per-thread values of the tile IR values in scope: one per slot (one for a scalar).
pub(super) struct Scope<'c, 'a> {
    pub block: &'a Block<'c>,
    pub env: HashMap<ValueId, Vec<Value<'c, 'a>>>,
    /// The `gpu.func` arguments, in ABI order.
    pub args: Vec<Value<'c, 'a>>,
    /// This thread's index in the block, as i64.
    pub tid: Value<'c, 'a>,
}

impl<'c, 'a> Scope<'c, 'a> {
    /// A scope for a block nested in this one: it sees every value defined so far.
    fn nested<'b>(&self, block: &'b Block<'c>) -> Scope<'c, 'b>
    where
        'a: 'b,
    {
        Scope { block, env: self.env.iter().map(|(k, v)| (*k, v.clone())).collect(), args: self.args.clone(), tid: self.tid }
    }

    pub fn get(&self, v: ValueId) -> &[Value<'c, 'a>] {
        &self.env[&v]
    }
}

pub(super) struct Emitter<'c, 'k> {
    pub ctx: &'c Context,
    pub kernel: &'k Kernel,
    pub loc: Location<'c>,
    pub target: Target,
    /// Constant i64 tables the kernel reads (name, values): `thread_ids`.
    pub tables_i64: std::cell::RefCell<Vec<(String, Vec<i64>)>>,
    /// Bytes of shared memory the thread exchanges need (exchange.rs).
    pub scratch: std::cell::RefCell<u64>,
    /// Small-float types whose decode tables the kernel reads (memory.rs).
    pub tables: std::cell::RefCell<std::collections::BTreeSet<DType>>,
}

pub fn build<'c>(ctx: &'c Context, program: &Program, target: Target, emitted: Vec<Option<Vec<melior::ir::Operation<'c>>>>) -> Result<Module<'c>, CodegenError> {
    let loc = Location::unknown(ctx);
    let mut module = Module::new(loc);
    module.as_operation_mut().set_attribute("gpu.container_module", Attribute::unit(ctx));
    let gpu_block = Block::new(&[]);
    let mut emitted = emitted.into_iter();
    for kernel in &program.kernels {
        if let Some(ops) = emitted.next().flatten() {
            for op in ops {
                gpu_block.append_operation(op);
            }
            continue;
        }
        let emitter = Emitter { ctx, kernel, loc, target, scratch: Default::default(), tables: Default::default(), tables_i64: Default::default() };
        let func = emitter.func(target)?;
        gpu_block.append_operation(func);
        let bytes = *emitter.scratch.borrow();
        if bytes > 0 {
            gpu_block.append_operation(shared_global(ctx, loc, &emitter.scratch_name(), bytes));
        }
        let user: u64 = kernel.shared.iter().map(|b| b.nbytes() as u64).sum();
        if bytes + user > 48 * 1024 {
            return Err(CodegenError::unsupported(kernel.span, format!("kernel `{}` needs {} bytes of static shared memory ({user} for its buffers, {bytes} for exchanges between threads), more than the 48 KiB the GPU backend can use yet", kernel.name, bytes + user)));
        }
        for (i, b) in kernel.shared.iter().enumerate() {
            gpu_block.append_operation(shared_global(ctx, loc, &emitter.smem_name(i), b.nbytes() as u64));
        }
        for (name, values) in emitter.tables_i64.borrow().iter() {
            gpu_block.append_operation(i64_table_global(ctx, loc, name, values)?);
        }
        for dt in emitter.tables.borrow().iter() {
            gpu_block.append_operation(super::memory::decode_table_global(ctx, loc, &emitter.table_name(*dt), *dt)?);
        }
    }
    finish_module(ctx, module, gpu_block)
}

/// A module holding one `gpu.module` of `ops`.
pub fn wrap<'c>(ctx: &'c Context, ops: Vec<melior::ir::Operation<'c>>) -> Result<Module<'c>, CodegenError> {
    let loc = Location::unknown(ctx);
    let mut module = Module::new(loc);
    module.as_operation_mut().set_attribute("gpu.container_module", Attribute::unit(ctx));
    let gpu_block = Block::new(&[]);
    for op in ops {
        gpu_block.append_operation(op);
    }
    finish_module(ctx, module, gpu_block)
}

/// Closes the `gpu.module` body `gpu_block` and puts it in `module`.
fn finish_module<'c>(ctx: &'c Context, module: Module<'c>, gpu_block: Block<'c>) -> Result<Module<'c>, CodegenError> {
    let loc = Location::unknown(ctx);
    gpu_block.append_operation(OperationBuilder::new("gpu.module_end", loc).build().expect("valid operation"));
    let region = Region::new();
    region.append_block(gpu_block);
    let gpu_module = OperationBuilder::new("gpu.module", loc)
        .add_attributes(&[(Identifier::new(ctx, "sym_name"), StringAttribute::new(ctx, "tilec").into())])
        .add_regions([region])
        .build()
        .map_err(|e| CodegenError::internal("MLIR construction", e.to_string()))?;
    module.body().append_operation(gpu_module);
    Ok(module)
}

/// The thread holding each element (row-major) of a tile of `shape` under layout `l`.
fn owners(l: &tilec_core::tir::LayoutConst, shape: &[u64]) -> Result<Vec<i64>, String> {
    let n: u64 = shape.iter().product();
    let mut out = Vec::with_capacity(n as usize);
    let mut coord = vec![0i64; shape.len()];
    for i in 0..n {
        let mut rem = i;
        for d in (0..shape.len()).rev() {
            coord[d] = (rem % shape[d]) as i64;
            rem /= shape[d];
        }
        out.push(l.tv.holders(&coord).map_err(|e| e.to_string())?.first().map_or(-1, |h| h.0));
    }
    Ok(out)
}

/// A constant array of i64 in global memory.
fn i64_table_global<'c>(ctx: &'c Context, loc: Location<'c>, name: &str, values: &[i64]) -> Result<melior::ir::Operation<'c>, CodegenError> {
    let text: Vec<String> = values.iter().map(|v| v.to_string()).collect();
    constant_table_global(ctx, loc, name, "i64", &text)
}

/// An internal constant array `name` of `elem` (an MLIR scalar type) in global memory, holding the
/// elements written as `values` (MLIR literals).
pub(super) fn constant_table_global<'c>(ctx: &'c Context, loc: Location<'c>, name: &str, elem: &str, values: &[String]) -> Result<melior::ir::Operation<'c>, CodegenError> {
    let value = Attribute::parse(ctx, &format!("dense<[{}]> : tensor<{}x{elem}>", values.join(", "), values.len()))
        .ok_or_else(|| CodegenError::internal("MLIR construction", format!("the constant table `{name}` does not parse")))?;
    let ty = Type::parse(ctx, &format!("!llvm.array<{} x {elem}>", values.len())).expect("valid type");
    OperationBuilder::new("llvm.mlir.global", loc)
        .add_attributes(&[
            (Identifier::new(ctx, "sym_name"), StringAttribute::new(ctx, name).into()),
            (Identifier::new(ctx, "global_type"), TypeAttribute::new(ty).into()),
            (Identifier::new(ctx, "linkage"), Attribute::parse(ctx, "#llvm.linkage<internal>").expect("valid attribute")),
            (Identifier::new(ctx, "addr_space"), Attribute::parse(ctx, "1 : i32").expect("valid attribute")),
            (Identifier::new(ctx, "constant"), Attribute::unit(ctx)),
            (Identifier::new(ctx, "value"), value),
        ])
        .add_regions([Region::new()])
        .build()
        .map_err(|e| CodegenError::internal("MLIR construction", e.to_string()))
}

/// An uninitialised buffer of `bytes` bytes in shared memory (address space 3), 16-byte aligned.
/// The `gpu.func` of a kernel named `name` with arguments `arg_types`, run by blocks of `threads`
/// threads, whose body is `region`: what both emitters (tile IR and thread program) produce.
///
/// `known_block_size` lets the conversion to NVVM bound thread indices and declare `.maxntid`. On
/// NVIDIA it also declares `.minnctapersm 1`: with `.maxntid` alone ptxas caps registers for an
/// occupancy it guesses (64 for 128 threads on sm_90, spilling attention's accumulators), while the
/// lowering sizes tiles for one resident block; with the minimum stated ptxas may use what the block
/// needs, as without `.maxntid`.
pub(super) fn kernel_func<'c>(ctx: &'c Context, loc: Location<'c>, target: Target, name: &str, arg_types: &[Type<'c>], threads: u32, region: Region<'c>) -> Result<melior::ir::Operation<'c>, CodegenError> {
    let fty = FunctionType::new(ctx, arg_types, &[]);
    let mut attributes = vec![
        (Identifier::new(ctx, "function_type"), TypeAttribute::new(fty.into()).into()),
        (Identifier::new(ctx, "sym_name"), StringAttribute::new(ctx, name).into()),
        (Identifier::new(ctx, "gpu.kernel"), Attribute::unit(ctx)),
        (Identifier::new(ctx, "known_block_size"), DenseI32ArrayAttribute::new(ctx, &[threads as i32, 1, 1]).into()),
    ];
    if target.vendor() == crate::target::Vendor::Nvidia {
        attributes.push((Identifier::new(ctx, "nvvm.minctasm"), melior::ir::attribute::IntegerAttribute::new(IntegerType::new(ctx, 32).into(), 1).into()));
    }
    OperationBuilder::new("gpu.func", loc)
        .add_attributes(&attributes)
        .add_regions([region])
        .build()
        .map_err(|e| CodegenError::internal("MLIR construction", e.to_string()))
}

pub(super) fn shared_global<'c>(ctx: &'c Context, loc: Location<'c>, name: &str, bytes: u64) -> melior::ir::Operation<'c> {
    let ty = Type::parse(ctx, &format!("!llvm.array<{bytes} x i8>")).expect("valid type");
    OperationBuilder::new("llvm.mlir.global", loc)
        .add_attributes(&[
            (Identifier::new(ctx, "sym_name"), StringAttribute::new(ctx, name).into()),
            (Identifier::new(ctx, "global_type"), TypeAttribute::new(ty).into()),
            (Identifier::new(ctx, "linkage"), Attribute::parse(ctx, "#llvm.linkage<internal>").expect("valid attribute")),
            (Identifier::new(ctx, "addr_space"), Attribute::parse(ctx, "3 : i32").expect("valid attribute")),
            (Identifier::new(ctx, "alignment"), Attribute::parse(ctx, "16 : i64").expect("valid attribute")),
        ])
        .add_regions([Region::new()])
        .build()
        .expect("valid operation")
}

impl<'c> Emitter<'c, '_> {
    fn func(&self, target: Target) -> Result<melior::ir::Operation<'c>, CodegenError> {
        let ctx = self.ctx;
        let k = self.kernel;
        let ptr = Type::parse(ctx, "!llvm.ptr<1>").expect("valid type");
        let i64t: Type<'c> = IntegerType::new(ctx, 64).into();
        let mut arg_types = Vec::new();
        for p in &k.params {
            arg_types.push(match &p.kind {
                ParamKind::Tensor { .. } => ptr,
                ParamKind::Scalar(DType::Bool) => IntegerType::new(ctx, 8).into(),
                ParamKind::Scalar(d) => mlir_type(ctx, *d, p.span)?,
            });
        }
        arg_types.extend(k.dims.iter().map(|_| i64t));

        let threads = k.warps * target.warp_size();
        let entry = Block::new(&arg_types.iter().map(|t| (*t, self.loc)).collect::<Vec<_>>());
        {
            let ops = Ops { ctx, block: &entry, loc: self.loc };
            let tid_index: Value = entry
                .append_operation(OperationBuilder::new("gpu.thread_id", self.loc)
                    .add_attributes(&[(Identifier::new(ctx, "dimension"), Attribute::parse(ctx, "#gpu<dim x>").expect("valid attribute"))])
                    .add_results(&[Type::index(ctx)])
                    .build()
                    .map_err(|e| CodegenError::internal("MLIR construction", e.to_string()))?)
                .result(0)
                .expect("one result")
                .into();
            let tid = ops.index_to_i64(tid_index);
            let args: Vec<Value> = (0..arg_types.len()).map(|i| entry.argument(i).expect("argument").into()).collect();
            let mut scope = Scope { block: &entry, env: HashMap::new(), args, tid };
            self.insts(&mut scope, &k.body.insts, threads)?;
            entry.append_operation(OperationBuilder::new("gpu.return", self.loc).build().expect("valid operation"));
        }
        let region = Region::new();
        region.append_block(entry);
        kernel_func(ctx, self.loc, self.target, &k.name, &arg_types, threads, region)
    }

    fn dtype(&self, v: ValueId) -> DType {
        self.kernel.ty(v).dtype()
    }

    fn insts<'a>(&self, s: &mut Scope<'c, 'a>, insts: &[Inst], threads: u32) -> Result<(), CodegenError> {
        for inst in insts {
            self.inst(s, inst, threads)?;
        }
        Ok(())
    }

    fn inst<'a>(&self, s: &mut Scope<'c, 'a>, inst: &Inst, threads: u32) -> Result<(), CodegenError> {
        let k = self.kernel;
        let ops = Ops { ctx: self.ctx, block: s.block, loc: self.loc };
        let span = inst.span;
        let slots_of = |v: ValueId| Distribution::new(k.ty(v).shape(), threads).slots() as usize;
        // Values of packed types are exact in their carrier registers; arithmetic on them is not.
        let computes_on = match &inst.op {
            Op::Unary(_, a) | Op::Math(_, a) => vec![*a],
            Op::Binary(_, a, b) | Op::Compare(_, a, b) => vec![*a, *b],
            Op::Fma(a, b, c) => vec![*a, *b, *c],
            Op::Dot { a, b, .. } => vec![*a, *b],
            Op::Reduce { value, .. } | Op::Cumsum { value, .. } => vec![*value],
            _ => vec![],
        };
        if let Some(v) = computes_on.iter().find(|v| super::arith::is_carried(k.ty(**v).dtype())) {
            return Err(CodegenError::unsupported(
                span,
                format!("the GPU backend computes on `{}` values only after a cast to a wider type (loads, casts and moves of them are supported)", k.ty(*v).dtype()),
            ));
        }
        let out: Vec<Value<'c, 'a>> = match &inst.op {
            Op::Const(lit) => vec![ops.literal(self.dtype(inst.results[0]), *lit, span)?],
            Op::BlockIndex(axis) => {
                let dim = ["x", "y", "z"][*axis as usize];
                let idx: Value = s
                    .block
                    .append_operation(
                        OperationBuilder::new("gpu.block_id", self.loc)
                            .add_attributes(&[(Identifier::new(self.ctx, "dimension"), Attribute::parse(self.ctx, &format!("#gpu<dim {dim}>")).expect("valid attribute"))])
                            .add_results(&[Type::index(self.ctx)])
                            .build()
                            .expect("valid operation"),
                    )
                    .result(0)
                    .expect("one result")
                    .into();
                vec![ops.index_to_i64(idx)]
            }
            Op::DimSize(i) => vec![s.args[k.params.len() + i]],
            Op::ScalarParam(i) => {
                let arg = s.args[*i];
                if matches!(k.params[*i].kind, ParamKind::Scalar(DType::Bool)) {
                    let zero = ops.int(arg.r#type(), 0);
                    vec![ops.cmpi(melior::dialect::arith::CmpiPredicate::Ne, arg, zero)]
                } else {
                    vec![arg]
                }
            }
            Op::Unary(op, a) => {
                let dt = self.dtype(*a);
                s.get(*a).iter().map(|x| ops.unary(*op, dt, *x, span)).collect::<Result<_, _>>()?
            }
            Op::Binary(op, a, b) => {
                let dt = self.dtype(*a);
                s.get(*a).iter().zip(s.get(*b)).map(|(x, y)| ops.binary(*op, dt, *x, *y)).collect()
            }
            Op::Compare(op, a, b) => {
                let dt = self.dtype(*a);
                s.get(*a).iter().zip(s.get(*b)).map(|(x, y)| ops.compare(*op, dt, *x, *y)).collect()
            }
            Op::Cast(a) => {
                let (from, to) = (self.dtype(*a), self.dtype(inst.results[0]));
                if matches!(to, tilec_dtype::DType::SmallFloat { .. } | tilec_dtype::DType::E8M0) {
                    // Registers of small floats hold their exact f32 value: round to the code, then
                    // decode it (from a carried source, the carrier's value is exact).
                    let from = super::arith::carrier(from);
                    let mut out = Vec::new();
                    for x in s.get(*a) {
                        let code = ops.small_float_code(from, to, *x, span)?;
                        out.push(self.decode_table(s.block, to, code, span)?);
                    }
                    out
                } else {
                    s.get(*a).iter().map(|x| ops.cast(from, to, *x, span)).collect::<Result<_, _>>()?
                }
            }
            Op::Splat(a) => vec![s.get(*a)[0]; slots_of(inst.results[0])],
            // Checked and recorded; layout-driven lowering will honour it. The default distribution
            // computes the same values.
            Op::Annotate(a, _) => s.get(*a).to_vec(),
            Op::Math(m, a) => {
                let dt = self.dtype(*a);
                s.get(*a).iter().map(|x| ops.math(*m, dt, *x, self.target.vendor())).collect()
            }
            Op::Fma(a, b, c) => {
                let dt = self.dtype(*a);
                s.get(*a).iter().zip(s.get(*b)).zip(s.get(*c)).map(|((a, b), c)| ops.fma(dt, *a, *b, *c)).collect()
            }
            Op::Broadcast(a) => {
                let (from, to) = (k.ty(*a).shape().to_vec(), k.ty(inst.results[0]).shape().to_vec());
                let lead = to.len() - from.len();
                self.gather(s, *a, &to, threads, span, |o, c| (0..from.len()).map(|i| if from[i] == 1 { o.i64(0) } else { c[i + lead] }).collect())?
            }
            Op::Permute { value, perm } => {
                let to = k.ty(inst.results[0]).shape().to_vec();
                self.gather(s, *value, &to, threads, span, |_, c| {
                    let mut src = c.to_vec();
                    for (i, &p) in perm.iter().enumerate() {
                        src[p] = c[i];
                    }
                    src
                })?
            }
            // The same elements in the same row-major order: every thread keeps its slots.
            Op::Reshape(a) => s.get(*a).to_vec(),
            Op::Repeat { value, .. } => {
                let (from, to) = (k.ty(*value).shape().to_vec(), k.ty(inst.results[0]).shape().to_vec());
                self.gather(s, *value, &to, threads, span, |o, c| c.iter().zip(&from).map(|(x, &f)| { let fe = o.i64(f as i64); o.rem_s(*x, fe) }).collect())?
            }
            Op::Reduce { op, value, dim } => self.reduce(s, *op, *value, *dim, inst.results[0], threads, span)?,
            Op::Cumsum { value, dim } => self.cumsum(s, *value, *dim, threads, span)?,
            Op::Dot { a, b, acc } => self.dot(s, *a, *b, *acc, threads, span)?,
            Op::LoadShared(view) => self.load_shared(s, view, inst.results[0], threads, span)?,
            Op::StoreShared { view, value } => {
                self.store_shared(s, view, *value, threads, span)?;
                return Ok(());
            }
            Op::CopyAsync { view, tensor, offsets, shape } => {
                let loaded = self.load_tile(s, *tensor, offsets, shape, threads, span)?;
                self.copy_to_shared(s, view, loaded, shape, threads, span)?;
                return Ok(());
            }
            Op::CommitGroup | Op::WaitGroup(_) => return Ok(()),
            Op::Barrier => {
                self.barrier(s.block);
                return Ok(());
            }
            Op::If { cond, then, els } => return self.if_else(s, inst, *cond, then, els, threads),
            Op::While { inits, cond, body } => return self.while_loop(s, inst, inits, cond, body, threads),
            // The language's thread count: 32 per warp on every target.
            Op::Threads => vec![ops.i64((k.warps * 32) as i64)],
            // Which thread holds each element under the layout: a constant of the layout alone.
            Op::ThreadIds(l) => {
                let shape = k.ty(inst.results[0]).shape().to_vec();
                let owners = owners(l, &shape).map_err(|e| CodegenError::internal("thread_ids", e))?;
                let name = self.const_table(owners);
                let dist = Distribution::new(&shape, threads);
                (0..dist.slots()).map(|slot| {
                    let e = self.slot_index(s, slot, threads);
                    let at = self.linear(&ops, &self.coords(&ops, e, &shape), &shape);
                    self.load_table(s.block, &name, at)
                }).collect()
            }
            Op::Where(c, x, y) => s.get(*c).iter().zip(s.get(*x)).zip(s.get(*y)).map(|((c, x), y)| ops.select(*c, *x, *y)).collect(),
            // Element e = k * T + tid of `arange(start, ...)` is start + e.
            Op::Arange { start } => {
                let slots = slots_of(inst.results[0]) as i64;
                (0..slots).map(|k| {
                    let base = ops.i64(start + k * threads as i64);
                    ops.add(base, s.tid)
                }).collect()
            }
            Op::Load { tensor, offsets } => self.load(s, *tensor, offsets, inst.results[0], threads, span)?,
            Op::Store { tensor, offsets, value, mask } => {
                self.store(s, *tensor, offsets, *value, *mask, threads, span)?;
                return Ok(());
            }
            Op::AtomicAdd { tensor, offsets, value } => {
                self.atomic_add(s, *tensor, offsets, *value, threads, span)?;
                return Ok(());
            }
            Op::For { start, end, step, inits, body, .. } => return self.for_loop(s, inst, *start, *end, *step, inits, body, threads),
            // Operations the tile IR has and this lowering does not handle yet are refused, at their source.
            #[allow(unreachable_patterns)]
            other => return Err(CodegenError::unsupported(span, format!("the GPU backend does not lower `{}` yet", other.name()))),
        };
        s.env.insert(inst.results[0], out);
        Ok(())
    }

    /// `while`: `scf.while` whose "before" region computes the condition from the carried slots and
    /// forwards them, and whose "do" region runs the body and yields the next slots.
    fn while_loop<'a>(&self, s: &mut Scope<'c, 'a>, inst: &Inst, inits: &[ValueId], cond: &tilec_core::tir::Block, body: &tilec_core::tir::Block, threads: u32) -> Result<(), CodegenError> {
        let init_vals: Vec<Value<'c, 'a>> = inits.iter().flat_map(|v| s.get(*v).to_vec()).collect();
        let types: Vec<Type> = init_vals.iter().map(|v| v.r#type()).collect();
        let arg_types: Vec<(Type, Location)> = types.iter().map(|t| (*t, self.loc)).collect();
        let slots = |v: ValueId| Distribution::new(self.kernel.ty(v).shape(), threads).slots() as usize;
        let before = Block::new(&arg_types);
        {
            let mut inner = s.nested(&before);
            self.bind_args(&mut inner, &before, &cond.args, threads);
            self.insts(&mut inner, &cond.insts, threads)?;
            let c = inner.get(cond.yields[0])[0];
            let forwarded: Vec<Value> = (0..types.len()).map(|i| before.argument(i).expect("carried").into()).collect();
            before.append_operation(OperationBuilder::new("scf.condition", self.loc).add_operands(&[c]).add_operands(&forwarded).build().expect("valid operation"));
        }
        let after = Block::new(&arg_types);
        {
            let mut inner = s.nested(&after);
            self.bind_args(&mut inner, &after, &body.args, threads);
            self.insts(&mut inner, &body.insts, threads)?;
            let yields: Vec<Value> = body.yields.iter().flat_map(|y| inner.get(*y).to_vec()).collect();
            after.append_operation(scf::r#yield(&yields, self.loc));
        }
        let (rb, ra) = (Region::new(), Region::new());
        rb.append_block(before);
        ra.append_block(after);
        let op = s.block.append_operation(
            OperationBuilder::new("scf.while", self.loc)
                .add_operands(&init_vals)
                .add_results(&types)
                .add_regions([rb, ra])
                .build()
                .map_err(|e| CodegenError::internal("MLIR construction", e.to_string()))?,
        );
        let mut next = 0;
        for r in &inst.results {
            let n = slots(*r);
            let vals: Vec<Value> = (next..next + n).map(|i| op.result(i).expect("while result").into()).collect();
            next += n;
            s.env.insert(*r, vals);
        }
        Ok(())
    }

    /// Binds tile IR block arguments to a block's arguments, slot by slot.
    fn bind_args<'b>(&self, inner: &mut Scope<'c, 'b>, block: &'b Block<'c>, args: &[ValueId], threads: u32) {
        let mut next = 0;
        for a in args {
            let n = Distribution::new(self.kernel.ty(*a).shape(), threads).slots() as usize;
            let vals: Vec<Value> = (next..next + n).map(|i| block.argument(i).expect("carried").into()).collect();
            next += n;
            inner.env.insert(*a, vals);
        }
    }

    /// Registers a constant i64 table and returns its symbol.
    fn const_table(&self, values: Vec<i64>) -> String {
        let mut tables = self.tables_i64.borrow_mut();
        let name = format!("__tilec_table{}_{}", tables.len(), self.kernel.name);
        tables.push((name.clone(), values));
        name
    }

    /// Element `at` of constant table `name`.
    fn load_table<'a>(&self, block: &'a Block<'c>, name: &str, at: Value<'c, 'a>) -> Value<'c, 'a> {
        let ptr = Type::parse(self.ctx, "!llvm.ptr<1>").expect("valid type");
        let base = Ops { ctx: self.ctx, block, loc: self.loc }.address_of(name, 1);
        let i64t: Type = IntegerType::new(self.ctx, 64).into();
        let p: Value = block.append_operation(melior::dialect::llvm::get_element_ptr_dynamic(self.ctx, base, &[at], i64t, ptr, self.loc)).result(0).expect("one result").into();
        block.append_operation(melior::dialect::llvm::load(self.ctx, p, i64t, self.loc, Default::default())).result(0).expect("one result").into()
    }

    /// `if` on a scalar bool: `scf.if` whose branches yield the slots of the carried values.
    fn if_else<'a>(&self, s: &mut Scope<'c, 'a>, inst: &Inst, cond: ValueId, then: &tilec_core::tir::Block, els: &tilec_core::tir::Block, threads: u32) -> Result<(), CodegenError> {
        let mut result_types = Vec::new();
        for r in &inst.results {
            let ty = mlir_type(self.ctx, self.kernel.ty(*r).dtype(), inst.span)?;
            let n = Distribution::new(self.kernel.ty(*r).shape(), threads).slots() as usize;
            result_types.extend(std::iter::repeat_n(ty, n));
        }
        let mut regions = Vec::new();
        for branch in [then, els] {
            let block = Block::new(&[]);
            {
                let mut inner = s.nested(&block);
                self.insts(&mut inner, &branch.insts, threads)?;
                let yields: Vec<Value> = branch.yields.iter().flat_map(|y| inner.get(*y).to_vec()).collect();
                block.append_operation(scf::r#yield(&yields, self.loc));
            }
            let region = Region::new();
            region.append_block(block);
            regions.push(region);
        }
        let els_region = regions.pop().expect("two regions");
        let then_region = regions.pop().expect("two regions");
        let op = s.block.append_operation(scf::r#if(s.get(cond)[0], &result_types, then_region, els_region, self.loc));
        let mut next = 0;
        for r in &inst.results {
            let n = Distribution::new(self.kernel.ty(*r).shape(), threads).slots() as usize;
            let vals: Vec<Value> = (next..next + n).map(|i| op.result(i).expect("if result").into()).collect();
            next += n;
            s.env.insert(*r, vals);
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn for_loop<'a>(
        &self,
        s: &mut Scope<'c, 'a>,
        inst: &Inst,
        start: ValueId,
        end: ValueId,
        step: i64,
        inits: &[ValueId],
        body: &tilec_core::tir::Block,
        threads: u32,
    ) -> Result<(), CodegenError> {
        let ops = Ops { ctx: self.ctx, block: s.block, loc: self.loc };
        let step_v = ops.i64(step);
        let init_vals: Vec<Value<'c, 'a>> = inits.iter().flat_map(|v| s.get(*v).to_vec()).collect();
        let mut arg_types = vec![(Type::from(IntegerType::new(self.ctx, 64)), self.loc)];
        arg_types.extend(init_vals.iter().map(|v| (v.r#type(), self.loc)));
        let result_types: Vec<Type> = init_vals.iter().map(|v| v.r#type()).collect();

        let loop_block = Block::new(&arg_types);
        {
            let mut inner = s.nested(&loop_block);
            inner.env.insert(body.args[0], vec![loop_block.argument(0).expect("iv").into()]);
            let mut next = 1;
            for arg in &body.args[1..] {
                let count = Distribution::new(self.kernel.ty(*arg).shape(), threads).slots() as usize;
                let vals: Vec<Value> = (next..next + count).map(|i| loop_block.argument(i).expect("carried").into()).collect();
                next += count;
                inner.env.insert(*arg, vals);
            }
            self.insts(&mut inner, &body.insts, threads)?;
            let yields: Vec<Value> = body.yields.iter().flat_map(|y| inner.get(*y).to_vec()).collect();
            loop_block.append_operation(scf::r#yield(&yields, self.loc));
        }
        let region = Region::new();
        region.append_block(loop_block);
        let mut operands = vec![s.get(start)[0], s.get(end)[0], step_v];
        operands.extend(init_vals);
        let op = s.block.append_operation(
            OperationBuilder::new("scf.for", self.loc)
                .add_operands(&operands)
                .add_results(&result_types)
                .add_regions([region])
                .build()
                .map_err(|e| CodegenError::internal("MLIR construction", e.to_string()))?,
        );
        let mut next = 0;
        for r in &inst.results {
            let count = Distribution::new(self.kernel.ty(*r).shape(), threads).slots() as usize;
            let vals: Vec<Value> = (next..next + count).map(|i| op.result(i).expect("loop result").into()).collect();
            next += count;
            s.env.insert(*r, vals);
        }
        Ok(())
    }
}

//! Building thread-level programs: the interface of a lowering pass.
//!
//! A [`Builder`] appends instructions to the innermost open block; `for_` and `if_` take closures
//! that build their bodies and return the yielded registers. Result types are inferred from the
//! operands; [`super::verify`] checks the finished program.
//!
//! Pure operations (arithmetic, comparisons, casts, register moves, constants, indices) are
//! simplified as they are built: folded or rewritten by [`super::fold`], and numbered by value — a
//! pure op already built in the current block or one enclosing it returns that op's register
//! instead of a new instruction. Side effects (memory, barriers, collectives) are always appended.
//!
//! ```
//! use tilec_core::thread::{Builder, Ty};
//! use tilec_dtype::DType;
//! let mut b = Builder::new("copy");
//! let src = b.param_global("src", DType::F32);
//! let dst = b.param_global("dst", DType::F32);
//! let t = b.thread_id();
//! let four = b.i32(4);
//! let off = b.mul(t, four);
//! let off = b.cast(off, DType::I64);
//! let x = b.load_global(src, off, Ty::F32, None, None);
//! b.store_global(dst, off, x, None);
//! let p = b.finish();
//! tilec_core::thread::verify(&p).unwrap();
//! ```

use super::fold::{fold, Folded};
use super::ops::{BinOp, CmpOp, MmaKind, Op, ShflMode, Special, UnOp};
use super::{Block, Inst, OpId, Param, ParamKind, Program, Reg, SharedAlloc, Ty};
use crate::syntax::Span;
use std::collections::HashMap;
use tilec_dtype::{encode, DType};

pub struct Builder {
    name: String,
    params: Vec<Param>,
    shared: Vec<SharedAlloc>,
    regs: Vec<Ty>,
    stack: Vec<Block>,
    next_op: u32,
    span: Option<Span>,
    /// Per open block (parallel to `stack`): the pure ops built in it and their registers.
    pure: Vec<HashMap<Op, Reg>>,
    /// The bit pattern of every register that is a scalar constant.
    constants: HashMap<Reg, u64>,
    /// The control-flow ops being built in steps, innermost last (parallel to the nested blocks).
    frames: Vec<Frame>,
}

/// A structured op opened by a `begin_` call: what its closing call needs.
enum Frame {
    For { id: OpId, lo: Reg, hi: Reg, step: Reg, init: Vec<Reg>, tys: Vec<Ty> },
    Then { id: OpId, cond: Reg, tys: Vec<Ty> },
    Else { id: OpId, cond: Reg, tys: Vec<Ty>, then_block: Block },
    WhileCond { id: OpId, init: Vec<Reg>, tys: Vec<Ty> },
    WhileBody { id: OpId, init: Vec<Reg>, tys: Vec<Ty>, cond: Block },
}

impl Builder {
    pub fn new(name: &str) -> Builder {
        Builder {
            name: name.to_string(),
            params: vec![],
            shared: vec![],
            regs: vec![],
            stack: vec![Block::default()],
            next_op: 0,
            span: None,
            pure: vec![HashMap::new()],
            constants: HashMap::new(),
            frames: Vec::new(),
        }
    }

    /// A global tensor parameter; returns its index.
    pub fn param_global(&mut self, name: &str, dtype: DType) -> usize {
        self.add_param(name, ParamKind::Global(dtype))
    }

    /// A scalar parameter; returns its index (read it with [`Builder::param`]).
    pub fn param_scalar(&mut self, name: &str, dtype: DType) -> usize {
        self.add_param(name, ParamKind::Scalar(dtype))
    }

    /// A symbolic dimension (i64); returns its index.
    pub fn param_dim(&mut self, name: &str) -> usize {
        self.add_param(name, ParamKind::Dim)
    }

    fn add_param(&mut self, name: &str, kind: ParamKind) -> usize {
        self.params.push(Param { name: name.to_string(), kind });
        self.params.len() - 1
    }

    /// A static shared allocation of `bytes` bytes aligned to `align`; returns its index.
    pub fn shared(&mut self, name: &str, bytes: u32, align: u32) -> usize {
        self.shared.push(SharedAlloc { name: name.to_string(), bytes, align, at: None });
        self.shared.len() - 1
    }

    /// A shared allocation of `bytes` bytes at byte offset `at` of the block's shared memory, which
    /// other allocations may overlap where their live ranges do not (the caller's plan).
    pub fn shared_at(&mut self, name: &str, bytes: u32, align: u32, at: u32) -> usize {
        self.shared.push(SharedAlloc { name: name.to_string(), bytes, align, at: Some(at) });
        self.shared.len() - 1
    }

    /// The span given to the instructions built from now on.
    pub fn set_span(&mut self, span: Option<Span>) {
        self.span = span;
    }

    /// The type of a register.
    pub fn ty(&self, r: Reg) -> Ty {
        self.regs[r.index()]
    }

    /// A fresh register of type `ty` (for block arguments).
    pub fn new_reg(&mut self, ty: Ty) -> Reg {
        self.regs.push(ty);
        Reg(self.regs.len() as u32 - 1)
    }

    fn next_id(&mut self) -> OpId {
        self.next_op += 1;
        OpId(self.next_op - 1)
    }

    /// Appends `op` with results of the given types; returns the result registers.
    pub fn push(&mut self, op: Op, result_tys: &[Ty]) -> Vec<Reg> {
        let id = self.next_id();
        self.push_with_id(id, op, result_tys)
    }

    fn push_with_id(&mut self, id: OpId, op: Op, result_tys: &[Ty]) -> Vec<Reg> {
        let results: Vec<Reg> = result_tys.iter().map(|&t| self.new_reg(t)).collect();
        let span = self.span;
        self.stack.last_mut().unwrap().insts.push(Inst { id, op, results: results.clone(), span });
        results
    }

    /// Appends a one-result op — or, for a pure op, returns the register that already holds its
    /// value (folded, rewritten, or built before in a visible scope).
    fn push1(&mut self, op: Op, ty: Ty) -> Reg {
        if !is_pure(&op) {
            return self.push(op, &[ty])[0];
        }
        let op = match fold(&op, ty, |r| self.regs[r.index()], |r| self.constants.get(&r).copied()) {
            Some(Folded::Reg(r)) => return r,
            Some(Folded::Const(t, bits)) => Op::Const { ty: t, bits },
            None => op,
        };
        if let Some(&r) = self.pure.iter().rev().find_map(|scope| scope.get(&op)) {
            return r;
        }
        let key = op.clone();
        let r = self.push(op, &[ty])[0];
        if let Op::Const { ty, bits } = key {
            if ty.is_scalar() {
                self.constants.insert(r, bits);
            }
        }
        self.pure.last_mut().expect("the body's scope").insert(key, r);
        r
    }

    /// Opens a nested block (a loop body, a branch) and its value-numbering scope.
    fn open(&mut self, block: Block) {
        self.stack.push(block);
        self.pure.push(HashMap::new());
    }

    /// Closes the innermost block; the pure values built in it are out of scope from here on.
    fn close(&mut self) -> Block {
        self.pure.pop();
        self.stack.pop().expect("an open block")
    }

    // ---- constants and indices ----

    /// A scalar constant from its bit pattern.
    pub fn const_bits(&mut self, ty: Ty, bits: u64) -> Reg {
        self.push1(Op::Const { ty, bits }, ty)
    }

    /// An integer constant of `dtype` (wrapped to its width).
    pub fn const_int(&mut self, dtype: DType, v: i64) -> Reg {
        let bits = if dtype.bits() >= 64 { v as u64 } else { (v as u64) & ((1u64 << dtype.bits()) - 1) };
        self.const_bits(Ty::scalar(dtype), bits)
    }

    /// A float constant of `dtype` (rounded to it).
    pub fn const_float(&mut self, dtype: DType, v: f64) -> Reg {
        self.const_bits(Ty::scalar(dtype), encode(dtype, v))
    }

    pub fn i32(&mut self, v: i32) -> Reg {
        self.const_int(DType::I32, v as i64)
    }

    pub fn u32(&mut self, v: u32) -> Reg {
        self.const_int(DType::U32, v as i64)
    }

    pub fn i64(&mut self, v: i64) -> Reg {
        self.const_int(DType::I64, v)
    }

    pub fn bool(&mut self, v: bool) -> Reg {
        self.const_bits(Ty::BOOL, v as u64)
    }

    /// A register with every element uninitialised, to be filled with [`Builder::insert`].
    pub fn undef(&mut self, ty: Ty) -> Reg {
        self.push1(Op::Undef { ty }, ty)
    }

    pub fn special(&mut self, s: Special) -> Reg {
        self.push1(Op::Special(s), Ty::I32)
    }

    pub fn thread_id(&mut self) -> Reg {
        self.special(Special::ThreadId)
    }

    pub fn lane_id(&mut self) -> Reg {
        self.special(Special::LaneId)
    }

    pub fn warp_id(&mut self) -> Reg {
        self.special(Special::WarpId)
    }

    pub fn block_id(&mut self, axis: u8) -> Reg {
        self.special(Special::BlockId(axis))
    }

    /// The value of scalar or dimension parameter `index`.
    pub fn param(&mut self, index: usize) -> Reg {
        let ty = match self.params.get(index).map(|p| &p.kind) {
            Some(ParamKind::Scalar(d)) => Ty::scalar(*d),
            _ => Ty::I64,
        };
        self.push1(Op::Param { index }, ty)
    }

    // ---- arithmetic ----

    pub fn binary(&mut self, op: BinOp, a: Reg, b: Reg) -> Reg {
        let ty = self.ty(a);
        self.push1(Op::Binary { op, a, b }, ty)
    }

    pub fn add(&mut self, a: Reg, b: Reg) -> Reg {
        self.binary(BinOp::Add, a, b)
    }
    pub fn sub(&mut self, a: Reg, b: Reg) -> Reg {
        self.binary(BinOp::Sub, a, b)
    }
    pub fn mul(&mut self, a: Reg, b: Reg) -> Reg {
        self.binary(BinOp::Mul, a, b)
    }
    pub fn div(&mut self, a: Reg, b: Reg) -> Reg {
        self.binary(BinOp::Div, a, b)
    }
    pub fn rem(&mut self, a: Reg, b: Reg) -> Reg {
        self.binary(BinOp::Rem, a, b)
    }
    pub fn and(&mut self, a: Reg, b: Reg) -> Reg {
        self.binary(BinOp::And, a, b)
    }
    pub fn or(&mut self, a: Reg, b: Reg) -> Reg {
        self.binary(BinOp::Or, a, b)
    }
    pub fn xor(&mut self, a: Reg, b: Reg) -> Reg {
        self.binary(BinOp::Xor, a, b)
    }
    pub fn shl(&mut self, a: Reg, b: Reg) -> Reg {
        self.binary(BinOp::Shl, a, b)
    }
    pub fn shr(&mut self, a: Reg, b: Reg) -> Reg {
        self.binary(BinOp::Shr, a, b)
    }

    pub fn unary(&mut self, op: UnOp, a: Reg) -> Reg {
        let ty = self.ty(a);
        self.push1(Op::Unary { op, a }, ty)
    }

    /// `a·b + c` rounded once.
    pub fn fma(&mut self, a: Reg, b: Reg, c: Reg) -> Reg {
        let ty = self.ty(a);
        self.push1(Op::Fma { a, b, c }, ty)
    }

    pub fn cmp(&mut self, op: CmpOp, a: Reg, b: Reg) -> Reg {
        let ty = self.ty(a).with_dtype(DType::Bool);
        self.push1(Op::Cmp { op, a, b }, ty)
    }

    pub fn select(&mut self, cond: Reg, a: Reg, b: Reg) -> Reg {
        let ty = self.ty(a);
        self.push1(Op::Select { cond, a, b }, ty)
    }

    pub fn cast(&mut self, a: Reg, to: DType) -> Reg {
        let ty = self.ty(a).with_dtype(to);
        self.push1(Op::Cast { a, to }, ty)
    }

    pub fn bitcast(&mut self, a: Reg, to: Ty) -> Reg {
        self.push1(Op::Bitcast { a, to }, to)
    }

    /// A vector of the given scalars (at least one).
    pub fn pack(&mut self, elems: &[Reg]) -> Reg {
        let ty = Ty::vec(self.ty(elems[0]).dtype, elems.len() as u32);
        self.push1(Op::Pack { elems: elems.to_vec() }, ty)
    }

    pub fn extract(&mut self, a: Reg, index: u32) -> Reg {
        let ty = self.ty(a).elem();
        self.push1(Op::Extract { a, index }, ty)
    }

    pub fn insert(&mut self, a: Reg, index: u32, value: Reg) -> Reg {
        let ty = self.ty(a);
        self.push1(Op::Insert { a, index, value }, ty)
    }

    pub fn lop3(&mut self, a: Reg, b: Reg, c: Reg, lut: u8) -> Reg {
        self.push1(Op::Lop3 { a, b, c, lut }, Ty::U32)
    }

    pub fn prmt(&mut self, a: Reg, b: Reg, sel: Reg) -> Reg {
        self.push1(Op::Prmt { a, b, sel }, Ty::U32)
    }

    // ---- memory ----

    pub fn load_global(&mut self, param: usize, offset: Reg, ty: Ty, pred: Option<Reg>, other: Option<Reg>) -> Reg {
        self.push1(Op::LoadGlobal { param, offset, ty, pred, other }, ty)
    }

    pub fn store_global(&mut self, param: usize, offset: Reg, value: Reg, pred: Option<Reg>) {
        self.push(Op::StoreGlobal { param, offset, value, pred }, &[]);
    }

    /// `red.global.add`: atomically adds scalar `value` to the element at byte `offset` of global
    /// `param`, if `pred`.
    pub fn atomic_add_global(&mut self, param: usize, offset: Reg, value: Reg, pred: Option<Reg>) {
        self.push(Op::AtomicAddGlobal { param, offset, value, pred }, &[]);
    }

    pub fn load_shared(&mut self, buf: usize, offset: Reg, ty: Ty) -> Reg {
        self.push1(Op::LoadShared { buf, offset, ty }, ty)
    }

    pub fn store_shared(&mut self, buf: usize, offset: Reg, value: Reg, pred: Option<Reg>) {
        self.push(Op::StoreShared { buf, offset, value, pred }, &[]);
    }

    pub fn cp_async(&mut self, buf: usize, soffset: Reg, param: usize, goffset: Reg, bytes: u32, pred: Option<Reg>) {
        self.push(Op::CpAsync { buf, soffset, param, goffset, bytes, pred }, &[]);
    }

    pub fn cp_async_commit(&mut self) {
        self.push(Op::CpAsyncCommit, &[]);
    }

    pub fn cp_async_wait(&mut self, n: u32) {
        self.push(Op::CpAsyncWait { n }, &[]);
    }

    /// A [`Op::Print`] of `args` into the `{}` holes of `format`.
    pub fn print(&mut self, format: &str, args: &[Reg]) {
        self.push(Op::Print { format: format.to_string(), args: args.to_vec() }, &[]);
    }

    pub fn bar_sync(&mut self) {
        self.push(Op::BarSync, &[]);
    }

    // ---- warp collectives ----

    /// A full-warp-style shuffle with the mode's default `c` operand.
    pub fn shfl(&mut self, mode: ShflMode, value: Reg, b: Reg, mask: u32) -> Reg {
        self.shfl_c(mode, value, b, mode.default_c(), mask)
    }

    pub fn shfl_c(&mut self, mode: ShflMode, value: Reg, b: Reg, c: u32, mask: u32) -> Reg {
        let ty = self.ty(value);
        self.push1(Op::Shfl { mode, value, b, c, mask }, ty)
    }

    pub fn ldmatrix(&mut self, buf: usize, offset: Reg, count: u32, trans: bool) -> Reg {
        self.push1(Op::Ldmatrix { buf, offset, count, trans }, Ty::vec(DType::U32, count))
    }

    /// `stmatrix` of `value` (32 bits per matrix: `u32x{count}` or `f16x{2count}`).
    pub fn stmatrix(&mut self, buf: usize, offset: Reg, value: Reg, trans: bool) {
        let count = self.ty(value).bits() / 32;
        self.push(Op::Stmatrix { buf, offset, value, count, trans }, &[]);
    }

    pub fn mma(&mut self, kind: MmaKind, a: Reg, b: Reg, c: Reg) -> Reg {
        self.push1(Op::Mma { kind, a, b, c }, kind.acc())
    }

    // ---- control flow ----

    // ---- structured control flow ----
    //
    // Each op is built either with closures (`for_`, `while_`, `if_`), or in steps (`begin_for` …
    // `end_for`, `begin_if` … `else_` … `end_if`, `begin_while` … `while_body` … `end_while`), which a
    // lowering that needs its own state inside the bodies can call between its own statements. The
    // op's id is taken when it opens, so ids follow program order.

    /// Opens the body of `for iv in lo..hi step step` carrying `init`; returns `iv` and the carried
    /// registers. Close it with [`Builder::end_for`].
    pub fn begin_for(&mut self, lo: Reg, hi: Reg, step: Reg, init: &[Reg]) -> (Reg, Vec<Reg>) {
        let id = self.next_id();
        let iv = self.new_reg(Ty::I32);
        let tys: Vec<Ty> = init.iter().map(|&r| self.ty(r)).collect();
        let carried: Vec<Reg> = tys.iter().map(|&t| self.new_reg(t)).collect();
        let mut args = vec![iv];
        args.extend(&carried);
        self.open(Block { args, ..Block::default() });
        self.frames.push(Frame::For { id, lo, hi, step, init: init.to_vec(), tys });
        (iv, carried)
    }

    /// Closes the innermost `for` with the next carried values; returns its results.
    pub fn end_for(&mut self, yields: Vec<Reg>) -> Vec<Reg> {
        let Some(Frame::For { id, lo, hi, step, init, tys }) = self.frames.pop() else { panic!("end_for without begin_for") };
        let mut body = self.close();
        body.yields = yields;
        self.push_with_id(id, Op::For { lo, hi, step, init, body }, &tys)
    }

    /// Opens the then-branch of `if cond` whose results have types `tys`.
    pub fn begin_if(&mut self, cond: Reg, tys: &[Ty]) {
        let id = self.next_id();
        self.open(Block::default());
        self.frames.push(Frame::Then { id, cond, tys: tys.to_vec() });
    }

    /// Closes the then-branch with its yields and opens the else-branch.
    pub fn else_(&mut self, yields: Vec<Reg>) {
        let Some(Frame::Then { id, cond, tys }) = self.frames.pop() else { panic!("else_ without begin_if") };
        let mut then_block = self.close();
        then_block.yields = yields;
        self.open(Block::default());
        self.frames.push(Frame::Else { id, cond, tys, then_block });
    }

    /// Closes the else-branch with its yields; returns the `if`'s results.
    pub fn end_if(&mut self, yields: Vec<Reg>) -> Vec<Reg> {
        let Some(Frame::Else { id, cond, tys, then_block }) = self.frames.pop() else { panic!("end_if without else_") };
        let mut else_block = self.close();
        else_block.yields = yields;
        self.push_with_id(id, Op::If { cond, then_block, else_block }, &tys)
    }

    /// Opens the condition block of a `while` carrying `init`; returns its arguments (the carried
    /// values). Continue with [`Builder::while_body`].
    pub fn begin_while(&mut self, init: &[Reg]) -> Vec<Reg> {
        let id = self.next_id();
        let tys: Vec<Ty> = init.iter().map(|&r| self.ty(r)).collect();
        let args: Vec<Reg> = tys.iter().map(|&t| self.new_reg(t)).collect();
        self.open(Block { args: args.clone(), ..Block::default() });
        self.frames.push(Frame::WhileCond { id, init: init.to_vec(), tys });
        args
    }

    /// Closes the condition with the bool that keeps the loop going and opens the body; returns the
    /// body's arguments (the carried values).
    pub fn while_body(&mut self, keep_going: Reg) -> Vec<Reg> {
        let Some(Frame::WhileCond { id, init, tys }) = self.frames.pop() else { panic!("while_body without begin_while") };
        let mut cond = self.close();
        cond.yields = vec![keep_going];
        let args: Vec<Reg> = tys.iter().map(|&t| self.new_reg(t)).collect();
        self.open(Block { args: args.clone(), ..Block::default() });
        self.frames.push(Frame::WhileBody { id, init, tys, cond });
        args
    }

    /// Closes the body with the next carried values; returns the loop's final carried values.
    pub fn end_while(&mut self, yields: Vec<Reg>) -> Vec<Reg> {
        let Some(Frame::WhileBody { id, init, tys, cond }) = self.frames.pop() else { panic!("end_while without while_body") };
        let mut body = self.close();
        body.yields = yields;
        self.push_with_id(id, Op::While { init, cond, body }, &tys)
    }

    /// `for iv in lo..hi step step` carrying `init`; `body(builder, iv, carried)` returns the next
    /// carried values. Returns the final carried values.
    pub fn for_(&mut self, lo: Reg, hi: Reg, step: Reg, init: &[Reg], body: impl FnOnce(&mut Builder, Reg, &[Reg]) -> Vec<Reg>) -> Vec<Reg> {
        let (iv, carried) = self.begin_for(lo, hi, step, init);
        let yields = body(self, iv, &carried);
        self.end_for(yields)
    }

    /// `while` carrying `init`: `cond(builder, carried)` returns the bool that keeps the loop going,
    /// `body(builder, carried)` the next carried values. Returns the final carried values.
    pub fn while_(&mut self, init: &[Reg], cond: impl FnOnce(&mut Builder, &[Reg]) -> Reg, body: impl FnOnce(&mut Builder, &[Reg]) -> Vec<Reg>) -> Vec<Reg> {
        let args = self.begin_while(init);
        let keep_going = cond(self, &args);
        let args = self.while_body(keep_going);
        let yields = body(self, &args);
        self.end_while(yields)
    }

    /// `if cond` whose branches yield registers of types `tys`; returns the results.
    pub fn if_(&mut self, cond: Reg, tys: &[Ty], then_f: impl FnOnce(&mut Builder) -> Vec<Reg>, else_f: impl FnOnce(&mut Builder) -> Vec<Reg>) -> Vec<Reg> {
        self.begin_if(cond, tys);
        let yields = then_f(self);
        self.else_(yields);
        let yields = else_f(self);
        self.end_if(yields)
    }

    /// The finished program (not yet verified).
    pub fn finish(mut self) -> Program {
        assert!(self.stack.len() == 1 && self.frames.is_empty(), "Builder::finish inside an open block");
        Program {
            name: self.name,
            params: self.params,
            shared: self.shared,
            regs: self.regs,
            body: self.stack.pop().unwrap(),
            num_ops: self.next_op,
        }
    }
}

/// Whether `op` only computes its result from its operands (no memory, synchronisation or warp
/// collective; the same operands always give the same value in the same thread).
fn is_pure(op: &Op) -> bool {
    matches!(
        op,
        Op::Const { .. }
            | Op::Special(_)
            | Op::Param { .. }
            | Op::Binary { .. }
            | Op::Unary { .. }
            | Op::Fma { .. }
            | Op::Cmp { .. }
            | Op::Select { .. }
            | Op::Cast { .. }
            | Op::Bitcast { .. }
            | Op::Pack { .. }
            | Op::Extract { .. }
            | Op::Insert { .. }
            | Op::Lop3 { .. }
            | Op::Prmt { .. }
    )
}

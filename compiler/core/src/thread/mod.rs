//! The thread-level program: what each thread of a block does, between the tile IR and MLIR.
//!
//! One [`Program`] is executed by every thread of a block (SPMT). Values are typed registers
//! ([`Reg`], with a [`Ty`]: a scalar, or a small fixed-length per-thread vector such as an mma
//! fragment); instructions sit in nested [`Block`]s with structured control flow (`for`, `if` with
//! yields), as in the tile IR. The op set ([`Op`]) is close to PTX: thread and block indices, kernel
//! arguments, arithmetic with the tile language's scalar semantics, predicated global and shared
//! memory accesses, global atomic adds, `cp.async`, `bar.sync`, `shfl.sync`, `ldmatrix`, `stmatrix`, `mma.sync`, `lop3`, `prmt`
//! and f16x2 arithmetic.
//!
//! * [`Builder`] constructs programs (a lowering pass's interface);
//! * [`print_program`] gives the textual form used in snapshots;
//! * [`verify`] checks definitions before uses, operand types, access sizes and constant shared
//!   offsets;
//! * [`emulate`] runs a program for every thread of every block on the CPU and reports deadlocks,
//!   shared- and global-memory races (atomics of one element by many threads are not one),
//!   out-of-bounds accesses, uninitialised reads and early `cp.async` reads.
//!
//! docs/thread.md describes the IR, the emulator and how a lowering is meant to use them.

mod builder;
// Emulation errors carry their whole location (op, span, block, thread) and the details of a race;
// they end an emulation, so their size costs nothing on the paths that matter.
#[allow(clippy::result_large_err)]
mod emu;
mod fold;
mod ops;
mod print;
mod scalar;
mod verify;
mod warp;

pub use builder::Builder;
pub use emu::{emulate, emulate_capture, ArgValue, EmuError, EmuErrorKind, ThreadRef};
pub use ops::{atomic_add_supported, print_escape, print_holes, print_pieces, BinOp, CmpOp, MmaKind, Op, ShflMode, Special, UnOp};
pub use print::print_program;
pub use scalar::{lop3, prmt};
pub use verify::{verify, VerifyError};
pub use warp::{ldmatrix_fragment, mma_fragment, MmaOperand};

use crate::syntax::Span;
use std::fmt;
use tilec_dtype::DType;

/// A register of a program (an SSA value: assigned once per thread per execution of its op).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reg(pub u32);

impl Reg {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// The identity of one instruction, unique in its program: what errors report, and what a lowering
/// maps back to a source span (each instruction also carries an optional [`Span`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OpId(pub u32);

impl fmt::Display for OpId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "op{}", self.0)
    }
}

/// A register type: `lanes` elements of `dtype` held by one thread. `lanes == 1` is a scalar;
/// more is a fragment (`f16x8`, `u32x4`). Element `i` of a vector occupies bits
/// `[i·w, (i+1)·w)` of its in-memory or bit-cast form (PTX's `mov.b32 r, {lo, hi}` order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Ty {
    pub dtype: DType,
    pub lanes: u32,
}

impl Ty {
    pub const fn scalar(dtype: DType) -> Ty {
        Ty { dtype, lanes: 1 }
    }
    pub const fn vec(dtype: DType, lanes: u32) -> Ty {
        Ty { dtype, lanes }
    }
    pub const I32: Ty = Ty::scalar(DType::I32);
    pub const U32: Ty = Ty::scalar(DType::U32);
    pub const I64: Ty = Ty::scalar(DType::I64);
    pub const BOOL: Ty = Ty::scalar(DType::Bool);
    pub const F32: Ty = Ty::scalar(DType::F32);
    pub const F16X2: Ty = Ty::vec(DType::F16, 2);

    /// Total bits of the register (`lanes × bits(dtype)`).
    pub fn bits(self) -> u32 {
        self.lanes * self.dtype.bits()
    }

    pub fn is_scalar(self) -> bool {
        self.lanes == 1
    }

    /// The scalar type of one element.
    pub fn elem(self) -> Ty {
        Ty::scalar(self.dtype)
    }

    /// This type's shape with another element type.
    pub fn with_dtype(self, dtype: DType) -> Ty {
        Ty { dtype, lanes: self.lanes }
    }
}

impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.lanes == 1 {
            write!(f, "{}", self.dtype)
        } else {
            write!(f, "{}x{}", self.dtype, self.lanes)
        }
    }
}

/// A kernel argument.
#[derive(Clone, Debug, PartialEq)]
pub enum ParamKind {
    /// A pointer to a global tensor of this element type; accessed by byte offsets.
    Global(DType),
    /// A scalar of this type.
    Scalar(DType),
    /// A symbolic dimension, an i64.
    Dim,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    pub name: String,
    pub kind: ParamKind,
}

/// A static shared-memory allocation, live for the whole block.
#[derive(Clone, Debug, PartialEq)]
pub struct SharedAlloc {
    pub name: String,
    pub bytes: u32,
    /// Alignment of its base in bytes (a power of two, at least 16 for `ldmatrix`/`cp.async`).
    pub align: u32,
    /// A byte offset in the block's shared memory fixed by the producer (a lowering that lets
    /// buffers with disjoint live ranges share bytes); `None`: after the previous allocation.
    pub at: Option<u32>,
}

/// A sequence of instructions with block arguments and yielded registers.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Block {
    pub args: Vec<Reg>,
    pub insts: Vec<Inst>,
    pub yields: Vec<Reg>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Inst {
    pub id: OpId,
    pub op: Op,
    pub results: Vec<Reg>,
    /// The source construct this instruction was lowered from, if known.
    pub span: Option<Span>,
}

/// A thread-level program: one kernel as executed by each thread of a block.
#[derive(Clone, Debug, PartialEq)]
pub struct Program {
    pub name: String,
    pub params: Vec<Param>,
    pub shared: Vec<SharedAlloc>,
    /// The type of every register, indexed by [`Reg`].
    pub regs: Vec<Ty>,
    pub body: Block,
    /// Number of instructions (op ids are `0..num_ops`).
    pub num_ops: u32,
}

impl Program {
    pub fn ty(&self, r: Reg) -> Ty {
        self.regs[r.index()]
    }

    /// The instruction with id `id`, if any.
    pub fn inst(&self, id: OpId) -> Option<&Inst> {
        fn find(b: &Block, id: OpId) -> Option<&Inst> {
            for i in &b.insts {
                if i.id == id {
                    return Some(i);
                }
                for sub in i.op.blocks() {
                    if let Some(x) = find(sub, id) {
                        return Some(x);
                    }
                }
            }
            None
        }
        find(&self.body, id)
    }

    /// The source span of instruction `id`, if it has one.
    pub fn span_of(&self, id: OpId) -> Option<Span> {
        self.inst(id).and_then(|i| i.span)
    }

    /// Byte offsets of the shared allocations in the block's shared memory, and its total size.
    /// An allocation without a fixed offset (`SharedAlloc::at`) follows the previous one; fixed
    /// ones may overlap (the producer guarantees their live ranges do not).
    pub fn shared_layout(&self) -> (Vec<u32>, u32) {
        let mut offsets = Vec::new();
        let (mut next, mut total) = (0u32, 0u32);
        for a in &self.shared {
            let align = a.align.max(1);
            let start = a.at.unwrap_or_else(|| next.div_ceil(align) * align);
            offsets.push(start);
            next = start + a.bytes;
            total = total.max(next);
        }
        (offsets, total)
    }
}

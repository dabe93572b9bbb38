//! The emulator: runs a thread-level program for every thread of every block on the CPU.
//!
//! Blocks run one after another. Within a block all threads advance in lock-step, one instruction
//! at a time over the set of *active* threads (those whose control flow reached it): an `if` runs
//! its `then` branch for the threads whose condition holds, then its `else` branch for the others;
//! a `for` runs its body for the threads whose induction variable is still below their bound. Since
//! a race-free program's result does not depend on how threads interleave between barriers, this is
//! one valid schedule; races are detected rather than hidden (see [`EmuErrorKind::SharedRace`],
//! [`EmuErrorKind::GlobalRace`] and [`EmuErrorKind::AtomicRace`]).
//!
//! Atomic adds are applied in that schedule's order (block by block, thread by thread within an
//! instruction), so the emulator's result is deterministic. On a GPU the order of the atomic
//! updates of one element is unspecified: integer sums are the same (addition modulo `2^n`
//! commutes), float sums may differ by rounding from run to run and from the emulator's.
//!
//! Collectives are performed for the whole warp (`shfl.sync` for its member mask, `ldmatrix` and
//! `mma.sync` for all 32 lanes) or block (`bar.sync`) at once, and it is an error if some of the
//! threads that must take part are not active there (divergent code or an early-exited loop).

mod exec;
mod global;
mod shared;

use super::{verify, OpId, ParamKind, Program, Reg};
use crate::syntax::Span;
use std::fmt;
use tilec_dtype::DType;

/// A kernel argument given to [`emulate`].
#[derive(Clone, Debug, PartialEq)]
pub enum ArgValue {
    /// A global tensor: its element type and its bytes (densely packed, little-endian).
    Global { dtype: DType, bytes: Vec<u8> },
    /// A scalar: its type and bit pattern.
    Scalar { dtype: DType, bits: u64 },
    /// A symbolic dimension.
    Dim(i64),
}

impl ArgValue {
    /// A global tensor holding `values` rounded to `dtype`.
    pub fn tensor(dtype: DType, values: &[f64]) -> ArgValue {
        ArgValue::Global { dtype, bytes: tilec_dtype::pack_values(dtype, values) }
    }

    /// A zero-filled global tensor of `numel` elements.
    pub fn zeros(dtype: DType, numel: usize) -> ArgValue {
        ArgValue::Global { dtype, bytes: vec![0; dtype.nbytes(numel)] }
    }

    /// A scalar argument of value `v` (rounded or saturated to `dtype`).
    pub fn scalar(dtype: DType, v: f64) -> ArgValue {
        ArgValue::Scalar { dtype, bits: tilec_dtype::encode(dtype, v) }
    }

    /// The decoded elements of a global tensor.
    pub fn values(&self) -> Vec<f64> {
        match self {
            ArgValue::Global { dtype, bytes } => {
                let n = bytes.len() * 8 / dtype.bits() as usize;
                tilec_dtype::unpack_values(*dtype, bytes, n).expect("whole elements")
            }
            _ => vec![],
        }
    }
}

/// A thread of a launch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ThreadRef {
    pub block: [u32; 3],
    pub thread: u32,
}

impl fmt::Display for ThreadRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "thread {} of block {:?}", self.thread, self.block)
    }
}

/// What went wrong while emulating.
#[derive(Clone, Debug, PartialEq)]
pub enum EmuErrorKind {
    /// The program failed verification, or the arguments do not match its parameters.
    Invalid(String),
    /// `bar.sync` reached by only `arrived` of the block's `threads` threads.
    Deadlock { arrived: u32, threads: u32 },
    /// A warp collective executed by only some of the lanes that must take part.
    DivergentCollective { warp: u32, active: u32, required: u32 },
    /// Two accesses to one shared byte between two barriers, at least one a write, by different
    /// threads (`first` is the earlier access's thread, when known).
    SharedRace { buffer: String, offset: u32, first: Option<u32>, first_write: bool, second: u32, second_write: bool },
    /// Two accesses to one byte of a global tensor in one launch by different threads, at least one
    /// a write (the first thread is unknown when several read the byte).
    GlobalRace { tensor: String, offset: u64, first: Option<ThreadRef>, first_write: bool, second: ThreadRef, second_write: bool },
    /// A plain access (`plain_write`: a store) and an atomic update of one byte of a global tensor in
    /// one launch by different threads; atomics are ordered only against each other. Either
    /// thread is unknown when several made such accesses.
    AtomicRace { tensor: String, offset: u64, atomic: Option<ThreadRef>, plain: Option<ThreadRef>, plain_write: bool },
    /// An access outside a global tensor or a shared allocation.
    OutOfBounds { space: String, offset: i128, size: u32, len: u64 },
    /// An access whose address is not a multiple of its size.
    Misaligned { space: String, offset: i128, align: u32 },
    /// A register read (by `thread`) before it was written; `element` for a vector.
    Uninitialised { reg: Reg, element: Option<u32> },
    /// A shared byte read before any thread wrote it.
    UninitialisedShared { buffer: String, offset: u32 },
    /// A shared byte read or written while a `cp.async` to it has not been waited for.
    CpAsyncPending { buffer: String, offset: u32, issuer: u32 },
    /// A `shfl.sync` whose source lane is not in the member mask (its value is undefined).
    ShflSource { lane: u32, source: u32 },
    /// A `for` with a step that is not positive.
    BadStep(i64),
}

/// An emulation error with its location: the instruction (and its source span), the block and the
/// thread.
#[derive(Clone, Debug, PartialEq)]
pub struct EmuError {
    pub kind: EmuErrorKind,
    pub op: Option<OpId>,
    pub span: Option<Span>,
    pub block: [u32; 3],
    pub thread: Option<u32>,
}

impl fmt::Display for EmuErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use EmuErrorKind::*;
        let acc = |w: bool| if w { "write" } else { "read" };
        match self {
            Invalid(m) => write!(f, "{m}"),
            Deadlock { arrived, threads } => write!(f, "deadlock: bar.sync reached by {arrived} of the block's {threads} threads (a barrier in divergent code)"),
            DivergentCollective { warp, active, required } => write!(f, "warp {warp} executes a collective with lanes {active:#010x} active, but lanes {required:#010x} must take part (divergent code)"),
            SharedRace { buffer, offset, first, first_write, second, second_write } => {
                let who = first.map(|t| format!("thread {t}")).unwrap_or_else(|| "another thread".into());
                write!(f, "shared-memory race on byte {offset} of `{buffer}`: {} by {who} and {} by thread {second} with no bar.sync between", acc(*first_write), acc(*second_write))
            }
            GlobalRace { tensor, offset, first, first_write, second, second_write } => {
                let who = first.map(|w| w.to_string()).unwrap_or_else(|| "several threads".into());
                write!(f, "global-memory race on byte {offset} of `{tensor}`: {} by {who} and {} by {second} in one launch", acc(*first_write), acc(*second_write))
            }
            AtomicRace { tensor, offset, atomic, plain, plain_write } => {
                let who = |w: &Option<ThreadRef>, many: &str| w.map(|w| w.to_string()).unwrap_or_else(|| many.into());
                write!(
                    f,
                    "global-memory race on byte {offset} of `{tensor}`: {} by {} and an atomic update by {} in one launch (atomics are ordered only against atomics)",
                    acc(*plain_write),
                    who(plain, "several threads"),
                    who(atomic, "several threads")
                )
            }
            OutOfBounds { space, offset, size, len } => write!(f, "out-of-bounds access: {size} bytes at byte offset {offset} of {space} ({len} bytes)"),
            Misaligned { space, offset, align } => write!(f, "misaligned access: byte offset {offset} of {space} is not a multiple of {align}"),
            Uninitialised { reg, element: Some(e) } => write!(f, "read of uninitialised element {e} of register %{}", reg.0),
            Uninitialised { reg, element: None } => write!(f, "read of uninitialised register %{}", reg.0),
            UninitialisedShared { buffer, offset } => write!(f, "read of uninitialised shared memory: byte {offset} of `{buffer}`"),
            CpAsyncPending { buffer, offset, issuer } => write!(f, "byte {offset} of `{buffer}` accessed while thread {issuer}'s cp.async to it is in flight (missing cp.async.wait_group or bar.sync)"),
            ShflSource { lane, source } => write!(f, "shfl.sync: lane {lane} reads lane {source}, which is not in the member mask"),
            BadStep(s) => write!(f, "for loop with step {s} (must be positive)"),
        }
    }
}

impl fmt::Display for EmuError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.kind)?;
        if let Some(op) = self.op {
            write!(f, " at {op}")?;
        }
        write!(f, " (block {:?}", self.block)?;
        if let Some(t) = self.thread {
            write!(f, ", thread {t}")?;
        }
        write!(f, ")")
    }
}

impl std::error::Error for EmuError {}

impl EmuError {
    /// The error as a diagnostic of the project: the message, a label at the instruction's source
    /// span when it has one, and notes naming the instruction, block and thread.
    pub fn to_diagnostic(&self, program: &Program) -> crate::Diagnostic {
        let mut d = crate::Diagnostic::error(format!("thread program `{}`: {}", program.name, self.kind));
        let inst = self.op.and_then(|id| program.inst(id));
        if let (Some(span), Some(i)) = (self.span, inst) {
            d = d.with_label(span, format!("in `{}` ({})", i.op.name(), i.id));
        } else if let Some(i) = inst {
            d = d.with_note(format!("in `{}` ({}), which has no source span", i.op.name(), i.id));
        }
        let who = self.thread.map(|t| format!(", thread {t} (warp {}, lane {})", t / 32, t % 32)).unwrap_or_default();
        d.with_note(format!("block ({}, {}, {}){who}", self.block[0], self.block[1], self.block[2]))
    }
}

fn invalid(m: String) -> EmuError {
    EmuError { kind: EmuErrorKind::Invalid(m), op: None, span: None, block: [0; 3], thread: None }
}

/// Runs `program` over `grid` blocks of `threads_per_block` threads, reading and writing the global
/// tensors of `args` (one per parameter, in order). Verifies the program first. The lines `print`
/// writes go to stderr, as the tile interpreter writes them ([`emulate_capture`] returns them).
pub fn emulate(program: &Program, args: &mut [ArgValue], grid: [u32; 3], threads_per_block: u32) -> Result<(), EmuError> {
    for line in emulate_capture(program, args, grid, threads_per_block)? {
        eprintln!("{line}");
    }
    Ok(())
}

/// [`emulate`], returning the lines `print` wrote: block by block in grid order (x fastest), in
/// execution order within a block. On a GPU blocks run concurrently, so only the order of one
/// block's lines is the same there.
pub fn emulate_capture(program: &Program, args: &mut [ArgValue], grid: [u32; 3], threads_per_block: u32) -> Result<Vec<String>, EmuError> {
    verify(program).map_err(|e| EmuError { kind: EmuErrorKind::Invalid(e.to_string()), op: e.op, span: e.span, block: [0; 3], thread: None })?;
    if args.len() != program.params.len() {
        return Err(invalid(format!("{} arguments for {} parameters", args.len(), program.params.len())));
    }
    for (p, a) in program.params.iter().zip(args.iter()) {
        let ok = match (&p.kind, a) {
            (ParamKind::Global(d), ArgValue::Global { dtype, .. }) => d == dtype,
            (ParamKind::Scalar(d), ArgValue::Scalar { dtype, .. }) => d == dtype,
            (ParamKind::Dim, ArgValue::Dim(_)) => true,
            _ => false,
        };
        if !ok {
            return Err(invalid(format!("argument for parameter `{}` ({:?}) is {a:?}", p.name, p.kind)));
        }
    }
    if threads_per_block == 0 || threads_per_block > 1024 {
        return Err(invalid(format!("{threads_per_block} threads per block (1..=1024)")));
    }
    let sizes: Vec<usize> = args.iter().map(|a| if let ArgValue::Global { bytes, .. } = a { bytes.len() } else { 0 }).collect();
    let names = program.params.iter().map(|p| p.name.clone()).collect();
    let mut tracker = global::GlobalTracker::new(names, &sizes, grid);
    let mut out = Vec::new();
    for z in 0..grid[2] {
        for y in 0..grid[1] {
            for x in 0..grid[0] {
                exec::run_block(program, args, &mut tracker, [x, y, z], grid, threads_per_block, &mut out)?;
            }
        }
    }
    Ok(out)
}

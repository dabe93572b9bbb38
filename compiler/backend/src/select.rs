//! Which emitter compiles each kernel: the thread-level program (`tilec_core::lower`, then
//! `mlir::thread`) or the direct tile-IR emitter.
//!
//! Guarantees: with [`Codegen::Auto`] every kernel the direct emitter compiled before still compiles
//! (a kernel the lowering or the thread emitter refuses falls back to it, with the reason recorded);
//! with [`Codegen::Thread`] a refusal is an error carrying the lowering's own diagnostic.

use crate::error::CodegenError;
use crate::mlir;
use crate::target::Target;
use melior::ir::Operation;
use melior::Context;
use std::fmt;
use std::str::FromStr;
use tilec_core::tir::Kernel;

/// The code generator asked for (`tilec build --codegen`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Codegen {
    /// The thread-level program when the kernel lowers to one and the thread emitter can emit it
    /// for the target, else the direct emitter.
    #[default]
    Auto,
    /// The thread-level program; a kernel that does not lower is an error.
    Thread,
    /// The direct tile-IR emitter (naive cyclic distribution).
    Direct,
}

impl FromStr for Codegen {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(Codegen::Auto),
            "thread" => Ok(Codegen::Thread),
            "direct" => Ok(Codegen::Direct),
            _ => Err(format!("unknown code generator `{s}`: auto, thread or direct")),
        }
    }
}

/// The path one kernel took.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KernelPath {
    /// Lowered to a thread-level program and emitted from it; its launch provides
    /// `dynamic_shared_bytes` of dynamic shared memory (0: its shared memory is static).
    Thread { dynamic_shared_bytes: u32 },
    /// Compiled by the direct emitter; with `--codegen auto`, why the thread path was not taken.
    Direct { fallback: Option<String> },
}

impl fmt::Display for KernelPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KernelPath::Thread { dynamic_shared_bytes: 0 } => f.write_str("thread-level program"),
            KernelPath::Thread { dynamic_shared_bytes } => write!(f, "thread-level program ({dynamic_shared_bytes} bytes of dynamic shared memory)"),
            KernelPath::Direct { fallback: None } => f.write_str("direct tile-IR emitter"),
            KernelPath::Direct { fallback: Some(why) } => write!(f, "direct tile-IR emitter (thread path refused: {why})"),
        }
    }
}

/// Bytes of dynamic shared memory a launch of a kernel compiled along `path` provides.
pub fn dynamic_shared_bytes(path: &KernelPath) -> u32 {
    match path {
        KernelPath::Thread { dynamic_shared_bytes } => *dynamic_shared_bytes,
        KernelPath::Direct { .. } => 0,
    }
}

/// Threads per block of `kernel` on `target` by `path`: the thread-level program's warps are 32
/// lanes on every target; the direct emitter fills the target's hardware warps (64 on AMD).
pub fn threads_per_block(kernel: &Kernel, target: Target, path: &KernelPath) -> u32 {
    match path {
        KernelPath::Thread { .. } => kernel.warps * 32,
        KernelPath::Direct { .. } => kernel.warps * target.warp_size(),
    }
}

/// The thread-path operations of `kernel` (None: compile it directly) and the path it takes.
pub fn choose<'c>(context: &'c Context, kernel: &Kernel, target: Target, codegen: Codegen) -> Result<(Option<Vec<Operation<'c>>>, KernelPath), CodegenError> {
    let direct = |why: String| Ok((None, KernelPath::Direct { fallback: Some(why) }));
    if codegen == Codegen::Direct {
        return Ok((None, KernelPath::Direct { fallback: None }));
    }
    let program = match tilec_core::lower::lower_with(kernel, &target.lowering_options()) {
        Ok(p) => p,
        Err(d) if codegen == Codegen::Auto => return direct(d.message),
        Err(d) => return Err(CodegenError::Lowering(Box::new(d))),
    };
    tilec_core::thread::verify(&program).map_err(|e| CodegenError::internal("thread-level lowering", format!("kernel `{}`: the lowered program does not verify: {e:?}", kernel.name)))?;
    let threads = kernel.warps * 32;
    match mlir::emit_thread_program(context, &program, threads, target, kernel.span) {
        Ok((ops, dynamic_shared_bytes)) => Ok((Some(ops), KernelPath::Thread { dynamic_shared_bytes })),
        Err(CodegenError::Unsupported { message, .. }) if codegen == Codegen::Auto => direct(message),
        Err(e) => Err(e),
    }
}

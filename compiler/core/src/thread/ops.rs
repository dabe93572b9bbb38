//! The operations of the thread-level IR, with their PTX counterparts (docs/thread.md).

use super::{Block, Reg, Ty};
use tilec_dtype::DType;

/// Thread and block indices (`%tid.x`, `%laneid`, `%ctaid.x`, ...), all `i32`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Special {
    /// `%tid.x`: the thread's index in its block, `0..T`.
    ThreadId,
    /// `%laneid`: `thread_id % 32`.
    LaneId,
    /// `thread_id / 32`.
    WarpId,
    /// `%ntid.x`: threads per block.
    NumThreads,
    /// `%ctaid.{x,y,z}`.
    BlockId(u8),
    /// `%nctaid.{x,y,z}`.
    NumBlocks(u8),
}

impl Special {
    pub fn name(self) -> String {
        let axis = |a: u8| ["x", "y", "z"][a as usize % 3];
        match self {
            Special::ThreadId => "thread_id".into(),
            Special::LaneId => "lane_id".into(),
            Special::WarpId => "warp_id".into(),
            Special::NumThreads => "num_threads".into(),
            Special::BlockId(a) => format!("block_id.{}", axis(a)),
            Special::NumBlocks(a) => format!("num_blocks.{}", axis(a)),
        }
    }
}

/// Elementwise binary operations. On floats the exact result is rounded once to the dtype; on
/// integers it wraps; division by zero is defined as in the tile language (`x/0 = -1` (all ones),
/// `x%0 = x`). Shift amounts of at least the width give 0 (`shl`, `shr` of unsigned) or the
/// sign (`shr` of signed): PTX clamps them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Min,
    Max,
    And,
    Or,
    Xor,
    Shl,
    Shr,
}

impl BinOp {
    pub fn name(self) -> &'static str {
        match self {
            BinOp::Add => "add",
            BinOp::Sub => "sub",
            BinOp::Mul => "mul",
            BinOp::Div => "div",
            BinOp::Rem => "rem",
            BinOp::Min => "min",
            BinOp::Max => "max",
            BinOp::And => "and",
            BinOp::Or => "or",
            BinOp::Xor => "xor",
            BinOp::Shl => "shl",
            BinOp::Shr => "shr",
        }
    }

    /// Whether the op is defined on floats.
    pub fn float_ok(self) -> bool {
        matches!(self, BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Rem | BinOp::Min | BinOp::Max)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnOp {
    /// Arithmetic negation (`neg`), wrapping on integers.
    Neg,
    /// Bitwise complement on integers (`not.b`), logical not on bool.
    Not,
    /// Absolute value (`abs`): clears a float's sign bit; wraps on the most negative integer.
    Abs,
    /// Square root, correctly rounded (`sqrt.rn`), f32 and f64.
    Sqrt,
    /// Reciprocal square root (`rsqrt.approx`), f32 and f64.
    Rsqrt,
    /// Base-2 exponential (`ex2.approx`), f32.
    Ex2,
    /// Base-2 logarithm (`lg2.approx`), f32.
    Lg2,
}

impl UnOp {
    pub fn name(self) -> &'static str {
        match self {
            UnOp::Neg => "neg",
            UnOp::Not => "not",
            UnOp::Abs => "abs",
            UnOp::Sqrt => "sqrt.rn",
            UnOp::Rsqrt => "rsqrt.approx",
            UnOp::Ex2 => "ex2.approx",
            UnOp::Lg2 => "lg2.approx",
        }
    }
}

/// Comparisons: the tile IR's own ([`crate::tir::CmpOp`]), with the same NaN rule.
pub use crate::tir::CmpOp;

/// `shfl.sync` modes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ShflMode {
    Idx,
    Up,
    Down,
    Bfly,
}

impl ShflMode {
    pub fn name(self) -> &'static str {
        match self {
            ShflMode::Idx => "idx",
            ShflMode::Up => "up",
            ShflMode::Down => "down",
            ShflMode::Bfly => "bfly",
        }
    }

    /// The `c` operand a full-warp shuffle uses (`up` clamps at lane 0, the others at lane 31).
    pub fn default_c(self) -> u32 {
        match self {
            ShflMode::Up => 0,
            _ => 0x1f,
        }
    }
}

/// The `mma.sync.aligned.row.col` variants.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MmaKind {
    /// `m16n8k16.f32.f16.f16.f32`: A `u32x4`, B `u32x2`, C/D `f32x4`.
    M16N8K16F16,
    /// `m16n8k16.f32.bf16.bf16.f32`.
    M16N8K16BF16,
    /// `m16n8k8.f32.tf32.tf32.f32`: A `u32x4`, B `u32x2` (f32 patterns of which the tensor core
    /// reads the top 19 bits), C/D `f32x4`.
    M16N8K8TF32,
    /// `m16n8k32.s32.s8.s8.s32`: A `u32x4`, B `u32x2`, C/D `i32x4` (wrapping).
    M16N8K32S8,
    /// `m16n8k32.s32.u8.u8.s32`.
    M16N8K32U8,
}

impl MmaKind {
    pub fn name(self) -> &'static str {
        match self {
            MmaKind::M16N8K16F16 => "m16n8k16.f32.f16.f16.f32",
            MmaKind::M16N8K16BF16 => "m16n8k16.f32.bf16.bf16.f32",
            MmaKind::M16N8K8TF32 => "m16n8k8.f32.tf32.tf32.f32",
            MmaKind::M16N8K32S8 => "m16n8k32.s32.s8.s8.s32",
            MmaKind::M16N8K32U8 => "m16n8k32.s32.u8.u8.s32",
        }
    }

    /// `(m, n, k)`.
    pub fn shape(self) -> (usize, usize, usize) {
        match self {
            MmaKind::M16N8K16F16 | MmaKind::M16N8K16BF16 => (16, 8, 16),
            MmaKind::M16N8K8TF32 => (16, 8, 8),
            _ => (16, 8, 32),
        }
    }

    /// The element type of A and B.
    pub fn input(self) -> DType {
        match self {
            MmaKind::M16N8K16F16 => DType::F16,
            MmaKind::M16N8K16BF16 => DType::BF16,
            MmaKind::M16N8K8TF32 => DType::TF32,
            MmaKind::M16N8K32S8 => DType::I8,
            MmaKind::M16N8K32U8 => DType::U8,
        }
    }

    /// The type of the C and D fragments.
    pub fn acc(self) -> Ty {
        match self {
            MmaKind::M16N8K32S8 | MmaKind::M16N8K32U8 => Ty::vec(DType::I32, 4),
            _ => Ty::vec(DType::F32, 4),
        }
    }
}

/// Whether PTX adds elements of `dtype` atomically in global memory (`red.global.add`): `u32`,
/// `s32`, `u64` (which also adds `s64`: two's complement wraps alike), `f32`, `f64`, and `f16`
/// and `bf16` with `.noftz` (sm_70 and sm_90; LLVM emulates `bf16` with a compare-and-swap loop
/// before sm_90). Narrower integers, `bool`, `tf32` and the 8-bit and smaller floats have no
/// atomic add.
pub fn atomic_add_supported(dtype: DType) -> bool {
    matches!(dtype, DType::I32 | DType::U32 | DType::I64 | DType::U64 | DType::F32 | DType::F64 | DType::F16 | DType::BF16)
}

/// One operation. Operands are registers; results are listed on the [`super::Inst`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// A scalar constant given by its bit pattern in `ty`'s encoding (`mov.b32 r, imm`).
    Const { ty: Ty, bits: u64 },
    /// A register of type `ty` whose elements are all uninitialised (filled by `insert`); reading
    /// an element before it is written is an error of the emulator.
    Undef { ty: Ty },
    /// Thread and block indices.
    Special(Special),
    /// The value of scalar or dimension parameter `index` (`ld.param`).
    Param { index: usize },
    /// Elementwise binary op on two registers of one type.
    Binary { op: BinOp, a: Reg, b: Reg },
    Unary { op: UnOp, a: Reg },
    /// Fused multiply-add `a·b + c` rounded once (`fma.rn.f32`, `fma.rn.f16x2`).
    Fma { a: Reg, b: Reg, c: Reg },
    /// Elementwise comparison; the result is bool with the operands' lane count.
    Cmp { op: CmpOp, a: Reg, b: Reg },
    /// `cond ? a : b` per element (`selp`); `cond` is a bool scalar or has the operands' lanes.
    Select { cond: Reg, a: Reg, b: Reg },
    /// Elementwise value conversion with the tile language's rules (`cvt.rn`, saturating to ints).
    Cast { a: Reg, to: DType },
    /// Reinterpretation of the bits (`mov.b32 {h0, h1}, r` and its inverse): equal total bits.
    Bitcast { a: Reg, to: Ty },
    /// A vector from scalars of one type.
    Pack { elems: Vec<Reg> },
    /// Element `index` of a vector.
    Extract { a: Reg, index: u32 },
    /// A copy of vector `a` with element `index` replaced by scalar `value`.
    Insert { a: Reg, index: u32, value: Reg },
    /// `lop3.b32 d, a, b, c, lut`: bit `i` of `d` is bit `4a_i + 2b_i + c_i` of `lut`. Operands of
    /// 32 bits (any type), result `u32`.
    Lop3 { a: Reg, b: Reg, c: Reg, lut: u8 },
    /// `prmt.b32 d, a, b, sel` (default mode): byte `i` of `d` is byte `sel[4i+2:4i]` of the
    /// 8-byte `{b, a}` (bytes 0–3 from `a`), or that byte's sign replicated when `sel[4i+3]` is set.
    /// `sel` is a register (`u32`); result `u32`.
    Prmt { a: Reg, b: Reg, sel: Reg },
    /// `ld.global` of `ty` (1, 2, 4, 8 or 16 bytes, naturally aligned) at byte `offset` (i64) of
    /// global parameter `param`. When `pred` is false nothing is read and the result is `other`
    /// (or uninitialised without `other`, as PTX leaves the destination unchanged).
    LoadGlobal { param: usize, offset: Reg, ty: Ty, pred: Option<Reg>, other: Option<Reg> },
    /// `st.global` of `value` at byte `offset` of global parameter `param`, if `pred`.
    StoreGlobal { param: usize, offset: Reg, value: Reg, pred: Option<Reg> },
    /// `red.global.add` of scalar `value` into the element at byte `offset` of global parameter
    /// `param`, if `pred`: one atomic read-modify-write of `old + value` (integers wrap, floats are
    /// rounded once to the dtype, `.noftz`), ordered only against other atomics (relaxed, GPU
    /// scope). `value`'s dtype is the tensor's and one PTX adds atomically
    /// ([`atomic_add_supported`]). Atomics of different threads to one element are not a race;
    /// a plain access racing with one is.
    AtomicAddGlobal { param: usize, offset: Reg, value: Reg, pred: Option<Reg> },
    /// `ld.shared` of `ty` (up to 16 bytes, naturally aligned) at byte `offset` (i32) of shared
    /// allocation `buf`.
    LoadShared { buf: usize, offset: Reg, ty: Ty },
    /// `st.shared`, if `pred`.
    StoreShared { buf: usize, offset: Reg, value: Reg, pred: Option<Reg> },
    /// `cp.async.ca/cg.shared.global [dst], [src], bytes, src_size`: copies 4, 8 or 16 bytes from
    /// global `param` at `goffset` to shared `buf` at `soffset`; with `pred` false the source size
    /// is 0 and zeros are written. The bytes land at the `wait_group` that covers the copy's group.
    CpAsync { buf: usize, soffset: Reg, param: usize, goffset: Reg, bytes: u32, pred: Option<Reg> },
    /// `cp.async.commit_group`: the thread's uncommitted copies form a new group.
    CpAsyncCommit,
    /// `cp.async.wait_group n`: all but the `n` most recent groups of the thread have landed.
    CpAsyncWait { n: u32 },
    /// `bar.sync 0`: every thread of the block.
    BarSync,
    /// `shfl.sync.{mode}.b32 d, value, b, c, mask` on a 32-bit `value`; `b` is an i32 register,
    /// `c` the constant clamp/segment operand (`ShflMode::default_c` for a whole warp).
    Shfl { mode: ShflMode, value: Reg, b: Reg, c: u32, mask: u32 },
    /// `ldmatrix.sync.aligned.m8n8.x{count}[.trans].shared.b16`: lanes `8j..8j+7` give the byte
    /// offsets (in `buf`) of the 16-byte rows of matrix `j`; each lane receives `u32x{count}`.
    Ldmatrix { buf: usize, offset: Reg, count: u32, trans: bool },
    /// `stmatrix.sync.aligned.m8n8.x{count}[.trans].shared.b16` (sm_90): the inverse of `ldmatrix`;
    /// `value` (`u32x{count}`, 32 bits per matrix) is distributed as `ldmatrix` would have
    /// returned it, and lanes `8j..8j+7` give the row addresses of matrix `j`.
    Stmatrix { buf: usize, offset: Reg, value: Reg, count: u32, trans: bool },
    /// `mma.sync.aligned.{kind}.row.col d, a, b, c`: the whole warp.
    Mma { kind: MmaKind, a: Reg, b: Reg, c: Reg },
    /// `for iv = lo; iv < hi; iv += step` (i32, `step > 0`) carrying `init` through `body`, whose
    /// arguments are `[iv, carried...]` and whose yields are the next carried values. Results: the
    /// final carried values. Threads may run different trip counts (they diverge).
    For { lo: Reg, hi: Reg, step: Reg, init: Vec<Reg>, body: Block },
    /// `if cond` (a bool scalar) with the yields of the branch taken as results.
    If { cond: Reg, then_block: Block, else_block: Block },
    /// A loop carrying `init` (MLIR's `scf.while`): `cond` takes the carried values as arguments
    /// and yields one bool scalar; while it is true, `body` takes the carried values and yields
    /// the next ones. Results: the carried values when `cond` yields false. Threads may leave at
    /// different times (they diverge).
    While { init: Vec<Reg>, cond: Block, body: Block },
    /// One line of text written by each executing thread (`vprintf` on NVIDIA): `format` with its
    /// `{}` holes replaced, in order, by the scalar `args` as the tile interpreter writes values
    /// (`interp::format_scalar`); `{{` and `}}` stand for braces. The lowering guards it so one
    /// thread per block prints (docs/thread.md).
    Print { format: String, args: Vec<Reg> },
}

/// The number of `{}` holes of a [`Op::Print`] format, or an error for a lone brace.
pub fn print_holes(format: &str) -> Result<usize, String> {
    Ok(print_pieces(format)?.len() - 1)
}

/// The literal text of a [`Op::Print`] format between its holes (one more piece than holes),
/// with `{{`/`}}` unescaped.
pub fn print_pieces(format: &str) -> Result<Vec<String>, String> {
    let mut pieces = vec![String::new()];
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, chars.peek()) {
            ('{', Some('{')) | ('}', Some('}')) => {
                chars.next();
                pieces.last_mut().expect("non-empty").push(c);
            }
            ('{', Some('}')) => {
                chars.next();
                pieces.push(String::new());
            }
            ('{', _) | ('}', _) => return Err(format!("lone `{c}` in print format {format:?} (write `{c}{c}`)")),
            _ => pieces.last_mut().expect("non-empty").push(c),
        }
    }
    Ok(pieces)
}

/// `text` escaped for a [`Op::Print`] format: every brace doubled.
pub fn print_escape(text: &str) -> String {
    text.replace('{', "{{").replace('}', "}}")
}

impl Op {
    /// The op's name in the printed form.
    pub fn name(&self) -> String {
        match self {
            Op::Const { .. } => "const".into(),
            Op::Undef { .. } => "undef".into(),
            Op::Special(s) => s.name(),
            Op::Param { .. } => "param".into(),
            Op::Binary { op, .. } => op.name().into(),
            Op::Unary { op, .. } => op.name().into(),
            Op::Fma { .. } => "fma".into(),
            Op::Cmp { op, .. } => format!("cmp.{}", op.name()),
            Op::Select { .. } => "select".into(),
            Op::Cast { to, .. } => format!("cast.{to}"),
            Op::Bitcast { .. } => "bitcast".into(),
            Op::Pack { .. } => "pack".into(),
            Op::Extract { .. } => "extract".into(),
            Op::Insert { .. } => "insert".into(),
            Op::Lop3 { .. } => "lop3.b32".into(),
            Op::Prmt { .. } => "prmt.b32".into(),
            Op::LoadGlobal { .. } => "ld.global".into(),
            Op::StoreGlobal { .. } => "st.global".into(),
            Op::AtomicAddGlobal { .. } => "red.global.add".into(),
            Op::LoadShared { .. } => "ld.shared".into(),
            Op::StoreShared { .. } => "st.shared".into(),
            Op::CpAsync { bytes, .. } => format!("cp.async.{bytes}"),
            Op::CpAsyncCommit => "cp.async.commit_group".into(),
            Op::CpAsyncWait { n } => format!("cp.async.wait_group {n}"),
            Op::BarSync => "bar.sync".into(),
            Op::Shfl { mode, .. } => format!("shfl.sync.{}", mode.name()),
            Op::Ldmatrix { count, trans, .. } => format!("ldmatrix.x{count}{}", if *trans { ".trans" } else { "" }),
            Op::Stmatrix { count, trans, .. } => format!("stmatrix.x{count}{}", if *trans { ".trans" } else { "" }),
            Op::Mma { kind, .. } => format!("mma.sync.{}", kind.name()),
            Op::For { .. } => "for".into(),
            Op::If { .. } => "if".into(),
            Op::While { .. } => "while".into(),
            Op::Print { .. } => "print".into(),
        }
    }

    /// The registers the op reads (not those of nested blocks).
    pub fn operands(&self) -> Vec<Reg> {
        let opt = |r: &Option<Reg>| r.iter().copied().collect::<Vec<_>>();
        match self {
            Op::Const { .. } | Op::Undef { .. } | Op::Special(_) | Op::Param { .. } => vec![],
            Op::CpAsyncCommit | Op::CpAsyncWait { .. } | Op::BarSync => vec![],
            Op::Binary { a, b, .. } | Op::Cmp { a, b, .. } => vec![*a, *b],
            Op::Unary { a, .. } | Op::Cast { a, .. } | Op::Bitcast { a, .. } | Op::Extract { a, .. } => vec![*a],
            Op::Fma { a, b, c } | Op::Lop3 { a, b, c, .. } => vec![*a, *b, *c],
            Op::Select { cond, a, b } => vec![*cond, *a, *b],
            Op::Pack { elems } => elems.clone(),
            Op::Insert { a, value, .. } => vec![*a, *value],
            Op::Prmt { a, b, sel } => vec![*a, *b, *sel],
            Op::LoadGlobal { offset, pred, other, .. } => [vec![*offset], opt(pred), opt(other)].concat(),
            Op::StoreGlobal { offset, value, pred, .. } | Op::StoreShared { offset, value, pred, .. } | Op::AtomicAddGlobal { offset, value, pred, .. } => {
                [vec![*offset, *value], opt(pred)].concat()
            }
            Op::LoadShared { offset, .. } | Op::Ldmatrix { offset, .. } => vec![*offset],
            Op::CpAsync { soffset, goffset, pred, .. } => [vec![*soffset, *goffset], opt(pred)].concat(),
            Op::Shfl { value, b, .. } => vec![*value, *b],
            Op::Stmatrix { offset, value, .. } => vec![*offset, *value],
            Op::Mma { a, b, c, .. } => vec![*a, *b, *c],
            Op::For { lo, hi, step, init, .. } => [vec![*lo, *hi, *step], init.clone()].concat(),
            Op::If { cond, .. } => vec![*cond],
            Op::While { init, .. } => init.clone(),
            Op::Print { args, .. } => args.clone(),
        }
    }

    /// Nested blocks.
    pub fn blocks(&self) -> Vec<&Block> {
        match self {
            Op::For { body, .. } => vec![body],
            Op::If { then_block, else_block, .. } => vec![then_block, else_block],
            Op::While { cond, body, .. } => vec![cond, body],
            _ => vec![],
        }
    }

    /// Whether all threads of a warp (those of `mask` for `shfl`) must execute it together.
    pub fn is_warp_collective(&self) -> bool {
        matches!(self, Op::Shfl { .. } | Op::Ldmatrix { .. } | Op::Stmatrix { .. } | Op::Mma { .. })
    }
}

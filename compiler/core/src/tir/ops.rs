//! Operations of the tile IR.

use super::ValueId;

/// Scheduling hints of a `for` loop; they never change what the loop computes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LoopHints {
    /// `unroll` (Some(0): fully) or `unroll(N)`.
    pub unroll: Option<u32>,
    /// `pipeline(STAGES)`: overlap the loads of the next STAGES - 1 iterations with this one.
    pub pipeline: Option<u32>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    /// Integer division truncates toward zero (as C and PTX do); float division is IEEE.
    Div,
    /// Integer remainder takes the sign of the dividend.
    Rem,
    Min,
    Max,
    /// Logical on bool, bitwise on integers.
    And,
    Or,
}

/// Comparisons; a NaN operand makes every comparison false except `ne` (IEEE). Shared by the tile IR
/// and the thread-level program, so both executors decide from one table ([`CmpOp::holds`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    pub fn name(self) -> &'static str {
        match self {
            CmpOp::Eq => "eq",
            CmpOp::Ne => "ne",
            CmpOp::Lt => "lt",
            CmpOp::Le => "le",
            CmpOp::Gt => "gt",
            CmpOp::Ge => "ge",
        }
    }

    /// Whether the comparison holds for operands ordered `ord`; `None` (a NaN operand: unordered)
    /// satisfies only `ne`.
    pub fn holds(self, ord: Option<std::cmp::Ordering>) -> bool {
        use std::cmp::Ordering;
        match ord {
            None => self == CmpOp::Ne,
            Some(o) => match self {
                CmpOp::Eq => o == Ordering::Equal,
                CmpOp::Ne => o != Ordering::Equal,
                CmpOp::Lt => o == Ordering::Less,
                CmpOp::Le => o != Ordering::Greater,
                CmpOp::Gt => o == Ordering::Greater,
                CmpOp::Ge => o != Ordering::Less,
            },
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnaryOp {
    Neg,
    Not,
}

/// A constant; its dtype is the result's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Literal {
    Int(i64),
    Float(f64),
    Bool(bool),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    /// A scalar constant of the result's dtype.
    Const(Literal),
    /// `block.x|y|z`: the index of this thread block in the grid (i64).
    BlockIndex(u8),
    /// The run-time size of symbolic dimension `dims[i]` (i64).
    DimSize(usize),
    /// The value of scalar parameter `params[i]`.
    ScalarParam(usize),
    Unary(UnaryOp, ValueId),
    /// Elementwise; both operands have the result's type (broadcasts are explicit).
    Binary(BinaryOp, ValueId, ValueId),
    /// Elementwise comparison of two values of one type; the result is bool of the same shape.
    Compare(CmpOp, ValueId, ValueId),
    /// Elementwise conversion to the result's dtype (docs/dtypes.md gives the rules).
    Cast(ValueId),
    /// A scalar repeated into a tile of the result's shape.
    Splat(ValueId),
    /// A tile broadcast to the result's shape along its size-1 dimensions (and new leading ones).
    Broadcast(ValueId),
    /// Elementwise math function on a float tile or scalar (`abs` also on signed integers);
    /// computed exactly in f64 and rounded once to the dtype (docs/ops.md).
    Math(MathOp, ValueId),
    /// `where(cond, a, b)`: elementwise select; all three have the result's shape, `cond` is bool,
    /// `a` and `b` have the result's type.
    Where(ValueId, ValueId, ValueId),
    /// `a * b + c` with one rounding to the dtype; all operands have the result's type (floats).
    Fma(ValueId, ValueId, ValueId),
    /// Matrix product `acc + a @ b`: `a` is `[M, K]`, `b` is `[K, N]` of one dtype, `acc` has the
    /// result's type `[M, N]` (f32 for float inputs, i32 for integer inputs). Each output is the
    /// exact sum of the accumulator and the products, rounded (integers: wrapped) once (docs/ops.md).
    Dot { a: ValueId, b: ValueId, acc: ValueId },
    /// A reduction over dimension `dim` of `value` (every dimension when `None`); the result type
    /// says whether the dimension is kept (size 1) or removed, and a full reduction without keepdim
    /// gives a scalar.
    Reduce { op: ReduceOp, value: ValueId, dim: Option<usize> },
    /// Inclusive prefix sum along `dim`, sequential (rounded after every step for floats).
    Cumsum { value: ValueId, dim: usize },
    /// Result dimension `i` is dimension `perm[i]` of `value` (`transpose`, `permute`).
    Permute { value: ValueId, perm: Vec<usize> },
    /// The same elements, row-major, in the result's shape (`reshape`, `squeeze`, `unsqueeze`).
    Reshape(ValueId),
    /// Tiles `value` `reps[i]` times along dimension `i` (numpy.tile with equal ranks).
    Repeat { value: ValueId, reps: Vec<u64> },
    /// The i64 tile `start, start + 1, ...` of the result's (1-D) shape.
    Arange { start: i64 },
    /// Reinterprets the bits of a tile (`view<T>`): the codes of each row are packed little-endian,
    /// LSB-first, and read back as the result's dtype; only the last dimension changes.
    Bitcast(ValueId),
    /// Adds `value` into tensor `params[tensor]` starting at `offsets`, bounds-masked like `store`
    /// (integers wrap, floats round to the tensor's dtype). No result.
    AtomicAdd { tensor: usize, offsets: Vec<ValueId>, value: ValueId },
    /// Debug print of `format` and the values, one line per block. No result.
    Print { format: String, args: Vec<ValueId> },
    /// Reads a tile of the result's shape from tensor `params[tensor]` starting at `offsets` (one i64
    /// per dimension). Elements outside the tensor read as zero: loads are bounds-masked.
    Load { tensor: usize, offsets: Vec<ValueId> },
    /// Writes `value` into tensor `params[tensor]` starting at `offsets`; elements that fall outside
    /// the tensor, or where the bool tile `mask` (of the value's shape) is false, are not written.
    Store { tensor: usize, offsets: Vec<ValueId>, value: ValueId, mask: Option<ValueId> },
    /// `for iv in range(start, end, step)` with loop-carried values: the body's arguments are the
    /// induction variable then the carried values (initialised from `inits`); the body yields the
    /// next carried values; the instruction's results are the final carried values. `step` > 0.
    For { start: ValueId, end: ValueId, step: i64, inits: Vec<ValueId>, body: super::Block, hints: LoopHints },
    /// `if cond { then } else { els }` on a scalar bool: both blocks take no arguments and yield the
    /// values of the variables either assigns; the instruction's results are the taken block's yields.
    If { cond: ValueId, then: super::Block, els: super::Block },
    /// `while`: `cond` takes the carried values as arguments and yields one bool (its last yield);
    /// `body` takes the carried values and yields the next ones; the results are the final carried values.
    While { inits: Vec<ValueId>, cond: super::Block, body: super::Block },
    /// Reads a tile of the result's shape from shared memory (accesses must be in bounds).
    LoadShared(super::SharedView),
    /// Writes a tile into shared memory.
    StoreShared { view: super::SharedView, value: ValueId },
    /// Starts an asynchronous copy of the tile at `view` from tensor `params[tensor]` at `offsets`
    /// (elements outside the tensor are filled with zeros); it belongs to the open copy group.
    CopyAsync { view: super::SharedView, tensor: usize, offsets: Vec<ValueId>, shape: Vec<u64> },
    /// Closes the open group of asynchronous copies.
    CommitGroup,
    /// Waits until at most `n` committed groups of copies are still in flight.
    WaitGroup(u32),
    /// Every thread of the block waits here; shared-memory writes before it are visible after it.
    Barrier,
    /// The same tile, with the register layout it must have (`layout(x, L)`): a constraint for layout
    /// inference and code generation; it does not change any value.
    Annotate(ValueId, super::LayoutConst),
    /// `thread_ids(L)`: an i64 tile of the layout's shape holding, for each element, the thread that
    /// holds it under the layout (which has no replication).
    ThreadIds(super::LayoutConst),
    /// `threads()`: the number of threads of the block (i64).
    Threads,
    /// Leaves the innermost loop; the operands are the loop's carried values at this point.
    Break(Vec<ValueId>),
    /// Ends this iteration of the innermost loop; the operands are the carried values for the next one.
    Continue(Vec<ValueId>),
}

impl Op {
    /// The values this instruction reads directly (not those read inside its blocks).
    pub fn operands(&self) -> Vec<ValueId> {
        match self {
            Op::Const(_) | Op::BlockIndex(_) | Op::DimSize(_) | Op::ScalarParam(_) | Op::Arange { .. } => vec![],
            Op::CommitGroup | Op::WaitGroup(_) | Op::Barrier | Op::ThreadIds(_) | Op::Threads => vec![],
            Op::Unary(_, a) | Op::Cast(a) | Op::Splat(a) | Op::Broadcast(a) | Op::Math(_, a) | Op::Reshape(a) | Op::Bitcast(a) | Op::Annotate(a, _) => vec![*a],
            Op::Reduce { value, .. } | Op::Cumsum { value, .. } | Op::Permute { value, .. } | Op::Repeat { value, .. } => vec![*value],
            Op::Binary(_, a, b) | Op::Compare(_, a, b) => vec![*a, *b],
            Op::Where(a, b, c) | Op::Fma(a, b, c) | Op::Dot { a, b, acc: c } => vec![*a, *b, *c],
            Op::AtomicAdd { offsets, value, .. } => offsets.iter().copied().chain([*value]).collect(),
            Op::Print { args, .. } | Op::Break(args) | Op::Continue(args) => args.clone(),
            Op::Load { offsets, .. } => offsets.clone(),
            Op::Store { offsets, value, mask, .. } => offsets.iter().copied().chain([*value]).chain(*mask).collect(),
            Op::For { start, end, inits, .. } => [*start, *end].into_iter().chain(inits.iter().copied()).collect(),
            Op::If { cond, .. } => vec![*cond],
            Op::While { inits, .. } => inits.clone(),
            Op::LoadShared(view) => view.offsets.clone(),
            Op::StoreShared { view, value } => view.offsets.iter().copied().chain([*value]).collect(),
            Op::CopyAsync { view, offsets, .. } => view.offsets.iter().chain(offsets).copied().collect(),
        }
    }

    /// The operation's name in the textual IR and in messages.
    pub fn name(&self) -> &'static str {
        match self {
            Op::Const(_) => "const",
            Op::BlockIndex(_) => "block_index",
            Op::DimSize(_) => "dim",
            Op::ScalarParam(_) => "param",
            Op::Unary(..) => "unary",
            Op::Binary(..) => "binary",
            Op::Compare(..) => "cmp",
            Op::Cast(_) => "cast",
            Op::Splat(_) => "splat",
            Op::Broadcast(_) => "broadcast",
            Op::Math(..) => "math",
            Op::Where(..) => "where",
            Op::Fma(..) => "fma",
            Op::Dot { .. } => "dot",
            Op::Reduce { .. } => "reduce",
            Op::Cumsum { .. } => "cumsum",
            Op::Permute { .. } => "permute",
            Op::Reshape(_) => "reshape",
            Op::Repeat { .. } => "repeat",
            Op::Arange { .. } => "arange",
            Op::Bitcast(_) => "bitcast",
            Op::AtomicAdd { .. } => "atomic_add",
            Op::Print { .. } => "print",
            Op::Load { .. } => "load",
            Op::Store { .. } => "store",
            Op::For { .. } => "for",
            Op::If { .. } => "if",
            Op::While { .. } => "while",
            Op::LoadShared(_) => "load_shared",
            Op::StoreShared { .. } => "store_shared",
            Op::CopyAsync { .. } => "copy_async",
            Op::CommitGroup => "commit_group",
            Op::WaitGroup(_) => "wait_group",
            Op::Barrier => "barrier",
            Op::Annotate(..) => "layout",
            Op::ThreadIds(_) => "thread_ids",
            Op::Threads => "threads",
            Op::Break(_) => "break",
            Op::Continue(_) => "continue",
        }
    }
}

/// Elementwise math functions (`neg` is [`UnaryOp::Neg`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MathOp {
    Exp,
    Exp2,
    Log,
    Log2,
    Sqrt,
    Rsqrt,
    Abs,
}

impl MathOp {
    pub fn name(self) -> &'static str {
        match self {
            MathOp::Exp => "exp",
            MathOp::Exp2 => "exp2",
            MathOp::Log => "log",
            MathOp::Log2 => "log2",
            MathOp::Sqrt => "sqrt",
            MathOp::Rsqrt => "rsqrt",
            MathOp::Abs => "abs",
        }
    }
}

/// Reductions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReduceOp {
    Sum,
    Max,
    Min,
    Any,
    All,
}

impl ReduceOp {
    pub fn name(self) -> &'static str {
        match self {
            ReduceOp::Sum => "sum",
            ReduceOp::Max => "max",
            ReduceOp::Min => "min",
            ReduceOp::Any => "any",
            ReduceOp::All => "all",
        }
    }
}

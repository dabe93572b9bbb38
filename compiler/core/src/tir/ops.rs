//! Operations of the tile IR.

use super::ValueId;

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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
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
    /// Reads a tile of the result's shape from tensor `params[tensor]` starting at `offsets` (one i64
    /// per dimension). Elements outside the tensor read as zero: loads are bounds-masked.
    Load { tensor: usize, offsets: Vec<ValueId> },
    /// Writes `value` into tensor `params[tensor]` starting at `offsets`; elements that fall outside
    /// the tensor are not written.
    Store { tensor: usize, offsets: Vec<ValueId>, value: ValueId },
    /// `for iv in range(start, end, step)` with loop-carried values: the body's arguments are the
    /// induction variable then the carried values (initialised from `inits`); the body yields the
    /// next carried values; the instruction's results are the final carried values. `step` > 0.
    For { start: ValueId, end: ValueId, step: i64, inits: Vec<ValueId>, body: super::Block },
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
    /// Leaves the innermost loop; the operands are the loop's carried values at this point.
    Break(Vec<ValueId>),
    /// Ends this iteration of the innermost loop; the operands are the carried values for the next one.
    Continue(Vec<ValueId>),
}

impl Op {
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
            Op::Break(_) => "break",
            Op::Continue(_) => "continue",
        }
    }
}

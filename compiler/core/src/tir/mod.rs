//! The tile IR: a typed, structured SSA program per kernel.
//!
//! Values live in an arena on the [`Kernel`] and are named by [`ValueId`] handles; instructions sit
//! in nested [`Block`]s (a `for` owns its body), so structured control flow maps one to one onto
//! MLIR's `scf` dialect. Compile-time parameters are already substituted: every tile shape is static.
//! Invariants (checked by `verify`): every operand is defined before use in an enclosing block,
//! operand types match what the op requires, loads and stores index tensors of the right rank.

mod ops;
mod print;
mod types;
mod verify;

pub use ops::{BinaryOp, CmpOp, Literal, LoopHints, MathOp, Op, ReduceOp, UnaryOp};
pub use print::print_program;
pub use types::Type;
pub use verify::verify_kernel;

use crate::syntax::Span;
use tilec_dtype::DType;

/// A handle to a value of one kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ValueId(pub u32);

impl ValueId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct ValueData {
    pub ty: Type,
    /// Where the value was computed, for run-time error reports.
    pub span: Span,
}

/// A sequence of instructions with block arguments and yielded values.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Block {
    pub args: Vec<ValueId>,
    pub insts: Vec<Inst>,
    pub yields: Vec<ValueId>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Inst {
    pub op: Op,
    pub results: Vec<ValueId>,
    pub span: Span,
}

/// One extent of a tensor parameter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Dim {
    /// Symbolic: `kernel.dims[i]`, known at launch from the bound array.
    Sym(usize),
    Fixed(u64),
}

#[derive(Clone, Debug, PartialEq)]
pub enum ParamKind {
    /// A tensor in global memory, densely packed, row-major unless `strides` (in elements) are given.
    Tensor { dtype: DType, shape: Vec<Dim>, strides: Option<Vec<Dim>> },
    Scalar(DType),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    pub name: String,
    pub kind: ParamKind,
    pub span: Span,
}

/// An integer expression over symbolic dimensions, evaluated at launch (grid sizes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IndexExpr {
    Const(i64),
    Dim(usize),
    Add(Box<IndexExpr>, Box<IndexExpr>),
    Sub(Box<IndexExpr>, Box<IndexExpr>),
    Mul(Box<IndexExpr>, Box<IndexExpr>),
    /// Floor division of non-negative operands.
    Div(Box<IndexExpr>, Box<IndexExpr>),
    Rem(Box<IndexExpr>, Box<IndexExpr>),
    /// Ceiling division `(a + b - 1) / b`.
    Cdiv(Box<IndexExpr>, Box<IndexExpr>),
    Min(Box<IndexExpr>, Box<IndexExpr>),
    Max(Box<IndexExpr>, Box<IndexExpr>),
}

impl IndexExpr {
    /// Evaluates with the given dimension sizes; `None` on division by zero or overflow.
    pub fn eval(&self, dims: &[i64]) -> Option<i64> {
        let bin = |a: &IndexExpr, b: &IndexExpr| Some((a.eval(dims)?, b.eval(dims)?));
        match self {
            IndexExpr::Const(c) => Some(*c),
            IndexExpr::Dim(i) => dims.get(*i).copied(),
            IndexExpr::Add(a, b) => bin(a, b).and_then(|(a, b)| a.checked_add(b)),
            IndexExpr::Sub(a, b) => bin(a, b).and_then(|(a, b)| a.checked_sub(b)),
            IndexExpr::Mul(a, b) => bin(a, b).and_then(|(a, b)| a.checked_mul(b)),
            IndexExpr::Div(a, b) => bin(a, b).and_then(|(a, b)| a.checked_div_euclid(b)),
            IndexExpr::Rem(a, b) => bin(a, b).and_then(|(a, b)| a.checked_rem_euclid(b)),
            IndexExpr::Cdiv(a, b) => bin(a, b).and_then(|(a, b)| if b == 0 { None } else { Some(a.div_euclid(b) + (a.rem_euclid(b) != 0) as i64) }),
            IndexExpr::Min(a, b) => bin(a, b).map(|(a, b)| a.min(b)),
            IndexExpr::Max(a, b) => bin(a, b).map(|(a, b)| a.max(b)),
        }
    }

    /// Writes the expression with dimension names, e.g. `cdiv(N, 1024)`.
    pub fn display(&self, dims: &[String]) -> String {
        let bin = |op: &str, a: &IndexExpr, b: &IndexExpr| format!("({} {op} {})", a.display(dims), b.display(dims));
        let call = |f: &str, a: &IndexExpr, b: &IndexExpr| format!("{f}({}, {})", a.display(dims), b.display(dims));
        match self {
            IndexExpr::Const(c) => c.to_string(),
            IndexExpr::Dim(i) => dims[*i].clone(),
            IndexExpr::Add(a, b) => bin("+", a, b),
            IndexExpr::Sub(a, b) => bin("-", a, b),
            IndexExpr::Mul(a, b) => bin("*", a, b),
            IndexExpr::Div(a, b) => bin("/", a, b),
            IndexExpr::Rem(a, b) => bin("%", a, b),
            IndexExpr::Cdiv(a, b) => call("cdiv", a, b),
            IndexExpr::Min(a, b) => call("min", a, b),
            IndexExpr::Max(a, b) => call("max", a, b),
        }
    }
}

/// A value given to a compile-time parameter.
#[derive(Clone, Debug, PartialEq)]
pub enum ConstValue {
    Int(i64),
    Bool(bool),
    DType(DType),
    Layout(LayoutConst),
}

/// A register layout written as a layout-calculator expression (docs/layouts.md).
#[derive(Clone, Debug, PartialEq)]
pub struct LayoutConst {
    /// The expression as written, e.g. `spatial(8,4).local(1,2)`.
    pub text: String,
    pub tv: tilec_layout::TvLayout,
}

impl std::fmt::Display for ConstValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConstValue::Int(v) => write!(f, "{v}"),
            ConstValue::Bool(v) => write!(f, "{v}"),
            ConstValue::DType(d) => write!(f, "{d}"),
            ConstValue::Layout(l) => write!(f, "{:?}", l.text),
        }
    }
}

/// A buffer in shared memory.
#[derive(Clone, Debug, PartialEq)]
pub struct SharedBuffer {
    pub dtype: DType,
    pub shape: Vec<u64>,
    pub span: Span,
}

impl SharedBuffer {
    pub fn nbytes(&self) -> usize {
        self.dtype.nbytes(self.shape.iter().product::<u64>() as usize)
    }
}

/// A rectangular region of a shared buffer: an offset per buffer dimension, and the buffer dimensions
/// the tile spans (the others are fixed at their offset: `s[stage]` spans all but the first).
#[derive(Clone, Debug, PartialEq)]
pub struct SharedView {
    pub buffer: usize,
    pub offsets: Vec<ValueId>,
    pub spans: Vec<usize>,
}

/// A kernel's schedule space: the compile-time parameters an autotuner may choose, and every
/// combination of their values that satisfies the declared constraints.
#[derive(Clone, Debug, PartialEq)]
pub struct TuneSpace {
    pub params: Vec<String>,
    /// Each point gives one value per entry of `params`, in order.
    pub points: Vec<Vec<ConstValue>>,
}

/// One kernel, specialised for its compile-time parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct Kernel {
    pub name: String,
    pub consts: Vec<(String, ConstValue)>,
    pub params: Vec<Param>,
    /// Symbolic dimension names, in order of first appearance in the parameters.
    pub dims: Vec<String>,
    pub grid: [IndexExpr; 3],
    pub warps: u32,
    /// The schedule space declared with `tune { ... }`, if any.
    pub tune: Option<TuneSpace>,
    /// Shared-memory buffers, one per `shared<T>[...]` allocation, live for the whole block.
    pub shared: Vec<SharedBuffer>,
    pub values: Vec<ValueData>,
    pub body: Block,
    pub span: Span,
}

impl Kernel {
    pub fn ty(&self, v: ValueId) -> &Type {
        &self.values[v.index()].ty
    }

    pub fn span_of(&self, v: ValueId) -> Span {
        self.values[v.index()].span
    }

    /// Threads per block: `warps` times the 32-lane warp of the tile language's model.
    pub fn threads(&self) -> u32 {
        self.warps * 32
    }
}

/// Every kernel of one source file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Program {
    pub kernels: Vec<Kernel>,
}

impl Program {
    pub fn kernel(&self, name: &str) -> Option<&Kernel> {
        self.kernels.iter().find(|k| k.name == name)
    }
}

impl Kernel {
    /// The kernel's run-time signature as written: `vector_add(a: global f32[N], alpha: f32)`.
    pub fn signature(&self) -> String {
        let params: Vec<String> = self.params.iter().map(|p| self.signature_of(p)).collect();
        format!("{}({})", self.name, params.join(", "))
    }

    /// One parameter as written: `a: global f32[M, K] strides(LDA, 1)`, `alpha: f32`.
    pub fn signature_of(&self, p: &Param) -> String {
        match &p.kind {
                ParamKind::Scalar(d) => format!("{}: {d}", p.name),
                ParamKind::Tensor { dtype, shape, strides } => {
                    let name = |d: &Dim| match d {
                        Dim::Sym(i) => self.dims[*i].clone(),
                        Dim::Fixed(n) => n.to_string(),
                    };
                    let dims: Vec<String> = shape.iter().map(name).collect();
                    let strides = strides.as_ref().map(|s| format!(" strides({})", s.iter().map(name).collect::<Vec<_>>().join(", "))).unwrap_or_default();
                    format!("{}: global {dtype}[{}]{strides}", p.name, dims.join(", "))
                }
        }
    }

    /// Whether the kernel reads tensor parameter `param`: a `load`, an `atomic_add` (read-modify-write)
    /// or a `copy_async` from it anywhere, in any nested block.
    pub fn reads(&self, param: usize) -> bool {
        fn walk(b: &Block, param: usize) -> bool {
            b.insts.iter().any(|i| match &i.op {
                Op::Load { tensor, .. } | Op::CopyAsync { tensor, .. } | Op::AtomicAdd { tensor, .. } => *tensor == param,
                Op::For { body, .. } => walk(body, param),
                Op::If { then, els, .. } => walk(then, param) || walk(els, param),
                Op::While { cond, body, .. } => walk(cond, param) || walk(body, param),
                _ => false,
            })
        }
        walk(&self.body, param)
    }
}

//! The abstract syntax tree, as written, with a source span on every node.
//!
//! The AST keeps the user's names and shapes unresolved: whether `N` is a symbolic dimension, a
//! compile-time parameter or a local is decided by semantic analysis (`sema`).

use super::span::Span;

/// A name as written, with its span.
#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// One source file.
#[derive(Clone, Debug, PartialEq)]
pub struct Module {
    pub items: Vec<Item>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    Kernel(Kernel),
    Function(Function),
    Use(Use),
}

/// `fn NAME<CONSTS>(PARAMS) { BODY }`: a device function, inlined at every call.
#[derive(Clone, Debug, PartialEq)]
pub struct Function {
    pub name: Ident,
    pub consts: Vec<ConstParam>,
    pub params: Vec<FnParam>,
    pub body: Block,
    pub span: Span,
}

/// A function parameter with an optional type: `x`, `x: f32`, `x: T[M, N]`, `x: global f16[K]`.
#[derive(Clone, Debug, PartialEq)]
pub struct FnParam {
    pub name: Ident,
    pub ty: Option<TypeAnn>,
    pub span: Span,
}

/// A type as written on a function parameter; names in `dims` that are not known bind to the
/// argument's extents (generic shapes), and a `dtype` name that is not known binds to its dtype.
#[derive(Clone, Debug, PartialEq)]
pub struct TypeAnn {
    pub global: bool,
    pub dtype: Ident,
    /// `None` for a scalar.
    pub dims: Option<Vec<Expr>>,
    pub span: Span,
}

/// `use std::softmax;` or `use std::softmax::rows;` (or a path relative to the importing file).
#[derive(Clone, Debug, PartialEq)]
pub struct Use {
    pub path: Vec<Ident>,
    pub span: Span,
}

/// `tune { BM in [64, 128], BN in [64, 128], require(BM * BN <= 16384) }`: a schedule space.
#[derive(Clone, Debug, PartialEq)]
pub struct Tune {
    pub entries: Vec<TuneEntry>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TuneEntry {
    /// A compile-time parameter and the values to try.
    Param { name: Ident, values: Vec<Expr> },
    /// A constraint every point of the space satisfies.
    Require(Expr),
}

/// `kernel NAME<CONSTS>(PARAMS) ATTRS { BODY }`
#[derive(Clone, Debug, PartialEq)]
pub struct Kernel {
    pub name: Ident,
    pub consts: Vec<ConstParam>,
    pub params: Vec<Param>,
    pub attrs: Vec<Attr>,
    pub tune: Option<Tune>,
    pub body: Block,
    pub span: Span,
}

/// A compile-time parameter `NAME: KIND = DEFAULT`.
#[derive(Clone, Debug, PartialEq)]
pub struct ConstParam {
    pub name: Ident,
    /// `int`, `bool` or `dtype`.
    pub kind: Ident,
    pub default: Option<Expr>,
    pub span: Span,
}

/// A run-time parameter.
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    pub name: Ident,
    pub ty: ParamType,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ParamType {
    /// `global DTYPE[DIM, ...] strides(S, ...)`: a tensor in global memory; a dimension or stride is a
    /// symbolic name or a compile-time expression; without `strides` the tensor is row-major.
    Global { dtype: Ident, dims: Vec<Expr>, strides: Option<Vec<Expr>> },
    /// `DTYPE`: a scalar passed by value.
    Scalar { dtype: Ident },
}

/// A launch attribute: `grid(...)`, `warps(...)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Attr {
    pub name: Ident,
    pub args: Vec<Expr>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    pub stmts: Vec<Stmt>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Stmt {
    pub kind: StmtKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum StmtKind {
    /// `let NAME = VALUE;`
    Let { name: Ident, value: Expr },
    /// `NAME = VALUE;`
    Assign { name: Ident, value: Expr },
    /// `for VAR in range(START, END, STEP) HINTS { BODY }`; hints are `unroll`, `unroll(N)`,
    /// `pipeline(STAGES)`.
    For { var: Ident, iter: Expr, hints: Vec<Attr>, body: Block },
    /// `if COND { THEN } else { ELSE }`; `else if` nests another `if` in the else block.
    If { cond: Expr, then: Block, els: Option<Block> },
    /// `while COND { BODY }`
    While { cond: Expr, body: Block },
    Break,
    Continue,
    /// `return VALUE;` — the last statement of a function.
    Return(Option<Expr>),
    /// An expression evaluated for its effect, such as `store(...)`.
    Expr(Expr),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Rem => "%",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::And => "&&",
            BinOp::Or => "||",
        }
    }

    pub fn is_comparison(self) -> bool {
        matches!(self, BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge)
    }

    pub fn is_logical(self) -> bool {
        matches!(self, BinOp::And | BinOp::Or)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnOp {
    Neg,
    Not,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Int(i64),
    Float(f64),
    Bool(bool),
    /// A string literal, unescaped (only `print` takes one).
    Str(String),
    Name(Ident),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    Unary(UnOp, Box<Expr>),
    /// `module::callee<generics>(args)`; `callee<generics>[args]` is written with `bracket = true`
    /// (`zeros<f32>[BM, BN]`).
    Call { module: Option<Ident>, callee: Ident, generics: Vec<Expr>, args: Vec<Expr>, named: Vec<NamedArg>, bracket: bool },
    /// `base.field`, e.g. `block.x`.
    Field(Box<Expr>, Ident),
    /// `base[i.., j]`: a view of a global tensor at an offset.
    Index(Box<Expr>, Vec<IndexArg>),
    /// `[a, b, c]`: a list, used for shapes.
    List(Vec<Expr>),
}

/// A named call argument `name: value`, written after the positional ones (`load(v, [8], other: 1.0)`).
#[derive(Clone, Debug, PartialEq)]
pub struct NamedArg {
    pub name: Ident,
    pub value: Expr,
}

/// One position inside `[...]` after a tensor.
#[derive(Clone, Debug, PartialEq)]
pub enum IndexArg {
    /// `i..`: the view starts at `i` along this dimension and keeps it.
    From(Expr),
    /// `..`: the whole dimension.
    Full(Span),
    /// `i`: the view takes index `i` along this dimension and drops it (`s[stage]`).
    At(Expr),
}

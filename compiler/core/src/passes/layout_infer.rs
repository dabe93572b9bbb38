//! Layout inference: a register layout ([`TvLayout`]) for every tile value of a kernel, and the
//! conversions needed where a use wants a tile in another layout than the one it has.
//!
//! # Semantics
//!
//! 1. **Threads.** Every layout spreads its tile over exactly `kernel.warps * 32` threads (the
//!    block), Tilus style: when a tile has fewer elements than the block has threads (or an
//!    instruction needs several threads to see the same data), elements are replicated.
//!    Scalars have no layout.
//! 2. **Seeds** fix layouts, in priority order:
//!    1. `layout(x, L)` (`Op::Annotate`): the user's layout, a hard constraint on the tile `x` and on
//!       the annotation's result. A tile annotated twice with different layouts (directly, or through
//!       a chain of annotations), or an annotation whose shape or thread count does not fit, is a
//!       diagnostic. Where `x`'s layout is fixed by its producer (a reduction), `x` is converted at
//!       the annotation.
//!    2. `dot(a, b, acc)`: for f16/bf16 operands with `M % 16 == 0`, `N % 8 == 0`, `K % 16 == 0`
//!       the `mma.sync.m16n8k16` fragments tiled over the warps ([`DotKind::Mma`]):
//!       `C = replicate(r) * spatial(wm, wn) * local(M/16wm, N/8wn) * mma_c`, A and B the matching
//!       operand tilings (the warps of a row share A's rows, those of a column B's columns). The
//!       arrangement uses as many warps as divide the atom grid, then the squarest per-warp block,
//!       then more warps along M. Otherwise an FMA plan around a blocked C ([`DotKind::Fma`]): the
//!       thread holding `C[m, n]` holds row `m` of A and column `n` of B. When an annotation already
//!       fixed the result's or accumulator's layout, the dot is planned around it (mma if it is one
//!       of the mma tilings, FMA otherwise).
//!    3. Global `load`: the coalesced, vectorised default ([`blocked`]): each thread holds up to
//!       16 contiguous bytes of the last dimension (`local(1, v)` innermost), consecutive threads
//!       hold consecutive vectors, repeated over the tile, extra threads replicate (along the
//!       dimension of unit stride instead of the last for a tensor with such `strides`). A load produces
//!       this layout unless an annotation reaches it; a dot's wish does not (the operand is converted
//!       at the dot, through shared memory, where an ldmatrix can build the fragments).
//!       `store`/`atomic_add` seed the same default on their value when nothing else decided it, but
//!       accept any layout (no conversion is recorded for a store).
//! 3. **Propagation.** A seed's layout spreads, with the seed's priority, to every value it
//!    determines without moving data between threads: through elementwise ops (unary, binary,
//!    compare, cast, where, fma, math, cumsum) in both directions; from a `broadcast`'s result to its
//!    operand (the broadcast dimensions become replication: `reduce(L, dims, keepdim)`); from a
//!    reduction's operand to its result (`TvLayout::reduce`); through `permute`, `reshape`, `repeat`
//!    (`local(reps) * L`) and `view` (slots regrouped along the last dimension) where the layout
//!    algebra gives an answer; between a loop's block arguments and results (the same registers),
//!    its initial values, yields, `break` and `continue` values; between an `if`'s results and both
//!    branches' yields; from a store's value to its mask. Splats, `arange`, `thread_ids` and shared
//!    memory loads take whatever their consumers want (shared memory is where layouts change for
//!    free); shared memory stores and `print` accept any layout. Each value is assigned once, by the
//!    highest-priority seed that reaches it (seeds of one priority in program order, breadth first:
//!    every annotation is seeded before any spreads, each dot spreads before the next is planned,
//!    loads spread before stores seed, and a loop's block arguments and results count as one node);
//!    that is the fixed point, reached after one visit per value. A value nothing reaches gets the
//!    blocked default for its shape (program order, then propagated like a seed of lowest priority).
//! 4. **Conflicts.** A use that needs its operand in another layout than the operand's records a
//!    [`Conversion`] at that use (user annotation > dot > load/store default decides which layout
//!    the value keeps). A result that its op cannot produce is never chosen: a reduction's result is
//!    what the reduction gives, a shape op's result takes a consumer's layout only if the op can
//!    produce it from some operand layout. Layout-algebra failures are reported as diagnostics at the
//!    op, never as panics.
//! 5. **Determinism.** The IR alone decides the result: seeds in program order, FIFO propagation,
//!    no hashing.

mod graph;
mod seeds;
mod solve;

pub(crate) use graph::Xf;
pub use seeds::{blocked, blocked_along, whole_tile};

use crate::diag::Diagnostic;
use crate::syntax::Span;
use crate::tir::{Kernel, ValueId};
use std::fmt::Write;
use tilec_layout::tv_factor::chain_string;
use tilec_layout::TvLayout;

/// Which decision gave a value its layout (the priorities of conflict resolution, lowest first).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Origin {
    /// Nothing reached it: the blocked default of its shape.
    Default,
    /// A global load or store.
    Memory,
    /// A `dot` operand, accumulator or result.
    Dot,
    /// A user annotation.
    Annotation,
}

/// The use that needed a conversion: the `operand`-th value of its `role` at op `op` (`Op::name`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct User {
    pub op: &'static str,
    pub operand: usize,
    pub role: Role,
}

/// How a use relates to the op it belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// An operand of the op itself, counted in the op's order (`dot`: a, b, acc; `where`: cond, a, b;
    /// `store`: the mask is 1; `break`/`continue`: the carried values).
    Operand,
    /// The initial value of carried value `operand` of a loop.
    Init,
    /// The value a loop body (or the then-block of an `if`) yields for carried value / result `operand`.
    Yield,
    /// The value the else-block of an `if` yields for result `operand`.
    ElseYield,
    /// A loop's block argument or result against its carried value (never converted: the same registers).
    Carried,
}

impl std::fmt::Display for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let role = match self.role {
            Role::Operand => "operand",
            Role::Init => "initial value",
            Role::Yield => "yield",
            Role::ElseYield => "else yield",
            Role::Carried => "carried value",
        };
        write!(f, "{} {role} {}", self.op, self.operand)
    }
}

/// Value `value` has layout `from` but the use at `at` needs it in layout `to`.
#[derive(Clone, Debug, PartialEq)]
pub struct Conversion {
    pub value: ValueId,
    pub from: TvLayout,
    pub to: TvLayout,
    pub at: Span,
    pub user: User,
}

/// How a dot is executed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DotKind {
    /// `mma.sync.m16n8k16` fragments; warps arranged `warps_m x warps_n`, `replicas` copies of that
    /// arrangement when the tile has fewer atoms than the block has warps.
    Mma { warps_m: i64, warps_n: i64, replicas: i64 },
    /// Scalar fused multiply-adds.
    Fma,
}

/// The layouts chosen for one dot.
#[derive(Clone, Debug, PartialEq)]
pub struct DotLayouts {
    pub result: ValueId,
    pub at: Span,
    pub kind: DotKind,
    pub a: TvLayout,
    pub b: TvLayout,
    pub c: TvLayout,
}

/// The result of layout inference for one kernel.
#[derive(Clone, Debug)]
pub struct Layouts {
    layouts: Vec<Option<TvLayout>>,
    origins: Vec<Option<Origin>>,
    conversions: Vec<Conversion>,
    dots: Vec<DotLayouts>,
    defs: Vec<ValueId>,
}

impl Layouts {
    /// The layout of a tile value (`None` for scalars).
    pub fn of(&self, v: ValueId) -> Option<&TvLayout> {
        self.layouts.get(v.index()).and_then(Option::as_ref)
    }

    /// Which decision gave `v` its layout.
    pub fn origin(&self, v: ValueId) -> Option<Origin> {
        self.origins.get(v.index()).copied().flatten()
    }

    /// Conversions, in program order of their uses.
    pub fn conversions(&self) -> &[Conversion] {
        &self.conversions
    }

    /// The plan of every dot, in program order.
    pub fn dots(&self) -> &[DotLayouts] {
        &self.dots
    }

    /// Every tile value (block arguments and results) in program order.
    pub fn tiles(&self) -> &[ValueId] {
        &self.defs
    }

    /// One line per tile value, `%N: f32[16, 64] spatial(16,8).local(1,8)  (memory)`, then the
    /// dots and conversions: the form snapshot tests and `--emit` use.
    pub fn display(&self, k: &Kernel) -> String {
        let mut out = format!("layouts of {} (warps {}):\n", k.name, k.warps);
        for &v in &self.defs {
            let origin = self.origin(v).map_or("?".to_string(), |o| format!("{o:?}").to_lowercase());
            let l = self.of(v).map_or("none".to_string(), show);
            writeln!(out, "  %{}: {} {l}  ({origin})", v.0, k.ty(v)).unwrap();
        }
        for d in &self.dots {
            writeln!(out, "  dot %{}: {:?}", d.result.0, d.kind).unwrap();
        }
        for c in &self.conversions {
            writeln!(out, "  convert %{} for {}: {} -> {}", c.value.0, c.user, show(&c.from), show(&c.to)).unwrap();
        }
        out
    }
}

/// A layout as a product of primitives when it is one (`spatial(8,4).local(1,2)`), else its
/// `tv(shape, layout)` form.
pub fn show(l: &TvLayout) -> String {
    match l.factorize() {
        Some(f) => chain_string(&f),
        None => l.to_string(),
    }
}

/// Infers register layouts for every tile value of `kernel` (semantics in the module docs).
pub fn infer(kernel: &Kernel) -> Result<Layouts, Diagnostic> {
    if kernel.warps == 0 {
        return Err(Diagnostic::at(kernel.span, format!("kernel `{}` has no warps to lay tiles out over", kernel.name), "warps(0)"));
    }
    let g = graph::build(kernel);
    solve::Solver::new(kernel, g).run()
}

//! The constraint graph of layout inference: one edge per use of a tile value, saying which layout
//! the use needs in terms of another value's layout, plus what fixes the layout of each definition.

use super::Role;
use crate::syntax::Span;
use crate::tir::{Block, Dim, Kernel, LayoutConst, Op, ParamKind, ValueId};
use tilec_layout::atoms::Operand;
use tilec_layout::{tv, TvLayout};

/// A shape operation between an operand and the op's result: how a layout of one gives the layout
/// of the other without moving data between threads.
#[derive(Clone, Debug, PartialEq)]
pub enum Xf {
    Permute(Vec<usize>),
    /// Operand shape, result shape.
    Reshape(Vec<i64>, Vec<i64>),
    /// Result shape, dimensions of the result that the operand lacks or has as 1 (broadcast).
    Broadcast { lead: usize, dims: Vec<usize> },
    Reduce { dims: Vec<usize>, keepdim: bool },
    Repeat(Vec<i64>),
    /// Bits per element of the operand and of the result (`view<T>` repacks the last dimension).
    Bitcast { rank: usize, from: i64, to: i64 },
}

impl Xf {
    /// The broadcast of a tile of shape `from` to shape `to` (leading dimensions added, size-1
    /// dimensions stretched).
    pub fn broadcast(from: &[i64], to: &[i64]) -> Xf {
        let lead = to.len().saturating_sub(from.len());
        let dims = (0..to.len()).filter(|&d| d < lead || (from.get(d - lead) == Some(&1) && to[d] != 1)).collect();
        Xf::Broadcast { lead, dims }
    }

    /// The result's layout when the operand has layout `l`, if the op can produce one in registers.
    pub fn forward(&self, l: &TvLayout) -> Option<TvLayout> {
        match self {
            Xf::Permute(p) => l.permute(p).ok(),
            Xf::Reshape(_, to) => l.reshape(to).ok(),
            Xf::Broadcast { .. } => None,
            Xf::Reduce { dims, keepdim } => l.reduce(dims, *keepdim).ok(),
            Xf::Repeat(reps) => tv::local(reps).ok()?.product(l).ok(),
            Xf::Bitcast { rank, from, to } => repack(l, *rank, *from, *to),
        }
    }

    /// The operand layout this op needs to produce its result in layout `l` in registers, if any.
    pub fn backward(&self, l: &TvLayout) -> Option<TvLayout> {
        match self {
            Xf::Permute(p) => {
                let mut inv = vec![0; p.len()];
                for (i, &d) in p.iter().enumerate() {
                    *inv.get_mut(d)? = i;
                }
                l.permute(&inv).ok()
            }
            Xf::Reshape(from, _) => l.reshape(from).ok(),
            Xf::Broadcast { lead, dims } => {
                let kept = l.reduce(dims, true).ok()?;
                if *lead == 0 {
                    return Some(kept);
                }
                kept.reduce(&(0..*lead).collect::<Vec<_>>(), false).ok()
            }
            Xf::Reduce { .. } => None,
            Xf::Repeat(reps) => l.div_left(&tv::local(reps).ok()?).ok(),
            Xf::Bitcast { rank, from, to } => repack(l, *rank, *to, *from),
        }
    }
}

/// A layout of `from`-bit elements seen as `to`-bit elements (last dimension rescaled): widening
/// groups `to/from` adjacent slots of one thread, narrowing splits each slot.
fn repack(l: &TvLayout, rank: usize, from: i64, to: i64) -> Option<TvLayout> {
    if rank == 0 {
        return None;
    }
    let mut unit = vec![1i64; rank];
    if from == to {
        Some(l.clone())
    } else if from > to && from % to == 0 {
        unit[rank - 1] = from / to;
        l.product(&tv::local(&unit).ok()?).ok()
    } else if to % from == 0 {
        unit[rank - 1] = to / from;
        l.div_right(&tv::local(&unit).ok()?).ok()
    } else {
        None
    }
}

/// What a use needs.
#[derive(Clone, Debug)]
pub enum Rel {
    /// The layout of value `r` (elementwise operands, carried values, masks); `produces` when `r`
    /// is the op's own result.
    Same { r: ValueId, produces: bool },
    /// `backward(layout(r))`, where `r` is the op's result; or nothing if `forward(layout(u))`
    /// already is `r`'s layout.
    Xf { r: ValueId, xf: Xf },
    /// A user annotation.
    Annotation(LayoutConst),
    /// Operand `which` of dot number `dot`.
    Dot { dot: usize, which: Operand },
    /// Block arguments and results of a loop: the same registers, they must agree.
    Tie { r: ValueId },
}

/// One use of a tile value `u`.
#[derive(Clone, Debug)]
pub struct Edge {
    pub u: ValueId,
    pub rel: Rel,
    pub at: Span,
    pub op: &'static str,
    pub operand: usize,
    pub role: Role,
}

impl Edge {
    /// The value whose layout this use follows, for propagation.
    pub fn other(&self) -> Option<ValueId> {
        match &self.rel {
            Rel::Same { r, .. } | Rel::Xf { r, .. } | Rel::Tie { r } => Some(*r),
            _ => None,
        }
    }
}

/// What may decide a definition's layout.
#[derive(Clone, Debug, PartialEq)]
pub enum Pin {
    /// Whoever reaches it first (elementwise results, splats, shared loads, carried values).
    Free,
    /// Its op (a global load, a dot) fixes it; only a user annotation overrides.
    Seed,
    /// The result of a shape op (edge index): its producer gives it, or a consumer whose layout the
    /// op can produce (`Xf::backward` succeeds).
    Derived(usize),
    /// The result of an annotation: the annotated layout.
    Annotated,
}

#[derive(Clone, Debug)]
pub struct DotSite {
    pub a: ValueId,
    pub b: ValueId,
    pub acc: ValueId,
    pub result: ValueId,
    pub at: Span,
}

/// Everything layout inference needs from a kernel.
#[derive(Debug, Default)]
pub struct Graph {
    pub edges: Vec<Edge>,
    /// Per value: edges where it is the used value `u`, and edges that follow it (`other()`).
    pub uses: Vec<Vec<usize>>,
    pub followers: Vec<Vec<usize>>,
    pub pins: Vec<Pin>,
    /// Tile definitions (block arguments and results) in program order.
    pub defs: Vec<ValueId>,
    pub dots: Vec<DotSite>,
    /// Annotations `(operand, result, layout, span)` in program order.
    pub annotations: Vec<(ValueId, ValueId, LayoutConst, Span)>,
    /// Global loads and stored values, in program order, with the tensor dimension that is
    /// contiguous in memory.
    pub loads: Vec<(ValueId, usize)>,
    pub stores: Vec<(ValueId, usize)>,
}

struct Walker<'k> {
    k: &'k Kernel,
    g: Graph,
    /// Innermost loop first: its carried block arguments (what `break`/`continue` values become).
    loops: Vec<Vec<ValueId>>,
}

pub fn build(k: &Kernel) -> Graph {
    let n = k.values.len();
    let g = Graph { uses: vec![Vec::new(); n], followers: vec![Vec::new(); n], pins: vec![Pin::Free; n], ..Graph::default() };
    let mut w = Walker { k, g, loops: Vec::new() };
    w.block(&k.body);
    w.g
}

fn dims(shape: &[u64]) -> Vec<i64> {
    shape.iter().map(|&d| d as i64).collect()
}

impl Walker<'_> {
    fn tile(&self, v: ValueId) -> bool {
        self.k.ty(v).is_tile()
    }

    fn shape(&self, v: ValueId) -> Vec<i64> {
        dims(self.k.ty(v).shape())
    }

    fn def(&mut self, v: ValueId) {
        if self.tile(v) {
            self.g.defs.push(v);
        }
    }

    fn edge(&mut self, u: ValueId, rel: Rel, at: Span, op: &'static str, operand: usize) -> Option<usize> {
        self.edge_as(u, rel, at, op, operand, Role::Operand)
    }

    fn edge_as(&mut self, u: ValueId, rel: Rel, at: Span, op: &'static str, operand: usize, role: Role) -> Option<usize> {
        if !self.tile(u) {
            return None;
        }
        let i = self.g.edges.len();
        let e = Edge { u, rel, at, op, operand, role };
        self.g.uses[u.index()].push(i);
        if let Some(r) = e.other() {
            self.g.followers[r.index()].push(i);
        }
        self.g.edges.push(e);
        Some(i)
    }

    /// Operand `u` of an op whose (tile) result `r` has its layout.
    fn same(&mut self, u: ValueId, r: ValueId, at: Span, op: &'static str, operand: usize) {
        if self.tile(r) {
            self.edge(u, Rel::Same { r, produces: true }, at, op, operand);
        }
    }

    /// The dimension of tensor parameter `p` with unit stride: the last unless strides say otherwise.
    fn contiguous(&self, p: usize) -> usize {
        match self.k.params.get(p).map(|p| &p.kind) {
            Some(ParamKind::Tensor { shape, strides, .. }) => strides
                .as_ref()
                .and_then(|s| s.iter().rposition(|d| *d == Dim::Fixed(1)))
                .unwrap_or(shape.len().saturating_sub(1)),
            _ => 0,
        }
    }

    fn block(&mut self, b: &Block) {
        for inst in &b.insts {
            let (at, op) = (inst.span, inst.op.name());
            let r = inst.results.first().copied();
            for &res in &inst.results {
                self.def(res);
            }
            match &inst.op {
                Op::Unary(_, a) | Op::Cast(a) | Op::Math(_, a) => self.same(*a, r.unwrap_or(*a), at, op, 0),
                Op::Binary(_, a, b) | Op::Compare(_, a, b) => {
                    if let Some(r) = r {
                        self.same(*a, r, at, op, 0);
                        self.same(*b, r, at, op, 1);
                    }
                }
                Op::Where(c, a, b) | Op::Fma(c, a, b) => {
                    if let Some(r) = r {
                        for (i, x) in [*c, *a, *b].into_iter().enumerate() {
                            self.same(x, r, at, op, i);
                        }
                    }
                }
                Op::Cumsum { value, .. } => self.same(*value, r.unwrap_or(*value), at, op, 0),
                Op::Broadcast(a) | Op::Reshape(a) | Op::Bitcast(a) | Op::Permute { value: a, .. } | Op::Repeat { value: a, .. } | Op::Reduce { value: a, .. } => {
                    let Some(r) = r.filter(|&r| self.tile(r)) else { continue };
                    let (from, to) = (self.shape(*a), self.shape(r));
                    let xf = match &inst.op {
                        Op::Broadcast(_) => Xf::broadcast(&from, &to),
                        Op::Reshape(_) => Xf::Reshape(from, to),
                        Op::Bitcast(_) => Xf::Bitcast {
                            rank: to.len(),
                            from: self.k.ty(*a).dtype().bits() as i64,
                            to: self.k.ty(r).dtype().bits() as i64,
                        },
                        Op::Permute { perm, .. } => Xf::Permute(perm.clone()),
                        Op::Repeat { reps, .. } => Xf::Repeat(reps.iter().map(|&x| x as i64).collect()),
                        Op::Reduce { dim, .. } => Xf::Reduce {
                            dims: dim.map_or_else(|| (0..from.len()).collect(), |d| vec![d]),
                            keepdim: to.len() == from.len(),
                        },
                        _ => unreachable!("matched above"),
                    };
                    if let Some(e) = self.edge(*a, Rel::Xf { r, xf }, at, op, 0) {
                        self.g.pins[r.index()] = Pin::Derived(e);
                    }
                }
                Op::Dot { a, b, acc } => {
                    let (Some(r), true) = (r, self.tile(*a) && self.tile(*b) && self.tile(*acc)) else { continue };
                    let dot = self.g.dots.len();
                    self.g.dots.push(DotSite { a: *a, b: *b, acc: *acc, result: r, at });
                    self.edge(*a, Rel::Dot { dot, which: Operand::A }, at, op, 0);
                    self.edge(*b, Rel::Dot { dot, which: Operand::B }, at, op, 1);
                    self.edge(*acc, Rel::Dot { dot, which: Operand::C }, at, op, 2);
                    self.g.pins[r.index()] = Pin::Seed;
                }
                Op::Load { tensor, .. } => {
                    if let Some(r) = r.filter(|&r| self.tile(r)) {
                        self.g.pins[r.index()] = Pin::Seed;
                        self.g.loads.push((r, self.contiguous(*tensor)));
                    }
                }
                Op::Store { tensor, value, mask, .. } => {
                    if self.tile(*value) {
                        self.g.stores.push((*value, self.contiguous(*tensor)));
                        if let Some(m) = mask {
                            self.edge(*m, Rel::Same { r: *value, produces: false }, at, op, 1);
                        }
                    }
                }
                Op::AtomicAdd { tensor, value, .. } => {
                    if self.tile(*value) {
                        self.g.stores.push((*value, self.contiguous(*tensor)));
                    }
                }
                Op::Annotate(x, l) => {
                    if let Some(r) = r {
                        self.edge(*x, Rel::Annotation(l.clone()), at, op, 0);
                        self.g.pins[r.index()] = Pin::Annotated;
                        self.g.annotations.push((*x, r, l.clone(), at));
                    }
                }
                Op::For { inits, body, .. } => {
                    let carried = &body.args[1..];
                    for &a in &body.args {
                        self.def(a);
                    }
                    for (i, (&init, &arg)) in inits.iter().zip(carried).enumerate() {
                        self.edge_as(init, Rel::Same { r: arg, produces: false }, at, op, i, Role::Init);
                    }
                    for (&res, &arg) in inst.results.iter().zip(carried) {
                        self.edge_as(res, Rel::Tie { r: arg }, at, op, 0, Role::Carried);
                    }
                    self.loops.push(carried.to_vec());
                    self.block(body);
                    self.yields(body, carried, at, op, Role::Yield);
                    self.loops.pop();
                }
                Op::While { inits, cond, body } => {
                    for &a in cond.args.iter().chain(&body.args) {
                        self.def(a);
                    }
                    for (i, (&init, &arg)) in inits.iter().zip(&cond.args).enumerate() {
                        self.edge_as(init, Rel::Same { r: arg, produces: false }, at, op, i, Role::Init);
                    }
                    for (&other, &arg) in body.args.iter().chain(&inst.results).zip(cond.args.iter().cycle()) {
                        self.edge_as(other, Rel::Tie { r: arg }, at, op, 0, Role::Carried);
                    }
                    self.block(cond);
                    self.loops.push(cond.args.clone());
                    self.block(body);
                    self.yields(body, &cond.args, at, op, Role::Yield);
                    self.loops.pop();
                }
                Op::If { then, els, .. } => {
                    for (b, role) in [(then, Role::Yield), (els, Role::ElseYield)] {
                        self.block(b);
                        self.yields(b, &inst.results, at, op, role);
                    }
                }
                Op::Break(vals) | Op::Continue(vals) => {
                    let carried = self.loops.last().cloned().unwrap_or_default();
                    for (i, (&v, &arg)) in vals.iter().zip(&carried).enumerate() {
                        self.edge(v, Rel::Same { r: arg, produces: false }, at, op, i);
                    }
                }
                // Results any layout can hold (computed from coordinates or read from shared
                // memory, where layouts change for free), and uses that take any layout.
                Op::Splat(_) | Op::Arange { .. } | Op::ThreadIds(_) | Op::LoadShared(_) | Op::StoreShared { .. } | Op::Print { .. } => {}
                Op::Const(_) | Op::BlockIndex(_) | Op::DimSize(_) | Op::ScalarParam(_) | Op::Threads => {}
                Op::CopyAsync { .. } | Op::CommitGroup | Op::WaitGroup(_) | Op::Barrier => {}
            }
        }
    }

    fn yields(&mut self, b: &Block, targets: &[ValueId], at: Span, op: &'static str, role: Role) {
        for (i, (&y, &t)) in b.yields.iter().zip(targets).enumerate() {
            self.edge_as(y, Rel::Same { r: t, produces: false }, at, op, i, role);
        }
    }
}

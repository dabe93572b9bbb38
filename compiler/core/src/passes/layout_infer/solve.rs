//! The solver: seeds by priority, propagation along the constraint graph, defaults, and the final
//! sweep over every use that records conversions.

use super::graph::{Graph, Pin, Rel};
use super::seeds::{self, DotPlan};
use super::{show, Conversion, DotLayouts, Layouts, Origin, User};
use crate::diag::Diagnostic;
use crate::syntax::Span;
use crate::tir::{Kernel, ValueId};
use std::collections::VecDeque;
use tilec_layout::atoms::Operand;
use tilec_layout::TvLayout;

pub struct Solver<'k> {
    k: &'k Kernel,
    g: Graph,
    threads: i64,
    layout: Vec<Option<TvLayout>>,
    origin: Vec<Option<Origin>>,
    plans: Vec<Option<DotPlan>>,
    queue: VecDeque<ValueId>,
}

/// A layout-algebra failure where the pass expected none, reported at the op that caused it.
fn failed(at: Span, what: &str, e: impl std::fmt::Display) -> Diagnostic {
    Diagnostic::at(at, format!("cannot choose register layouts: {what}"), "here").with_note(e.to_string())
}

impl<'k> Solver<'k> {
    pub fn new(k: &'k Kernel, g: Graph) -> Solver<'k> {
        let n = k.values.len();
        let dots = g.dots.len();
        Solver { k, g, threads: k.threads() as i64, layout: vec![None; n], origin: vec![None; n], plans: vec![None; dots], queue: VecDeque::new() }
    }

    fn shape(&self, v: ValueId) -> Vec<i64> {
        self.k.ty(v).shape().iter().map(|&d| d as i64).collect()
    }

    fn get(&self, v: ValueId) -> Option<&TvLayout> {
        self.layout[v.index()].as_ref()
    }

    /// Gives `v` layout `l` if it has none yet and `origin` may decide it; `producer` when `l` comes
    /// from the op that defines `v`. Queues `v` for propagation.
    fn claim(&mut self, v: ValueId, l: TvLayout, origin: Origin, producer: bool) -> bool {
        self.claim_at(v, l, origin, producer, false)
    }

    /// [`Self::claim`]; `tied` values (a loop's block arguments and results: the same registers)
    /// are visited next, as if they were one node of the graph.
    fn claim_at(&mut self, v: ValueId, l: TvLayout, origin: Origin, producer: bool, tied: bool) -> bool {
        let i = v.index();
        if self.layout[i].is_some() || l.shape() != self.shape(v).as_slice() || l.num_threads() != self.threads {
            return false;
        }
        let allowed = match &self.g.pins[i] {
            Pin::Free => true,
            // A global load or a dot fixes its result; only the user overrides that.
            Pin::Seed => producer || origin == Origin::Annotation,
            Pin::Annotated => producer,
            Pin::Derived(e) => {
                producer || matches!(&self.g.edges[*e].rel, Rel::Xf { xf, .. } if xf.backward(&l).is_some())
            }
        };
        if allowed {
            self.layout[i] = Some(l);
            self.origin[i] = Some(origin);
            if tied {
                self.queue.push_front(v);
            } else {
                self.queue.push_back(v);
            }
        }
        allowed
    }

    /// Propagates every queued layout to fixed point: forward to the values that follow a use,
    /// backward to used values. Each value is assigned at most once, so this terminates after at
    /// most one visit per value and edge.
    fn flood(&mut self) {
        while let Some(v) = self.queue.pop_front() {
            let (Some(l), Some(o)) = (self.layout[v.index()].clone(), self.origin[v.index()]) else { continue };
            for e in self.g.uses[v.index()].clone() {
                let (r, fwd, producer, tied) = match &self.g.edges[e].rel {
                    Rel::Same { r, produces } => (*r, Some(l.clone()), *produces, false),
                    Rel::Tie { r } => (*r, Some(l.clone()), false, true),
                    Rel::Xf { r, xf } => (*r, xf.forward(&l), true, false),
                    _ => continue,
                };
                if let Some(fl) = fwd {
                    self.claim_at(r, fl, o, producer, tied);
                }
            }
            for e in self.g.followers[v.index()].clone() {
                let edge = &self.g.edges[e];
                let back = match &edge.rel {
                    Rel::Same { .. } | Rel::Tie { .. } => Some(l.clone()),
                    Rel::Xf { xf, .. } => xf.backward(&l),
                    _ => None,
                };
                let (u, tied) = (edge.u, matches!(edge.rel, Rel::Tie { .. }));
                if let Some(bl) = back {
                    self.claim_at(u, bl, o, false, tied);
                }
            }
        }
    }

    pub fn run(mut self) -> Result<Layouts, Diagnostic> {
        self.annotations()?;
        self.flood();
        self.dots()?;
        // Global loads first: they are where data enters the block, and a store accepts any layout.
        for (v, contig) in self.g.loads.clone() {
            let l = seeds::blocked_along(&self.shape(v), self.k.ty(v).dtype(), self.threads, contig).map_err(|e| failed(self.k.span_of(v), "load", e))?;
            self.claim(v, l, Origin::Memory, true);
        }
        self.flood();
        for (v, contig) in self.g.stores.clone() {
            if let Ok(l) = seeds::blocked_along(&self.shape(v), self.k.ty(v).dtype(), self.threads, contig) {
                self.claim(v, l, Origin::Memory, false);
            }
        }
        self.flood();
        self.defaults()?;
        self.finish()
    }

    /// Seeds every annotation (the highest priority), all before any propagation, after checking
    /// that each fits its tile and that no tile carries two different annotations.
    fn annotations(&mut self) -> Result<(), Diagnostic> {
        let n = self.k.values.len();
        let mut class: Vec<usize> = (0..n).collect();
        fn find(c: &mut [usize], mut x: usize) -> usize {
            while c[x] != x {
                c[x] = c[c[x]];
                x = c[x];
            }
            x
        }
        let mut first: Vec<Option<usize>> = vec![None; n];
        let anns = self.g.annotations.clone();
        for (i, (x, y, l, at)) in anns.iter().enumerate() {
            let ty = self.k.ty(*x);
            let shape = self.shape(*x);
            if !ty.is_tile() || l.tv.shape() != shape.as_slice() {
                return Err(Diagnostic::at(*at, format!("the layout `{}` does not fit the tile `{ty}`", l.text), format!("covers a tile of shape {:?}", l.tv.shape()))
                    .with_secondary(self.k.span_of(*x), format!("this tile is `{ty}`")));
            }
            if l.tv.num_threads() != self.threads {
                return Err(Diagnostic::at(*at, format!("the layout `{}` spreads the tile over {} threads but the block has {}", l.text, l.tv.num_threads(), self.threads), "thread count differs")
                    .with_secondary(self.k.span_of(*x), "the tile"));
            }
            // The annotated tile and the annotation's result are one tile: merge their classes,
            // and every annotation already in either must agree with this one.
            let (cx, cy) = (find(&mut class, x.index()), find(&mut class, y.index()));
            for j in [first[cx], first[cy]].into_iter().flatten() {
                if anns[j].2.tv != l.tv {
                    let (tile, prev) = (anns[j].0, &anns[j]);
                    return Err(Diagnostic::at(*at, format!("tile %{} is given two different register layouts", tile.0), format!("laid out by `{}` here", l.text))
                        .with_secondary(prev.3, format!("but laid out by `{}` here", prev.2.text))
                        .with_secondary(self.k.span_of(tile), format!("this tile (`{}`)", self.k.ty(tile)))
                        .with_note(format!("first:  `{}` = {}", prev.2.text, prev.2.tv))
                        .with_note(format!("second: `{}` = {}", l.text, l.tv))
                        .with_help("an annotation says how a tile is laid out, and one tile has one layout; annotate a value computed from it (the compiler converts at that use) to get the other layout"));
                }
            }
            let root = cx.min(cy);
            let kept = first[cx].or(first[cy]).unwrap_or(i);
            class[cx] = root;
            class[cy] = root;
            first[root] = Some(kept);
        }
        for (x, y, l, _) in &anns {
            self.claim(*y, l.tv.clone(), Origin::Annotation, true);
            self.claim(*x, l.tv.clone(), Origin::Annotation, false);
        }
        Ok(())
    }

    /// Chooses every dot's layouts (priority 2), in program order: around a layout an annotation
    /// already gave its result or accumulator, otherwise mma fragments or a blocked FMA arrangement.
    fn dots(&mut self) -> Result<(), Diagnostic> {
        for (i, d) in self.g.dots.clone().iter().enumerate() {
            let (a, b, acc) = (self.shape(d.a), self.shape(d.b), self.shape(d.acc));
            let (m, kk, n) = match (a.as_slice(), b.as_slice(), acc.as_slice()) {
                ([m, k], [k2, n], [m2, n2]) if k == k2 && m == m2 && n == n2 => (*m, *k, *n),
                _ => return Err(Diagnostic::at(d.at, format!("`dot` of `{}` and `{}` into `{}`: the shapes do not multiply", self.k.ty(d.a), self.k.ty(d.b), self.k.ty(d.acc)), "here")),
            };
            let annotated = |v: ValueId| self.get(v).filter(|_| self.origin[v.index()] == Some(Origin::Annotation));
            let given = annotated(d.result).or_else(|| annotated(d.acc)).cloned();
            let plan = seeds::dot_plan(self.k.ty(d.a).dtype(), self.k.ty(d.acc).dtype(), m, n, kk, self.k.warps as i64, given.as_ref())
                .map_err(|e| failed(d.at, "dot", e))?;
            self.claim(d.result, plan.c.clone(), Origin::Dot, true);
            self.claim(d.acc, plan.c.clone(), Origin::Dot, false);
            self.claim(d.a, plan.a.clone(), Origin::Dot, false);
            self.claim(d.b, plan.b.clone(), Origin::Dot, false);
            self.plans[i] = Some(plan);
            // Spread this dot's layouts before planning the next one, so that a later dot whose
            // operand is computed from an earlier dot's result converts that operand (at the later
            // dot) rather than the earlier dot's wider accumulator.
            self.flood();
        }
        Ok(())
    }

    /// Every tile still without a layout, in program order, gets what its producer gives it, or the
    /// blocked default of its shape (or, for a shape op that cannot produce that in registers, the
    /// whole tile in every thread), and that spreads before the next one is looked at.
    fn defaults(&mut self) -> Result<(), Diagnostic> {
        for v in self.g.defs.clone() {
            if self.get(v).is_some() {
                continue;
            }
            let (shape, at) = (self.shape(v), self.k.span_of(v));
            let mut candidates = Vec::new();
            if let Pin::Derived(e) = self.g.pins[v.index()] {
                if let (Rel::Xf { xf, .. }, Some(ul)) = (&self.g.edges[e].rel, self.get(self.g.edges[e].u)) {
                    candidates.extend(xf.forward(ul));
                }
            }
            candidates.push(seeds::blocked(&shape, self.k.ty(v).dtype(), self.threads).map_err(|e| failed(at, "default layout", e))?);
            candidates.push(seeds::whole_tile(&shape, self.threads).map_err(|e| failed(at, "default layout", e))?);
            let ok = candidates.into_iter().any(|l| self.claim(v, l, Origin::Default, true));
            if !ok {
                return Err(Diagnostic::at(at, format!("no register layout of `{}` can be produced by this operation", self.k.ty(v)), "this tile"));
            }
            self.flood();
        }
        Ok(())
    }

    /// Checks every use against what it needs and records a conversion where they differ.
    fn finish(self) -> Result<Layouts, Diagnostic> {
        let mut conversions = Vec::new();
        for v in &self.g.defs {
            if self.get(*v).is_none() {
                return Err(Diagnostic::at(self.k.span_of(*v), format!("no register layout was found for `{}`", self.k.ty(*v)), "this tile"));
            }
        }
        for e in &self.g.edges {
            let Some(have) = self.get(e.u) else {
                return Err(Diagnostic::at(e.at, format!("an operand of `{}` has no register layout", e.op), "here"));
            };
            let need = match &e.rel {
                Rel::Same { r, .. } => self.get(*r).cloned(),
                Rel::Annotation(l) => Some(l.tv.clone()),
                Rel::Dot { dot, which } => self.plans[*dot].as_ref().map(|p| match which {
                    Operand::A => p.a.clone(),
                    Operand::B => p.b.clone(),
                    Operand::C => p.c.clone(),
                }),
                Rel::Tie { r } => {
                    if self.get(*r) != Some(have) {
                        return Err(Diagnostic::at(e.at, format!("the carried value %{} and %{} of this `{}` got different layouts", e.u.0, r.0, e.op), "here"));
                    }
                    continue;
                }
                Rel::Xf { r, xf } => {
                    let rl = self.get(*r);
                    if rl.is_some() && xf.forward(have).as_ref() == rl {
                        continue;
                    }
                    match rl.and_then(|rl| xf.backward(rl)) {
                        Some(l) => Some(l),
                        None => {
                            return Err(Diagnostic::at(e.at, format!("`{}` cannot produce the layout chosen for its result", e.op), "here")
                                .with_note(format!("operand: {}", show(have)))
                                .with_note(format!("result:  {}", rl.map_or("none".into(), show))))
                        }
                    }
                }
            };
            let Some(need) = need else {
                return Err(Diagnostic::at(e.at, format!("a use by `{}` has no layout to compare with", e.op), "here"));
            };
            if &need != have {
                conversions.push(Conversion { value: e.u, from: have.clone(), to: need, at: e.at, user: User { op: e.op, operand: e.operand, role: e.role } });
            }
        }
        let dots = self
            .g
            .dots
            .iter()
            .zip(self.plans)
            .filter_map(|(d, p)| p.map(|p| DotLayouts { result: d.result, at: d.at, kind: p.kind, a: p.a, b: p.b, c: p.c }))
            .collect();
        Ok(Layouts { layouts: self.layout, origins: self.origin, conversions, dots, defs: self.g.defs })
    }
}

//! `repeat` and `bitcast` (`view<T>`): tiles whose elements are made of operand elements, built in
//! registers when every thread holds what its result slots are made of.
//!
//! Inference derives either layout from the other (`Xf::Repeat`, `Xf::Bitcast`): a repeat's result
//! is `local(reps) * operand`, so each thread holds every copy of its elements; a bitcast groups the
//! source elements of each result element in one thread (widening) or splits each element over
//! adjacent slots (narrowing). The lowering does not rely on that: for every result slot it derives
//! the operand slots it is made of and checks over all threads that they are the same slots of the
//! thread itself. Then:
//!
//! * `repeat`: result slot `v` is the register of operand slot `u(v)`: no instruction at all.
//! * `bitcast` from `b_from`-bit to `b_to`-bit elements: the last dimension is made of groups of
//!   `lcm(b_from, b_to)` bits, `n_from` operand or `n_to` result elements each. A result slot is its
//!   group's operand elements packed into one vector register, reinterpreted as `n_to` elements
//!   (`bitcast`, LSB-first as in memory) and the one at its position extracted.
//!
//! When the operand's layout does not hold what the result needs, inference has already asked for a
//! conversion of the operand (through shuffles or shared memory, `memory.rs`) to the layout derived
//! from the result's. A bitcast between widths no register layout pairs up (a group of three bytes
//! as four 6-bit elements, when the result's layout splits the group between threads) is refused
//! with a diagnostic.
//!
//! A float NaN keeps its payload through a register bitcast (as on the GPU); the interpreter holds
//! NaN without payload (docs/ops.md), so only NaN codes other than the canonical one can differ.

use super::{refuse, Lowering};
use crate::diag::Diagnostic;
use crate::thread::{Reg, Ty};
use crate::tir::{Inst, ValueId};
use std::collections::HashMap;
use tilec_layout::TvLayout;

/// What result slot `v` of a register repack is made of: operand slots of the same thread, and a
/// position (the element of a bitcast group it is).
type Sources = Vec<(Vec<usize>, i64)>;

/// For each slot of `to`: the slots of `from` in the same thread that hold the coordinates
/// `sources(c).0` of the element `to` holds there, and the position `sources(c).1`, if both are the
/// same in every thread.
fn same_thread_sources(from: &TvLayout, to: &TvLayout, sources: impl Fn(&[i64]) -> (Vec<Vec<i64>>, i64)) -> Option<Sources> {
    if from.num_threads() != to.num_threads() {
        return None;
    }
    let mut out: Vec<Option<(Vec<usize>, i64)>> = vec![None; to.num_values() as usize];
    for t in 0..to.num_threads() {
        let mut held = HashMap::new();
        for u in 0..from.num_values() {
            held.insert(from.coords(t, u).ok()?, u as usize);
        }
        for (v, slot) in out.iter_mut().enumerate() {
            let (coords, position) = sources(&to.coords(t, v as i64).ok()?);
            let mut slots = Vec::with_capacity(coords.len());
            for c in &coords {
                slots.push(*held.get(c)?);
            }
            match slot {
                None => *slot = Some((slots, position)),
                Some(prev) if prev.0 == slots && prev.1 == position => {}
                Some(_) => return None,
            }
        }
    }
    out.into_iter().collect()
}

fn gcd(a: i64, b: i64) -> i64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

impl Lowering<'_> {
    /// `repeat(value, reps)`: `numpy.tile`, by register reuse.
    pub(super) fn repeat(&mut self, inst: &Inst, value: ValueId) -> Result<Vec<Reg>, Diagnostic> {
        let (al, rl) = (self.layout(value)?, self.layout(inst.results[0])?);
        let xs = self.get(value);
        let shape = al.shape().to_vec();
        let wrap = |c: &[i64]| (vec![c.iter().zip(&shape).map(|(x, n)| x % n).collect()], 0);
        if let Some(sources) = same_thread_sources(&al, &rl, wrap) {
            return Ok(sources.iter().map(|(u, _)| xs[u[0]]).collect());
        }
        // Inference lays the result out as `local(reps) * operand`, or converts the operand to the
        // layout that gives the result's; so this is a broken invariant rather than a missing feature.
        Err(refuse(inst.span, "this `repeat` would move elements between threads; layout inference should have prevented that"))
    }

    /// `bitcast(a)` (`view<T>`) by groups of whole elements in one thread (see the module docs).
    pub(super) fn bitcast(&mut self, inst: &Inst, a: ValueId) -> Result<Vec<Reg>, Diagnostic> {
        let k = self.kernel;
        let (from, to) = (k.ty(a).dtype(), k.ty(inst.results[0]).dtype());
        let xs = self.get(a);
        let Some(rl) = self.layout_of(inst.results[0]) else {
            // A scalar (or one-element tile held as one): the widths are equal.
            return Ok(vec![self.b.bitcast(xs[0], Ty::scalar(to))]);
        };
        let al = self.layout(a)?;
        let (bf, bt) = (i64::from(from.bits()), i64::from(to.bits()));
        let group = bf / gcd(bf, bt) * bt;
        let (nf, nt) = (group / bf, group / bt);
        let last = rl.rank() - 1;
        let sources = |c: &[i64]| {
            let q = c[last] / nt;
            let coords = (0..nf)
                .map(|j| {
                    let mut s = c.to_vec();
                    s[last] = q * nf + j;
                    s
                })
                .collect();
            (coords, c[last] % nt)
        };
        // Inference converts the operand to the layout that groups whole elements when it can
        // (`Xf::Bitcast`); widths that share no such layout (6 and 8 bits) are refused here.
        let Some(plan) = same_thread_sources(&al, &rl, sources) else {
            return Err(refuse(
                inst.span,
                &format!("this `bitcast` of {from} to {to} needs every thread to hold whole groups of {nf} {from} elements, which no layout of this result gives"),
            ));
        };
        let whole = if nt == 1 { Ty::scalar(to) } else { Ty::vec(to, nt as u32) };
        let mut groups: HashMap<Vec<usize>, Reg> = HashMap::new();
        let mut out = Vec::with_capacity(plan.len());
        for (slots, position) in plan {
            let g = match groups.get(&slots) {
                Some(&g) => g,
                None => {
                    let elems: Vec<Reg> = slots.iter().map(|&u| xs[u]).collect();
                    let packed = if elems.len() == 1 { elems[0] } else { self.b.pack(&elems) };
                    let g = self.b.bitcast(packed, whole);
                    groups.insert(slots, g);
                    g
                }
            };
            out.push(if nt == 1 { g } else { self.b.extract(g, position as u32) });
        }
        Ok(out)
    }
}

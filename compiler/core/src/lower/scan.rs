//! `cumsum`: the inclusive prefix sum along one dimension of a register tile, in whatever layout
//! inference gave it (the result shares the operand's layout).
//!
//! The modes of a layout that step the scanned dimension cover it exactly once as a mixed radix
//! (`TvLayout::new` checks it), so sorted by stride they are *levels* of the coordinate, innermost
//! first: value modes (inside a thread) and thread modes (across threads) in any order. After levels
//! `0..k` every element holds `S`, its inclusive prefix within its *level-k group* (the elements that
//! share its other coordinates and its digits of levels `k..`), and `G`, that group's total. Level
//! `k` adds to `S` the totals of the groups before it along the level's digit and sums the totals:
//!
//! 1. a value level: a running sum over the thread's slots that differ only in that digit;
//! 2. a thread level inside a warp (its threads a power-of-two block of lanes): a Hillis–Steele scan
//!    of `G` by `shfl.up` over the level's lanes, the exclusive prefix by one more `shfl.up`, the
//!    total by `shfl.idx` from the group's last thread;
//! 3. a thread level across warps: every thread writes its totals to shared memory, a barrier, each
//!    thread sums those of its group in order, a barrier. (A level whose lanes fill whole warps is
//!    split into a warp level and a block level.)
//!
//! Modes of other dimensions and replication modes only tell independent groups apart. Slots whose
//! `G` is the same register compute their level once.
//!
//! Exactness: integers add in their own type, wrapping as the interpreter's sequential loop does, so
//! they agree exactly. Floats narrower than f64 add in f32 (f64 in f64) and round to their type once
//! at the end; the summation order is by level (sequential within a thread's slots and across the
//! warps of a block level, a Hillis–Steele tree across the lanes of a warp level), so a float result
//! differs from the sequential reference by the rounding of the partial sums (docs/ops.md).

use super::{refuse, Lowering};
use crate::diag::Diagnostic;
use crate::syntax::Span;
use crate::thread::{CmpOp, Reg, ShflMode, Ty};
use crate::tir::{Inst, ValueId};
use std::collections::HashMap;
use tilec_dtype::DType;
use tilec_layout::TvLayout;

/// One digit of the scanned coordinate, innermost first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Level {
    /// Value mode: slot index step `weight`, `extent` digits.
    Values { weight: i64, extent: i64 },
    /// Thread mode whose `extent` threads (thread index step `step`) lie in one warp.
    Warp { step: i64, extent: i64 },
    /// Thread mode across warps, exchanged through shared memory.
    Block { step: i64, extent: i64 },
}

/// The levels of dimension `dim` of layout `l`, innermost first.
fn levels(l: &TvLayout, dim: usize) -> Vec<Level> {
    let mut found: Vec<(i64, Level)> = Vec::new();
    let mut step = 1i64;
    for m in l.thread_modes() {
        if m.dim == Some(dim) && m.extent > 1 {
            let (extent, lanes) = (m.extent, step * m.extent);
            if 32 % lanes == 0 {
                found.push((m.stride, Level::Warp { step, extent }));
            } else if step < 32 && 32 % step == 0 && lanes % 32 == 0 {
                // The lanes of one warp, then whole warps: two digits of the same mode.
                let inner = 32 / step;
                found.push((m.stride, Level::Warp { step, extent: inner }));
                found.push((m.stride * inner, Level::Block { step: 32, extent: extent / inner }));
            } else {
                found.push((m.stride, Level::Block { step, extent }));
            }
        }
        step *= m.extent;
    }
    let mut weight = 1i64;
    for m in l.value_modes() {
        if m.dim == Some(dim) && m.extent > 1 {
            found.push((m.stride, Level::Values { weight, extent: m.extent }));
        }
        weight *= m.extent;
    }
    found.sort_by_key(|&(stride, _)| stride);
    found.into_iter().map(|(_, level)| level).collect()
}

/// The type the scan adds in: integers their own (wrapping), floats f32 (f64 for f64).
fn accumulator(dt: DType) -> DType {
    match dt {
        DType::F64 => DType::F64,
        d if d.is_float() => DType::F32,
        d => d,
    }
}

/// The 32- or 64-bit type a value of `acc` moves as between threads (narrow integers widened
/// exactly, keeping their sign).
fn word(acc: DType) -> DType {
    match acc.bits() {
        b if b >= 32 => acc,
        _ if acc.is_signed() => DType::I32,
        _ => DType::U32,
    }
}

impl Lowering<'_> {
    /// `cumsum(value, dim)` in the layout the operand has here (see the module docs).
    pub(super) fn cumsum(&mut self, inst: &Inst, value: ValueId, dim: usize) -> Result<Vec<Reg>, Diagnostic> {
        let (l, rl) = (self.layout(value)?, self.layout(inst.results[0])?);
        if l != rl {
            return Err(refuse(inst.span, "this `cumsum`'s result is laid out apart from its operand; layout inference should have prevented that"));
        }
        let dt = self.kernel.ty(value).dtype();
        let acc = accumulator(dt);
        let mut s: Vec<Reg> = self.get(value).into_iter().map(|x| if acc == dt { x } else { self.b.cast(x, acc) }).collect();
        let mut g = s.clone();
        let levels = levels(&l, dim);
        for (k, &level) in levels.iter().enumerate() {
            let totals = k + 1 < levels.len();
            match level {
                Level::Values { weight, extent } => self.scan_slots(&mut s, &mut g, weight, extent),
                Level::Warp { step, extent } => self.scan_lanes(&mut s, &mut g, acc, step, extent, totals),
                Level::Block { step, extent } => self.scan_warps(&mut s, &mut g, acc, step, extent, inst.span)?,
            }
        }
        Ok(s.into_iter().map(|x| if acc == dt { x } else { self.b.cast(x, dt) }).collect())
    }

    /// A value level: along each line of slots `v, v + weight, ..., v + (extent-1)·weight`, slot
    /// `j` adds the totals of slots `0..j`, and every slot's total becomes the line's.
    fn scan_slots(&mut self, s: &mut [Reg], g: &mut [Reg], weight: i64, extent: i64) {
        let mut done: HashMap<Vec<Reg>, (Vec<Reg>, Reg)> = HashMap::new();
        for v in (0..s.len() as i64).filter(|v| v / weight % extent == 0) {
            let line: Vec<usize> = (0..extent).map(|j| (v + j * weight) as usize).collect();
            let key: Vec<Reg> = line.iter().map(|&u| g[u]).collect();
            let (before, total) = match done.get(&key) {
                Some(found) => found.clone(),
                None => {
                    // before[j] = g[0] + ... + g[j-1], in order.
                    let mut before = Vec::with_capacity(line.len());
                    let mut run = key[0];
                    for &x in &key[1..] {
                        before.push(run);
                        run = self.b.add(run, x);
                    }
                    done.insert(key.clone(), (before.clone(), run));
                    (before, run)
                }
            };
            for (j, &u) in line.iter().enumerate() {
                if j > 0 {
                    s[u] = self.b.add(before[j - 1], s[u]);
                }
                g[u] = total;
            }
        }
    }

    /// This thread's digit of a thread mode with thread index step `step` and `extent` digits.
    fn thread_digit(&mut self, step: i64, extent: i64) -> Reg {
        let (p, e) = (self.b.i64(step), self.b.i64(extent));
        let q = self.b.div(self.tid, p);
        self.b.rem(q, e)
    }

    /// A thread level inside a warp: a Hillis–Steele scan by `shfl.up` (see the module docs).
    fn scan_lanes(&mut self, s: &mut [Reg], g: &mut [Reg], acc: DType, step: i64, extent: i64, totals: bool) {
        let digit = self.thread_digit(step, extent);
        let one = self.b.i64(1);
        let not_first = self.b.cmp(CmpOp::Ge, digit, one);
        let mut done: HashMap<Reg, (Reg, Reg)> = HashMap::new();
        for v in 0..s.len() {
            let (before, total) = match done.get(&g[v]) {
                Some(&found) => found,
                None => {
                    let mut incl = g[v];
                    let mut o = 1;
                    while o < extent {
                        let from = self.shuffle(ShflMode::Up, incl, acc, o * step);
                        let sum = self.b.add(from, incl);
                        let oc = self.b.i64(o);
                        let reaches = self.b.cmp(CmpOp::Ge, digit, oc);
                        incl = self.b.select(reaches, sum, incl);
                        o *= 2;
                    }
                    let before = self.shuffle(ShflMode::Up, incl, acc, step);
                    // The group's last thread is `extent - 1 - digit` steps up.
                    let total = if totals { self.shuffle_from_group_end(incl, acc, digit, step, extent) } else { incl };
                    done.insert(g[v], (before, total));
                    (before, total)
                }
            };
            let added = self.b.add(before, s[v]);
            s[v] = self.b.select(not_first, added, s[v]);
            g[v] = total;
        }
    }

    /// `x` of the last thread (digit `extent - 1`) of this thread's group along a warp level.
    fn shuffle_from_group_end(&mut self, x: Reg, acc: DType, digit: Reg, step: i64, extent: i64) -> Reg {
        let c32 = self.b.i64(32);
        let lane = self.b.rem(self.tid, c32);
        let last = self.b.i64(extent - 1);
        let up = self.b.sub(last, digit);
        let p = self.b.i64(step);
        let ahead = self.b.mul(up, p);
        let src = self.b.add(lane, ahead);
        let src = self.b.cast(src, DType::I32);
        self.shuffle_reg(ShflMode::Idx, x, acc, src)
    }

    /// `shfl.sync.{mode}` of `x` (type `acc`) with the constant lane operand `b`.
    fn shuffle(&mut self, mode: ShflMode, x: Reg, acc: DType, b: i64) -> Reg {
        let b = self.b.i32(b as i32);
        self.shuffle_reg(mode, x, acc, b)
    }

    /// `shfl.sync.{mode}` of `x` of any width up to 64 bits: narrow integers widened to a word and
    /// back (exact), 64-bit values as two 32-bit halves.
    fn shuffle_reg(&mut self, mode: ShflMode, x: Reg, acc: DType, b: Reg) -> Reg {
        match acc.bits() {
            32 => self.b.shfl(mode, x, b, u32::MAX),
            64 => {
                let halves = self.b.bitcast(x, Ty::vec(DType::U32, 2));
                let moved: Vec<Reg> = (0..2)
                    .map(|i| {
                        let h = self.b.extract(halves, i);
                        self.b.shfl(mode, h, b, u32::MAX)
                    })
                    .collect();
                let joined = self.b.pack(&moved);
                self.b.bitcast(joined, Ty::scalar(acc))
            }
            _ => {
                let w = self.b.cast(x, word(acc));
                let moved = self.b.shfl(mode, w, b, u32::MAX);
                self.b.cast(moved, acc)
            }
        }
    }

    /// A thread level across warps (see the module docs): the totals of a thread's group are read
    /// back from shared memory and summed in digit order.
    fn scan_warps(&mut self, s: &mut [Reg], g: &mut [Reg], acc: DType, step: i64, extent: i64, at: Span) -> Result<(), Diagnostic> {
        let threads = i64::from(self.kernel.threads());
        if threads % (step * extent) != 0 {
            return Err(refuse(at, "this `cumsum` needs an exchange between warps the thread-level lowering cannot lay out for this block size"));
        }
        let mut distinct: Vec<Reg> = Vec::new();
        for &x in g.iter() {
            if !distinct.contains(&x) {
                distinct.push(x);
            }
        }
        let wt = word(acc);
        let bytes = i64::from(wt.bits() / 8);
        let n = distinct.len() as i64;
        let buf = self.scratch("scan", threads * n * bytes, at)?;
        let row = self.b.i64(n * bytes);
        let mine = self.b.mul(self.tid, row);
        for (r, &x) in distinct.iter().enumerate() {
            let at = self.b.i64(r as i64 * bytes);
            let off = self.b.add(mine, at);
            let w = if wt == acc { x } else { self.b.cast(x, wt) };
            self.b.store_shared(buf, off, w, None);
        }
        self.b.bar_sync();
        let digit = self.thread_digit(step, extent);
        let p = self.b.i64(step);
        let back = self.b.mul(digit, p);
        let first = self.b.sub(self.tid, back);
        let mut done: HashMap<Reg, (Reg, Reg)> = HashMap::new();
        for (r, &x) in distinct.iter().enumerate() {
            let mut run = None;
            let mut before = None;
            for j in 0..extent {
                let t = self.b.i64(j * step);
                let t = self.b.add(first, t);
                let base = self.b.mul(t, row);
                let col = self.b.i64(r as i64 * bytes);
                let off = self.b.add(base, col);
                let y = self.b.load_shared(buf, off, Ty::scalar(wt));
                let y = if wt == acc { y } else { self.b.cast(y, acc) };
                if let Some(total) = run {
                    // Digit `j` starts after the totals of digits `0..j`.
                    let jc = self.b.i64(j);
                    let here = self.b.cmp(CmpOp::Eq, digit, jc);
                    before = Some(match before {
                        None => total,
                        Some(b) => self.b.select(here, total, b),
                    });
                }
                run = Some(match run {
                    None => y,
                    Some(total) => self.b.add(total, y),
                });
            }
            let total = run.expect("a level has digits");
            done.insert(x, (before.expect("a level has at least two digits"), total));
        }
        // The buffer is written again when the scan runs again (in a loop), or reused by a later exchange.
        self.b.bar_sync();
        self.release_scratch(buf);
        let zero = self.b.i64(0);
        let not_first = self.b.cmp(CmpOp::Ne, digit, zero);
        for v in 0..s.len() {
            let (before, total) = done[&g[v]];
            let added = self.b.add(before, s[v]);
            s[v] = self.b.select(not_first, added, s[v]);
            g[v] = total;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tilec_layout::tv;

    #[test]
    fn levels_follow_the_strides_of_the_scanned_dimension() {
        // [2, 512]: a thread holds 4 adjacent elements, 32 lanes then 2 warps along a row, and that
        // block repeats over 2 rows and twice along the row (outer value modes, dimension 1 first).
        let l = tv::local(&[2, 2]).unwrap().product(&tv::spatial(&[1, 64]).unwrap()).unwrap().local(&[1, 4]).unwrap();
        assert_eq!(
            levels(&l, 1),
            vec![
                Level::Values { weight: 1, extent: 4 },
                Level::Warp { step: 1, extent: 32 },
                Level::Block { step: 32, extent: 2 },
                Level::Values { weight: 4, extent: 2 },
            ]
        );
        assert_eq!(levels(&l, 0), vec![Level::Values { weight: 8, extent: 2 }]);
    }

    #[test]
    fn thread_modes_that_do_not_tile_warps_go_through_shared_memory() {
        let l = tv::spatial(&[3, 32]).unwrap();
        assert_eq!(levels(&l, 0), vec![Level::Block { step: 32, extent: 3 }]);
        let l = tv::spatial(&[3, 16]).unwrap();
        assert_eq!(levels(&l, 0), vec![Level::Block { step: 16, extent: 3 }]);
        // Two rows per warp, then 3 warps: split into a warp level and a block level.
        let l = tv::spatial(&[6, 16]).unwrap();
        assert_eq!(levels(&l, 0), vec![Level::Warp { step: 16, extent: 2 }, Level::Block { step: 32, extent: 3 }]);
        let l = tv::spatial(&[8, 4]).unwrap();
        assert_eq!(levels(&l, 0), vec![Level::Warp { step: 4, extent: 8 }]);
    }
}

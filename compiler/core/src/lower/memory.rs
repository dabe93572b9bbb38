//! Where tile elements live outside registers: global loads and stores of a tile's slots, and
//! exchanges through shared memory (stage a tile row-major, read it back in another layout);
//! conversions inside a warp go by shuffles instead (`shuffle.rs`).
//!
//! Accesses are vectorised by `contiguity`: a thread's slots that are consecutive along the tensor's
//! unit-stride dimension go in groups of up to 16 bytes, one `ld`/`st` per group, where the group
//! start is proven aligned (statically, or by a block-uniform test choosing between a wide and a
//! narrow version of the access). A group whose elements are not all inside the tensor (a ragged
//! edge) moves its elements one by one, each under its own bounds predicate. Packed (sub-byte)
//! tensors are `packed.rs`'s.

use super::contiguity::{pow2_of, Alignment, Runs, Term, Widths, ZERO};
use super::{packed, refuse, Lowering};
use crate::diag::Diagnostic;
use crate::syntax::Span;
use crate::thread::{BinOp, Builder, CmpOp, Reg, Ty};
use crate::tir::{Dim, Inst, ParamKind, ValueId};
use std::collections::HashMap;
use tilec_dtype::DType;
use tilec_layout::TvLayout;

/// The slots of a tile in a tensor, and how they may be grouped.
pub(super) struct Access {
    /// Per slot: the element's linear index in the tensor, clamped to 0 when outside it (the
    /// emulator checks every address, and a GPU may fault on one).
    pub(super) index: Vec<Reg>,
    /// Per slot: the linear index, not clamped (for addresses under a predicate).
    pub(super) raw: Vec<Reg>,
    /// Per slot: whether the element is inside the tensor.
    pub(super) inside: Vec<Reg>,
    /// Whether this thread is the first holder of its elements (the one that stores them).
    pub(super) first: Reg,
    pub(super) runs: Runs,
    pub(super) widths: Widths,
    /// The block-uniform values whose divisibility `widths.tests` asks for.
    tested: Vec<Reg>,
    /// `log2` of the group lengths that never straddle the tensor's edge in the wide and the narrow
    /// version ([`Access::edge`]): such a group is wholly inside or wholly outside, and its first
    /// element's bounds test decides for all of it.
    edge: [u32; 2],
    pub(super) num_values: i64,
}

impl Access {
    /// Whether groups of `len` elements in the wide (`wide == true`) or narrow version are each
    /// wholly inside or wholly outside the tensor.
    pub(super) fn whole(&self, len: usize, wide: bool) -> bool {
        len <= 1 || (len as u64).trailing_zeros() <= self.edge[if wide { 0 } else { 1 }]
    }

    /// The groups of `2^k` slots, in order of their first slot.
    pub(super) fn groups(&self, k: u32) -> Vec<Vec<usize>> {
        self.runs.groups(self.num_values, 1 << k)
    }

    /// Whether every element of `group` is inside the tensor: they differ along the unit-stride
    /// dimension only, monotonically, so the first and the last are enough.
    pub(super) fn all_inside(&self, b: &mut Builder, group: &[usize]) -> Reg {
        let (f, l) = (group[0], group[group.len() - 1]);
        if f == l {
            self.inside[f]
        } else {
            b.and(self.inside[f], self.inside[l])
        }
    }
}

impl Lowering<'_> {
    /// Where the slots of the tile a memory op moves lie in the tensor, and how wide its accesses
    /// may be: groups of at most `max_bits`, starting on multiples of `2^min` elements.
    pub(super) fn addresses(&mut self, tile: ValueId, tensor: usize, offsets: &[ValueId], max_bits: u32, min: u32) -> Result<Access, Diagnostic> {
        let ParamKind::Tensor { dtype, shape, strides } = &self.kernel.params[tensor].kind else { unreachable!("loads read tensors") };
        let dtype = *dtype;
        let l = self.layout(tile)?;
        let mut dim = |d: &Dim| match d {
            Dim::Sym(i) => self.b.param(self.dims[*i]),
            Dim::Fixed(n) => self.b.i64(*n as i64),
        };
        let extents: Vec<Reg> = shape.iter().map(&mut dim).collect();
        // Element strides; `None` for row-major.
        let declared: Option<Vec<Reg>> = strides.as_ref().map(|s| s.iter().map(&mut dim).collect());
        let offs: Vec<Reg> = offsets.iter().map(|o| self.get(*o)[0]).collect();
        let (coords, first) = self.slots(tile)?;
        let (mut index, mut raw, mut inside) = (Vec::new(), Vec::new(), Vec::new());
        for c in coords {
            let mut linear = self.b.i64(0);
            let mut ok = self.b.bool(true);
            for d in 0..c.len() {
                let g = self.b.add(offs[d], c[d]);
                let zero = self.b.i64(0);
                let lo = self.b.cmp(CmpOp::Ge, g, zero);
                let hi = self.b.cmp(CmpOp::Lt, g, extents[d]);
                let both = self.b.binary(BinOp::And, lo, hi);
                ok = self.b.binary(BinOp::And, ok, both);
                linear = match &declared {
                    Some(st) => {
                        let step = self.b.mul(g, st[d]);
                        self.b.add(linear, step)
                    }
                    None => {
                        let scaled = self.b.mul(linear, extents[d]);
                        self.b.add(scaled, g)
                    }
                };
            }
            let zero = self.b.i64(0);
            index.push(self.b.select(ok, linear, zero));
            raw.push(linear);
            inside.push(ok);
        }
        let offset_pow2: Vec<u32> = offsets.iter().map(|&o| self.divisibility.pow2(o)).collect();
        let align = Alignment::of(shape, strides.as_deref(), l.shape(), &offset_pow2);
        let unit = align.unit.unwrap_or(0);
        let runs = Runs::of(&l, unit);
        let widths = Widths::choose(runs, &align, dtype.bits(), max_bits, min);
        let mut tested = Vec::new();
        for t in &widths.tests {
            let stride = |cx: &mut Self, d: usize| match &declared {
                Some(st) => st[d],
                None => extents[d + 1..].iter().fold(cx.b.i64(1), |acc, &e| cx.b.mul(acc, e)),
            };
            tested.push(match *t {
                Term::UnitOffset => offs[unit],
                Term::Stride(d) => stride(self, d),
                Term::OffsetTimesStride(d) => {
                    let s = stride(self, d);
                    self.b.mul(offs[d], s)
                }
            });
        }
        let edge = edge_pow2(shape, strides.is_some(), &align, &widths);
        Ok(Access { index, raw, inside, first, runs, widths, tested, edge, num_values: l.num_values() })
    }

    /// Runs `wide` when the access's runtime alignment tests pass and `narrow` otherwise (a
    /// block-uniform branch), or just `wide` when it has none; both yield registers of `tys`.
    pub(super) fn versioned(&mut self, acc: &Access, tys: &[Ty], wide: impl FnOnce(&mut Builder) -> Vec<Reg>, narrow: impl FnOnce(&mut Builder) -> Vec<Reg>) -> Vec<Reg> {
        if acc.tested.is_empty() {
            return wide(&mut self.b);
        }
        let low = self.b.i64((1i64 << acc.widths.wide) - 1);
        let zero = self.b.i64(0);
        let mut cond = self.b.bool(true);
        for &x in &acc.tested {
            let rest = self.b.and(x, low);
            let ok = self.b.cmp(CmpOp::Eq, rest, zero);
            cond = self.b.and(cond, ok);
        }
        self.b.if_(cond, tys, wide, narrow)
    }

    /// `load(tensor[offsets..])` into the registers of `tile`'s slots.
    pub(super) fn load(&mut self, tile: ValueId, tensor: usize, offsets: &[ValueId]) -> Result<Vec<Reg>, Diagnostic> {
        let dtype = self.kernel.ty(tile).dtype();
        if dtype.is_sub_byte() {
            return self.load_packed(tile, tensor, offsets);
        }
        let acc = self.addresses(tile, tensor, offsets, 128, 0)?;
        let param = self.params[tensor];
        let bytes = self.b.i64(i64::from(dtype.bits() / 8));
        let off: Vec<Reg> = acc.index.iter().map(|&i| self.b.mul(i, bytes)).collect();
        let zero = if dtype.is_float() { self.b.const_float(dtype, 0.0) } else { self.b.const_int(dtype, 0) };
        let (wide, narrow) = (acc.groups(acc.widths.wide), acc.groups(acc.widths.narrow));
        let tys: Vec<Ty> = wide.iter().map(|g| Ty::vec(dtype, g.len() as u32)).collect();
        let one = |b: &mut Builder, g: &[usize], is_wide: bool| -> Reg {
            if g.len() == 1 {
                return b.load_global(param, off[g[0]], Ty::scalar(dtype), Some(acc.inside[g[0]]), Some(zero));
            }
            let ty = Ty::vec(dtype, g.len() as u32);
            if acc.whole(g.len(), is_wide) {
                let zeros = b.pack(&vec![zero; g.len()]);
                return b.load_global(param, off[g[0]], ty, Some(acc.inside[g[0]]), Some(zeros));
            }
            let all = acc.all_inside(b, g);
            b.if_(
                all,
                &[ty],
                |b| vec![b.load_global(param, off[g[0]], ty, None, None)],
                |b| {
                    let elems: Vec<Reg> = g.iter().map(|&s| b.load_global(param, off[s], Ty::scalar(dtype), Some(acc.inside[s]), Some(zero))).collect();
                    vec![b.pack(&elems)]
                },
            )[0]
        };
        let groups = self.versioned(
            &acc,
            &tys,
            |b| wide.iter().map(|g| one(b, g, true)).collect(),
            |b| {
                let regs: Vec<Reg> = narrow.iter().map(|g| one(b, g, false)).collect();
                regroup(b, &regs, &narrow, &wide)
            },
        );
        if dtype.bits() == 8 && matches!(dtype, tilec_dtype::DType::Int { .. }) {
            // A cast of u8/i8 widens whole words with prmt (packed.rs).
            self.record_byte_groups(tile, &groups, &wide);
        }
        Ok(unpack(&mut self.b, &groups, &wide, acc.num_values))
    }

    /// `store(tensor[offsets..], value, mask)`: each element by its first holder, inside the tensor
    /// and where the mask holds.
    pub(super) fn store(&mut self, inst: &Inst, value: ValueId, tensor: usize, offsets: &[ValueId], mask: Option<ValueId>) -> Result<(), Diagnostic> {
        let dtype = self.kernel.ty(value).dtype();
        if dtype.is_sub_byte() {
            return self.store_packed(inst, value, tensor, offsets, mask);
        }
        let acc = self.addresses(value, tensor, offsets, 128, 0)?;
        let param = self.params[tensor];
        let bytes = self.b.i64(i64::from(dtype.bits() / 8));
        let off: Vec<Reg> = acc.index.iter().map(|&i| self.b.mul(i, bytes)).collect();
        let vals = self.get(value);
        let masks = mask.map(|m| self.get(m));
        // Per slot: whether this thread stores that element.
        let pred: Vec<Reg> = (0..vals.len())
            .map(|i| {
                let p = self.b.and(acc.inside[i], acc.first);
                match &masks {
                    Some(ms) => self.b.and(p, ms[i]),
                    None => p,
                }
            })
            .collect();
        let first = acc.first;
        let one = |b: &mut Builder, g: &[usize], is_wide: bool| {
            if g.len() == 1 {
                b.store_global(param, off[g[0]], vals[g[0]], Some(pred[g[0]]));
                return;
            }
            if masks.is_none() && acc.whole(g.len(), is_wide) {
                let v = b.pack(&g.iter().map(|&s| vals[s]).collect::<Vec<_>>());
                b.store_global(param, off[g[0]], v, Some(pred[g[0]]));
                return;
            }
            let mut all = acc.all_inside(b, g);
            if let Some(ms) = &masks {
                for &s in g {
                    all = b.and(all, ms[s]);
                }
            }
            b.if_(
                all,
                &[],
                |b| {
                    let v = b.pack(&g.iter().map(|&s| vals[s]).collect::<Vec<_>>());
                    b.store_global(param, off[g[0]], v, Some(first));
                    vec![]
                },
                |b| {
                    for &s in g {
                        b.store_global(param, off[s], vals[s], Some(pred[s]));
                    }
                    vec![]
                },
            );
        };
        self.for_each_group(&acc, one);
        Ok(())
    }

    /// Runs `one(builder, group, wide)` for every group of `acc`'s wide version and, when it has a
    /// runtime alignment test, of its narrow version in the other branch (stores: no results).
    pub(super) fn for_each_group(&mut self, acc: &Access, one: impl Fn(&mut Builder, &[usize], bool)) {
        let (wide, narrow) = (acc.groups(acc.widths.wide), acc.groups(acc.widths.narrow));
        self.versioned(
            acc,
            &[],
            |b| {
                wide.iter().for_each(|g| one(b, g, true));
                vec![]
            },
            |b| {
                narrow.iter().for_each(|g| one(b, g, false));
                vec![]
            },
        );
    }

    /// Writes tile registers `regs` (layout `l`, element type `dt`) row-major into a fresh scratch
    /// buffer (`scratch.rs`), one writer per element, then waits at a barrier. Elements narrower than a byte (bool,
    /// u4, f6e3m2, ...) travel as their code in a u8. Returns the buffer and the type it holds. Slots
    /// adjacent along the last dimension go in one store of up to 16 bytes ([`staged_groups`]).
    pub(super) fn stage(&mut self, regs: &[Reg], l: &TvLayout, dt: DType, at: Span) -> Result<(usize, DType), Diagnostic> {
        let held = if dt.is_sub_byte() { DType::U8 } else { dt };
        let bytes = i64::from(held.bits() / 8);
        let buf = self.scratch("exchange", l.size() * bytes, at)?;
        let (coords, first) = self.slots_in(l, at)?;
        for g in staged_groups(l, held) {
            let off = self.row_major(&coords[g[0]], l.shape(), bytes);
            let elems: Vec<Reg> = g.iter().map(|&s| if dt.is_sub_byte() { packed::code_byte(&mut self.b, regs[s], dt) } else { regs[s] }).collect();
            let x = if elems.len() == 1 { elems[0] } else { self.b.pack(&elems) };
            self.b.store_shared(buf, off, x, Some(first));
        }
        self.b.bar_sync();
        Ok((buf, held))
    }

    /// The byte offset of coordinate `c` in a row-major tile of `shape`.
    pub(super) fn row_major(&mut self, c: &[Reg], shape: &[i64], bytes: i64) -> Reg {
        let mut linear = self.b.i64(0);
        for (&x, &n) in c.iter().zip(shape) {
            let n = self.b.i64(n);
            let scaled = self.b.mul(linear, n);
            linear = self.b.add(scaled, x);
        }
        let bytes = self.b.i64(bytes);
        self.b.mul(linear, bytes)
    }

    /// Tile `v` from layout `from` to layout `to`: by shuffles when it stays inside each warp
    /// (`shuffle.rs`), else through shared memory.
    pub(super) fn convert(&mut self, v: ValueId, from: &TvLayout, to: &TvLayout, at: Span) -> Result<Vec<Reg>, Diagnostic> {
        let regs = self.get(v);
        let dt = self.kernel.ty(v).dtype();
        if let Some(shuffled) = self.shuffle_convert(&regs, dt, from, to, at)? {
            return Ok(shuffled);
        }
        self.relayout(&regs, dt, from, to, at)
    }

    /// Tile registers `regs` (element type `dt`) from layout `from` to layout `to`.
    pub(super) fn relayout(&mut self, regs: &[Reg], dt: DType, from: &TvLayout, to: &TvLayout, at: Span) -> Result<Vec<Reg>, Diagnostic> {
        let (buf, held) = self.stage(regs, from, dt, at)?;
        let out = self.gather(buf, held, dt, to, at)?;
        // The buffer is written again when this runs again (in a loop), or reused by a later one.
        self.b.bar_sync();
        self.release_scratch(buf);
        Ok(out)
    }

    /// Reads a staged row-major tile (see [`Self::stage`]) into the slots of layout `to`, adjacent
    /// slots in one load of up to 16 bytes.
    pub(super) fn gather(&mut self, buf: usize, held: DType, dt: DType, to: &TvLayout, at: Span) -> Result<Vec<Reg>, Diagnostic> {
        let bytes = i64::from(held.bits() / 8);
        let (coords, _) = self.slots_in(to, at)?;
        let groups = staged_groups(to, held);
        let regs: Vec<Reg> = groups
            .iter()
            .map(|g| {
                let off = self.row_major(&coords[g[0]], to.shape(), bytes);
                self.b.load_shared(buf, off, Ty::vec(held, g.len() as u32))
            })
            .collect();
        let out = unpack(&mut self.b, &regs, &groups, to.num_values());
        Ok(if dt.is_sub_byte() {
            out.into_iter().map(|x| packed::view_code(&mut self.b, x, dt)).collect()
        } else {
            out
        })
    }

    /// `thread_ids(L)`: in layout `L` every slot of a thread holds that thread's index; the result's
    /// own layout, when another, gets the values through shared memory.
    pub(super) fn thread_ids(&mut self, inst: &Inst, l: &TvLayout) -> Result<Vec<Reg>, Diagnostic> {
        let rl = self.layout(inst.results[0])?;
        if l.replication() != 1 || l.num_threads() != i64::from(self.kernel.threads()) {
            return Err(refuse(inst.span, "`thread_ids` needs a layout over all the block's threads without replication"));
        }
        let own = vec![self.tid; l.num_values() as usize];
        if &rl == l {
            return Ok(own);
        }
        self.relayout(&own, DType::I64, l, &rl, inst.span)
    }
}

/// The slots of layout `l` in groups adjacent in a row-major staging buffer of `held` elements:
/// consecutive along the last dimension, at most 16 bytes, and starting on a multiple of the group's
/// size (the buffer is 16-byte aligned and every row stride is a known constant).
/// `log2` of what the unit-stride extent of a row-major tensor is known to be a multiple of, in the
/// wide and the narrow version of an access: a fixed extent's own factor, or the row stride (which is
/// that extent) when the access tests or proves it. A group of `2^k` elements starts on a multiple of
/// `2^k` along that dimension (its address is aligned and every other dimension's stride is a
/// multiple of the extent), so with the extent a multiple of `2^k` it cannot straddle the edge.
fn edge_pow2(shape: &[Dim], declared_strides: bool, align: &Alignment, widths: &Widths) -> [u32; 2] {
    let (Some(unit), false) = (align.unit, declared_strides) else { return [0, 0] };
    let fixed = match shape[unit] {
        Dim::Fixed(n) => pow2_of(n as i64),
        Dim::Sym(_) => 0,
    };
    let row = unit.checked_sub(1).and_then(|u| align.terms.iter().find(|t| t.0 == Term::Stride(u)));
    match row {
        Some(&(term, proven)) => {
            let wide = if widths.tests.contains(&term) { proven.max(widths.wide) } else { proven };
            [fixed.max(wide), fixed.max(proven)]
        }
        None => [fixed, fixed],
    }
}

fn staged_groups(l: &TvLayout, held: DType) -> Vec<Vec<usize>> {
    let r = l.rank();
    if r == 0 {
        return (0..l.num_values() as usize).map(|v| vec![v]).collect();
    }
    let runs = Runs::of(l, r - 1);
    let rows: Vec<Dim> = l.shape().iter().map(|&n| Dim::Fixed(n as u64)).collect();
    // Offsets 0: every other term is a row stride, a product of the tile's extents.
    let align = Alignment::of(&rows, None, l.shape(), &vec![ZERO; r]);
    let w = Widths::choose(runs, &align, held.bits(), 128, 0).wide;
    runs.groups(l.num_values(), 1 << w)
}

/// The slot registers of groups (`groups[i]`'s slots are the lanes of `regs[i]`).
pub(super) fn unpack(b: &mut Builder, regs: &[Reg], groups: &[Vec<usize>], num_values: i64) -> Vec<Reg> {
    let mut out = vec![None; num_values as usize];
    for (&r, g) in regs.iter().zip(groups) {
        for (lane, &s) in g.iter().enumerate() {
            out[s] = Some(if g.len() == 1 { r } else { b.extract(r, lane as u32) });
        }
    }
    out.into_iter().map(|r| r.expect("the groups cover every slot")).collect()
}

/// Registers of `narrow` groups repacked as the `wide` groups made of the same slots.
pub(super) fn regroup(b: &mut Builder, regs: &[Reg], narrow: &[Vec<usize>], wide: &[Vec<usize>]) -> Vec<Reg> {
    if narrow == wide {
        return regs.to_vec();
    }
    let mut at = HashMap::new();
    for (i, g) in narrow.iter().enumerate() {
        for (lane, &s) in g.iter().enumerate() {
            at.insert(s, (i, lane));
        }
    }
    wide.iter()
        .map(|g| {
            let elems: Vec<Reg> = g
                .iter()
                .map(|s| {
                    let (i, lane) = at[s];
                    if narrow[i].len() == 1 {
                        regs[i]
                    } else {
                        b.extract(regs[i], lane as u32)
                    }
                })
                .collect();
            if elems.len() == 1 {
                elems[0]
            } else {
                b.pack(&elems)
            }
        })
        .collect()
}

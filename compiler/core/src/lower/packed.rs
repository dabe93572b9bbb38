//! Packed tensors in the thread program: elements of 1 to 7 bits (`u4`, `i3`, `f6e3m2`, `f4e2m1`,
//! ..., and `bool`), stored densely LSB-first — element `i` at bits `[i·p, (i+1)·p)` of the tensor's
//! bytes (docs/dtypes.md) — and addressed by bytes.
//!
//! What it guarantees:
//! * **loads** read whole groups of a thread's consecutive elements whose bits start on a byte and
//!   span whole bytes (`contiguity`: the group start is proven a multiple of `8 / gcd(p, 8)`
//!   elements, statically or by a block-uniform test), as aligned 1- to 16-byte accesses; the bytes
//!   are reinterpreted in registers as a vector of the packed type (`bitcast u32x3 → f6e3m2x16`), one
//!   element per lane, exactly the memory order. Elements that cannot be grouped (a ragged edge, an
//!   unproven alignment) are extracted one by one: load the byte(s) holding the element (two when it
//!   straddles a byte boundary, the second only then), shift and mask its bits, and view the code as
//!   the packed type. Every address read is inside the tensor; elements outside it read as code 0.
//! * **conversions** of a loaded low-bit tile to `f16` or `f32` — integers of 1 to 8 bits, `bool`,
//!   and finite-only small floats with at most 4 exponent bits (the table is `widen::trick`) — take
//!   its raw 32-bit words and build two f16 per u32 with `lop3`/`prmt` and shifts, fixed by one
//!   f16x2 instruction: for `u4`, `(q >> 4s) & 0x000f000f | 0x6400_6400` are two f16 of value
//!   `1024 + nibble`, from which one f16x2 subtraction of 1024 gives both elements exactly
//!   (widen.rs).
//! * **stores** are plain stores of whole bytes, and only where each thread provably owns every byte
//!   it writes: groups start on a byte (statically proven) and the first holder of a replicated tile
//!   stores. A group cut by the tensor's edge writes only the bytes that hold an element inside;
//!   their other bits are padding (or a strided tensor's gap). Anything else — masked stores, an
//!   unproven alignment — is refused with a diagnostic: no read-modify-write, which would race.

use super::memory::{regroup, unpack};
use super::{refuse, widen, Lowering};
use crate::diag::Diagnostic;
use crate::thread::{Builder, CmpOp, Reg, Ty};
use crate::tir::{Inst, Op, ValueId};
use tilec_dtype::DType;

/// The raw groups of a tile loaded from a packed tensor: `regs[i]` (`dtype x groups[i].len()`)
/// holds the elements of slots `groups[i]`, in memory order.
pub(super) struct Groups {
    regs: Vec<Reg>,
    groups: Vec<Vec<usize>>,
}

/// `log2` of the elements a group must start on and span for its bits to be whole bytes.
fn byte_elems_pow2(p: u32) -> u32 {
    3 - p.trailing_zeros().min(3)
}

/// The register type of one aligned access of `c` bytes.
fn chunk_ty(c: u32) -> Ty {
    match c {
        1 => Ty::scalar(DType::U8),
        2 => Ty::scalar(DType::U16),
        4 => Ty::U32,
        _ => Ty::vec(DType::U32, c / 4),
    }
}

/// The accesses `n` bytes at an offset that is a multiple of `2^align` take: `(position, size)`,
/// each as wide as its alignment allows, at most 16 bytes.
fn chunks(n: u32, align: u32) -> Vec<(u32, u32)> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < n {
        let mut c = 16u32.min(1 << align.min(4));
        while c > n - pos || pos % c != 0 {
            c /= 2;
        }
        out.push((pos, c));
        pos += c;
    }
    out
}

/// The granule (1, 2 or 4 bytes) common to accesses of `sizes`: the smallest.
fn granule(sizes: impl Iterator<Item = u32>) -> (u32, DType) {
    let g = sizes.min().unwrap_or(4).min(4);
    (g, [DType::U8, DType::U16, DType::U32][g.trailing_zeros() as usize])
}

/// `x` viewed as `lanes` granules of `g` (a register move when it already is).
fn granules(b: &mut Builder, x: Reg, gty: DType, lanes: u32) -> Reg {
    let want = Ty::vec(gty, lanes);
    if b.ty(x) == want {
        x
    } else {
        b.bitcast(x, want)
    }
}

fn lane(b: &mut Builder, x: Reg, i: u32) -> Reg {
    if b.ty(x).is_scalar() {
        x
    } else {
        b.extract(x, i)
    }
}

/// Loads `n` bytes of global `param` at byte offset `off` (a multiple of `2^align`) as `to`.
fn load_bytes(b: &mut Builder, param: usize, off: Reg, n: u32, align: u32, to: Ty) -> Reg {
    let parts: Vec<(Reg, u32)> = chunks(n, align)
        .into_iter()
        .map(|(pos, c)| {
            let at = if pos == 0 {
                off
            } else {
                let d = b.i64(i64::from(pos));
                b.add(off, d)
            };
            (b.load_global(param, at, chunk_ty(c), None, None), c)
        })
        .collect();
    if let [(x, _)] = parts[..] {
        return if b.ty(x) == to { x } else { b.bitcast(x, to) };
    }
    let (g, gty) = granule(parts.iter().map(|p| p.1));
    let mut elems = Vec::new();
    for (x, c) in parts {
        let v = granules(b, x, gty, c / g);
        for i in 0..c / g {
            elems.push(lane(b, v, i));
        }
    }
    let whole = b.pack(&elems);
    b.bitcast(whole, to)
}

/// Stores `value` (`n` bytes) at byte offset `off` (a multiple of `2^align`) of global `param`.
fn store_bytes(b: &mut Builder, param: usize, off: Reg, value: Reg, n: u32, align: u32, pred: Reg) {
    let parts = chunks(n, align);
    if let [(_, c)] = parts[..] {
        let v = if b.ty(value) == chunk_ty(c) { value } else { b.bitcast(value, chunk_ty(c)) };
        b.store_global(param, off, v, Some(pred));
        return;
    }
    let (g, gty) = granule(parts.iter().map(|p| p.1));
    let all = granules(b, value, gty, n / g);
    for (pos, c) in parts {
        let lanes: Vec<Reg> = (pos / g..(pos + c) / g).map(|i| lane(b, all, i)).collect();
        let v = if lanes.len() == 1 { lanes[0] } else { b.pack(&lanes) };
        let v = if b.ty(v) == chunk_ty(c) { v } else { b.bitcast(v, chunk_ty(c)) };
        let at = if pos == 0 {
            off
        } else {
            let d = b.i64(i64::from(pos));
            b.add(off, d)
        };
        b.store_global(param, at, v, Some(pred));
    }
}

/// The bytes holding a whole number of elements of `dt`: how many, and how many elements.
fn whole_bytes(dt: DType) -> (u32, u32) {
    let p = dt.bits();
    let bytes = p / gcd(p, 8);
    (bytes, bytes * 8 / p)
}

/// The code of `x` (a scalar of packed type `dt`) in the low bits of a u8, the rest 0: `x` and
/// zeros viewed as bytes, byte 0. The inverse of [`view_code`].
pub(super) fn code_byte(b: &mut Builder, x: Reg, dt: DType) -> Reg {
    let (bytes, elems) = whole_bytes(dt);
    let v = if elems == 1 {
        x
    } else {
        let zero = b.const_int(dt, 0);
        let mut all = vec![x];
        all.extend(std::iter::repeat_n(zero, elems as usize - 1));
        b.pack(&all)
    };
    let v = b.bitcast(v, Ty::vec(DType::U8, bytes));
    lane(b, v, 0)
}

/// A code in the low bits of `code8` (a u8) as a scalar of packed type `dt`: the byte(s) of a whole
/// number of elements, viewed as a vector of `dt`, lane 0.
pub(super) fn view_code(b: &mut Builder, code8: Reg, dt: DType) -> Reg {
    let (bytes, elems) = whole_bytes(dt);
    let v = if bytes == 1 {
        code8
    } else {
        let zero = b.const_int(DType::U8, 0);
        let mut elems = vec![code8];
        elems.extend(std::iter::repeat_n(zero, bytes as usize - 1));
        b.pack(&elems)
    };
    let v = b.bitcast(v, Ty::vec(dt, elems));
    b.extract(v, 0)
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// One element of packed type `dt` at bit `bit` of global `param`, or code 0 unless `inside`: shift
/// and mask of the byte holding it (and of the next, when it straddles into it).
fn load_element(b: &mut Builder, param: usize, dt: DType, bit: Reg, inside: Reg) -> Reg {
    let p = dt.bits();
    let zero8 = b.const_int(DType::U8, 0);
    let three = b.i64(3);
    let byte = b.shr(bit, three);
    let seven = b.i64(7);
    let shift = b.and(bit, seven);
    let b0 = b.load_global(param, byte, Ty::scalar(DType::U8), Some(inside), Some(zero8));
    let mut word = b.cast(b0, DType::U32);
    if 8 % p != 0 {
        let last = b.i64(i64::from(8 - p));
        let straddles = b.cmp(CmpOp::Gt, shift, last);
        let both = b.and(inside, straddles);
        let one = b.i64(1);
        let next = b.add(byte, one);
        let b1 = b.load_global(param, next, Ty::scalar(DType::U8), Some(both), Some(zero8));
        let hi = b.cast(b1, DType::U32);
        let eight = b.u32(8);
        let hi = b.shl(hi, eight);
        word = b.or(word, hi);
    }
    let shift = b.cast(shift, DType::U32);
    let bits = b.shr(word, shift);
    let mask = b.u32((1 << p) - 1);
    let code = b.and(bits, mask);
    let code8 = b.cast(code, DType::U8);
    view_code(b, code8, dt)
}

impl Lowering<'_> {
    /// `load` of a packed tensor (see the module's comment).
    pub(super) fn load_packed(&mut self, tile: ValueId, tensor: usize, offsets: &[ValueId]) -> Result<Vec<Reg>, Diagnostic> {
        let dt = self.kernel.ty(tile).dtype();
        let p = dt.bits();
        let acc = self.addresses(tile, tensor, offsets, 128, byte_elems_pow2(p))?;
        let param = self.params[tensor];
        let pb = self.b.i64(i64::from(p));
        let bit: Vec<Reg> = acc.index.iter().map(|&i| self.b.mul(i, pb)).collect();
        let one = |b: &mut Builder, g: &[usize]| -> Reg {
            if g.len() == 1 {
                return load_element(b, param, dt, bit[g[0]], acc.inside[g[0]]);
            }
            let all = acc.all_inside(b, g);
            let (w, ty) = (g.len() as u32, Ty::vec(dt, g.len() as u32));
            let align = w.trailing_zeros() + p.trailing_zeros() - 3;
            b.if_(
                all,
                &[ty],
                |b| {
                    let three = b.i64(3);
                    let byte = b.shr(bit[g[0]], three);
                    vec![load_bytes(b, param, byte, w * p / 8, align, ty)]
                },
                |b| {
                    let elems: Vec<Reg> = g.iter().map(|&s| load_element(b, param, dt, bit[s], acc.inside[s])).collect();
                    vec![b.pack(&elems)]
                },
            )[0]
        };
        let (wide, narrow) = (acc.groups(acc.widths.wide), acc.groups(acc.widths.narrow));
        let tys: Vec<Ty> = wide.iter().map(|g| Ty::vec(dt, g.len() as u32)).collect();
        let regs = self.versioned(
            &acc,
            &tys,
            |b| wide.iter().map(|g| one(b, g)).collect(),
            |b| {
                let regs: Vec<Reg> = narrow.iter().map(|g| one(b, g)).collect();
                regroup(b, &regs, &narrow, &wide)
            },
        );
        let slots = unpack(&mut self.b, &regs, &wide, acc.num_values);
        self.packed_groups.insert(tile, Groups { regs, groups: wide });
        Ok(slots)
    }

    /// `store` of a packed tensor: whole bytes only (see the module's comment).
    pub(super) fn store_packed(&mut self, inst: &Inst, value: ValueId, tensor: usize, offsets: &[ValueId], mask: Option<ValueId>) -> Result<(), Diagnostic> {
        let dt = self.kernel.ty(value).dtype();
        let p = dt.bits();
        if mask.is_some() {
            return Err(refuse(inst.span, &format!("a masked store to a packed `{dt}` tensor would write parts of bytes, which only a read-modify-write can do (a race between threads); store whole rows or unmasked tiles")));
        }
        let min = byte_elems_pow2(p);
        let acc = self.addresses(value, tensor, offsets, 128, min)?;
        if acc.widths.narrow < min {
            return Err(refuse(
                inst.span,
                &format!(
                    "a thread would write part of a byte of this packed `{dt}` tensor: its elements must come in runs of a multiple of {} along the unit-stride dimension, at offsets proven to be multiples of it (runs of {} here)",
                    1 << min,
                    acc.runs.len
                ),
            ));
        }
        let param = self.params[tensor];
        let pb = self.b.i64(i64::from(p));
        let bit: Vec<Reg> = acc.index.iter().map(|&i| self.b.mul(i, pb)).collect();
        let raw_bit: Vec<Reg> = acc.raw.iter().map(|&i| self.b.mul(i, pb)).collect();
        let vals = self.get(value);
        let first = acc.first;
        let one = |b: &mut Builder, g: &[usize]| {
            let (w, ty) = (g.len() as u32, Ty::vec(dt, g.len() as u32));
            let n = w * p / 8;
            let v = b.pack(&g.iter().map(|&s| vals[s]).collect::<Vec<_>>());
            let all = acc.all_inside(b, g);
            let align = w.trailing_zeros() + p.trailing_zeros() - 3;
            debug_assert_eq!(b.ty(v), ty);
            b.if_(
                all,
                &[],
                |b| {
                    let three = b.i64(3);
                    let byte = b.shr(bit[g[0]], three);
                    store_bytes(b, param, byte, v, n, align, first);
                    vec![]
                },
                |b| {
                    // Cut by the edge: each byte that holds an element inside, by itself.
                    let three = b.i64(3);
                    let base = b.shr(raw_bit[g[0]], three);
                    let bytes = if n == 1 { b.bitcast(v, Ty::scalar(DType::U8)) } else { b.bitcast(v, Ty::vec(DType::U8, n)) };
                    for j in 0..n {
                        let (lo, hi) = ((8 * j / p) as usize, (((8 * j + 7) / p) as usize).min(g.len() - 1));
                        let mut any = acc.inside[g[lo]];
                        for &e in &g[lo + 1..=hi] {
                            any = b.or(any, acc.inside[e]);
                        }
                        let pred = b.and(any, first);
                        let d = b.i64(i64::from(j));
                        let at = b.add(base, d);
                        let x = lane(b, bytes, j);
                        b.store_global(param, at, x, Some(pred));
                    }
                    vec![]
                },
            );
        };
        self.for_each_group(&acc, |b, g, _| one(b, g));
        Ok(())
    }

    /// Records the raw groups of a tile of 8-bit integers loaded from memory, so that a cast of it
    /// can widen whole words with `prmt` ([`Self::cast_packed`]).
    pub(super) fn record_byte_groups(&mut self, tile: ValueId, regs: &[Reg], groups: &[Vec<usize>]) {
        self.packed_groups.insert(tile, Groups { regs: regs.to_vec(), groups: groups.to_vec() });
    }

    /// Whether `inst` is a `cast` of low-bit tile `a` that [`Self::cast_packed`] does by bit tricks:
    /// the pair (dtype, target) has a path in [`widen::trick`], and `a` was loaded in groups of whole
    /// 32-bit words.
    pub(super) fn converts_after_cast(&self, inst: &Inst, a: ValueId) -> bool {
        let Op::Cast(x) = inst.op else { return false };
        let to = self.kernel.ty(inst.results[0]).dtype();
        let Some(t) = widen::trick(self.kernel.ty(a).dtype(), to) else { return false };
        x == a && self.packed_groups.get(&a).is_some_and(|g| g.groups.iter().all(|g| (g.len() as u32 * t.bits()).is_multiple_of(32)))
    }

    /// `cast<to>(a)` (`inst`) of a low-bit tile to `f16` or `f32` by the bit tricks of
    /// [`widen::widen_words`], two elements per f16x2 instruction, from its raw 32-bit words, in the
    /// layout it was loaded in; where the cast's result has another layout, the f16 values are
    /// exchanged (half the bytes of f32, and no per-element unpacking of codes). `None` where
    /// [`Self::converts_after_cast`] does not hold.
    pub(super) fn cast_packed(&mut self, inst: &Inst, a: ValueId, to: DType) -> Result<Option<Vec<Reg>>, Diagnostic> {
        if !self.converts_after_cast(inst, a) {
            return Ok(None);
        }
        let t = widen::trick(self.kernel.ty(a).dtype(), to).expect("checked by converts_after_cast");
        let groups = &self.packed_groups[&a];
        let (regs, slots) = (groups.regs.clone(), groups.groups.clone());
        let (from, result) = (self.layouts.of(a).cloned(), self.layout(inst.results[0])?);
        let from = from.expect("a loaded tile has a layout");
        let b = &mut self.b;
        let mut out = vec![None; from.num_values() as usize];
        for (r, g) in regs.iter().zip(&slots) {
            let n = g.len() as u32 * t.bits() / 32;
            let w = b.bitcast(*r, Ty::vec(DType::U32, n));
            let words: Vec<Reg> = (0..n).map(|i| lane(b, w, i)).collect();
            for (e, x) in widen::widen_words(b, t, &words).into_iter().enumerate() {
                out[g[e]] = Some(x);
            }
        }
        let halves: Vec<Reg> = out.into_iter().map(|x| x.expect("the groups cover every slot")).collect();
        let halves = if from == result { halves } else { self.relayout(&halves, DType::F16, &from, &result, inst.span)? };
        Ok(Some(if to == DType::F16 { halves } else { halves.into_iter().map(|x| self.b.cast(x, to)).collect() }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_follow_the_proven_alignment() {
        assert_eq!(chunks(12, 2), vec![(0, 4), (4, 4), (8, 4)]);
        assert_eq!(chunks(12, 4), vec![(0, 8), (8, 4)]);
        assert_eq!(chunks(3, 0), vec![(0, 1), (1, 1), (2, 1)]);
        assert_eq!(chunks(16, 5), vec![(0, 16)]);
        assert_eq!(chunks(6, 1), vec![(0, 2), (2, 2), (4, 2)]);
    }

    #[test]
    fn groups_start_on_bytes() {
        assert_eq!([1, 2, 3, 4, 5, 6, 7].map(byte_elems_pow2), [3, 2, 3, 1, 3, 2, 3]);
    }
}

//! The plan for the kernel's `shared<T>` tiles, made before the body is lowered: which `load(view)`s
//! feed a `dot`'s `ldmatrix` straight from their buffer, and the swizzle of each buffer.
//!
//! What this guarantees:
//! * **Direct reads.** A `dot` operand selected for `mma.sync` whose value is `load(view)` of a
//!   16-bit buffer is read by `ldmatrix` at the view (no `ld.shared` into registers, no staging tile,
//!   no barrier of the dot's own) when: its only use in the kernel is that dot; the load lies in the
//!   dot's block with nothing between them that can change shared memory (stores, copies, waits,
//!   barriers, nested control flow); the fragment layout the mma wants divides an `ldmatrix` layout;
//!   and the buffer's layout gives `ldmatrix` what it needs — the tile's rows are the buffer's last
//!   dimension (contiguous), each row start is 16-byte aligned (the view's origin provably aligned,
//!   the row stride a multiple of 16 bytes; the `ldmatrix` blocks start on multiples of 8 columns),
//!   and the buffer's swizzle keeps 16-byte runs together. The decision depends on those facts, not
//!   on the shape of one kernel.
//! * **Swizzles.** A buffer that feeds `ldmatrix` directly gets the smallest swizzle the
//!   bank-conflict analysis (`tilec_layout::smem::choose_swizzle_for`) finds conflict-free for all
//!   its known accesses together — the `ldmatrix` reads, the `cp.async` chunks of its copies, the
//!   `ld`/`st.shared` of its other loads and stores, per warp — on its last two dimensions (one
//!   plane, e.g. one pipeline stage), else for the `ldmatrix` reads alone, else none. A swizzle is
//!   only taken when it permutes whole 16-byte runs (`2^M` elements of at least 16 bytes) within
//!   blocks of `2^(M+B)` elements that tile each plane, so it is a bijection of every plane and of
//!   the buffer and leaves every access of up to 16 aligned bytes contiguous. Every access to the
//!   buffer goes through it (`shared_tiles.rs`), so results do not depend on it. Other buffers stay
//!   row-major.

use super::mma::Feed;
use super::shared_tiles::chunk_width;
use super::Lowering;
use crate::thread::{BinOp, Reg};
use crate::tir::{Block, Inst, Op, SharedView, ValueId};
use std::collections::HashMap;
use tilec_layout::smem::{self, Access, WarpAccess};
use tilec_layout::{IntTuple, Layout, Swizzle, TvLayout};

/// The blocks nested in `op` (loop bodies, branches, conditions).
fn blocks(op: &Op) -> Vec<&Block> {
    match op {
        Op::For { body, .. } => vec![body],
        Op::If { then, els, .. } => vec![then, els],
        Op::While { cond, body, .. } => vec![cond, body],
        _ => Vec::new(),
    }
}

/// How many times each value is used (operands and yields), in every block of the kernel.
fn use_counts(block: &Block, out: &mut HashMap<ValueId, usize>) {
    for inst in &block.insts {
        for v in inst.op.operands() {
            *out.entry(v).or_default() += 1;
        }
        for sub in blocks(&inst.op) {
            use_counts(sub, out);
        }
    }
    for &v in &block.yields {
        *out.entry(v).or_default() += 1;
    }
}

/// Whether `inst` may change shared memory, or order its accesses, between a load and its use.
fn touches_shared(inst: &Inst) -> bool {
    matches!(inst.op, Op::StoreShared { .. } | Op::CopyAsync { .. } | Op::WaitGroup(_) | Op::Barrier | Op::CommitGroup) || !blocks(&inst.op).is_empty()
}

impl Lowering<'_> {
    /// Fills `shared_tiles.direct` and `shared_tiles.swizzles` (the module's plan).
    pub(super) fn plan_shared_tiles(&mut self) {
        let k = self.kernel;
        let mut uses = HashMap::new();
        use_counts(&k.body, &mut uses);
        // Per buffer, the warp accesses of the `ldmatrix` reads planned on it.
        let mut reads: Vec<Vec<WarpAccess>> = vec![Vec::new(); k.shared.len()];
        self.find_direct_reads(&k.body, &uses, &mut reads);
        self.shared_tiles.swizzles = (0..k.shared.len()).map(|buf| if reads[buf].is_empty() { Swizzle::identity() } else { self.choose_swizzle(buf, &reads[buf]) }).collect();
    }

    fn find_direct_reads(&mut self, block: &Block, uses: &HashMap<ValueId, usize>, reads: &mut [Vec<WarpAccess>]) {
        for (i, inst) in block.insts.iter().enumerate() {
            for sub in blocks(&inst.op) {
                self.find_direct_reads(sub, uses, reads);
            }
            let Op::Dot { a, b, .. } = inst.op else { continue };
            for (operand, v) in [(0, a), (1, b)] {
                if a == b || uses.get(&v) != Some(&1) {
                    continue;
                }
                // The load in this block, with nothing touching shared memory up to the dot.
                let Some(j) = block.insts[..i].iter().rposition(|l| l.results.contains(&v)) else { continue };
                let Op::LoadShared(view) = &block.insts[j].op else { continue };
                if block.insts[j + 1..i].iter().any(touches_shared) || !self.ldmatrix_can_read(view) {
                    continue;
                }
                let Some(Feed::Ldmatrix { count, ldm, issues, .. }) = self.ldmatrix_feed_of(inst, operand) else { continue };
                let origin = self.plane_origin(view);
                let Some(accesses) = ldmatrix_accesses(count, &ldm, &issues, origin) else { continue };
                reads[view.buffer].extend(accesses);
                self.shared_tiles.direct.insert(v);
            }
        }
    }

    /// Whether `ldmatrix` can read tiles of `view` in place (the module's conditions on the buffer).
    fn ldmatrix_can_read(&self, view: &SharedView) -> bool {
        let buf = &self.kernel.shared[view.buffer];
        let r = buf.shape.len();
        r >= 2 && buf.dtype.bits() == 16 && view.spans == [r - 2, r - 1] && (buf.shape[r - 1] * 2).is_multiple_of(16) && self.view_alignment(view) == 16
    }

    /// The view's origin in its buffer's last two dimensions, where constant (else 0: the swizzle's
    /// choice is a heuristic; correctness does not depend on it).
    fn plane_origin(&self, view: &SharedView) -> [i64; 2] {
        let r = view.offsets.len();
        let at = |d: usize| self.shared_tiles.consts.get(&view.offsets[d]).copied().unwrap_or(0);
        if r < 2 {
            return [0, 0];
        }
        [at(r - 2), at(r - 1)]
    }

    /// The swizzle of buffer `buf` read by `ldmatrix` as `reads` says (the module's rule).
    fn choose_swizzle(&self, buf: usize, reads: &[WarpAccess]) -> Swizzle {
        let b = &self.kernel.shared[buf];
        let r = b.shape.len();
        let (rows, cols) = (b.shape[r - 2] as i64, b.shape[r - 1] as i64);
        let bits = i64::from(b.dtype.bits());
        let Ok(plane) = Layout::row_major(IntTuple::from(vec![rows, cols])) else { return Swizzle::identity() };
        let mut all = self.other_accesses(buf);
        all.extend_from_slice(reads);
        let usable = |sw: &Swizzle| {
            let (bb, m, _) = sw.params();
            sw.is_identity() || ((1i64 << m) * bits >= 128 && (rows * cols) % (1i64 << (m + bb)) == 0)
        };
        let choose = |accesses: &[WarpAccess]| smem::choose_swizzle_for(&plane, bits, accesses).ok().flatten().map(|(sw, _)| sw).filter(usable);
        choose(&all).or_else(|| choose(reads)).unwrap_or_else(Swizzle::identity)
    }

    /// The warp accesses of the kernel's copies, loads and stores of buffer `buf` other than the
    /// direct reads, on its last two dimensions.
    fn other_accesses(&self, buf: usize) -> Vec<WarpAccess> {
        let mut out = Vec::new();
        self.collect_accesses(&self.kernel.body, buf, &mut out);
        out
    }

    fn collect_accesses(&self, block: &Block, buf: usize, out: &mut Vec<WarpAccess>) {
        let k = self.kernel;
        let bits = i64::from(k.shared[buf].dtype.bits());
        for inst in &block.insts {
            for sub in blocks(&inst.op) {
                self.collect_accesses(sub, buf, out);
            }
            let (view, layout) = match &inst.op {
                Op::CopyAsync { view, shape, .. } if view.buffer == buf => {
                    out.extend(self.copy_accesses(view, shape));
                    continue;
                }
                Op::LoadShared(view) if view.buffer == buf && !self.shared_tiles.direct.contains(&inst.results[0]) => (view, self.layouts.of(inst.results[0])),
                Op::StoreShared { view, value } if view.buffer == buf => (view, self.layouts.of(*value)),
                _ => continue,
            };
            let Some(l) = layout else { continue };
            // The widest slot groups the layout has (an estimate of `slot_runs`'s).
            let widest = [8i64, 4, 2, 1].into_iter().filter(|w| w * bits <= 128).find_map(|w| WarpAccess::from_tv(l, w, bits).ok());
            if let Some(accesses) = widest {
                out.extend(accesses.into_iter().map(|a| self.to_plane(view, a)));
            }
        }
    }

    /// The warp accesses of `copy_async(view, ..)` of a tile of `shape`: chunks dealt round-robin
    /// to the block's threads, as `copy_async_tile` deals them.
    fn copy_accesses(&self, view: &SharedView, shape: &[u64]) -> Vec<WarpAccess> {
        let bits = i64::from(self.kernel.shared[view.buffer].dtype.bits());
        let shape: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
        let row = self.buffer_strides(view.buffer);
        let strides: Vec<i64> = view.spans.iter().map(|&d| row[d]).collect();
        if shape.is_empty() || strides.len() != shape.len() {
            return Vec::new();
        }
        let width = chunk_width(&shape, &strides, self.view_alignment(view), bits / 8);
        let rank = shape.len();
        let chunks = shape.iter().product::<i64>() / width;
        let threads = i64::from(self.kernel.threads());
        let coord = |chunk: i64| {
            let mut c = vec![0i64; rank];
            let mut rest = chunk;
            for d in (0..rank).rev() {
                let n = if d == rank - 1 { shape[d] / width } else { shape[d] };
                c[d] = (rest % n) * if d == rank - 1 { width } else { 1 };
                rest /= n;
            }
            c
        };
        let mut out = Vec::new();
        for round in 0..(chunks + threads - 1) / threads {
            for warp in 0..(threads + 31) / 32 {
                let lanes: Vec<Vec<i64>> = (warp * 32..((warp + 1) * 32).min(threads)).map(|t| t + round * threads).filter(|&c| c < chunks).map(coord).collect();
                if let Ok(a) = WarpAccess::vectorized(&lanes, width, bits) {
                    out.push(self.to_plane(view, a));
                }
            }
        }
        out
    }

    /// Access `a` in tile coordinates of `view` moved to its buffer's last two dimensions.
    fn to_plane(&self, view: &SharedView, a: WarpAccess) -> WarpAccess {
        let r = self.kernel.shared[view.buffer].shape.len();
        let origin = self.plane_origin(view);
        let place = |c: &[i64]| -> Vec<i64> {
            let mut p = origin.to_vec();
            for (&x, &d) in c.iter().zip(&view.spans) {
                if d + 2 >= r {
                    p[d + 2 - r] += x;
                }
            }
            p
        };
        WarpAccess { phases: a.phases.iter().map(|ph| ph.iter().map(|acc| Access { coord: place(&acc.coord), elems: acc.elems }).collect()).collect() }
    }

    /// Whether `v`'s `load` is read by its dot straight from the shared tile (the plan).
    pub(super) fn reads_tile_directly(&self, v: ValueId) -> bool {
        self.shared_tiles.direct.contains(&v)
    }

    /// Where a directly read operand lies, once its `load` has been lowered.
    pub(super) fn direct_tile_read(&mut self, v: ValueId) -> Option<super::mma::Staged> {
        self.shared_tiles.direct_places.remove(&v)
    }

    /// `sw` applied to element offset `elem` (an i64 register), as `Swizzle::apply` does.
    pub(super) fn swizzled(&mut self, sw: Swizzle, elem: Reg) -> Reg {
        if sw.is_identity() {
            return elem;
        }
        let (b, m, s) = sw.params();
        let mask = self.b.i64(((1i64 << b) - 1) << (m + s.max(0)));
        let bits = self.b.binary(BinOp::And, elem, mask);
        let shift = self.b.i64(s.abs());
        let moved = if s >= 0 { self.b.shr(bits, shift) } else { self.b.shl(bits, shift) };
        self.b.xor(elem, moved)
    }
}

/// The warp accesses of the `ldmatrix`s reading a tile whose origin is `origin` in its plane: per
/// warp and issue, matrix `j` at block `(j % 2, j / 2)` of the `ldm` tile.
fn ldmatrix_accesses(count: u32, ldm: &TvLayout, issues: &TvLayout, origin: [i64; 2]) -> Option<Vec<WarpAccess>> {
    let mut out = Vec::new();
    for w in 0..issues.num_threads() {
        for q in 0..issues.num_values() {
            let o = issues.coords(w, q).ok()?;
            let origins: Vec<[i64; 2]> = (0..i64::from(count)).map(|j| [origin[0] + o[0] * ldm.shape()[0] + 8 * (j % 2), origin[1] + o[1] * ldm.shape()[1] + 8 * (j / 2)]).collect();
            out.push(WarpAccess::ldmatrix(&origins, 16).ok()?);
        }
    }
    Some(out)
}

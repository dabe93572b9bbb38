//! Layout conversions that stay inside each warp, by `shfl.sync.idx` instead of a shared-memory
//! round trip.
//!
//! A conversion from layout `F` to layout `T` (same tile) qualifies when every element a thread
//! holds in `T` is held in `F` by a thread of the same warp, in a slot that depends only on the
//! destination slot: then destination slot `v` of every thread is one shuffle of source slot
//! `u(v)` from lane `holder(T.coords(t, v)) % 32`. The holder is computed in the program from the
//! coordinate: `F`'s modes cover each dimension exactly once as a mixed radix (`TvLayout::new`
//! checks it), so a mode's digit is `coord[dim] / stride % extent`, and the holding thread is its
//! thread digits in order (replication digits 0: the first holder). Both conditions are checked
//! exhaustively over `T`'s threads and slots when the conversion is lowered, so a conversion taken
//! here is exact. Values narrower than 32 bits travel zero-extended in a `u32`; 64-bit values and
//! conversions between warps keep the shared-memory path (`memory.rs`).

use super::{refuse, Lowering};
use crate::diag::Diagnostic;
use crate::syntax::Span;
use crate::thread::{CmpOp, Reg, ShflMode, Ty};
use tilec_dtype::DType;
use tilec_layout::TvLayout;

/// For each destination slot of `to`, the source slot of `from` that every thread shuffles, if the
/// conversion stays inside each warp (see the module docs).
fn source_slots(from: &TvLayout, to: &TvLayout, threads: i64) -> Option<Vec<i64>> {
    if from.shape() != to.shape() || from.num_threads() != threads || to.num_threads() != threads || threads % 32 != 0 {
        return None;
    }
    let mut slots = Vec::with_capacity(to.num_values() as usize);
    for v in 0..to.num_values() {
        let mut slot = None;
        for t in 0..threads {
            let c = to.coords(t, v).ok()?;
            let (src, u) = holder(from, &c);
            if src / 32 != t / 32 || *slot.get_or_insert(u) != u || from.coords(src, u).ok()? != c {
                return None;
            }
        }
        slots.push(slot?);
    }
    Some(slots)
}

/// The first `(thread, slot)` of `l` holding coordinate `c`: its mixed-radix digits.
fn holder(l: &TvLayout, c: &[i64]) -> (i64, i64) {
    let index = |modes: &[tilec_layout::tv::Mode]| {
        let (mut i, mut prefix) = (0, 1);
        for m in modes {
            if let Some(d) = m.dim {
                i += c[d] / m.stride % m.extent * prefix;
            }
            prefix *= m.extent;
        }
        i
    };
    (index(l.thread_modes()), index(l.value_modes()))
}

impl Lowering<'_> {
    /// Tile registers `regs` (element type `dt`) from layout `from` to layout `to` by shuffles
    /// within each warp, or `None` when the conversion crosses warps or the type is 64 bits wide.
    pub(super) fn shuffle_convert(&mut self, regs: &[Reg], dt: DType, from: &TvLayout, to: &TvLayout, at: Span) -> Result<Option<Vec<Reg>>, Diagnostic> {
        if dt.bits() > 32 || (!dt.bits().is_multiple_of(8) && !dt.is_bool()) {
            return Ok(None);
        }
        let Some(sources) = source_slots(from, to, i64::from(self.kernel.threads())) else { return Ok(None) };
        let (coords, _) = self.slots_in(to, at)?;
        let c32 = self.b.i64(32);
        let mut out = Vec::with_capacity(coords.len());
        for (c, &u) in coords.iter().zip(&sources) {
            // The holding thread's index from its digits along `from`'s thread modes.
            let mut src = self.b.i64(0);
            let mut prefix = 1i64;
            for m in from.thread_modes() {
                if let Some(d) = m.dim {
                    let (s, e, p) = (self.b.i64(m.stride), self.b.i64(m.extent), self.b.i64(prefix));
                    let q = self.b.div(c[d], s);
                    let digit = self.b.rem(q, e);
                    let step = self.b.mul(digit, p);
                    src = self.b.add(src, step);
                }
                prefix *= m.extent;
            }
            let lane = self.b.rem(src, c32);
            let lane = self.b.cast(lane, DType::I32);
            let word = self.word_of(regs[u as usize], dt);
            let moved = self.b.shfl(ShflMode::Idx, word, lane, u32::MAX);
            out.push(self.value_of_word(moved, dt));
        }
        if out.len() != to.num_values() as usize {
            return Err(refuse(at, "a shuffle conversion lost slots"));
        }
        Ok(Some(out))
    }

    /// `x` as the 32-bit value a shuffle moves: 32-bit types as they are, narrower ones
    /// zero-extended from their bits, bools as 0 or 1.
    fn word_of(&mut self, x: Reg, dt: DType) -> Reg {
        match dt.bits() {
            _ if dt.is_bool() => self.b.cast(x, DType::U32),
            32 => x,
            bits => {
                let raw = self.b.bitcast(x, Ty::scalar(unsigned(bits)));
                self.b.cast(raw, DType::U32)
            }
        }
    }

    /// The inverse of [`Self::word_of`].
    fn value_of_word(&mut self, w: Reg, dt: DType) -> Reg {
        match dt.bits() {
            _ if dt.is_bool() => {
                let zero = self.b.const_int(DType::U32, 0);
                self.b.cmp(CmpOp::Ne, w, zero)
            }
            32 => w,
            bits => {
                let raw = self.b.cast(w, unsigned(bits));
                self.b.bitcast(raw, Ty::scalar(dt))
            }
        }
    }
}

/// The unsigned integer type of `bits` bits (8 or 16).
fn unsigned(bits: u32) -> DType {
    if bits == 8 {
        DType::U8
    } else {
        DType::U16
    }
}

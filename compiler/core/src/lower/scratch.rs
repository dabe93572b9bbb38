//! The lowering's own shared memory — layout exchanges, cross-warp reductions, `dot` operands
//! staged for `ldmatrix` or for the FMA loop — placed by a compile-time plan so that buffers whose
//! live ranges are disjoint share bytes.
//!
//! What this guarantees:
//! * a scratch buffer is live from its allocation to its [`Lowering::release_scratch`], which its
//!   user calls right after the `bar.sync` that ends its last reads. Every such barrier is reached by
//!   the whole block (the lowering only emits barriers under block-uniform control flow), and it lies
//!   after the buffer's accesses in program order and inside the same loop bodies, so every path from
//!   an access of a released buffer to an access of a later buffer crosses it — also around a loop's
//!   back edge. Bytes reused by a later buffer are therefore never accessed by two threads in one
//!   barrier epoch: no race is introduced, as the emulator checks;
//! * buffers live at the same time never overlap: a new buffer takes the lowest 16-byte aligned
//!   offset that is free of every live buffer (first fit), so the block's scratch is its largest
//!   live set, up to fragmentation, rather than the sum of all buffers;
//! * the kernel's own `shared<T>` tiles come first and are never reused; the target's shared
//!   memory budget is checked against the tiles plus the plan's peak, when each buffer is placed, with the
//!   diagnostic at the construct that needed the buffer;
//! * a buffer never released stays live to the end (conservative, never unsound).

use super::{refuse, Lowering};
use crate::diag::Diagnostic;
use crate::syntax::Span;

/// Alignment of every scratch buffer (vector accesses, `ldmatrix` rows).
const ALIGN: u32 = 16;

/// The placement of the scratch buffers allocated so far.
#[derive(Default)]
pub(super) struct ScratchPlan {
    /// The live buffers: allocation, and byte range relative to the scratch region.
    live: Vec<(usize, u32, u32)>,
    /// The largest end of any buffer placed so far.
    peak: u32,
}

impl ScratchPlan {
    /// The lowest aligned offset where `bytes` bytes overlap no live buffer.
    fn first_fit(&self, bytes: u32) -> u32 {
        let mut taken: Vec<(u32, u32)> = self.live.iter().map(|&(_, s, e)| (s, e)).collect();
        taken.sort_unstable();
        let mut at = 0u32;
        for (start, end) in taken {
            if at + bytes <= start {
                break;
            }
            at = at.max(end.next_multiple_of(ALIGN));
        }
        at
    }
}

impl Lowering<'_> {
    /// A scratch buffer of `bytes` bytes (16-byte aligned), placed by the plan after the kernel's own
    /// shared tiles, within the target's shared-memory budget ([`super::Options::shared_bytes`]).
    pub(super) fn scratch(&mut self, name: &str, bytes: i64, at: Span) -> Result<usize, Diagnostic> {
        let fits = u32::try_from(bytes).ok().map(|b| (b, self.scratch_plan.first_fit(b)));
        let limit = self.options.shared_bytes;
        let Some((bytes, offset)) = fits.filter(|&(b, o)| self.shared_bytes + (o + b).max(self.scratch_plan.peak) <= limit) else {
            return Err(refuse(at, &format!("the thread-level lowering would need more than the target's {} KiB of shared memory to exchange tiles here", limit / 1024)));
        };
        let plan = &mut self.scratch_plan;
        plan.peak = plan.peak.max((offset + bytes).next_multiple_of(ALIGN));
        let start = self.shared_bytes.next_multiple_of(ALIGN) + offset;
        let buf = self.b.shared_at(name, bytes, ALIGN, start);
        self.scratch_plan.live.push((buf, offset, offset + bytes));
        Ok(buf)
    }

    /// Ends the live range of scratch buffer `buf`: called right after the block-wide barrier that
    /// follows its last accesses, so later buffers may reuse its bytes.
    pub(super) fn release_scratch(&mut self, buf: usize) {
        self.scratch_plan.live.retain(|&(b, ..)| b != buf);
    }
}

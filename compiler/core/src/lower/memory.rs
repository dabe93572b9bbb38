//! Where tile elements live outside registers: global addresses of the slots of a load or store, and
//! exchanges through shared memory (stage a tile row-major, read it back in another layout); conversions
//! inside a warp go by shuffles instead (`shuffle.rs`).

use super::{refuse, Lowering};
use crate::diag::Diagnostic;
use crate::syntax::Span;
use crate::thread::{BinOp, CmpOp, Reg, Ty};
use crate::tir::{Dim, Inst, ParamKind, ValueId};
use tilec_dtype::DType;
use tilec_layout::TvLayout;

/// The slots of a tile in a tensor.
pub(super) struct Access {
    /// Per slot: the element's byte offset (0 where masked off) and whether it is in bounds.
    pub(super) elems: Vec<(Reg, Reg)>,
    /// Whether this thread is the first holder of its elements (the one that stores them).
    pub(super) first: Reg,
    pub(super) dtype: DType,
}

impl Lowering<'_> {
    /// Where the slots of the tile a memory op moves lie in the tensor.
    pub(super) fn addresses(&mut self, tile: ValueId, tensor: usize, offsets: &[ValueId]) -> Result<Access, Diagnostic> {
        let ParamKind::Tensor { dtype, shape, strides } = &self.kernel.params[tensor].kind else { unreachable!("loads read tensors") };
        let dtype = *dtype;
        let mut dim = |d: &Dim| match d {
            Dim::Sym(i) => self.b.param(self.dims[*i]),
            Dim::Fixed(n) => self.b.i64(*n as i64),
        };
        let extents: Vec<Reg> = shape.iter().map(&mut dim).collect();
        // Element strides; `None` for row-major.
        let strides: Option<Vec<Reg>> = strides.as_ref().map(|s| s.iter().map(&mut dim).collect());
        let offs: Vec<Reg> = offsets.iter().map(|o| self.get(*o)[0]).collect();
        let (coords, first) = self.slots(tile)?;
        let bytes = self.b.i64((dtype.bits() / 8) as i64);
        let mut out = Vec::new();
        for c in coords {
            let mut linear = self.b.i64(0);
            let mut inside = self.b.bool(true);
            for d in 0..c.len() {
                let g = self.b.add(offs[d], c[d]);
                let zero = self.b.i64(0);
                let lo = self.b.cmp(CmpOp::Ge, g, zero);
                let hi = self.b.cmp(CmpOp::Lt, g, extents[d]);
                let both = self.b.binary(BinOp::And, lo, hi);
                inside = self.b.binary(BinOp::And, inside, both);
                linear = match &strides {
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
            // A masked-off element's offset is clamped to 0: the emulator checks every address.
            let zero = self.b.i64(0);
            let safe = self.b.select(inside, linear, zero);
            out.push((self.b.mul(safe, bytes), inside));
        }
        Ok(Access { elems: out, first, dtype })
    }

    /// A fresh shared buffer of `bytes` bytes (16-byte aligned), within the 48 KiB of static shared
    /// memory a block may have.
    pub(super) fn shared(&mut self, name: &str, bytes: i64, at: Span) -> Result<usize, Diagnostic> {
        let bytes = u32::try_from(bytes).ok().filter(|b| self.shared_bytes + b.next_multiple_of(16) <= 48 * 1024);
        let Some(bytes) = bytes else {
            return Err(refuse(at, "the thread-level lowering would need more than 48 KiB of shared memory to exchange tiles here"));
        };
        self.shared_bytes += bytes.next_multiple_of(16);
        Ok(self.b.shared(name, bytes, 16))
    }

    /// Writes tile registers `regs` (layout `l`, element type `dt`) row-major into a fresh shared
    /// buffer, one writer per element, then waits at a barrier. Bools travel as u8. Returns the
    /// buffer and the type it holds.
    pub(super) fn stage(&mut self, regs: &[Reg], l: &TvLayout, dt: DType, at: Span) -> Result<(usize, DType), Diagnostic> {
        let held = if dt.is_bool() { DType::U8 } else { dt };
        if held.bits() % 8 != 0 {
            return Err(refuse(at, &format!("the thread-level lowering cannot exchange `{dt}` tiles yet")));
        }
        let bytes = i64::from(held.bits() / 8);
        let buf = self.shared("exchange", l.size() * bytes, at)?;
        let (coords, first) = self.slots_in(l, at)?;
        for (c, &x) in coords.iter().zip(regs) {
            let off = self.row_major(c, l.shape(), bytes);
            let x = if dt.is_bool() { self.b.cast(x, held) } else { x };
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
        let (coords, _) = self.slots_in(to, at)?;
        let out = self.gather(buf, held, dt, &coords, to.shape());
        // The buffer is written again when this runs again (in a loop).
        self.b.bar_sync();
        Ok(out)
    }

    /// Reads the elements at `coords` of a staged row-major tile of `shape` (see [`Self::stage`]).
    pub(super) fn gather(&mut self, buf: usize, held: DType, dt: DType, coords: &[Vec<Reg>], shape: &[i64]) -> Vec<Reg> {
        let bytes = i64::from(held.bits() / 8);
        coords
            .iter()
            .map(|c| {
                let off = self.row_major(c, shape, bytes);
                let x = self.b.load_shared(buf, off, Ty::scalar(held));
                if dt.is_bool() {
                    let zero = self.b.const_int(held, 0);
                    self.b.cmp(CmpOp::Ne, x, zero)
                } else {
                    x
                }
            })
            .collect()
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

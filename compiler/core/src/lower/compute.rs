//! Operations beyond one slot at a time: `dot`, math functions, reductions (shuffles and
//! shared-memory exchanges), broadcasts and shape operations.

use super::{refuse, Lowering};
use crate::diag::Diagnostic;
use crate::passes::layout_infer::Xf;
use crate::thread::{BinOp, CmpOp, Reg, ShflMode, Ty, UnOp};
use crate::tir::{Inst, MathOp, ReduceOp, ValueId};
use tilec_dtype::DType;
use tilec_layout::TvLayout;

impl Lowering<'_> {
    /// `acc + a @ b`: by `mma.sync` where the layouts divide its fragments (`mma.rs`), else with
    /// scalar fused multiply-adds in the accumulator's type: both operands are staged in shared
    /// memory and each thread runs the K loop for the accumulator slots it holds.
    pub(super) fn dot(&mut self, inst: &Inst, a: ValueId, b: ValueId, acc: ValueId) -> Result<Vec<Reg>, Diagnostic> {
        if let Some(selected) = self.select_mma(inst) {
            return self.mma_dot(inst, selected);
        }
        let k = self.kernel;
        let (la, lb, lc) = (self.layout(a)?, self.layout(b)?, self.layout(inst.results[0])?);
        if la.rank() != 2 || lb.rank() != 2 {
            return Err(refuse(inst.span, "the thread-level lowering handles 2-D dots only"));
        }
        let (n_k, n_n) = (la.shape()[1], lb.shape()[1]);
        let (ta, tb, tc) = (k.ty(a).dtype(), k.ty(b).dtype(), k.ty(inst.results[0]).dtype());
        let (ra, rb, racc) = (self.get(a), self.get(b), self.get(acc));
        let (abuf, ah) = self.stage(&ra, &la, ta, inst.span)?;
        let (bbuf, bh) = self.stage(&rb, &lb, tb, inst.span)?;
        let (coords, _) = self.slots_in(&lc, inst.span)?;
        let (ab, bb) = (i64::from(ah.bits() / 8), i64::from(bh.bits() / 8));
        // Per slot, the byte offsets of a[i, 0] and b[0, j]; the loop steps them.
        let mut rows = Vec::new();
        for c in &coords {
            let row = self.b.i64(n_k * ab);
            let ia = self.b.mul(c[0], row);
            let eb = self.b.i64(bb);
            let jb = self.b.mul(c[1], eb);
            rows.push((ia, jb));
        }
        let init: Vec<Reg> = racc.iter().map(|&x| self.b.cast(x, tc)).collect();
        let (lo, hi, st) = (self.b.i32(0), self.b.i32(n_k as i32), self.b.i32(1));
        let results = self.b.for_(lo, hi, st, &init, |b, kk, carried| {
            let kk = b.cast(kk, DType::I64);
            let (sa, sb) = (b.i64(ab), b.i64(n_n * bb));
            let (ka, kb) = (b.mul(kk, sa), b.mul(kk, sb));
            rows.iter()
                .zip(carried)
                .map(|(&(ia, jb), &c)| {
                    let oa = b.add(ia, ka);
                    let ob = b.add(jb, kb);
                    let x = b.load_shared(abuf, oa, Ty::scalar(ah));
                    let y = b.load_shared(bbuf, ob, Ty::scalar(bh));
                    let (x, y) = (b.cast(x, tc), b.cast(y, tc));
                    b.fma(x, y, c)
                })
                .collect()
        });
        // The buffers are written again when this runs again (in a loop), or reused by later ones.
        self.b.bar_sync();
        self.release_scratch(abuf);
        self.release_scratch(bbuf);
        Ok(results)
    }

    /// A math function per slot, as the GPU computes it: in f32 (f64 only for square roots), `exp`
    /// and `log` through the base-2 instructions.
    pub(super) fn math(&mut self, inst: &Inst, m: MathOp, a: ValueId) -> Result<Vec<Reg>, Diagnostic> {
        let (dt, out) = (self.kernel.ty(a).dtype(), self.kernel.ty(inst.results[0]).dtype());
        let xs = self.get(a);
        if m == MathOp::Abs {
            return Ok(xs.into_iter().map(|x| self.b.unary(UnOp::Abs, x)).collect());
        }
        let work = match dt {
            DType::F64 if matches!(m, MathOp::Sqrt | MathOp::Rsqrt) => DType::F64,
            DType::F64 => return Err(refuse(inst.span, &format!("the thread-level lowering has no f64 `{}` yet", m.name()))),
            _ => DType::F32,
        };
        Ok(xs
            .into_iter()
            .map(|x| {
                let x = self.b.cast(x, work);
                let y = match m {
                    MathOp::Exp => {
                        let log2e = self.b.const_float(work, std::f64::consts::LOG2_E);
                        let scaled = self.b.mul(x, log2e);
                        self.b.unary(UnOp::Ex2, scaled)
                    }
                    MathOp::Exp2 => self.b.unary(UnOp::Ex2, x),
                    MathOp::Log => {
                        let ln2 = self.b.const_float(work, std::f64::consts::LN_2);
                        let l2 = self.b.unary(UnOp::Lg2, x);
                        self.b.mul(l2, ln2)
                    }
                    MathOp::Log2 => self.b.unary(UnOp::Lg2, x),
                    MathOp::Sqrt => self.b.unary(UnOp::Sqrt, x),
                    MathOp::Rsqrt => self.b.unary(UnOp::Rsqrt, x),
                    MathOp::Abs => unreachable!("handled above"),
                };
                self.b.cast(y, out)
            })
            .collect())
    }

    /// A reduction: each thread combines its own slots, then the threads along every reduced thread
    /// mode combine theirs: a butterfly of shuffles inside a warp, through shared memory across warps.
    /// Every holder ends with the whole result (the reduced modes become replication). Float sums
    /// accumulate in f32 (f64 for f64) and round once at the end.
    pub(super) fn reduce(&mut self, inst: &Inst, op: ReduceOp, value: ValueId, dim: Option<usize>) -> Result<Vec<Reg>, Diagnostic> {
        let k = self.kernel;
        let l = self.layout(value)?;
        let dims: Vec<usize> = dim.map_or_else(|| (0..l.rank()).collect(), |d| vec![d]);
        let result = inst.results[0];
        if let Some(rl) = self.layout_of(result).as_ref() {
            let keepdim = rl.rank() == l.rank();
            if l.reduce(&dims, keepdim).ok().as_ref() != Some(rl) {
                return Err(refuse(inst.span, "this reduction's result is laid out apart from its operand, which the thread-level lowering cannot do yet"));
            }
        }
        let (src, out) = (k.ty(value).dtype(), k.ty(result).dtype());
        // Bools travel as u32 0/1 (shuffles move 32-bit values); `any` is their max, `all` their min.
        let acc = match src {
            DType::Bool => DType::U32,
            d if d.is_float() && d != DType::F64 => DType::F32,
            d => d,
        };
        let combine = match op {
            ReduceOp::Sum => BinOp::Add,
            ReduceOp::Max | ReduceOp::Any => BinOp::Max,
            ReduceOp::Min | ReduceOp::All => BinOp::Min,
        };
        let red = |m: &tilec_layout::tv::Mode| m.dim.is_some_and(|d| dims.contains(&d));

        // 1. Within the thread: slot `v` folds into the result slot made of its kept value digits.
        let kept: i64 = l.value_modes().iter().filter(|m| !red(m)).map(|m| m.extent).product();
        let mut partial: Vec<Option<Reg>> = vec![None; kept as usize];
        for (v, x) in self.get(value).into_iter().enumerate() {
            let r = kept_slot(&l, &dims, v as i64);
            let x = self.b.cast(x, acc);
            let slot = &mut partial[r];
            *slot = Some(match *slot {
                None => x,
                Some(p) => self.b.binary(combine, p, x),
            });
        }
        let mut partial: Vec<Reg> = partial.into_iter().map(|p| p.expect("every result slot has an operand slot")).collect();

        // 2. Across threads, one reduced thread mode at a time: the part of the mode inside a warp
        //    by a shuffle butterfly, the part across warps (thread step >= 32) through shared memory.
        let mut prefix = 1i64;
        for m in l.thread_modes().to_vec() {
            if red(&m) && m.extent > 1 {
                let pow2 = |x: i64| x & (x - 1) == 0;
                let (mut step, mut extent) = (prefix, m.extent);
                if acc.bits() == 32 && pow2(step) && pow2(extent) && step < 32 {
                    let in_warp = extent.min(32 / step);
                    for p in partial.iter_mut() {
                        let mut lane_xor = step;
                        while lane_xor < step * in_warp {
                            let x = self.b.i32(lane_xor as i32);
                            let other = self.b.shfl(ShflMode::Bfly, *p, x, u32::MAX);
                            *p = self.b.binary(combine, *p, other);
                            lane_xor *= 2;
                        }
                    }
                    step *= in_warp;
                    extent /= in_warp;
                }
                if extent > 1 {
                    partial = self.exchange(inst, &partial, acc, combine, step, extent, l.num_threads())?;
                }
            }
            prefix *= m.extent;
        }
        Ok(partial
            .into_iter()
            .map(|p| if out == DType::Bool { let zero = self.b.const_int(acc, 0); self.b.cmp(CmpOp::Ne, p, zero) } else { self.b.cast(p, out) })
            .collect())
    }

    /// Combines `partial` across the `extent` threads of one thread mode (thread index step
    /// `prefix`) through shared memory: every thread writes its values, and after a barrier reads and
    /// combines those of the threads that differ from it only along the mode.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn exchange(&mut self, inst: &Inst, partial: &[Reg], acc: DType, combine: BinOp, prefix: i64, extent: i64, layout_threads: i64) -> Result<Vec<Reg>, Diagnostic> {
        let threads = i64::from(self.kernel.threads());
        let bytes = (acc.bits() / 8) as i64;
        if threads % layout_threads != 0 {
            return Err(refuse(inst.span, "this reduction needs a cross-warp exchange the thread-level lowering cannot lay out yet"));
        }
        let buf = self.scratch("reduce", threads * partial.len() as i64 * bytes, inst.span)?;
        let n = partial.len() as i64;
        let slot_bytes = self.b.i64(n * bytes);
        let elem = self.b.i64(bytes);
        let base = self.b.mul(self.tid, slot_bytes);
        for (r, &p) in partial.iter().enumerate() {
            let at = self.b.i64(r as i64 * bytes);
            let off = self.b.add(base, at);
            self.b.store_shared(buf, off, p, None);
        }
        self.b.bar_sync();
        // The thread whose digit along the mode is 0, then steps of `prefix`.
        let p = self.b.i64(prefix);
        let e = self.b.i64(extent);
        let q = self.b.div(self.tid, p);
        let digit = self.b.rem(q, e);
        let back = self.b.mul(digit, p);
        let first = self.b.sub(self.tid, back);
        let mut out = Vec::new();
        for r in 0..n {
            let mut total = None;
            for j in 0..extent {
                let step = self.b.i64(j * prefix);
                let t = self.b.add(first, step);
                let row = self.b.mul(t, slot_bytes);
                let at = self.b.i64(r);
                let col = self.b.mul(at, elem);
                let off = self.b.add(row, col);
                let x = self.b.load_shared(buf, off, Ty::scalar(acc));
                total = Some(match total {
                    None => x,
                    Some(t) => self.b.binary(combine, t, x),
                });
            }
            out.push(total.expect("a mode has at least one step"));
        }
        // The buffer is reused when the reduction runs again (in a loop), or by a later one.
        self.b.bar_sync();
        self.release_scratch(buf);
        Ok(out)
    }

    /// A broadcast: the operand's layout is the result's with the broadcast dimensions' modes
    /// replicated (the inference's rule), so each result slot reads an operand slot of its own thread.
    pub(super) fn broadcast(&mut self, inst: &Inst, a: ValueId) -> Result<Vec<Reg>, Diagnostic> {
        let result = inst.results[0];
        let xs = self.get(a);
        let Some(rl) = self.layout_of(result) else { return Ok(xs) };
        let Some(al) = self.layout_of(a) else {
            // A scalar operand: every slot is that scalar.
            return Ok(vec![xs[0]; rl.num_values() as usize]);
        };
        let from: Vec<i64> = self.kernel.ty(a).shape().iter().map(|&d| d as i64).collect();
        let xf = Xf::broadcast(&from, rl.shape());
        if xf.backward(&rl).as_ref() != Some(&al) {
            return Err(refuse(inst.span, "this broadcast's operand is laid out apart from its result, which the thread-level lowering cannot do yet"));
        }
        let Xf::Broadcast { dims, .. } = xf else { unreachable!("built as a broadcast") };
        Ok((0..rl.num_values()).map(|v| xs[kept_slot(&rl, &dims, v)]).collect())
    }

    /// A reshape or permute (`perm`). Each thread keeps its registers when, for every
    /// `(thread, slot)`, the result holds the element the operand held: the same row-major position
    /// for a reshape, the permuted coordinate for a permute (checked exhaustively).
    pub(super) fn shape_op(&mut self, inst: &Inst, a: ValueId, perm: Option<&[usize]>) -> Result<Vec<Reg>, Diagnostic> {
        let result = inst.results[0];
        let xs = self.get(a);
        let (Some(al), Some(rl)) = (self.layout_of(a), self.layout_of(result)) else {
            // A tile to or from a one-element shape held as a scalar.
            return if xs.len() == 1 { Ok(xs) } else { Err(refuse(inst.span, "this shape operation mixes a tile and a scalar in a way the thread-level lowering cannot do yet")) };
        };
        let same = al.num_threads() == rl.num_threads()
            && al.num_values() == rl.num_values()
            && (0..al.num_threads()).all(|t| {
                (0..al.num_values()).all(|v| match (perm, al.coords(t, v), rl.coords(t, v)) {
                    (None, Ok(_), Ok(_)) => al.linear(t, v).ok() == rl.linear(t, v).ok(),
                    (Some(p), Ok(c), Ok(d)) => p.iter().map(|&i| c[i]).eq(d),
                    _ => false,
                })
            });
        if same {
            return Ok(xs);
        }
        // Inference derives a reshape's or permute's result layout from its operand's (a conversion
        // elsewhere if needed), so this is a broken invariant rather than a missing feature.
        Err(refuse(inst.span, &format!("this `{}` would move elements between threads or slots; layout inference should have prevented that", inst.op.name())))
    }
}

/// The slot, in a layout with `l`'s value modes less those along `dims`, that slot `v` of `l` falls
/// into: its digits along the kept modes, in order (how reductions fold and broadcasts spread).
fn kept_slot(l: &TvLayout, dims: &[usize], v: i64) -> usize {
    let (mut idx, mut slot, mut scale) = (v, 0i64, 1i64);
    for m in l.value_modes() {
        if !m.dim.is_some_and(|d| dims.contains(&d)) {
            slot += (idx % m.extent) * scale;
            scale *= m.extent;
        }
        idx /= m.extent;
    }
    slot as usize
}

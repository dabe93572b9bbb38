//! Shared-memory tiles: `shared<T>[...]` buffers, the views that index them, `load`/`store` of a
//! register tile at a view, `copy_async` from a global tensor, and the copy-group and barrier
//! operations.
//!
//! What this guarantees:
//! * every buffer the kernel declares is one static [`crate::thread::SharedAlloc`] (16-byte
//!   aligned, counted against the target's shared-memory budget), allocated before the body. Its elements are
//!   row-major, then permuted by the buffer's swizzle (`smem_plan.rs`; the identity unless the
//!   buffer feeds `ldmatrix`): *every* access — `cp.async` chunks, element copies, `ld`/`st.shared`,
//!   `ldmatrix` — addresses element `e` at `swizzle(e)`, and the swizzle keeps every aligned run of
//!   16 bytes together, so the vector accesses below stay whole;
//! * a `load(view)` whose only use is a `dot` that reads it by `ldmatrix` straight from the buffer
//!   (`smem_plan.rs`) emits no loads: it records where the view lies, and the dot reads there;
//! * `load(view)` gives each thread the elements of its slots in the layout inference chose for the
//!   result, `store(view, x)` writes each element once (by its first holder); a run of slots that is
//!   contiguous in the buffer and aligned — statically known: constant offsets, or runtime offsets
//!   of dimensions with an aligned stride — moves as one access of up to 16 bytes;
//! * `copy_async(view, tensor)` is split into chunks of up to 16 bytes along the tile's last
//!   dimension, dealt round-robin to the block's threads. A chunk wholly inside the tensor and
//!   aligned there is one `cp.async`; a chunk wholly outside is a predicated-off `cp.async`
//!   (zero-filled, as `src-size 0`); any other chunk (straddling the tensor's edge, misaligned in
//!   global memory, or narrower than the 4 bytes `cp.async` needs) is copied element by element,
//!   synchronously, with zeros outside the tensor — the interpreter's per-element semantics;
//! * on a target without `cp.async` (`Options::cp_async` false: AMD), the same chunks are copied
//!   synchronously: each `cp.async` becomes a predicated vector `ld.global` (zeros outside) and an
//!   `st.shared` to the same swizzled address — a `cp.async` that lands at once (see
//!   `whole_chunk`);
//! * `commit_group`, `wait_group(n)` and `barrier()` are `cp.async.commit_group`,
//!   `cp.async.wait_group n` and `bar.sync`; without `cp.async` the first two emit nothing. As in
//!   the tile language, ordering the threads is the kernel's job: a missing barrier shows up as a
//!   race in the emulator.

use super::{refuse, Lowering};
use crate::diag::Diagnostic;
use crate::syntax::Span;
use crate::thread::{BinOp, CmpOp, Reg, Ty};
use crate::tir::{Dim, Inst, Literal, Op, ParamKind, SharedView, ValueId};
use super::mma::Staged;
use std::collections::{HashMap, HashSet};
use tilec_dtype::DType;
use tilec_layout::{Swizzle, TvLayout};

/// The kernel's shared buffers in the thread program, and what is known statically of the offsets
/// that index them.
#[derive(Default)]
pub(super) struct SharedTiles {
    /// The thread program's allocation of each `kernel.shared` buffer.
    allocs: Vec<usize>,
    /// Integer constants of the kernel (view offsets whose alignment is known).
    pub(super) consts: HashMap<ValueId, i64>,
    /// The swizzle of each buffer's element offsets (`smem_plan.rs`).
    pub(super) swizzles: Vec<Swizzle>,
    /// `load(view)` results that a `dot` reads by `ldmatrix` straight from the buffer.
    pub(super) direct: HashSet<ValueId>,
    /// Where those lie, once their `load` is lowered.
    pub(super) direct_places: HashMap<ValueId, Staged>,
}

/// Where a view of a shared buffer lies.
struct ViewPlace {
    alloc: usize,
    dtype: DType,
    /// Bytes per element.
    elem: i64,
    /// Element offset of the view's origin in the buffer (before the swizzle).
    base: Reg,
    /// The buffer's swizzle of element offsets.
    swizzle: Swizzle,
    /// A power of two (at most 16) that divides `base` in every thread.
    base_align: i64,
    /// Buffer stride (in elements) of each dimension of the tile.
    strides: Vec<i64>,
}

pub(super) fn gcd(a: i64, b: i64) -> i64 {
    if b == 0 {
        a.abs()
    } else {
        gcd(b, a % b)
    }
}

/// The largest power of two, at most 16, that divides `x` (16 for 0).
pub(super) fn pow2_align(x: i64) -> i64 {
    if x == 0 {
        16
    } else {
        (x & x.wrapping_neg()).min(16)
    }
}

fn collect_consts(insts: &[Inst], out: &mut HashMap<ValueId, i64>) {
    for inst in insts {
        if let Op::Const(Literal::Int(v)) = inst.op {
            out.insert(inst.results[0], v);
        }
        match &inst.op {
            Op::For { body, .. } => collect_consts(&body.insts, out),
            Op::If { then, els, .. } => {
                collect_consts(&then.insts, out);
                collect_consts(&els.insts, out);
            }
            Op::While { cond, body, .. } => {
                collect_consts(&cond.insts, out);
                collect_consts(&body.insts, out);
            }
            _ => {}
        }
    }
}

impl Lowering<'_> {
    /// Allocates every shared buffer the kernel declares.
    pub(super) fn allocate_shared_tiles(&mut self) -> Result<(), Diagnostic> {
        let k = self.kernel;
        collect_consts(&k.body.insts, &mut self.shared_tiles.consts);
        self.plan_shared_tiles();
        for (i, buf) in k.shared.iter().enumerate() {
            if buf.dtype.is_bool() || buf.dtype.bits() % 8 != 0 {
                return Err(refuse(buf.span, &format!("the thread-level lowering cannot keep `{}` tiles in shared memory yet", buf.dtype)));
            }
            let bytes = buf.nbytes() as u64;
            let total = u64::from(self.shared_bytes) + bytes.next_multiple_of(16);
            let limit = self.options.shared_bytes;
            if total > u64::from(limit) {
                let message = format!("with this shared-memory buffer ({bytes} bytes) the block's buffers need {total} bytes, more than the {} KiB a block has on this target", limit / 1024);
                return Err(refuse(buf.span, &message));
            }
            self.shared_bytes = total as u32;
            let sw = self.shared_tiles.swizzles[i];
            let name = if sw.is_identity() { format!("tile{i}") } else { format!("tile{i}.{sw}") };
            let alloc = self.b.shared(&name, bytes as u32, 16);
            self.shared_tiles.allocs.push(alloc);
        }
        Ok(())
    }

    /// Row-major element strides of shared buffer `buffer`.
    pub(super) fn buffer_strides(&self, buffer: usize) -> Vec<i64> {
        let shape = &self.kernel.shared[buffer].shape;
        let mut row = vec![1i64; shape.len()];
        for d in (0..shape.len().saturating_sub(1)).rev() {
            row[d] = row[d + 1] * shape[d + 1] as i64;
        }
        row
    }

    /// A power of two (at most 16) that divides the byte offset of `view`'s origin in every thread:
    /// constant offsets by their value, the others by their dimension's stride.
    pub(super) fn view_alignment(&self, view: &SharedView) -> i64 {
        let elem = i64::from(self.kernel.shared[view.buffer].dtype.bits() / 8);
        let row = self.buffer_strides(view.buffer);
        let mut align = 16i64;
        for (d, o) in view.offsets.iter().enumerate() {
            align = gcd(align, self.shared_tiles.consts.get(o).map_or(1, |&c| c) * row[d] * elem);
        }
        pow2_align(align)
    }

    /// The byte offset of element `elem` (an i64 register) of the buffer at `place`, through its
    /// swizzle: the one address function of every access to the buffer.
    fn element_address(&mut self, place: &ViewPlace, elem: Reg) -> Reg {
        let e = self.swizzled(place.swizzle, elem);
        let bytes = self.b.i64(place.elem);
        self.b.mul(e, bytes)
    }

    /// Where `view`, a tile of `shape`, lies in its buffer.
    fn view_place(&mut self, view: &SharedView, shape: &[u64], at: Span) -> Result<ViewPlace, Diagnostic> {
        let buf = &self.kernel.shared[view.buffer];
        if view.spans.len() != shape.len() || view.offsets.len() != buf.shape.len() {
            return Err(refuse(at, "this shared-memory view's rank does not match its tile's"));
        }
        let elem = i64::from(buf.dtype.bits() / 8);
        let row = self.buffer_strides(view.buffer);
        let mut base = self.b.i64(0);
        for (d, &o) in view.offsets.iter().enumerate() {
            let off = self.get(o)[0];
            let stride = self.b.i64(row[d]);
            let term = self.b.mul(off, stride);
            base = self.b.add(base, term);
        }
        let strides = view.spans.iter().map(|&d| row[d]).collect();
        let (base_align, swizzle) = (self.view_alignment(view), self.shared_tiles.swizzles[view.buffer]);
        Ok(ViewPlace { alloc: self.shared_tiles.allocs[view.buffer], dtype: buf.dtype, elem, base, swizzle, base_align, strides })
    }

    /// The element offset of this thread's part of layout `l` at `place`, the byte alignment that
    /// every thread's offset shares, and whether the thread is the first holder of its elements.
    fn thread_address(&mut self, place: &ViewPlace, l: &TvLayout) -> (Reg, i64, Reg) {
        let (part, first) = self.thread_part(l);
        let mut addr = place.base;
        for (d, t) in part.iter().enumerate() {
            if let Some(t) = t {
                let s = self.b.i64(place.strides[d]);
                let term = self.b.mul(*t, s);
                addr = self.b.add(addr, term);
            }
        }
        let mut align = place.base_align;
        for m in l.thread_modes() {
            if let Some(d) = m.dim {
                align = gcd(align, m.stride * place.strides[d] * place.elem);
            }
        }
        (addr, pow2_align(align), first)
    }

    /// The runs of slots of layout `l` that move as one access: `(first slot, slots, element offset
    /// from the thread's address)`, each contiguous in the buffer and aligned to its size.
    fn slot_runs(&self, place: &ViewPlace, l: &TvLayout, thread_align: i64, at: Span) -> Result<Vec<(usize, usize, i64)>, Diagnostic> {
        let offs: Vec<i64> = (0..l.num_values())
            .map(|v| l.coords(0, v).map(|c| c.iter().zip(&place.strides).map(|(c, s)| c * s).sum::<i64>()))
            .collect::<Result<_, _>>()
            .map_err(|e| refuse(at, &e.to_string()))?;
        let mut runs = Vec::new();
        let mut v = 0;
        while v < offs.len() {
            let bytes = offs[v] * place.elem;
            let align = pow2_align(gcd(thread_align, bytes));
            let mut n = 1usize;
            while 2 * n as i64 * place.elem <= align.min(16) && v + 2 * n <= offs.len() && (1..2 * n).all(|j| offs[v + j] == offs[v] + j as i64) {
                n *= 2;
            }
            runs.push((v, n, offs[v]));
            v += n;
        }
        Ok(runs)
    }

    /// `load(view)`: this thread's slots of the result, read from shared memory.
    pub(super) fn load_shared_tile(&mut self, inst: &Inst, view: &SharedView) -> Result<Vec<Reg>, Diagnostic> {
        let result = inst.results[0];
        let shape = self.kernel.ty(result).shape().to_vec();
        let place = self.view_place(view, &shape, inst.span)?;
        if self.shared_tiles.direct.contains(&result) {
            // Read by its dot's `ldmatrix` from the buffer; no registers of its own (its only use).
            let cols = place.strides.first().copied().unwrap_or(1);
            let read = Staged { buf: place.alloc, swizzle: place.swizzle, cols, origin: Some(place.base), own: false };
            self.shared_tiles.direct_places.insert(result, read);
            return Ok(Vec::new());
        }
        let Some(l) = self.layout_of(result) else {
            // A one-element tile held as a scalar.
            let off = self.element_address(&place, place.base);
            return Ok(vec![self.b.load_shared(place.alloc, off, Ty::scalar(place.dtype))]);
        };
        let (addr, align, _) = self.thread_address(&place, &l);
        let mut out = Vec::new();
        for (_, n, elems) in self.slot_runs(&place, &l, align, inst.span)? {
            let at = self.b.i64(elems);
            let e = self.b.add(addr, at);
            let off = self.element_address(&place, e);
            if n == 1 {
                out.push(self.b.load_shared(place.alloc, off, Ty::scalar(place.dtype)));
            } else {
                let v = self.b.load_shared(place.alloc, off, Ty::vec(place.dtype, n as u32));
                out.extend((0..n as u32).map(|j| self.b.extract(v, j)));
            }
        }
        Ok(out)
    }

    /// `store(view, value)`: every element written once, by its first holder.
    pub(super) fn store_shared_tile(&mut self, inst: &Inst, view: &SharedView, value: ValueId) -> Result<(), Diagnostic> {
        let shape = self.kernel.ty(value).shape().to_vec();
        let place = self.view_place(view, &shape, inst.span)?;
        let regs = self.get(value);
        let Some(l) = self.layout_of(value) else {
            let off = self.element_address(&place, place.base);
            self.b.store_shared(place.alloc, off, regs[0], None);
            return Ok(());
        };
        let (addr, align, first) = self.thread_address(&place, &l);
        for (v, n, elems) in self.slot_runs(&place, &l, align, inst.span)? {
            let at = self.b.i64(elems);
            let e = self.b.add(addr, at);
            let off = self.element_address(&place, e);
            let x = if n == 1 { regs[v] } else { self.b.pack(&regs[v..v + n]) };
            self.b.store_shared(place.alloc, off, x, Some(first));
        }
        Ok(())
    }

    /// `copy_async(view, tensor[offsets..])` of a tile of `shape` (see the module's description).
    pub(super) fn copy_async_tile(&mut self, inst: &Inst, view: &SharedView, tensor: usize, offsets: &[ValueId], shape: &[u64]) -> Result<(), Diagnostic> {
        let place = self.view_place(view, shape, inst.span)?;
        let ParamKind::Tensor { dtype, shape: extents, strides } = &self.kernel.params[tensor].kind else { unreachable!("copies read tensors") };
        if *dtype != place.dtype || offsets.len() != shape.len() || extents.len() != shape.len() {
            return Err(refuse(inst.span, "this copy's tensor and shared tile do not match"));
        }
        let rank = shape.len();
        let elem = place.elem;
        let shape: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
        let inner = shape[rank - 1];
        let width = chunk_width(&shape, &place.strides, place.base_align, elem);
        let chunk_bytes = width * elem;
        let async_ok = chunk_bytes >= 4;

        let mut dim = |d: &Dim| match d {
            Dim::Sym(i) => self.b.param(self.dims[*i]),
            Dim::Fixed(n) => self.b.i64(*n as i64),
        };
        let ext: Vec<Reg> = extents.iter().map(&mut dim).collect();
        let gstrides: Option<Vec<Reg>> = strides.as_ref().map(|s| s.iter().map(&mut dim).collect());
        let offs: Vec<Reg> = offsets.iter().map(|o| self.get(*o)[0]).collect();
        let param = self.params[tensor];
        let ebytes = self.b.i64(elem);

        let numel: i64 = shape.iter().product();
        let chunks = numel / width;
        let threads = i64::from(self.kernel.threads());
        for round in 0..(chunks + threads - 1) / threads {
            let step = self.b.i64(round * threads);
            let chunk = self.b.add(self.tid, step);
            // Tile coordinates of the chunk's first element.
            let mut coord = vec![self.tid; rank];
            let mut rest = chunk;
            for d in (0..rank).rev() {
                let n = if d == rank - 1 { inner / width } else { shape[d] };
                let nr = self.b.i64(n);
                let digit = self.b.rem(rest, nr);
                rest = self.b.div(rest, nr);
                coord[d] = if d == rank - 1 && width > 1 {
                    let w = self.b.i64(width);
                    self.b.mul(digit, w)
                } else {
                    digit
                };
            }
            // The chunk's first element in the buffer (before the swizzle).
            let mut soff = place.base;
            for (&c, &stride) in coord.iter().zip(&place.strides) {
                let s = self.b.i64(stride);
                let term = self.b.mul(c, s);
                soff = self.b.add(soff, term);
            }
            // Global position, the rows' bounds, and the chunk's span along the last dimension.
            let zero = self.b.i64(0);
            let mut rows_in = self.b.bool(true);
            let mut linear = self.b.i64(0);
            let mut g_inner = zero;
            for d in 0..rank {
                let g = self.b.add(offs[d], coord[d]);
                if d < rank - 1 {
                    let lo = self.b.cmp(CmpOp::Ge, g, zero);
                    let hi = self.b.cmp(CmpOp::Lt, g, ext[d]);
                    let both = self.b.binary(BinOp::And, lo, hi);
                    rows_in = self.b.binary(BinOp::And, rows_in, both);
                } else {
                    g_inner = g;
                }
                linear = match &gstrides {
                    Some(st) => {
                        let t = self.b.mul(g, st[d]);
                        self.b.add(linear, t)
                    }
                    None => {
                        let t = self.b.mul(linear, ext[d]);
                        self.b.add(t, g)
                    }
                };
            }
            let gbyte = self.b.mul(linear, ebytes);
            let wr = self.b.i64(width);
            let end = self.b.add(g_inner, wr);
            let starts_in = self.b.cmp(CmpOp::Ge, g_inner, zero);
            let ends_in = self.b.cmp(CmpOp::Le, end, ext[rank - 1]);
            let inner_in = self.b.binary(BinOp::And, starts_in, ends_in);
            let all_in = self.b.binary(BinOp::And, rows_in, inner_in);
            // A chunk of the last round past the tile's end copies nothing.
            let live = if (round + 1) * threads > chunks {
                let n = self.b.i64(chunks);
                Some(self.b.cmp(CmpOp::Lt, chunk, n))
            } else {
                None
            };
            let body = |cx: &mut Self| {
                if !async_ok {
                    cx.copy_elements(&place, soff, param, gbyte, g_inner, rows_in, ext[rank - 1], width);
                    return;
                }
                // The swizzle keeps the chunk (at most 16 aligned bytes) together.
                let chunk_at = cx.element_address(&place, soff);
                if width == 1 {
                    // One element: in or out, and naturally aligned.
                    cx.whole_chunk(&place, chunk_at, param, gbyte, all_in, width);
                    return;
                }
                // Wholly outside: the zero fill of a predicated-off copy.
                let before = cx.b.cmp(CmpOp::Le, end, zero);
                let after = cx.b.cmp(CmpOp::Ge, g_inner, ext[rank - 1]);
                let off_inner = cx.b.binary(BinOp::Or, before, after);
                let row_out = cx.b.unary(crate::thread::UnOp::Not, rows_in);
                let all_out = cx.b.binary(BinOp::Or, row_out, off_inner);
                let cb = cx.b.i64(chunk_bytes);
                let mis = cx.b.rem(gbyte, cb);
                let aligned = cx.b.cmp(CmpOp::Eq, mis, zero);
                let whole = cx.b.binary(BinOp::And, all_in, aligned);
                let fast = cx.b.binary(BinOp::Or, whole, all_out);
                cx.if_then(fast, |cx| cx.whole_chunk(&place, chunk_at, param, gbyte, all_in, width), |cx| {
                    cx.copy_elements(&place, soff, param, gbyte, g_inner, rows_in, ext[rank - 1], width)
                });
            };
            match live {
                Some(live) => self.if_then(live, body, |_| {}),
                None => body(self),
            }
        }
        Ok(())
    }

    /// `commit_group`, `wait_group(n)` and `barrier()`. Without `cp.async` the copies were
    /// synchronous and the groups are empty: `commit_group` and `wait_group` emit nothing (see
    /// [`Self::whole_chunk`]).
    pub(super) fn synchronise(&mut self, op: &Op) {
        match op {
            Op::CommitGroup if self.options.cp_async => self.b.cp_async_commit(),
            Op::WaitGroup(n) if self.options.cp_async => self.b.cp_async_wait(*n),
            Op::CommitGroup | Op::WaitGroup(_) => {}
            Op::Barrier => self.b.bar_sync(),
            _ => unreachable!("called for the synchronising operations"),
        }
    }

    /// A chunk of `width` elements that is wholly inside the tensor and aligned there (`inside`),
    /// or wholly outside it (zeros), copied to the buffer's byte `soff` in one access.
    ///
    /// With `cp.async` (`Options::cp_async`) it is one predicated `cp.async` (off: source size 0,
    /// zero fill, address clamped to 0). Without it (AMD), it is a predicated vector `ld.global`
    /// with zeros as the value off — the interpreter's `other` — then an `st.shared` at the same
    /// swizzled address. That synchronous copy is one of the executions `cp.async` already allows:
    /// the asynchronous bytes may land at any moment between the copy and the `wait_group` that
    /// covers its group, and landing at once is the earliest. A kernel that is correct for every
    /// landing time is correct for this one, so the copy groups have nothing left to order:
    /// `wait_group` only ever makes *earlier* copies visible, never later ones, and each of them is
    /// already in place, so it and `commit_group` emit nothing. Ordering the threads stays the
    /// kernel's `barrier()`, as with `cp.async` — the emulator's race check sees the same epochs.
    fn whole_chunk(&mut self, place: &ViewPlace, soff: Reg, param: usize, gbyte: Reg, inside: Reg, width: i64) {
        let zero = self.b.i64(0);
        let g = self.b.select(inside, gbyte, zero);
        if self.options.cp_async {
            self.b.cp_async(place.alloc, soff, param, g, (width * place.elem) as u32, Some(inside));
            return;
        }
        let dtype = place.dtype;
        let fill = if dtype.is_float() { self.b.const_float(dtype, 0.0) } else { self.b.const_int(dtype, 0) };
        let (ty, other) = if width == 1 { (Ty::scalar(dtype), fill) } else { (Ty::vec(dtype, width as u32), self.b.pack(&vec![fill; width as usize])) };
        let x = self.b.load_global(param, g, ty, Some(inside), Some(other));
        self.b.store_shared(place.alloc, soff, x, None);
    }

    /// `width` elements from element `soff` of the buffer at `place` copied one by one with ordinary
    /// loads and stores, zeros outside the tensor.
    #[allow(clippy::too_many_arguments)]
    fn copy_elements(&mut self, place: &ViewPlace, soff: Reg, param: usize, gbyte: Reg, g_inner: Reg, rows_in: Reg, extent: Reg, width: i64) {
        let dtype = place.dtype;
        let elem = place.elem;
        let zero = self.b.i64(0);
        let fill = if dtype.is_float() { self.b.const_float(dtype, 0.0) } else { self.b.const_int(dtype, 0) };
        for j in 0..width {
            let jr = self.b.i64(j);
            let g = self.b.add(g_inner, jr);
            let lo = self.b.cmp(CmpOp::Ge, g, zero);
            let hi = self.b.cmp(CmpOp::Lt, g, extent);
            let both = self.b.binary(BinOp::And, lo, hi);
            let inside = self.b.binary(BinOp::And, rows_in, both);
            let jb = self.b.i64(j * elem);
            let at = self.b.add(gbyte, jb);
            let at = self.b.select(inside, at, zero);
            let x = self.b.load_global(param, at, Ty::scalar(dtype), Some(inside), Some(fill));
            let e = self.b.add(soff, jr);
            let s = self.element_address(place, e);
            self.b.store_shared(place.alloc, s, x, None);
        }
    }

    /// An `if` without results whose branches are built by `then` and `els` on `self`.
    fn if_then(&mut self, cond: Reg, then: impl FnOnce(&mut Self), els: impl FnOnce(&mut Self)) {
        self.b.begin_if(cond, &[]);
        then(self);
        self.b.else_(vec![]);
        els(self);
        self.b.end_if(vec![]);
    }
}

/// The width (in elements) of the chunks `copy_async` deals out for a tile of `shape` at a view with
/// buffer `strides` (in elements) whose origin is `base_align`-byte aligned: contiguous in the
/// buffer, dividing the last extent, aligned in the buffer at every chunk start, at most 16 bytes.
pub(super) fn chunk_width(shape: &[i64], strides: &[i64], base_align: i64, elem: i64) -> i64 {
    let rank = shape.len();
    let inner = shape[rank - 1];
    let mut align = base_align;
    for (&n, &stride) in shape.iter().zip(strides).take(rank - 1) {
        if n > 1 {
            align = gcd(align, stride * elem);
        }
    }
    let mut width = 1i64;
    if strides[rank - 1] == 1 {
        while 2 * width * elem <= pow2_align(align) && inner % (2 * width) == 0 {
            width *= 2;
        }
    }
    width
}

//! `dot` by instruction selection on layout division: `mma.sync` with `ldmatrix` operand loads.
//!
//! **Selection rule.** A `dot` of `f16` or `bf16` tiles into an `f32` accumulator becomes
//! `mma.sync.m16n8k16` when the target has it (`Options::mma`) and the layouts inference chose for
//! the dot are products of the instruction's fragments: `A = Qa * atom_a`, `B = Qb * atom_b`,
//! `C = Qc * atom_c` (`TvLayout::div_right` against `tilec_layout::atoms::mma`, exact: a quotient is
//! verified by multiplying back). A quotient's threads are warps and its slots are atoms: slot `s`
//! of `Qc` is the accumulator fragment of one m16n8 tile, built from the registers `4s..4s+4` of
//! `C`. Every warp must pair its C tiles with the same slots of `Qa` and `Qb` along K (checked for
//! every warp), so one straight-line program serves all warps: per C tile, `K / 16` `mma.sync`s
//! chained through an `f32x4` fragment.
//!
//! **Operands.** An operand whose registers already hold the fragment layout feeds the mma
//! directly, its slots packed into `u32` registers. One that does not, where the target has
//! `ldmatrix` (`Options::ldmatrix`) and the fragment layout divides an `ldmatrix` layout
//! (`atoms::ldmatrix`: `.x4` for A, whose layout *is* the A fragment; `.x4.trans` — two n8 fragments
//! — or `.x2.trans` for a row-major `B [K, N]`), is written to a row-major staging tile in shared
//! memory (vector stores of its contiguous slots, one writer per element) and read back with one
//! `ldmatrix` per quotient slot. The staging tile's swizzle is the smallest the bank-conflict
//! analysis (`tilec_layout::smem::choose_swizzle_for`) finds conflict-free for those stores and
//! loads together (else for the loads alone). Both staging tiles are written before one
//! `bar.sync`, and a second `bar.sync` after the last `ldmatrix` lets the next run overwrite them.
//! Without `ldmatrix` the operand takes inference's conversion through shared memory and feeds from
//! registers.
//!
//! Anything else — other element or accumulator types, layouts that do not divide, a warp-dependent
//! pairing — keeps the scalar FMA path of `compute.rs`, which is correct for any layouts.

use super::{refuse, Lowering};
use crate::diag::Diagnostic;
use crate::passes::layout_infer::{Conversion, Role};
use crate::syntax::Span;
use crate::thread::{MmaKind, Reg, Ty};
use crate::tir::{Inst, Op, ValueId};
use tilec_dtype::DType;
use tilec_layout::atoms::{self, Operand};
use tilec_layout::smem::{self, SmemLayout, WarpAccess};
use tilec_layout::{tv, IntTuple, Layout, Swizzle, TvLayout};

/// How one operand reaches the mma.
#[derive(Clone, Debug)]
pub(super) enum Feed {
    /// From the operand's registers, which hold the fragment layout (after inference's conversion
    /// where it asked for one).
    Registers,
    /// From a staging tile in shared memory, by one `ldmatrix.x{count}[.trans]` (layout `ldm`) per
    /// slot of `issues` (the fragment layout divided by `ldm`); issue `i` yields the atom fragments
    /// `per_issue·i ..= per_issue·i + per_issue - 1`.
    Ldmatrix { count: u32, trans: bool, ldm: TvLayout, issues: TvLayout, per_issue: i64 },
}

/// A dot selected for `mma.sync`: what the emitter needs.
pub(super) struct MmaDot {
    kind: MmaKind,
    /// The fragment layouts of the whole tiles (inference's plan).
    a: TvLayout,
    b: TvLayout,
    c: TvLayout,
    /// Registers per atom fragment of A, B and C.
    atom_values: [usize; 3],
    /// Per slot of `Qc`: the slots of `Qa` and `Qb` multiplied into it, in K order.
    steps: Vec<Vec<(usize, usize)>>,
    feed_a: Feed,
    feed_b: Feed,
}

/// Where an `ldmatrix` operand lies in shared memory: a staging tile of its own, or the view of a
/// kernel `shared<T>` buffer it was loaded from (`smem_plan.rs`).
pub(super) struct Staged {
    pub(super) buf: usize,
    /// The swizzle of the buffer's element offsets.
    pub(super) swizzle: Swizzle,
    /// Elements between consecutive rows of the tile in the buffer.
    pub(super) cols: i64,
    /// Element offset of the tile's origin in the buffer (`None`: 0).
    pub(super) origin: Option<Reg>,
    /// Whether this is a staging buffer of the dot's own (written here, released after the dot).
    pub(super) own: bool,
}

/// The `ldmatrix` variants that can load an operand: `.x4` for A; `.x4.trans` (two n8 fragments) or
/// `.x2.trans` for a row-major `B [K, N]`.
const LDMATRIX_A: &[(u32, bool)] = &[(4, false)];
const LDMATRIX_B: &[(u32, bool)] = &[(4, true), (2, true)];

/// The fragment layouts of a dot selected for mma, its atoms (A, B, C), the A and B quotients by
/// their atoms, and the pairing of the C atoms with them along K.
struct Fragments {
    kind: MmaKind,
    a: TvLayout,
    b: TvLayout,
    c: TvLayout,
    atoms: [TvLayout; 3],
    qa: TvLayout,
    qb: TvLayout,
    steps: Vec<Vec<(usize, usize)>>,
}

/// The first `ldmatrix` variant of `candidates` whose layout the fragment layout `wanted`
/// (`= q * atom`) divides into whole fragments: `wanted = issues * inner * atom`.
fn ldmatrix_feed(wanted: &TvLayout, atom: &TvLayout, q: &TvLayout, candidates: &[(u32, bool)]) -> Option<Feed> {
    candidates.iter().find_map(|&(count, trans)| {
        let ldm = atoms::ldmatrix(count, trans).ok()?;
        let (issues, inner) = (wanted.div_right(&ldm).ok()?, ldm.div_right(atom).ok()?);
        // The atom quotient's slots are `inner`'s fastest.
        (inner.num_threads() == 1 && issues.product(&inner).ok().as_ref() == Some(q)).then(|| Feed::Ldmatrix { count, trans, ldm, per_issue: inner.num_values(), issues })
    })
}

/// The mma instruction for operands of `input` accumulating in `acc`, and its atom names.
fn mma_kind(input: DType, acc: DType) -> Option<(MmaKind, &'static str, &'static str)> {
    match (input, acc) {
        (DType::F16, DType::F32) => Some((MmaKind::M16N8K16F16, "m16n8k16", "f16")),
        (DType::BF16, DType::F32) => Some((MmaKind::M16N8K16BF16, "m16n8k16", "bf16")),
        _ => None,
    }
}

/// For each slot of `qc`, the slots of `qa` and `qb` it multiplies along K — the same for every
/// warp (quotient thread), or `None`.
fn pair_steps(qa: &TvLayout, qb: &TvLayout, qc: &TvLayout) -> Option<Vec<Vec<(usize, usize)>>> {
    let (sa, sb, sc) = (qa.shape(), qb.shape(), qc.shape());
    if sa.len() != 2 || sb.len() != 2 || sc.len() != 2 || sa[0] != sc[0] || sb[1] != sc[1] || sa[1] != sb[0] {
        return None;
    }
    let find = |q: &TvLayout, w: i64, want: [i64; 2]| (0..q.num_values()).find(|&u| q.coords(w, u).is_ok_and(|c| c == want)).map(|u| u as usize);
    let mut first: Option<Vec<Vec<(usize, usize)>>> = None;
    for w in 0..qc.num_threads() {
        let mut steps = Vec::new();
        for s in 0..qc.num_values() {
            let c = qc.coords(w, s).ok()?;
            let along_k: Option<Vec<(usize, usize)>> = (0..sa[1]).map(|k| Some((find(qa, w, [c[0], k])?, find(qb, w, [k, c[1]])?))).collect();
            steps.push(along_k?);
        }
        match &first {
            None => first = Some(steps),
            Some(f) if *f != steps => return None,
            Some(_) => {}
        }
    }
    first
}

impl Lowering<'_> {
    /// The `mma.sync` selection for `inst`, if it is a dot the module's rule admits.
    pub(super) fn select_mma(&self, inst: &Inst) -> Option<MmaDot> {
        let Op::Dot { a, b, .. } = inst.op else { return None };
        let f = self.mma_fragments(inst)?;
        let [atom_a, atom_b, atom_c] = &f.atoms;
        let feed_a = self.feed(a, &f.a, atom_a, &f.qa, LDMATRIX_A);
        let feed_b = self.feed(b, &f.b, atom_b, &f.qb, LDMATRIX_B);
        let nv = |l: &TvLayout| l.num_values() as usize;
        Some(MmaDot { kind: f.kind, atom_values: [nv(atom_a), nv(atom_b), nv(atom_c)], a: f.a, b: f.b, c: f.c, steps: f.steps, feed_a, feed_b })
    }

    /// The fragment plan of `inst` when it is a dot the module's rule admits, whatever its operands'
    /// own layouts.
    fn mma_fragments(&self, inst: &Inst) -> Option<Fragments> {
        let Op::Dot { a, b, .. } = inst.op else { return None };
        if !self.options.mma {
            return None;
        }
        let result = *inst.results.first()?;
        let plan = self.layouts.dots().iter().find(|d| d.result == result)?;
        let k = self.kernel;
        if k.ty(b).dtype() != k.ty(a).dtype() {
            return None;
        }
        let (kind, shape, dt) = mma_kind(k.ty(a).dtype(), k.ty(result).dtype())?;
        let atom = |op| atoms::mma(shape, dt, op).ok();
        let (atom_a, atom_b, atom_c) = (atom(Operand::A)?, atom(Operand::B)?, atom(Operand::C)?);
        let (qa, qb, qc) = (plan.a.div_right(&atom_a).ok()?, plan.b.div_right(&atom_b).ok()?, plan.c.div_right(&atom_c).ok()?);
        // One quotient thread per warp of the block: the mma is a whole-warp instruction.
        let threads = i64::from(k.threads());
        if threads % 32 != 0 || [&qa, &qb, &qc].iter().any(|q| q.num_threads() * 32 != threads) {
            return None;
        }
        let steps = pair_steps(&qa, &qb, &qc)?;
        Some(Fragments { kind, a: plan.a.clone(), b: plan.b.clone(), c: plan.c.clone(), atoms: [atom_a, atom_b, atom_c], qa, qb, steps })
    }

    /// How operand `operand` (0: A, 1: B) of `inst` would be read by `ldmatrix` from a tile in shared
    /// memory, whatever layout its registers have: `None` when `inst` is not selected for mma, the
    /// target has no `ldmatrix`, or the fragment layout divides no `ldmatrix` layout.
    pub(super) fn ldmatrix_feed_of(&self, inst: &Inst, operand: usize) -> Option<Feed> {
        let f = self.mma_fragments(inst)?;
        if !self.options.ldmatrix {
            return None;
        }
        match operand {
            0 => ldmatrix_feed(&f.a, &f.atoms[0], &f.qa, LDMATRIX_A),
            _ => ldmatrix_feed(&f.b, &f.atoms[1], &f.qb, LDMATRIX_B),
        }
    }

    /// How operand `v` (fragment layout `wanted` = `q * atom`) reaches the mma: by `ldmatrix` straight
    /// from the shared tile it was loaded from when the plan says so (`smem_plan.rs`); else its
    /// registers when they are in `wanted` already (or `ldmatrix` is unavailable or does not
    /// divide); else staged for the first `ldmatrix` variant of `candidates` that fits.
    fn feed(&self, v: ValueId, wanted: &TvLayout, atom: &TvLayout, q: &TvLayout, candidates: &[(u32, bool)]) -> Feed {
        if self.reads_tile_directly(v) {
            if let Some(feed) = ldmatrix_feed(wanted, atom, q, candidates) {
                return feed;
            }
        }
        let Some(have) = self.layouts.of(v) else { return Feed::Registers };
        if have == wanted || !self.options.ldmatrix || have.rank() != 2 {
            return Feed::Registers;
        }
        ldmatrix_feed(wanted, atom, q, candidates).unwrap_or(Feed::Registers)
    }

    /// Whether the dot `inst` loads the operand of conversion `c` itself (staged for `ldmatrix`),
    /// so that the generic conversion through shared memory is not made.
    pub(super) fn dot_loads_operand_itself(&self, inst: &Inst, c: &Conversion) -> bool {
        let Op::Dot { a, b, .. } = inst.op else { return false };
        if c.user.role != Role::Operand || c.user.op != "dot" {
            return false;
        }
        let Some(sel) = self.select_mma(inst) else { return false };
        match c.user.operand {
            0 => c.value == a && matches!(sel.feed_a, Feed::Ldmatrix { .. }),
            1 => c.value == b && matches!(sel.feed_b, Feed::Ldmatrix { .. }),
            _ => false,
        }
    }

    /// `acc + a @ b` by `mma.sync` as `sel` says (the module's scheme).
    pub(super) fn mma_dot(&mut self, inst: &Inst, sel: MmaDot) -> Result<Vec<Reg>, Diagnostic> {
        let Op::Dot { a, b, acc } = inst.op else { unreachable!("selected for a dot") };
        let at = inst.span;
        let input = sel.kind.input();
        // The accumulator (converted by inference's request if needed) and the result hold C.
        let (lacc, lres) = (self.layout_of(acc), self.layout_of(inst.results[0]));
        if lacc.as_ref() != Some(&sel.c) || lres.as_ref() != Some(&sel.c) {
            return Err(refuse(at, "this dot's accumulator is not in the mma fragment layout inference planned; layout inference should have converted it"));
        }
        // An operand read straight from the kernel's shared tile needs no staging and no barrier of
        // the dot's own: ordering the tile's writers and readers is the kernel's, as for `load`.
        let staged_a = match self.direct_tile_read(a) { Some(st) => Some(st), None => self.stage_for_ldmatrix(a, &sel.feed_a, input, at)? };
        let staged_b = match self.direct_tile_read(b) { Some(st) => Some(st), None => self.stage_for_ldmatrix(b, &sel.feed_b, input, at)? };
        let staged = staged_a.iter().chain(&staged_b).any(|st| st.own);
        if staged {
            self.b.bar_sync();
        }
        let frags_a = self.fragments(a, &sel.a, &sel.feed_a, staged_a.as_ref(), sel.atom_values[0], at)?;
        let frags_b = self.fragments(b, &sel.b, &sel.feed_b, staged_b.as_ref(), sel.atom_values[1], at)?;
        if staged {
            // The staging tiles are written again when this dot runs again (in a loop), or reused.
            self.b.bar_sync();
            for st in staged_a.iter().chain(&staged_b).filter(|st| st.own) {
                self.release_scratch(st.buf);
            }
        }
        let racc = self.get(acc);
        let nc = sel.atom_values[2];
        let mut out = Vec::with_capacity(racc.len());
        for (s, along_k) in sel.steps.iter().enumerate() {
            let mut d = self.b.pack(&racc[s * nc..(s + 1) * nc]);
            for &(qa, qb) in along_k {
                d = self.b.mma(sel.kind, frags_a[qa], frags_b[qb], d);
            }
            out.extend((0..nc as u32).map(|i| self.b.extract(d, i)));
        }
        Ok(out)
    }

    /// The `u32` fragments of an operand, one per slot of its atom quotient.
    fn fragments(&mut self, v: ValueId, wanted: &TvLayout, feed: &Feed, staged: Option<&Staged>, per_atom: usize, at: Span) -> Result<Vec<Reg>, Diagnostic> {
        let words = |elems: usize| Ty::vec(DType::U32, (elems * 16 / 32) as u32);
        match (feed, staged) {
            (Feed::Registers, _) => {
                if self.layout_of(v).as_ref() != Some(wanted) {
                    return Err(refuse(at, "this dot operand is not in the mma fragment layout inference planned; layout inference should have converted it"));
                }
                let regs = self.get(v);
                Ok(regs
                    .chunks(per_atom)
                    .map(|elems| {
                        let packed = self.b.pack(elems);
                        self.b.bitcast(packed, words(per_atom))
                    })
                    .collect())
            }
            (Feed::Ldmatrix { count, trans, ldm, issues, per_issue }, Some(st)) => {
                // Lane `l` gives the row address of row `l % 8` of matrix `j = (l / 8) % count`,
                // matrix `j` lying at block `(j % 2, j / 2)` of the `ldm` tile (`atoms::ldmatrix`).
                let c = |cx: &mut Self, x: i64| cx.b.i64(x);
                let (c2, c8, c32, ccount) = (c(self, 2), c(self, 8), c(self, 32), c(self, i64::from(*count)));
                let lane = self.b.rem(self.tid, c32);
                let j = self.b.div(lane, c8);
                let j = self.b.rem(j, ccount);
                let r = self.b.rem(lane, c8);
                let jr = self.b.rem(j, c2);
                let jc = self.b.div(j, c2);
                let lane_row = self.b.mul(jr, c8);
                let lane_row = self.b.add(lane_row, r);
                let lane_col = self.b.mul(jc, c8);
                // Per issue, the warp's tile origin (in `ldm` tiles): the quotient with 32 lanes.
                let origins = issues.product(&tv::replicate(32).map_err(|e| refuse(at, &e.to_string()))?).map_err(|e| refuse(at, &e.to_string()))?;
                let (coords, _) = self.slots_in(&origins, at)?;
                let (rows_per, cols_per) = (c(self, ldm.shape()[0]), c(self, ldm.shape()[1]));
                let cols = c(self, st.cols);
                let bytes = c(self, 2);
                let regs_per_atom = (per_atom / 2) as u32;
                let mut out = Vec::new();
                for o in &coords {
                    let row = self.b.mul(o[0], rows_per);
                    let row = self.b.add(row, lane_row);
                    let col = self.b.mul(o[1], cols_per);
                    let col = self.b.add(col, lane_col);
                    let elem = self.b.mul(row, cols);
                    let elem = self.b.add(elem, col);
                    let elem = match st.origin {
                        Some(origin) => self.b.add(origin, elem),
                        None => elem,
                    };
                    let elem = self.swizzled(st.swizzle, elem);
                    let off = self.b.mul(elem, bytes);
                    let frag = self.b.ldmatrix(st.buf, off, *count, *trans);
                    if *per_issue == 1 {
                        out.push(frag);
                        continue;
                    }
                    for h in 0..*per_issue as u32 {
                        let words: Vec<Reg> = (0..regs_per_atom).map(|i| self.b.extract(frag, h * regs_per_atom + i)).collect();
                        out.push(self.b.pack(&words));
                    }
                }
                Ok(out)
            }
            (Feed::Ldmatrix { .. }, None) => unreachable!("ldmatrix operands are staged first"),
        }
    }

    /// Writes operand `v` (in its own layout) into a fresh row-major staging tile for `ldmatrix`,
    /// swizzled as the bank-conflict analysis chooses; `None` for a register-fed operand.
    fn stage_for_ldmatrix(&mut self, v: ValueId, feed: &Feed, dt: DType, at: Span) -> Result<Option<Staged>, Diagnostic> {
        let Feed::Ldmatrix { count, ldm, issues, .. } = feed else { return Ok(None) };
        let src = self.layout(v)?;
        let (rows, cols) = (src.shape()[0], src.shape()[1]);
        let bits = i64::from(dt.bits());
        let fail = |e: tilec_layout::LayoutError| refuse(at, &e.to_string());
        let base = Layout::row_major(IntTuple::from(vec![rows, cols])).map_err(fail)?;
        // The widest vector of contiguous, aligned slots every thread can store at once.
        let plain = SmemLayout::Plain(base.clone());
        let intact = |accesses: &[WarpAccess]| smem::analyze_all(&plain, bits, accesses).is_ok_and(|r| r.vectors_intact);
        let (vec, stores) = [8i64, 4, 2, 1]
            .into_iter()
            .filter(|w| w * bits <= 128)
            .find_map(|w| WarpAccess::from_tv(&src, w, bits).ok().filter(|a| intact(a)).map(|a| (w, a)))
            .ok_or_else(|| refuse(at, "this dot operand's layout cannot be stored to shared memory"))?;
        // Every warp's ldmatrix: matrix `j` of an issue at block `(j % 2, j / 2)` of its tile.
        let mut loads = Vec::new();
        for w in 0..issues.num_threads() {
            for q in 0..issues.num_values() {
                let o = issues.coords(w, q).map_err(fail)?;
                let origins: Vec<[i64; 2]> = (0..i64::from(*count)).map(|j| [o[0] * ldm.shape()[0] + 8 * (j % 2), o[1] * ldm.shape()[1] + 8 * (j / 2)]).collect();
                loads.push(WarpAccess::ldmatrix(&origins, bits).map_err(fail)?);
            }
        }
        let both: Vec<WarpAccess> = stores.iter().chain(&loads).cloned().collect();
        let choose = |accesses: &[WarpAccess]| smem::choose_swizzle_for(&base, bits, accesses).ok().flatten().map(|(s, _)| s);
        let swizzle = choose(&both).or_else(|| choose(&loads)).unwrap_or_else(Swizzle::identity);

        let name = if matches!(feed, Feed::Ldmatrix { trans: true, .. }) { "mma_b" } else { "mma_a" };
        let buf = self.scratch(name, rows * cols * bits / 8, at)?;
        let regs = self.get(v);
        let (coords, first) = self.slots_in(&src, at)?;
        let (cols_r, bytes) = (self.b.i64(cols), self.b.i64(bits / 8));
        for (g, run) in regs.chunks(vec as usize).enumerate() {
            let c = &coords[g * vec as usize];
            let elem = self.b.mul(c[0], cols_r);
            let elem = self.b.add(elem, c[1]);
            let elem = self.swizzled(swizzle, elem);
            let off = self.b.mul(elem, bytes);
            let value = if run.len() == 1 { run[0] } else { self.b.pack(run) };
            self.b.store_shared(buf, off, value, Some(first));
        }
        Ok(Some(Staged { buf, swizzle, cols, origin: None, own: true }))
    }
}

//! Shared-memory layouts and bank-conflict analysis.
//!
//! A shared-memory layout maps a logical tile coordinate to an element offset: a
//! [`Layout`], optionally followed by a swizzle ([`SmemLayout`]). Shared memory has 32 banks
//! of 4 bytes; word `w` lives in bank `w % 32`. A warp-wide access is served in *phases*
//! (wavefront groups): the hardware splits a request so that each phase moves at most 128
//! bytes — all 32 lanes for 4-byte accesses, half-warps for 8 bytes, quarter-warps for 16
//! bytes; `ldmatrix` serves one 8×8 matrix (8 row addresses of 16 bytes) per phase. Within
//! a phase, lanes touching the same word are served together (broadcast), while distinct
//! words in the same bank serialise: the phase needs `max over banks of distinct words`
//! wavefronts. Conflicts are the wavefronts beyond one per phase.
//!
//! [`choose_swizzle`] searches the swizzles `Sw<B,M,S>` for the smallest one (fewest bits
//! `B`, then smallest `M`, then `S`) that keeps every vector access contiguous, keeps the
//! tile's footprint, and makes an access pattern conflict-free.

use crate::error::{LayoutError, Result};
use crate::int_tuple::IntTuple;
use crate::layout::Layout;
use crate::swizzle::{Swizzle, SwizzledLayout};
use crate::tv::TvLayout;

/// Number of shared-memory banks.
pub const BANKS: i64 = 32;
/// Bytes per bank word.
pub const BANK_BYTES: i64 = 4;
/// Bytes served per phase.
pub const PHASE_BYTES: i64 = 128;

/// A shared-memory layout: logical coordinate → element offset.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum SmemLayout {
    /// An unswizzled layout.
    Plain(Layout),
    /// A layout whose offsets are swizzled.
    Swizzled(SwizzledLayout),
}

impl SmemLayout {
    /// The element offset of a coordinate (one integer per top-level mode).
    pub fn offset(&self, coord: &[i64]) -> Result<i64> {
        let crd = IntTuple::Tuple(coord.iter().map(|&c| IntTuple::Int(c)).collect());
        let crd = if coord.len() == 1 {
            IntTuple::Int(coord[0])
        } else {
            crd
        };
        match self {
            SmemLayout::Plain(l) => l.eval_crd(&crd),
            SmemLayout::Swizzled(s) => s.eval_crd(&crd),
        }
    }

    /// The underlying unswizzled layout.
    pub fn base(&self) -> &Layout {
        match self {
            SmemLayout::Plain(l) => l,
            SmemLayout::Swizzled(s) => &s.layout,
        }
    }

    /// Offsets of all indices of the domain.
    pub fn image(&self) -> Vec<i64> {
        match self {
            SmemLayout::Plain(l) => l.image(),
            SmemLayout::Swizzled(s) => s.image(),
        }
    }
}

/// One lane's access: `elems` consecutive elements along the last tile dimension from `coord`.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Access {
    /// Starting logical coordinate.
    pub coord: Vec<i64>,
    /// Number of consecutive elements (a vector).
    pub elems: i64,
}

/// The accesses of one warp instruction, grouped into the phases the hardware serves.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct WarpAccess {
    /// Phases, each a list of lane accesses.
    pub phases: Vec<Vec<Access>>,
}

impl WarpAccess {
    /// A vectorised load/store: lane `i` accesses `vec_elems` elements from `lane_coords[i]`.
    /// Lanes are grouped into phases of 128 bytes (32, 16 or 8 lanes for 4, 8 or 16 bytes).
    pub fn vectorized(
        lane_coords: &[Vec<i64>],
        vec_elems: i64,
        elem_bits: i64,
    ) -> Result<WarpAccess> {
        check_bits(elem_bits)?;
        if !(1..=64).contains(&vec_elems) {
            return Err(LayoutError::Invalid(format!(
                "a lane accesses 1 to 64 elements, not {vec_elems}"
            )));
        }
        let bytes = ceil_div(vec_elems * elem_bits, 8).max(1);
        let per_phase = (PHASE_BYTES / bytes).clamp(1, 32) as usize;
        let phases = lane_coords
            .chunks(per_phase)
            .map(|c| {
                c.iter()
                    .map(|coord| Access {
                        coord: coord.clone(),
                        elems: vec_elems,
                    })
                    .collect()
            })
            .collect();
        Ok(WarpAccess { phases })
    }

    /// An `ldmatrix`/`stmatrix` with one matrix per origin (`x1`, `x2`, `x4`): matrix `j`'s
    /// eight rows of 16 bytes start at `origins[j] + (r, 0)`; each matrix is one phase.
    pub fn ldmatrix(origins: &[[i64; 2]], elem_bits: i64) -> Result<WarpAccess> {
        check_bits(elem_bits)?;
        if ![1, 2, 4].contains(&origins.len()) {
            return Err(LayoutError::Invalid(format!(
                "ldmatrix moves 1, 2 or 4 matrices, not {}",
                origins.len()
            )));
        }
        let elems = 128 / elem_bits;
        let phases = origins
            .iter()
            .map(|o| {
                (0..8)
                    .map(|r| Access {
                        coord: vec![o[0] + r, o[1]],
                        elems,
                    })
                    .collect()
            })
            .collect();
        Ok(WarpAccess { phases })
    }

    /// The warp accesses of storing (or loading) register layout `tv` to a tile: slots are
    /// taken `vec` at a time (slots `c·vec .. c·vec+vec` of each lane must be consecutive
    /// along the last dimension), one instruction per slot group and per warp of 32 threads.
    pub fn from_tv(tv: &TvLayout, vec: i64, elem_bits: i64) -> Result<Vec<WarpAccess>> {
        if vec < 1 || tv.num_values() % vec != 0 {
            return Err(LayoutError::Invalid(format!(
                "vector width {vec} does not divide {} slots",
                tv.num_values()
            )));
        }
        let last = tv
            .rank()
            .checked_sub(1)
            .ok_or_else(|| LayoutError::Invalid("rank-0 tile".into()))?;
        let mut out = Vec::new();
        for warp in 0..ceil_div(tv.num_threads(), 32) {
            for c in 0..tv.num_values() / vec {
                let mut lanes = Vec::new();
                for t in warp * 32..((warp + 1) * 32).min(tv.num_threads()) {
                    let start = tv.coords(t, c * vec)?;
                    for k in 1..vec {
                        let mut want = start.clone();
                        want[last] += k;
                        if tv.coords(t, c * vec + k)? != want {
                            return Err(LayoutError::Invalid(format!(
                                "slots {}..{} of thread {t} are not consecutive along the last dimension",
                                c * vec,
                                c * vec + vec
                            )));
                        }
                    }
                    lanes.push(start);
                }
                out.push(WarpAccess::vectorized(&lanes, vec, elem_bits)?);
            }
        }
        Ok(out)
    }
}

fn ceil_div(a: i64, b: i64) -> i64 {
    (a + b - 1) / b
}

/// Largest tile the whole-tile analyses enumerate.
pub const MAX_TILE: i64 = 1 << 24;

fn check_tile(elems: Option<i64>) -> Result<()> {
    match elems {
        Some(n) if (1..=MAX_TILE).contains(&n) => Ok(()),
        _ => Err(LayoutError::Invalid(format!(
            "tiles of 1 to {MAX_TILE} elements can be analysed"
        ))),
    }
}

fn check_bits(elem_bits: i64) -> Result<()> {
    if ![1, 2, 4, 8, 16, 32, 64, 128].contains(&elem_bits) {
        return Err(LayoutError::Invalid(format!(
            "element width must be a power of two up to 128 bits, not {elem_bits}"
        )));
    }
    Ok(())
}

/// The cost of an access pattern.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct ConflictReport {
    /// Wavefronts needed.
    pub wavefronts: i64,
    /// Wavefronts a conflict-free pattern would need (one per phase, more for phases that move
    /// more than 128 bytes).
    pub ideal: i64,
    /// `wavefronts - ideal`.
    pub conflicts: i64,
    /// Wavefronts of each phase, in order.
    pub per_phase: Vec<i64>,
    /// Whether every vector access is contiguous and aligned in memory.
    pub vectors_intact: bool,
}

impl ConflictReport {
    fn add(&mut self, other: ConflictReport) {
        self.wavefronts += other.wavefronts;
        self.ideal += other.ideal;
        self.conflicts += other.conflicts;
        self.per_phase.extend(other.per_phase);
        self.vectors_intact &= other.vectors_intact;
    }
}

/// Counts the wavefronts of one warp access on `smem` with elements of `elem_bits` bits.
pub fn analyze(smem: &SmemLayout, elem_bits: i64, access: &WarpAccess) -> Result<ConflictReport> {
    check_bits(elem_bits)?;
    let touched = Touched::of(smem, access)?;
    touched.report(elem_bits, |off| off)
}

/// The element offsets one warp access touches, per phase and per vector access, evaluated once:
/// a swizzle candidate only remaps them (`Swizzle::apply`), so [`choose_swizzle_for`] scores every
/// candidate without evaluating the layout again.
struct Touched {
    /// Per phase, per vector access, the offsets of its elements in order.
    phases: Vec<Vec<Vec<i64>>>,
}

impl Touched {
    fn of(smem: &SmemLayout, access: &WarpAccess) -> Result<Touched> {
        let mut phases = Vec::with_capacity(access.phases.len());
        for phase in &access.phases {
            let mut accesses = Vec::with_capacity(phase.len());
            for a in phase {
                let mut coord = a.coord.clone();
                let last = coord.len().checked_sub(1).ok_or_else(|| LayoutError::Invalid("empty coordinate".into()))?;
                let mut offs = Vec::with_capacity(a.elems.max(0) as usize);
                for k in 0..a.elems {
                    coord[last] = a.coord[last] + k;
                    offs.push(smem.offset(&coord)?);
                }
                accesses.push(offs);
            }
            phases.push(accesses);
        }
        Ok(Touched { phases })
    }

    /// The report of the access with every offset mapped by `map`.
    fn report(&self, elem_bits: i64, map: impl Fn(i64) -> i64) -> Result<ConflictReport> {
        self.scan(elem_bits, map, false)
    }

    /// Whether the access with every offset mapped by `map` is conflict-free with its vectors intact;
    /// stops at the first phase that is not (the swizzle search rejects most candidates early).
    fn conflict_free(&self, elem_bits: i64, map: impl Fn(i64) -> i64) -> Result<bool> {
        let rep = self.scan(elem_bits, map, true)?;
        Ok(rep.conflicts == 0 && rep.vectors_intact)
    }

    fn scan(&self, elem_bits: i64, map: impl Fn(i64) -> i64, stop_early: bool) -> Result<ConflictReport> {
        let mut rep = ConflictReport { vectors_intact: true, ..Default::default() };
        let mut words: Vec<i64> = Vec::new();
        for phase in &self.phases {
            if stop_early && (rep.conflicts > 0 || !rep.vectors_intact) {
                break;
            }
            words.clear();
            for offs in phase {
                let elems = offs.len() as i64;
                let mut first = 0;
                for (k, &raw) in offs.iter().enumerate() {
                    let off = map(raw);
                    if k == 0 {
                        first = off;
                        if (off * elem_bits) % (elems * elem_bits).clamp(8, 128) != 0 {
                            rep.vectors_intact = false;
                        }
                    } else if off != first + k as i64 {
                        rep.vectors_intact = false;
                    }
                    words.push(off.checked_mul(elem_bits).ok_or(LayoutError::Overflow("bank analysis"))? / (8 * BANK_BYTES));
                }
            }
            // Distinct words, then the most distinct words any one bank must serve.
            words.sort_unstable();
            words.dedup();
            let mut per_bank = [0i64; BANKS as usize];
            for w in &words {
                per_bank[w.rem_euclid(BANKS) as usize] += 1;
            }
            let w = per_bank.iter().copied().max().unwrap_or(0);
            let ideal = if words.is_empty() { 0 } else { ceil_div(words.len() as i64, BANKS) };
            rep.wavefronts += w;
            rep.ideal += ideal;
            rep.conflicts += w - ideal;
            rep.per_phase.push(w);
        }
        Ok(rep)
    }
}

/// Sums [`analyze`] over several warp accesses.
pub fn analyze_all(
    smem: &SmemLayout,
    elem_bits: i64,
    accesses: &[WarpAccess],
) -> Result<ConflictReport> {
    let mut total = ConflictReport {
        vectors_intact: true,
        ..Default::default()
    };
    for a in accesses {
        total.add(analyze(smem, elem_bits, a)?);
    }
    Ok(total)
}

/// How a whole 2-D tile is accessed.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum AccessPattern {
    /// Row-major sweep: each lane moves `bytes` contiguous bytes, consecutive lanes consecutive
    /// chunks (the usual vectorised global→shared copy).
    RowVector {
        /// Bytes per lane (1..=16).
        bytes: i64,
    },
    /// `ldmatrix.x{count}` over all 8-row × 16-byte blocks, going down the columns of blocks
    /// (`count` vertically adjacent blocks per instruction).
    Ldmatrix {
        /// Matrices per instruction (1, 2 or 4).
        count: usize,
    },
    /// Storing/loading a register layout `vec` slots at a time.
    Registers {
        /// The register layout of the tile.
        layout: TvLayout,
        /// Slots per vector access.
        vec: i64,
    },
}

/// The warp accesses of `pattern` on a `rows × cols` tile of `elem_bits`-bit elements.
pub fn pattern_accesses(
    rows: i64,
    cols: i64,
    elem_bits: i64,
    pattern: &AccessPattern,
) -> Result<Vec<WarpAccess>> {
    check_bits(elem_bits)?;
    check_tile(rows.checked_mul(cols).filter(|_| rows >= 1 && cols >= 1))?;
    match pattern {
        AccessPattern::RowVector { bytes } => {
            if !(1..=16).contains(bytes) {
                return Err(LayoutError::Invalid(format!(
                    "vector stores move 1 to 16 bytes per lane, not {bytes}"
                )));
            }
            let elems = (bytes * 8) / elem_bits;
            if elems < 1 || (bytes * 8) % elem_bits != 0 || cols % elems != 0 {
                return Err(LayoutError::Invalid(format!(
                    "{bytes}-byte vectors do not tile rows of {cols} elements"
                )));
            }
            let chunks: Vec<Vec<i64>> = (0..rows)
                .flat_map(|r| (0..cols / elems).map(move |c| vec![r, c * elems]))
                .collect();
            chunks
                .chunks(32)
                .map(|lanes| WarpAccess::vectorized(lanes, elems, elem_bits))
                .collect()
        }
        AccessPattern::Ldmatrix { count } => {
            if ![1, 2, 4].contains(count) {
                return Err(LayoutError::Invalid(format!(
                    "ldmatrix moves 1, 2 or 4 matrices, not {count}"
                )));
            }
            let elems = 128 / elem_bits;
            if rows % (8 * *count as i64) != 0 || cols % elems != 0 {
                return Err(LayoutError::Invalid(format!(
                    "ldmatrix.x{count} blocks of {} rows x {elems} elements do not tile {rows} x {cols}",
                    8 * count
                )));
            }
            let mut out = Vec::new();
            for c in 0..cols / elems {
                for r in 0..rows / (8 * *count as i64) {
                    let origins: Vec<[i64; 2]> = (0..*count as i64)
                        .map(|j| [(r * *count as i64 + j) * 8, c * elems])
                        .collect();
                    out.push(WarpAccess::ldmatrix(&origins, elem_bits)?);
                }
            }
            Ok(out)
        }
        AccessPattern::Registers { layout, vec } => {
            if layout.shape() != [rows, cols] {
                return Err(LayoutError::Invalid(format!(
                    "register layout {layout} does not cover {rows} x {cols}"
                )));
            }
            WarpAccess::from_tv(layout, *vec, elem_bits)
        }
    }
}

/// Finds the smallest swizzle (by `B`, then `M`, then `S`) that makes `accesses` on
/// `Sw ∘ base` conflict-free while keeping vectors contiguous and the footprint of `base`.
/// Returns `None` if no `Sw<B,M,S>` with `B ≤ 5`, `M ≤ 8`, `S ≤ 12` does.
pub fn choose_swizzle_for(
    base: &Layout,
    elem_bits: i64,
    accesses: &[WarpAccess],
) -> Result<Option<(Swizzle, ConflictReport)>> {
    check_tile(Some(base.size()))?;
    check_bits(elem_bits)?;
    let mut footprint = base.image();
    footprint.sort_unstable();
    let plain = SmemLayout::Plain(base.clone());
    let touched = accesses.iter().map(|a| Touched::of(&plain, a)).collect::<Result<Vec<_>>>()?;
    let score = |map: &dyn Fn(i64) -> i64| -> Result<ConflictReport> {
        let mut total = ConflictReport { vectors_intact: true, ..Default::default() };
        for t in &touched {
            total.add(t.report(elem_bits, map)?);
        }
        Ok(total)
    };
    let plain = score(&|off| off)?;
    if plain.conflicts == 0 && plain.vectors_intact {
        return Ok(Some((Swizzle::identity(), plain)));
    }
    let dense_pow2 = footprint.len().is_power_of_two() && footprint.iter().enumerate().all(|(i, &o)| o == i as i64);
    for b in 1..=5 {
        for m in 0..=8 {
            for s in b..=12 {
                let sw = Swizzle::new(b, m, s)?;
                // The swizzle is injective (`S >= B` keeps the bits it reads apart from those it
                // flips), so it keeps the footprint exactly when it maps the footprint into itself;
                // a footprint `0..2^k` is always kept (`S > 0` moves bits down, and XOR with bits
                // below `2^k` stays below it).
                let kept = dense_pow2 || footprint.iter().all(|&o| footprint.binary_search(&sw.apply(o)).is_ok());
                if !kept {
                    continue;
                }
                let mut free = true;
                for t in &touched {
                    if !t.conflict_free(elem_bits, |off| sw.apply(off))? {
                        free = false;
                        break;
                    }
                }
                if free {
                    return Ok(Some((sw, score(&|off| sw.apply(off))?)));
                }
            }
        }
    }
    Ok(None)
}

/// [`choose_swizzle_for`] on the row-major `rows × cols` tile accessed by `pattern`.
pub fn choose_swizzle(
    rows: i64,
    cols: i64,
    elem_bits: i64,
    pattern: &AccessPattern,
) -> Result<Option<(Swizzle, ConflictReport)>> {
    let base = Layout::row_major(IntTuple::from(vec![rows, cols]))?;
    let acc = pattern_accesses(rows, cols, elem_bits, pattern)?;
    choose_swizzle_for(&base, elem_bits, &acc)
}

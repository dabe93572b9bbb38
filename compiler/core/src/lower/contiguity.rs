//! Contiguity and divisibility: which register slots of a tile lie next to each other in memory, and
//! how far the address of the first of them is provably aligned — what lets one memory instruction
//! move up to 16 bytes.
//!
//! What is proved, for an access of a tile in register layout `L` to a tensor whose dimension `u` has
//! unit stride (the last one of a row-major tensor, or the one declared `strides(.., 1, ..)`):
//!
//! * **runs** ([`Runs`]): when `L` has a value mode of stride 1 along `u`, of extent `e`, each thread
//!   holds `e` consecutive elements along `u`, in slots `s, s + step, .., s + (e−1)·step`. Cut into
//!   groups of `w | e` of them, every group starts at a coordinate along `u` that is a multiple of `w`
//!   from the tile's origin: every other mode along `u` (of threads or values) steps by a multiple of
//!   `e`, since the modes of one dimension tile it exactly.
//! * **divisibility** ([`Divisibility`]): for each integer scalar of the tile IR, a power of two it is
//!   a multiple of — from literals, products, sums, exact divisions by powers of two, remainders and
//!   `for` variables (their start and step). Block indices, runtime dims and anything else: 1.
//! * **alignment** ([`Alignment`]): the linear element index `Σ_d (offset_d + coord_d)·stride_d` of
//!   every group start is a multiple of `2^k` when each [`Term`] is: the unit dimension's offset, and
//!   for every other dimension its stride (times its offset where the tile has extent 1 there, so
//!   that the coordinate is 0). A term not proven statically is a block-uniform scalar, which the
//!   lowering may test at run time (versioning the access).
//!
//! Bounds are not this module's concern: a group whose elements are not all inside the tensor is
//! moved element by element (see `memory.rs`).

use crate::tir::{BinaryOp, Block, Dim, Kernel, Literal, Op, ValueId};
use std::collections::HashMap;
use tilec_dtype::DType;
use tilec_layout::TvLayout;

/// What a value known to be 0 is a multiple of (every power of two, capped to stay summable).
pub(super) const ZERO: u32 = 62;

/// The power of two `n` is a multiple of (`ZERO` for 0).
pub(super) fn pow2_of(n: i64) -> u32 {
    if n == 0 {
        ZERO
    } else {
        n.trailing_zeros().min(ZERO)
    }
}

/// For each integer scalar of a kernel, `log2` of a power of two it is known to be a multiple of.
pub(super) struct Divisibility {
    pow2: HashMap<ValueId, u32>,
    consts: HashMap<ValueId, i64>,
}

impl Divisibility {
    pub(super) fn of(kernel: &Kernel) -> Divisibility {
        let mut d = Divisibility { pow2: HashMap::new(), consts: HashMap::new() };
        d.walk(kernel, &kernel.body);
        d
    }

    /// `log2` of a power of two `v` is a multiple of (0 when nothing is known).
    pub(super) fn pow2(&self, v: ValueId) -> u32 {
        self.pow2.get(&v).copied().unwrap_or(0)
    }

    fn walk(&mut self, kernel: &Kernel, block: &Block) {
        for inst in &block.insts {
            let known = match &inst.op {
                Op::Const(Literal::Int(n)) => {
                    self.consts.insert(inst.results[0], *n);
                    Some(pow2_of(*n))
                }
                Op::Binary(op, a, b) => {
                    let (pa, pb) = (self.pow2(*a), self.pow2(*b));
                    match op {
                        BinaryOp::Mul => Some((pa + pb).min(ZERO)),
                        BinaryOp::Add | BinaryOp::Sub | BinaryOp::Min | BinaryOp::Max | BinaryOp::Rem => Some(pa.min(pb)),
                        // `a / 2^j` of a multiple of 2^pa (pa >= j) is exact: a multiple of 2^(pa-j).
                        BinaryOp::Div => match self.consts.get(b) {
                            Some(&c) if c > 0 && (c as u64).is_power_of_two() && pa >= c.trailing_zeros() && pa < ZERO => Some(pa - c.trailing_zeros()),
                            _ => None,
                        },
                        BinaryOp::And | BinaryOp::Or => None,
                    }
                }
                // A multiple stays one through a cast only where the cast cannot saturate it (to
                // an integer type at least as wide): offsets are i64 or i32.
                Op::Cast(a) => {
                    let (from, to) = (kernel.ty(*a).dtype(), kernel.ty(inst.results[0]).dtype());
                    keeps_multiples(from, to).then(|| self.pow2(*a))
                }
                Op::Annotate(a, _) => Some(self.pow2(*a)),
                Op::For { start, step, body, .. } => {
                    if let Some(&iv) = body.args.first() {
                        self.pow2.insert(iv, self.pow2(*start).min(pow2_of(*step)));
                    }
                    self.walk(kernel, body);
                    None
                }
                Op::If { then, els, .. } => {
                    self.walk(kernel, then);
                    self.walk(kernel, els);
                    None
                }
                Op::While { cond, body, .. } => {
                    self.walk(kernel, cond);
                    self.walk(kernel, body);
                    None
                }
                _ => None,
            };
            if let (Some(p), Some(&r)) = (known, inst.results.first()) {
                self.pow2.insert(r, p);
            }
        }
    }
}

/// Whether an integer cast maps every multiple of a power of two to one: it never saturates to
/// an odd bound (a wider type; the same width and signedness; or signed to unsigned, which may
/// saturate to 0).
fn keeps_multiples(from: DType, to: DType) -> bool {
    from.is_int()
        && to.is_int()
        && (to.bits() > from.bits() || (to.bits() == from.bits() && (to.is_signed_int() == from.is_signed_int() || from.is_signed_int())))
}

/// A thread's runs of consecutive elements along the unit-stride dimension of an access.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Runs {
    /// Elements per run (1: no two slots are adjacent in memory).
    pub(super) len: i64,
    /// Slot distance between consecutive elements of a run.
    pub(super) step: i64,
}

impl Runs {
    /// The runs of layout `l` along tile dimension `unit`.
    pub(super) fn of(l: &TvLayout, unit: usize) -> Runs {
        let mut step = 1i64;
        for m in l.value_modes() {
            if m.dim == Some(unit) && m.stride == 1 {
                return Runs { len: m.extent, step };
            }
            step *= m.extent;
        }
        Runs { len: 1, step: 1 }
    }

    /// `log2` of the largest power of two dividing the run length.
    pub(super) fn pow2(&self) -> u32 {
        self.len.trailing_zeros()
    }

    /// The groups of `w` consecutive elements (`w` a power of two dividing the run length), each as
    /// its slots in memory order; groups ordered by their first slot.
    pub(super) fn groups(&self, num_values: i64, w: i64) -> Vec<Vec<usize>> {
        (0..num_values)
            .filter(|v| (v / self.step % self.len) % w == 0)
            .map(|v| (0..w).map(|j| (v + j * self.step) as usize).collect())
            .collect()
    }
}

/// One term of the linear element offset of an access that decides its alignment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Term {
    /// The view's offset along the unit-stride dimension.
    UnitOffset,
    /// The stride of dimension `d` (the tile spans several coordinates there).
    Stride(usize),
    /// The view's offset along `d` times the stride of `d` (the tile has extent 1 there).
    OffsetTimesStride(usize),
}

/// The terms of an access's offset with what each is statically proven a multiple of.
#[derive(Clone, Debug)]
pub(super) struct Alignment {
    /// The tensor dimension of unit stride, if any.
    pub(super) unit: Option<usize>,
    pub(super) terms: Vec<(Term, u32)>,
}

impl Alignment {
    /// The alignment of a tile of `tile_shape` at `offsets` in a tensor of `shape` (row-major, or by
    /// element `strides`).
    /// `offset_pow2[d]` is what the view's offset along `d` is a multiple of ([`Divisibility`]).
    pub(super) fn of(shape: &[Dim], strides: Option<&[Dim]>, tile_shape: &[i64], offset_pow2: &[u32]) -> Alignment {
        let dim_pow2 = |d: &Dim| match d {
            Dim::Fixed(n) => pow2_of(*n as i64),
            Dim::Sym(_) => 0,
        };
        let r = shape.len();
        let (unit, stride_pow2): (Option<usize>, Vec<u32>) = match strides {
            None => (Some(r - 1), (0..r).map(|d| shape[d + 1..].iter().map(dim_pow2).sum::<u32>().min(ZERO)).collect()),
            Some(s) => (s.iter().position(|x| *x == Dim::Fixed(1)), s.iter().map(dim_pow2).collect()),
        };
        let mut terms = Vec::new();
        for d in 0..r {
            if Some(d) == unit {
                terms.push((Term::UnitOffset, offset_pow2[d]));
            } else if tile_shape[d] == 1 {
                terms.push((Term::OffsetTimesStride(d), (offset_pow2[d] + stride_pow2[d]).min(ZERO)));
            } else {
                terms.push((Term::Stride(d), stride_pow2[d]));
            }
        }
        Alignment { unit, terms }
    }

    /// `log2` of what every group start's element index is statically a multiple of.
    pub(super) fn proven(&self) -> u32 {
        self.terms.iter().map(|t| t.1).min().unwrap_or(ZERO)
    }

    /// The terms to test at run time for the group starts to be multiples of `2^k`.
    pub(super) fn unproven(&self, k: u32) -> Vec<Term> {
        self.terms.iter().filter(|t| t.1 < k).map(|t| t.0).collect()
    }
}

/// How wide the groups of an access are: `wide` when its runtime tests pass (or always, when there
/// are none), else `narrow`; both `log2` of elements per group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Widths {
    pub(super) wide: u32,
    pub(super) narrow: u32,
    /// The terms tested at run time for `wide` (empty when `wide == narrow`).
    pub(super) tests: Vec<Term>,
}

impl Widths {
    /// The widths for elements of `bits` bits, in groups of at most `max_bits` bits whose starts must
    /// be multiples of `2^min` elements (a whole byte of a packed type); `0` (one element) is always
    /// allowed.
    pub(super) fn choose(runs: Runs, align: &Alignment, bits: u32, max_bits: u32, min: u32) -> Widths {
        if align.unit.is_none() {
            return Widths { wide: 0, narrow: 0, tests: vec![] };
        }
        let by_size = (max_bits / bits).max(1).ilog2();
        let wide = runs.pow2().min(by_size);
        if wide < min {
            return Widths { wide: 0, narrow: 0, tests: vec![] };
        }
        let proven = align.proven().min(wide);
        let narrow = if proven >= min { proven } else { 0 };
        if narrow == wide {
            return Widths { wide, narrow, tests: vec![] };
        }
        Widths { wide, narrow, tests: align.unproven(wide) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tilec_layout::tv;

    #[test]
    fn runs_follow_the_stride_one_value_mode() {
        // 8 threads along columns, 4 consecutive columns each, 2 rows per thread.
        let l = tv::spatial(&[1, 8]).unwrap().local(&[2, 4]).unwrap();
        let r = Runs::of(&l, 1);
        assert_eq!(r, Runs { len: 4, step: 1 });
        let groups = r.groups(l.num_values(), 2);
        assert_eq!(groups, vec![vec![0, 1], vec![2, 3], vec![4, 5], vec![6, 7]]);
        // Along rows, a thread's two rows are 4 slots apart; in a [1, 8] spread none are adjacent.
        assert_eq!(Runs::of(&l, 0), Runs { len: 2, step: 4 });
        assert_eq!(Runs::of(&tv::spatial(&[4, 8]).unwrap(), 1).len, 1);
    }

    #[test]
    fn widths_are_versioned_only_where_a_test_can_help() {
        let runs = Runs { len: 8, step: 1 };
        let align = |p: u32| Alignment { unit: Some(1), terms: vec![(Term::Stride(0), p), (Term::UnitOffset, 5)] };
        // f32: at most 4 per 16 bytes; a row stride of unknown divisibility is tested.
        assert_eq!(Widths::choose(runs, &align(0), 32, 128, 0), Widths { wide: 2, narrow: 0, tests: vec![Term::Stride(0)] });
        assert_eq!(Widths::choose(runs, &align(1), 32, 128, 0), Widths { wide: 2, narrow: 1, tests: vec![Term::Stride(0)] });
        assert_eq!(Widths::choose(runs, &align(6), 32, 128, 0).tests, vec![]);
        // u4: 8 elements need 2 to start on a byte.
        assert_eq!(Widths::choose(runs, &align(0), 4, 128, 1), Widths { wide: 3, narrow: 0, tests: vec![Term::Stride(0)] });
        assert_eq!(Widths::choose(Runs { len: 1, step: 1 }, &align(9), 4, 128, 1), Widths { wide: 0, narrow: 0, tests: vec![] });
    }
}

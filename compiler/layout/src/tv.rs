//! Thread–value register layouts (Tilus-style), and how they are `shape:stride` layouts.
//!
//! A [`TvLayout`] describes how a logical tile of shape `(n0, n1, ...)` is distributed over the
//! registers of a group of threads: a map `(thread, value) → coordinate`, where `value` is the
//! thread's local register slot. It is built from two primitives and a product:
//!
//! * `local(n0, n1, ...)`: one thread holds the whole block, slots row-major;
//! * `spatial(n0, n1, ...)`: one element per thread, threads row-major;
//! * `column_local` / `column_spatial`: the same with column-major order;
//! * `replicate(k)`: `k` threads hold the same (empty-shaped) data;
//! * `A * B` (Kronecker product): a tile of `A`'s shape whose every element is a block of
//!   `B`'s shape; thread index `tA · threads(B) + tB`, slot `vA · values(B) + vB`.
//!   Chaining `spatial(8,4).local(1,2)` means `spatial(8,4) * local(1,2)`.
//!
//! **Relation to `shape:stride` layouts.** Internally a register layout is a list of thread
//! modes and a list of value modes, innermost (fastest) first, each mode an extent that steps
//! one dimension of the tile by a stride (or steps nothing: a replication mode). That is
//! literally a CuTe layout `((thread modes),(value modes)) : ((strides),(strides))` whose
//! codomain is the tile's coordinate space; linearising coordinates row-major gives the single
//! `shape:stride` layout of [`TvLayout::to_layout`], mapping `(thread, value)` (each split
//! colexicographically, as CuTe does) to the tile's row-major linear index. [`TvLayout::from_layout`]
//! goes back. The printed form `tv((16,8), ((4,8),(2,2)):((2,16),(1,64)))` is exactly this
//! pair (tile shape, layout) and parses back in the calculator.
//!
//! Every constructor returns the **canonical form** (size-1 modes dropped, modes that continue
//! each other merged), so `==` compares mappings.

use crate::algebra::{from_leaves, leaves};
use crate::error::{mul, LayoutError, Result};
use crate::int_tuple::IntTuple;
use crate::layout::Layout;
use std::fmt;

/// One mode of a thread or value index: `extent` steps of `stride` along tile dimension
/// `dim`, or, with `dim == None`, a replication (all steps reach the same coordinates).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Mode {
    /// Number of steps.
    pub extent: i64,
    /// Tile dimension stepped, `None` for replication.
    pub dim: Option<usize>,
    /// Coordinate step along `dim` (0 for replication).
    pub stride: i64,
}

impl Mode {
    /// A mode stepping dimension `dim`.
    pub fn along(extent: i64, dim: usize, stride: i64) -> Mode {
        Mode {
            extent,
            dim: Some(dim),
            stride,
        }
    }

    /// A replication mode.
    pub fn replicate(extent: i64) -> Mode {
        Mode {
            extent,
            dim: None,
            stride: 0,
        }
    }
}

/// A thread–value register layout in canonical form.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct TvLayout {
    pub(crate) shape: Vec<i64>,
    pub(crate) threads: Vec<Mode>,
    pub(crate) values: Vec<Mode>,
}

fn order_modes(shape: &[i64], row_major: bool) -> Vec<Mode> {
    let mut modes: Vec<Mode> = shape
        .iter()
        .enumerate()
        .map(|(d, &n)| Mode::along(n, d, 1))
        .collect();
    if row_major {
        modes.reverse();
    }
    modes
}

impl TvLayout {
    /// A register layout from its tile shape and its thread and value modes (innermost first).
    /// Checks that the non-replicated modes of each dimension tile it exactly (every element
    /// held, no thread holding an element twice) and that values are not replicated.
    pub fn new(shape: Vec<i64>, threads: Vec<Mode>, values: Vec<Mode>) -> Result<TvLayout> {
        for &n in &shape {
            if n < 1 {
                return Err(LayoutError::NonPositiveExtent(n));
            }
        }
        shape
            .iter()
            .try_fold(1i64, |a, &n| mul(a, n, "register layout"))?;
        threads
            .iter()
            .chain(&values)
            .try_fold(1i64, |a, m| mul(a, m.extent.max(1), "register layout"))?;
        let all = threads.iter().chain(&values);
        let mut per_dim: Vec<Vec<(i64, i64)>> = vec![Vec::new(); shape.len()];
        for m in all {
            if m.extent < 1 {
                return Err(LayoutError::NonPositiveExtent(m.extent));
            }
            if m.extent == 1 {
                continue;
            }
            match m.dim {
                None => {}
                Some(d) if d < shape.len() && m.stride > 0 => per_dim[d].push((m.stride, m.extent)),
                Some(d) => {
                    return Err(LayoutError::Invalid(format!(
                        "register layout mode of extent {} has dimension {d} / stride {} outside a rank-{} tile",
                        m.extent,
                        m.stride,
                        shape.len()
                    )))
                }
            }
        }
        if values.iter().any(|m| m.dim.is_none() && m.extent > 1) {
            return Err(LayoutError::Invalid(
                "a thread cannot hold the same element in two slots".into(),
            ));
        }
        for (d, modes) in per_dim.iter_mut().enumerate() {
            modes.sort_unstable();
            let mut expect = 1i64;
            for &(s, e) in modes.iter() {
                if s != expect {
                    return Err(LayoutError::Invalid(format!(
                        "dimension {d} of extent {} is not covered exactly once by the modes (stride {s} where {expect} was expected)",
                        shape[d]
                    )));
                }
                expect = mul(expect, e, "register layout")?;
            }
            if expect != shape[d] {
                return Err(LayoutError::Invalid(format!(
                    "dimension {d} has extent {} but its modes cover {expect}",
                    shape[d]
                )));
            }
        }
        Ok(TvLayout {
            shape,
            threads: canonical(&threads),
            values: canonical(&values),
        })
    }

    /// The logical tile shape.
    pub fn shape(&self) -> &[i64] {
        &self.shape
    }

    /// Rank of the tile.
    pub fn rank(&self) -> usize {
        self.shape.len()
    }

    /// Thread modes, innermost first (canonical).
    pub fn thread_modes(&self) -> &[Mode] {
        &self.threads
    }

    /// Value modes, innermost first (canonical).
    pub fn value_modes(&self) -> &[Mode] {
        &self.values
    }

    /// Number of threads.
    pub fn num_threads(&self) -> i64 {
        self.threads.iter().map(|m| m.extent).product()
    }

    /// Number of register slots per thread.
    pub fn num_values(&self) -> i64 {
        self.values.iter().map(|m| m.extent).product()
    }

    /// Number of tile elements.
    pub fn size(&self) -> i64 {
        self.shape.iter().product()
    }

    /// How many threads hold each element.
    pub fn replication(&self) -> i64 {
        self.threads
            .iter()
            .filter(|m| m.dim.is_none())
            .map(|m| m.extent)
            .product()
    }

    /// The coordinate held by `thread` in slot `value`.
    pub fn coords(&self, thread: i64, value: i64) -> Result<Vec<i64>> {
        if !(0..self.num_threads()).contains(&thread) || !(0..self.num_values()).contains(&value) {
            return Err(LayoutError::OutOfDomain(format!(
                "(thread {thread}, value {value}) outside {} threads x {} values",
                self.num_threads(),
                self.num_values()
            )));
        }
        let mut c = vec![0i64; self.rank()];
        for (modes, mut idx) in [(&self.threads, thread), (&self.values, value)] {
            for m in modes.iter() {
                if let Some(d) = m.dim {
                    c[d] += (idx % m.extent) * m.stride;
                }
                idx /= m.extent;
            }
        }
        Ok(c)
    }

    /// The row-major linear index of the coordinate held by `(thread, value)`.
    pub fn linear(&self, thread: i64, value: i64) -> Result<i64> {
        let c = self.coords(thread, value)?;
        Ok(c.iter().zip(&self.shape).fold(0, |acc, (x, n)| acc * n + x))
    }

    /// All `(thread, value)` pairs holding `coord`, sorted by thread.
    pub fn holders(&self, coord: &[i64]) -> Result<Vec<(i64, i64)>> {
        if coord.len() != self.rank()
            || coord
                .iter()
                .zip(&self.shape)
                .any(|(&c, &n)| !(0..n).contains(&c))
        {
            return Err(LayoutError::OutOfDomain(format!(
                "coordinate {coord:?} outside the tile {:?}",
                self.shape
            )));
        }
        let digits = |modes: &[Mode]| -> (i64, Vec<i64>) {
            let (mut base, mut step, mut reps) = (0i64, 1i64, Vec::new());
            for m in modes {
                match m.dim {
                    Some(d) => base += ((coord[d] / m.stride) % m.extent) * step,
                    None => reps.push(step),
                }
                step *= m.extent;
            }
            (base, reps)
        };
        let (v, _) = digits(&self.values);
        let (t0, _) = digits(&self.threads);
        let mut threads = vec![t0];
        for m in self.threads.iter().scan(1i64, |step, m| {
            let s = *step;
            *step *= m.extent;
            Some((s, *m))
        }) {
            if m.1.dim.is_none() {
                threads = threads
                    .iter()
                    .flat_map(|&t| (0..m.1.extent).map(move |k| t + k * m.0))
                    .collect();
            }
        }
        threads.sort_unstable();
        Ok(threads.into_iter().map(|t| (t, v)).collect())
    }

    /// The single `shape:stride` layout `((thread modes),(value modes))` from `(thread, value)`
    /// to the row-major linear index of the tile.
    pub fn to_layout(&self) -> Layout {
        let rs = row_strides(&self.shape);
        let part = |modes: &[Mode]| {
            let lv: Vec<(i64, i64)> = modes
                .iter()
                .map(|m| (m.extent, m.dim.map_or(0, |d| m.stride * rs[d])))
                .collect();
            from_leaves(&lv)
        };
        Layout::concat(&[part(&self.threads), part(&self.values)])
    }

    /// The register layout of tile `shape` whose `(thread, value)` → row-major index map is
    /// `layout` (rank 2: thread mode, value mode). Modes that straddle dimensions are split.
    pub fn from_layout(shape: &[i64], layout: &Layout) -> Result<TvLayout> {
        if layout.rank() != 2 || layout.shape().is_int() {
            return Err(LayoutError::Rank {
                op: "register layout",
                reason: format!("{layout} must have two modes (thread, value)"),
            });
        }
        let rs = row_strides(shape);
        let size: i64 = shape
            .iter()
            .try_fold(1i64, |a, &b| mul(a, b, "register layout"))?;
        let mut lists = Vec::new();
        for k in 0..2 {
            let mut out = Vec::new();
            for (e, s) in leaves(&layout.mode(k)?) {
                split_linear(e, s, shape, &rs, size, &mut out)?;
            }
            lists.push(out);
        }
        let values = lists.pop().unwrap_or_default();
        let threads = lists.pop().unwrap_or_default();
        TvLayout::new(shape.to_vec(), threads, values)
    }
}

/// One thread holds the whole block `shape`, slots in row-major order.
pub fn local(shape: &[i64]) -> Result<TvLayout> {
    TvLayout::new(shape.to_vec(), vec![], order_modes(shape, true))
}

/// Like [`local`] with slots in column-major order.
pub fn column_local(shape: &[i64]) -> Result<TvLayout> {
    TvLayout::new(shape.to_vec(), vec![], order_modes(shape, false))
}

/// One element per thread, threads in row-major order.
pub fn spatial(shape: &[i64]) -> Result<TvLayout> {
    TvLayout::new(shape.to_vec(), order_modes(shape, true), vec![])
}

/// Like [`spatial`] with threads in column-major order.
pub fn column_spatial(shape: &[i64]) -> Result<TvLayout> {
    TvLayout::new(shape.to_vec(), order_modes(shape, false), vec![])
}

/// `k` threads holding the same (rank-0) data; `spatial(8,4) * replicate(2)` gives every
/// element to two adjacent threads.
pub fn replicate(k: i64) -> Result<TvLayout> {
    TvLayout::new(vec![], vec![Mode::replicate(k)], vec![])
}

/// Modes of `shape` ordered by `ranks` (`ranks[d]` is dimension `d`'s position from the
/// outermost, 0), innermost first.
fn ranked_modes(shape: &[i64], ranks: &[usize]) -> Result<Vec<Mode>> {
    let mut seen = vec![false; shape.len()];
    if ranks.len() != shape.len()
        || ranks
            .iter()
            .any(|&r| r >= shape.len() || std::mem::replace(&mut seen[r], true))
    {
        return Err(LayoutError::Invalid(format!(
            "{ranks:?} are not the ranks of {} dimensions",
            shape.len()
        )));
    }
    let mut dims: Vec<usize> = (0..shape.len()).collect();
    dims.sort_by_key(|&d| std::cmp::Reverse(ranks[d]));
    Ok(dims
        .into_iter()
        .map(|d| Mode::along(shape[d], d, 1))
        .collect())
}

/// `spatial` with the thread order given by `ranks` (Tilus' `spatial(*shape, ranks=...)`):
/// `ranks[d]` is dimension `d`'s position, outermost 0; `[0, 1]` is row-major, `[1, 0]`
/// column-major.
pub fn spatial_ranked(shape: &[i64], ranks: &[usize]) -> Result<TvLayout> {
    TvLayout::new(shape.to_vec(), ranked_modes(shape, ranks)?, vec![])
}

/// `local` with the slot order given by `ranks` (see [`spatial_ranked`]).
pub fn local_ranked(shape: &[i64], ranks: &[usize]) -> Result<TvLayout> {
    TvLayout::new(shape.to_vec(), vec![], ranked_modes(shape, ranks)?)
}

/// Row-major strides of a flat shape.
pub(crate) fn row_strides(shape: &[i64]) -> Vec<i64> {
    let mut rs = vec![1i64; shape.len()];
    for d in (0..shape.len().saturating_sub(1)).rev() {
        rs[d] = rs[d + 1].saturating_mul(shape[d + 1]);
    }
    rs
}

fn split_linear(
    e: i64,
    s: i64,
    shape: &[i64],
    rs: &[i64],
    size: i64,
    out: &mut Vec<Mode>,
) -> Result<()> {
    if e == 1 {
        return Ok(());
    }
    if s == 0 {
        out.push(Mode::replicate(e));
        return Ok(());
    }
    let bad = || {
        LayoutError::Invalid(format!(
            "a mode {e}:{s} does not fit the dimensions of tile {shape:?}"
        ))
    };
    if s < 0 || s >= size {
        return Err(bad());
    }
    let d = (0..shape.len())
        .find(|&d| s >= rs[d] && s % rs[d] == 0 && s / rs[d] < shape[d])
        .ok_or_else(bad)?;
    let dstride = s / rs[d];
    let cap = shape[d] / dstride;
    if e <= cap || d == 0 {
        out.push(Mode::along(e, d, dstride));
        return Ok(());
    }
    if e % cap != 0 || shape[d] % dstride != 0 {
        return Err(bad());
    }
    out.push(Mode::along(cap, d, dstride));
    split_linear(e / cap, rs[d - 1], shape, rs, size, out)
}

/// Drops size-1 modes and merges modes that continue each other.
pub(crate) fn canonical(modes: &[Mode]) -> Vec<Mode> {
    let mut out: Vec<Mode> = Vec::with_capacity(modes.len());
    for &m in modes {
        if m.extent == 1 {
            continue;
        }
        let m = if m.dim.is_none() {
            Mode::replicate(m.extent)
        } else {
            m
        };
        match out.last_mut() {
            Some(last) if last.dim.is_none() && m.dim.is_none() => last.extent *= m.extent,
            Some(last)
                if last.dim.is_some()
                    && last.dim == m.dim
                    && last.stride * last.extent == m.stride =>
            {
                last.extent *= m.extent
            }
            _ => out.push(m),
        }
    }
    out
}

impl fmt::Display for TvLayout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shape = IntTuple::Tuple(self.shape.iter().map(|&n| IntTuple::Int(n)).collect());
        write!(f, "tv({shape}, {})", self.to_layout())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spatial_local() {
        let s = spatial(&[8, 4]).unwrap();
        assert_eq!(s.num_threads(), 32);
        assert_eq!(s.coords(6, 0).unwrap(), vec![1, 2]);
        let c = column_spatial(&[8, 4]).unwrap();
        assert_eq!(c.coords(6, 0).unwrap(), vec![6, 0]);
        let l = local(&[2, 3]).unwrap();
        assert_eq!(l.coords(0, 4).unwrap(), vec![1, 1]);
        assert_eq!(l.to_string(), "tv((2,3), (1,(3,2)):(0,(1,3)))");
        let back = TvLayout::from_layout(&[8, 4], &s.to_layout()).unwrap();
        assert_eq!(back, s);
        assert_eq!(s.holders(&[1, 2]).unwrap(), vec![(6, 0)]);
    }

    #[test]
    fn ranked_orders() {
        assert_eq!(
            spatial_ranked(&[8, 4], &[0, 1]).unwrap(),
            spatial(&[8, 4]).unwrap()
        );
        assert_eq!(
            spatial_ranked(&[8, 4], &[1, 0]).unwrap(),
            column_spatial(&[8, 4]).unwrap()
        );
        assert_eq!(
            local_ranked(&[2, 3, 4], &[2, 0, 1])
                .unwrap()
                .coords(0, 1)
                .unwrap(),
            vec![1, 0, 0]
        );
        assert!(local_ranked(&[2, 3], &[0, 0]).is_err());
    }
}

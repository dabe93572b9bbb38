//! The `shape:stride` layout: a function from coordinates (or linear indices) to offsets.
//!
//! A [`Layout`] pairs a shape and a congruent stride. It maps a coordinate `c` to the inner
//! product `c · stride`; a linear index is first split colexicographically (first mode
//! fastest) into a coordinate of the shape. This is exactly CuTe's `Layout<Shape,Stride>`,
//! printed `(4,2):(1,4)`.

use crate::error::{LayoutError, Result};
use crate::int_tuple::{crd2idx, Int, IntTuple, Tuple};
use std::fmt;

/// A hierarchical `shape:stride` layout.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Layout {
    shape: IntTuple,
    stride: IntTuple,
}

impl Layout {
    /// A layout from a shape and a congruent stride; extents must be positive.
    pub fn new(shape: impl Into<IntTuple>, stride: impl Into<IntTuple>) -> Result<Layout> {
        let (shape, stride) = (shape.into(), stride.into());
        if !shape.congruent(&stride) {
            return Err(LayoutError::NotCongruent {
                what: "shape and stride",
                left: shape.to_string(),
                right: stride.to_string(),
            });
        }
        shape.check_shape()?;
        shape.product()?;
        // The extreme offsets must be representable too.
        let (mut lo, mut hi) = (0i64, 0i64);
        for (s, d) in shape.leaves().into_iter().zip(stride.leaves()) {
            let reach = crate::error::mul(s - 1, d, "layout extent")?;
            if reach < 0 {
                lo = crate::error::add(lo, reach, "layout extent")?;
            } else {
                hi = crate::error::add(hi, reach, "layout extent")?;
            }
        }
        // One past the top (the cosize) and the span `hi - lo` must fit as well.
        crate::error::add(hi, 1, "layout extent")?;
        hi.checked_sub(lo)
            .ok_or(LayoutError::Overflow("layout extent"))?;
        Ok(Layout { shape, stride })
    }

    /// Internal constructor for results that are congruent by construction.
    pub(crate) fn raw(shape: IntTuple, stride: IntTuple) -> Layout {
        debug_assert!(shape.congruent(&stride));
        Layout { shape, stride }
    }

    /// The compact column-major (colexicographic) layout of a shape: `(4,8)` is `(4,8):(1,4)`.
    pub fn column_major(shape: impl Into<IntTuple>) -> Result<Layout> {
        let shape = shape.into();
        let stride = shape.prefix_product(1)?;
        Layout::new(shape, stride)
    }

    /// The compact row-major layout of a flat or hierarchical shape: last mode fastest.
    pub fn row_major(shape: impl Into<IntTuple>) -> Result<Layout> {
        let shape = shape.into();
        shape.check_shape()?;
        let mut acc = 1i64;
        let stride = row_major_stride(&shape, &mut acc)?;
        Layout::new(shape, stride)
    }

    /// A compact layout whose modes are ordered by `order` (mode with the smallest order value
    /// is fastest); CuTe's `make_ordered_layout`. Both are flat tuples of the same rank.
    pub fn ordered(shape: &[i64], order: &[i64]) -> Result<Layout> {
        if shape.len() != order.len() {
            return Err(LayoutError::Rank {
                op: "ordered layout",
                reason: "shape and order differ in rank".into(),
            });
        }
        let mut idx: Vec<usize> = (0..shape.len()).collect();
        idx.sort_by_key(|&i| (order[i], i));
        let mut stride = vec![0i64; shape.len()];
        let mut acc = 1i64;
        for i in idx {
            stride[i] = acc;
            acc = crate::error::mul(acc, shape[i], "ordered layout")?;
        }
        Layout::new(IntTuple::from(shape.to_vec()), IntTuple::from(stride))
    }

    /// The shape.
    pub fn shape(&self) -> &IntTuple {
        &self.shape
    }

    /// The stride.
    pub fn stride(&self) -> &IntTuple {
        &self.stride
    }

    /// Number of elements of the domain.
    pub fn size(&self) -> i64 {
        self.shape.product().unwrap_or(i64::MAX)
    }

    /// One past the largest offset: the size of the codomain the layout needs.
    /// (For non-negative strides this is CuTe's `L(size-1) + 1`.)
    pub fn cosize(&self) -> i64 {
        let max: i64 = self
            .shape
            .leaves()
            .iter()
            .zip(self.stride.leaves())
            .map(|(&s, d)| (s - 1).saturating_mul(d).max(0))
            .fold(0i64, |a, b| a.saturating_add(b));
        max.saturating_add(1)
    }

    /// Number of top-level modes.
    pub fn rank(&self) -> usize {
        self.shape.rank()
    }

    /// Nesting depth of the shape.
    pub fn depth(&self) -> usize {
        self.shape.depth()
    }

    /// Top-level mode `i` as a layout.
    pub fn mode(&self, i: usize) -> Result<Layout> {
        match (self.shape.mode(i), self.stride.mode(i)) {
            (Some(s), Some(d)) => Ok(Layout::raw(s.clone(), d.clone())),
            _ => Err(LayoutError::Rank {
                op: "mode",
                reason: format!("mode {i} of a rank-{} layout", self.rank()),
            }),
        }
    }

    /// All top-level modes.
    pub fn modes(&self) -> Vec<Layout> {
        self.shape
            .modes()
            .into_iter()
            .zip(self.stride.modes())
            .map(|(s, d)| Layout::raw(s, d))
            .collect()
    }

    /// Concatenates layouts as the modes of a new layout (CuTe's `make_layout(a, b, ...)`).
    pub fn concat(parts: &[Layout]) -> Layout {
        Layout::raw(
            Tuple(parts.iter().map(|l| l.shape.clone()).collect()),
            Tuple(parts.iter().map(|l| l.stride.clone()).collect()),
        )
    }

    /// Pads with `1:0` modes up to rank `r` (CuTe's `append<R>`); a leaf layout becomes rank 1 first.
    pub fn pad_to_rank(&self, r: usize) -> Layout {
        let mut modes = self.modes();
        while modes.len() < r {
            modes.push(Layout::raw(Int(1), Int(0)));
        }
        if modes.len() == 1 && r <= 1 {
            return self.clone();
        }
        Layout::concat(&modes)
    }

    /// The flattened layout (all leaves as top-level modes).
    pub fn flatten(&self) -> Layout {
        Layout::raw(self.shape.flatten(), self.stride.flatten())
    }

    /// The offset of a linear index (colexicographic split; indices past the size extend
    /// the last mode, as CuTe does).
    pub fn eval(&self, idx: i64) -> Result<i64> {
        crd2idx(&Int(idx), &self.shape, &self.stride)
    }

    /// The offset of a (possibly hierarchical, weakly congruent) coordinate.
    pub fn eval_crd(&self, crd: &IntTuple) -> Result<i64> {
        if !crd.weakly_congruent(&self.shape) {
            return Err(LayoutError::NotCongruent {
                what: "coordinate and shape",
                left: crd.to_string(),
                right: self.shape.to_string(),
            });
        }
        crd2idx(crd, &self.shape, &self.stride)
    }

    /// Offsets of all indices `0..size`, in order.
    pub fn image(&self) -> Vec<i64> {
        let leaves: Vec<(i64, i64)> = self
            .shape
            .leaves()
            .into_iter()
            .zip(self.stride.leaves())
            .collect();
        let mut out = vec![0i64];
        for (s, d) in leaves {
            let prev = std::mem::take(&mut out);
            out.reserve(prev.len() * s as usize);
            for k in 0..s {
                out.extend(prev.iter().map(|&o| o + k * d));
            }
        }
        out
    }

    /// Whether every leaf stride is non-negative.
    pub fn has_nonnegative_strides(&self) -> bool {
        self.stride.leaves().iter().all(|&d| d >= 0)
    }

    /// Whether distinct indices map to distinct offsets.
    pub fn is_injective(&self) -> bool {
        let mut img = self.image();
        img.sort_unstable();
        img.windows(2).all(|w| w[0] != w[1])
    }
}

fn row_major_stride(shape: &IntTuple, acc: &mut i64) -> Result<IntTuple> {
    match shape {
        Int(s) => {
            let d = *acc;
            *acc = crate::error::mul(*acc, *s, "row_major")?;
            Ok(Int(d))
        }
        Tuple(v) => {
            let mut out: Vec<IntTuple> = Vec::with_capacity(v.len());
            for x in v.iter().rev() {
                out.push(row_major_stride(x, acc)?);
            }
            out.reverse();
            Ok(Tuple(out))
        }
    }
}

impl fmt::Display for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.shape, self.stride)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tup;

    #[test]
    fn eval_and_sizes() {
        let l = Layout::new(tup![tup![2, 2], 4], tup![tup![1, 4], 2]).unwrap();
        assert_eq!(l.to_string(), "((2,2),4):((1,4),2)");
        assert_eq!(l.size(), 16);
        assert_eq!(l.cosize(), 12);
        assert_eq!(l.rank(), 2);
        assert_eq!(l.depth(), 2);
        assert_eq!(l.eval(5).unwrap(), 1 + 2);
        assert_eq!(l.eval_crd(&tup![1, 2]).unwrap(), 1 + 4);
        assert_eq!(
            l.image(),
            (0..16).map(|i| l.eval(i).unwrap()).collect::<Vec<_>>()
        );
        assert_eq!(
            Layout::row_major(tup![4, 8]).unwrap().to_string(),
            "(4,8):(8,1)"
        );
        assert_eq!(
            Layout::column_major(tup![4, 8]).unwrap().to_string(),
            "(4,8):(1,4)"
        );
        assert!(Layout::new(tup![2, 0], tup![1, 2]).is_err());
        assert!(Layout::new(tup![2, 2], tup![1]).is_err());
    }
}

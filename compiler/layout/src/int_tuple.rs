//! Hierarchical integer tuples, the shapes, strides and coordinates of CuTe layouts.
//!
//! An [`IntTuple`] is either an integer or a tuple of `IntTuple`s, to any depth. Shapes and
//! strides of a [`crate::Layout`] are congruent `IntTuple`s; coordinates are `IntTuple`s weakly
//! congruent to the shape (an integer coordinate of a tuple mode is split colexicographically).
//! The printed form is CuTe's: `8`, `(4,2)`, `((2,2),4)`, and `()` for the empty tuple.

use crate::error::{mul, LayoutError, Result};
use std::fmt;

/// An integer or a tuple of integer tuples.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum IntTuple {
    /// A leaf.
    Int(i64),
    /// A (possibly empty) tuple.
    Tuple(Vec<IntTuple>),
}

pub use IntTuple::{Int, Tuple};

impl From<i64> for IntTuple {
    fn from(v: i64) -> Self {
        Int(v)
    }
}

impl<T: Into<IntTuple>> From<Vec<T>> for IntTuple {
    fn from(v: Vec<T>) -> Self {
        Tuple(v.into_iter().map(Into::into).collect())
    }
}

/// Builds an [`IntTuple`]: `tup![4, tup![2, 2]]` is `(4,(2,2))`.
#[macro_export]
macro_rules! tup {
    ($($x:expr),* $(,)?) => { $crate::IntTuple::Tuple(vec![$($crate::IntTuple::from($x)),*]) };
}

impl IntTuple {
    /// Whether this is a leaf.
    pub fn is_int(&self) -> bool {
        matches!(self, Int(_))
    }

    /// The leaf value, if this is a leaf.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Int(v) => Some(*v),
            Tuple(_) => None,
        }
    }

    /// Number of top-level modes; 1 for an integer.
    pub fn rank(&self) -> usize {
        match self {
            Int(_) => 1,
            Tuple(v) => v.len(),
        }
    }

    /// Nesting depth: 0 for an integer, 1 for a flat tuple, ...
    pub fn depth(&self) -> usize {
        match self {
            Int(_) => 0,
            Tuple(v) => 1 + v.iter().map(IntTuple::depth).max().unwrap_or(0),
        }
    }

    /// Top-level mode `i`; an integer is its own single mode.
    pub fn mode(&self, i: usize) -> Option<&IntTuple> {
        match self {
            Int(_) if i == 0 => Some(self),
            Int(_) => None,
            Tuple(v) => v.get(i),
        }
    }

    /// Top-level modes as a vector (an integer gives itself).
    pub fn modes(&self) -> Vec<IntTuple> {
        match self {
            Int(_) => vec![self.clone()],
            Tuple(v) => v.clone(),
        }
    }

    /// Product of all leaves (the size of a shape); saturates to an error on overflow.
    pub fn product(&self) -> Result<i64> {
        match self {
            Int(v) => Ok(*v),
            Tuple(v) => v
                .iter()
                .try_fold(1i64, |acc, x| mul(acc, x.product()?, "product")),
        }
    }

    /// Sum of all leaves.
    pub fn sum(&self) -> i64 {
        self.leaves().iter().sum()
    }

    /// The leaves, depth first.
    pub fn leaves(&self) -> Vec<i64> {
        let mut out = Vec::new();
        self.collect_leaves(&mut out);
        out
    }

    fn collect_leaves(&self, out: &mut Vec<i64>) {
        match self {
            Int(v) => out.push(*v),
            Tuple(v) => v.iter().for_each(|x| x.collect_leaves(out)),
        }
    }

    /// The flat tuple of leaves (an integer stays an integer).
    pub fn flatten(&self) -> IntTuple {
        match self {
            Int(_) => self.clone(),
            Tuple(_) => Tuple(self.leaves().into_iter().map(Int).collect()),
        }
    }

    /// Whether `self` and `other` have the same tree structure.
    pub fn congruent(&self, other: &IntTuple) -> bool {
        match (self, other) {
            (Int(_), Int(_)) => true,
            (Tuple(a), Tuple(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.congruent(y))
            }
            _ => false,
        }
    }

    /// Whether `self` (a coordinate) is weakly congruent to `shape`: wherever `self` has a
    /// tuple, `shape` has a tuple of the same length; an integer may stand for any sub-tree.
    pub fn weakly_congruent(&self, shape: &IntTuple) -> bool {
        match (self, shape) {
            (Int(_), _) => true,
            (Tuple(a), Tuple(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.weakly_congruent(y))
            }
            (Tuple(_), Int(_)) => false,
        }
    }

    /// Exclusive colexicographic prefix products, congruent to `self`:
    /// `prefix_product((2,(3,4)))` is `(1,(2,6))`. This is the compact column-major stride.
    pub fn prefix_product(&self, init: i64) -> Result<IntTuple> {
        match self {
            Int(_) => Ok(Int(init)),
            Tuple(v) => {
                let mut acc = init;
                let mut out = Vec::with_capacity(v.len());
                for x in v {
                    out.push(x.prefix_product(acc)?);
                    acc = mul(acc, x.product()?, "prefix_product")?;
                }
                Ok(Tuple(out))
            }
        }
    }

    /// Structure-preserving map over leaves.
    pub fn map(&self, f: &impl Fn(i64) -> i64) -> IntTuple {
        match self {
            Int(v) => Int(f(*v)),
            Tuple(v) => Tuple(v.iter().map(|x| x.map(f)).collect()),
        }
    }

    /// Checks every leaf of a shape is positive.
    pub fn check_shape(&self) -> Result<()> {
        match self.leaves().into_iter().find(|&v| v < 1) {
            Some(v) => Err(LayoutError::NonPositiveExtent(v)),
            None => Ok(()),
        }
    }

    /// Splits a linear index into a coordinate congruent to `self` (a shape), colexicographically.
    /// The outermost mode is not wrapped, so indices past the size extend it (CuTe semantics).
    pub fn idx2crd(&self, idx: i64) -> Result<IntTuple> {
        self.idx2crd_impl(idx, false)
    }

    fn idx2crd_impl(&self, idx: i64, wrap: bool) -> Result<IntTuple> {
        match self {
            Int(s) if *s < 1 => Err(LayoutError::NonPositiveExtent(*s)),
            Int(s) => Ok(Int(if wrap { idx.rem_euclid(*s) } else { idx })),
            Tuple(v) => {
                let mut rest = idx;
                let mut out = Vec::with_capacity(v.len());
                for (i, m) in v.iter().enumerate() {
                    let last = i + 1 == v.len();
                    let sz = m.product()?;
                    if sz < 1 {
                        return Err(LayoutError::NonPositiveExtent(sz));
                    }
                    if last && !wrap {
                        out.push(m.idx2crd_impl(rest, false)?);
                    } else {
                        out.push(m.idx2crd_impl(rest.rem_euclid(sz), true)?);
                        rest = rest.div_euclid(sz);
                    }
                }
                Ok(Tuple(out))
            }
        }
    }

    /// `shape_div(a, b)`: divides shape `a` by `b` from the left (innermost modes first), the way
    /// CuTe does when it peels a stride off a shape. Requires `a % b == 0 || b % a == 0` at each
    /// leaf step; the result of `a / b` with `b % a == 0` is 1.
    pub fn shape_div(&self, b: &IntTuple) -> Result<IntTuple> {
        match (self, b) {
            (Tuple(a), Tuple(bv)) => {
                if a.len() != bv.len() {
                    return Err(LayoutError::NotCongruent {
                        what: "shape_div",
                        left: self.to_string(),
                        right: b.to_string(),
                    });
                }
                Ok(Tuple(
                    a.iter()
                        .zip(bv)
                        .map(|(x, y)| x.shape_div(y))
                        .collect::<Result<_>>()?,
                ))
            }
            (Tuple(a), Int(_)) => {
                let mut rest = b.clone();
                let mut out = Vec::with_capacity(a.len());
                for x in a {
                    out.push(x.shape_div(&rest)?);
                    rest = rest.shape_div(&Int(x.product()?))?;
                }
                Ok(Tuple(out))
            }
            (Int(_), Tuple(_)) => self.shape_div(&Int(b.product()?)),
            (Int(x), Int(y)) => {
                let (x, y) = (*x, *y);
                if y == 0 || x == 0 {
                    return Err(LayoutError::Invalid("shape_div by zero".into()));
                }
                if x % y == 0 {
                    Ok(Int(x / y))
                } else if y % x == 0 {
                    Ok(Int(1))
                } else {
                    Err(LayoutError::NotDivisible {
                        op: "shape_div",
                        reason: format!("neither of {x} and {y} divides the other"),
                    })
                }
            }
        }
    }
}

impl fmt::Display for IntTuple {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Int(v) => write!(f, "{v}"),
            Tuple(v) => {
                write!(f, "(")?;
                for (i, x) in v.iter().enumerate() {
                    if i > 0 {
                        write!(f, ",")?;
                    }
                    write!(f, "{x}")?;
                }
                write!(f, ")")
            }
        }
    }
}

/// Inner product of a coordinate with a stride: the offset a layout assigns to the coordinate.
/// `crd` must be weakly congruent to `shape`; an integer standing for a tuple mode is split
/// colexicographically (its outermost sub-mode unwrapped).
pub fn crd2idx(crd: &IntTuple, shape: &IntTuple, stride: &IntTuple) -> Result<i64> {
    match (crd, shape, stride) {
        (Int(c), Int(_), Int(d)) => mul(*c, *d, "crd2idx"),
        (Int(c), Tuple(_), Tuple(_)) => {
            let full = shape.idx2crd(*c)?;
            crd2idx(&full, shape, stride)
        }
        (Tuple(c), Tuple(s), Tuple(d)) if c.len() == s.len() && s.len() == d.len() => {
            let mut acc = 0i64;
            for ((ci, si), di) in c.iter().zip(s).zip(d) {
                acc = crate::error::add(acc, crd2idx(ci, si, di)?, "crd2idx")?;
            }
            Ok(acc)
        }
        _ => Err(LayoutError::NotCongruent {
            what: "coordinate and shape",
            left: crd.to_string(),
            right: shape.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basics() {
        let t = tup![2, tup![3, 4]];
        assert_eq!(t.to_string(), "(2,(3,4))");
        assert_eq!(t.product().unwrap(), 24);
        assert_eq!(t.rank(), 2);
        assert_eq!(t.depth(), 2);
        assert_eq!(Int(5).depth(), 0);
        assert_eq!(t.prefix_product(1).unwrap(), tup![1, tup![2, 6]]);
        assert_eq!(t.flatten(), tup![2, 3, 4]);
        assert_eq!(t.idx2crd(23).unwrap(), tup![1, tup![2, 3]]);
        assert_eq!(t.idx2crd(25).unwrap(), tup![1, tup![0, 4]]);
    }

    #[test]
    fn shape_div_examples() {
        assert_eq!(
            tup![3, 6, 2, 8].shape_div(&Int(9)).unwrap(),
            tup![1, 2, 2, 8]
        );
        assert!(tup![4, 6].shape_div(&Int(6)).is_err());
        assert_eq!(
            tup![3, 6, 2, 8].shape_div(&Int(3)).unwrap(),
            tup![1, 6, 2, 8]
        );
        assert_eq!(
            tup![3, 6, 2, 8].shape_div(&Int(6)).unwrap(),
            tup![1, 3, 2, 8]
        );
        assert_eq!(
            tup![3, 6, 2, 8].shape_div(&Int(36)).unwrap(),
            tup![1, 1, 1, 8]
        );
        assert_eq!(
            tup![3, 6, 2, 8].shape_div(&Int(72)).unwrap(),
            tup![1, 1, 1, 4]
        );
    }

    #[test]
    fn crd2idx_mixed() {
        let s = tup![tup![2, 2], 4];
        let d = tup![tup![1, 4], 2];
        assert_eq!(crd2idx(&tup![tup![1, 1], 3], &s, &d).unwrap(), 11);
        assert_eq!(crd2idx(&tup![3, 3], &s, &d).unwrap(), 11);
        assert_eq!(crd2idx(&Int(15), &s, &d).unwrap(), 11);
    }
}

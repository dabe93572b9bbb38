//! Operations on register layouts: product, right and left division, reduction, reshape,
//! permutation, concatenation.
//!
//! Division is what instruction selection uses: if an operand's register layout `A` equals
//! `C * atom` for the register layout `atom` of an instruction (an `mma` fragment, an
//! `ldmatrix` result), then `A / atom == C` says how many times and in what arrangement the
//! instruction is issued, and the instruction applies. Quotients are found structurally
//! (peeling the atom's threads and values off the innermost modes) and always verified by
//! multiplying back, so a returned quotient is exact.

use crate::error::{mul, LayoutError, Result};
use crate::tv::{self, canonical, Mode, TvLayout};

fn not_divisible(a: &TvLayout, b: &TvLayout, why: String) -> LayoutError {
    LayoutError::NotDivisible {
        op: "register layout division",
        reason: format!("{a} by {b}: {why}"),
    }
}

/// Pads a shape with leading 1s (dimensions renumbered) up to rank `r`.
fn lift(l: &TvLayout, r: usize) -> TvLayout {
    let k = r - l.rank();
    let shift = |m: &Mode| Mode {
        dim: m.dim.map(|d| d + k),
        ..*m
    };
    let mut shape = vec![1i64; k];
    shape.extend(&l.shape);
    TvLayout {
        shape,
        threads: l.threads.iter().map(shift).collect(),
        values: l.values.iter().map(shift).collect(),
    }
}

/// Splits an (innermost-first) mode list into an inner part of total extent `k` and the rest.
fn split_at_extent(modes: &[Mode], k: i64) -> Option<(Vec<Mode>, Vec<Mode>)> {
    let (mut inner, mut outer) = (Vec::new(), Vec::new());
    let mut acc = 1i64;
    for &m in modes {
        if acc == k {
            outer.push(m);
        } else if k % (acc * m.extent) == 0 {
            acc *= m.extent;
            inner.push(m);
        } else {
            let want = k / acc;
            if m.extent % want != 0 {
                return None;
            }
            inner.push(Mode { extent: want, ..m });
            let stride = if m.dim.is_some() { m.stride * want } else { 0 };
            outer.push(Mode {
                extent: m.extent / want,
                stride,
                ..m
            });
            acc = k;
        }
    }
    (acc == k).then_some((inner, outer))
}

fn scale(modes: &[Mode], by: &[i64]) -> Result<Vec<Mode>> {
    modes
        .iter()
        .map(|m| {
            Ok(Mode {
                stride: m
                    .dim
                    .map_or(Ok(0), |d| mul(m.stride, by[d], "register layout"))?,
                ..*m
            })
        })
        .collect()
}

fn unscale(modes: &[Mode], by: &[i64]) -> Option<Vec<Mode>> {
    modes
        .iter()
        .map(|m| match m.dim {
            None => Some(*m),
            Some(d) => (m.stride % by[d] == 0).then(|| Mode {
                stride: m.stride / by[d],
                ..*m
            }),
        })
        .collect()
}

impl TvLayout {
    /// The product `self * inner`: each element of `self`'s tile becomes a block of `inner`'s
    /// tile; `inner`'s threads and slots are the fast ones. Ranks are aligned by padding the
    /// shorter shape with leading 1s.
    pub fn product(&self, inner: &TvLayout) -> Result<TvLayout> {
        let r = self.rank().max(inner.rank());
        let (a, b) = (lift(self, r), lift(inner, r));
        let shape = a
            .shape
            .iter()
            .zip(&b.shape)
            .map(|(x, y)| mul(*x, *y, "register layout"))
            .collect::<Result<_>>()?;
        let mut threads = b.threads.clone();
        threads.extend(scale(&a.threads, &b.shape)?);
        let mut values = b.values.clone();
        values.extend(scale(&a.values, &b.shape)?);
        // `new` checks that the thread and value counts fit in 64 bits.
        TvLayout::new(shape, threads, values)
    }

    /// `self * local(shape)`.
    pub fn local(&self, shape: &[i64]) -> Result<TvLayout> {
        self.product(&tv::local(shape)?)
    }

    /// `self * spatial(shape)`.
    pub fn spatial(&self, shape: &[i64]) -> Result<TvLayout> {
        self.product(&tv::spatial(shape)?)
    }

    /// `self * column_local(shape)`.
    pub fn column_local(&self, shape: &[i64]) -> Result<TvLayout> {
        self.product(&tv::column_local(shape)?)
    }

    /// `self * column_spatial(shape)`.
    pub fn column_spatial(&self, shape: &[i64]) -> Result<TvLayout> {
        self.product(&tv::column_spatial(shape)?)
    }

    /// `self * replicate(k)`.
    pub fn replicate(&self, k: i64) -> Result<TvLayout> {
        self.product(&tv::replicate(k)?)
    }

    fn aligned_shape(&self, b: &TvLayout) -> Result<(TvLayout, Vec<i64>)> {
        if b.rank() > self.rank() {
            return Err(not_divisible(
                self,
                b,
                "the divisor has a larger rank".into(),
            ));
        }
        let b = lift(b, self.rank());
        let mut q = Vec::with_capacity(self.rank());
        for (x, y) in self.shape.iter().zip(&b.shape) {
            if x % y != 0 {
                return Err(not_divisible(
                    self,
                    &b,
                    format!("tile extent {x} is not a multiple of {y}"),
                ));
            }
            q.push(x / y);
        }
        Ok((b, q))
    }

    /// Right division `self / b`: the `C` with `self == C * b`, if any.
    pub fn div_right(&self, b: &TvLayout) -> Result<TvLayout> {
        let (bl, qshape) = self.aligned_shape(b)?;
        let err = |why: &str| not_divisible(self, b, why.to_string());
        let (_, t_out) = split_at_extent(&self.threads, b.num_threads())
            .ok_or_else(|| err("thread counts do not split"))?;
        let (_, v_out) = split_at_extent(&self.values, b.num_values())
            .ok_or_else(|| err("value counts do not split"))?;
        let t = unscale(&t_out, &bl.shape)
            .ok_or_else(|| err("outer threads are not aligned to the divisor's tile"))?;
        let v = unscale(&v_out, &bl.shape)
            .ok_or_else(|| err("outer values are not aligned to the divisor's tile"))?;
        let c = TvLayout::new(qshape, t, v)
            .map_err(|_| err("the quotient is not a register layout"))?;
        if &c.product(b)? != self {
            return Err(err("the divisor is not the inner factor"));
        }
        Ok(c)
    }

    /// Left division: the `C` with `self == b * C`, if any.
    pub fn div_left(&self, b: &TvLayout) -> Result<TvLayout> {
        let (_, qshape) = self.aligned_shape(b)?;
        let err = |why: &str| not_divisible(self, b, why.to_string());
        let (nt, nv) = (
            self.num_threads() / b.num_threads().max(1),
            self.num_values() / b.num_values().max(1),
        );
        let (t_in, _) =
            split_at_extent(&self.threads, nt).ok_or_else(|| err("thread counts do not split"))?;
        let (v_in, _) =
            split_at_extent(&self.values, nv).ok_or_else(|| err("value counts do not split"))?;
        let c = TvLayout::new(qshape, t_in, v_in)
            .map_err(|_| err("the quotient is not a register layout"))?;
        if &b.product(&c)? != self {
            return Err(err("the divisor is not the outer factor"));
        }
        Ok(c)
    }

    /// Whether `self == C * b` for some `C` (the instruction with register layout `b` can
    /// produce or consume `self`).
    pub fn divisible_by(&self, b: &TvLayout) -> bool {
        self.div_right(b).is_ok()
    }

    /// Reduces over `dims`: the elements along those dimensions are combined, so slots along
    /// them disappear and threads spread along them become replicas of the result. With
    /// `keepdim` the reduced dimensions stay with extent 1; otherwise they are removed.
    pub fn reduce(&self, dims: &[usize], keepdim: bool) -> Result<TvLayout> {
        if let Some(&d) = dims.iter().find(|&&d| d >= self.rank()) {
            return Err(LayoutError::Rank {
                op: "reduce",
                reason: format!("dimension {d} of a rank-{} layout", self.rank()),
            });
        }
        let red = |m: &Mode| m.dim.is_some_and(|d| dims.contains(&d));
        let threads: Vec<Mode> = self
            .threads
            .iter()
            .map(|m| {
                if red(m) {
                    Mode::replicate(m.extent)
                } else {
                    *m
                }
            })
            .collect();
        let values: Vec<Mode> = self.values.iter().filter(|m| !red(m)).copied().collect();
        let mut shape: Vec<i64> = self
            .shape
            .iter()
            .enumerate()
            .map(|(d, &n)| if dims.contains(&d) { 1 } else { n })
            .collect();
        let l = TvLayout::new(shape.clone(), threads, values)?;
        if keepdim {
            return Ok(l);
        }
        let keep: Vec<usize> = (0..self.rank()).filter(|d| !dims.contains(d)).collect();
        shape = keep.iter().map(|&d| shape[d]).collect();
        let renum = |m: &Mode| Mode {
            dim: m
                .dim
                .map(|d| keep.iter().position(|&k| k == d).unwrap_or(0)),
            ..*m
        };
        TvLayout::new(
            shape,
            l.threads.iter().map(renum).collect(),
            l.values.iter().map(renum).collect(),
        )
    }

    /// The same `(thread, value) → row-major index` map viewed on a tile of `shape` (same size).
    pub fn reshape(&self, shape: &[i64]) -> Result<TvLayout> {
        let n: i64 = shape
            .iter()
            .try_fold(1i64, |a, &b| mul(a, b.max(0), "reshape"))?;
        if n != self.size() {
            return Err(LayoutError::Invalid(format!(
                "cannot reshape a tile of {} elements to {shape:?}",
                self.size()
            )));
        }
        TvLayout::from_layout(shape, &self.to_layout())
    }

    /// Permutes the tile's dimensions: dimension `i` of the result is dimension `perm[i]`.
    pub fn permute(&self, perm: &[usize]) -> Result<TvLayout> {
        let mut seen = vec![false; self.rank()];
        if perm.len() != self.rank()
            || perm
                .iter()
                .any(|&p| p >= self.rank() || std::mem::replace(&mut seen[p], true))
        {
            return Err(LayoutError::Invalid(format!(
                "{perm:?} is not a permutation of {} dimensions",
                self.rank()
            )));
        }
        let inv: Vec<usize> = (0..self.rank())
            .map(|d| perm.iter().position(|&p| p == d).unwrap_or(0))
            .collect();
        let re = |m: &Mode| Mode {
            dim: m.dim.map(|d| inv[d]),
            ..*m
        };
        TvLayout::new(
            perm.iter().map(|&p| self.shape[p]).collect(),
            self.threads.iter().map(re).collect(),
            self.values.iter().map(re).collect(),
        )
    }

    /// Concatenates dimensions: the tile `self.shape ++ other.shape`, with `other`'s threads
    /// and slots the fast ones (the product of the two with disjoint dimensions).
    pub fn concat(&self, other: &TvLayout) -> Result<TvLayout> {
        let r = self.rank() + other.rank();
        let mut a = self.clone();
        a.shape.extend(std::iter::repeat_n(1, other.rank()));
        let b = lift(other, r);
        a.product(&b)
    }

    /// Canonical form of a mode list (exposed for tests and passes that build modes by hand).
    pub fn canonical_modes(modes: &[Mode]) -> Vec<Mode> {
        canonical(modes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_and_division() {
        let a = tv::spatial(&[8, 4]).unwrap().local(&[1, 2]).unwrap();
        assert_eq!(a.shape(), &[8, 8]);
        assert_eq!(a.coords(5, 1).unwrap(), vec![1, 3]);
        let b = tv::local(&[2, 1])
            .unwrap()
            .product(&tv::spatial(&[8, 4]).unwrap())
            .unwrap();
        assert_eq!(b.shape(), &[16, 4]);
        assert_eq!(b.coords(5, 1).unwrap(), vec![9, 1]);
        let big = tv::local(&[2, 2]).unwrap().product(&a).unwrap();
        assert_eq!(big.div_right(&a).unwrap(), tv::local(&[2, 2]).unwrap());
        assert_eq!(big.div_left(&tv::local(&[2, 2]).unwrap()).unwrap(), a);
        assert!(a.div_right(&tv::spatial(&[4, 8]).unwrap()).is_err());
        let r = tv::spatial(&[8, 4]).unwrap().reduce(&[1], false).unwrap();
        assert_eq!(r.shape(), &[8]);
        assert_eq!(r.replication(), 4);
        assert_eq!(
            r.holders(&[1]).unwrap(),
            vec![(4, 0), (5, 0), (6, 0), (7, 0)]
        );
    }
}

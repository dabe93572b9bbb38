//! The core layout algebra: coalesce, filter, composition, complement and inverses.
//!
//! These follow CuTe's definitions (see docs/layouts.md). Everything that CuTe guards by a
//! `static_assert` (stride and shape divisibility of a composition, disjointness of a
//! complement) is checked here and reported as a [`LayoutError`], so that a compiler pass can
//! ask "is this composable?" and handle the answer.

use crate::error::{mul, LayoutError, Result};
use crate::int_tuple::{Int, IntTuple, Tuple};
use crate::layout::Layout;

/// Builds a layout from flat `(shape, stride)` leaves: a single leaf gives a rank-1 leaf
/// layout `s:d`, none gives `1:0`.
pub(crate) fn from_leaves(leaves: &[(i64, i64)]) -> Layout {
    match leaves {
        [] => Layout::raw(Int(1), Int(0)),
        [(s, d)] => Layout::raw(Int(*s), Int(*d)),
        _ => Layout::raw(
            Tuple(leaves.iter().map(|&(s, _)| Int(s)).collect()),
            Tuple(leaves.iter().map(|&(_, d)| Int(d)).collect()),
        ),
    }
}

/// The flat `(shape, stride)` leaves of a layout.
pub(crate) fn leaves(l: &Layout) -> Vec<(i64, i64)> {
    l.shape()
        .leaves()
        .into_iter()
        .zip(l.stride().leaves())
        .collect()
}

/// Merges modes that continue each other (`s0*d0 == d1`), drops size-1 modes, and flattens:
/// the simplest layout with the same index → offset function on `0..size`.
pub fn coalesce(l: &Layout) -> Layout {
    let mut out: Vec<(i64, i64)> = Vec::new();
    for (s, d) in leaves(l) {
        if s == 1 {
            continue;
        }
        match out.last_mut() {
            Some(last) if last.0.checked_mul(last.1) == Some(d) => last.0 *= s,
            _ => out.push((s, d)),
        }
    }
    from_leaves(&out)
}

/// Coalesces "by mode": for every top-level mode `i` of `profile`, mode `i` of the layout is
/// coalesced on its own (recursively when `profile[i]` is a tuple); modes past the profile
/// are kept. An integer profile coalesces the whole layout.
pub fn coalesce_profile(l: &Layout, profile: &IntTuple) -> Result<Layout> {
    match profile {
        Int(_) => Ok(coalesce(l)),
        Tuple(p) => {
            if l.rank() < p.len() || (l.shape().is_int() && !p.is_empty()) {
                return Err(LayoutError::Rank {
                    op: "coalesce",
                    reason: format!("profile {profile} has more modes than layout {l}"),
                });
            }
            let mut modes = Vec::with_capacity(l.rank());
            for (i, m) in l.modes().into_iter().enumerate() {
                modes.push(if i < p.len() {
                    coalesce_profile(&m, &p[i])?
                } else {
                    m
                });
            }
            Ok(Layout::concat(&modes))
        }
    }
}

/// Coalesces each top-level mode separately, keeping the rank.
pub fn coalesce_modes(l: &Layout) -> Layout {
    if l.shape().is_int() {
        return coalesce(l);
    }
    Layout::concat(&l.modes().iter().map(coalesce).collect::<Vec<_>>())
}

/// Removes stride-0 modes (replaced by size 1) and coalesces: the layout of the distinct
/// offsets the layout reaches.
pub fn filter(l: &Layout) -> Layout {
    let shape = filter_zeros(l.stride(), l.shape());
    coalesce(&Layout::raw(shape, l.stride().clone()))
}

fn filter_zeros(stride: &IntTuple, shape: &IntTuple) -> IntTuple {
    match (stride, shape) {
        (Int(0), _) => Int(1),
        (Tuple(d), Tuple(s)) => Tuple(d.iter().zip(s).map(|(x, y)| filter_zeros(x, y)).collect()),
        _ => shape.clone(),
    }
}

/// Functional composition `A ∘ B`: the layout `R` with the shape of `B` (refined) and
/// `R(i) == A(B(i))` for every `i < size(B)` with `B(i)` in `A`'s domain (past it, `A`'s
/// last mode is extended, as in CuTe). Distributes over the modes of `B`. Requires CuTe's
/// stride and shape divisibility conditions, and modes of `B` that `A` can be applied to one
/// by one; negative strides in `B` are not supported.
pub fn composition(a: &Layout, b: &Layout) -> Result<Layout> {
    if let Tuple(_) = b.shape() {
        return match check_distributive(a, b) {
            Ok(()) => compose_modes(a, b),
            Err(e) => verified(a, b, compose_modes(a, b)?).ok_or(e),
        };
    }
    compose_leaf(a, b)
}

/// Largest right operand whose mode-by-mode composition is verified point by point when the
/// structural distributivity test is inconclusive.
const VERIFY_LIMIT: i64 = 1 << 16;

/// Accepts `r` as `a ∘ b` if it agrees with `a(b(i))` wherever `b(i)` lies in `a`'s domain.
fn verified(a: &Layout, b: &Layout, r: Layout) -> Option<Layout> {
    if b.size() > VERIFY_LIMIT {
        return None;
    }
    let ok = (0..b.size()).all(|i| match b.eval(i) {
        Ok(x) if (0..a.size()).contains(&x) => a.eval(x).ok() == r.eval(i).ok(),
        Ok(_) => true,
        Err(_) => false,
    });
    ok.then_some(r)
}

fn compose_modes(a: &Layout, b: &Layout) -> Result<Layout> {
    match b.shape() {
        Tuple(_) => Ok(Layout::concat(
            &b.modes()
                .iter()
                .map(|bm| compose_modes(a, bm))
                .collect::<Result<Vec<_>>>()?,
        )),
        Int(_) => compose_leaf(a, b),
    }
}

/// Composing mode by mode computes `A(x + y)` as `A(x) + A(y)` for offsets `x`, `y` of
/// different modes of `B`. That holds when `A` is linear (a single mode once coalesced) or
/// when `B`'s modes occupy disjoint, carry-free digit ranges (sorted by stride, each stride
/// a multiple of the previous mode's extent times stride); otherwise the result would not be
/// `A ∘ B`, and the composition is refused.
fn check_distributive(a: &Layout, b: &Layout) -> Result<()> {
    if leaves(&coalesce(a)).len() <= 1 {
        return Ok(());
    }
    let mut modes: Vec<(i64, i64)> = leaves(b)
        .into_iter()
        .filter(|&(s, d)| s > 1 && d != 0)
        .map(|(s, d)| (d, s))
        .collect();
    modes.sort_unstable();
    for w in modes.windows(2) {
        let (d0, s0) = w[0];
        let (d1, _) = w[1];
        if d0 < 0 || d1 % d0.saturating_mul(s0) != 0 {
            return Err(LayoutError::NotDivisible {
                op: "composition",
                reason: format!(
                    "the modes of {b} overlap, so {a} cannot be applied to them one by one"
                ),
            });
        }
    }
    Ok(())
}

fn compose_leaf(a: &Layout, b: &Layout) -> Result<Layout> {
    let (Int(b_shape), Int(b_stride)) = (b.shape(), b.stride()) else {
        unreachable!("leaf layout")
    };
    let (b_shape, b_stride) = (*b_shape, *b_stride);
    if b_stride == 0 {
        return Ok(Layout::raw(Int(b_shape), Int(0)));
    }
    if b_stride < 0 {
        return Err(LayoutError::Inadmissible {
            op: "composition",
            reason: format!("the right operand {b} has a negative stride"),
        });
    }
    let flat_a = leaves(&coalesce(a));
    let (last_a, init_a) = flat_a
        .split_last()
        .expect("coalesce yields at least one mode");
    let mut result: Vec<(i64, i64)> = Vec::new();
    let mut rest_shape = b_shape;
    let mut rest_stride = b_stride;
    for &(cs, cd) in init_a {
        if cs % rest_stride != 0 && rest_stride % cs != 0 {
            return Err(LayoutError::NotDivisible {
                op: "composition",
                reason: format!(
                    "stride divisibility fails: stride {rest_stride} of {b} against extent {cs} of {a}"
                ),
            });
        }
        let next_shape = if cs % rest_stride == 0 {
            cs / rest_stride
        } else {
            1
        };
        let next_stride = (rest_stride + cs - 1) / cs;
        if next_shape == 1 || rest_shape == 1 {
            rest_stride = next_stride;
            continue;
        }
        let new_shape = next_shape.min(rest_shape);
        if rest_shape % new_shape != 0 {
            return Err(LayoutError::NotDivisible {
                op: "composition",
                reason: format!("shape divisibility fails: extent {rest_shape} of {b} is not divisible by {new_shape}"),
            });
        }
        result.push((new_shape, mul(rest_stride, cd, "composition")?));
        rest_shape /= new_shape;
        rest_stride = next_stride;
    }
    if rest_shape != 1 || result.is_empty() {
        result.push((rest_shape, mul(rest_stride, last_a.1, "composition")?));
    }
    Ok(from_leaves(&result))
}

/// The complement of `l` with respect to a co-target of `cotarget` elements: a layout whose
/// image is disjoint from `l`'s (except 0) and such that `(l, complement)` covers
/// `0..cotarget` (rounded up to a whole number of `l`'s footprint). Requires non-negative
/// strides and an injective, "stride-ordered" `l`.
pub fn complement(l: &Layout, cotarget: i64) -> Result<Layout> {
    if cotarget < 1 {
        return Err(LayoutError::Invalid(format!(
            "complement: co-target size must be positive, got {cotarget}"
        )));
    }
    let mut modes: Vec<(i64, i64)> = leaves(l).into_iter().map(|(s, d)| (d, s)).collect();
    if modes.iter().any(|&(d, _)| d < 0) {
        return Err(LayoutError::Inadmissible {
            op: "complement",
            reason: format!("{l} has a negative stride"),
        });
    }
    modes.sort_unstable();
    let mut result: Vec<(i64, i64)> = Vec::new();
    let mut current = 1i64;
    for (d, s) in modes {
        if d == 0 || s == 1 {
            continue;
        }
        if d % current != 0 {
            return Err(LayoutError::Inadmissible {
                op: "complement",
                reason: format!(
                    "{l} is not injective or its modes overlap (stride {d} vs footprint {current})"
                ),
            });
        }
        result.push((d / current, current));
        current = mul(s, d, "complement")?;
    }
    result.push(((cotarget + current - 1) / current, current));
    Ok(coalesce(&from_leaves(&result)))
}

/// The complement with respect to a co-target shape (its size is what matters).
pub fn complement_shape(l: &Layout, cotarget: &IntTuple) -> Result<Layout> {
    cotarget.check_shape()?;
    complement(l, cotarget.product()?)
}

/// The complement with respect to `l`'s own cosize: the "holes" of `l`.
pub fn complement_cosize(l: &Layout) -> Result<Layout> {
    complement(l, l.cosize())
}

/// The largest right inverse `R` of `l`: `l(R(i)) == i` for all `i < size(R)`.
/// `size(R)` is the length of the contiguous prefix `0..n` of offsets that `l` reaches
/// compactly (1 if none); stride-0 and negative-stride modes are ignored.
pub fn right_inverse(l: &Layout) -> Layout {
    let flat = leaves(&coalesce(l));
    let mut rstride = Vec::with_capacity(flat.len());
    let mut acc = 1i64;
    for &(s, _) in &flat {
        rstride.push(acc);
        acc = acc.saturating_mul(s);
    }
    let mut result = Vec::new();
    let mut current = 1i64;
    while let Some(k) = flat.iter().position(|&(s, d)| s > 1 && d == current) {
        result.push((flat[k].0, rstride[k]));
        match flat[k].0.checked_mul(flat[k].1) {
            Some(c) => current = c,
            None => break,
        }
    }
    coalesce(&from_leaves(&result))
}

/// A left inverse `L` of an injective `l`: `L(l(i)) == i` for all `i < size(l)`.
pub fn left_inverse(l: &Layout) -> Result<Layout> {
    let filtered = coalesce(l);
    if leaves(&filtered).iter().any(|&(s, d)| s > 1 && d == 0) {
        return Err(LayoutError::Inadmissible {
            op: "left_inverse",
            reason: format!("{l} is not injective"),
        });
    }
    let comp = complement_cosize(l)?;
    Ok(right_inverse(&Layout::concat(&[l.clone(), comp])))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tup;

    fn lay(s: IntTuple, d: IntTuple) -> Layout {
        Layout::new(s, d).unwrap()
    }

    #[test]
    fn coalesce_examples() {
        let l = lay(tup![2, tup![1, 6]], tup![1, tup![6, 2]]);
        assert_eq!(coalesce(&l).to_string(), "12:1");
        let l = lay(tup![tup![2, 4], tup![3, 5]], tup![tup![1, 2], tup![8, 24]]);
        assert_eq!(coalesce_modes(&l).to_string(), "(8,15):(1,8)");
        assert_eq!(coalesce(&l).to_string(), "120:1");
        assert_eq!(
            filter(&lay(tup![4, 2, 3], tup![1, 0, 4])).to_string(),
            "12:1"
        );
    }

    #[test]
    fn composition_doc_example() {
        let a = lay(tup![6, 2], tup![8, 2]);
        let b = lay(tup![4, 3], tup![3, 1]);
        assert_eq!(
            composition(&a, &b).unwrap().to_string(),
            "((2,2),3):((24,2),8)"
        );
        let a = lay(Int(20), Int(2));
        let b = lay(tup![5, 4], tup![4, 1]);
        assert_eq!(composition(&a, &b).unwrap().to_string(), "(5,4):(8,2)");
        let a = lay(tup![10, 2], tup![16, 4]);
        let b = lay(tup![5, 4], tup![1, 5]);
        assert_eq!(
            composition(&a, &b).unwrap().to_string(),
            "(5,(2,2)):(16,(80,4))"
        );
        assert!(composition(&lay(tup![4, 3], tup![3, 1]), &lay(Int(2), Int(3))).is_err());
    }

    #[test]
    fn complement_doc_examples() {
        let c = |s: IntTuple, d: IntTuple, n: i64| complement(&lay(s, d), n).unwrap().to_string();
        assert_eq!(c(Int(4), Int(1), 24), "6:4");
        assert_eq!(c(Int(6), Int(4), 24), "4:1");
        assert_eq!(c(tup![4, 6], tup![1, 4], 24), "1:0");
        assert_eq!(c(Int(4), Int(2), 24), "(2,3):(1,8)");
        assert_eq!(c(tup![2, 4], tup![1, 6], 24), "3:2");
        assert_eq!(c(tup![2, 2], tup![1, 6], 24), "(3,2):(2,12)");
        assert!(complement(&lay(tup![2, 2], tup![1, 1]), 8).is_err());
    }

    #[test]
    fn inverses() {
        let l = lay(tup![4, 8], tup![8, 1]);
        let r = right_inverse(&l);
        assert_eq!(r.to_string(), "(8,4):(4,1)");
        let li = left_inverse(&lay(Int(4), Int(2))).unwrap();
        for i in 0..4 {
            assert_eq!(li.eval(2 * i).unwrap(), i);
        }
        assert_eq!(
            right_inverse(&lay(tup![2, 4], tup![0, 1])).to_string(),
            "4:2"
        );
    }
}

//! The product family: `logical_product`, `zipped_product`, `tiled_product`, `flat_product`,
//! `blocked_product`, `raked_product`, and `tile_to_shape`.
//!
//! `logical_product(A, B) = (A, complement(A, size A · cosize B) ∘ B)`: mode 0 is the tile
//! `A`, mode 1 repeats it in the arrangement `B` describes. Blocked and raked products zip
//! the two modes mode by mode, so that a 2-D tile repeated over a 2-D grid is again 2-D; in a
//! blocked product the tile's elements stay contiguous, in a raked product they interleave.

use crate::algebra::{coalesce_profile, complement, composition};
use crate::divide::{by_mode, unzip, Tiler};
use crate::error::{mul, LayoutError, Result};
use crate::int_tuple::{IntTuple, Tuple};
use crate::layout::Layout;

fn product_one(a: &Layout, b: &Layout) -> Result<Layout> {
    let n = mul(a.size(), b.cosize(), "logical_product")?;
    let c = complement(a, n)?;
    Ok(Layout::concat(&[a.clone(), composition(&c, b)?]))
}

/// `logical_product(A, B)`: `(A, complement(A, size A · cosize B) ∘ B)`, mode by mode for a
/// per-mode tiler.
pub fn logical_product(a: &Layout, t: &Tiler) -> Result<Layout> {
    by_mode("logical_product", a, t, product_one)
}

/// `zipped_product(A, B)`: `((tile modes...), (repetition modes...))`.
pub fn zipped_product(a: &Layout, t: &Tiler) -> Result<Layout> {
    unzip(&logical_product(a, t)?, t)
}

/// `tiled_product(A, B)`: `((tile modes...), rep0, rep1, ...)`.
pub fn tiled_product(a: &Layout, t: &Tiler) -> Result<Layout> {
    let z = zipped_product(a, t)?;
    let mut modes = vec![z.mode(0)?];
    modes.extend(z.mode(1)?.modes());
    Ok(Layout::concat(&modes))
}

/// `flat_product(A, B)`: `(tile0, tile1, ..., rep0, rep1, ...)`.
pub fn flat_product(a: &Layout, t: &Tiler) -> Result<Layout> {
    let z = zipped_product(a, t)?;
    let mut modes = z.mode(0)?.modes();
    modes.extend(z.mode(1)?.modes());
    Ok(Layout::concat(&modes))
}

fn zip_product(a: &Layout, b: &Layout, raked: bool) -> Result<Layout> {
    let r = a.rank().max(b.rank());
    let (pa, pb) = (a.pad_to_rank(r), b.pad_to_rank(r));
    let p = product_one(&pa, &pb)?;
    let (m0, m1) = (p.mode(0)?, p.mode(1)?);
    let (m0, m1) = (m0.pad_to_rank(r), m1.pad_to_rank(r));
    let modes: Vec<Layout> = (0..r)
        .map(|i| {
            let (x, y) = (mode_or_self(&m0, i, r)?, mode_or_self(&m1, i, r)?);
            Ok(if raked {
                Layout::concat(&[y, x])
            } else {
                Layout::concat(&[x, y])
            })
        })
        .collect::<Result<_>>()?;
    let zipped = if r == 1 {
        modes[0].clone()
    } else {
        Layout::concat(&modes)
    };
    let profile = if r == 1 {
        IntTuple::Int(1)
    } else {
        Tuple(vec![IntTuple::Int(1); r])
    };
    coalesce_profile(&zipped, &profile)
}

fn mode_or_self(l: &Layout, i: usize, r: usize) -> Result<Layout> {
    if r == 1 {
        Ok(l.clone())
    } else {
        l.mode(i)
    }
}

/// `blocked_product(A, B)`: the tile `A` repeated over the grid `B`, mode by mode, each
/// result mode `(A_i, B_i)` coalesced (tile elements contiguous).
pub fn blocked_product(a: &Layout, b: &Layout) -> Result<Layout> {
    zip_product(a, b, false)
}

/// `raked_product(A, B)`: like `blocked_product` with each mode `(B_i, A_i)`, so that the
/// tile's elements are spread across the grid (interleaved).
pub fn raked_product(a: &Layout, b: &Layout) -> Result<Layout> {
    zip_product(a, b, true)
}

/// Repeats `block` (blocked product, column-major order of the repetitions by default, or
/// the mode order `order`) until it covers `target`; each block extent must divide the target.
pub fn tile_to_shape(block: &Layout, target: &[i64], order: Option<&[i64]>) -> Result<Layout> {
    let r = target.len();
    if block.rank() > r {
        return Err(LayoutError::Rank {
            op: "tile_to_shape",
            reason: format!(
                "layout {block} has rank {} > rank {r} of the target shape",
                block.rank()
            ),
        });
    }
    let padded = block.pad_to_rank(r);
    let mut reps = Vec::with_capacity(r);
    for (i, &t) in target.iter().enumerate() {
        let bs = mode_or_self(&padded, i, r)?.size();
        if t < 1 || t % bs != 0 {
            return Err(LayoutError::NotDivisible {
                op: "tile_to_shape",
                reason: format!("block extent {bs} of mode {i} does not divide target extent {t}"),
            });
        }
        reps.push(t / bs);
    }
    let default_order: Vec<i64> = (0..r as i64).collect();
    let grid = Layout::ordered(&reps, order.unwrap_or(&default_order))?;
    let grid = if r == 1 { grid.mode(0)? } else { grid };
    blocked_product(&padded, &grid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::int_tuple::Int;
    use crate::tup;

    #[test]
    fn doc_examples() {
        let a = Layout::new(tup![2, 2], tup![4, 1]).unwrap();
        let b = Layout::new(Int(6), Int(1)).unwrap();
        assert_eq!(
            logical_product(&a, &Tiler::Layout(b)).unwrap().to_string(),
            "((2,2),(2,3)):((4,1),(2,8))"
        );
        let a = Layout::new(tup![2, 2], tup![1, 2]).unwrap();
        let b = Layout::new(tup![3, 4], tup![4, 1]).unwrap();
        let t = Tiler::Layout(b.clone());
        assert_eq!(
            logical_product(&a, &t).unwrap().to_string(),
            "((2,2),(3,4)):((1,2),(16,4))"
        );
        assert_eq!(
            tiled_product(&a, &t).unwrap().to_string(),
            "((2,2),3,4):((1,2),16,4)"
        );
        assert_eq!(
            blocked_product(&a, &b).unwrap().to_string(),
            "((2,3),8):((1,16),2)"
        );
        assert_eq!(
            raked_product(&a, &b).unwrap().to_string(),
            "((3,2),(4,2)):((16,1),(4,2))"
        );
        let a = Layout::new(tup![2, 5], tup![5, 1]).unwrap();
        let b = Layout::new(tup![3, 4], tup![1, 3]).unwrap();
        assert_eq!(
            blocked_product(&a, &b).unwrap().to_string(),
            "(6,(5,4)):(5,(1,30))"
        );
        assert_eq!(
            raked_product(&a, &b).unwrap().to_string(),
            "((3,2),(4,5)):((10,5),(30,1))"
        );
        let t = Tiler::Modes(vec![
            Layout::new(Int(3), Int(1)).unwrap(),
            Layout::new(Int(4), Int(1)).unwrap(),
        ]);
        let a = Layout::new(tup![2, 2], tup![1, 2]).unwrap();
        assert_eq!(
            logical_product(&a, &t).unwrap().to_string(),
            "((2,3),(2,(2,2))):((1,2),(2,(1,4)))"
        );
        assert_eq!(
            zipped_product(&a, &t).unwrap().to_string(),
            "((2,2),(3,(2,2))):((1,2),(2,(1,4)))"
        );
        assert_eq!(
            tiled_product(&a, &t).unwrap().to_string(),
            "((2,2),3,(2,2)):((1,2),2,(1,4))"
        );
        let tts =
            tile_to_shape(&Layout::new(tup![2, 2], tup![1, 2]).unwrap(), &[4, 6], None).unwrap();
        assert_eq!(tts.to_string(), "((2,2),(2,3)):((1,4),(2,8))");
    }
}

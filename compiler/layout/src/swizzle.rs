//! Swizzles `Sw<B,M,S>` and swizzled layouts.
//!
//! A swizzle is a bijection on offsets that XORs `B` bits taken `S` positions above bit `M`
//! into the `B` bits starting at bit `M`: with `yyy = ((1<<B)-1) << (M+max(0,S))` and
//! `zzz = ((1<<B)-1) << (M-min(0,S))`, `Sw(o) = o ^ ((o & yyy) >> S)` (a negative `S` shifts
//! left). `M` is the log2 of the unit that moves (e.g. 3 for 8 f16 = 16 bytes), `B` the number
//! of bits permuted, `S` the distance to the bits that choose the permutation (typically the
//! row). Applied after a layout it permutes shared-memory addresses so that the columns of a
//! row-major tile spread over all banks. CuTe: `Swizzle<BBits, MBase, SShift>`.

use crate::algebra::composition;
use crate::error::{LayoutError, Result};
use crate::layout::Layout;
use std::fmt;

/// The swizzle functor `Sw<B,M,S>`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Swizzle {
    b: u32,
    m: u32,
    s: i32,
}

impl Swizzle {
    /// `Sw<b,m,s>`; requires `b, m >= 0`, `|s| >= b` (source and target bits do not overlap)
    /// and all bits below 62.
    pub fn new(b: i64, m: i64, s: i64) -> Result<Swizzle> {
        let bad = |reason| Err(LayoutError::BadSwizzle { b, m, s, reason });
        if b < 0 || m < 0 {
            return bad("B and M must be non-negative");
        }
        if s.abs() < b {
            return bad("|S| must be at least B");
        }
        if b + m + s.abs() > 62 {
            return bad("bits out of range");
        }
        Ok(Swizzle {
            b: b as u32,
            m: m as u32,
            s: s as i32,
        })
    }

    /// The identity swizzle `Sw<0,0,0>`.
    pub fn identity() -> Swizzle {
        Swizzle { b: 0, m: 0, s: 0 }
    }

    /// Parameters `(B, M, S)`.
    pub fn params(&self) -> (i64, i64, i64) {
        (self.b as i64, self.m as i64, self.s as i64)
    }

    /// Whether this swizzle changes nothing (`B == 0`).
    pub fn is_identity(&self) -> bool {
        self.b == 0
    }

    fn yyy_mask(&self) -> i64 {
        ((1i64 << self.b) - 1) << (self.m as i32 + self.s.max(0))
    }

    /// Applies the swizzle to an offset.
    pub fn apply(&self, offset: i64) -> i64 {
        let y = offset & self.yyy_mask();
        let shifted = if self.s >= 0 {
            y >> self.s
        } else {
            y << (-self.s)
        };
        offset ^ shifted
    }

    /// Offsets below `1 << (M + B + max(S,0)) ` are permuted among themselves; a codomain
    /// whose size is a multiple of this span stays closed under the swizzle.
    pub fn span(&self) -> i64 {
        1i64 << (self.m as i32 + self.b as i32 + self.s.abs())
    }
}

impl fmt::Display for Swizzle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sw<{},{},{}>", self.b, self.m, self.s)
    }
}

/// A layout followed by a swizzle of its offsets: `i ↦ Sw(L(i))`, printed
/// `Sw<3,3,3> o (8,64):(64,1)` (CuTe's `ComposedLayout<Swizzle, 0, Layout>`).
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct SwizzledLayout {
    /// The swizzle applied to the offsets.
    pub swizzle: Swizzle,
    /// The layout producing the offsets.
    pub layout: Layout,
}

impl SwizzledLayout {
    /// `Sw ∘ L`.
    pub fn new(swizzle: Swizzle, layout: Layout) -> SwizzledLayout {
        SwizzledLayout { swizzle, layout }
    }

    /// The swizzled offset of a linear index.
    pub fn eval(&self, idx: i64) -> Result<i64> {
        Ok(self.swizzle.apply(self.layout.eval(idx)?))
    }

    /// The swizzled offset of a coordinate.
    pub fn eval_crd(&self, crd: &crate::IntTuple) -> Result<i64> {
        Ok(self.swizzle.apply(self.layout.eval_crd(crd)?))
    }

    /// Domain size.
    pub fn size(&self) -> i64 {
        self.layout.size()
    }

    /// One past the largest swizzled offset. Exact for domains up to 2^20 elements; for larger
    /// ones an upper bound (the swizzle only rewrites the bits of its `zzz` mask).
    pub fn cosize(&self) -> i64 {
        if self.size() <= 1 << 20 {
            return self.image().into_iter().max().unwrap_or(0) + 1;
        }
        let (b, m, s) = self.swizzle.params();
        let zzz = ((1i64 << b) - 1) << (m - s.min(0));
        ((self.layout.cosize() - 1) | zzz).saturating_add(1)
    }

    /// Swizzled offsets of `0..size`.
    pub fn image(&self) -> Vec<i64> {
        self.layout
            .image()
            .into_iter()
            .map(|o| self.swizzle.apply(o))
            .collect()
    }

    /// `(Sw ∘ L) ∘ B = Sw ∘ (L ∘ B)`: composing on the right keeps the swizzle outermost.
    pub fn compose(&self, b: &Layout) -> Result<SwizzledLayout> {
        Ok(SwizzledLayout::new(
            self.swizzle,
            composition(&self.layout, b)?,
        ))
    }
}

impl fmt::Display for SwizzledLayout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} o {}", self.swizzle, self.layout)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tup;

    #[test]
    fn sw333() {
        let s = Swizzle::new(3, 3, 3).unwrap();
        // Row r of an (8,64) row-major f16 tile starts at offset 64 r; its 16-byte chunk c
        // (8 elements) moves to chunk c ^ r.
        for r in 0..8 {
            for c in 0..8 {
                assert_eq!(s.apply(64 * r + 8 * c + 5), 64 * r + 8 * (c ^ r) + 5);
            }
        }
        assert!(Swizzle::new(3, 3, 2).is_err());
        let l = SwizzledLayout::new(s, Layout::new(tup![8, 64], tup![64, 1]).unwrap());
        let mut img = l.image();
        img.sort();
        assert_eq!(img, (0..512).collect::<Vec<_>>());
        assert_eq!(Swizzle::new(2, 0, -3).unwrap().apply(0b0_0011), 0b1_1011);
    }
}

//! Tilers and the divide family: `logical_divide`, `zipped_divide`, `tiled_divide`,
//! `flat_divide`.
//!
//! Dividing `A` by a tiler `B` splits `A`'s domain into "the elements of one tile" (mode 0)
//! and "which tile" (mode 1): `logical_divide(A, B) = A ∘ (B, complement(B, size A))`.
//! A tiler is either one layout (applied to the whole domain) or one layout per mode
//! (`<3:3,(2,4):(1,8)>`); a plain shape `(2,4)` is the tiler `<2:1,4:1>`.

use crate::algebra::{complement, composition};
use crate::error::{LayoutError, Result};
use crate::int_tuple::{Int, IntTuple, Tuple};
use crate::layout::Layout;
use std::fmt;

/// What a layout is divided (or multiplied) by.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Tiler {
    /// One layout acting on the whole (1-D view of the) domain.
    Layout(Layout),
    /// One layout per top-level mode, printed `<l0,l1,...>`.
    Modes(Vec<Layout>),
}

impl Tiler {
    /// The tiler of a shape: per mode, the compact layout of that mode's shape (an integer
    /// shape gives the single layout `n:1`).
    pub fn from_shape(shape: &IntTuple) -> Result<Tiler> {
        match shape {
            Int(_) => Ok(Tiler::Layout(Layout::column_major(shape.clone())?)),
            Tuple(v) => Ok(Tiler::Modes(
                v.iter()
                    .map(|s| Layout::column_major(s.clone()))
                    .collect::<Result<_>>()?,
            )),
        }
    }
}

impl From<Layout> for Tiler {
    fn from(l: Layout) -> Self {
        Tiler::Layout(l)
    }
}

impl fmt::Display for Tiler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tiler::Layout(l) => write!(f, "{l}"),
            Tiler::Modes(v) => {
                write!(f, "<")?;
                for (i, l) in v.iter().enumerate() {
                    if i > 0 {
                        write!(f, ",")?;
                    }
                    write!(f, "{l}")?;
                }
                write!(f, ">")
            }
        }
    }
}

/// Applies `op` mode by mode for a per-mode tiler (modes past the tiler are kept), or to the
/// whole layout for a single-layout tiler.
pub(crate) fn by_mode(
    name: &'static str,
    a: &Layout,
    t: &Tiler,
    op: impl Fn(&Layout, &Layout) -> Result<Layout>,
) -> Result<Layout> {
    match t {
        Tiler::Layout(b) => op(a, b),
        Tiler::Modes(bs) => {
            let modes = a.modes();
            if bs.len() > modes.len() || (a.shape().is_int() && bs.len() > 1) {
                return Err(LayoutError::Rank {
                    op: name,
                    reason: format!(
                        "tiler {t} has {} modes but layout {a} has rank {}",
                        bs.len(),
                        a.rank()
                    ),
                });
            }
            let mut out = Vec::with_capacity(modes.len());
            for (i, m) in modes.into_iter().enumerate() {
                out.push(if i < bs.len() { op(&m, &bs[i])? } else { m });
            }
            Ok(Layout::concat(&out))
        }
    }
}

/// Regroups the result of a per-mode logical divide/product `((t0,r0),(t1,r1),...,x)` into
/// `((t0,t1,...),(r0,r1,...,x))`; a single-layout tiler's result is already in this form.
pub(crate) fn unzip(l: &Layout, t: &Tiler) -> Result<Layout> {
    match t {
        Tiler::Layout(_) => Ok(l.clone()),
        Tiler::Modes(bs) => {
            let mut first = Vec::new();
            let mut second = Vec::new();
            for (i, m) in l.modes().into_iter().enumerate() {
                if i < bs.len() {
                    first.push(m.mode(0)?);
                    second.push(m.mode(1)?);
                } else {
                    second.push(m);
                }
            }
            Ok(Layout::concat(&[
                Layout::concat(&first),
                Layout::concat(&second),
            ]))
        }
    }
}

/// `A ∘ (B, complement(B, size A))` for a single layout `B`.
fn divide_one(a: &Layout, b: &Layout) -> Result<Layout> {
    let c = complement(b, a.size())?;
    composition(a, &Layout::concat(&[b.clone(), c]))
}

/// `logical_divide(A, B)`: for each tiled mode, `(tile, rest)`; rank is preserved for a
/// per-mode tiler and is 2 for a single-layout tiler.
pub fn logical_divide(a: &Layout, t: &Tiler) -> Result<Layout> {
    by_mode("logical_divide", a, t, divide_one)
}

/// `zipped_divide(A, B)`: `((tile modes...), (rest modes...))`.
pub fn zipped_divide(a: &Layout, t: &Tiler) -> Result<Layout> {
    unzip(&logical_divide(a, t)?, t)
}

/// `tiled_divide(A, B)`: `((tile modes...), rest0, rest1, ...)`.
pub fn tiled_divide(a: &Layout, t: &Tiler) -> Result<Layout> {
    let z = zipped_divide(a, t)?;
    let mut modes = vec![z.mode(0)?];
    modes.extend(z.mode(1)?.modes());
    Ok(Layout::concat(&modes))
}

/// `flat_divide(A, B)`: `(tile0, tile1, ..., rest0, rest1, ...)`.
pub fn flat_divide(a: &Layout, t: &Tiler) -> Result<Layout> {
    let z = zipped_divide(a, t)?;
    let mut modes = z.mode(0)?.modes();
    modes.extend(z.mode(1)?.modes());
    Ok(Layout::concat(&modes))
}

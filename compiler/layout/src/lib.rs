//! The algebraic layout system of tilec.
//!
//! Three kinds of layouts share one algebra:
//!
//! * [`Layout`]: CuTe's hierarchical `shape:stride` layouts over [`IntTuple`]s, with
//!   coalesce, composition, complement, inverses, the divide and product families
//!   ([`algebra`], [`divide`], [`product`]) and swizzles ([`swizzle`]).
//! * [`TvLayout`]: Tilus-style thread–value register layouts built from `local`/`spatial`
//!   pieces with products, division, reduction and a canonical form ([`tv`]). A register
//!   layout *is* a `shape:stride` layout from `(thread, value)` to the tile's row-major index
//!   ([`TvLayout::to_layout`]).
//! * Shared-memory layouts: a layout optionally composed with a swizzle, with a bank-conflict
//!   model and a swizzle chooser ([`smem`]).
//!
//! [`atoms`] gives the operand and accumulator layouts of tensor-core instructions (mma.sync,
//! ldmatrix/stmatrix, wgmma, AMD MFMA) as `TvLayout`s, and [`calc`] is the `tilec layout`
//! calculator. See `docs/layouts.md` for a tutorial.
//!
//! ```
//! use tilec_layout::{atoms, logical_divide, tup, tv, Layout, Tiler};
//!
//! // CuTe: divide (4,2,3):(2,1,8) into tiles of 4:2.
//! let a = Layout::new(tup![4, 2, 3], tup![2, 1, 8])?;
//! let d = logical_divide(&a, &Tiler::Layout(Layout::new(4, 2)?))?;
//! assert_eq!(d.to_string(), "((2,2),(2,3)):((4,1),(2,8))");
//!
//! // Tilus: a warp's operand tile is two-by-two mma fragments per thread, so the
//! // m16n8k16 instruction applies, issued over the quotient local(2,2).
//! let frag = atoms::mma("m16n8k16", "f16", atoms::Operand::A)?;
//! let operand = tv::local(&[2, 2])?.product(&frag)?;
//! assert_eq!(operand.div_right(&frag)?, tv::local(&[2, 2])?);
//! # Ok::<(), tilec_layout::LayoutError>(())
//! ```

#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub mod algebra;
pub mod atoms;
pub mod calc;

pub mod divide;
pub mod error;
pub mod int_tuple;
pub mod layout;
pub mod product;
pub mod smem;

pub mod swizzle;
pub mod tv;
pub mod tv_factor;
mod tv_ops;

pub use algebra::{
    coalesce, coalesce_modes, coalesce_profile, complement, complement_cosize, complement_shape,
    composition, filter, left_inverse, right_inverse,
};
pub use divide::{flat_divide, logical_divide, tiled_divide, zipped_divide, Tiler};
pub use error::{LayoutError, Result};
pub use int_tuple::IntTuple;
pub use layout::Layout;
pub use product::{
    blocked_product, flat_product, logical_product, raked_product, tile_to_shape, tiled_product,
    zipped_product,
};
pub use swizzle::{Swizzle, SwizzledLayout};
pub use tv::TvLayout;

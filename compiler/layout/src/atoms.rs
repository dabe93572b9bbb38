//! Hardware atoms as register layouts: the fragments of tensor-core and matrix-load
//! instructions, each written as a product of `local`/`spatial` pieces.
//!
//! Reading a product left to right goes from the coarsest to the finest level. For example
//! the A operand of `mma.sync.m16n8k16` (f16) is
//! `column_local(2,2) * spatial(8,4) * local(1,2)`: each lane holds pairs of adjacent
//! columns (`local(1,2)`), the 32 lanes form an 8×4 grid of such pairs (`spatial(8,4)`, lane
//! = 4·groupID + threadID_in_group), and that 8×8 block is repeated over a 2×2 grid of blocks
//! in register order a0a1 | a2a3 (rows +8) | a4a5 (cols +8) | a6a7 (`column_local(2,2)`).
//! Tests check every atom element by element against the fragment tables of the PTX ISA and
//! the AMD matrix instruction documentation.
//!
//! Logical tiles are row-major `(rows, cols)`: A is `M×K`, B is `K×N`, C/D is `M×N`.

use crate::error::{LayoutError, Result};
use crate::tv::{column_local, column_spatial, local, spatial, TvLayout};
use std::fmt;
use std::str::FromStr;

/// Which operand of a matrix instruction.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum Operand {
    /// Left input, `M×K`.
    A,
    /// Right input, `K×N`.
    B,
    /// Accumulator / output, `M×N` (C and D share the layout).
    C,
}

impl FromStr for Operand {
    type Err = LayoutError;
    fn from_str(s: &str) -> Result<Operand> {
        match s {
            "a" | "A" => Ok(Operand::A),
            "b" | "B" => Ok(Operand::B),
            "c" | "C" | "d" | "D" => Ok(Operand::C),
            _ => Err(LayoutError::Invalid(format!(
                "unknown operand `{s}` (expected a, b, c or d)"
            ))),
        }
    }
}

impl fmt::Display for Operand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Operand::A => "a",
            Operand::B => "b",
            Operand::C => "c",
        })
    }
}

/// The `mma.sync` shapes with register layouts here, and the element types they take.
pub const MMA_SHAPES: &[(&str, &[&str])] = &[
    ("m16n8k16", &["f16", "bf16"]),
    ("m16n8k32", &["s8", "u8"]),
    ("m16n8k8", &["tf32"]),
];

/// The MFMA shapes with register layouts here.
pub const MFMA_SHAPES: &[(&str, &[&str])] = &[("32x32x8", &["f16"]), ("16x16x16", &["f16"])];

fn chain(parts: &[Result<TvLayout>]) -> Result<TvLayout> {
    let mut it = parts.iter();
    let first = it
        .next()
        .ok_or_else(|| LayoutError::Invalid("empty product".into()))?
        .clone()?;
    it.try_fold(first, |acc, p| {
        acc.product(p.as_ref().map_err(Clone::clone)?)
    })
}

/// The register layout of operand `op` of `mma.sync.aligned.<shape>.row.col` with element
/// type `dtype` (32 lanes). Accumulators are f32 (s32 for the integer shape).
pub fn mma(shape: &str, dtype: &str, op: Operand) -> Result<TvLayout> {
    let types = MMA_SHAPES
        .iter()
        .find(|(s, _)| *s == shape)
        .map(|(_, t)| *t)
        .ok_or_else(|| {
            LayoutError::Invalid(format!(
                "unknown mma shape `{shape}` (known: m16n8k16, m16n8k32, m16n8k8)"
            ))
        })?;
    if !types.contains(&dtype) {
        return Err(LayoutError::Invalid(format!(
            "mma {shape} takes {}, not `{dtype}`",
            types.join(", ")
        )));
    }
    // Elements per 32-bit register along K: 2 for 16-bit, 4 for 8-bit, 1 for tf32.
    let pack = match shape {
        "m16n8k16" => 2,
        "m16n8k32" => 4,
        _ => 1,
    };
    match op {
        Operand::A => chain(&[column_local(&[2, 2]), spatial(&[8, 4]), local(&[1, pack])]),
        Operand::B if pack == 1 => chain(&[local(&[2, 1]), column_spatial(&[4, 8])]),
        Operand::B => chain(&[local(&[2, 1]), column_spatial(&[4, 8]), local(&[pack, 1])]),
        Operand::C => chain(&[local(&[2, 1]), spatial(&[8, 4]), local(&[1, 2])]),
    }
}

/// The register layout of `ldmatrix.sync.aligned.x{count}[.trans].shared.b16` (and of the
/// matching `stmatrix`): `count` 8×8 matrices of 16-bit elements, lanes `8j..8j+7` giving the
/// row addresses of matrix `j`, register `j` of each lane holding two elements of matrix `j`.
/// Matrix `j` is placed at block `(j % 2, j / 2)` of the tile, so `x1` is 8×8, `x2` 16×8 and
/// `x4` 16×16 — for `x4` exactly the A operand of `mma.m16n8k16`. Without `.trans` a lane holds
/// a row pair `(lane/4, 2(lane%4) + {0,1})`; with `.trans` the transposed pair.
pub fn ldmatrix(count: u32, trans: bool) -> Result<TvLayout> {
    let blocks = match count {
        1 => local(&[1, 1]),
        2 => local(&[2, 1]),
        4 => column_local(&[2, 2]),
        _ => {
            return Err(LayoutError::Invalid(format!(
                "ldmatrix takes x1, x2 or x4, not x{count}"
            )))
        }
    };
    if trans {
        chain(&[blocks, column_spatial(&[4, 8]), local(&[2, 1])])
    } else {
        chain(&[blocks, spatial(&[8, 4]), local(&[1, 2])])
    }
}

/// `stmatrix` distributes registers exactly like [`ldmatrix`].
pub fn stmatrix(count: u32, trans: bool) -> Result<TvLayout> {
    ldmatrix(count, trans)
}

/// The accumulator layout of `wgmma.mma_async.m64nNk16` (f32/s32 D, 128 threads of a
/// warpgroup): warp `w` owns rows `16w..16w+15` and repeats the m16n8 accumulator over the
/// `N/8` column blocks, register `d[4j + i]` in column block `j`.
pub fn wgmma_acc(n: i64) -> Result<TvLayout> {
    if !(8..=256).contains(&n) || n % 8 != 0 {
        return Err(LayoutError::Invalid(format!(
            "wgmma N must be a multiple of 8 in 8..=256, not {n}"
        )));
    }
    chain(&[
        spatial(&[4, 1]),
        local(&[1, n / 8]),
        local(&[2, 1]),
        spatial(&[8, 4]),
        local(&[1, 2]),
    ])
}

/// The register layout of operand `op` of AMD `v_mfma_f32_<shape><dtype>` (64 lanes).
pub fn mfma(shape: &str, dtype: &str, op: Operand) -> Result<TvLayout> {
    if dtype != "f16" {
        return Err(LayoutError::Invalid(format!(
            "mfma {shape} takes f16, not `{dtype}`"
        )));
    }
    match (shape, op) {
        // A[i][k]: lane = i + 32 (k/4), item = k % 4.
        ("32x32x8", Operand::A) => chain(&[column_spatial(&[32, 2]), local(&[1, 4])]),
        // B[k][j]: lane = j + 32 (k/4), item = k % 4.
        ("32x32x8", Operand::B) => chain(&[spatial(&[2, 32]), local(&[4, 1])]),
        // D[i][j]: lane = j + 32 ((i/4) % 2), item = i % 4 + 4 (i/8).
        ("32x32x8", Operand::C) => chain(&[local(&[4, 1]), spatial(&[2, 32]), local(&[4, 1])]),
        ("16x16x16", Operand::A) => chain(&[column_spatial(&[16, 4]), local(&[1, 4])]),
        ("16x16x16", Operand::B) => chain(&[spatial(&[4, 16]), local(&[4, 1])]),
        ("16x16x16", Operand::C) => chain(&[spatial(&[4, 16]), local(&[4, 1])]),
        _ => Err(LayoutError::Invalid(format!(
            "unknown mfma shape `{shape}` (known: 32x32x8, 16x16x16)"
        ))),
    }
}

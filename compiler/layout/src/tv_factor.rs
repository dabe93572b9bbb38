//! Writing a register layout back as a product of `local`/`spatial` pieces.
//!
//! [`TvLayout::factorize`] peels primitive factors off the inner end by exact division:
//! the innermost factor's modes step their dimensions by 1, so the candidates are runs of
//! stride-1 value modes (a `local` or `column_local`), runs of stride-1 thread modes (a
//! `spatial` or `column_spatial`) and a replication. Each accepted candidate divides the
//! layout exactly, so the printed product always evaluates to the layout.

use crate::tv::{self, Mode, TvLayout};
use std::fmt;

/// One primitive factor of a register layout.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Factor {
    /// `local(shape)`.
    Local(Vec<i64>),
    /// `column_local(shape)`.
    ColumnLocal(Vec<i64>),
    /// `spatial(shape)`.
    Spatial(Vec<i64>),
    /// `column_spatial(shape)`.
    ColumnSpatial(Vec<i64>),
    /// `replicate(k)`.
    Replicate(i64),
}

impl Factor {
    /// The primitive layout.
    pub fn layout(&self) -> crate::Result<TvLayout> {
        match self {
            Factor::Local(s) => tv::local(s),
            Factor::ColumnLocal(s) => tv::column_local(s),
            Factor::Spatial(s) => tv::spatial(s),
            Factor::ColumnSpatial(s) => tv::column_spatial(s),
            Factor::Replicate(k) => tv::replicate(*k),
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Factor::Local(_) => "local",
            Factor::ColumnLocal(_) => "column_local",
            Factor::Spatial(_) => "spatial",
            Factor::ColumnSpatial(_) => "column_spatial",
            Factor::Replicate(_) => "replicate",
        }
    }
}

impl fmt::Display for Factor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let args = match self {
            Factor::Replicate(k) => k.to_string(),
            Factor::Local(s)
            | Factor::ColumnLocal(s)
            | Factor::Spatial(s)
            | Factor::ColumnSpatial(s) => {
                s.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
            }
        };
        write!(f, "{}({args})", self.name())
    }
}

/// Formats factors as a method chain: `spatial(8,4).local(1,2)`.
pub fn chain_string(factors: &[Factor]) -> String {
    factors
        .iter()
        .map(Factor::to_string)
        .collect::<Vec<_>>()
        .join(".")
}

/// Candidate primitives for the innermost factor from the runs of stride-1 modes.
fn candidates(modes: &[Mode], rank: usize, threads: bool) -> Vec<Factor> {
    let mut out = Vec::new();
    if threads {
        if let Some(m) = modes.first().filter(|m| m.dim.is_none()) {
            out.push(Factor::Replicate(m.extent));
        }
    }
    let mut run: Vec<Mode> = Vec::new();
    for m in modes {
        match m.dim {
            Some(d) if m.stride == 1 && run.iter().all(|r| r.dim != Some(d)) => run.push(*m),
            _ => break,
        }
    }
    // Longest runs first; a run ordered by decreasing dimension (innermost = last dim) is
    // row-major, by increasing dimension column-major. A single mode is both.
    for len in (1..=run.len()).rev() {
        let part = &run[..len];
        let dims: Vec<usize> = part.iter().filter_map(|m| m.dim).collect();
        let mut shape = vec![1i64; rank];
        for m in part {
            if let Some(d) = m.dim {
                shape[d] = m.extent;
            }
        }
        let row = dims.windows(2).all(|w| w[0] > w[1]);
        let col = dims.windows(2).all(|w| w[0] < w[1]);
        if row {
            out.push(if threads {
                Factor::Spatial(shape.clone())
            } else {
                Factor::Local(shape.clone())
            });
        }
        if col && len > 1 {
            out.push(if threads {
                Factor::ColumnSpatial(shape)
            } else {
                Factor::ColumnLocal(shape)
            });
        }
    }
    out
}

impl TvLayout {
    /// This layout as a product of primitive factors (outermost first), if it is one:
    /// `mma(m16n8k16, f16, a)` gives `column_local(2,2).spatial(8,4).local(1,2)`.
    pub fn factorize(&self) -> Option<Vec<Factor>> {
        let mut rest = self.clone();
        let mut inner_first = Vec::new();
        for _ in 0..64 {
            if rest.num_threads() == 1 && rest.num_values() == 1 {
                let mut f: Vec<Factor> = inner_first.into_iter().rev().collect();
                // Replications are rank 0; an all-replication product needs the tile's rank.
                if f.iter().all(|x| matches!(x, Factor::Replicate(_))) {
                    f.insert(0, Factor::Local(vec![1; self.rank()]));
                }
                return Some(f);
            }
            let mut cands = candidates(&rest.values, rest.rank(), false);
            cands.extend(candidates(&rest.threads, rest.rank(), true));
            let step = cands.into_iter().find_map(|c| {
                let l = c.layout().ok()?;
                let q = rest.div_right(&l).ok()?;
                Some((c, q))
            })?;
            inner_first.push(step.0);
            rest = step.1;
        }
        None
    }
}

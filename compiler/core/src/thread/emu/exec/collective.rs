//! Warp collectives for the whole warp at once: `shfl.sync`, `ldmatrix`, `stmatrix`, `mma.sync`.
//! Every lane that must take part (the member mask, or all 32) has to be active; otherwise the
//! collective sits in divergent code and is reported.

use super::{full, to_bytes, u32s, Run};
use crate::thread::emu::{EmuError, EmuErrorKind};
use crate::thread::ops::Op;
use crate::thread::{warp, Inst};
use std::collections::BTreeMap;

impl Run<'_> {
    /// Active lanes of each warp.
    fn warp_masks(active: &[u32]) -> BTreeMap<u32, u32> {
        let mut m = BTreeMap::new();
        for &t in active {
            *m.entry(t / 32).or_insert(0u32) |= 1 << (t % 32);
        }
        m
    }

    pub(super) fn collective(&mut self, inst: &Inst, active: &[u32]) -> Result<(), EmuError> {
        let masks = Self::warp_masks(active);
        for (&w, &am) in &masks {
            let required = match &inst.op {
                Op::Shfl { mask, .. } => *mask,
                _ => u32::MAX,
            };
            // Lanes that must take part but do not exist (a partial last warp) count as absent.
            let exists = if (w + 1) * 32 <= self.nthreads { u32::MAX } else { (1u32 << (self.nthreads - w * 32)) - 1 };
            if am != required || required & !exists != 0 {
                let thread = (0..32).find(|l| (am ^ required) >> l & 1 == 1).map(|l| w * 32 + l);
                return Err(self.err(inst, thread, EmuErrorKind::DivergentCollective { warp: w, active: am, required }));
            }
            let base = w * 32;
            match &inst.op {
                Op::Shfl { mode, value, b, c, mask } => {
                    let mut out = Vec::new();
                    for l in (0..32).filter(|l| mask >> l & 1 == 1) {
                        let bv = self.int(inst, base + l, *b)? as u32;
                        let (src, _) = warp::shfl_source(*mode, l, bv, *c);
                        if mask >> src & 1 == 0 {
                            return Err(self.err(inst, Some(base + l), EmuErrorKind::ShflSource { lane: l, source: src }));
                        }
                        let v = self.read(inst, base + src, *value)?;
                        out.push((base + l, full(v)));
                    }
                    for (t, v) in out {
                        self.set(t, inst.results[0], v);
                    }
                }
                Op::Ldmatrix { buf, offset, count, trans } => {
                    // rows[j][r]: the 16 bytes of row r of matrix j, at the address lane 8j + r gives.
                    let mut rows = vec![vec![Vec::new(); 8]; *count as usize];
                    for (j, matrix) in rows.iter_mut().enumerate() {
                        for (r, row) in matrix.iter_mut().enumerate() {
                            let t = base + 8 * j as u32 + r as u32;
                            let addr = self.shared_addr(inst, t, *buf, *offset, 16)?;
                            *row = self.shared.read(t, addr, 16).map_err(|k| self.err(inst, Some(t), k))?;
                        }
                    }
                    for l in 0..32u32 {
                        let regs: Vec<u64> = (0..*count as usize)
                            .map(|j| {
                                let half = |h: usize| {
                                    let (m, r, c) = warp::ldmatrix_fragment(*trans, l as usize, 2 * j + h);
                                    u16::from_le_bytes([rows[m][r][2 * c], rows[m][r][2 * c + 1]]) as u64
                                };
                                half(0) | half(1) << 16
                            })
                            .collect();
                        self.set(base + l, inst.results[0], full(regs));
                    }
                }
                Op::Stmatrix { buf, offset, value, count, trans } => {
                    // rows[j][r]: the 16 bytes of row r of matrix j, gathered from the lanes'
                    // registers as ldmatrix would have distributed them.
                    let mut rows = vec![vec![[0u8; 16]; 8]; *count as usize];
                    for l in 0..32u32 {
                        let regs = u32s(&to_bytes(self.p.ty(*value), &self.read(inst, base + l, *value)?));
                        for (j, reg) in regs.iter().enumerate() {
                            for h in 0..2 {
                                let (m, r, c) = warp::ldmatrix_fragment(*trans, l as usize, 2 * j + h);
                                let half = (reg >> (16 * h)) as u16;
                                rows[m][r][2 * c..2 * c + 2].copy_from_slice(&half.to_le_bytes());
                            }
                        }
                    }
                    for (j, matrix) in rows.iter().enumerate() {
                        for (r, row) in matrix.iter().enumerate() {
                            let t = base + 8 * j as u32 + r as u32;
                            let addr = self.shared_addr(inst, t, *buf, *offset, 16)?;
                            self.shared.write(t, addr, row).map_err(|k| self.err(inst, Some(t), k))?;
                        }
                    }
                }
                Op::Mma { kind, a, b, c } => {
                    let (mut av, mut bv, mut cv) = (Vec::new(), Vec::new(), Vec::new());
                    for l in 0..32 {
                        let t = base + l;
                        let ra = u32s(&to_bytes(self.p.ty(*a), &self.read(inst, t, *a)?));
                        let rb = u32s(&to_bytes(self.p.ty(*b), &self.read(inst, t, *b)?));
                        let rc = self.read(inst, t, *c)?;
                        av.push([ra[0], ra[1], ra[2], ra[3]]);
                        bv.push([rb[0], rb[1]]);
                        cv.push([rc[0], rc[1], rc[2], rc[3]]);
                    }
                    let d = warp::mma(*kind, &av, &bv, &cv);
                    for (l, frag) in d.into_iter().enumerate() {
                        self.set(base + l as u32, inst.results[0], full(frag.to_vec()));
                    }
                }
                _ => unreachable!("not a collective"),
            }
        }
        Ok(())
    }
}

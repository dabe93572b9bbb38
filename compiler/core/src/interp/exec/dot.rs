//! `dot`: the tile matrix product, on flat vectors.

use super::super::value::{Data, Value};
use super::Machine;
use crate::numeric::{round_float, wrap_int};
use crate::tir::ValueId;

impl Machine<'_, '_> {
    /// `acc + a @ b`. Floats: every product is exact in f64 (inputs have at most 24 significand bits)
    /// and each output is the exact sum of its accumulator value and products, rounded once to the
    /// accumulator's dtype (order-independent). Computed in f64 when that is exact (checked per
    /// output with TwoSum), else with an exact fixed-point sum ([`super::exact`]). Infinities and NaN
    /// follow IEEE f64 addition in index order. Integers: exact products and sum modulo 2^64,
    /// wrapped once to the accumulator's width (the same as wrapping every step).
    pub(super) fn dot(&self, a: ValueId, b: ValueId, acc: ValueId) -> Value {
        let k = self.kernel;
        let (sa, sb) = (k.ty(a).shape(), k.ty(b).shape());
        let (m, kk, n) = (sa[0] as usize, sa[1] as usize, sb[1] as usize);
        let acc_dt = k.ty(acc).dtype();
        let (Value::Tile { data: da, .. }, Value::Tile { data: db, .. }, Value::Tile { data: dc, .. }) = (self.get(a), self.get(b), self.get(acc)) else {
            unreachable!("dot operands are tiles")
        };
        let data = match (da, db, dc) {
            (Data::Float(x), Data::Float(y), Data::Float(c)) => {
                // Fast path: f64 accumulation, tracking with TwoSum whether every addition was exact.
                let mut out = c.clone();
                let mut inexact = vec![false; m * n];
                for i in 0..m {
                    let row = &mut out[i * n..(i + 1) * n];
                    let flags = &mut inexact[i * n..(i + 1) * n];
                    let arow = &x[i * kk..(i + 1) * kk];
                    for (p, &av) in arow.iter().enumerate() {
                        let brow = &y[p * n..(p + 1) * n];
                        for ((o, f), &bv) in row.iter_mut().zip(flags.iter_mut()).zip(brow) {
                            let prod = av * bv;
                            let s = *o + prod;
                            let bb = s - *o;
                            let e = (*o - (s - bb)) + (prod - bb);
                            *f |= e != 0.0;
                            *o = s;
                        }
                    }
                }
                for (idx, o) in out.iter_mut().enumerate() {
                    let exact = if inexact[idx] {
                        // Rare: redo this output exactly (every term is exact in f64).
                        let (i, j) = (idx / n, idx % n);
                        let terms = std::iter::once(c[idx]).chain((0..kk).map(|p| x[i * kk + p] * y[p * n + j]));
                        super::exact::exact_sum(acc_dt, terms)
                    } else {
                        None
                    };
                    *o = exact.unwrap_or_else(|| round_float(acc_dt, *o));
                }
                Data::Float(out)
            }
            (Data::Int(x), Data::Int(y), Data::Int(c)) => {
                let mut out = c.clone();
                for i in 0..m {
                    let row = &mut out[i * n..(i + 1) * n];
                    for p in 0..kk {
                        let av = x[i * kk + p];
                        for (o, &bv) in row.iter_mut().zip(&y[p * n..(p + 1) * n]) {
                            *o = o.wrapping_add(av.wrapping_mul(bv));
                        }
                    }
                }
                for o in out.iter_mut() {
                    *o = wrap_int(acc_dt, *o);
                }
                Data::Int(out)
            }
            _ => unreachable!("the checker gives dot numeric operands"),
        };
        Value::Tile { shape: vec![m as u64, n as u64], data }
    }
}

//! `dot`: the tile matrix product, on flat vectors.

use super::super::value::{Data, Value};
use super::Machine;
use crate::numeric::{round_float, wrap_int};
use crate::tir::ValueId;

impl Machine<'_, '_> {
    /// `acc + a @ b`. Floats: every product is exact in f64 (inputs have at most 24 significand bits);
    /// each output starts from its accumulator value and adds the products for k = 0, 1, ... in f64,
    /// then rounds once to the accumulator's dtype. Integers: exact products and sum modulo 2^64,
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
                let mut out = c.clone();
                for i in 0..m {
                    let row = &mut out[i * n..(i + 1) * n];
                    let arow = &x[i * kk..(i + 1) * kk];
                    for (p, &av) in arow.iter().enumerate() {
                        let brow = &y[p * n..(p + 1) * n];
                        for (o, &bv) in row.iter_mut().zip(brow) {
                            *o += av * bv;
                        }
                    }
                }
                for o in out.iter_mut() {
                    *o = round_float(acc_dt, *o);
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

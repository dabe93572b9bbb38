//! Reductions and `cumsum`.

use super::super::value::{Data, Value};
use super::Machine;
use crate::numeric::{round_float, wrap_int};
use crate::tir::{ReduceOp, Type, ValueId};
use tilec_dtype::DType;

/// `(outer, n, inner)`: the tile seen as `[outer, n, inner]` with `n` the extent of `dim`
/// (every element when `dim` is `None`).
fn split(shape: &[u64], dim: Option<usize>) -> (usize, usize, usize) {
    match dim {
        None => (1, shape.iter().product::<u64>() as usize, 1),
        Some(d) => (shape[..d].iter().product::<u64>() as usize, shape[d] as usize, shape[d + 1..].iter().product::<u64>() as usize),
    }
}

fn tile(ty: &Type, data: Data) -> Value {
    if ty.is_tile() {
        Value::Tile { shape: ty.shape().to_vec(), data }
    } else {
        Value::Scalar(data.get(0))
    }
}

impl Machine<'_, '_> {
    pub(super) fn reduce(&self, op: ReduceOp, value: ValueId, dim: Option<usize>, out: &Type) -> Value {
        let dt = self.kernel.ty(value).dtype();
        let Value::Tile { shape, data } = self.get(value) else { unreachable!("reductions take tiles") };
        let (outer, n, inner) = split(shape, dim);
        let at = |o: usize, j: usize, i: usize| (o * n + j) * inner + i;
        let unsigned64 = dt == DType::Int { bits: 64, signed: false };
        let data = match data {
            Data::Float(x) => Data::Float(
                (0..outer * inner)
                    .map(|r| {
                        let (o, i) = (r / inner, r % inner);
                        let it = (0..n).map(|j| x[at(o, j, i)]);
                        match op {
                            // The exact sum rounded once (f64 in index order for f64 tiles and
                            // when an element is infinite or NaN).
                            ReduceOp::Sum if dt != DType::F64 => super::exact::exact_sum(dt, it.clone()).unwrap_or_else(|| round_float(dt, it.sum::<f64>())),
                            ReduceOp::Sum => it.sum::<f64>(),
                            // f64::max/min ignore a NaN operand (IEEE maxNum/minNum): NaN only if all are.
                            ReduceOp::Max => it.fold(f64::NAN, f64::max),
                            _ => it.fold(f64::NAN, f64::min),
                        }
                    })
                    .collect(),
            ),
            Data::Int(x) => Data::Int(
                (0..outer * inner)
                    .map(|r| {
                        let (o, i) = (r / inner, r % inner);
                        let it = (0..n).map(|j| x[at(o, j, i)]);
                        match op {
                            ReduceOp::Sum => wrap_int(dt, it.fold(0i64, i64::wrapping_add)),
                            ReduceOp::Max if unsigned64 => it.map(|v| v as u64).max().unwrap_or(0) as i64,
                            ReduceOp::Min if unsigned64 => it.map(|v| v as u64).min().unwrap_or(0) as i64,
                            ReduceOp::Max => it.max().unwrap_or(0),
                            _ => it.min().unwrap_or(0),
                        }
                    })
                    .collect(),
            ),
            Data::Bool(x) => Data::Bool(
                (0..outer * inner)
                    .map(|r| {
                        let (o, i) = (r / inner, r % inner);
                        let mut it = (0..n).map(|j| x[at(o, j, i)]);
                        if op == ReduceOp::Any {
                            it.any(|b| b)
                        } else {
                            it.all(|b| b)
                        }
                    })
                    .collect(),
            ),
        };
        tile(out, data)
    }

    pub(super) fn cumsum(&self, value: ValueId, dim: usize) -> Value {
        let dt = self.kernel.ty(value).dtype();
        let Value::Tile { shape, data } = self.get(value) else { unreachable!("cumsum takes tiles") };
        let (outer, n, inner) = split(shape, Some(dim));
        let mut data = data.clone();
        for o in 0..outer {
            for i in 0..inner {
                let idx = |j: usize| (o * n + j) * inner + i;
                match &mut data {
                    Data::Float(x) => {
                        // Sequential: rounded to the dtype after every addition.
                        let mut acc = 0.0f64;
                        for j in 0..n {
                            acc = if j == 0 { x[idx(0)] } else { round_float(dt, acc + x[idx(j)]) };
                            x[idx(j)] = acc;
                        }
                    }
                    Data::Int(x) => {
                        let mut acc = 0i64;
                        for j in 0..n {
                            acc = wrap_int(dt, acc.wrapping_add(x[idx(j)]));
                            x[idx(j)] = acc;
                        }
                    }
                    Data::Bool(_) => unreachable!("the checker refuses cumsum of bool"),
                }
            }
        }
        Value::Tile { shape: shape.clone(), data }
    }
}


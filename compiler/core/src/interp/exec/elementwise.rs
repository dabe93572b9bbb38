//! Elementwise evaluation: a scalar function over every element of one or two tiles, and broadcasts.

use super::super::scalar::Undefined;
use super::super::value::{Data, Scalar, Value};
use super::Machine;
use crate::tir::ValueId;
use tilec_dtype::DType;

impl Machine<'_, '_> {
    pub(super) fn map1(&self, a: ValueId, f: impl Fn(Scalar) -> Scalar) -> Value {
        match self.get(a) {
            Value::Scalar(s) => Value::Scalar(f(*s)),
            Value::Tile { shape, data } => {
                let first = if data.is_empty() { Scalar::Int(0) } else { f(data.get(0)) };
                let dt_family = match first {
                    Scalar::Int(_) => DType::I64,
                    Scalar::Float(_) => DType::F64,
                    Scalar::Bool(_) => DType::Bool,
                };
                Value::Tile { shape: shape.clone(), data: Data::from_fn(dt_family, data.len(), |i| f(data.get(i))) }
            }
        }
    }

    pub(super) fn map2(&self, a: ValueId, b: ValueId, f: impl Fn(Scalar, Scalar) -> Result<Scalar, Undefined>) -> Result<Value, Undefined> {
        match (self.get(a), self.get(b)) {
            (Value::Scalar(x), Value::Scalar(y)) => Ok(Value::Scalar(f(*x, *y)?)),
            (Value::Tile { shape, data: x }, Value::Tile { data: y, .. }) => {
                let mut out = Vec::with_capacity(x.len());
                for i in 0..x.len() {
                    out.push(f(x.get(i), y.get(i))?);
                }
                let family = match out.first() {
                    Some(Scalar::Float(_)) => DType::F64,
                    Some(Scalar::Bool(_)) => DType::Bool,
                    _ => DType::I64,
                };
                Ok(Value::Tile { shape: shape.clone(), data: Data::from_fn(family, out.len(), |i| out[i]) })
            }
            _ => Err(Undefined("a scalar met a tile (the checker splats scalars)")),
        }
    }

    pub(super) fn broadcast(&self, a: ValueId, to: &[u64]) -> Value {
        let Value::Tile { shape: from, data } = self.get(a) else {
            return Value::Tile { shape: to.to_vec(), data: Data::splat(self.get(a).scalar(), to.iter().product::<u64>() as usize) };
        };
        let lead = to.len() - from.len();
        let n: u64 = to.iter().product();
        let family = match data.get(0) {
            Scalar::Float(_) => DType::F64,
            Scalar::Bool(_) => DType::Bool,
            Scalar::Int(_) => DType::I64,
        };
        let out = Data::from_fn(family, n as usize, |i| {
            let (mut rem, mut src, mut stride) = (i as u64, 0u64, 1u64);
            for d in (0..to.len()).rev() {
                let c = rem % to[d];
                rem /= to[d];
                if d >= lead {
                    let fd = from[d - lead];
                    src += if fd == 1 { 0 } else { c * stride };
                    stride *= fd;
                }
            }
            data.get(src as usize)
        });
        Value::Tile { shape: to.to_vec(), data: out }
    }
}

/// The zero of `dt`: what a masked-off load reads.
pub(super) fn zero(dt: DType) -> Scalar {
    if dt.is_bool() {
        Scalar::Bool(false)
    } else if dt.is_float() {
        Scalar::Float(0.0)
    } else {
        Scalar::Int(0)
    }
}

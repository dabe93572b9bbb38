//! Global memory: bounds-masked loads and stores of tiles.

use super::super::scalar;
use super::super::value::{Data, Value};
use super::elementwise::zero;
use super::{Machine, Run};
use crate::tir::{Type, ValueId};

impl Machine<'_, '_> {
    pub(super) fn load(&mut self, tensor: usize, offsets: &[ValueId], ty: &Type) -> Value {
        let offs: Vec<i64> = offsets.iter().map(|o| self.get(*o).as_i64()).collect();
        let t = self.tensors[tensor].as_ref().expect("tensor parameter bound");
        let shape = ty.shape().to_vec();
        let dt = t.dtype;
        let data = Data::from_fn(dt, ty.numel() as usize, |i| match linear_index(&shape, i, &offs, &t.extents, &t.strides) {
            Some(at) => scalar::load(dt, t.bytes, at),
            None => zero(dt),
        });
        Value::Tile { shape, data }
    }

    pub(super) fn store(&mut self, tensor: usize, offsets: &[ValueId], value: ValueId, mask: Option<ValueId>) -> Run<()> {
        let offs: Vec<i64> = offsets.iter().map(|o| self.get(*o).as_i64()).collect();
        let keep: Option<Vec<bool>> = mask.map(|m| match self.get(m) {
            Value::Tile { data: Data::Bool(b), .. } => b.clone(),
            _ => unreachable!("the checker gives store masks the value's shape"),
        });
        let Value::Tile { shape, data } = self.env[value.index()].take().expect("defined") else {
            unreachable!("the checker stores tiles only")
        };
        let t = self.tensors[tensor].as_mut().expect("tensor parameter bound");
        for i in 0..data.len() {
            if keep.as_ref().is_some_and(|k| !k[i]) {
                continue;
            }
            if let Some(at) = linear_index(&shape, i, &offs, &t.extents, &t.strides) {
                scalar::store(t.dtype, t.bytes, at, data.get(i));
            }
        }
        self.env[value.index()] = Some(Value::Tile { shape, data });
        Ok(())
    }
}

/// The index into the tensor's buffer of element `i` of a tile at `offsets`, or `None` when it falls
/// outside the tensor (the bounds mask).
pub(super) fn linear_index(tile: &[u64], i: usize, offsets: &[i64], extents: &[i64], strides: &[i64]) -> Option<usize> {
    let mut rem = i as u64;
    let mut coords = vec![0i64; tile.len()];
    for d in (0..tile.len()).rev() {
        coords[d] = (rem % tile[d]) as i64;
        rem /= tile[d];
    }
    let mut at: i64 = 0;
    for d in 0..tile.len() {
        let c = offsets[d].checked_add(coords[d])?;
        if c < 0 || c >= extents[d] {
            return None;
        }
        at += c * strides[d];
    }
    Some(at as usize)
}

//! Shared memory in the interpreter: per-block buffers that remember, element by element, whether
//! anything wrote them and which asynchronous-copy group did, so that reading memory nothing wrote,
//! reading a copy before `wait_group` has covered it, and accesses out of bounds are reported with the
//! kernel's source location instead of giving silent garbage. (`barrier` orders threads; at the tile
//! level the block already acts as one, so it has nothing to do here.)

use super::super::scalar;
use super::super::value::{Data, Scalar, Value};
use super::elementwise::zero;
use super::{Machine, Run};
use crate::tir::{Inst, SharedBuffer, SharedView, Type, ValueId};
use std::collections::VecDeque;
use tilec_dtype::DType;

/// One buffer's contents and what is known about each element.
pub struct SharedState {
    data: Vec<Scalar>,
    written: Vec<bool>,
    /// The copy group that last wrote the element (0: a plain store).
    group: Vec<u32>,
}

/// The asynchronous-copy groups of a block.
#[derive(Default)]
pub struct Groups {
    /// The id of the group copies join now (not yet committed).
    open: u32,
    /// Committed groups still in flight, oldest first.
    pending: VecDeque<u32>,
    /// Every group with an id up to this one is complete.
    done: u32,
}

impl SharedState {
    pub fn new(b: &SharedBuffer) -> SharedState {
        let n = b.shape.iter().product::<u64>() as usize;
        SharedState { data: vec![zero(b.dtype); n], written: vec![false; n], group: vec![0; n] }
    }
}

impl Groups {
    pub fn new() -> Groups {
        Groups { open: 1, pending: VecDeque::new(), done: 0 }
    }
}

impl Machine<'_, '_> {
    /// The buffer index of every element of a tile of `shape` at `view`, or an out-of-bounds error.
    fn shared_indices(&self, inst: &Inst, view: &SharedView, shape: &[u64]) -> Run<Vec<usize>> {
        let buf = &self.kernel.shared[view.buffer];
        let base: Vec<i64> = view.offsets.iter().map(|o| self.get(*o).as_i64()).collect();
        let n: u64 = shape.iter().product();
        let mut out = Vec::with_capacity(n as usize);
        let mut coord = base.clone();
        for i in 0..n {
            let mut rem = i;
            for (k, d) in view.spans.iter().enumerate().rev() {
                coord[*d] = base[*d] + (rem % shape[k]) as i64;
                rem /= shape[k];
            }
            let mut lin: i64 = 0;
            for (d, &c) in coord.iter().enumerate() {
                let ext = buf.shape[d] as i64;
                if c < 0 || c >= ext {
                    let dims: Vec<String> = buf.shape.iter().map(|d| d.to_string()).collect();
                    return Err(self.fail(inst, &format!("shared memory access out of bounds: coordinate {coord:?} of a [{}] buffer", dims.join(", "))));
                }
                lin = lin * ext + c;
            }
            out.push(lin as usize);
        }
        Ok(out)
    }

    pub(super) fn load_shared(&mut self, inst: &Inst, view: &SharedView, ty: &Type) -> Run<Value> {
        let idx = self.shared_indices(inst, view, ty.shape())?;
        let st = &self.shared[view.buffer];
        for &i in &idx {
            if !st.written[i] {
                return Err(self.fail(inst, "reads shared memory that nothing has written"));
            }
            if st.group[i] > self.groups.done {
                return Err(self.fail(inst, "reads shared memory filled by an asynchronous copy that no `wait_group` has waited for"));
            }
        }
        let data = Data::from_fn(ty.dtype(), idx.len(), |k| st.data[idx[k]]);
        Ok(Value::Tile { shape: ty.shape().to_vec(), data })
    }

    pub(super) fn store_shared(&mut self, inst: &Inst, view: &SharedView, value: ValueId) -> Run<()> {
        let shape = self.kernel.ty(value).shape().to_vec();
        let idx = self.shared_indices(inst, view, &shape)?;
        let Value::Tile { data, .. } = self.get(value).clone() else { unreachable!("the checker stores tiles") };
        let st = &mut self.shared[view.buffer];
        for (k, &i) in idx.iter().enumerate() {
            st.data[i] = data.get(k);
            st.written[i] = true;
            st.group[i] = 0;
        }
        Ok(())
    }

    pub(super) fn copy_async(&mut self, inst: &Inst, view: &SharedView, tensor: usize, offsets: &[ValueId], shape: &[u64]) -> Run<()> {
        let idx = self.shared_indices(inst, view, shape)?;
        let offs: Vec<i64> = offsets.iter().map(|o| self.get(*o).as_i64()).collect();
        let t = self.tensors[tensor].as_ref().expect("tensor parameter bound");
        let dt: DType = t.dtype;
        let vals: Vec<Scalar> = (0..idx.len())
            .map(|k| match super::memory::linear_index(shape, k, &offs, &t.extents, &t.strides) {
                Some(at) => scalar::load(dt, t.bytes, at),
                None => zero(dt),
            })
            .collect();
        let group = self.groups.open;
        let st = &mut self.shared[view.buffer];
        for (k, &i) in idx.iter().enumerate() {
            st.data[i] = vals[k];
            st.written[i] = true;
            st.group[i] = group;
        }
        Ok(())
    }

    pub(super) fn commit_group(&mut self) {
        let g = &mut self.groups;
        g.pending.push_back(g.open);
        g.open += 1;
    }

    pub(super) fn wait_group(&mut self, n: u32) {
        let g = &mut self.groups;
        while g.pending.len() > n as usize {
            g.done = g.pending.pop_front().expect("non-empty");
        }
    }
}

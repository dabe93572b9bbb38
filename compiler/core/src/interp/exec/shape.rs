//! Shape operations on register tiles, `arange`, and bit reinterpretation (`view<T>`).

use super::super::scalar;
use super::super::value::{Data, Scalar, Value};
use super::Machine;
use crate::tir::{Type, ValueId};

/// Builds data of the same family as `src` by picking `src[index(i)]` for each output element.
fn gather(src: &Data, n: usize, index: impl Fn(usize) -> usize) -> Data {
    match src {
        Data::Float(x) => Data::Float((0..n).map(|i| x[index(i)]).collect()),
        Data::Int(x) => Data::Int((0..n).map(|i| x[index(i)]).collect()),
        Data::Bool(x) => Data::Bool((0..n).map(|i| x[index(i)]).collect()),
    }
}

fn strides(shape: &[u64]) -> Vec<usize> {
    let mut s = vec![1usize; shape.len()];
    for d in (0..shape.len().saturating_sub(1)).rev() {
        s[d] = s[d + 1] * shape[d + 1] as usize;
    }
    s
}

impl Machine<'_, '_> {
    pub(super) fn permute(&self, value: ValueId, perm: &[usize], out: &Type) -> Value {
        let Value::Tile { shape, data } = self.get(value) else { unreachable!("permute takes tiles") };
        let src_strides = strides(shape);
        let to = out.shape();
        // Output dimension d walks source dimension perm[d].
        let walk: Vec<usize> = perm.iter().map(|&p| src_strides[p]).collect();
        let n = data.len();
        let data = gather(data, n, |i| {
            let (mut rem, mut at) = (i, 0usize);
            for d in (0..to.len()).rev() {
                let c = rem % to[d] as usize;
                rem /= to[d] as usize;
                at += c * walk[d];
            }
            at
        });
        Value::Tile { shape: to.to_vec(), data }
    }

    pub(super) fn reshape(&self, value: ValueId, out: &Type) -> Value {
        let data = match self.get(value) {
            Value::Tile { data, .. } => data.clone(),
            Value::Scalar(s) => Data::splat(*s, 1),
        };
        if out.is_tile() {
            Value::Tile { shape: out.shape().to_vec(), data }
        } else {
            Value::Scalar(data.get(0))
        }
    }

    pub(super) fn repeat(&self, value: ValueId, out: &Type) -> Value {
        let Value::Tile { shape, data } = self.get(value) else { unreachable!("repeat takes tiles") };
        let to = out.shape();
        let src_strides = strides(shape);
        let data = gather(data, out.numel() as usize, |i| {
            let (mut rem, mut at) = (i, 0usize);
            for d in (0..to.len()).rev() {
                let c = rem % to[d] as usize;
                rem /= to[d] as usize;
                at += (c % shape[d] as usize) * src_strides[d];
            }
            at
        });
        Value::Tile { shape: to.to_vec(), data }
    }

    pub(super) fn arange(&self, start: i64, out: &Type) -> Value {
        Value::Tile { shape: out.shape().to_vec(), data: Data::Int((0..out.numel() as i64).map(|i| start + i).collect()) }
    }

    /// Packs the source codes little-endian, LSB-first (docs/dtypes.md), and reads them back as the
    /// result's dtype. Rows stay rows: every row is a whole number of bytes of either type or the
    /// packing runs straight across rows, which gives the same bits.
    pub(super) fn bitcast(&self, value: ValueId, out: &Type) -> Value {
        let (from, to) = (self.kernel.ty(value).dtype(), out.dtype());
        let src = self.get(value);
        let n_in = self.kernel.ty(value).numel() as usize;
        let mut bytes = vec![0u8; from.nbytes(n_in)];
        match src {
            Value::Scalar(s) => scalar::store(from, &mut bytes, 0, *s),
            Value::Tile { data, .. } => {
                for i in 0..n_in {
                    scalar::store(from, &mut bytes, i, data.get(i));
                }
            }
        }
        let n_out = out.numel() as usize;
        let vals: Vec<Scalar> = (0..n_out).map(|i| scalar::load(to, &bytes, i)).collect();
        if out.is_tile() {
            Value::Tile { shape: out.shape().to_vec(), data: Data::from_fn(to, n_out, |i| vals[i]) }
        } else {
            Value::Scalar(vals[0])
        }
    }
}

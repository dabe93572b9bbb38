//! `atomic_add` (read-modify-write; blocks run one after another, so it is exact) and `print`.

use super::super::scalar;
use super::super::value::{Data, Scalar, Value};
use super::{Machine, Run};
use crate::tir::{BinaryOp, Inst, ValueId};
use tilec_dtype::DType;

/// One value as `print` shows it: a scalar, or `dtype[shape] [[...], ...]` row-major.
/// The text `print` writes for one element of `dt` (also the thread-level emulator's, so that
/// both print the same lines): integers in decimal, bools as `true`/`false`, floats as Rust's
/// shortest round-trip form (`1.0`, `0.1`, `1e-7`) of the f32 (f32, tf32) or the f64 holding it.
pub fn format_scalar(dt: DType, s: Scalar) -> String {
    match s {
        Scalar::Int(x) if dt == (DType::Int { bits: 64, signed: false }) => (x as u64).to_string(),
        Scalar::Int(x) => x.to_string(),
        Scalar::Bool(b) => b.to_string(),
        Scalar::Float(x) if dt == DType::F32 || dt == DType::TF32 => format!("{:?}", x as f32),
        Scalar::Float(x) => format!("{x:?}"),
    }
}

pub fn format_value(dt: DType, v: &Value) -> String {
    fn nested(dt: DType, shape: &[u64], data: &Data, start: usize, out: &mut String) {
        out.push('[');
        let inner: usize = shape[1..].iter().product::<u64>() as usize;
        for i in 0..shape[0] as usize {
            if i > 0 {
                out.push_str(", ");
            }
            if shape.len() == 1 {
                out.push_str(&format_scalar(dt, data.get(start + i)));
            } else {
                nested(dt, &shape[1..], data, start + i * inner, out);
            }
        }
        out.push(']');
    }
    match v {
        Value::Scalar(s) => format_scalar(dt, *s),
        Value::Tile { shape, data } => {
            let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
            let mut out = format!("{dt}[{}] ", dims.join(", "));
            nested(dt, shape, data, 0, &mut out);
            out
        }
    }
}

impl Machine<'_, '_> {
    pub(super) fn atomic_add(&mut self, tensor: usize, offsets: &[ValueId], value: ValueId) -> Run<()> {
        let offs: Vec<i64> = offsets.iter().map(|o| self.get(*o).as_i64()).collect();
        let Some(Value::Tile { shape, data }) = self.env[value.index()].take() else { unreachable!("the checker adds tiles only") };
        let t = self.tensors[tensor].as_mut().expect("tensor parameter bound");
        let dt = t.dtype;
        for i in 0..data.len() {
            // The same element addressing as `store`: bounds-masked, by the tensor's strides.
            if let Some(at) = super::memory::linear_index(&shape, i, &offs, &t.extents, &t.strides) {
                let old = scalar::load(dt, t.bytes, at);
                let new = match scalar::binary(BinaryOp::Add, dt, old, data.get(i)) {
                    Ok(v) => v,
                    Err(_) => unreachable!("the checker adds numbers only"),
                };
                scalar::store(dt, t.bytes, at, new);
            }
        }
        self.env[value.index()] = Some(Value::Tile { shape, data });
        Ok(())
    }

    pub(super) fn print(&self, inst: &Inst, format: &str, args: &[ValueId]) -> Run<()> {
        let _ = inst;
        let mut line = format!("[block ({}, {}, {})] {format}", self.block[0], self.block[1], self.block[2]);
        if !args.is_empty() {
            let vals: Vec<String> = args.iter().map(|a| format_value(self.kernel.ty(*a).dtype(), self.get(*a))).collect();
            line.push_str(": ");
            line.push_str(&vals.join(", "));
        }
        eprintln!("{line}");
        Ok(())
    }
}

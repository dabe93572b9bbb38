//! Elementwise compute: math functions, `where`, `fma` (one rounding).

use super::super::value::{Data, Scalar, Value};
use super::Machine;
use crate::numeric::{round_float, wrap_int};
use crate::tir::{MathOp, ValueId};
use tilec_dtype::DType;

/// A math function of a float: computed in f64 (exact for `abs`, correctly rounded for `sqrt`, within
/// an ulp of f64 for the transcendental functions) and rounded once to `dt`.
pub fn math_float(op: MathOp, dt: DType, x: f64) -> f64 {
    let r = match op {
        MathOp::Exp => x.exp(),
        MathOp::Exp2 => x.exp2(),
        MathOp::Log => x.ln(),
        MathOp::Log2 => x.log2(),
        MathOp::Sqrt => x.sqrt(),
        MathOp::Rsqrt => 1.0 / x.sqrt(),
        MathOp::Abs => x.abs(),
    };
    round_float(dt, r)
}

/// `a * b + c` rounded once to `dt`.
///
/// f64 uses the hardware-exact `mul_add`. For every narrower float (at most 24 significand bits) the
/// product is exact in f64; the sum `p + c` is computed exactly as `s + e` (TwoSum) and rounded to
/// odd at 53 bits, which then rounds correctly to any format of at most 51 bits (Boldo–Melquiond):
/// no double rounding.
pub fn fma_float(dt: DType, a: f64, b: f64, c: f64) -> f64 {
    if dt == DType::F64 {
        return a.mul_add(b, c);
    }
    let p = a * b;
    let s = p + c;
    if !s.is_finite() || !p.is_finite() || !c.is_finite() {
        return round_float(dt, s);
    }
    let bb = s - p;
    let e = (p - (s - bb)) + (c - bb);
    let odd = if e != 0.0 && s.to_bits() & 1 == 0 {
        let bits = s.to_bits();
        f64::from_bits(if (e > 0.0) == (s > 0.0) { bits + 1 } else { bits - 1 })
    } else {
        s
    };
    round_float(dt, odd)
}

impl Machine<'_, '_> {
    pub(super) fn math(&self, op: MathOp, a: ValueId) -> Value {
        let dt = self.kernel.ty(a).dtype();
        let f = |s: Scalar| match s {
            Scalar::Float(x) => Scalar::Float(math_float(op, dt, x)),
            Scalar::Int(x) => Scalar::Int(wrap_int(dt, x.wrapping_abs())),
            other => other,
        };
        match self.get(a) {
            Value::Scalar(s) => Value::Scalar(f(*s)),
            Value::Tile { shape, data: Data::Float(v) } => {
                Value::Tile { shape: shape.clone(), data: Data::Float(v.iter().map(|&x| math_float(op, dt, x)).collect()) }
            }
            Value::Tile { shape, data: Data::Int(v) } => {
                Value::Tile { shape: shape.clone(), data: Data::Int(v.iter().map(|&x| wrap_int(dt, x.wrapping_abs())).collect()) }
            }
            other => other.clone(),
        }
    }

    pub(super) fn select(&self, c: ValueId, a: ValueId, b: ValueId) -> Value {
        match (self.get(c), self.get(a), self.get(b)) {
            (Value::Tile { shape, data: Data::Bool(c) }, Value::Tile { data: x, .. }, Value::Tile { data: y, .. }) => {
                let data = match (x, y) {
                    (Data::Float(x), Data::Float(y)) => Data::Float(c.iter().zip(x.iter().zip(y)).map(|(&c, (&x, &y))| if c { x } else { y }).collect()),
                    (Data::Int(x), Data::Int(y)) => Data::Int(c.iter().zip(x.iter().zip(y)).map(|(&c, (&x, &y))| if c { x } else { y }).collect()),
                    (Data::Bool(x), Data::Bool(y)) => Data::Bool(c.iter().zip(x.iter().zip(y)).map(|(&c, (&x, &y))| if c { x } else { y }).collect()),
                    _ => unreachable!("the checker gives both sides one type"),
                };
                Value::Tile { shape: shape.clone(), data }
            }
            (c, x, y) => {
                let pick = matches!(c.scalar(), Scalar::Bool(true));
                if pick { x.clone() } else { y.clone() }
            }
        }
    }

    pub(super) fn fma(&self, a: ValueId, b: ValueId, c: ValueId) -> Value {
        let dt = self.kernel.ty(a).dtype();
        match (self.get(a), self.get(b), self.get(c)) {
            (Value::Tile { shape, data: Data::Float(x) }, Value::Tile { data: Data::Float(y), .. }, Value::Tile { data: Data::Float(z), .. }) => {
                let data = (0..x.len()).map(|i| fma_float(dt, x[i], y[i], z[i])).collect();
                Value::Tile { shape: shape.clone(), data: Data::Float(data) }
            }
            (x, y, z) => {
                let f = |v: &Value| if let Scalar::Float(f) = v.scalar() { f } else { 0.0 };
                Value::Scalar(Scalar::Float(fma_float(dt, f(x), f(y), f(z))))
            }
        }
    }
}

//! Run-time values of the tile interpreter.

use tilec_dtype::DType;

/// A scalar: integers of every width are held in i64 (u64 as its bit pattern), floats in f64 (exact
/// for every float type up to f64), booleans as bool.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scalar {
    Int(i64),
    Float(f64),
    Bool(bool),
}

/// A tile's elements, row-major, in the representation of its dtype family.
#[derive(Clone, Debug, PartialEq)]
pub enum Data {
    Int(Vec<i64>),
    Float(Vec<f64>),
    Bool(Vec<bool>),
}

impl Data {
    pub fn len(&self) -> usize {
        match self {
            Data::Int(v) => v.len(),
            Data::Float(v) => v.len(),
            Data::Bool(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get(&self, i: usize) -> Scalar {
        match self {
            Data::Int(v) => Scalar::Int(v[i]),
            Data::Float(v) => Scalar::Float(v[i]),
            Data::Bool(v) => Scalar::Bool(v[i]),
        }
    }

    /// `n` copies of `s`.
    pub fn splat(s: Scalar, n: usize) -> Data {
        match s {
            Scalar::Int(x) => Data::Int(vec![x; n]),
            Scalar::Float(x) => Data::Float(vec![x; n]),
            Scalar::Bool(x) => Data::Bool(vec![x; n]),
        }
    }

    /// Builds data of `dtype`'s family from a function of the index.
    pub fn from_fn(dtype: DType, n: usize, mut f: impl FnMut(usize) -> Scalar) -> Data {
        if dtype.is_bool() {
            Data::Bool((0..n).map(|i| matches!(f(i), Scalar::Bool(true))).collect())
        } else if dtype.is_float() {
            Data::Float((0..n).map(|i| if let Scalar::Float(x) = f(i) { x } else { 0.0 }).collect())
        } else {
            Data::Int((0..n).map(|i| if let Scalar::Int(x) = f(i) { x } else { 0 }).collect())
        }
    }
}

/// A value: a scalar or a register tile.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Scalar(Scalar),
    Tile { shape: Vec<u64>, data: Data },
}

impl Value {
    pub fn scalar(&self) -> Scalar {
        match self {
            Value::Scalar(s) => *s,
            Value::Tile { data, .. } => data.get(0),
        }
    }

    pub fn as_i64(&self) -> i64 {
        match self.scalar() {
            Scalar::Int(v) => v,
            Scalar::Float(v) => v as i64,
            Scalar::Bool(b) => b as i64,
        }
    }
}

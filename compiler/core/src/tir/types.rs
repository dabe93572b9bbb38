//! Types of tile IR values: scalars and register tiles of a static shape.

use std::fmt;
use tilec_dtype::DType;

/// The type of an SSA value.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Type {
    Scalar(DType),
    /// A register tile: `dtype[d0, d1, ...]` with static extents.
    Tile { dtype: DType, shape: Vec<u64> },
}

impl Type {
    pub fn dtype(&self) -> DType {
        match self {
            Type::Scalar(d) | Type::Tile { dtype: d, .. } => *d,
        }
    }

    /// The tile's extents; empty for a scalar.
    pub fn shape(&self) -> &[u64] {
        match self {
            Type::Scalar(_) => &[],
            Type::Tile { shape, .. } => shape,
        }
    }

    pub fn is_tile(&self) -> bool {
        matches!(self, Type::Tile { .. })
    }

    /// The number of elements (1 for a scalar).
    pub fn numel(&self) -> u64 {
        self.shape().iter().product()
    }

    /// The same shape with another element type.
    pub fn with_dtype(&self, dtype: DType) -> Type {
        match self {
            Type::Scalar(_) => Type::Scalar(dtype),
            Type::Tile { shape, .. } => Type::Tile { dtype, shape: shape.clone() },
        }
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Scalar(d) => write!(f, "{d}"),
            Type::Tile { dtype, shape } => {
                write!(f, "{dtype}[")?;
                for (i, d) in shape.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{d}")?;
                }
                f.write_str("]")
            }
        }
    }
}

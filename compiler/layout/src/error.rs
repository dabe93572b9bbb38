//! Errors of the layout algebra.
//!
//! Every operation that can be handed an inadmissible input (a composition whose divisibility
//! conditions fail, a complement of a non-injective layout, a division that has no quotient, ...)
//! returns [`LayoutError`] instead of panicking, so that user-written layouts in source programs
//! or on the `tilec layout` command line produce diagnostics, not crashes.

use thiserror::Error;

/// Why a layout operation is not defined for its arguments.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LayoutError {
    /// A shape extent is not positive.
    #[error("shape extents must be positive, got {0}")]
    NonPositiveExtent(i64),
    /// Shape and stride (or two tuples that must match) are not congruent.
    #[error("{what}: {left} and {right} are not congruent")]
    NotCongruent {
        /// What was being matched.
        what: &'static str,
        /// The left tuple, printed.
        left: String,
        /// The right tuple, printed.
        right: String,
    },
    /// A coordinate or index is outside the domain of the layout.
    #[error("{0}")]
    OutOfDomain(String),
    /// The divisibility conditions of an operation fail.
    #[error("{op} is not defined: {reason}")]
    NotDivisible {
        /// The operation.
        op: &'static str,
        /// Which condition failed, for whom.
        reason: String,
    },
    /// The operation requires an injective (or non-negative stride) layout.
    #[error("{op} is not defined: {reason}")]
    Inadmissible {
        /// The operation.
        op: &'static str,
        /// Which requirement failed.
        reason: String,
    },
    /// A rank requirement is violated.
    #[error("{op}: {reason}")]
    Rank {
        /// The operation.
        op: &'static str,
        /// The mismatch.
        reason: String,
    },
    /// An arithmetic result does not fit into 64 bits.
    #[error("integer overflow in {0}")]
    Overflow(&'static str),
    /// A swizzle's parameters are invalid.
    #[error("invalid swizzle Sw<{b},{m},{s}>: {reason}")]
    BadSwizzle {
        /// Number of bits permuted.
        b: i64,
        /// Base bit.
        m: i64,
        /// Shift.
        s: i64,
        /// The violated constraint.
        reason: &'static str,
    },
    /// Something else that makes the request meaningless (documented at the call site).
    #[error("{0}")]
    Invalid(String),
}

/// Result alias for the layout algebra.
pub type Result<T, E = LayoutError> = std::result::Result<T, E>;

/// Checked multiplication with an overflow error naming the operation.
pub(crate) fn mul(a: i64, b: i64, op: &'static str) -> Result<i64> {
    a.checked_mul(b).ok_or(LayoutError::Overflow(op))
}

/// Checked addition with an overflow error naming the operation.
pub(crate) fn add(a: i64, b: i64, op: &'static str) -> Result<i64> {
    a.checked_add(b).ok_or(LayoutError::Overflow(op))
}

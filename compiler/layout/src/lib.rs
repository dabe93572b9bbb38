pub mod algebra;
pub mod divide;
pub mod error;
pub mod int_tuple;
pub mod layout;
pub mod product;
pub mod swizzle;
pub use int_tuple::IntTuple;

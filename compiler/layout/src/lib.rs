//! The algebraic layout system (see docs/layouts.md).

//! Passes over the tile IR. Each pass reads a verified [`crate::tir::Kernel`] and returns facts about
//! it (or a user diagnostic); none rewrites the IR in place. docs/passes.md describes each pass.

pub mod layout_infer;

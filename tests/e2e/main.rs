//! tilec's integration and snapshot tests: one test binary, so LLVM is linked once.
//!
//! - `pipeline`: snapshots of every stage (tokens, AST, tile IR, MLIR, PTX) of the examples;
//! - `assemble`: ptxas accepts every PTX (sm_80, sm_90); AMDGCN assembles and links (gfx90a, gfx942);
//! - `interp`: the interpreter against independent references on random, ragged inputs;
//! - `diagnostics`: snapshots of the messages for bad input of every kind, never a panic;
//! - `cli`: the command line end to end;
//! - `thread_emit`: the thread-level emitter on a program with every op kind (PTX, ptxas);
//! - `thread_fold`: the thread emitter's scalar semantics against the emulator's, by constant folding.

mod assemble;
mod cli;
mod diagnostics;
mod examples;
mod interp;
mod lang;
mod pipeline;
mod thread_emit;
mod thread_fold;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("compiler/ has a parent").to_path_buf()
}

/// Every kernel file the tests compile: the examples and the test kernels.
pub fn kernel_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in ["examples", "tests/kernels"] {
        for entry in std::fs::read_dir(root().join(dir)).expect("kernel folder") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "tile") {
                files.push(path);
            }
        }
    }
    files.sort();
    assert!(!files.is_empty());
    files
}

/// Runs the `tilec` binary in the workspace root.
pub fn tilec(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tilec")).args(args).current_dir(root()).env("NO_COLOR", "1").output().expect("tilec runs")
}

/// A test binary that needs a tool fails, never skips, when the tool is missing.
pub fn tool(path: &Path, how: &str) -> PathBuf {
    assert!(path.exists(), "{} is missing: {how}", path.display());
    path.to_path_buf()
}

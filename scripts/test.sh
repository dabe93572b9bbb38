#!/usr/bin/env bash
# Installs whatever is missing (scripts/setup.sh), then runs every test of the workspace.
# Release mode throughout: the interpreter tests need the speed, and the main job (scripts/run.sh)
# reuses the same build. CARGO_TARGET_DIR defaults to a folder in the user's cache, outside the clone,
# so that repeated runs (and fresh clones) do not rebuild LLVM-linked crates from scratch.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tilec/target}"
export PYTHONPATH="$root/tools/py${PYTHONPATH:+:$PYTHONPATH}"
cargo test --release --workspace --locked "$@"

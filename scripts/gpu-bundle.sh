#!/usr/bin/env bash
# Prepares out/gpu/ for scripts/gpu-check.sh on a machine with an NVIDIA GPU but no Rust or LLVM:
# the runtime-only `tile-run`, each example's PTX and manifest, inputs, and the interpreter's results.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tilec/target}"
cargo build --release -q -p tilec -p tile-runtime --bins
tilec="$CARGO_TARGET_DIR/release/tilec"
out="$root/out/gpu"
rm -rf "$out" && mkdir -p "$out"
cp "$CARGO_TARGET_DIR/release/tile-run" "$out/"
cp scripts/gpu-check.sh scripts/gpu_check.py "$out/"

# vector_add: a ragged size, checked against the interpreter's result.
"$tilec" build examples/vector_add.tile --target sm_90 --emit ptx -o "$out/vector_add.ptx"
PYTHONPATH=tools/py python3 - "$out" <<'PY'
import sys, numpy as np
out = sys.argv[1]
rng = np.random.default_rng(2026)
# Only the ragged inputs travel; the large timing inputs are drawn on the GPU machine (size limits).
np.save(f"{out}/vector_add_ragged_a.npy", rng.standard_normal(100003).astype(np.float32))
np.save(f"{out}/vector_add_ragged_b.npy", rng.standard_normal(100003).astype(np.float32))
PY
"$tilec" run examples/vector_add.tile --device cpu a="$out/vector_add_ragged_a.npy" b="$out/vector_add_ragged_b.npy" --out c="$out/vector_add_ragged_interp.npy"
du -sh "$out"

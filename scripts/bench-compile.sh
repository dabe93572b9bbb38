#!/usr/bin/env bash
# Compile-speed benchmark (issue 6): whole `tilec build` processes of the examples, median and minimum
# of repeated runs, and — with `--triton` — the side-by-side with Triton's ahead-of-time compile of an
# equivalent f16 matmul in a warm Python process (Triton is installed into the git-ignored
# tools/bench on first use; it is a benchmark peer only, never a dependency of tilec).
# Usage: bash scripts/bench-compile.sh [--triton] [RUNS]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
triton=0
if [ "${1:-}" = "--triton" ]; then triton=1; shift; fi
runs="${1:-20}"
bash scripts/setup.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tilec/target}"
cargo build --release --locked -q -p tilec
tilec="$CARGO_TARGET_DIR/release/tilec"
out="$root/out/bench"
mkdir -p "$out"

python3 - "$tilec" "$runs" "$out" <<'PY'
import subprocess, sys, time, statistics
tilec, runs, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
cases = [
    ("examples/matmul.tile", "sm_90", "ptx"),
    ("examples/matmul.tile", "sm_80", "ptx"),
    ("examples/softmax.tile", "sm_90", "ptx"),
    ("examples/vector_add.tile", "sm_90", "ptx"),
    ("examples/matmul_a16wx.tile", "sm_90", "ptx"),
    ("examples/attention.tile", "sm_90", "ptx"),
    ("examples/vector_add.tile", "gfx942", "amdgcn"),
]
print(f"| command | median ms | min ms |\n|---|---|---|")
for src, target, emit in cases:
    cmd = [tilec, "build", src, "--target", target, "--emit", emit, "-o", f"{out}/bench.{emit}"]
    subprocess.run(cmd, check=True, capture_output=True)  # warm the page cache
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append((time.perf_counter() - t0) * 1e3)
    print(f"| `build {src} --target {target} --emit {emit}` | {statistics.median(times):.1f} | {min(times):.1f} |")
print()
stages = subprocess.run([tilec, "build", "examples/matmul.tile", "--target", "sm_90", "--emit", "ptx", "--timings",
                         "-o", f"{out}/matmul.ptx"], check=True, capture_output=True, text=True)
print("stages of `build examples/matmul.tile --target sm_90 --emit ptx --timings`:")
print(stages.stderr.strip() or stages.stdout.strip())
PY

if [ "$triton" = 1 ]; then
    bench="$root/tools/bench"
    if [ ! -d "$bench/triton" ]; then
        echo "== installing triton 3.9.0 into tools/bench (benchmark peer only)"
        python3 -m pip install -q --no-deps --target "$bench" "triton==3.9.0"
    fi
    # A fresh cache directory defeats Triton's on-disk cache.
    cache="$(mktemp -d)"
    PYTHONPATH="$bench:$root/tools/py" TRITON_CACHE_DIR="$cache" \
        TRITON_DEFAULT_FP_FUSION=1 python3 bench/triton_matmul_compile.py
    rm -rf "$cache"
fi

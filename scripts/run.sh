#!/usr/bin/env bash
# The main job: installs whatever is missing, compiles examples/vector_add.tile to PTX (checked by
# ptxas) and runs it on the best device present — a CUDA GPU if there is one, else the built-in CPU
# interpreter — on random inputs of a ragged size, runs its thread-level program on the emulator, and
# checks both results against numpy.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tilec/target}"
export PYTHONPATH="$root/tools/py${PYTHONPATH:+:$PYTHONPATH}"
cargo build --release --locked -q -p tilec
tilec="$CARGO_TARGET_DIR/release/tilec"
out="$root/out/run"
mkdir -p "$out"

echo "== compile examples/vector_add.tile for sm_90 and assemble it with ptxas"
"$tilec" build examples/vector_add.tile --target sm_90 --emit ptx -o "$out/vector_add.ptx"
tools/cuda/bin/ptxas -arch=sm_90 "$out/vector_add.ptx" -o "$out/vector_add.cubin"
echo "   $out/vector_add.ptx ($(wc -l < "$out/vector_add.ptx") lines), manifest $out/vector_add.json"

n="${N:-100003}"
echo "== run vector_add on N=$n random elements"
python3 - "$out" "$n" <<'PY'
import sys, numpy as np
out, n = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng()
np.save(f"{out}/a.npy", rng.standard_normal(n).astype(np.float32))
np.save(f"{out}/b.npy", rng.standard_normal(n).astype(np.float32))
PY
"$tilec" run examples/vector_add.tile a="$out/a.npy" b="$out/b.npy" --out c="$out/c.npy"
echo "== run the same kernel's thread-level program (what the GPU code is emitted from) on the emulator"
"$tilec" run examples/vector_add.tile --device emu a="$out/a.npy" b="$out/b.npy" --out c="$out/c_emu.npy"

echo "== check against numpy"
python3 - "$out" <<'PY'
import sys, numpy as np
out = sys.argv[1]
a, b, c, c_emu = (np.load(f"{out}/{x}.npy") for x in ("a", "b", "c", "c_emu"))
if not np.array_equal(c.view(np.uint32), c_emu.view(np.uint32)):
    print("FAILED: the emulated thread-level program and the first run differ")
    sys.exit(1)
ref = a + b  # float32 addition, rounded once: the kernel must match it bit for bit
bad = np.flatnonzero(c.view(np.uint32) != ref.view(np.uint32))
if c.shape != a.shape or bad.size:
    print(f"FAILED: {bad.size} of {a.size} elements differ (first at {bad[:5]})")
    sys.exit(1)
print(f"OK: c == a + b exactly for all {a.size} elements, on the device and on the emulator")
PY

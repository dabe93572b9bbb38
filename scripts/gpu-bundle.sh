#!/usr/bin/env bash
# Prepares out/gpu/ for scripts/gpu-check.sh on a machine with an NVIDIA GPU but no Rust or LLVM:
# the runtime-only `tile-run`, each example's PTX and manifest, inputs, and the interpreter's results.
# CODEGEN=auto|thread|direct (default auto) chooses the code generator of every kernel (`--codegen`),
# so both the thread-level path and the direct emitter can be checked on the GPU.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tilec/target}"
cargo build --release -q -p tilec -p tile-runtime --bins
tilec="$CARGO_TARGET_DIR/release/tilec"
codegen="${CODEGEN:-auto}"
out="$root/out/gpu"
rm -rf "$out" && mkdir -p "$out"
cp "$CARGO_TARGET_DIR/release/tile-run" "$out/"
cp scripts/gpu-check.sh scripts/gpu_check.py "$out/"

# vector_add: a ragged size, checked against the interpreter's result.
"$tilec" build --codegen "$codegen" examples/vector_add.tile --target sm_90 --emit ptx -o "$out/vector_add.ptx"
PYTHONPATH=tools/py python3 - "$out" <<'PY'
import sys, numpy as np
out = sys.argv[1]
rng = np.random.default_rng(2026)
# Only the ragged inputs travel; the large timing inputs are drawn on the GPU machine (size limits).
np.save(f"{out}/vector_add_ragged_a.npy", rng.standard_normal(100003).astype(np.float32))
np.save(f"{out}/vector_add_ragged_b.npy", rng.standard_normal(100003).astype(np.float32))
PY
"$tilec" run examples/vector_add.tile --device cpu a="$out/vector_add_ragged_a.npy" b="$out/vector_add_ragged_b.npy" --out c="$out/vector_add_ragged_interp.npy"

# The test kernels (loops, casts, integer semantics): PTX, inputs, and the interpreter's outputs, which
# the GPU must reproduce bit for bit.
for k in fold_columns axpy_f16 int_ops widen masked strided math loops; do
  "$tilec" build --codegen "$codegen" "tests/kernels/$k.tile" --target sm_90 --emit ptx -o "$out/$k.ptx"
done
PYTHONPATH=tools/py python3 - "$out" <<'PY'
import sys, numpy as np
out = sys.argv[1]
rng = np.random.default_rng(7)
np.save(f"{out}/fold_columns_x.npy", rng.standard_normal((37, 101)).astype(np.float32))
np.save(f"{out}/axpy_f16_x.npy", rng.uniform(-7e4, 7e4, 4099).astype(np.float32))
np.save(f"{out}/axpy_f16_y.npy", rng.uniform(-10, 10, 4099).astype(np.float32))
a = rng.integers(-2**31, 2**31, 1000, dtype=np.int64).astype(np.int32)
b = rng.integers(-300, 300, 1000).astype(np.int32)
a[0], b[0], a[1], b[1], b[2], b[3] = -2**31, -1, 7, 0, 0, -1
np.save(f"{out}/int_ops_a.npy", a)
np.save(f"{out}/int_ops_b.npy", b)
np.save(f"{out}/widen_w.npy", rng.integers(0, 256, 1000).astype(np.uint8))
np.save(f"{out}/masked_x.npy", rng.standard_normal(300).astype(np.float32))
np.save(f"{out}/strided_a.npy", rng.standard_normal((37, 64)).astype(np.float32))
np.save(f"{out}/math_x.npy", rng.uniform(-4, 4, 1000).astype(np.float32))
np.save(f"{out}/loops_x.npy", rng.standard_normal(1000).astype(np.float32))
np.save(f"{out}/loops_seed.npy", rng.integers(1, 1000, 16).astype(np.int64))
PY
o="$out"
"$tilec" run tests/kernels/fold_columns.tile --device cpu x="$o/fold_columns_x.npy" --out y="$o/fold_columns_interp_y.npy"
"$tilec" run tests/kernels/axpy_f16.tile --device cpu alpha=1.75 x="$o/axpy_f16_x.npy" y="$o/axpy_f16_y.npy" --out out="$o/axpy_f16_interp_out.npy"
"$tilec" run tests/kernels/int_ops.tile --device cpu a="$o/int_ops_a.npy" b="$o/int_ops_b.npy" \
  --out q="$o/int_ops_interp_q.npy" --out r="$o/int_ops_interp_r.npy" --out d="$o/int_ops_interp_d.npy" --out n="$o/int_ops_interp_n.npy"
"$tilec" run tests/kernels/widen.tile --device cpu w="$o/widen_w.npy" --out out="$o/widen_interp_out.npy"
"$tilec" run tests/kernels/masked.tile --device cpu x="$o/masked_x.npy" --out y="$o/masked_interp_y.npy" --out z="$o/masked_interp_z.npy"
"$tilec" run tests/kernels/strided.tile --device cpu a="$o/strided_a.npy" M=37 N=45 LDA=64 LDB=40 --out b="$o/strided_interp_b.npy"
"$tilec" run tests/kernels/math.tile --device cpu x="$o/math_x.npy" --out y="$o/math_interp_y.npy" --out h="$o/math_interp_h.npy"
"$tilec" run tests/kernels/loops.tile --device cpu seed="$o/loops_seed.npy" x="$o/loops_x.npy" --out y="$o/loops_interp_y.npy"
"$tilec" build --codegen "$codegen" tests/lang/threads.tile -o "$out/owners.ptx"
"$tilec" run tests/lang/threads.tile --device cpu --out ids="$o/owners_interp_ids.npy" --out n="$o/owners_interp_n.npy"

# The examples: PTX (some in two variants), ragged inputs, and the interpreter's outputs.
"$tilec" build --codegen "$codegen" examples/softmax.tile -o "$out/softmax.ptx"
"$tilec" build --codegen "$codegen" examples/layernorm.tile --kernel layernorm -o "$out/layernorm.ptx"
"$tilec" build --codegen "$codegen" examples/layernorm.tile --kernel rmsnorm -o "$out/rmsnorm.ptx"
"$tilec" build --codegen "$codegen" examples/matmul.tile -o "$out/matmul.ptx"
"$tilec" build --codegen "$codegen" examples/matmul.tile -D PIPELINED=true -o "$out/matmul_pipelined.ptx"
"$tilec" build --codegen "$codegen" examples/attention.tile -o "$out/attention.ptx"
"$tilec" build --codegen "$codegen" examples/attention.tile -D CAUSAL=true -o "$out/attention_causal.ptx"
PYTHONPATH=tools/py python3 - "$out" <<'PY'
import sys, numpy as np
out = sys.argv[1]
rng = np.random.default_rng(11)
np.save(f"{out}/ex_softmax_x.npy", rng.uniform(-8, 8, (37, 300)).astype(np.float32))
np.save(f"{out}/ex_norm_x.npy", rng.uniform(-3, 5, (5, 777)).astype(np.float32))
np.save(f"{out}/ex_norm_w.npy", rng.uniform(0.5, 1.5, 777).astype(np.float32))
np.save(f"{out}/ex_norm_b.npy", rng.uniform(-1, 1, 777).astype(np.float32))
np.save(f"{out}/ex_mm_a.npy", rng.uniform(-1, 1, (70, 100)).astype(np.float16))
np.save(f"{out}/ex_mm_b.npy", rng.uniform(-1, 1, (100, 65)).astype(np.float16))
for n, shape in (("q", (37, 64)), ("k", (45, 64)), ("v", (45, 64))):
    np.save(f"{out}/ex_att_{n}.npy", rng.uniform(-1, 1, shape).astype(np.float16))
PY
"$tilec" run examples/softmax.tile --device cpu x="$o/ex_softmax_x.npy" --out y="$o/ex_softmax_interp.npy"
"$tilec" run examples/layernorm.tile --kernel layernorm --device cpu x="$o/ex_norm_x.npy" w="$o/ex_norm_w.npy" b="$o/ex_norm_b.npy" eps=1e-5 --out y="$o/ex_layernorm_interp.npy"
"$tilec" run examples/layernorm.tile --kernel rmsnorm --device cpu x="$o/ex_norm_x.npy" w="$o/ex_norm_w.npy" eps=1e-5 --out y="$o/ex_rmsnorm_interp.npy"
"$tilec" run examples/matmul.tile --device cpu a="$o/ex_mm_a.npy" b="$o/ex_mm_b.npy" --out c="$o/ex_matmul_interp.npy"
"$tilec" run examples/attention.tile --device cpu q="$o/ex_att_q.npy" k="$o/ex_att_k.npy" v="$o/ex_att_v.npy" scale=0.125 --out o="$o/ex_attention_interp.npy"
"$tilec" run examples/attention.tile -D CAUSAL=true --device cpu q="$o/ex_att_q.npy" k="$o/ex_att_k.npy" v="$o/ex_att_v.npy" scale=0.125 --out o="$o/ex_attention_causal_interp.npy"

# Packed low-bit tensors: widen for several element types, and the A16Wx matmul.
PYTHONPATH=tools/py python3 - "$out" <<'PY'
import sys, numpy as np
out = sys.argv[1]
rng = np.random.default_rng(21)
np.save(f"{out}/lb_values.npy", rng.uniform(-40, 40, 1001))
np.save(f"{out}/lb_a.npy", rng.uniform(-1, 1, (19, 96)).astype(np.float16))
for t, lo, hi in (("u4", 0, 16), ("f6e3m2", -28, 28), ("i3", -4, 4)):
    np.save(f"{out}/lb_w_{t}.npy", rng.uniform(lo, hi, (96, 70)))
for g in (16, 32, 64):
    np.save(f"{out}/lb_s_{g}.npy", rng.uniform(0.01, 0.2, ((96 + g - 1) // g, 70)).astype(np.float16))
PY
for t in u3 i3 f6e3m2 f4e2m1 e8m0 f8e4m3 f8e5m2 bool; do
  "$tilec" pack --dtype "$t" "$o/lb_values.npy" "$o/lb_packed_$t.npy" 2>/dev/null
  "$tilec" build --codegen "$codegen" tests/kernels/widen.tile -D T="$t" -o "$out/widen_$t.ptx"
  "$tilec" run tests/kernels/widen.tile -D T="$t" --device cpu w="$o/lb_packed_$t.npy" N=1001 --out out="$o/widen_${t}_interp.npy"
done
for v in "u4 8 32" "u4 8 16" "f6e3m2 0 32" "i3 0 64"; do
  set -- $v
  "$tilec" pack --dtype "$1" "$o/lb_w_$1.npy" "$o/lb_wp_$1.npy" 2>/dev/null
  "$tilec" build --codegen "$codegen" examples/matmul_a16wx.tile -D WT="$1" -D ZERO="$2" -D G="$3" -o "$out/a16w_$1_$3.ptx"
  "$tilec" run examples/matmul_a16wx.tile -D WT="$1" -D ZERO="$2" -D G="$3" --device cpu a="$o/lb_a.npy" w="$o/lb_wp_$1.npy" s="$o/lb_s_$3.npy" \
    --out c="$o/a16w_$1_$3_interp.npy"
done

# The whole compiler, compressed, to run `tilec run --device cuda` itself where the GPU is.
if [ "${WITH_TILEC:-1}" = 1 ]; then
  strip -o "$out/tilec" "$CARGO_TARGET_DIR/release/tilec" && xz -T2 -3 -f "$out/tilec"
  mkdir -p "$out/examples" && cp examples/vector_add.tile "$out/examples/"
fi
du -sh "$out"

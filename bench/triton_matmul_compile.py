# The peer figure for issue 6's compile-speed target: Triton's ahead-of-time compile of an f16 matmul
# shaped like its tutorial kernel (64x64 tiles, 4 warps, 3 stages, masked loads, f32 accumulation), for
# sm_90, in a warm Python process. Triton always goes on to a cubin through ptxas; the time of ptxas on
# the same PTX is measured separately so that "to PTX" compares with `tilec build --emit ptx`.
# Run by scripts/bench-compile.sh --triton.
import os, statistics, subprocess, tempfile, time
import triton
import triton.language as tl
from triton.backends.compiler import GPUTarget
from triton.compiler import ASTSource
from triton.backends.nvidia.compiler import get_ptxas


@triton.jit
def matmul(a, b, c, M, N, K, sam, sak, sbk, sbn, scm, scn,
           BM: tl.constexpr, BN: tl.constexpr, BK: tl.constexpr):
    rm = tl.program_id(0) * BM + tl.arange(0, BM)
    rn = tl.program_id(1) * BN + tl.arange(0, BN)
    rk = tl.arange(0, BK)
    acc = tl.zeros((BM, BN), dtype=tl.float32)
    for k in range(0, tl.cdiv(K, BK)):
        kk = k * BK + rk
        x = tl.load(a + rm[:, None] * sam + kk[None, :] * sak, mask=(rm[:, None] < M) & (kk[None, :] < K), other=0.0)
        y = tl.load(b + kk[:, None] * sbk + rn[None, :] * sbn, mask=(kk[:, None] < K) & (rn[None, :] < N), other=0.0)
        acc = tl.dot(x, y, acc)
    mask = (rm[:, None] < M) & (rn[None, :] < N)
    tl.store(c + rm[:, None] * scm + rn[None, :] * scn, acc.to(tl.float16), mask=mask)


# The ptxas Triton itself runs for sm_90 (its PTX is newer than what tools/cuda's ptxas reads).
PTXAS = get_ptxas(90).path

SIGNATURE = {"a": "*fp16", "b": "*fp16", "c": "*fp16", **{n: "i32" for n in
             ["M", "N", "K", "sam", "sak", "sbk", "sbn", "scm", "scn"]},
             "BM": "constexpr", "BN": "constexpr", "BK": "constexpr"}


def compile_matmul(bk):
    src = ASTSource(fn=matmul, signature=SIGNATURE, constexprs={"BM": 64, "BN": 64, "BK": bk})
    return triton.compile(src, target=GPUTarget("cuda", 90, 32), options={"num_warps": 4, "num_stages": 3})


t0 = time.perf_counter()
compile_matmul(32)
first = time.perf_counter() - t0
# Each warm compile uses a BK not compiled before in this process, and TRITON_CACHE_DIR is fresh, so
# neither the in-memory nor the on-disk cache answers.
warm, ptxas = [], []
for bk in [16, 64, 128, 256]:
    t0 = time.perf_counter()
    kernel = compile_matmul(bk)
    warm.append(time.perf_counter() - t0)
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "k.ptx")
        with open(path, "w") as f:
            f.write(kernel.asm["ptx"])
        t0 = time.perf_counter()
        subprocess.run([PTXAS, "-arch=sm_90a", path, "-o", os.path.join(d, "k.cubin")], check=True)
        ptxas.append(time.perf_counter() - t0)
ms = lambda xs: statistics.median(xs) * 1e3
print(f"triton {triton.__version__} matmul (sm_90): first compile {first * 1e3:.0f} ms; warm, to cubin: median "
      f"{ms(warm):.0f} ms; ptxas on its PTX: median {ms(ptxas):.0f} ms; so to PTX about {ms(warm) - ms(ptxas):.0f} ms")

"""GPU check: tilec kernels through the runtime-only `tile-run`, against references and torch.

`python3 gpu_check.py` checks the kernels built by the default code generator (the thread-level
program where a kernel lowers); `python3 gpu_check.py --codegen direct` those of out/gpu/direct,
built from the tile IR directly. Inputs and the interpreter's results are shared."""
import os, subprocess, sys
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
CODEGEN = sys.argv[2] if len(sys.argv) == 3 and sys.argv[1] == "--codegen" else "default"
if len(sys.argv) > 1 and CODEGEN not in ("default", "direct"):
    sys.exit("usage: gpu_check.py [--codegen direct]")
KERNELS = f"{HERE}/direct" if CODEGEN == "direct" else HERE
failures = []
rows = []


def tile_run(kernel, args, outs, time_reps=0):
    cmd = [f"{HERE}/tile-run", f"{KERNELS}/{kernel}.json"] + args
    for name, path in outs:
        cmd += ["--out", f"{name}={path}"]
    if time_reps:
        cmd += ["--time", str(time_reps)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"tile-run failed: {r.stderr.strip()}")
    return r.stdout + r.stderr


def median_ms(text):
    for line in text.splitlines():
        if "median" in line:
            return float(line.split("median")[1].split("ms")[0].strip(" :="))
    raise RuntimeError(f"no timing in: {text}")


def check(name, got, ref, tol):
    err = np.linalg.norm(got.astype(np.float64) - ref) / max(np.linalg.norm(ref), 1e-30)
    ok = np.isfinite(got).all() and err <= tol
    if not ok:
        failures.append(f"{name}: relative error {err:.3e} > {tol}")
    return err


def vector_add():
    p = lambda f: f"{HERE}/{f}"
    a, b = np.load(p("vector_add_ragged_a.npy")), np.load(p("vector_add_ragged_b.npy"))
    tile_run("vector_add", [f"a={p('vector_add_ragged_a.npy')}", f"b={p('vector_add_ragged_b.npy')}"], [("c", p("c_ragged.npy"))])
    c = np.load(p("c_ragged.npy"))
    interp = np.load(p("vector_add_ragged_interp.npy"))
    if not np.array_equal(c, interp):
        failures.append("vector_add ragged: GPU result differs from the interpreter's")
    err = check("vector_add ragged", c, a.astype(np.float64) + b, 1e-7)
    rows.append(("vector_add", f"N={a.size}", "exact vs interpreter" if np.array_equal(c, interp) else "MISMATCH", f"{err:.1e}", "", "", ""))

    scratch = os.environ.get("TMPDIR", "/tmp")
    rng = np.random.default_rng(7)
    n = (1 << 26) + 7
    a, b = f"{scratch}/vector_add_large_a.npy", f"{scratch}/vector_add_large_b.npy"
    np.save(a, rng.standard_normal(n).astype(np.float32))
    np.save(b, rng.standard_normal(n).astype(np.float32))
    out = tile_run("vector_add", [f"a={a}", f"b={b}"], [("c", f"{scratch}/c_large.npy")], time_reps=200)
    ms = median_ms(out)
    A, B = np.load(a), np.load(b)
    err = check("vector_add large", np.load(f"{scratch}/c_large.npy"), A.astype(np.float64) + B, 1e-7)
    peer = ""
    try:
        import torch
        ta, tb = torch.from_numpy(A).cuda(), torch.from_numpy(B).cuda()
        tc = torch.empty_like(ta)
        for _ in range(10):
            torch.add(ta, tb, out=tc)
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        times = []
        for _ in range(200):
            start.record(); torch.add(ta, tb, out=tc); end.record(); end.synchronize()
            times.append(start.elapsed_time(end))
        peer = float(np.median(times))
    except Exception as e:  # torch missing: say so in the table
        peer = f"n/a ({type(e).__name__})"
    gbs = 3 * A.nbytes / (ms * 1e-3) / 1e9
    rows.append(("vector_add", f"N={A.size}", "ok" if not failures else "see failures", f"{err:.1e}", f"{ms:.4f}", f"{peer:.4f}" if isinstance(peer, float) else peer, f"{gbs:.0f}"))


def interp_match():
    """The test kernels on the GPU against the interpreter's outputs, bit for bit."""
    p = lambda f: f"{HERE}/{f}"
    cases = [
        ("fold_columns", [f"x={p('fold_columns_x.npy')}"], ["y"]),
        ("axpy_f16", ["alpha=1.75", f"x={p('axpy_f16_x.npy')}", f"y={p('axpy_f16_y.npy')}"], ["out"]),
        ("int_ops", [f"a={p('int_ops_a.npy')}", f"b={p('int_ops_b.npy')}"], ["q", "r", "d", "n"]),
        ("widen", [f"w={p('widen_w.npy')}"], ["out"]),
        ("masked", [f"x={p('masked_x.npy')}"], ["y", "z"]),
        ("strided", [f"a={p('strided_a.npy')}", "M=37", "N=45", "LDA=64", "LDB=40"], ["b"]),
        ("loops", [f"seed={p('loops_seed.npy')}", f"x={p('loops_x.npy')}"], ["y"]),
        ("owners", [], ["ids", "n"]),
    ]
    for kernel, args, outs in cases:
        tile_run(kernel, args, [(o, p(f"gpu_{kernel}_{o}.npy")) for o in outs])
        for o in outs:
            got, want = np.load(p(f"gpu_{kernel}_{o}.npy")), np.load(p(f"{kernel}_interp_{o}.npy"))
            same = got.shape == want.shape and np.array_equal(got.view(np.uint8), want.view(np.uint8))
            diff = int(np.count_nonzero(got.view(np.uint8) != want.view(np.uint8))) if got.shape == want.shape else -1
            if not same:
                failures.append(f"{kernel}.{o}: {diff} bytes differ from the interpreter")
            rows.append((kernel, f"{o}: {want.dtype}{list(want.shape)}", "bit-exact vs interpreter" if same else f"DIFFERS ({diff} bytes)", "", "", "", ""))


def interp_close():
    """Kernels with transcendental functions: libdevice is within a few ulp of the interpreter's
    correctly rounded results, so they are compared with a tolerance instead of bit for bit."""
    p = lambda f: f"{HERE}/{f}"
    tile_run("math", [f"x={p('math_x.npy')}"], [("y", p("gpu_math_y.npy")), ("h", p("gpu_math_h.npy"))])
    for o, tol in (("y", 4e-7 * 4), ("h", 2.0 ** -10)):
        got, want = np.load(p(f"gpu_math_{o}.npy")).astype(np.float64), np.load(p(f"math_interp_{o}.npy")).astype(np.float64)
        err = float(np.max(np.abs(got - want) / np.maximum(np.abs(want), 1e-30)))
        if not (np.isfinite(got).all() and err <= tol):
            failures.append(f"math.{o}: max relative difference {err:.2e} > {tol:.1e}")
        rows.append(("math", f"{o}: {want.shape}", f"max rel. diff vs interpreter {err:.1e}", "", "", "", ""))


def examples():
    """The examples on the GPU against the interpreter (tolerances: sums run in another order), and
    matmul and softmax timed beside torch at larger sizes."""
    p = lambda f: f"{HERE}/{f}"
    norm = [f"x={p('ex_norm_x.npy')}", f"w={p('ex_norm_w.npy')}", "eps=1e-5"]
    att = [f"q={p('ex_att_q.npy')}", f"k={p('ex_att_k.npy')}", f"v={p('ex_att_v.npy')}", "scale=0.125"]
    mm = [f"a={p('ex_mm_a.npy')}", f"b={p('ex_mm_b.npy')}"]
    cases = [
        ("softmax", [f"x={p('ex_softmax_x.npy')}"], "y", "ex_softmax_interp", 1e-5),
        ("layernorm", norm + [f"b={p('ex_norm_b.npy')}"], "y", "ex_layernorm_interp", 1e-4),
        ("rmsnorm", norm, "y", "ex_rmsnorm_interp", 1e-4),
        ("matmul", mm, "c", "ex_matmul_interp", 2e-3),
        ("matmul_pipelined", mm, "c", "ex_matmul_interp", 2e-3),
        ("attention", att, "o", "ex_attention_interp", 5e-3),
        ("attention_causal", att, "o", "ex_attention_causal_interp", 5e-3),
    ]
    for name, args, out, ref, tol in cases:
        tile_run(name, args, [(out, p(f"gpu_ex_{name}.npy"))])
        got, want = np.load(p(f"gpu_ex_{name}.npy")).astype(np.float64), np.load(p(f"{ref}.npy")).astype(np.float64)
        err = float(np.max(np.abs(got - want)) / max(np.max(np.abs(want)), 1e-30))
        if not (np.isfinite(got).all() and err <= tol):
            failures.append(f"{name}: max difference {err:.2e} (relative to the largest value) > {tol:.0e}")
        rows.append((name, f"{out}: {want.dtype}{list(want.shape)}", f"max diff vs interpreter {err:.1e}", "", "", "", ""))
    try:
        import torch
    except Exception:
        return
    scratch = os.environ.get("TMPDIR", "/tmp")
    rng = np.random.default_rng(3)
    def torch_ms(fn, reps=50):
        for _ in range(5):
            fn()
        torch.cuda.synchronize()
        s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        ts = []
        for _ in range(reps):
            s.record(); fn(); e.record(); e.synchronize(); ts.append(s.elapsed_time(e))
        return float(np.median(ts))
    A = rng.uniform(-1, 1, (1024, 1024)).astype(np.float16); B = rng.uniform(-1, 1, (1024, 1024)).astype(np.float16)
    np.save(f"{scratch}/mm_a.npy", A); np.save(f"{scratch}/mm_b.npy", B)
    for name in ("matmul", "matmul_pipelined"):
        ms = median_ms(tile_run(name, [f"a={scratch}/mm_a.npy", f"b={scratch}/mm_b.npy"], [("c", f"{scratch}/mm_c.npy")], time_reps=20))
        c = np.load(f"{scratch}/mm_c.npy").astype(np.float64)
        ref = A.astype(np.float64) @ B.astype(np.float64)
        err = float(np.max(np.abs(c - ref)) / np.max(np.abs(ref)))
        ta, tb = torch.from_numpy(A).cuda(), torch.from_numpy(B).cuda()
        peer = torch_ms(lambda: ta @ tb)
        rows.append((name, "1024^3 f16", f"max diff vs f64 {err:.1e}", "", f"{ms:.3f}", f"{peer:.4f}", f"{2 * 1024**3 / (ms * 1e-3) / 1e12:.2f} TFLOP/s"))
        if err > 5e-3:
            failures.append(f"{name} 1024^3: max difference {err:.2e} vs f64")
    X = rng.uniform(-8, 8, (4096, 1024)).astype(np.float32)
    np.save(f"{scratch}/sm_x.npy", X)
    ms = median_ms(tile_run("softmax", [f"x={scratch}/sm_x.npy"], [("y", f"{scratch}/sm_y.npy")], time_reps=50))
    tx = torch.from_numpy(X).cuda()
    peer = torch_ms(lambda: torch.softmax(tx, dim=1))
    rows.append(("softmax", "4096x1024 f32", "", "", f"{ms:.4f}", f"{peer:.4f}", f"{2 * X.nbytes / (ms * 1e-3) / 1e9:.0f} GB/s"))


def low_bit():
    """Packed low-bit tensors on the GPU: widen (bit-exact) and the A16Wx matmul (tolerance)."""
    p = lambda f: f"{HERE}/{f}"
    for t in ("u3", "i3", "f6e3m2", "f4e2m1", "e8m0", "f8e4m3", "f8e5m2", "bool"):
        tile_run(f"widen_{t}", [f"w={p(f'lb_packed_{t}.npy')}", "N=1001"], [("out", p(f"gpu_widen_{t}.npy"))])
        got, want = np.load(p(f"gpu_widen_{t}.npy")), np.load(p(f"widen_{t}_interp.npy"))
        same = np.array_equal(got.view(np.uint8), want.view(np.uint8))
        if not same:
            failures.append(f"widen {t}: differs from the interpreter")
        rows.append((f"widen {t}", "packed [1001] -> f32", "bit-exact vs interpreter" if same else "DIFFERS", "", "", "", ""))
    for t, g in (("u4", 32), ("u4", 16), ("f6e3m2", 32), ("i3", 64)):
        tile_run(f"a16w_{t}_{g}", [f"a={p('lb_a.npy')}", f"w={p(f'lb_wp_{t}.npy')}", f"s={p(f'lb_s_{g}.npy')}"], [("c", p(f"gpu_a16w_{t}_{g}.npy"))])
        got, want = np.load(p(f"gpu_a16w_{t}_{g}.npy")).astype(np.float64), np.load(p(f"a16w_{t}_{g}_interp.npy")).astype(np.float64)
        err = float(np.max(np.abs(got - want)) / max(np.max(np.abs(want)), 1e-30))
        if not (np.isfinite(got).all() and err <= 2e-3):
            failures.append(f"matmul_a16wx {t} G={g}: max difference {err:.2e}")
        rows.append((f"matmul_a16wx {t} G={g}", "19 x 70 x 96", f"max diff vs interpreter {err:.1e}", "", "", "", ""))


def tilec_cuda():
    """`tilec run --device cuda` and `--device auto` (the compiler itself on the GPU machine)."""
    exe = f"{HERE}/tilec"
    if not os.path.exists(exe + ".xz"):
        return
    subprocess.run(["xz", "-d", "-k", "-f", exe + ".xz"], check=True)
    os.chmod(exe, 0o755)
    p = lambda f: f"{HERE}/{f}"
    for device in ["cuda", "auto"]:
        out = p(f"c_tilec_{device}.npy")
        r = subprocess.run([exe, "run", p("examples/vector_add.tile"), "--device", device, f"a={p('vector_add_ragged_a.npy')}", f"b={p('vector_add_ragged_b.npy')}", "--out", f"c={out}"], capture_output=True, text=True)
        ok = r.returncode == 0 and "cuda:0" in r.stderr and np.array_equal(np.load(out), np.load(p("vector_add_ragged_interp.npy")))
        if not ok:
            failures.append(f"tilec run --device {device}: rc={r.returncode} {r.stderr.strip()}")
        rows.append(("tilec run", f"--device {device}", "ran on cuda:0, bit-exact" if ok else "FAILED", "", "", "", ""))


vector_add()
interp_match()
interp_close()
examples()
low_bit()
if CODEGEN == "default":
    tilec_cuda()
print(f"\n### code generator: {CODEGEN}")
print("| kernel | size | check | rel. error | tilec ms | torch ms | tilec GB/s |")
print("|---|---|---|---|---|---|---|")
for r in rows:
    print("| " + " | ".join(r) + " |")
if failures:
    print("\nFAILURES:\n" + "\n".join(failures))
    sys.exit(1)
print("\nall GPU checks passed")

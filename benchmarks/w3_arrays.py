"""W3: the seed neuron over 1,000,000 points (five float64 arrays) — value and 5 partials.

Input: five random arrays.  Output: one table: exprgrad's emitted numpy, its array API code on
numpy arrays, PyTorch tensors and JAX arrays (eager and jit; when installed), emitted C (through
ctypes, looping in C) and `Function.compile_c()` (1 and 2 OpenMP threads) against hand-written
numpy with in-place temporaries and a hand-written C loop (benchmarks/c/neuron_ref.c), both C
files built with the same `cc -O2` at run time, and the peers (sympy lambdify, jax jit, torch
autograd, numexpr, CasADi map).  Every row also reports its median CPU time per call (all
threads of the process), which load from other processes disturbs less than wall time.

W3-dask (full runs, with the ``dask`` extra): examples/dask_gradients.py in a subprocess — the
mean loss and gradient of a logistic regression over 10^8 rows generated on a LocalCluster of
two worker processes — beside the same program on 10^7 rows in memory with numpy: wall and CPU
time, rows per CPU-second, and the peak memory of every process.
"""
from __future__ import annotations

import ctypes
import shutil
import subprocess
import tempfile
from pathlib import Path

import peers
from harness import Bench, Settings, Table, Target
from workloads import codegen

HERE = Path(__file__).resolve().parent
TEXT = "n = x1*w1 + x2*w2 + b; o = tanh(n)"
ORDER = ("b", "w1", "w2", "x1", "x2")
# -fno-semantic-interposition lets cc inline a library's own exported functions (clang's
# default): without it the driver reaches the emitted grad_f through the PLT.
CFLAGS = ["-O2", "-shared", "-fPIC", "-fno-semantic-interposition"]


def arrays(n: int):
    import numpy as np
    rng = np.random.default_rng(0)
    return tuple(rng.uniform(-2.0, 2.0, n) for _ in ORDER)


def ref_numpy(b, w1, w2, x1, x2):
    """Hand-written numpy: in-place temporaries, one fresh array per output."""
    import numpy as np
    o = np.multiply(x1, w1)
    t = np.multiply(x2, w2)
    o += t
    o += b
    np.tanh(o, out=o)
    dn = np.multiply(o, o, out=t)
    np.subtract(1.0, dn, out=dn)
    return o, (dn, dn * x1, dn * x2, dn * w1, dn * w2)


def build_c(sources: list[str], tmp: Path, name: str):
    """Compile C source text into a shared library with `cc` and return it through ctypes."""
    src = tmp / f"{name}.c"
    src.write_text("\n".join(sources), encoding="utf-8")
    lib = tmp / f"lib{name}.so"
    subprocess.run(["cc", *CFLAGS, "-o", str(lib), str(src), "-lm"], check=True,
                   capture_output=True, text=True)
    return ctypes.CDLL(str(lib))


def c_caller(lib, n: int):
    import numpy as np
    fn = lib.neuron_grad
    fn.restype = None
    fn.argtypes = [ctypes.c_long] + [ctypes.c_void_p] * 11

    def call(*xs):
        outs = [np.empty(n) for _ in range(6)]
        fn(n, *(x.ctypes.data for x in xs), *(o.ctypes.data for o in outs))
        return outs[0], tuple(outs[1:])
    return call


def run(settings: Settings) -> list[Table]:
    import exprgrad as eg
    n = 100_000 if settings.quick else 1_000_000
    xs = arrays(n)
    table = Table("W3", f"seed neuron over {n:,} points: value + 5 partials per call")
    bench = Bench(table, settings, rel=1e-12, abs_=1e-13)
    bench.reference("hand-written numpy, in-place temporaries", lambda: ref_numpy(*xs))

    cg = codegen()
    f = eg.compile(TEXT)
    if cg is None:
        bench.missing("emitted numpy grad_f", "exprgrad", "exprgrad.codegen not built")
    else:
        ns: dict = {}
        exec(compile(cg.emit(f.ir, "numpy", name="f"), "<w3 numpy>", "exec"), ns)
        grad_np = ns["grad_f"]
        bench.add("emitted numpy grad_f(*arrays)", lambda: grad_np(*xs))
        _array_code(bench, cg.load_namespace(cg.emit(f.ir, "array", name="f"))["grad_f"], xs)

    tmp = Path(tempfile.mkdtemp(prefix="exprgrad-bench-"))
    try:
        if shutil.which("cc") is None:
            bench.missing("hand-written C loop", "reference", "no C compiler (cc)")
        else:
            ref_lib = build_c([(HERE / "c" / "neuron_ref.c").read_text()], tmp, "ref")
            ref_c = c_caller(ref_lib, n)
            bench.add("hand-written C loop (cc -O2, ctypes)", lambda: ref_c(*xs), "reference")
            if cg is not None:
                try:
                    lib = build_c([cg.emit(f.ir, "c", name="f"),
                                   (HERE / "c" / "loop.c").read_text()], tmp, "emitted")
                    emitted_c = c_caller(lib, n)
                    bench.add("emitted C grad_f, looped in C (cc -O2, ctypes)",
                              lambda: emitted_c(*xs))
                except Exception as exc:        # noqa: BLE001
                    bench.failed("emitted C grad_f", "exprgrad", exc)
                _compile_c(bench, f, xs)
        _sympy(bench, xs)
        _numexpr(bench, xs)
        _jax(bench, xs)
        _torch(bench, xs)
        if not settings.quick:
            _casadi(bench, xs, n)
        else:
            bench.missing("Function.map", "casadi", "skipped in --quick")
        bench.run(samples=5 if settings.quick else 11)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    r = table.ratio
    hand_c = "hand-written C loop (cc -O2, ctypes)"
    table.targets = [
        Target("emitted numpy / hand-written numpy", r("emitted numpy grad_f(*arrays)"),
               "<= 1.1"),
        Target("array API code on numpy / hand-written numpy", r(ARRAY_NUMPY), "<= 1.1"),
        Target("emitted C / hand-written C loop",
               r("emitted C grad_f, looped in C (cc -O2, ctypes)", hand_c), "<= 1.2"),
        Target("f.compile_c() 1 thread / hand-written C loop", r(C_ONE, hand_c), "<= 1.2"),
    ]
    table.columns = ["CPU"]
    table.notes.append("The C rows include allocating the six output arrays with numpy, as the "
                       "numpy rows do. Both C files are compiled with `cc -O2 -fno-semantic-interposition` at run time.")
    table.notes.append("CPU: median CPU time per call of the process (all its threads), sampled "
                       "with the wall times. The PyTorch rows run the array API code with one "
                       "intra-op thread (torch.set_num_threads(1) during the call): two threads "
                       "on a shared 2-core machine spin and lose 3-4×. compile_c 2 threads is "
                       "OpenMP; it only helps where a second core is free.")
    tables = [table]
    if not settings.quick:
        tables.append(dask_table())
    return tables


ARRAY_NUMPY = "array API grad_f on numpy arrays"
C_ONE = "f.compile_c() callable, 1 thread"


def _array_code(bench: Bench, grad_a, xs) -> None:
    """The emitted array API code on numpy, PyTorch and JAX arrays (peers' libraries)."""
    import numpy as np
    bench.add(ARRAY_NUMPY, lambda: grad_a(*xs))
    torch = peers.torch()
    compat = peers.load("array_api_compat")
    if torch is None or compat is None:
        bench.missing("array API grad_f on torch tensors (1 thread)", "exprgrad",
                      "torch not installed" if torch is None else "array-api-compat not installed")
    else:
        txs = [torch.from_numpy(x) for x in xs]

        def on_torch():
            threads = torch.get_num_threads()
            torch.set_num_threads(1)
            try:
                value, grads = grad_a(*txs)
            finally:
                torch.set_num_threads(threads)
            return value.numpy(), tuple(g.numpy() for g in grads)
        bench.add("array API grad_f on torch tensors (1 thread)", on_torch)
    loaded = peers.jax()
    if loaded is None:
        bench.missing("array API grad_f on JAX arrays (eager, jit)", "exprgrad",
                      "jax not installed")
        return
    jax, jnp = loaded
    jxs = [jnp.asarray(x) for x in xs]
    jitted = jax.jit(grad_a)

    def on_jax(fn):
        def call():
            value, grads = fn(*jxs)
            value.block_until_ready()
            return np.asarray(value), tuple(np.asarray(g) for g in grads)
        return call
    bench.add("array API grad_f on JAX arrays, eager", on_jax(grad_a))
    bench.add("jax.jit(array API grad_f) on JAX arrays", on_jax(jitted))


def _compile_c(bench: Bench, f, xs) -> None:
    """`Function.compile_c()`: the library's own C build and loop, 1 and 2 OpenMP threads."""
    for threads, name in ((1, C_ONE), (2, "f.compile_c(threads=2) callable, OpenMP")):
        try:
            c = f.compile_c(threads=threads)
        except Exception as exc:                # noqa: BLE001
            bench.failed(name, "exprgrad", exc)
            continue

        def call(c=c):
            value, grads = c(*xs)
            return value, tuple(grads[v] for v in ORDER)
        bench.add(name, call)


def dask_table() -> Table:
    """W3-dask: examples/dask_gradients.py at 10^8 rows on a LocalCluster beside numpy at 10^7
    rows in memory, each in a subprocess of its own (so peak memory is its own)."""
    import json
    import os
    import sys
    from harness import Row
    table = Table("W3-dask", "logistic regression mean loss + gradient: 10^8 rows on a Dask "
                  "LocalCluster (2 worker processes × 1 thread) beside numpy in memory at 10^7",
                  plain=True, columns=["rows", "wall", "CPU", "rows per CPU-second",
                                       "rows per second", "peak memory"])
    example = HERE.parent / "examples" / "dask_gradients.py"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        filter(None, [str(HERE.parent), os.environ.get("PYTHONPATH")]))}
    found = {}
    for name, args in (("Dask LocalCluster, chunks of 2,000,000", ["--rows", "1e8"]),
                       ("numpy in memory", ["--rows", "1e7", "--numpy"])):
        row = Row(name)
        table.rows.append(row)
        if "--numpy" not in args and peers.load("dask.distributed") is None:
            row.status, row.note = "missing", "dask not installed (pip install '.[dask]')"
            continue
        done = subprocess.run([sys.executable, str(example), *args, "--json"], env=env,
                              capture_output=True, text=True, timeout=3600)
        if done.returncode != 0:
            row.status, row.note = "failed", done.stderr.strip().splitlines()[-1][:200]
            continue
        r = found[name] = json.loads(done.stdout.strip().splitlines()[-1])
        row.extra.update({
            "rows": f"{r['rows']:,}", "wall": f"{r['wall']:.1f} s", "CPU": f"{r['cpu']:.1f} s",
            "rows per CPU-second": f"{r['rows'] / r['cpu'] / 1e6:.2f} M",
            "rows per second": f"{r['rows'] / r['wall'] / 1e6:.2f} M",
            "peak memory": "; ".join(f"{k} {v:.0f} MB" for k, v in r["peak_mb"].items()),
            "result": r})
    if len(found) == 2:
        dask_r, numpy_r = found.values()
        per_cpu = (numpy_r["rows"] / numpy_r["cpu"]) / (dask_r["rows"] / dask_r["cpu"])
        per_core = (numpy_r["rows"] / numpy_r["wall"]) / (
            dask_r["rows"] / dask_r["wall"] / dask_r["workers"])
        table.targets = [
            Target("numpy rows per CPU-second / Dask's", per_cpu, "<= 1.5"),
            Target("numpy rows per second / Dask's per worker (wall)", per_core, "<= 1.5",
                   note="judged by CPU time where the machine is shared"),
            Target("largest peak memory of any process (MB)", max(
                dask_r["peak_mb"].values()), "<= 2000", unit=""),
        ]
    table.notes.append("The data are generated on the workers chunk by chunk (Dask) or in memory "
                       "(numpy, which needs ~0.5 GB per 10^7 rows: 5 columns, 8 bytes, plus "
                       "temporaries). CPU: all processes of the run (workers, client and "
                       "scheduler). Peak memory: ru_maxrss of each process.")
    return table


def _sympy(bench: Bench, xs) -> None:
    sp = peers.sympy()
    if sp is None:
        bench.missing("lambdify", "sympy")
        return
    syms = sp.symbols(ORDER)
    b, w1, w2, x1, x2 = syms
    o = sp.tanh(x1 * w1 + x2 * w2 + b)
    fn = sp.lambdify(syms, [o, tuple(sp.diff(o, s) for s in syms)], modules="numpy", cse=True)
    bench.add("lambdify(diff, cse=True), numpy", lambda: fn(*xs), "sympy")


def _numexpr(bench: Bench, xs) -> None:
    ne = peers.numexpr()
    if ne is None:
        bench.missing("evaluate", "numexpr")
        return
    env = dict(zip(ORDER, xs))

    def call():
        o = ne.evaluate("tanh(x1 * w1 + x2 * w2 + b)", local_dict=env)
        dn = ne.evaluate("1.0 - o * o", local_dict={"o": o})
        return o, (dn, *(ne.evaluate(f"dn * {v}", local_dict={"dn": dn, v: env[v]})
                         for v in ("x1", "x2", "w1", "w2")))
    bench.add("evaluate, hand-written derivatives", call, "numexpr")


def _jax(bench: Bench, xs) -> None:
    loaded = peers.jax()
    if loaded is None:
        bench.missing("jit(vmap(value_and_grad))", "jax")
        return
    jax, jnp = loaded
    import numpy as np

    def neuron(b, w1, w2, x1, x2):
        return jnp.tanh(x1 * w1 + x2 * w2 + b)
    fn = jax.jit(jax.vmap(jax.value_and_grad(neuron, argnums=(0, 1, 2, 3, 4))))
    dev = [jnp.asarray(x) for x in xs]

    def call():
        value, grads = fn(*dev)
        value.block_until_ready()
        return np.asarray(value), tuple(np.asarray(g) for g in grads)
    bench.add("jit(vmap(value_and_grad))", call, "jax")


def _torch(bench: Bench, xs) -> None:
    torch = peers.torch()
    if torch is None:
        bench.missing("autograd", "torch")
        return

    def call():
        b, w1, w2, x1, x2 = (torch.from_numpy(x).requires_grad_() for x in xs)
        o = torch.tanh(x1 * w1 + x2 * w2 + b)
        o.backward(torch.ones_like(o))
        return o.detach().numpy(), tuple(v.grad.numpy() for v in (b, w1, w2, x1, x2))
    bench.add("autograd, backward(ones)", call, "torch")


def _casadi(bench: Bench, xs, n: int) -> None:
    ca = peers.casadi()
    if ca is None:
        bench.missing("Function.map", "casadi")
        return
    import numpy as np
    syms = [ca.SX.sym(k) for k in ORDER]
    b, w1, w2, x1, x2 = syms
    o = ca.tanh(x1 * w1 + x2 * w2 + b)
    fn = ca.Function("f", syms, [o, *[ca.gradient(o, s) for s in syms]]).map(n, "serial")
    rows = [x.reshape(1, -1) for x in xs]

    def call():
        out = fn(*rows)
        out = [np.asarray(v).ravel() for v in out]
        return out[0], tuple(out[1:])
    bench.add("Function.map(n, serial)", call, "casadi")

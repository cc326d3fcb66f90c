"""W3: the seed neuron over 1,000,000 points (five float64 arrays) — value and 5 partials.

Input: five random arrays.  Output: one table: exprgrad's emitted numpy and emitted C (through
ctypes, looping in C) against hand-written numpy with in-place temporaries and a hand-written C
loop (benchmarks/c/neuron_ref.c), both C files built with the same `cc -O2` at run time, and the
peers (sympy lambdify, jax jit, torch autograd, numexpr, CasADi map).
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
    table.targets = [
        Target("emitted numpy / hand-written numpy", r("emitted numpy grad_f(*arrays)"),
               "<= 1.1"),
        Target("emitted C / hand-written C loop",
               r("emitted C grad_f, looped in C (cc -O2, ctypes)",
                 "hand-written C loop (cc -O2, ctypes)"), "<= 1.2"),
    ]
    table.notes.append("The C rows include allocating the six output arrays with numpy, as the "
                       "numpy rows do. Both C files are compiled with `cc -O2 -fno-semantic-interposition` at run time.")
    return [table]


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

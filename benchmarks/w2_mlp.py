"""W2: micrograd's MLP(2, [16, 16, 1]) with fixed weights — loss (out - 1)^2 and its gradient
with respect to all 337 parameters.

Input: the exprgrad program from `mlp_text.py`.  Output: two tables — the time from text to a
callable gradient (exprgrad's stages, sympy's diff+cse+lambdify, CasADi's and JAX's builds), and
the per-call time of emitted python and numpy and of the `Value` engine's forward+backward,
against an unrolled straight-line python reference and a hand-written numpy reverse mode.
"""
from __future__ import annotations

import time

import mlp_text
import peers
from harness import Bench, Row, Settings, Table, Target, fill_once, fmt_time
from workloads import codegen

POINT = mlp_text.parameters()
NAMES = mlp_text.variables()
ARGS = tuple(POINT[k] for k in NAMES)
TEXT = mlp_text.exprgrad_text()


def load_reference():
    ns: dict = {}
    exec(compile(mlp_text.reference_python(), "<w2 unrolled reference>", "exec"), ns)
    return ns["mlp_grad"]


def numpy_reference():
    """Hand-written numpy reverse mode over the weight matrices (returns the same flat order:
    b1, b2, b3, W1, W2, W3 — the sorted parameter names)."""
    import numpy as np
    biases, weights = mlp_text.names()
    Ws = [np.array([[POINT[w] for w in row] for row in layer]) for layer in weights]
    bs = [np.array([POINT[b] for b in layer]) for layer in biases]
    x = np.array(mlp_text.X)
    W1, W2, W3 = Ws
    b1, b2, b3 = bs

    def grad():
        z1 = W1 @ x + b1
        h1 = np.maximum(z1, 0.0)
        z2 = W2 @ h1 + b2
        h2 = np.maximum(z2, 0.0)
        out = W3 @ h2 + b3
        e = out[0] - 1.0
        d_out = 2.0 * e
        d_z2 = (d_out * W3[0]) * (z2 > 0.0)
        d_z1 = (W2.T @ d_z2) * (z1 > 0.0)
        return e * e, (d_z1, d_z2, d_out, np.outer(d_z1, x).ravel(),
                       np.outer(d_z2, h1).ravel(), d_out * h2)
    return grad


def flat(result):
    import numpy as np
    loss, parts = result
    return float(loss), tuple(np.concatenate([np.atleast_1d(p) for p in parts]).tolist())


def value_path(Value):
    """micrograd's training step without the update: parameters are persistent leaves, the
    forward builds the graph, gradients are zeroed, backward runs (same code for each class)."""
    layers, params = mlp_text.model(Value, POINT)
    leaves = [params[k] for k in NAMES]

    def run():
        loss = mlp_text.forward(layers)
        for p in leaves:
            p.grad = 0.0
        loss.backward()
        return loss.data, tuple(p.grad for p in leaves)
    return run


def run(settings: Settings) -> list[Table]:
    build = build_table(settings)
    calls = call_table(settings)
    return [build, calls]


# ---- text → callable gradient ------------------------------------------------------------------

def build_table(settings: Settings) -> Table:
    import exprgrad as eg
    from exprgrad.lower import lower
    from exprgrad.parse import parse
    table = Table("W2a", "MLP(2,[16,16,1]) text → callable gradient (337 partials), one-off",
                  unit="seconds per build", columns=["seconds", "note"], plain=True)
    cg = codegen()
    repeats = 3 if settings.quick else 7

    def stages():
        t = [time.perf_counter()]
        program = parse(TEXT); t.append(time.perf_counter())
        graph = lower(program, TEXT); t.append(time.perf_counter())
        f = eg.Function(TEXT, graph)
        source = cg.emit(f.ir, "python", name="f"); t.append(time.perf_counter())
        code = compile(source, "<w2>", "exec"); t.append(time.perf_counter())
        _, grad_f = cg.load_python(source, "f"); t.append(time.perf_counter())
        return [b - a for a, b in zip(t, t[1:])], grad_f, source

    if cg is None:
        table.rows.append(Row("exprgrad text → grad_f", status="missing",
                              note="exprgrad.codegen not built"))
        return table
    runs = [stages() for _ in range(repeats)]
    import statistics
    parts = [statistics.median(r[0][i] for r in runs) for i in range(5)]
    grad_f = runs[-1][1]
    total = parts[0] + parts[1] + parts[2] + parts[4]
    ref = load_reference()
    from harness import agree
    gap = agree(grad_f(*ARGS), ref(*ARGS))
    rows = [("exprgrad: text → callable grad_f (total)", total,
             "✓ matches reference" if not gap else f"WRONG: {gap}"),
            ("  parse", parts[0], ""), ("  lower", parts[1], ""),
            ("  gradient pass + emit python", parts[2], f"{runs[-1][2].count(chr(10))} lines"),
            ("  load (Python's compile + exec)", parts[4], ""),
            ("  of which Python's own compile()", parts[3], "")]
    for name, seconds, note in rows:
        table.rows.append(Row(name, extra={"seconds": fmt_time(seconds), "note": note},
                              median=seconds))
    table.targets.append(Target("text → callable gradient", total, "< 0.2", unit="s"))
    _sympy_build(table, settings)
    _casadi_build(table)
    _jax_build(table)
    table.notes.append("Medians of {} builds; the sympy build runs once.".format(repeats))
    return table


_SYMPY_SCRIPT = """
import sys, time
sys.path.insert(0, sys.argv[1])
import sympy as sp
import mlp_text
from w2_mlp import _SymRelu, load_reference, ARGS, NAMES, POINT
from harness import agree
start = time.perf_counter()
symbols = {k: sp.Symbol(k) for k in NAMES}
loss = mlp_text.forward(mlp_text.model({k: _SymRelu(sp, s) for k, s in symbols.items()},
                                       POINT)[0])
syms = [symbols[k] for k in NAMES]
grads = [sp.diff(loss.e, s) for s in syms]
fn = sp.lambdify(syms, [loss.e, grads], modules="math", cse=True)
build = time.perf_counter() - start
got = fn(*ARGS)
gap = agree((got[0], tuple(got[1])), load_reference()(*ARGS))
n = 200
start = time.perf_counter()
for _ in range(n):
    fn(*ARGS)
print(build, (time.perf_counter() - start) / n, gap or "ok")
"""


def _sympy_build(table: Table, settings: Settings, timeout: int = 180) -> None:
    """sympy's diff + cse + lambdify of the same network, in a subprocess with a time limit."""
    import subprocess
    import sys
    from pathlib import Path
    name = "diff + cse + lambdify"
    if peers.sympy() is None:
        table.rows.append(Row(name, "sympy", status="missing", note="not installed"))
        return
    if settings.quick:
        table.rows.append(Row(name, "sympy", status="skipped",
                              note="skipped in --quick (tens of seconds); see the full run"))
        return
    here = str(Path(__file__).resolve().parent)
    try:
        out = subprocess.run([sys.executable, "-c", _SYMPY_SCRIPT, here], timeout=timeout,
                             capture_output=True, text=True, check=True)
    except subprocess.TimeoutExpired:
        table.rows.append(Row(name, "sympy", status="failed",
                              note=f"did not finish in {timeout} s"))
        return
    except subprocess.CalledProcessError as exc:
        table.rows.append(Row(name, "sympy", status="failed",
                              note=(exc.stderr.strip().splitlines() or ["error"])[-1][:90]))
        return
    build, per_call, gap = out.stdout.split(maxsplit=2)
    note = ("✓ matches reference" if gap.strip() == "ok" else f"WRONG: {gap.strip()}")
    table.rows.append(Row(name, "sympy", median=float(build),
                          extra={"seconds": fmt_time(float(build)),
                                 "note": f"{note}; then {fmt_time(float(per_call))} per call"}))


class _SymRelu:
    """A sympy expression with micrograd's operator protocol (``+ * - ** relu``)."""
    __slots__ = ("sp", "e")

    def __init__(self, sp, e):
        self.sp, self.e = sp, e

    def _w(self, e):
        return type(self)(self.sp, e)

    def _u(self, o):
        return o.e if isinstance(o, _SymRelu) else o

    def __add__(self, o): return self._w(self.e + self._u(o))
    __radd__ = __add__
    def __mul__(self, o): return self._w(self.e * self._u(o))
    __rmul__ = __mul__
    def __sub__(self, o): return self._w(self.e - self._u(o))
    def __pow__(self, k): return self._w(self.e ** k)
    def relu(self): return self._w(self.sp.Max(0, self.e))


def _casadi_build(table: Table) -> None:
    ca = peers.casadi()
    if ca is None:
        table.rows.append(Row("SX gradient + Function", "casadi", status="missing",
                              note="not installed"))
        return
    start = time.perf_counter()
    xs = {k: ca.SX.sym(k) for k in NAMES}
    loss = mlp_text.forward(mlp_text.model({k: _CasadiRelu(ca, v) for k, v in xs.items()},
                                           POINT)[0])
    vec = ca.vertcat(*[xs[k] for k in NAMES])
    fn = ca.Function("f", [vec], [loss.e, ca.gradient(loss.e, vec)])
    seconds = time.perf_counter() - start
    value, grad = fn(ARGS)
    from harness import agree
    gap = agree((float(value), tuple(grad.full().ravel().tolist())), load_reference()(*ARGS))
    table.rows.append(Row("SX gradient + Function", "casadi", median=seconds,
                          extra={"seconds": fmt_time(seconds),
                                 "note": "✓ matches reference" if not gap else f"WRONG: {gap}"}))


class _CasadiRelu(_SymRelu):
    def relu(self): return self._w(self.sp.fmax(0, self.e))


def _jax_build(table: Table) -> None:
    loaded = peers.jax()
    if loaded is None:
        table.rows.append(Row("jit(value_and_grad) first call", "jax", status="missing",
                              note="not installed"))
        return
    jax, jnp = loaded
    fn = _jax_mlp(jax, jnp)
    params = _jax_params(jnp)
    start = time.perf_counter()
    jitted = jax.jit(jax.value_and_grad(fn))
    value, grads = jitted(params)
    value.block_until_ready()
    seconds = time.perf_counter() - start
    table.rows.append(Row("jit(value_and_grad) first call (trace + XLA compile)", "jax",
                          median=seconds, extra={"seconds": fmt_time(seconds),
                                                 "note": "matrix form, not the text"}))


def _jax_mlp(jax, jnp):
    x = jnp.array(mlp_text.X)

    def loss(p):
        W1, b1, W2, b2, W3, b3 = p
        h1 = jnp.maximum(W1 @ x + b1, 0.0)
        h2 = jnp.maximum(W2 @ h1 + b2, 0.0)
        out = W3 @ h2 + b3
        return (out[0] - 1.0) ** 2
    return loss


def _matrices(point=POINT):
    """([W1, W2, W3], [b1, b2, b3]) numpy arrays of a {parameter name: number} point."""
    import numpy as np
    biases, weights = mlp_text.names()
    Ws = [np.array([[point[w] for w in row] for row in layer]) for layer in weights]
    bs = [np.array([point[b] for b in layer]) for layer in biases]
    return Ws, bs


def _jax_params(jnp):
    Ws, bs = _matrices()
    return tuple(jnp.array(a) for pair in zip(Ws, bs) for a in pair)


# ---- per call ------------------------------------------------------------------------------

def call_table(settings: Settings) -> Table:
    import numpy as np
    import exprgrad as eg
    table = Table("W2b", "MLP(2,[16,16,1]) loss + 337 partials, per call")
    bench = Bench(table, settings, rel=1e-9, abs_=1e-12)
    ref = load_reference()
    bench.reference("hand-written unrolled straight-line python", lambda: ref(*ARGS))
    cg = codegen()
    if cg is None:
        bench.missing("emitted python grad_f(*args)", "exprgrad", "exprgrad.codegen not built")
    else:
        f = eg.compile(TEXT)
        _, grad_py = cg.load_python(cg.emit(f.ir, "python", name="f"), "f")
        bench.add("emitted python grad_f(*args)", lambda: grad_py(*ARGS))
        try:
            np_ns: dict = {}
            exec(compile(cg.emit(f.ir, "numpy", name="f"), "<w2 numpy>", "exec"), np_ns)
            grad_np = np_ns["grad_f"]
            bench.add("emitted numpy grad_f(*args), float arguments",
                      lambda: _floats(grad_np(*ARGS)))
        except Exception as exc:        # noqa: BLE001
            bench.failed("emitted numpy grad_f(*args)", "exprgrad", exc)
    bench.add("Value engine forward + backward", value_path(eg.Value))
    npref = numpy_reference()
    bench.add("hand-written numpy reverse mode", lambda: flat(npref()), "reference")
    MG = peers.micrograd_value()
    if MG is None:
        bench.missing("Value forward + backward", "micrograd")
    else:
        bench.add("Value forward + backward", value_path(MG), "micrograd")
    _torch_calls(bench)
    _jax_calls(bench)
    _casadi_calls(bench)
    bench.run()
    r = table.ratio
    table.targets = [
        Target("emitted python / unrolled reference", r("emitted python grad_f(*args)"),
               "<= 1.2"),
        Target("micrograd / exprgrad Value engine (speed-up)",
               r("Value forward + backward", "Value engine forward + backward"), ">= 3"),
    ]
    table.notes.append("The numpy rows take float arguments (337 scalars); emitted numpy is "
                       "meant for arrays of points (W3). sympy's lambdified gradient is in "
                       "W2a (its build is the cost). numexpr: not applicable.")
    return table


def _floats(result):
    value, grads = result
    return float(value), tuple(float(g) for g in grads)


def _torch_calls(bench: Bench) -> None:
    torch = peers.torch()
    if torch is None:
        bench.missing("autograd", "torch")
        return
    Ws, bs = _matrices()
    params = [torch.tensor(a, dtype=torch.float64, requires_grad=True)
              for pair in zip(Ws, bs) for a in pair]
    W1, b1, W2, b2, W3, b3 = params
    x = torch.tensor(mlp_text.X, dtype=torch.float64)

    def call():
        for p in params:
            p.grad = None
        h1 = torch.relu(W1 @ x + b1)
        h2 = torch.relu(W2 @ h1 + b2)
        loss = ((W3 @ h2 + b3)[0] - 1.0) ** 2
        loss.backward()
        g = [p.grad for p in params]
        return loss.item(), torch.cat([g[1], g[3], g[5], g[0].ravel(), g[2].ravel(),
                                       g[4].ravel()]).tolist()
    bench.add("autograd, matrices", lambda: (lambda v, g: (v, tuple(g)))(*call()), "torch")


def _jax_calls(bench: Bench) -> None:
    loaded = peers.jax()
    if loaded is None:
        bench.missing("jit(value_and_grad)", "jax")
        return
    jax, jnp = loaded
    import numpy as np
    vg = jax.jit(jax.value_and_grad(_jax_mlp(jax, jnp)))
    params = _jax_params(jnp)

    def call():
        value, g = vg(params)
        g = [np.asarray(a) for a in g]
        return float(value), tuple(np.concatenate([g[1], g[3], g[5], g[0].ravel(),
                                                   g[2].ravel(), g[4].ravel()]).tolist())
    bench.add("jit(value_and_grad), matrices", call, "jax")


def _casadi_calls(bench: Bench) -> None:
    ca = peers.casadi()
    if ca is None:
        bench.missing("SX Function", "casadi")
        return
    xs = {k: ca.SX.sym(k) for k in NAMES}
    loss = mlp_text.forward(mlp_text.model({k: _CasadiRelu(ca, v) for k, v in xs.items()},
                                           POINT)[0])
    vec = ca.vertcat(*[xs[k] for k in NAMES])
    fn = ca.Function("f", [vec], [loss.e, ca.gradient(loss.e, vec)])
    vals = list(ARGS)

    def call():
        value, grad = fn(vals)
        return float(value), tuple(grad.full().ravel().tolist())
    bench.add("SX Function(value, gradient)", call, "casadi")

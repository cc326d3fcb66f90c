"""W7: second order — Hessians and Hessian-vector products, per call and from text.

Input: three programs as text — the seed neuron (W1's), Rosenbrock's function of n = 10, 100
and 1,000 variables (``sum_i 100*(x_{i+1} - x_i^2)^2 + (1 - x_i)^2``) and micrograd's MLP
2-16-16-1 loss (W2's, 337 parameters).  Output: tables —

- W7a: the neuron's value, gradient and 5×5 Hessian per call: exprgrad's emitted ``hess_f``
  and ``f.hessian(**pt)`` against a hand-written Python Hessian, and the peers' Hessians
  (sympy ``hessian`` + lambdify, JAX ``jit(hessian)``, ``torch.func.hessian``, CasADi SX
  ``hessian``);
- W7b: Rosenbrock, text → callable Hessian for each n (exprgrad's stages in CPU and wall time,
  op counts, the peers' builds), then one table per n of the Hessian per call against the
  tridiagonal loop a person writes;
- W7c: the MLP's Hessian-vector product per call beside the gradient.  A hand-written HVP is
  too much: the reference is W2's hand-written gradient, and every tool's HVP is also given ÷
  its own gradient.  HVPs are checked against complex-step differentiation of a hand-written
  numpy gradient (exact to rounding).

The peers compute the Hessian (or H·v) alone, on arrays, as their users write them; exprgrad's
``hess_f``/``hvp_f`` and the hand-written references also return the value and the gradient
(what a Newton step uses), so the comparison favours the peers slightly.
"""
from __future__ import annotations

import gc
import json
import math
import random
import statistics
import subprocess
import sys
import time

import mlp_text
import peers
import w1_neuron
import w2_mlp
from harness import Bench, Row, Settings, Table, Target, fmt_time, time_build
from workloads import codegen

EMITTED_HESS = "emitted python hess_f(*args)"


# ---- (a) the seed neuron ----------------------------------------------------------------------

def ref_neuron(b, w1, w2, x1, x2):
    """By hand: o = tanh(n), n = x1*w1 + x2*w2 + b.  ∂n = (1, x1, x2, w1, w2) and the only
    second derivatives of n are ∂²n/∂w1∂x1 = ∂²n/∂w2∂x2 = 1, so H = o''·∂n ∂nᵀ + o'·∂²n with
    o' = 1 - o², o'' = -2·o·o'; the upper triangle, mirrored."""
    o = math.tanh(x1 * w1 + x2 * w2 + b)
    d = 1.0 - o * o
    dd = -2.0 * o * d
    a1, a2, a3, a4 = dd * x1, dd * x2, dd * w1, dd * w2
    h11, h12, h13, h14 = a1 * x1, a1 * x2, a1 * w1 + d, a1 * w2
    h22, h23, h24 = a2 * x2, a2 * w1, a2 * w2 + d
    h33, h34, h44 = a3 * w1, a3 * w2, a4 * w2
    return o, (d, d * x1, d * x2, d * w1, d * w2), (
        (dd, a1, a2, a3, a4),
        (a1, h11, h12, h13, h14),
        (a2, h12, h22, h23, h24),
        (a3, h13, h23, h33, h34),
        (a4, h14, h24, h34, h44))


def neuron_vec(x, tanh, total):
    """The neuron over a vector in exprgrad's variable order (b, w1, w2, x1, x2), for peers."""
    return tanh(x[3] * x[1] + x[4] * x[2] + x[0])


def neuron_table(settings: Settings) -> Table:
    import exprgrad as eg
    table = Table("W7a", "seed neuron: value, gradient and 5×5 Hessian per call", cpu=True)
    bench = Bench(table, settings)
    args, point = w1_neuron.ARGS, w1_neuron.POINT
    expected = ref_neuron(*args)
    bench.reference("hand-written python Hessian", lambda: ref_neuron(*args))
    f = eg.compile(w1_neuron.TEXT)
    hess_f = _emitted(bench, f)
    if hess_f is not None:
        bench.add(EMITTED_HESS, lambda: hess_f(*args))
    bench.add("f.hessian(**pt)", lambda: f.hessian(**point), expected=expected[2])
    _sympy_neuron(bench, expected[2])
    _peer_rows(bench, neuron_vec, list(args), expected[2])
    bench.run()
    table.targets = [Target("emitted hess_f / hand-written Hessian, CPU time",
                            table.ratio(EMITTED_HESS, cpu=True), "<= 1.5"),
                     Target("emitted hess_f / hand-written Hessian, wall time",
                            table.ratio(EMITTED_HESS), "<= 1.5")]
    table.notes += [PEERS_NOTE, CPU_NOTE]
    return table


def _emitted(bench: Bench, f, prog=None):
    """exprgrad's emitted python ``hess_f`` (or a failed/missing row)."""
    cg = codegen()
    if cg is None:
        bench.missing(EMITTED_HESS, "exprgrad", "exprgrad.codegen not built")
        return None
    try:
        from exprgrad.derivatives import hessian_program
        prog = prog or hessian_program(f.ir)
        return cg.load_namespace(cg.emit_programs(f.ir, "python", [("hess_f", prog)]),
                                 "hess_f")["hess_f"]
    except Exception as exc:            # noqa: BLE001 - reported as a failed row
        bench.failed(EMITTED_HESS, "exprgrad", exc)
        return None


def _sympy_neuron(bench: Bench, expected) -> None:
    sp = peers.sympy()
    if sp is None:
        bench.missing("hessian + lambdify", "sympy")
        return
    syms = sp.symbols(w1_neuron.ORDER)
    hess = sp.hessian(neuron_vec(syms, sp.tanh, sum), syms)
    fn = sp.lambdify(syms, list(hess), modules="math", cse=True)
    bench.add("hessian + lambdify(cse=True), math", lambda: _rows(fn(*w1_neuron.ARGS), 5),
              "sympy", expected=expected)


def _rows(flat, n: int):
    """A flat row-major list as rows (lambdify applies cse to a flat list, not to rows)."""
    return [flat[i * n:(i + 1) * n] for i in range(n)]


# ---- the peers' Hessians (a vector function written once for every array library) -------------

def _jax_hessian(fn, x0):
    """(build wall, build CPU, call) of ``jit(hessian)``; the build is the first call."""
    loaded = peers.jax()
    if loaded is None:
        return None
    import numpy as np
    jax, jnp = loaded
    xa = np.asarray(x0, dtype=float)
    h = jax.jit(jax.hessian(lambda x: fn(x, jnp.tanh, jnp.sum)))
    wall, cpu, _ = time_build(lambda: np.asarray(h(xa)), 1)
    return wall, cpu, lambda: np.asarray(h(xa))


def _torch_hessian(fn, x0):
    torch = peers.torch()
    if torch is None:
        return None
    xt = torch.tensor(x0, dtype=torch.float64)
    h = torch.func.hessian(lambda x: fn(x, torch.tanh, torch.sum))
    wall, cpu, _ = time_build(lambda: h(xt).numpy(), 1)
    return wall, cpu, lambda: h(xt).numpy()


def _casadi_hessian(fn, x0):
    ca = peers.casadi()
    if ca is None:
        return None
    import numpy as np

    def build():
        x = ca.SX.sym("x", len(x0))
        hess, _ = ca.hessian(fn(x, ca.tanh, ca.sum1), x)
        return ca.Function("h", [x], [hess])
    wall, cpu, h = time_build(build, 1)
    xa = np.asarray(x0, dtype=float)
    return wall, cpu, lambda: h(xa).full()


#: (peer, row name, build description, loader)
PEERS = (("jax", "jit(hessian), array in", "jit(hessian) first call: trace + XLA compile",
          _jax_hessian),
         ("torch", "torch.func.hessian, tensor in", "torch.func.hessian first call (eager: "
          "nothing to build)", _torch_hessian),
         ("casadi", "SX hessian Function, array in", "SX hessian + Function", _casadi_hessian))

PEERS_NOTE = ("Peers compute the Hessian alone, from an array, returned as a numpy array; "
              "exprgrad's hess_f and the hand-written code also return the value and the "
              "gradient.")
CPU_NOTE = ("\"CPU × reference\": the same interleaved samples timed in this process's CPU "
            "time, steadier than wall time on the shared machine for single-threaded Python; "
            "a peer's worker threads add to its CPU time, so read peers by wall time.")


def _peer_rows(bench: Bench, fn, x0, expected, builds: dict | None = None) -> None:
    """Each installed peer's Hessian checked against `expected` (a numpy array) and timed;
    its build (first call) recorded in `builds` as {peer: (wall, cpu) or an error}."""
    import numpy as np
    expected = np.asarray(expected, dtype=float)
    for kind, name, _, loader in PEERS:
        try:
            loaded = loader(fn, x0)
        except Exception as exc:        # noqa: BLE001 - a peer's failure is a result
            bench.failed(name, kind, exc)
            if builds is not None:
                builds[kind] = f"failed: {bench.table.rows[-1].note}"
            continue
        if loaded is None:
            bench.missing(name, kind)
            continue
        wall, cpu, call = loaded
        if builds is not None:
            builds[kind] = (wall, cpu)
        bench.add(name, call, kind, expected=expected)


# ---- (b) Rosenbrock ---------------------------------------------------------------------------

def names(n: int) -> list[str]:
    """x1 … xn zero-padded, so exprgrad's sorted variables are in index order."""
    width = len(str(n))
    return [f"x{i:0{width}d}" for i in range(1, n + 1)]


def rosenbrock_text(n: int) -> str:
    xs = names(n)
    return " + ".join(f"100*({b} - {a}^2)^2 + (1 - {a})^2" for a, b in zip(xs, xs[1:]))


def rosenbrock_point(n: int) -> list[float]:
    rng = random.Random(n)
    return [rng.uniform(-1.5, 1.5) for _ in range(n)]


def ref_rosenbrock(*x):
    """By hand: value, gradient and the dense Hessian, filling its tridiagonal in one loop."""
    n = len(x)
    value = 0.0
    g = [0.0] * n
    h = [[0.0] * n for _ in range(n)]
    for i in range(n - 1):
        a, b = x[i], x[i + 1]
        t = b - a * a
        u = 1.0 - a
        value += 100.0 * t * t + u * u
        g[i] += -400.0 * a * t - 2.0 * u
        g[i + 1] += 200.0 * t
        h[i][i] += 1200.0 * a * a - 400.0 * b + 2.0
        h[i + 1][i + 1] += 200.0
        h[i][i + 1] = h[i + 1][i] = -400.0 * a
    return value, g, h


def rosenbrock_vec(x, tanh, total):
    return total(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def exprgrad_build(text: str, repeats: int):
    """exprgrad's text → callable hess_f, stage by stage: {stage: (wall, cpu)} medians, the
    Hessian program and the loaded function of the last build."""
    from exprgrad.derivatives import hessian_program
    from exprgrad.lower import lower
    from exprgrad.parse import parse
    cg = codegen()
    stages = ("parse + lower", "Hessian program", "emit python", "load")
    runs = []
    for _ in range(repeats):
        gc.collect()
        marks = [(time.perf_counter(), time.process_time())]
        graph = lower(parse(text), text)
        marks.append((time.perf_counter(), time.process_time()))
        prog = hessian_program(graph)
        marks.append((time.perf_counter(), time.process_time()))
        source = cg.emit_programs(graph, "python", [("hess_f", prog)])
        marks.append((time.perf_counter(), time.process_time()))
        hess_f = cg.load_namespace(source, "hess_f")["hess_f"]
        marks.append((time.perf_counter(), time.process_time()))
        runs.append([(b[0] - a[0], b[1] - a[1]) for a, b in zip(marks, marks[1:])])
    times = {s: tuple(statistics.median(r[k][j] for r in runs) for j in (0, 1))
             for k, s in enumerate(stages)}
    totals = [tuple(sum(r[k][j] for k in range(len(stages))) for j in (0, 1)) for r in runs]
    times["total"] = tuple(statistics.median(t[j] for t in totals) for j in (0, 1))
    return times, prog, source, hess_f


def _cell(wall_cpu) -> str:
    if isinstance(wall_cpu, str):
        return wall_cpu
    wall, cpu = wall_cpu
    return f"{fmt_time(cpu)} CPU ({fmt_time(wall)} wall)"


def build_cells(times: dict, first: tuple, prog, source: str, f) -> dict[str, str]:
    """The build table's exprgrad cells for one n: stages, the library's first call, sizes."""
    from exprgrad.autodiff import grad_program, op_count
    grad = grad_program(f.ir)
    hess = prog.result("hess").nodes
    nonzero = sum(1 for e in hess if not (e.op == "const" and e.payload == 0))
    cells = {"exprgrad: text → callable hess_f": _cell(times["total"])}
    cells.update((f"  {stage}", _cell(times[stage]))
                 for stage in ("parse + lower", "Hessian program", "emit python", "load"))
    # The first calls of every kind are interpreted (tape.py), compiled once they have cost
    # what compiling would (api.Function): the first f.hessian generates no code.
    cells["exprgrad: compile(text), first f.hessian(**pt)"] = _cell(first) + "; interpreted"
    cells["  ops: gradient program / Hessian program"] = \
        f"{op_count(grad.graph, grad.roots):,} / {op_count(prog.graph, prog.roots):,}"
    cells["  Hessian entries: structurally nonzero / all"] = f"{nonzero:,} / {len(hess):,}"
    cells["  emitted hess_f: lines / characters"] = \
        f"{source.count(chr(10)):,} / {len(source):,}"
    return cells


def rosenbrock_tables(settings: Settings) -> list[Table]:
    import exprgrad as eg
    sizes = (10, 100) if settings.quick else (10, 100, 1000)
    cols = [f"n = {n:,}" for n in sizes]
    build = Table("W7b", "Rosenbrock: text → callable Hessian (one-off)",
                  unit="seconds per build", columns=cols, plain=True)
    cells: dict[str, dict[str, str]] = {}
    calls: list[Table] = []
    targets: list[Target] = []
    cg = codegen()
    for n, col in zip(sizes, cols):
        text, x0 = rosenbrock_text(n), rosenbrock_point(n)
        point = dict(zip(names(n), x0))
        expected = ref_rosenbrock(*x0)
        table = Table(f"W7b (n = {n:,})", f"Rosenbrock n = {n:,}: value, gradient and "
                      f"{n}×{n} Hessian per call", cpu=True)
        bench = Bench(table, settings)
        bench.reference("hand-written python (tridiagonal loop)",
                        lambda x0=x0: ref_rosenbrock(*x0))
        if cg is None:
            bench.missing(EMITTED_HESS, "exprgrad", "exprgrad.codegen not built")
        else:
            repeats = 1 if n >= 1000 else (1 if settings.quick else 5)
            times, prog, source, hess_f = exprgrad_build(text, repeats)

            def first_call(text=text, point=point):
                f = eg.compile(text)
                f.hessian(**point)              # builds the Hessian program, compiles it
                return f
            wall, cpu, f = time_build(first_call, 1)
            for name, cell in build_cells(times, (wall, cpu), prog, source, f).items():
                cells.setdefault(name, {})[col] = cell
            if n == 100:
                targets.append(Target("Rosenbrock-100 text → callable Hessian, CPU time",
                                      times["total"][1], "< 0.5", unit="s"))
                targets.append(Target("Rosenbrock-100 text → callable Hessian, wall time",
                                      times["total"][0], "< 0.5", unit="s"))
            bench.add(EMITTED_HESS, lambda h=hess_f, x0=x0: h(*x0))
            dense = nonzeros_then_fill(prog)
            bench.add(SPARSE_HESS, lambda h=dense, x0=x0: h(*x0))
            bench.add("f.hessian(**pt)", lambda f=f, pt=point: f.hessian(**pt),
                      expected=expected[2])
        builds: dict = {}
        _sympy_rosenbrock(bench, text, x0, expected[2], settings, builds)
        _peer_rows(bench, rosenbrock_vec, x0, expected[2], builds)
        for kind, _, what, _ in PEERS:
            if kind in builds:
                cells.setdefault(f"{what} [{kind}]", {})[col] = _cell(builds[kind])
        if "sympy" in builds:
            cells.setdefault("parse + hessian + cse + lambdify [sympy]", {})[col] = \
                _cell(builds["sympy"])
        bench.run()
        table.targets = [Target(f"emitted hess_f / hand-written Hessian, n = {n:,}, CPU time",
                                table.ratio(EMITTED_HESS, cpu=True), "<= 1.5"),
                         Target(f"emitted hess_f / hand-written Hessian, n = {n:,}, wall time",
                                table.ratio(EMITTED_HESS), "<= 1.5")]
        table.notes += [SPARSE_NOTE, PEERS_NOTE + " JAX, torch and CasADi get the vectorised "
                        "form (sum over x[1:] and x[:-1]).", CPU_NOTE]
        calls.append(table)
    for name, by_col in cells.items():
        build.rows.append(Row(name, extra={c: by_col.get(c, "") for c in cols}))
    build.targets = targets
    build.notes.append("CPU time of this process (the machine is shared; wall time counts "
                       "other jobs too). exprgrad: median of 5 builds for n ≤ 100 (1 in "
                       "--quick), one build for n = 1,000; peers: one build each. sympy builds "
                       "in a subprocess with a time limit; its lambdified source is loaded "
                       "here for the per-call tables.")
    return [build] + calls


SPARSE_HESS = "emitted python, nonzeros only, dense fill by the caller"
SPARSE_NOTE = (f"\"{SPARSE_HESS}\": the same Hessian program with its result cut to the "
               "structurally nonzero upper triangle (exprgrad.program), emitted, and a wrapper "
               "that fills [[0.0] * n for _ in range(n)] from it, as the hand-written loop does: "
               "hess_f spends the difference building its n×n tuple literal entry by entry.")


def nonzeros_then_fill(prog):
    """(value, gradient, dense Hessian) from a program returning only the structurally nonzero
    entries of the upper triangle: what hess_f would cost if it filled zero rows first."""
    from exprgrad.program import Program, Result
    cg = codegen()
    hess = prog.result("hess")
    n = hess.shape[0]
    keep = [(i, j) for i in range(n) for j in range(i, n)
            if not (hess.nodes[i * n + j].op == "const" and hess.nodes[i * n + j].payload == 0)]
    nonzero = Result("hess", tuple(hess.nodes[i * n + j] for i, j in keep), (len(keep),),
                     tuple(hess.labels[i * n + j] for i, j in keep))
    cut = Program("hessian", prog.graph, prog.params, prog.results[:2] + (nonzero,),
                  primal=prog.primal, wrt=prog.wrt, adjoints=prog.adjoints, blocks=prog.blocks)
    run = cg.load_namespace(cg.emit_programs(prog.graph, "python", [("nz_f", cut)]),
                            "nz_f")["nz_f"]

    def dense(*x):
        value, grad, entries = run(*x)
        h = [[0.0] * n for _ in range(n)]
        for (i, j), e in zip(keep, entries):
            h[i][j] = h[j][i] = e
        return value, grad, h
    return dense


_SYMPY_ROSENBROCK = """
import inspect, json, sys, time
import sympy as sp
text = sys.stdin.read()
c, w = time.process_time(), time.perf_counter()
f = sp.parse_expr(text.replace("^", "**"))
xs = sorted(f.free_symbols, key=lambda s: s.name)
fn = sp.lambdify(xs, list(sp.hessian(f, xs)), modules="math", cse=True)
print(json.dumps({"cpu": time.process_time() - c, "wall": time.perf_counter() - w,
                  "source": inspect.getsource(fn)}))
"""


def _sympy_rosenbrock(bench, text, x0, expected, settings, builds) -> None:
    """sympy's parse + hessian + cse + lambdify; its build time goes to `builds`."""
    name = "hessian + lambdify(cse=True), math"
    found = _sympy_build(bench, name, settings, _SYMPY_ROSENBROCK, stdin=text)
    last = bench.table.rows[-1] if bench.table.rows else None
    if found is None:
        if last is not None and last.kind == "sympy" and last.status == "failed":
            builds["sympy"] = last.note
        return
    builds["sympy"] = (found["wall"], found["cpu"])
    fn, n = _lambdified(found["source"]), len(x0)
    bench.add(name, lambda: _rows(fn(*x0), n), "sympy", expected=expected)


def _sympy_build(bench: Bench, name: str, settings: Settings, script: str, argv=(),
                 stdin: str | None = None, timeout: int = 120) -> dict | None:
    """A sympy build script run in a subprocess with a time limit: its JSON output (``cpu``,
    ``wall``, ``source`` — the source lambdify wrote, loaded here so that its calls are timed
    interleaved with the others'), or None after adding the row that says why not."""
    if peers.sympy() is None:
        bench.missing(name, "sympy")
        return None
    if settings.quick:
        bench.table.rows.append(Row(name, "sympy", status="skipped",
                                    note="skipped in --quick; see the full run"))
        return None
    try:
        out = subprocess.run([sys.executable, "-c", script, *argv], input=stdin,
                             timeout=timeout, capture_output=True, text=True, check=True)
    except subprocess.TimeoutExpired:
        bench.failed(name, "sympy", f"build did not finish in {timeout} s")
        return None
    except subprocess.CalledProcessError as exc:
        bench.failed(name, "sympy", (exc.stderr.strip().splitlines() or ["error"])[-1][:90])
        return None
    return json.loads(out.stdout)


def _lambdified(source: str):
    """The function lambdify wrote (in a subprocess), loaded with the math namespace it was
    written for (modules="math")."""
    namespace = dict(vars(math))
    exec(compile(source, "<sympy lambdify>", "exec"), namespace)  # noqa: S102 - sympy's text
    return namespace["_lambdifygenerated"]


# ---- (c) the MLP: Hessian-vector product beside the gradient ----------------------------------

MLP_NAMES = w2_mlp.NAMES
MLP_ARGS = w2_mlp.ARGS


def direction() -> list[float]:
    rng = random.Random(7)
    return [rng.uniform(-1.0, 1.0) for _ in MLP_NAMES]


def complex_step_hvp(args, v, h: float = 1e-30):
    """H·v as the imaginary part of a hand-written numpy gradient at p + i·h·v: every operation
    is analytic (the ReLU masks come from the real part), so this is exact to rounding."""
    import numpy as np
    p = dict(zip(MLP_NAMES, np.asarray(args) + 1j * h * np.asarray(v)))
    (W1, W2, W3), (b1, b2, b3) = w2_mlp._matrices(p)
    x = np.array(mlp_text.X)
    z1 = W1 @ x + b1
    m1 = z1.real > 0.0
    h1 = z1 * m1
    z2 = W2 @ h1 + b2
    m2 = z2.real > 0.0
    h2 = z2 * m2
    e = (W3 @ h2 + b3)[0] - 1.0
    d_out = 2.0 * e
    d_z2 = d_out * W3[0] * m2
    d_z1 = (W2.T @ d_z2) * m1
    grad = np.concatenate([d_z1, d_z2, [d_out], np.outer(d_z1, x).ravel(),
                           np.outer(d_z2, h1).ravel(), d_out * h2])
    return (grad.imag / h).tolist()


def _flat(parts):
    """(W1, b1, W2, b2, W3, b3) arrays → one vector in exprgrad's sorted parameter order."""
    import numpy as np
    parts = [np.asarray(a) for a in parts]
    return np.concatenate([parts[1], parts[3], parts[5], parts[0].ravel(), parts[2].ravel(),
                           parts[4].ravel()])


def _layers(flat):
    """The inverse of `_flat`: (W1, b1, W2, b2, W3, b3) numpy arrays."""
    (W1, W2, W3), (b1, b2, b3) = w2_mlp._matrices(dict(zip(MLP_NAMES, flat)))
    return W1, b1, W2, b2, W3, b3


def mlp_table(settings: Settings) -> Table:
    import numpy as np
    import exprgrad as eg
    table = Table("W7c", "MLP(2,[16,16,1]) Hessian-vector product (337 parameters) per call, "
                  "beside the gradient", columns=["÷ own gradient"], cpu=True)
    bench = Bench(table, settings)
    args, v = list(MLP_ARGS), direction()
    ref_grad = w2_mlp.load_reference()
    value, grad = ref_grad(*args)
    hv = complex_step_hvp(args, v)
    bench.reference("hand-written unrolled gradient (W2's)", lambda: ref_grad(*args))
    pairs = []                          # (HVP row, gradient row) of each tool
    cg = codegen()
    f = eg.compile(mlp_text.exprgrad_text())
    if cg is None:
        bench.missing("emitted python hvp_f(*args, *v)", "exprgrad", "exprgrad.codegen not built")
    else:
        from exprgrad.autodiff import grad_program
        from exprgrad.derivatives import hvp_program
        ns = cg.load_namespace(cg.emit_programs(f.ir, "python", [
            ("grad_f", grad_program(f.ir)), ("hvp_f", hvp_program(f.ir))]), "f")
        grad_f, hvp_f = ns["grad_f"], ns["hvp_f"]
        g_row = bench.add("emitted python grad_f(*args)", lambda: grad_f(*args))
        h_row = bench.add("emitted python hvp_f(*args, *v)", lambda: hvp_f(*args, *v),
                          expected=(value, grad, hv))
        pairs.append((h_row, g_row))
    point = dict(zip(MLP_NAMES, args))
    f.hvp(v, **point)                   # built here, outside the per-call timing
    h_row = bench.add("f.hvp(v, **pt)", lambda: f.hvp(v, **point), expected=hv)
    g_row = bench.add("f.grad(**pt)", lambda: f.grad(**point), expected=(value, grad))
    pairs.append((h_row, g_row))
    grad_np, hv_np = np.asarray(grad), np.asarray(hv)
    for kind, loader in (("jax", _jax_mlp), ("torch", _torch_mlp), ("casadi", _casadi_mlp)):
        try:
            found = loader(args, v)
        except Exception as exc:        # noqa: BLE001
            bench.failed("HVP", kind, exc)
            continue
        if found is None:
            bench.missing("HVP", kind)
            continue
        (g_name, g_call), *hvps = found
        g_row = bench.add(g_name, g_call, kind, expected=grad_np)
        for h_name, h_call in hvps:
            pairs.append((bench.add(h_name, h_call, kind, expected=hv_np), g_row))
    _sympy_mlp(bench, settings, hv)
    bench.run()
    for h_row, g_row in pairs:
        r, c = h_row.ratio_to(g_row), h_row.ratio_to(g_row, cpu=True)
        h_row.extra["÷ own gradient"] = f"{r:.2f}× ({c:.2f}× CPU)" if r and c else ""
    hvp, grad_name = "emitted python hvp_f(*args, *v)", "emitted python grad_f(*args)"
    table.targets = [Target("emitted hvp_f / emitted grad_f, CPU time",
                            table.ratio(hvp, grad_name, cpu=True), "<= 5"),
                     Target("emitted hvp_f / emitted grad_f, wall time",
                            table.ratio(hvp, grad_name), "<= 5")]
    table.notes.append("Each HVP is checked against complex-step differentiation of a "
                       "hand-written numpy gradient; hvp_f also returns the value and the "
                       "gradient. The peers take the weights as matrices (W2's form) and the "
                       "direction in the same shapes, and return a numpy vector.")
    table.notes.append(CPU_NOTE)
    return table


def _jax_mlp(args, v):
    loaded = peers.jax()
    if loaded is None:
        return None
    import numpy as np
    jax, jnp = loaded
    loss = w2_mlp._jax_mlp(jax, jnp)
    p = tuple(jnp.asarray(a) for a in _layers(args))
    t = tuple(jnp.asarray(a) for a in _layers(v))
    grad = jax.jit(jax.grad(loss))
    hvp = jax.jit(lambda p, t: jax.jvp(jax.grad(loss), (p,), (t,))[1])
    return [("jit(grad)", lambda: _flat(grad(p))),
            ("jit(jvp(grad)) (forward-over-reverse)", lambda: _flat(hvp(p, t)))]


def _torch_mlp(args, v):
    torch = peers.torch()
    if torch is None:
        return None
    x = torch.tensor(mlp_text.X, dtype=torch.float64)

    def loss(params):
        W1, b1, W2, b2, W3, b3 = params
        h1 = torch.relu(W1 @ x + b1)
        h2 = torch.relu(W2 @ h1 + b2)
        return ((W3 @ h2 + b3)[0] - 1.0) ** 2
    p = tuple(torch.tensor(a, dtype=torch.float64) for a in _layers(args))
    t = tuple(torch.tensor(a, dtype=torch.float64) for a in _layers(v))
    grad = torch.func.grad(loss)

    def numpy(parts):
        return _flat([a.detach().numpy() for a in parts])
    return [("torch.func.grad", lambda: numpy(grad(p))),
            ("torch.func.jvp(torch.func.grad) (forward-over-reverse)",
             lambda: numpy(torch.func.jvp(grad, (p,), (t,))[1])),
            ("torch.autograd.functional.hvp (double backward)",
             lambda: numpy(torch.autograd.functional.hvp(lambda *q: loss(q), p, t)[1]))]


def _casadi_mlp(args, v):
    ca = peers.casadi()
    if ca is None:
        return None
    xs = {k: ca.SX.sym(k) for k in MLP_NAMES}
    loss = mlp_text.forward(mlp_text.model({k: w2_mlp._CasadiRelu(ca, s) for k, s in xs.items()},
                                           w2_mlp.POINT)[0])
    vec = ca.vertcat(*[xs[k] for k in MLP_NAMES])
    tangent = ca.SX.sym("v", len(MLP_NAMES))
    grad = ca.gradient(loss.e, vec)
    fg = ca.Function("g", [vec], [grad])
    fh = ca.Function("hv", [vec, tangent], [ca.jtimes(grad, vec, tangent)])
    return [("SX gradient Function", lambda: fg(args).full().ravel()),
            ("SX jtimes(gradient) Function (forward-over-reverse)",
             lambda: fh(args, v).full().ravel())]


_SYMPY_MLP = """
import inspect, json, sys, time
sys.path.insert(0, sys.argv[1])
import sympy as sp
import mlp_text
from w2_mlp import _SymRelu, NAMES, POINT
from w7_second_order import direction
symbols = {k: sp.Symbol(k) for k in NAMES}
loss = mlp_text.forward(mlp_text.model({k: _SymRelu(sp, s) for k, s in symbols.items()},
                                       POINT)[0]).e
c, w = time.process_time(), time.perf_counter()
syms = [symbols[k] for k in NAMES]
v = direction()
grads = [sp.diff(loss, s) for s in syms]
hv = [sum(sp.diff(g, s) * vj for s, vj in zip(syms, v)) for g in grads]
fn = sp.lambdify(syms, hv, modules="math", cse=True)
print(json.dumps({"cpu": time.process_time() - c, "wall": time.perf_counter() - w,
                  "source": inspect.getsource(fn)}))
"""


def _sympy_mlp(bench: Bench, settings: Settings, expected) -> None:
    """sympy's gradient, its directional derivative along v and lambdify (W2: the gradient
    alone takes longer than 180 s)."""
    from pathlib import Path
    name = "diff of the gradient along v + lambdify"
    found = _sympy_build(bench, name, settings, _SYMPY_MLP,
                         argv=[str(Path(__file__).resolve().parent)])
    if found is not None:
        fn, args = _lambdified(found["source"]), list(MLP_ARGS)
        bench.add(name, lambda: fn(*args), "sympy", expected=expected,
                  note=f"build {fmt_time(found['cpu'])} CPU")


# ---- the workload -----------------------------------------------------------------------------

def run(settings: Settings) -> list[Table]:
    return [neuron_table(settings), *rosenbrock_tables(settings), mlp_table(settings)]

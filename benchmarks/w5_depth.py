"""W5: depth — ``x → tanh(0.5*x + 0.1)`` nested d = 1,000, 10,000, 100,000 times.

Input: the nested text ``tanh(0.5*tanh(0.5*…x… + 0.1) + 0.1)`` and the same chain built with
`Value`.  Output: one table with, per depth, the time to parse, to compile and take value +
gradient (``f.grad``), to emit python, and to build and backpropagate the `Value` chain — each
checked against a hand-written loop — and what the peers do with the same depth (micrograd's
recursive backward, sympy's parser and differentiation, torch, JAX, CasADi); and a second
table with the build stage by stage (profile_build.py) for the chain, nested and as
statements, and the 4.3 MB pendulum, against the limit and PyTorch's build + backward.
"""
from __future__ import annotations

import math
import subprocess
import sys
import time

import peers
import programs
from harness import Row, Settings, Table, Target, agree, fmt_time
from workloads import codegen

X = 0.3


def text(d: int) -> str:
    return programs.chain(d).text


def reference(d: int):
    """Hand-written: iterate forward, multiply the local derivatives."""
    v, deriv = X, 1.0
    for _ in range(d):
        v = math.tanh(0.5 * v + 0.1)
        deriv *= 0.5 * (1.0 - v * v)
    return v, deriv


def value_chain(V, d: int):
    x = V(X)
    y = x
    for _ in range(d):
        y = (0.5 * y + 0.1).tanh()
    y.backward()
    return y.data, x.grad


def _timed(fn):
    start = time.perf_counter()
    try:
        result = fn()
    except RecursionError as exc:
        return None, f"RecursionError: {str(exc)[:60]}", time.perf_counter() - start
    except Exception as exc:                       # noqa: BLE001 - a peer's failure is a result
        text = str(exc).strip().splitlines()
        return None, f"{type(exc).__name__}: {(text[0] if text else '')[:70]}", \
            time.perf_counter() - start
    return result, "", time.perf_counter() - start


def run(settings: Settings) -> list[Table]:
    import exprgrad as eg
    depths = (1000,) if settings.quick else (1000, 10000, 100000)
    cols = [f"d = {d:,}" for d in depths]
    table = Table("W5", "depth: tanh(0.5*x + 0.1) nested d times — time, or how it fails",
                  columns=cols, plain=True)
    cg = codegen()
    rows: dict[str, Row] = {}

    def cell(name, kind, d, fn, check=None):
        row = rows.get(name)
        if row is None:
            row = rows[name] = Row(name, kind)
            table.rows.append(row)
        result, err, seconds = _timed(fn)
        if err:
            row.extra[f"d = {d:,}"] = f"✗ {err}"
        elif check is not None and agree(check(result), reference(d), rel=1e-9):
            row.extra[f"d = {d:,}"] = "✗ wrong: " + agree(check(result), reference(d))
        else:
            row.extra[f"d = {d:,}"] = fmt_time(seconds) + (" ✓" if check else "")
        return result

    for d in depths:
        src = text(d)
        cell("hand-written python loop (value + derivative)", "reference", d,
             lambda: reference(d), check=lambda r: r)
        cell("exprgrad parse", "exprgrad", d, lambda: eg.parse(src))
        f = cell("exprgrad compile (parse + lower)", "exprgrad", d, lambda: eg.compile(src))
        if f is not None:
            cell("exprgrad f.grad(x=0.3): value + gradient", "exprgrad", d,
                 lambda: f.grad(x=X), check=lambda r: (r[0], r[1]["x"]))
            if cg is not None:
                source = cell("exprgrad emit python", "exprgrad", d,
                              lambda: cg.emit(f.ir, "python", name="f"))
                if source is not None:
                    loaded = cell("exprgrad load emitted python (compile + exec)", "exprgrad",
                                  d, lambda: cg.load_python(source, "f"))
                    if loaded is not None:
                        cell("exprgrad emitted grad_f(0.3)", "exprgrad", d,
                             lambda: loaded[1](X), check=lambda r: (r[0], r[1][0]))
        cell("exprgrad Value chain: build + backward", "exprgrad", d,
             lambda: value_chain(eg.Value, d), check=lambda r: r)
        MG = peers.micrograd_value()
        if MG is not None:
            cell("micrograd Value chain: build + backward", "micrograd", d,
                 lambda: value_chain(MG, d), check=lambda r: r)
        _torch(cell, d)
        _casadi(cell, d)
        if settings.quick:
            cell("jit(value_and_grad) of the python loop", "jax", d,
                 lambda: _not_attempted("skipped in --quick (about 7 s at d=1,000)"))
        elif d <= 1000:
            _jax(cell, d)
        else:
            cell("jit(value_and_grad) of the python loop", "jax", d,
                 lambda: _not_attempted("tracing + XLA compile grows too slow past d=1,000"))
        _sympy(cell, d, settings)
    for name in ("micrograd", "sympy", "torch", "casadi", "jax"):
        if peers.load(name) is None:
            table.rows.append(Row(name, name, status="missing", note="not installed"))
    table.notes.append("✓: value and derivative match the hand-written loop (rel 1e-9). "
                       "Times are one run each. Python's recursion limit is the default "
                       f"({sys.getrecursionlimit()}).")
    return [table, stages(settings)]


def stages(settings: Settings) -> Table:
    """The depth-100,000 chain (nested and as statements) and the 4.3 MB pendulum, stage by
    stage (profile_build.py), with issue 15's targets: each chain through compile and the
    first gradient in no more time than PyTorch's build + backward, the pendulum in 10 s."""
    import profile_build
    size = 1000 if settings.quick else 100_000
    torch = peers.torch() is not None
    table, rows = profile_build.stage_table(
        "W5 stages", f"depth {size:,}, stage by stage: the chain nested and as statements, "
        f"the unrolled pendulum ({size:,} statements)",
        [("chain", size), ("chain_lines", size), ("pendulum", size)], torch)
    for row in rows:
        if "error" in row:
            continue
        fig = profile_build.figures(row)
        if row["workload"] == "pendulum":
            table.targets.append(Target(f"pendulum ({row['bytes'] / 1e6:.1f} MB): text → "
                                        "first gradient, CPU", fig["library"], "<= 10",
                                        unit="s"))
            table.targets.append(Target("the same, wall", fig["library_wall"], "<= 10",
                                        unit="s"))
        elif fig["torch_ratio"] is not None:
            table.targets.append(Target(f"{row['workload']}: text → first gradient ÷ torch "
                                        "build + backward", fig["torch_ratio"], "<= 1"))
    return table


def _not_attempted(why: str):
    raise RuntimeError(f"not attempted: {why}")


def _torch(cell, d):
    torch = peers.torch()
    if torch is None:
        return

    def chain():
        x = torch.tensor(X, dtype=torch.float64, requires_grad=True)
        y = x
        for _ in range(d):
            y = torch.tanh(0.5 * y + 0.1)
        y.backward()
        return y.item(), x.grad.item()
    cell("autograd chain: build + backward", "torch", d, chain, check=lambda r: r)


def _casadi(cell, d):
    ca = peers.casadi()
    if ca is None:
        return

    def chain():
        x = ca.SX.sym("x")
        y = x
        for _ in range(d):
            y = ca.tanh(0.5 * y + 0.1)
        fn = ca.Function("f", [x], [y, ca.gradient(y, x)])
        v, g = fn(X)
        return float(v), float(g)
    cell("SX chain + gradient + Function + call", "casadi", d, chain, check=lambda r: r)


def _jax(cell, d):
    loaded = peers.jax()
    if loaded is None:
        return
    jax, jnp = loaded

    def f(x):
        for _ in range(d):
            x = jnp.tanh(0.5 * x + 0.1)
        return x

    def run():
        v, g = jax.jit(jax.value_and_grad(f))(X)
        return float(v), float(g)
    cell("jit(value_and_grad) of the python loop", "jax", d, run, check=lambda r: r)


_SYMPY = """
import sys, sympy as sp
d = int(sys.argv[1]); x = sp.Symbol("x")
text = "tanh(0.5*" * d + "x" + " + 0.1)" * d
try:
    e = sp.sympify(text)
except BaseException as exc:
    print("parse:", type(exc).__name__); sys.exit()
try:
    g = sp.diff(e, x)
    print("ok", float(e.subs(x, 0.3)), float(g.subs(x, 0.3)))
except BaseException as exc:
    print("diff:", type(exc).__name__)
"""


def _sympy(cell, d, settings):
    if peers.sympy() is None:
        return
    if d > 1000:
        cell("sympify(text) + diff", "sympy", d, lambda: _not_attempted("fails at d=1,000"))
        return

    def run():
        out = subprocess.run([sys.executable, "-c", _SYMPY, str(d)], capture_output=True,
                             text=True, timeout=60)
        line = (out.stdout.strip().splitlines() or [out.stderr.strip()[-80:] or "crashed"])[-1]
        if not line.startswith("ok"):
            raise RuntimeError(line)
        _, v, g = line.split()
        return float(v), float(g)
    cell("sympify(text) + diff", "sympy", d, run, check=lambda r: r)

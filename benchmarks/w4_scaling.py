"""W4: build scaling — ``sum_{i=1..n} tanh(w_i*x_i + b_i)^2`` for n = 10 … 100,000.

Input: the text for each n (`programs.w4`).  Output: one table, a row per n, with the time of
every stage of the build (profile_build.py: parse, lower, gradient pass, print, CPython's
compile, first call), text → first gradient and the --emit path against the limit
(hand-written source through CPython's compile()), the growth per ×10 of n, peak RSS per op,
PyTorch's build + backward of the same sum where torch is installed, the emitted gradient's
time per call beside the hand-written one's, and issue 15's targets;
plus CasADi's, JAX's and sympy's builds at n = 1,000 where they finish.
"""
from __future__ import annotations

import subprocess
import sys
import time

import peers
from harness import Row, Settings, Table, Target, fmt_time, time_once


def run(settings: Settings) -> list[Table]:
    import profile_build
    sizes = (10, 100, 1000) if settings.quick else (10, 100, 1000, 10_000, 100_000)
    torch = peers.torch() is not None
    table, rows = profile_build.stage_table(
        "W4", "build scaling, stage by stage: sum of n terms tanh(w_i*x_i + b_i)^2",
        [("w4", n) for n in sizes], torch)
    fig = {}
    for row in rows:
        if "error" not in row:
            fig[row["size"]] = profile_build.figures(row, fig.get(row["size"] // 10, {}).get(
                "row"))
            fig[row["size"]]["row"] = row
    for n in sizes:
        if n in fig and n <= 10_000:
            table.targets.append(Target(f"text → first gradient ÷ limit, n={n:,}",
                                        fig[n]["library_ratio"], "<= 2"))
            table.targets.append(Target(f"--emit (print + compile) ÷ limit, n={n:,}",
                                        fig[n]["emit_ratio"], "<= 2"))
    for n in sizes[1:]:
        if n in fig and fig[n]["growth"] is not None:
            table.targets.append(Target(f"text → first gradient growth n={n // 10:,}→{n:,}",
                                        fig[n]["growth"], "in 7 13"))
            table.targets.append(Target(f"--emit growth n={n // 10:,}→{n:,}",
                                        fig[n]["emit_growth"], "in 7 13"))
    if 1000 in fig:
        table.targets.append(Target("emitted grad_f per call ÷ the hand-written gradient, "
                                    "n=1,000", fig[1000]["call_ratio"], "<= 1.1"))
    big = max(fig, default=None)
    if big is not None:
        for what, key in (("text → first gradient", "rss_op"), ("--emit", "emit_rss_op")):
            table.targets.append(Target(f"peak RSS per op of the n={big:,} build, {what}",
                                        fig[big][key], "<= 2048", unit="B"))
        if fig[big]["torch_ratio"] is not None:
            table.targets.append(Target(f"text → first gradient ÷ torch build + backward, "
                                        f"n={big:,}", fig[big]["torch_ratio"], "<= 1"))
    n = 1000
    if n in fig:
        limit = fig[n]["limit"]
        for name, fn in (("casadi", _casadi), ("jax", _jax)):
            if settings.quick and name == "jax":
                table.rows.append(Row("jit(grad) first call, n=1,000", "jax", status="skipped",
                                      note="skipped in --quick"))
                continue
            fn(table, n, limit)
        if settings.quick:
            table.rows.append(Row("diff + lambdify, n=1,000", "sympy", status="skipped",
                                  note="skipped in --quick (given 120 s in the full run)"))
        else:
            _sympy(table, n, limit)
    table.notes.append("Linear growth means ×10 ± 30% per ×10 in n. Peers' builds (wall "
                       "time, one process) are shown against the same limit.")
    return [table]


def _peer_row(table, name, kind, seconds, limit, note=""):
    row = Row(name, kind, median=seconds)
    row.extra = {"text→grad (wall)": f"({fmt_time(seconds)})",
                 "÷ limit (text→grad / --emit)": f"{seconds / limit:.1f}× (wall)"}
    if note:
        row.extra["ok"] = note
    table.rows.append(row)


def _casadi(table, n, compile_s):
    ca = peers.casadi()
    if ca is None:
        table.rows.append(Row("SX build + gradient + Function", "casadi", status="missing",
                              note="not installed"))
        return

    def build():
        syms = {f"{k}{i}": ca.SX.sym(f"{k}{i}") for i in range(1, n + 1) for k in "bwx"}
        expr = 0
        for i in range(1, n + 1):
            expr = expr + ca.tanh(syms[f"w{i}"] * syms[f"x{i}"] + syms[f"b{i}"]) ** 2
        vec = ca.vertcat(*[syms[k] for k in sorted(syms)])
        return ca.Function("f", [vec], [expr, ca.gradient(expr, vec)])
    seconds = min(time_once(build, 3)[:2])
    _peer_row(table, f"SX build + gradient + Function, n={n:,}", "casadi", seconds, compile_s)


def _jax(table, n, compile_s):
    loaded = peers.jax()
    if loaded is None:
        table.rows.append(Row("jit(grad) first call", "jax", status="missing",
                              note="not installed"))
        return
    jax, jnp = loaded

    def f(*xs):
        total = 0.0
        for i in range(n):
            b, w, x = xs[3 * i:3 * i + 3]
            total = total + jnp.tanh(w * x + b) ** 2
        return total
    args = [0.1] * (3 * n)
    start = time.perf_counter()
    vg = jax.jit(jax.value_and_grad(f, argnums=tuple(range(3 * n))))
    value, _ = vg(*args)
    value.block_until_ready()
    seconds = time.perf_counter() - start
    _peer_row(table, f"jit(value_and_grad) trace + compile, n={n:,}", "jax", seconds, compile_s,
              "3n scalar arguments")


_SYMPY_SCRIPT = """
import sys, time, sympy as sp
n = int(sys.argv[1])
start = time.perf_counter()
syms = {f"{k}{i}": sp.Symbol(f"{k}{i}") for i in range(1, n + 1) for k in "bwx"}
expr = sp.Add(*[sp.tanh(syms[f"w{i}"] * syms[f"x{i}"] + syms[f"b{i}"]) ** 2
                for i in range(1, n + 1)])
names = sorted(syms)
grads = [sp.diff(expr, syms[k]) for k in names]
fn = sp.lambdify([syms[k] for k in names], [expr, grads], modules="math", cse=True)
print(time.perf_counter() - start)
"""


def _sympy(table, n, compile_s, timeout=120):
    if peers.sympy() is None:
        table.rows.append(Row("diff + lambdify", "sympy", status="missing",
                              note="not installed"))
        return
    try:
        out = subprocess.run([sys.executable, "-c", _SYMPY_SCRIPT, str(n)], timeout=timeout,
                             capture_output=True, text=True, check=True)
        _peer_row(table, f"diff + cse + lambdify, n={n:,}", "sympy", float(out.stdout),
                  compile_s)
    except subprocess.TimeoutExpired:
        table.rows.append(Row(f"diff + cse + lambdify, n={n:,}", "sympy", status="failed",
                              note=f"did not finish in {timeout} s"))
    except subprocess.CalledProcessError as exc:
        table.rows.append(Row(f"diff + cse + lambdify, n={n:,}", "sympy", status="failed",
                              note=(exc.stderr.strip().splitlines() or ["error"])[-1][:90]))

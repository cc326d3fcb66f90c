"""W4: compile scaling — ``sum_{i=1..n} tanh(w_i*x_i + b_i)^2`` for n = 10 … 10,000.

Input: the text for each n.  Output: one table: time from text to a callable gradient (parse,
lower, gradient pass + emit python, load), Python's own ``compile()`` of the emitted source,
emitted lines and ops, the per-call time of the gradient beside the hand-written gradient's
(benchmarks/programs.py), and the growth ratios n → 10n; plus
CasADi's, JAX's and sympy's builds where they finish.
"""
from __future__ import annotations

import subprocess
import sys
import time

import peers
import programs
from harness import Row, Settings, Table, Target, agree, fmt_time, time_once
from workloads import codegen


def text(n: int) -> str:
    return programs.w4(n).text


def point(n: int) -> dict[str, float]:
    return programs.w4(n).point


def reference(n: int, pt: dict, names: list[str]):
    """Hand-written value and gradient (a loop), in exprgrad's variable order."""
    import math
    value, grads = 0.0, {}
    for i in range(1, n + 1):
        w, x, b = pt[f"w{i}"], pt[f"x{i}"], pt[f"b{i}"]
        t = math.tanh(w * x + b)
        value += t * t
        d = 2.0 * t * (1.0 - t * t)
        grads[f"w{i}"], grads[f"x{i}"], grads[f"b{i}"] = d * x, d * w, d
    return value, tuple(grads[k] for k in names)


def build(src_text: str, cg):
    from exprgrad.lower import lower
    from exprgrad.parse import parse
    t0 = time.perf_counter()
    graph = lower(parse(src_text), src_text)
    t1 = time.perf_counter()
    source = cg.emit(graph, "python", name="f")
    t2 = time.perf_counter()
    _, grad_f = cg.load_python(source, "f")
    t3 = time.perf_counter()
    return (t1 - t0, t2 - t1, t3 - t2, t3 - t0), graph, source, grad_f


def run(settings: Settings) -> list[Table]:
    from exprgrad.autodiff import grad_program, op_count
    cols = ["text → grad_f", "parse + lower", "grad + emit", "load", "Python compile()",
            "÷ compile()", "lines", "ops", "per call", "hand-written per call", "÷ hand-written",
            "growth ×10 (time / lines / ops)"]
    table = Table("W4", "compile scaling: sum of n terms tanh(w_i*x_i + b_i)^2", columns=cols,
                  plain=True)
    cg = codegen()
    if cg is None:
        table.rows.append(Row("exprgrad", status="missing", note="exprgrad.codegen not built"))
        return [table]
    sizes = (10, 100, 1000) if settings.quick else (10, 100, 1000, 10000)
    prev = None
    at = {}
    for n in sizes:
        src_text = text(n)
        repeats = 3 if n <= 1000 else 1
        runs = [build(src_text, cg) for _ in range(repeats)]
        best = min(runs, key=lambda r: r[0][3])
        (front, emit_s, load_s, total), graph, source, grad_f = best
        compile_s = min(time_once(lambda: compile(source, "<w4>", "exec"), repeats)[:2])
        pt = point(n)
        names = sorted(pt)
        args = [pt[k] for k in names]
        gap = agree(grad_f(*args), reference(n, pt, names))
        limit = programs.load_limit(programs.w4(n).limit)
        call_s, limit_s = per_call([grad_f, limit], args, 7 if n <= 1000 else 3)
        lines = source.count("\n")
        prog = grad_program(graph)
        ops = op_count(prog.graph, prog.roots)
        growth = ""
        if prev is not None:
            growth = (f"{total / prev[0]:.1f} / {lines / prev[1]:.1f} / {ops / prev[2]:.1f}")
        prev = (total, lines, ops)
        at[n] = dict(total=total, compile=compile_s, lines=lines, ops=ops, call=call_s / limit_s)
        row = Row(f"n = {n:,}", median=total, status="ok" if not gap else "wrong",
                  note=gap)
        row.extra = {"text → grad_f": fmt_time(total), "parse + lower": fmt_time(front),
                     "grad + emit": fmt_time(emit_s), "load": fmt_time(load_s),
                     "Python compile()": fmt_time(compile_s),
                     "÷ compile()": f"{total / compile_s:.2f}×", "lines": f"{lines:,}",
                     "ops": f"{ops:,}", "per call": fmt_time(call_s),
                     "hand-written per call": fmt_time(limit_s),
                     "÷ hand-written": f"{call_s / limit_s:.2f}×",
                     "growth ×10 (time / lines / ops)": growth, "verified": not gap}
        table.rows.append(row)

    for big in sizes[1:]:
        small = big // 10
        for what in ("total", "lines", "ops"):
            ratio = at[big][what] / at[small][what]
            label = {"total": "time", "lines": "lines", "ops": "ops"}[what]
            table.targets.append(Target(f"{label} growth n={small:,}→{big:,}", ratio,
                                        "in 7 13"))
    table.targets.append(Target("text → callable gradient ÷ Python compile() of the emitted "
                                "source, n=1,000", at[1000]["total"] / at[1000]["compile"],
                                "<= 2"))
    table.targets.append(Target("emitted grad_f per call ÷ the hand-written gradient, n=1,000",
                                at[1000]["call"], "<= 1.1"))
    n = 1000
    for name, fn in (("casadi", _casadi), ("jax", _jax)):
        if settings.quick and name == "jax":
            table.rows.append(Row("jit(grad) first call, n=1,000", "jax", status="skipped",
                                  note="skipped in --quick"))
            continue
        fn(table, n, at[n]["compile"])
    if settings.quick:
        table.rows.append(Row("diff + lambdify, n=1,000", "sympy", status="skipped",
                              note="skipped in --quick (given 120 s in the full run)"))
    else:
        _sympy(table, n, at[n]["compile"])
    table.notes.append("Linear growth means ×10 ± 30% per ×10 in n. "
                       "\"÷ compile()\" is exprgrad's whole build over CPython's compile() of "
                       "the source exprgrad emits.")
    return [table]


def per_call(fns, args, rounds: int) -> list[float]:
    """Seconds per call of each of `fns` on `args`: the best of `rounds` rounds, the functions
    taking turns within a round so that a loaded machine slows them alike."""
    best = [float("inf")] * len(fns)
    number = max(1, int(0.02 / max(time_once(lambda: fns[0](*args), 1)[0], 1e-7)))
    for _ in range(rounds):
        for i, fn in enumerate(fns):
            start = time.perf_counter()
            for _ in range(number):
                fn(*args)
            best[i] = min(best[i], (time.perf_counter() - start) / number)
    return best


def _peer_row(table, name, kind, seconds, compile_s, note=""):
    row = Row(name, kind, median=seconds)
    row.extra = {"text → grad_f": fmt_time(seconds), "÷ compile()": f"{seconds / compile_s:.2f}×",
                 "growth ×10 (time / lines / ops)": note}
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

"""Where exprgrad's build spends its time, stage by stage, next to the limit (issue 15).

    python benchmarks/profile_build.py [--quick] [--only w4,chain] [--sizes 10,1000]
                                       [--json PATH] [--cprofile STAGE --only W --sizes N]

Input: the workloads of `programs` — W4 at n = 10 … 100,000, the depth-100,000 chain as one
nested expression and as 100,000 statements, the 4.3 MB / 100,000-statement pendulum.
Output: one table per workload, one row per size, with the time of each stage:

    lex         the tokenizer the parser uses, alone
    parse       the rest of text → AST (LALR loop and node builders)
    lower       AST → Graph
    grad        Graph → gradient Program (autodiff.grad_program)
    print       gradient Graph → Python source (codegen.emit, without its gradient pass)
    compile     CPython's compile() of that source
    exec        running the module (defining the functions)
    1st call    the first call of the emitted grad_f at the point (and, in their own column,
                its time per call beside the hand-written gradient's, taking turns: wall)
    limit       compile() of the hand-written straight-line gradient (programs.py)
    --emit      the emitting path: every stage above added up (what `exprgrad --emit python`
                and a compiled Function do), with its peak RSS over the RSS before parsing
    text→grad   the library path, exprgrad.compile(text) then f.grad(**point), in a process of
                its own after `import exprgrad`: the best of the first build ("cold": it loads
                the grammar) and the builds after it (at least 2, more while they take under a
                second), each after gc.collect(), taking turns with the limit's compile, which
                is measured again there for the ratio (as many times);
                with its wall time and its time in the cyclic garbage collector, and the cold
                run's peak RSS over the RSS after the imports, per op of the gradient program

and the ratios that issue 15 sets targets on (text→grad and --emit ÷ limit, growth ×10 per
×10 of n, text→grad ÷ PyTorch's build + backward of the same program where torch is installed:
`programs.torch_gradient`, CPU, in a process of its own).  lark's transformer of the issue's
stage list is gone: the parser's LALR loop calls the AST builders itself, so "parse" is both.
Each workload and size runs in a fresh subprocess, so one size's garbage and memory do not
reach the next one's clock.  Times are CPU seconds of the process (``time.process_time``; on a
shared machine wall time also counts other people's jobs), the best of a few runs below 1 s;
the wall time of text→grad is shown too.  Every emitted gradient is checked against the limit's.

``--cprofile STAGE`` prints cProfile's top functions for one stage of one workload and size.
The stage functions below each call one public function: when the API is renamed, only they
change.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))          # exprgrad from the checkout

import programs  # noqa: E402

SIZES = {"w4": (10, 100, 1000, 10_000, 100_000), "chain": (100_000,),
         "chain_lines": (100_000,), "pendulum": (100_000,)}
QUICK = {"w4": (10, 100, 1000), "chain": (1000,), "chain_lines": (1000,), "pendulum": (1000,)}
STAGES = ("lex", "parse", "lower", "grad", "print", "compile", "exec", "1st call")


# ---- the stages: one function each (adapt these when the API moves) ---------------------------

def stage_lex(text):
    """The tokens of `text`, as the parser reads them."""
    import importlib
    parse_mod = importlib.import_module("exprgrad.parse")   # the module, not the function
    if hasattr(parse_mod, "_fast_table"):
        table = parse_mod._fast_table()
        return sum(1 for _ in iter(table.regex.scanner(text).match, None))
    return sum(1 for _ in parse_mod._get_parser("\n" in text).lex(text))


def stage_parse(text):
    from exprgrad.parse import parse
    return parse(text)


def stage_lower(tree, text):
    from exprgrad.lower import lower
    return lower(tree, text)


def stage_grad(graph):
    """The gradient pass with the collector paused, as codegen.emit runs it."""
    from exprgrad.autodiff import grad_program
    from exprgrad.ir import gc_paused
    with gc_paused():
        return grad_program(graph)


def stage_print(graph, gradient):
    """The emitted file of f and grad_f, from the gradient program already built."""
    from exprgrad import codegen
    return codegen.emit_programs(graph, "python", [("f", codegen.value_view(gradient)),
                                                   ("grad_f", gradient)])


def stage_compile(source):
    return compile(source, "<emitted>", "exec")


def stage_exec(code):
    import builtins
    namespace = {"__builtins__": builtins}
    exec(code, namespace)  # noqa: S102 - exprgrad's own output
    return namespace["grad_f"]


def stage_first_call(grad_f, args):
    return grad_f(*args)


def library_path(text, point):
    """Text → first gradient value, as a user gets it."""
    import exprgrad
    f = exprgrad.compile(text)
    return f.grad(**point)


def op_count(gradient) -> int:
    from exprgrad.autodiff import op_count as count
    return count(gradient.graph, gradient.roots)


# ---- measuring one workload at one size (in a subprocess) ------------------------------------

#: samples each side gets at least (builds, the limit's compiles, PyTorch's builds), and more
#: while a side's samples have taken less than BUDGET seconds, up to MOST
LEAST, MOST, BUDGET = 3, 40, 1.0


def _clock(fn, *args, repeat=1, least=1):
    """(result, CPU seconds, wall seconds): the best of `least` runs at least, and of more (up
    to `repeat`) while the runs have taken under `BUDGET` seconds in all."""
    best, spent = None, 0.0
    for run in range(repeat):
        if run >= least and spent > BUDGET:
            break
        c0, w0 = time.process_time(), time.perf_counter()
        result = fn(*args)
        c1, w1 = time.process_time(), time.perf_counter()
        spent += c1 - c0
        if best is None or c1 - c0 < best[1]:
            best = (result, c1 - c0, w1 - w0)
    return best


class GcClock:
    """CPU seconds spent in the cyclic garbage collector (gc.callbacks), and full collections."""

    def __init__(self):
        self.seconds, self.full, self._start = 0.0, 0, None

    def __call__(self, phase, info):
        if phase == "start":
            self._start = time.process_time()
        elif self._start is not None:
            self.seconds += time.process_time() - self._start
            self.full += info["generation"] == 2

    def __enter__(self):
        import gc
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc):
        import gc
        gc.callbacks.remove(self)


def _rss_kb() -> int | None:
    """Peak RSS of this process since it started, in KB: /proc's VmHWM (None without /proc,
    as `_current_rss_kb` needs it too).  Not getrusage's ru_maxrss: it survives exec, so a
    child of a big parent (run.py after W3's arrays of 10^6 points) starts from the parent's
    RSS at the fork: a W5 run once read 2,964 B per op where the build peaks at 356."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _current_rss_kb() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def measure_stages(name: str, size: int, repeat: int) -> dict:
    prog = programs.make(name, size)
    args = [prog.point[v] for v in prog.variables]
    out: dict = {"workload": name, "size": size, "bytes": len(prog.text.encode())}
    base = _current_rss_kb()
    stages: dict = {}
    tokens, stages["lex"], _ = _clock(stage_lex, prog.text, repeat=repeat)
    tree, parse_cpu, _ = _clock(stage_parse, prog.text, repeat=repeat)
    stages["parse"] = max(parse_cpu - stages["lex"], 0.0)
    graph, stages["lower"], _ = _clock(stage_lower, tree, prog.text, repeat=repeat)
    del tree
    gradient, stages["grad"], _ = _clock(stage_grad, graph, repeat=repeat)
    source, stages["print"], _ = _clock(stage_print, graph, gradient, repeat=repeat)
    code, stages["compile"], _ = _clock(stage_compile, source, repeat=repeat)
    grad_f, stages["exec"], _ = _clock(stage_exec, code)
    result, stages["1st call"], _ = _clock(stage_first_call, grad_f, args)
    out["emit_peak_kb"], out["emit_base_kb"] = _rss_kb(), base
    _, limit_cpu, _ = _clock(compile, prog.limit, "<limit>", "exec", repeat=repeat)
    limit_f = programs.load_limit(prog.limit)
    expected = limit_f(*args)
    out["per_call"], out["limit_per_call"] = per_call([grad_f, limit_f], args,
                                                      7 if size <= 1000 else 3)
    out.update(tokens=tokens, stages=stages, limit=limit_cpu, ops=op_count(gradient),
               lines=source.count("\n"), limit_lines=prog.limit.count("\n"),
               agrees=_agree(result, expected))
    return out


def per_call(fns, args, rounds: int) -> list[float]:
    """Seconds per call of each of `fns` on `args`: the best of `rounds` rounds, the functions
    taking turns within a round so that a loaded machine slows them alike."""
    best = [float("inf")] * len(fns)
    start = time.perf_counter()
    fns[0](*args)
    number = max(1, int(0.02 / max(time.perf_counter() - start, 1e-7)))
    for _ in range(rounds):
        for i, fn in enumerate(fns):
            start = time.perf_counter()
            for _ in range(number):
                fn(*args)
            best[i] = min(best[i], (time.perf_counter() - start) / number)
    return best


def measure_library(name: str, size: int) -> dict:
    """The library path: cold (the first build in the process: the grammar is loaded, caches
    are empty), then warm builds (`_warm`); text→grad is the best of them all (for a program
    of seconds, a later build is slower than the first: it allocates from the memory the one
    before it freed, scattered).  The limit's compile takes turns with them, once more right
    after the cold build: as many samples each.  Peak RSS is the cold run's, over the RSS
    after the imports (read before the limit's first compile, whose peak it would be)."""
    import exprgrad  # noqa: F401 - imports are not part of the build
    prog = programs.make(name, size)
    base = _current_rss_kb()
    with GcClock() as gc_clock:
        value, cold_cpu, cold_wall = _clock(library_path, prog.text, prog.point)
    peak = _rss_kb()
    limit = _clock(compile, prog.limit, "<limit>", "exec")[1]
    expected = programs.load_limit(prog.limit)(*[prog.point[v] for v in prog.variables])
    got = (value[0], [value[1][v] for v in prog.variables])
    del value
    cpu, wall, gc_seconds, gc_full, limit = _warm(
        prog, (cold_cpu, cold_wall, gc_clock.seconds, gc_clock.full), limit)
    return {"cpu": cpu, "wall": wall, "cold_cpu": cold_cpu, "cold_wall": cold_wall,
            "peak_kb": peak, "base_kb": base, "agrees": _agree(got, expected),
            "gc": gc_seconds, "gc_full": gc_full, "limit": limit}


def _warm(prog, first: tuple, limit: float) -> tuple:
    """(CPU s, wall s, s in the collector, full collections) of the best of `first` (the cold
    build's) and the builds after it, and the best CPU s of the limit's compile (`limit`:
    its first), the two taking turns: `LEAST` builds at least and more while they have taken
    under `BUDGET` s (at most `MOST`), the rule `_clock` applies.  In turns, because this
    machine's speed drifts by up to 1.7× over seconds, and a ratio of times taken apart is
    that drift.  Each build starts after ``gc.collect()``: the one before it left its graph
    as cyclic garbage (a node points at its graph), which a user's build does not find."""
    import gc
    best, spent = first, first[0]
    for turn in range(2, MOST + 1):
        if turn > LEAST and spent > BUDGET:
            break
        gc.collect()
        this = _clock(compile, prog.limit, "<limit>", "exec")[1]
        limit = min(limit, this)
        gc.collect()
        with GcClock() as gc_clock:
            _, cpu, wall = _clock(library_path, prog.text, prog.point)
        if cpu < best[0]:
            best = (cpu, wall, gc_clock.seconds, gc_clock.full)
        spent += cpu
    return (*best, limit)


def measure_torch(name: str, size: int) -> dict:
    """PyTorch's build + backward of the program (CPU and wall seconds), checked against the
    limit's gradient; {"missing": True} where torch is not installed."""
    try:
        import torch
    except ImportError:
        return {"missing": True}
    torch.set_num_threads(1)        # scalar tensors: threads only add overhead
    prog = programs.make(name, size)
    programs.torch_gradient(programs.make(name, 10), torch)    # torch's own first-use costs
    # as many samples as exprgrad's builds get (`_warm`)
    result, cpu, wall = _clock(programs.torch_gradient, prog, torch, repeat=MOST, least=LEAST)
    expected = programs.load_limit(prog.limit)(*[prog.point[v] for v in prog.variables])
    return {"cpu": cpu, "wall": wall, "agrees": _agree(result, expected),
            "version": torch.__version__}


def _agree(result, expected) -> bool:
    value, partials = result
    return programs.close(value, expected[0]) and len(partials) == len(expected[1]) and all(
        programs.close(a, b) for a, b in zip(partials, expected[1]))


def measure(name: str, size: int, torch: bool = False) -> dict:
    """One row of the report: the stages, the library path and (with `torch`) the peer, each
    in a fresh subprocess."""
    row = _subprocess("stages", name, size)
    row.setdefault("workload", name)
    row.setdefault("size", size)
    if "error" not in row:
        row["library"] = _subprocess("library", name, size)
        if torch:
            row["torch"] = _subprocess("torch", name, size)
    return row


def _subprocess(what: str, name: str, size: int) -> dict:
    cmd = [sys.executable, __file__, "--one", what, name, str(size)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["failed"])[-1][:200]}
    return json.loads(done.stdout.strip().splitlines()[-1])


# ---- the report -------------------------------------------------------------------------------

def fmt(s: float | None) -> str:
    if s is None:
        return "–"
    if s >= 10:
        return f"{s:.1f} s"
    if s >= 1:
        return f"{s:.2f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.0f} ms" if s >= 0.1 else f"{s * 1e3:.1f} ms"
    return f"{s * 1e6:.0f} µs"


def figures(row: dict, prev: dict | None = None) -> dict:
    """The numbers issue 15 sets targets on, from one measured row (and `prev`, the same
    workload's row at a tenth of the size, for the growth per ×10): CPU seconds of text →
    first gradient ("library") and of the emitting path ("emit"), their ratios to the limit
    and to PyTorch, growth, and peak RSS per op of the gradient program (bytes)."""
    lib, torch = row.get("library", {}), row.get("torch", {})
    emit = sum(row["stages"].values())
    grows = prev is not None and row["size"] == 10 * prev["size"] and "error" not in prev

    def ratio(a, b):
        return a / b if a is not None and b else None

    def per_op(peak, base):
        return (peak - base) * 1024 / row["ops"] if peak is not None else None
    return {
        "library": lib.get("cpu"), "library_wall": lib.get("wall"), "emit": emit,
        "limit": row["limit"],
        # the limit compiled beside the builds, in turns (`_warm`), where measured
        "library_ratio": ratio(lib.get("cpu"), lib.get("limit") or row["limit"]),
        "emit_ratio": ratio(emit, row["limit"]),
        "growth": ratio(lib.get("cpu"), prev["library"].get("cpu")) if grows else None,
        "emit_growth": ratio(emit, sum(prev["stages"].values())) if grows else None,
        "rss_op": per_op(lib.get("peak_kb"), lib.get("base_kb")),
        "emit_rss_op": per_op(row.get("emit_peak_kb"), row.get("emit_base_kb")),
        "torch": torch.get("cpu"), "torch_ratio": ratio(lib.get("cpu"), torch.get("cpu")),
        "call_ratio": ratio(row.get("per_call"), row.get("limit_per_call")),
        "ok": bool(row["agrees"] and lib.get("agrees") and torch.get("agrees", True)),
    }


def _pair(a, b, form) -> str:
    return " / ".join("–" if x is None else form(x) for x in (a, b))


def cells(row: dict, prev: dict | None = None) -> dict:
    """One row of the report as text, column → cell (run.py's W4 and W5 tables use these)."""
    f, lib = figures(row, prev), row.get("library", {})
    torch = row.get("torch", {})
    out = {"n": f"{row['size']:,}", "MB": f"{row['bytes'] / 1e6:.2f}",
           "tokens": f"{row['tokens']:,}", "ops": f"{row['ops']:,}"}
    out.update({s: fmt(row["stages"][s]) for s in STAGES})
    out.update({
        "limit (stages / text→grad)": _pair(row["limit"], lib.get("limit"), fmt),
        "--emit": fmt(f["emit"]),
        "text→grad (wall)": (f"{fmt(lib['cpu'])} ({fmt(lib['wall'])})" if "cpu" in lib
                             else lib.get("error", "?")),
        "cold": fmt(lib.get("cold_cpu")),
        "gc in text→grad": f"{fmt(lib['gc'])} ({lib['gc_full']} full)" if "gc" in lib else "",
        "÷ limit (text→grad / --emit)": _pair(f["library_ratio"], f["emit_ratio"],
                                              lambda x: f"{x:.1f}×"),
        "×10 growth (text→grad / --emit)": (_pair(f["growth"], f["emit_growth"],
                                                  lambda x: f"{x:.1f}")
                                            if f["emit_growth"] is not None else ""),
        "RSS/op (text→grad / --emit)": _pair(f["rss_op"], f["emit_rss_op"],
                                             lambda x: f"{x:,.0f} B"),
        "torch build + backward": ("not installed" if torch.get("missing") else
                                   fmt(torch.get("cpu")) if "cpu" in torch else
                                   torch.get("error", "")),
        "÷ torch": f"{f['torch_ratio']:.2f}×" if f["torch_ratio"] is not None else "",
        "grad_f per call ÷ hand-written": (
            f"{fmt(row['per_call'])} ÷ {fmt(row['limit_per_call'])} = {f['call_ratio']:.2f}×"
            if f["call_ratio"] is not None else ""),
        "ok": "✓" if f["ok"] else "✗",
    })
    return out


COLUMNS = (["workload", "n", "MB", "tokens", "ops", *STAGES, "limit (stages / text→grad)",
            "--emit", "text→grad (wall)", "cold", "gc in text→grad",
            "÷ limit (text→grad / --emit)", "×10 growth (text→grad / --emit)",
            "RSS/op (text→grad / --emit)", "torch build + backward", "÷ torch",
            "grad_f per call ÷ hand-written", "ok"])


def report(rows: list[dict]) -> str:
    with_torch = any("torch" in r for r in rows)
    head = [c for c in COLUMNS if with_torch or "torch" not in c]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    prev: dict = {}
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['workload']} | {r['size']:,} | {r['error']} |")
            continue
        text = {"workload": r["workload"], **cells(r, prev.get(r["workload"]))}
        prev[r["workload"]] = r
        lines.append("| " + " | ".join(text[c] for c in head) + " |")
    return "\n".join(lines)


def stage_table(key: str, title: str, runs: list[tuple[str, int]], torch: bool):
    """A `harness.Table` of `runs` (workload, size) for benchmarks/run.py, one row per run
    with the report's columns, and the measured rows (for the caller's targets)."""
    from harness import Row, Table
    columns = [c for c in COLUMNS[1:] if torch or "torch" not in c]
    table = Table(key, title, columns=columns, plain=True)
    rows, prev = [], {}
    for name, size in runs:
        row = measure(name, size, torch=torch)
        rows.append(row)
        label = f"{name} n = {size:,}"
        if "error" in row:
            table.rows.append(Row(label, status="failed", note=row["error"]))
            continue
        out = Row(label, median=figures(row, prev.get(name))["library"])
        out.extra = cells(row, prev.get(name))
        out.status = "ok" if out.extra["ok"] == "✓" else "wrong"
        prev[name] = row
        table.rows.append(out)
    table.notes.append(
        "CPU seconds of the process (time.process_time), each workload and size in fresh "
        "processes. Stages: lex, parse (the LALR loop calling the AST builders: there is no "
        "separate transformer), lower, grad (the gradient pass), print (Python source), "
        "compile (CPython's compile() of it), exec, 1st call (of the emitted grad_f); "
        "--emit = their sum. text→grad = exprgrad.compile(text) + the first f.grad(**point) "
        "(its first calls are interpreted: no code is printed): the best of the first build "
        f"and more ({LEAST} in all at least, more while they take under {BUDGET:g} s), each "
        "after gc.collect(), with its wall time; "
        "cold = the first build in a process. limit = CPython's compile() of the hand-written "
        "straight-line gradient, measured beside the stages (for --emit) and again taking "
        "turns with the warm builds (for text→grad): the machine's speed drifts. RSS/op = "
        "peak RSS over the RSS before the build, per op of the gradient program. torch = "
        "PyTorch's build + backward of the same program (float64 scalar tensors, 1 thread), "
        "the best of its builds by the same rule. ok = every gradient matches the limit's.")
    return table, rows


def cprofile(stage: str, name: str, size: int, top: int = 25) -> None:
    import cProfile
    import pstats
    prog = programs.make(name, size)
    tree = stage_parse(prog.text)
    graph = stage_lower(tree, prog.text)
    gradient = stage_grad(graph)
    source = stage_print(graph, gradient)
    code = stage_compile(source)
    grad_f = stage_exec(code)
    args = [prog.point[v] for v in prog.variables]
    calls = {"lex": lambda: stage_lex(prog.text), "parse": lambda: stage_parse(prog.text),
             "lower": lambda: stage_lower(tree, prog.text), "grad": lambda: stage_grad(graph),
             "print": lambda: stage_print(graph, gradient),
             "compile": lambda: stage_compile(source), "1st call": lambda: grad_f(*args),
             "library": lambda: library_path(prog.text, prog.point)}
    profiler = cProfile.Profile()
    profiler.runcall(calls[stage])
    pstats.Stats(profiler).sort_stats("tottime").print_stats(top)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes only")
    ap.add_argument("--only", help="workloads, comma-separated: " + ",".join(SIZES))
    ap.add_argument("--sizes", help="sizes, comma-separated (default: the workload's)")
    ap.add_argument("--json", help="also write the measurements to this file")
    ap.add_argument("--torch", action="store_true", help="also PyTorch's build + backward")
    ap.add_argument("--cprofile", metavar="STAGE", help="profile one stage: " + ", ".join(
        [*STAGES, "library"]))
    ap.add_argument("--one", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one or args.cprofile:
        from exprgrad import limits
        # The workloads reach 4.3 MB and 1.3 M nodes, past the default limits (2 MB, 1 M
        # nodes): raised as a user with such programs raises them (exprgrad/limits.py).
        # (Importing exprgrad here also keeps its imports off the first stage's clock.)
        limits.MAX_SOURCE_CHARS = max(limits.MAX_SOURCE_CHARS, 10_000_000)
        limits.MAX_NODES = max(limits.MAX_NODES, 10_000_000)
    if args.one:
        what, name, size = args.one
        size = int(size)
        result = (measure_stages(name, size, 3 if size <= 10_000 else 1) if what == "stages"
                  else measure_torch(name, size) if what == "torch"
                  else measure_library(name, size))
        print(json.dumps(result))
        return 0
    names = args.only.split(",") if args.only else list(SIZES)
    if args.cprofile:
        size = int(args.sizes) if args.sizes else (QUICK if args.quick else SIZES)[names[0]][-1]
        cprofile(args.cprofile, names[0], size)
        return 0
    rows = []
    for name in names:
        sizes = ([int(s) for s in args.sizes.split(",")] if args.sizes
                 else (QUICK if args.quick else SIZES)[name])
        for size in sizes:
            rows.append(measure(name, size, torch=args.torch))
            print(f"  {name} n={size:,} done", file=sys.stderr, flush=True)
    print(report(rows))
    print(f"\nCPU seconds (time.process_time) per stage; load average at the end: "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs.")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The benchmark harness: callables → verified timings → Markdown tables and JSON.

Input: for each workload, a reference and a list of candidates (exprgrad's paths and the
peers'), each a zero-argument callable plus the numbers it computes.  Output: a `Table` per
workload whose rows carry median, minimum and maximum seconds per call and the ratio to the
reference measured in the same run, and a list of `Target`s (a measured ratio against the goal
the issue sets).  Every candidate's numbers are compared with the reference's *before* it is
timed; a candidate that disagrees is reported as wrong and never timed.

Timing: each callable is warmed up, then called in batches large enough to last `min_time`
(the process's CPU time is sampled with each batch too: ``extra["cpu_median_s"]``);
samples of all the candidates of one table are interleaved, so a burst of load from another
process disturbs every row alike, and the garbage collector runs a full collection before
each sample, so garbage left by one row is not collected on another row's clock.  A ratio is
the median over the rounds of the row's sample ÷ the reference's sample of the same round
(`Row.ratio_to`): the machine's speed drifts over seconds, and each row's own median can land
in a different stretch of it; the minimum is not robust either (a sample that ran while a
sibling core was idle can be twice as fast as the rest).  Median, minimum and maximum per call
are shown too (so dividing two medians shown need not give the ratio shown).  A table with
``cpu=True`` shows the same ratio of CPU times beside the wall-time one (on a loaded
machine the CPU time of single-threaded Python is the steadier measure; a peer's threads add
up in it, so it is no measure for them).
"""
from __future__ import annotations

import gc
import importlib
import math
import statistics
import time
from dataclasses import dataclass, field
from typing import Any, Callable

PEERS = ("micrograd", "sympy", "jax", "torch", "casadi", "numexpr")


@dataclass
class Settings:
    quick: bool = False

    @property
    def min_time(self) -> float:       # seconds per timing sample
        return 0.004 if self.quick else 0.04

    @property
    def samples(self) -> int:
        return 7 if self.quick else 15


@dataclass
class Row:
    name: str
    kind: str = "exprgrad"            # "reference", "exprgrad", or a peer's name
    median: float | None = None
    min: float | None = None
    max: float | None = None
    calls: int = 0
    status: str = "ok"                # ok | wrong | failed | missing | skipped
    note: str = ""
    extra: dict = field(default_factory=dict)
    # seconds per call of each round of `time_rows` (wall, CPU), in round order, and that
    # `time_rows` call (rows of the same call were timed in the same rounds)
    samples: list = field(default_factory=list, repr=False)
    cpu_samples: list = field(default_factory=list, repr=False)
    rounds: object = field(default=None, repr=False)

    @property
    def cpu(self) -> float | None:
        """Median CPU seconds per call of the same samples (set by `time_rows`)."""
        return self.extra.get("cpu_median_s")

    def ratio_to(self, ref: "Row", cpu: bool = False) -> float | None:
        """The median over the rounds of this row's sample ÷ `ref`'s sample of the same
        round (rows timed apart: median ÷ median).  Paired: this machine's speed drifts by up
        to 1.7× over seconds, and a median of each row's samples can land in a slow stretch
        for one row and a fast one for the other (W1 once measured the same code at 1.27×
        that way; its paired ratio was 0.99×)."""
        mine, theirs = (self.cpu_samples, ref.cpu_samples) if cpu else (self.samples,
                                                                          ref.samples)
        if self.rounds is not None and self.rounds is ref.rounds and all(theirs):
            return statistics.median(a / b for a, b in zip(mine, theirs))
        a, b = (self.cpu, ref.cpu) if cpu else (self.median, ref.median)
        if a is None or b is None or b == 0:
            return None
        return a / b


@dataclass
class Target:
    what: str
    measured: float | None
    goal: str                         # e.g. "<= 1.1" or ">= 2"
    note: str = ""
    unit: str = "×"                   # "×" for ratios, "s" for seconds, "B" for bytes

    @property
    def met(self) -> bool | None:
        if self.measured is None:
            return None
        if self.goal.startswith("in "):
            _, lo, hi = self.goal.split()
            return float(lo) <= self.measured <= float(hi)
        op, value = self.goal.split()
        value = float(value)
        return {"<=": self.measured <= value, ">=": self.measured >= value,
                "<": self.measured < value, ">": self.measured > value}[op]


@dataclass
class Table:
    key: str                           # "W1"
    title: str
    rows: list[Row] = field(default_factory=list)
    reference: str = ""                # name of the reference row
    unit: str = "per call"
    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)   # extra columns read from Row.extra
    plain: bool = False                # only the extra columns (tables of one-off steps)
    cpu: bool = False                  # show the CPU-time ratio beside the wall-time one

    def row(self, name: str) -> Row | None:
        return next((r for r in self.rows if r.name == name), None)

    def ratio(self, name: str, to: str | None = None, cpu: bool = False) -> float | None:
        a, b = self.row(name), self.row(to or self.reference)
        return a.ratio_to(b, cpu) if a and b else None


# ---- peers ------------------------------------------------------------------------------------

def peer_versions() -> dict[str, str | None]:
    """Installed version of every peer, None where it is missing."""
    import peers
    found = {}
    for name in PEERS:
        if peers.DISABLED:
            found[name] = None
            continue
        try:
            module = importlib.import_module(name)
        except Exception:              # noqa: BLE001 - a broken install counts as missing
            found[name] = None
            continue
        version = getattr(module, "__version__", None)
        if version is None:
            try:
                from importlib.metadata import version as dist_version
                version = dist_version(name)
            except Exception:          # noqa: BLE001
                version = "installed"
        found[name] = str(version)
    return found


# ---- checking ---------------------------------------------------------------------------------

def flatten(x) -> list[float]:
    """Numbers of a nested result (floats, tuples, lists, dicts by sorted key, arrays)."""
    out: list[float] = []
    stack = [x]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item[k] for k in sorted(item, reverse=True))
        elif isinstance(item, (list, tuple)):
            stack.extend(reversed(item))
        elif hasattr(item, "shape") and getattr(item, "shape", ()) != ():
            out.extend(float(v) for v in item.ravel()) if item.size <= 64 else out.append(item)
        else:
            out.append(item)
    return out


def agree(got, want, rel: float = 1e-9, abs_: float = 1e-12) -> str:
    """'' when `got` matches `want` number by number, else a short description of the gap."""
    import numpy as np
    a, b = flatten(got), flatten(want)
    if len(a) != len(b):
        return f"{len(a)} numbers where the reference has {len(b)}"
    for i, (x, y) in enumerate(zip(a, b)):
        if hasattr(x, "shape") or hasattr(y, "shape"):
            x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
            if x.shape != y.shape:
                return f"item {i}: shape {x.shape} vs {y.shape}"
            if not np.allclose(x, y, rtol=rel, atol=abs_):
                worst = float(np.max(np.abs(x - y)))
                return f"item {i}: arrays differ (max abs difference {worst:.3g})"
        else:
            x, y = float(x), float(y)
            if not math.isclose(x, y, rel_tol=rel, abs_tol=abs_):
                return f"item {i}: {x!r} vs {y!r}"
    return ""


# ---- timing -----------------------------------------------------------------------------------

@dataclass
class Candidate:
    row: Row
    fn: Callable[[], Any] | None
    number: int = 1
    samples: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)     # CPU seconds per call, same samples


def _calibrate(fn: Callable[[], Any], min_time: float) -> int:
    number = 1
    while True:
        start = time.perf_counter()
        for _ in range(number):
            fn()
        elapsed = time.perf_counter() - start
        if elapsed >= min_time or number >= 10_000_000:
            return number
        number = max(number * 2, int(number * min_time / max(elapsed, 1e-9) * 1.1))


def time_rows(candidates: list[Candidate], settings: Settings,
              samples: int | None = None) -> None:
    """Fill median/min/max per call of every candidate, interleaving their samples."""
    live = [c for c in candidates if c.fn is not None and c.row.status == "ok"]
    for c in live:
        c.fn()                                        # warm-up (JIT, caches, lazy imports)
        c.number = _calibrate(c.fn, settings.min_time)
    for _ in range(samples or settings.samples):
        for c in live:
            fn, number = c.fn, c.number
            gc.collect()                              # every sample starts from a clean heap
            cpu = time.process_time()
            start = time.perf_counter()
            for _ in range(number):
                fn()
            c.samples.append((time.perf_counter() - start) / number)
            c.cpu.append((time.process_time() - cpu) / number)
    for c in live:
        c.row.samples, c.row.cpu_samples, c.row.rounds = c.samples, c.cpu, live
        c.row.median = statistics.median(c.samples)
        # CPU time of the whole process (every thread): other processes' load disturbs it less
        c.row.extra["cpu_median_s"] = statistics.median(c.cpu)
        c.row.extra["CPU"] = fmt_time(c.row.extra["cpu_median_s"])
        c.row.min = min(c.samples)
        c.row.max = max(c.samples)
        c.row.calls = c.number * len(c.samples)


def time_once(fn: Callable[[], Any], repeats: int = 3) -> tuple[float, float, float, Any]:
    """(median, min, max, last result) of a few single calls: for slow one-off steps."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times), max(times), result


def time_build(fn: Callable[[], Any], repeats: int = 3) -> tuple[float, float, Any]:
    """(median wall seconds, median CPU seconds of this process, last result) of a few single
    calls, each from a clean heap: for builds on a shared machine, where the CPU time is what a
    build costs and the wall time also counts the other jobs (threads of a peer add up)."""
    walls, cpus, result = [], [], None
    for _ in range(repeats):
        gc.collect()
        w, c = time.perf_counter(), time.process_time()
        result = fn()
        cpus.append(time.process_time() - c)
        walls.append(time.perf_counter() - w)
    return statistics.median(walls), statistics.median(cpus), result


def fill_once(row: Row, fn: Callable[[], Any], repeats: int = 3) -> Any:
    row.median, row.min, row.max, result = time_once(fn, repeats)
    row.calls = repeats
    return result


# ---- the runner's bookkeeping: rows verified, then timed --------------------------------------

class Bench:
    """Collects the candidates of one table: `add(name, fn, kind)` checks `fn()` against the
    reference's numbers at once; `run()` times every candidate that agreed."""

    def __init__(self, table: Table, settings: Settings, rel: float = 1e-9,
                 abs_: float = 1e-12):
        self.table, self.settings, self.rel, self.abs = table, settings, rel, abs_
        self.expected = None
        self.candidates: list[Candidate] = []

    def reference(self, name: str, fn: Callable[[], Any]) -> Row:
        self.expected = fn()
        self.table.reference = name
        return self._row(name, fn, "reference", check=False)

    def add(self, name: str, fn: Callable[[], Any] | None, kind: str = "exprgrad",
            note: str = "", rel: float | None = None, expected=None) -> Row:
        return self._row(name, fn, kind, note=note, rel=rel, expected=expected)

    def missing(self, name: str, kind: str, note: str = "not installed") -> Row:
        row = Row(name, kind, status="missing", note=note)
        self.table.rows.append(row)
        return row

    def failed(self, name: str, kind: str, error: BaseException | str) -> Row:
        row = Row(name, kind, status="failed", note=_describe(error))
        self.table.rows.append(row)
        return row

    def _row(self, name, fn, kind, check=True, note="", rel=None, expected=None) -> Row:
        row = Row(name, kind, note=note)
        self.table.rows.append(row)
        if fn is None:
            row.status = "missing"
            return row
        if check:
            try:
                got = fn()
            except Exception as exc:   # noqa: BLE001 - a peer's failure is a result
                row.status, row.note = "failed", _describe(exc)
                return row
            gap = agree(got, self.expected if expected is None else expected,
                        rel=self.rel if rel is None else rel, abs_=self.abs)
            if gap:
                row.status, row.note = "wrong", f"does not match the reference: {gap}"
                return row
            row.extra["verified"] = True
        else:
            row.extra["verified"] = True
        self.candidates.append(Candidate(row, fn))
        return row

    def run(self, samples: int | None = None) -> Table:
        time_rows(self.candidates, self.settings, samples)
        return self.table


def _describe(error) -> str:
    if isinstance(error, str):
        return error
    text = str(error).strip().splitlines()
    first = text[0] if text else ""
    if len(first) > 90:
        first = first[:87] + "..."
    return f"{type(error).__name__}: {first}" if first else type(error).__name__


# ---- output -----------------------------------------------------------------------------------

def fmt_time(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9)):
        if seconds >= scale or unit == "ns":
            value = seconds / scale
            return f"{value:.3g} {unit}" if value < 1000 else f"{value:.0f} {unit}"
    return f"{seconds:.3g} s"


def fmt_ratio(r: float | None) -> str:
    if r is None:
        return "—"
    return f"{r:.2f}×" if r < 100 else f"{r:.0f}×"


def fmt_target(measured, goal: str, unit: str) -> tuple[str, str]:
    """(measured, goal) as text: seconds, ratios (×) or plain numbers (unit "")."""
    if unit == "s":
        op, value = goal.split()
        return fmt_time(measured), f"{op} {fmt_time(float(value))}"
    if unit == "":
        return ("—" if measured is None else f"{measured:.1e}"), goal
    if unit == "B":
        op, value = goal.split()
        return ("—" if measured is None else f"{measured:,.0f} B"), f"{op} {float(value):,.0f} B"
    return fmt_ratio(measured), fmt_goal(goal)


def fmt_goal(goal: str) -> str:
    if goal.startswith("in "):
        _, lo, hi = goal.split()
        return f"{lo}× – {hi}×"
    return goal + "×"


def markdown(table: Table) -> str:
    if table.plain:
        return _markdown_plain(table)
    ref = table.row(table.reference)
    extra = table.columns
    cpu = ["CPU × reference"] if table.cpu else []
    head = ["implementation", "median", "min", "max", "× reference", *cpu, *extra, "checked"]
    lines = [f"### {table.key} — {table.title}", ""]
    if ref is not None:
        lines.append(f"Reference: **{ref.name}** ({table.unit}; ratios: median over the "
                     "rounds of sample ÷ reference sample).")
        lines.append("")
    lines.append("| " + " | ".join(head) + " |")
    lines.append("| --- | " + " | ".join("---:" for _ in head[1:-1]) + " | --- |")
    for r in table.rows:
        if r.status == "ok":
            checked = "✓ matches reference" if r.kind != "reference" else "reference"
            cells = [fmt_time(r.median), fmt_time(r.min), fmt_time(r.max),
                     fmt_ratio(r.ratio_to(ref)) if ref else "—"]
            cells += [fmt_ratio(r.ratio_to(ref, cpu=True)) if ref else "—"] * len(cpu)
        else:
            checked = f"{r.status}: {r.note}" if r.note else r.status
            cells = ["—"] * (4 + len(cpu))
        cells += [str(r.extra.get(c, "")) for c in extra]
        name = r.name if r.kind in ("exprgrad", "reference") else f"{r.name} [{r.kind}]"
        lines.append("| " + " | ".join([name, *cells, checked]) + " |")
    return "\n".join(lines + _targets_and_notes(table))


def _markdown_plain(table: Table) -> str:
    head = ["", *table.columns]
    lines = [f"### {table.key} — {table.title}", "",
             "| " + " | ".join(head) + " |",
             "| --- | " + " | ".join("---:" for _ in head[1:]) + " |"]
    for r in table.rows:
        name = r.name if r.kind in ("exprgrad", "reference") else f"{r.name} [{r.kind}]"
        cells = [str(r.extra.get(c, "")) for c in table.columns]
        if r.status != "ok":
            cells = [f"{r.status}: {r.note}" if r.note else r.status] + [""] * (len(cells) - 1)
        lines.append("| " + " | ".join([name, *cells]) + " |")
    return "\n".join(lines + _targets_and_notes(table))


def _targets_and_notes(table: Table) -> list[str]:
    lines: list[str] = []
    if table.targets:
        lines += ["", "| target | measured | goal | met |", "| --- | ---: | ---: | --- |"]
        for t in table.targets:
            met = {True: "✓ yes", False: "✗ no", None: "— not measured"}[t.met]
            measured, goal = fmt_target(t.measured, t.goal, t.unit)
            goal = goal.replace("<=", "≤").replace(">=", "≥")
            note = f" ({t.note})" if t.note else ""
            lines.append(f"| {t.what}{note} | {measured} | {goal} | {met} |")
    for note in table.notes:
        lines += ["", note]
    return lines


def to_json(table: Table) -> dict:
    ref = table.row(table.reference)
    return {
        "key": table.key, "title": table.title, "reference": table.reference,
        "unit": table.unit, "notes": table.notes,
        "rows": [{"name": r.name, "kind": r.kind, "status": r.status, "note": r.note,
                  "median_s": r.median, "min_s": r.min, "max_s": r.max, "calls": r.calls,
                  "ratio_to_reference": r.ratio_to(ref) if ref and r.status == "ok" else None,
                  "cpu_ratio_to_reference": r.ratio_to(ref, cpu=True)
                  if ref and r.status == "ok" else None,
                  **{k: v for k, v in r.extra.items()}} for r in table.rows],
        "targets": [{"what": t.what, "measured": t.measured, "goal": t.goal, "unit": t.unit,
                     "met": t.met, "note": t.note} for t in table.targets],
    }

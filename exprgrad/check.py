"""The three-way cross-check: a `Function` and a point → a `Report`, one row per variable.

Each row holds four figures for ∂f/∂v at the point, obtained independently:

- **DAG**: reverse mode over the graph with the registry's derivative rules (`Function.grad`);
- **sympy**: `sympy.diff` of the closed form built from each op's forward ``sym`` only,
  evaluated at the point's exact binary values to 30 digits (symbolic.py);
- **exp-expanded**: the same after sympy rewrites tanh, sinh and cosh via exp;
- **finite diff**: Ridders' extrapolation of central differences of the float forward
  (`ir.evaluate`), starting from a step of `FD_STEP` × max(1, |v|) and shrinking it by 1.4
  per stage; its own error estimate comes with it.

Tolerances (G is the gradient's scale, max(1, max |∂f/∂v|)):

- DAG vs sympy and vs exp-expanded: ``|a - b| <= SYM_RTOL·max(|a|, |b|) + SYM_ATOL·G``;
- DAG vs finite differences: ``|a - b| <= FD_RTOL·max(|a|, |b|) + FD_ATOL·max(G, |f|)
  + 2·(Ridders' error estimate)``.

Non-smooth points.  relu and abs at 0 and max/min at ties have no derivative; the DAG gives
PyTorch's convention (relu'(0) = 0), sympy its own (Heaviside(0) = 1/2) and central differences
the mean of the two one-sided slopes.  When the point sits exactly on such a kink (the op's
``kink`` is 0) for a node that depends on v and the figures differ, the row says ``~`` ("not
differentiable here"), shows both one-sided slopes in its note, and does not fail the check.
Finite-difference steps that would cross a kink near the point are shrunk until they don't.

Budgets: the symbolic side runs under `symbolic.Budget` (size, depth, time) and finite
differences under `FD_TIME_BUDGET` seconds; what did not fit is reported as skipped, and when
some variables get no finite difference, one directional derivative along a fixed pseudo-random
direction checks the whole gradient at once.  The numbers never wait on sympy past its budget.

>>> import exprgrad as eg
>>> report = eg.compile("tanh(x1*w1 + x2*w2 + b)").check(
...     x1=2, x2=0, w1=-3, w2=1, b=6.8813735870195432)
>>> report.ok, [row.mark for row in report.rows]
(True, ['✓', '✓', '✓', '✓', '✓'])
"""
from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass, field

from .errors import DomainError, SymbolicError
from .ir import evaluate
from .ops import OPS
from . import symbolic

SYM_RTOL, SYM_ATOL = 1e-9, 1e-12
FD_RTOL, FD_ATOL = 1e-6, 1e-8
FD_STEP = 0.02              # first step of Ridders' tableau, relative to max(1, |v|)
FD_STAGES = 8               # at most 2·FD_STAGES evaluations per variable
FD_SHRINK = 8               # times a step is cut by 4 to keep the stencil in the domain
FD_TIME_BUDGET = 2.0        # seconds for all finite differences of one check

# "skipped": no figure within the budgets (the notes and the directional check cover it);
# "unchecked": no figure exists at this point (e.g. the value overflows)
MARKS = {"agree": "✓", "disagree": "✗", "kink": "~", "skipped": "·", "unchecked": "?"}


@dataclass
class Row:
    """One variable's figures; None where a figure is unavailable (see `notes`)."""
    name: str
    value: float                        # the variable's value at the point
    dag: float
    sympy: float | None = None
    expanded: float | None = None
    fd: float | None = None
    fd_error: float | None = None       # Ridders' error estimate
    fd_left: float | None = None        # one-sided slopes, at a kink only
    fd_right: float | None = None
    abs_err: float = 0.0                # largest |other − DAG| over the available figures
    rel_err: float = 0.0                # abs_err / max(|DAG|, |other|)
    status: str = "agree"               # a key of MARKS
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status != "disagree"

    @property
    def mark(self) -> str:
        return MARKS[self.status]

    def to_dict(self) -> dict:
        return {"variable": self.name, "value": self.value, "dag": _finite(self.dag),
                "sympy": self.sympy, "exp_expanded": self.expanded, "finite_diff": self.fd,
                "finite_diff_error": self.fd_error, "finite_diff_left": self.fd_left,
                "finite_diff_right": self.fd_right, "abs_err": _finite(self.abs_err),
                "rel_err": _finite(self.rel_err), "status": self.status, "ok": self.ok,
                "notes": self.notes}


@dataclass
class Directional:
    """∇f·d against a finite difference along d, for gradients too big to check one by one."""
    dag: float
    fd: float | None
    fd_error: float | None
    ok: bool

    def __str__(self) -> str:
        fd = "unavailable" if self.fd is None else _num(self.fd)
        return (f"directional check along a pseudo-random direction: DAG {_num(self.dag)}, "
                f"finite diff {fd} {'✓' if self.ok else '✗'}")


@dataclass
class Report:
    output: str
    value: float
    point: dict[str, float]
    rows: list[Row]
    skipped: dict[str, str] = field(default_factory=dict)   # column → reason
    directional: Directional | None = None

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rows) and (self.directional is None
                                                 or self.directional.ok)

    def table(self) -> tuple[list[str], list[list[str]]]:
        """Header and rows (strings) of the table that `str()` and the CLI print."""
        header = ["variable", "value", f"∂{self.output}/∂variable", "sympy", "exp-expanded",
                  "finite diff", "agree"]
        rows = [[r.name, repr(r.value), _num(r.dag), _num(r.sympy, "sympy" in self.skipped),
                 _num(r.expanded, "exp-expanded" in self.skipped), _num(r.fd), r.mark]
                for r in self.rows]
        return header, rows

    def notes(self) -> list[str]:
        """The lines under the table: what was skipped and why, kinks, the verdict."""
        lines = []
        for column, reason in self.skipped.items():
            missing = sum(1 for r in self.rows if _figure(r, column) is None)
            lines.append(f"{column}: {missing} of {len(self.rows)} {reason}")
        by_note: dict[str, list[str]] = {}     # one line per note, not per variable
        for r in self.rows:
            for note in r.notes:
                by_note.setdefault(note, []).append(r.name)
        lines += [f"{_names(names)}: {note}" for note, names in by_note.items()]
        if self.directional is not None:
            lines.append(str(self.directional))
        bad = [r.name for r in self.rows if not r.ok]
        kinks = [r.name for r in self.rows if r.status == "kink"]
        unchecked = [r.name for r in self.rows if r.status == "unchecked"]
        if unchecked:
            lines.append(f"? nothing was compared for {_names(unchecked)}")
        if kinks:
            lines.append(f"~ not differentiable at this point in {_names(kinks)}: the "
                         "figures follow different conventions there and are not compared")
        if bad:
            lines.append(f"✗ the figures disagree for {_names(bad)}")
        elif not self.ok:
            lines.append("✗ the directional check disagrees")
        else:
            against = [f"finite differences {FD_RTOL:g}"]
            if any(r.sympy is not None or r.expanded is not None for r in self.rows):
                against.insert(0, f"sympy {SYM_RTOL:g}")
            lines.append(f"✓ no disagreement (relative tolerances: {', '.join(against)})")
        return lines

    def __str__(self) -> str:
        header, rows = self.table()
        widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
                  for i, h in enumerate(header)]
        lines = [f"{self.output} = {_num(self.value)}", "",
                 "  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip(),
                 "  ".join("-" * w for w in widths)]
        lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
        return "\n".join(lines + [""] + self.notes())

    def to_dict(self) -> dict:
        return {"ok": self.ok, "rows": {r.name: r.to_dict() for r in self.rows},
                "skipped": dict(self.skipped),
                "directional": None if self.directional is None else {
                    "dag": _finite(self.directional.dag), "finite_diff": self.directional.fd,
                    "finite_diff_error": self.directional.fd_error,
                    "ok": self.directional.ok},
                "tolerances": {"sym_rtol": SYM_RTOL, "sym_atol": SYM_ATOL,
                               "fd_rtol": FD_RTOL, "fd_atol": FD_ATOL}}


def _names(names: list[str], most: int = 12) -> str:
    shown = ", ".join(names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


def _figure(row: Row, column: str) -> float | None:
    return {"sympy": row.sympy, "exp-expanded": row.expanded, "finite diff": row.fd}[column]


def _num(x: float | None, skipped: bool = False) -> str:
    if x is None:
        return "skipped" if skipped else "—"
    return f"{x:.12g}"


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


# ---- the check -------------------------------------------------------------------------------

def check(function, point: dict[str, float], wrt=None, symbolic_side: bool = True,
          budget: symbolic.Budget | None = None,
          fd_seconds: float = FD_TIME_BUDGET) -> Report:
    """Compare the DAG's gradient at `point` with sympy, exp-expanded sympy and finite
    differences, for the variables in `wrt` (default: all).  ``symbolic_side=False`` skips
    sympy (the CLI's --no-check).  DomainError if the DAG cannot evaluate at the point."""
    names = list(function.variables if wrt is None else wrt)
    value, grads = function.grad(**point)
    rows = [Row(n, point[n], grads[n]) for n in names]
    report = Report(function.output_name, value, dict(point), rows)
    if symbolic_side:
        _symbolic(function, point, report, budget or symbolic.Budget())
    else:
        report.skipped["sympy"] = report.skipped["exp-expanded"] = "skipped (--no-check)"
    fd = _FiniteDifferences(function.ir, point, fd_seconds)
    for row in rows:
        fd.row(row)
    if fd.skipped:
        report.skipped["finite diff"] = (f"skipped: time budget of {fd_seconds:g} s for "
                                         "finite differences")
        report.directional = fd.directional(grads)
    _judge(report, fd)
    return report


def _symbolic(function, point, report: Report, budget: symbolic.Budget) -> None:
    forms = function._closed_forms()
    columns = (("sympy", False), ("exp-expanded", True))
    for row in report.rows:
        for column, expanded in columns:
            if column in report.skipped:
                continue
            try:
                expr = forms.derivative(row.name, expanded, budget, tidied=False)
                result = symbolic.evaluate(expr, point, budget)
            except SymbolicError as err:
                report.skipped[column] = str(err).replace("symbolic side skipped: ",
                                                          "skipped: ", 1)
                if getattr(err, "transient", False):     # out of time: both columns stop
                    report.skipped.setdefault("exp-expanded", report.skipped[column])
                continue
            if result is None:
                row.notes.append(f"{column} is undefined at this point")
            if expanded:
                row.expanded = result
            else:
                row.sympy = result


def _judge(report: Report, fd: "_FiniteDifferences") -> None:
    scale = max([1.0] + [abs(r.dag) for r in report.rows if math.isfinite(r.dag)])
    fscale = max(scale, abs(report.value))
    for row in report.rows:
        dag, worst, agree = row.dag, [], math.isfinite(row.dag)
        for column, other in (("sympy", row.sympy), ("exp-expanded", row.expanded)):
            if other is None:
                # Skipped, or the closed form is undefined here (0*log(0) in d/dy x^y at
                # x = 0): that is the formula's limit, not a DAG error; the row is judged by
                # the figures that exist (and is "unchecked" when none does).
                continue
            worst.append(other)
            agree &= _close(dag, other, SYM_RTOL, SYM_ATOL * scale)
        if row.fd is not None:
            worst.append(row.fd)
            agree &= _close(dag, row.fd, FD_RTOL, FD_ATOL * fscale + 2 * row.fd_error)
        if worst:
            row.abs_err = max(abs(dag - w) for w in worst)
            row.rel_err = max(abs(dag - w) / max(abs(dag), abs(w), 1e-300) for w in worst)
        if not worst and row.fd is None and fd.skipped and not row.notes:
            row.status = "skipped"
        elif not worst:
            row.status = "unchecked"
            row.notes.append("nothing to compare the DAG's figure with at this point")
        elif not agree:
            row.status = "kink" if row.name in fd.kinked else "disagree"
        if row.status == "kink":
            row.notes.append(
                f"not differentiable here ({fd.kinked[row.name]}); one-sided slopes "
                f"{_num(row.fd_left)} (left) and {_num(row.fd_right)} (right); the DAG "
                "follows PyTorch's convention (relu'(0) = 0, abs'(0) = 0, max/min ties go to "
                "the first argument), sympy takes Heaviside(0) = 1/2")


def _close(a: float, b: float, rtol: float, atol: float) -> bool:
    if not (math.isfinite(a) and math.isfinite(b)):
        return a == b
    return abs(a - b) <= rtol * max(abs(a), abs(b)) + atol


# ---- finite differences ----------------------------------------------------------------------

class _OutOfTime(Exception):
    pass


class _FiniteDifferences:
    """Central differences of the float forward, Ridders-extrapolated, kept off kinks."""

    def __init__(self, graph, point: dict[str, float], seconds: float):
        self.graph, self.point = graph, dict(point)
        self.order = graph.order()
        self.out = graph.output.index
        self.deadline = time.monotonic() + seconds
        self.skipped = 0
        self.kinks = [n for n in self.order if n.args and OPS[n.op].kink is not None]
        vals = evaluate(graph, self.point, self.order)
        self.base = self._sides(vals)
        self.finite = math.isfinite(vals[self.out])
        # variable → the kinked ops it reaches at the point (where their kink function is 0)
        at_kink: dict[str, set] = {}
        for node, side in zip(self.kinks, self.base):
            if side == 0:
                for leaf in graph.order([node]):
                    if leaf.op == "var":
                        at_kink.setdefault(leaf.payload, set()).add(node.op)
        self.kinked = {v: f"{', '.join(sorted(ops))} at "
                          f"{'its kink' if len(ops) == 1 else 'their kinks'}"
                       for v, ops in at_kink.items()}

    def _sides(self, vals) -> list[int]:
        out = []
        for node in self.kinks:
            k = OPS[node.op].kink(*(vals[a.index] for a in node.args))
            out.append((k > 0) - (k < 0))
        return out

    def f(self, shift: dict[str, float]) -> float:
        """f at the point moved by `shift`; DomainError off the domain or across a kink."""
        if time.monotonic() > self.deadline:
            raise _OutOfTime
        p = dict(self.point)
        for k, dv in shift.items():
            p[k] = self.point[k] + dv
        vals = evaluate(self.graph, p, self.order)
        for base, side in zip(self.base, self._sides(vals)):
            if base != 0 and side != base:
                raise DomainError("the stencil crosses a kink")
        y = vals[self.out]
        if not math.isfinite(y):
            raise DomainError("non-finite value")
        return y

    def row(self, row: Row) -> None:
        """Fill in `row`'s finite difference: central, or at a kink the mean of the two
        one-sided slopes (which a differentiable point makes equal)."""
        x = self.point[row.name]
        h = FD_STEP * max(1.0, abs(x))
        if not self.finite:
            row.notes.append("finite differences unavailable: the value is not finite")
            return

        def phi(t):
            return self.f({row.name: t})
        try:
            if row.name in self.kinked:
                left = self._estimate(phi, -h, x, central=False)
                right = self._estimate(phi, h, x, central=False)
                result = None if left is None or right is None else (
                    (left[0] + right[0]) / 2, max(left[1], right[1]))
                if result is not None:
                    row.fd_left, row.fd_right = left[0], right[0]
            else:
                result = self._estimate(phi, h, x)
        except _OutOfTime:
            self.skipped += 1
            return
        if result is None:
            row.notes.append("finite differences unavailable: every stencil left the domain "
                             "of some function or crossed a kink")
        else:
            row.fd, row.fd_error = result

    def _estimate(self, phi, h0: float, x: float = 0.0, central: bool = True):
        """(estimate, error) of phi'(0) by Ridders' method; None if no step fits.

        A first step too coarse for how fast f varies can fool the extrapolation (its own
        error estimate included), so a central estimate must also match a plain central
        difference with a step of 1e-5·|h0|/FD_STEP; if not, the first step shrinks 10×.
        """
        last = None
        for _ in range(FD_SHRINK):
            try:
                estimate, err = _ridders(phi, h0, x, central)
                if not central:
                    return estimate, err
                s = (x + 1e-5 * h0 / FD_STEP) - x
                plain = (phi(s) - phi(-s)) / (2 * s)
                last = estimate, max(err, abs(estimate - plain))
                if _close(estimate, plain, 1e-5, 1e-7 * (1 + abs(phi(0.0)))):
                    return estimate, err
                h0 /= 10
            except (DomainError, OverflowError, ZeroDivisionError, ValueError):
                h0 /= 4
        return last

    def directional(self, grads: dict[str, float]) -> Directional:
        rng = random.Random(0)
        direction = {v: rng.choice((-1.0, 1.0)) * max(1.0, abs(x)) / len(self.point) ** 0.5
                     for v, x in sorted(self.point.items())}
        dag = sum(grads[v] * d for v, d in direction.items())
        self.deadline = math.inf
        result = self._estimate(lambda t: self.f({v: t * d for v, d in direction.items()}),
                                FD_STEP)
        if result is None:
            return Directional(dag, None, None, True)
        fd, err = result
        scale = sum(abs(grads[v] * d) for v, d in direction.items()) + abs(self.f({}))
        return Directional(dag, fd, err, _close(dag, fd, FD_RTOL, FD_ATOL * scale + 2 * err))


def _ridders(phi, h: float, x: float, central: bool = True, stages: int = FD_STAGES,
             con: float = 1.4, safe: float = 2.0) -> tuple[float, float]:
    """Ridders' extrapolation of differences (Numerical Recipes' dfridr): central ones, whose
    error has even powers of h only, or one-sided ones (h < 0: from the left).  Each step is
    made exactly representable around `x`, so the divisor is the true stencil width."""
    f0 = None if central else phi(0.0)

    def difference(step):
        step = (x + step) - x
        if central:
            return (phi(step) - phi(-step)) / (2 * step)
        return (phi(step) - f0) / step
    ratio = con * con if central else con
    table = [[difference(h)]]
    best, err = table[0][0], math.inf
    for i in range(1, stages):
        h /= con
        row = [difference(h)]
        fac = ratio
        for j in range(1, i + 1):
            row.append((row[j - 1] * fac - table[i - 1][j - 1]) / (fac - 1))
            fac *= ratio
            errt = max(abs(row[j] - row[j - 1]), abs(row[j] - table[i - 1][j - 1]))
            if errt <= err:
                best, err = row[j], errt
        table.append(row)
        if abs(row[i] - table[i - 1][i - 1]) >= safe * err:
            break
    return best, err

"""The three-way cross-check: a `Function` and a point → a `Report`, one row per variable.

Each row holds four figures for ∂f/∂v at the point, obtained independently:

- **DAG**: reverse mode over the graph with the registry's derivative rules (`Function.grad`);
- **sympy**: `sympy.diff` of the closed form built from each op's forward ``sym`` only,
  evaluated at the point's exact binary values to 30 digits (symbolic.py);
- **exp-expanded**: the same after sympy rewrites tanh, sinh and cosh via exp;
- **finite diff**: Ridders' extrapolation of central differences of the float forward
  (finite_diff.py), starting from a step of `FD_STEP` × max(1, |v|) and shrinking it by 1.4
  per stage; its own error estimate comes with it.

The figures go into a `report.Report`, which renders them (table, notes, JSON).

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
import time
from typing import TYPE_CHECKING

from . import precision
from .errors import DomainError, SymbolicError, VariableError
from .finite_diff import Estimate, FiniteDifferences, OutOfTime, close, random_direction
from .interpret import evaluate, undefined
from .report import Directional, Report, Row, _num

if TYPE_CHECKING:        # sympy is imported only when the symbolic side runs
    from . import symbolic

SYM_RTOL, SYM_ATOL = 1e-9, 1e-12
FD_RTOL, FD_ATOL = 1e-6, 1e-8
FD_TIME_BUDGET = 2.0        # seconds for all finite differences of one check
#: a finite difference whose own error estimate exceeds this fraction of the derivative's
#: scale can neither confirm nor refute the DAG: it is marked unreliable
FD_MAX_ERROR = 1e-4
#: how much the forward's rounding error at the point may understate its noise nearby
NOISE_SAFETY = 10.0
#: forward graphs up to this many nodes get their precision measured node by node
PRECISION_MAX_NODES = 2_000
TOLERANCES = {"sym_rtol": SYM_RTOL, "sym_atol": SYM_ATOL, "fd_rtol": FD_RTOL, "fd_atol": FD_ATOL}


def check(function, point: dict[str, float], wrt=None, symbolic_side: bool = True,
          budget: symbolic.Budget | None = None,
          fd_seconds: float = FD_TIME_BUDGET, dag=None) -> Report:
    """Compare the DAG's gradient at `point` with sympy, exp-expanded sympy and finite
    differences, for the variables in `wrt` (default: all).  ``symbolic_side=False`` skips
    sympy (the CLI's --no-check).  ``dag``: ``(value, {variable: partial})`` computed by
    another program (a Jacobian's row) to check instead of ``function.grad``'s.
    DomainError if the DAG cannot evaluate at the point."""
    names = list(function.variables if wrt is None else wrt)
    value, grads = function.grad(**point) if dag is None else dag
    _defined(function.ir, point, value)
    rows = [Row(n, point[n], grads[n]) for n in names]
    report = Report(function.output_name, value, dict(point), rows, tolerances=TOLERANCES)
    loss = None
    if symbolic_side:
        from . import symbolic      # sympy: imported only when the symbolic side runs
        budget = budget or symbolic.Budget.current()
        forms = function._closed_forms()
        _symbolic(report, point, budget,
                  lambda row, expanded, budget: forms.derivative(row.name, expanded, budget,
                                                                 tidied=False))
        loss = _precision(function.ir, point, budget)
    else:
        report.skipped["sympy"] = report.skipped["exp-expanded"] = "skipped (--no-check)"
    fd = FiniteDifferences(function.ir, point, fd_seconds)
    out_of_time = False
    for row in rows:
        try:
            _fill(row, fd.partial(row.name))
        except OutOfTime:
            out_of_time = True
    _trust(report, loss)
    if out_of_time:
        report.skipped["finite diff"] = (f"skipped: time budget of {fd_seconds:g} s for "
                                         "finite differences")
        report.directional = _directional(fd, point, grads)
    _judge(report, fd.kinked, out_of_time)
    if symbolic_side and dag is None and not report.ok:
        _explain(function, point, report, budget)
    return report


def _defined(graph, point: dict, value: float) -> None:
    """A check needs a defined value: an infinite or nan coordinate is a VariableError, a
    nan or infinite value a DomainError naming the node where it arose (never a row of
    "nothing compared" under a ✓)."""
    bad = [k for k, v in point.items() if not math.isfinite(v)]
    if bad:
        raise VariableError(f"the check needs finite values; {', '.join(bad)} "
                            f"{'is' if len(bad) == 1 else 'are'} {point[bad[0]]!r}")
    if not math.isfinite(value):
        order = graph.order()
        err = undefined(graph, evaluate(graph, point, order), order)
        raise err or DomainError(f"the value is {value!r} at this point")


def _fill(row: Row, estimate: Estimate) -> None:
    row.fd, row.fd_error = estimate.value, estimate.error
    row.fd_left, row.fd_right = estimate.left, estimate.right
    row.fd_step = estimate.step
    if estimate.note:
        row.notes.append(estimate.note)


def _precision(graph, point: dict, budget: symbolic.Budget) -> precision.Loss | None:
    """How many digits the float forward lost at the point, and where (precision.py); None
    when the graph is too big to measure node by node or sympy ran out of budget."""
    if len(graph.order()) > PRECISION_MAX_NODES:
        return None
    try:
        from . import symbolic      # (only on the symbolic side: sympy)
        exacts = symbolic.node_values(graph, point, budget)
        return precision.loss(graph, point, evaluate(graph, point), exacts)
    except (SymbolicError, DomainError):
        return None


def _explain(function, point: dict, report: Report, budget: symbolic.Budget) -> None:
    """A ✗ may be the gradient program's float arithmetic losing digits (the gradient of
    ``log1p(x)/x`` at 1e-12 cancels), not a wrong rule: measure each disagreeing partial
    against its 30-digit evaluation and, where it lost digits, say how many and where."""
    grad = function.program("grad")
    partial = dict(zip(grad.wrt, grad.result("grad").nodes))
    rows = [r for r in report.rows if r.status == "disagree" and r.name in partial]
    roots = [partial[r.name] for r in rows]
    order = grad.graph.order(roots)
    if not rows or len(order) > PRECISION_MAX_NODES:
        return
    try:
        from . import symbolic      # (only on the symbolic side: sympy)
        exacts = symbolic.node_values(grad.graph, point, budget, roots=roots)
        floats = evaluate(grad.graph, point, order)
    except (SymbolicError, DomainError):
        return
    for row in rows:
        loss = precision.loss(grad.graph, point, floats, exacts, root=partial[row.name])
        if loss is None or not loss.noticeable():
            continue
        row.dag_digits_lost = round(loss.digits, 1)
        where = f", in `{loss.where}`" if loss.where else ""
        row.notes.append(f"the DAG's float figure lost {loss.digits:.0f} of its 16 digits here "
                         f"(30-digit {loss.exact:.12g}){where}: its rules may be right, the "
                         "float arithmetic is not")


def _scales(report: Report) -> tuple[float, float]:
    """G, the gradient's scale max(1, max |∂f/∂v|), and max(G, |f|)."""
    scale = max([1.0] + [abs(r.dag) for r in report.rows if math.isfinite(r.dag)])
    return scale, max(scale, abs(report.value))


def _trust(report: Report, loss: precision.Loss | None) -> None:
    """Mark the finite differences that cannot be trusted, with the reason: one that
    overflowed, one whose own error estimate is large, and one whose step is small against
    the forward's rounding error at the point (`loss`, measured against 30 digits) — such an
    estimate differentiates rounding noise.  Its figure stays in the table, out of the
    verdict.  The precision loss itself is a note of the report when it is noticeable."""
    scale, fscale = _scales(report)
    noisy = []
    for row in report.rows:
        if row.fd is None:
            continue
        size = max(abs(row.fd) if math.isfinite(row.fd) else 0.0, abs(row.dag), scale)
        if not (math.isfinite(row.fd) and math.isfinite(row.fd_error or 0.0)):
            row.fd_unreliable = ("finite difference unreliable: it overflowed (the function's "
                                 "values near the point approach the largest double)")
        elif loss is not None and row.fd_step and NOISE_SAFETY * loss.error / row.fd_step > \
                FD_RTOL * max(abs(row.fd), abs(row.dag)) + FD_ATOL * fscale:
            row.fd_unreliable = ("finite difference unreliable: the float forward's rounding "
                                 "error is large against its step (it differentiates noise)")
            noisy.append(row.name)
        elif row.fd_error > FD_MAX_ERROR * size:
            row.fd_unreliable = (f"finite difference unreliable: its own error estimate "
                                 f"({_num(row.fd_error)}) is large")
    if loss is not None and (noisy or loss.noticeable()):
        report.precision = loss


def _directional(fd: FiniteDifferences, point: dict, grads: dict) -> Directional:
    """∇f·d against a finite difference along d: covers variables left without one."""
    direction = random_direction(point)
    dag = sum(grads[v] * d for v, d in direction.items())
    estimate = fd.directional(direction)
    if estimate.value is None:
        return Directional(dag, None, None, True)
    scale = sum(abs(grads[v] * d) for v, d in direction.items()) + abs(fd.value())
    ok = close(dag, estimate.value, FD_RTOL, FD_ATOL * scale + 2 * estimate.error)
    return Directional(dag, estimate.value, estimate.error, ok)


def check_hessian(function, point: dict[str, float], wrt=None, symbolic_side: bool = True,
                  budget: symbolic.Budget | None = None,
                  fd_seconds: float = FD_TIME_BUDGET) -> Report:
    """The second-order check: each Hessian entry (a, b), a <= b in `wrt` order, three ways —
    the DAG's Hessian program (forward over reverse), sympy's ∂²/∂a∂b of the closed form (its
    own diff, twice) and finite differences of the DAG's gradient ∂f/∂b along a — judged like
    the gradient's rows, kinks included.  One output (`Function.select` picks it)."""
    names = list(function.variables if wrt is None else wrt)
    index = {v: i for i, v in enumerate(function.variables)}
    value, _, hess = function._run("hessian", (), point)
    _defined(function.ir, point, value)
    pairs = {f"{a}, {b}": (a, b) for i, a in enumerate(names) for b in names[i:]}
    rows = [Row(name, None, hess[index[a]][index[b]]) for name, (a, b) in pairs.items()]
    report = Report(function.output_name, value, dict(point), rows, tolerances=TOLERANCES,
                    order=2)
    if symbolic_side:
        from . import symbolic      # sympy: imported only when the symbolic side runs
        forms = function._closed_forms()
        _symbolic(report, point, budget or symbolic.Budget.current(),
                  lambda row, expanded, budget: forms.second_derivative(
                      *pairs[row.name], expanded, budget, tidied=False))
    else:
        report.skipped["sympy"] = report.skipped["exp-expanded"] = "skipped (--no-check)"
    grad = function.program("grad")
    partial = dict(zip(grad.wrt, grad.result("grad").nodes))
    deadline, out_of_time, kinked = time.monotonic() + fd_seconds, False, {}
    by_column: dict[str, FiniteDifferences] = {}
    for row in rows:
        a, b = pairs[row.name]
        fd = by_column.get(b)
        if fd is None:
            fd = by_column[b] = FiniteDifferences(grad.graph, point,
                                                  max(0.0, deadline - time.monotonic()),
                                                  root=partial[b])
        if a in fd.kinked:
            kinked[row.name] = fd.kinked[a]
        try:
            _fill(row, fd.partial(a))
        except OutOfTime:
            out_of_time = True
    if out_of_time:
        report.skipped["finite diff"] = (f"skipped: time budget of {fd_seconds:g} s for "
                                         "finite differences")
    _trust(report, None)
    _judge(report, kinked, out_of_time)
    return report


def _symbolic(report: Report, point, budget: symbolic.Budget, formula) -> None:
    """Fill the sympy columns: ``formula(row, expanded, budget)`` is the row's closed form."""
    columns = (("sympy", False), ("exp-expanded", True))
    for row in report.rows:
        for column, expanded in columns:
            if column in report.skipped:
                continue
            try:
                from . import symbolic
                expr = formula(row, expanded, budget)
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


def _judge(report: Report, kinked: dict[str, str], out_of_time: bool) -> None:
    scale, fscale = _scales(report)
    for row in report.rows:
        dag, worst, agree = row.dag, [], math.isfinite(row.dag)
        for column, other in (("sympy", row.sympy), ("exp-expanded", row.expanded)):
            if other is None:
                # Skipped, or the closed form is undefined here (0*log(0) in d/dy x^y at
                # x = 0): that is the formula's limit, not a DAG error; the row is judged by
                # the figures that exist (and is "unchecked" when none does).
                continue
            worst.append(other)
            agree &= close(dag, other, SYM_RTOL, SYM_ATOL * scale)
        if row.fd is not None and row.fd_unreliable is None:
            worst.append(row.fd)
            agree &= close(dag, row.fd, FD_RTOL, FD_ATOL * fscale + 2 * row.fd_error)
        row.compared = len(worst)
        if worst:
            row.abs_err = max(abs(dag - w) for w in worst)
            row.rel_err = max(abs(dag - w) / max(abs(dag), abs(w), 1e-300) for w in worst)
        if row.fd_unreliable is not None:
            row.notes.append(row.fd_unreliable)
        if not worst and row.fd is None and out_of_time and not row.notes:
            row.status = "skipped"
        elif not worst:
            # Nothing trustworthy to compare with: never ✓ (and never ✗).
            row.status = "unreliable" if row.fd_unreliable else "unchecked"
            if not row.fd_unreliable:
                row.notes.append("nothing to compare the DAG's figure with at this point")
        elif not agree:
            row.status = "kink" if row.name in kinked else "disagree"
        elif row.fd_unreliable is not None:
            # The DAG agrees with the figures that can be trusted; the row still does not
            # claim ✓ beside a finite difference that may be far off.
            row.status = "unreliable"
        if row.status == "kink":
            row.notes.append(
                f"not differentiable here ({kinked[row.name]}); one-sided slopes "
                f"{_num(row.fd_left)} (left) and {_num(row.fd_right)} (right); the DAG "
                "follows PyTorch's convention (relu'(0) = 0, abs'(0) = 0, max/min ties go to "
                "the first argument), sympy takes Heaviside(0) = 1/2")


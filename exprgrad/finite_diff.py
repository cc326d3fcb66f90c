"""Finite differences: a graph's float forward and a point → numeric partial derivatives.

Input: a `Graph` (its output is the function), a point, a time budget.  Output: for one
variable, an `Estimate` of ∂f/∂v by Ridders' extrapolation of central differences (Numerical
Recipes' dfridr) with its own error estimate; at a kink (relu, abs at 0; max/min at ties) the
two one-sided slopes.  Stencils that would leave a function's domain or cross a kink near the
point are shrunk until they don't.  This is the check's third, fully independent figure: it
uses only each op's float forward (interpret.py), never a derivative rule.

>>> from exprgrad.lower import lower
>>> from exprgrad.parse import parse
>>> fd = FiniteDifferences(lower(parse("x*x*y")), {"x": 3.0, "y": 2.0}, seconds=2.0)
>>> round(fd.partial("x").value, 9)
12.0
"""
from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass

from .errors import DomainError
from .interpret import evaluate
from .ops import FLOAT_ERRORS, OPS

FD_STEP = 0.02              # first step of Ridders' tableau, relative to max(1, |v|)
FD_STAGES = 8               # at most 2·FD_STAGES evaluations per variable
FD_SHRINK = 8               # times a step is cut by 4 to keep the stencil in the domain
FD_COARSE = 3               # times a first step found too coarse is cut by 10

#: poles the forwards let a stencil jump over without an error: a stencil may not change the
#: sign of these (like a kink's), or it differences two branches (1/x from -h to +h around
#: x = 1e-101 reads 1/h², not -1/x²)
POLES = {"div": lambda a, b: b,
         "pow": lambda a, b: a if b < 0 else 1.0,
         "tan": math.cos}
RIDDERS_CON = 1.4           # Ridders' step ratio between stages


@dataclass
class Estimate:
    """A numeric derivative: ``value`` with Ridders' ``error``; at a kink the one-sided
    ``left``/``right`` slopes (``value`` is their mean); ``value`` None with a ``note`` when
    no stencil fits."""
    value: float | None
    error: float | None = None
    left: float | None = None
    right: float | None = None
    note: str | None = None
    step: float | None = None       # the smallest step the estimate used (check.py weighs
                                    # the forward's rounding error against it)


class OutOfTime(Exception):
    """The finite-difference budget ran out."""


def close(a: float, b: float, rtol: float, atol: float) -> bool:
    """``|a - b| <= rtol·max(|a|, |b|) + atol``; non-finite numbers agree only if equal."""
    if not (math.isfinite(a) and math.isfinite(b)):
        return a == b
    return abs(a - b) <= rtol * max(abs(a), abs(b)) + atol


class FiniteDifferences:
    """Central differences of a graph's float forward at a point, Ridders-extrapolated, kept
    off kinks; ``kinked`` maps each variable that reaches a kink at the point to a note."""

    def __init__(self, graph, point: dict[str, float], seconds: float, root=None):
        """``root``: the node whose derivatives are taken (default: the graph's output; a
        gradient program's partial gives finite differences of the gradient)."""
        self.graph, self.point = graph, dict(point)
        root = graph.output if root is None else root
        self.order = graph.order([root])
        self.out = root.index
        self.deadline = time.monotonic() + seconds
        self.kinks = [n for n in self.order if n.args and OPS[n.op].kink is not None]
        self.poles = [n for n in self.order if n.op in POLES]
        vals = evaluate(graph, self.point, self.order)
        self.base = self._sides(vals)
        self.pole_base = self._pole_sides(vals)
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

    def _pole_sides(self, vals) -> list[int]:
        out = []
        for node in self.poles:
            k = POLES[node.op](*(vals[a.index] for a in node.args))
            out.append((k > 0) - (k < 0))
        return out

    def f(self, shift: dict[str, float]) -> float:
        """f at the point moved by `shift`; DomainError off the domain or across a kink."""
        if time.monotonic() > self.deadline:
            raise OutOfTime
        p = dict(self.point)
        for k, dv in shift.items():
            p[k] = self.point[k] + dv
        vals = evaluate(self.graph, p, self.order)
        for base, side in zip(self.base, self._sides(vals)):
            if base != 0 and side != base:
                raise DomainError("the stencil crosses a kink")
        if self._pole_sides(vals) != self.pole_base:
            raise DomainError("the stencil crosses a pole")
        y = vals[self.out]
        if not math.isfinite(y):
            raise DomainError("non-finite value")
        return y

    def partial(self, name: str) -> Estimate:
        """∂f/∂name at the point: central, or at a kink the mean of the two one-sided
        slopes (which a differentiable point makes equal).  OutOfTime past the budget."""
        if not self.finite:
            return Estimate(None, note="finite differences unavailable: the value is not finite")
        x = self.point[name]
        h = FD_STEP * max(1.0, abs(x))

        def phi(t):
            return self.f({name: t})
        if name in self.kinked:
            left = self._estimate(phi, -h, x, central=False)
            right = self._estimate(phi, h, x, central=False)
            if left is not None and right is not None:
                return Estimate((left[0] + right[0]) / 2, max(left[1], right[1]),
                                left[0], right[0], step=min(left[2], right[2]))
        else:
            result = self._estimate(phi, h, x)
            if result is not None:
                value, error, step = result
                return Estimate(value, error, step=step)
        return Estimate(None, note="finite differences unavailable: every stencil left the "
                                   "domain of some function or crossed a kink or a pole")

    def _estimate(self, phi, h0: float, x: float = 0.0, central: bool = True):
        """(estimate, error, smallest step) of phi'(0) by Ridders' method; None if no step
        fits.

        A first step too coarse for how fast f varies can fool the extrapolation (its own
        error estimate included), so a central estimate must also match a plain central
        difference with a step of 1e-5·|h0|/FD_STEP; if not, the first step shrinks 10×.
        "Match" is to 1e-7: that plain difference is off by about 1e-10 relative (truncation)
        plus 1e-11·|f| (rounding) on a smooth function, and a looser test (1e-5) let a
        fooled tableau through at 4e-6 (c/erf(|y/((x - n)*y - 5.81)|), n = 3*y*sinh(x) - ...).
        """
        last, coarse = None, 0
        for _ in range(FD_SHRINK + FD_COARSE):
            try:
                estimate, err = ridders(phi, h0, x, central)
                smallest = abs(h0) / RIDDERS_CON ** (FD_STAGES - 1)
                if not central:
                    return estimate, err, smallest
                s = (x + 1e-5 * h0 / FD_STEP) - x
                plain = (phi(s) - phi(-s)) / (2 * s)
                last = estimate, max(err, abs(estimate - plain)), min(smallest, abs(s))
                if close(estimate, plain, 1e-7, 1e-7 * (1 + abs(phi(0.0)))):
                    return estimate, err, smallest
                # Shrink a few times only: past that the mismatch is the forward's rounding
                # noise, and tiny steps would end where f is flat in floats (an estimate of
                # 0 "confirmed" by a plain difference of 0).  The mismatch stays in the error.
                coarse += 1
                if coarse > FD_COARSE:
                    return last
                h0 /= 10
            except (DomainError, *FLOAT_ERRORS):
                h0 /= 4
        return last

    def directional(self, direction: dict[str, float]) -> Estimate:
        """The derivative of f along `direction` (no time limit: it is the fallback when
        the budget ran out for single variables)."""
        self.deadline = math.inf
        result = self._estimate(lambda t: self.f({v: t * d for v, d in direction.items()}),
                                FD_STEP)
        return Estimate(None) if result is None else Estimate(*result[:2], step=result[2])

    def value(self) -> float:
        return self.f({})


def random_direction(point: dict[str, float], seed: int = 0) -> dict[str, float]:
    """A fixed pseudo-random direction scaled like the point (each |component| ≥ 1/√n)."""
    rng = random.Random(seed)
    return {v: rng.choice((-1.0, 1.0)) * max(1.0, abs(x)) / len(point) ** 0.5
            for v, x in sorted(point.items())}


def ridders(phi, h: float, x: float, central: bool = True, stages: int = FD_STAGES,
            con: float = RIDDERS_CON, safe: float = 2.0) -> tuple[float, float]:
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

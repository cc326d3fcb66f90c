"""The check's marks are true: for random programs and points, ✓ implies the DAG agrees with an
independent 50-digit reference to the check's tolerance, and ✗ implies it does not.

The reference is sympy's own derivative of the program's closed form, evaluated by mpmath at
50 digits (`sympy.lambdify` to mpmath: neither the check's 30-digit evaluator nor any
derivative rule of the registry).  Programs are the smooth ones of `strategies.programs` and,
half of the time, one of `EDGES` added to them: a term near an overflow, a cancellation or a
domain edge, where finite differences and the float forward fail in the ways the check must
report as unreliable instead of ✓ or ✗.

Profiles: derandomized, `EXAMPLES` examples (about 20 s); ``HYPOTHESIS_PROFILE=soak`` draws
``HYPOTHESIS_SOAK_EXAMPLES`` random ones.
"""
from __future__ import annotations

import math
import os
import re

import mpmath
import pytest
import sympy
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import exprgrad as eg
from exprgrad.check import FD_ATOL, FD_RTOL, SYM_ATOL, SYM_RTOL, check
from exprgrad.symbolic import Budget, symbol
from strategies import expressions, programs

SOAK = os.environ.get("HYPOTHESIS_PROFILE") == "soak"
EXAMPLES = int(os.environ.get("HYPOTHESIS_SOAK_EXAMPLES", "20000")) if SOAK else 40
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=not SOAK,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])

# (template of a term in the variable k1, the range k1 is drawn from): near overflow, lost
# digits, domain edges
EDGES = (
    ("log(1 - sigmoid(20*k1))", (0.8, 2.0)),
    ("log(sigmoid(k1))", (15.0, 35.0)),
    ("exp(k1)", (700.0, 709.7)),
    ("cosh(k1)", (700.0, 710.0)),
    ("sinh(k1)", (-710.0, -700.0)),
    ("log(1 + k1)/k1", (1e-13, 1e-5)),
    ("(exp(k1) - 1)/k1", (1e-12, 1e-5)),
    ("sqrt(k1)", (1e-300, 1e-12)),
    ("log(k1)", (1e-300, 1e-12)),
    ("tanh(k1)", (15.0, 25.0)),
    ("k1^3", (1e90, 1e100)),
    ("1/k1", (1e-150, 1e-100)),
)


@st.composite
def cases(draw):
    if draw(st.booleans()):
        return draw(programs(max_statements=2, max_depth=3))
    text, point = draw(expressions(max_depth=2))
    text = re.sub(r"^\s*\w+\s*=(?!=)", "", text.split("#")[0])     # the expression alone
    edge, (lo, hi) = draw(st.sampled_from(EDGES))
    k1 = draw(st.floats(lo, hi))
    return f"({edge}) + ({text})", {**point, "k1": k1}


def reference(f: eg.Function, point: dict) -> dict:
    """∂f/∂v for every variable by sympy.diff of the closed form, at 50 digits by mpmath
    (None where it is not a finite real)."""
    expr = f.sympy
    names = list(f.variables)
    syms = [symbol(v) for v in names]
    out = {}
    with mpmath.workdps(50):
        args = [mpmath.mpf(point[v]) for v in names]
        for v, s in zip(names, syms):
            try:
                value = sympy.lambdify(syms, sympy.diff(expr, s), modules="mpmath")(*args)
                value = complex(value) if isinstance(value, mpmath.mpc) else float(value)
            except (ZeroDivisionError, ValueError, TypeError, OverflowError):
                value = None
            if isinstance(value, complex):
                value = value.real if abs(value.imag) <= 1e-30 * abs(value) else None
            out[v] = value if value is not None and math.isfinite(value) else None
    return out


def tolerance(row, scale: float, fscale: float) -> float:
    """The tolerance the check compared `row` with: sympy's when a sympy figure took part,
    else the finite difference's."""
    if row.sympy is not None or row.expanded is not None:
        return SYM_RTOL * abs(row.dag) + SYM_ATOL * scale
    return FD_RTOL * abs(row.dag) + FD_ATOL * fscale + 2 * (row.fd_error or 0.0)


def test_a_tick_means_agreement_and_a_cross_means_disagreement_with_mpmath():
    seen = {"agree": 0, "disagree": 0, "unreliable": 0}

    @SETTINGS
    @given(cases())
    def marks_are_true(case):
        text, point = case
        f = eg.compile(text)
        try:
            report = check(f, point, budget=Budget(seconds=10))
        except eg.DomainError:
            assume(False)         # undefined at the point (an overflow): an error, no marks
        ref = reference(f, point)
        scale = max([1.0] + [abs(r.dag) for r in report.rows])
        fscale = max(scale, abs(report.value))
        for row in report.rows:
            seen[row.status] = seen.get(row.status, 0) + 1
            if ref[row.name] is None or row.status not in ("agree", "disagree"):
                continue
            gap = abs(row.dag - ref[row.name])
            tol = tolerance(row, scale, fscale)
            # the references differ from the check's own figures by ~1e-25 relative: a margin
            # of 1% of the tolerance either way
            if row.status == "agree":
                assert gap <= 1.01 * tol, f"✓ but off: {text!r} at {point}\n{report}"
            else:
                assert gap > 0.99 * tol, f"✗ but right: {text!r} at {point}\n{report}"

    marks_are_true()
    # the run exercised what it is about: agreements, and unreliable finite differences
    assert seen["agree"] > 20 and seen["unreliable"] > 0, seen

"""Differential test: random programs through every path, held to the numeric policy.

Each hypothesis example is a batch of programs (tests/fuzzgen.py: every operator and function
of the registry, edge constants, points at kinks, domain edges and overflow thresholds), run
through the library, the `Value` DAG, emitted Python, NumPy and C (tests/paths.py, one C
compile per batch).  Every result must be bitwise equal to the others or differ only as a rule
of the policy allows (README, "Guarantees and limits"); a failure names the rule it breaks.
Derandomized, so CI runs the same sample every time.
"""
from __future__ import annotations

import math
import re

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import exprgrad as eg
from exprgrad.ops import OPS

from fuzzgen import COVERED, cases
from helpers import needs_cc
from hostile import PATHS_DISAGREE as REPROS
from paths import run_paths, same_outcome, violations

BATCH = 40


def test_every_op_is_drawn():
    """A new op is drawn by default; the helpers text cannot write (step, gate, dpow, ...)
    occur in the gradient programs of the ops whose rules use them."""
    missing = [name for name in OPS if name not in COVERED]
    assert all(not OPS[n].public and not OPS[n].infix for n in missing), missing


@needs_cc
@settings(max_examples=6, derandomize=True, deadline=None, database=None,
          phases=[Phase.explicit, Phase.generate],   # a batch shrinks slowly: all are shown
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(st.lists(cases(), min_size=BATCH, max_size=BATCH))
def test_every_path_follows_the_policy(tmp_path, programs):
    found = []
    for case, out in zip(programs, run_paths(programs, tmp_path)):
        found += violations(case, out)
    assert not found, "\n".join(found[:20])


# ---- the policy's rules, one repro each (issue 12, "Paths disagree"; tests/hostile.py) -------


@needs_cc
def test_paths_disagree_repros(tmp_path):
    """Each repro of issue 12's "Paths disagree", through every path: the scalar paths give
    the numbers or all raise (DomainError), NumPy and C give IEEE's numbers."""
    programs = [(text, point) for text, point, _ in REPROS]
    for (text, point, expected), out in zip(REPROS, run_paths(programs, tmp_path)):
        assert not violations((text, point), out), violations((text, point), out)
        if expected[0] == "raise":
            with pytest.raises(eg.DomainError):
                eg.compile(text).grad(**point)
            expected = expected[1:]
        else:
            assert same_outcome(out["f.grad"], ("ok", *expected)), (text, out["f.grad"])
        assert same_outcome(out["C"], ("ok", *expected)), (text, out["C"])


def test_signed_zero_survives_folding():
    """-0 has no exact Fraction: a product or negation that is -0.0 is not folded to +0."""
    assert "1.0 / (x * -0.0)" in eg.compile("1/(x*-0)").to_source("python")
    for text in ("x + -0*1", "x + -0", "x + 0*-1", "x + (-0)/3"):
        f = eg.compile(text)
        assert math.copysign(1, f(x=-0.0)) == -1, text
        assert math.copysign(1, f.graph(x=-0.0).data) == -1, text
    assert math.copysign(1, eg.compile("x + 0*1")(x=-0.0)) == 1


def test_value_engine_follows_the_policy():
    """`exprgrad.Value` built by hand: 0^0 = 1 with slope 0, NaN through relu and max."""
    a = eg.Value(0.0)
    out = a ** 0
    out.backward()
    assert (out.data, a.grad) == (1.0, 0.0)
    n = eg.Value(math.nan)
    out = n.relu() + n.max(eg.Value(0.0)) + eg.Value(0.0).max(n)
    out.backward()
    assert math.isnan(out.data) and math.isnan(n.grad)


def test_an_overflow_on_the_way_says_so():
    """d/dx x^x at 5e-324 is about -743 (x·x^(x-1) about 1), but x^(x-1) is 2e323: the
    scalar paths' message says a value in the computation overflows, not that the derivative
    is undefined (README's policy row)."""
    f = eg.compile("x^x")
    for run in (lambda: f.grad(x=5e-324), lambda: f.graph(x=5e-324)):
        with pytest.raises(eg.DomainError, match=re.escape(
                "the derivative of 4.94066e-324 ^ 4.94066e-324 overflows: a value in its "
                "computation is beyond the largest double")):
            run()

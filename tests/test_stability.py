"""Stable evaluation: values and gradients where the textbook formula overflows or cancels.

Each case is a program and a point where a naive form fails (log(exp(1000) + ...) overflows,
x*x + y*y overflows past 1e154, log(1 + 1e-20) is 0, exp(-40) - 1 + 1 is 0, ...).  Every path
must give the true value and gradient there: the interpreter (``f.grad``), the `Value` DAG,
the generated Python, NumPy and C.  The reference is the same function written in sympy by
hand, differentiated by ``sympy.diff`` and evaluated with 50 digits (independent of the
registry's rules).

Tolerances: 8 units in the last place, except where the arguments are large.  A result that
depends on z - logsumexp(z) with |z| ~ 1000 is known no better than the rounding of 1000.7 to
a double, 1.1e-13 absolute (the same for any implementation that returns logsumexp as a
double): such cases allow 1e-12 relative, a backward-stable result.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import sympy

import exprgrad as eg
from exprgrad import codegen
from exprgrad.symbolic import evaluate, symbol
from exprgrad.value import Value

from helpers import call_c, compile_c, needs_cc

ULPS = 8
LARGE = 1e-12          # relative, for arguments of 1e3 (see the module doc)


def _lse(*zs):
    return sympy.log(sum(sympy.exp(z) for z in zs))


# (program, point, the function written in sympy, tolerance: ULPS or a relative one)
CASES = [
    ("logsumexp(x, y, z)", dict(x=1000.0, y=1000.0, z=999.0), _lse, LARGE),
    ("logsumexp(x, y, z)", dict(x=-1000.0, y=-1001.0, z=-999.5), _lse, LARGE),
    ("p1, p2, p3 = softmax(x, y, z); q = p1 + 2*p2 + 3*p3", dict(x=1000.0, y=998.0, z=999.0),
     lambda x, y, z: (sympy.exp(x) + 2 * sympy.exp(y) + 3 * sympy.exp(z)) / _lse(x, y, z).args[0],
     ULPS),
    ("hypot(x, y)", dict(x=3e200, y=4e200), lambda x, y: sympy.sqrt(x ** 2 + y ** 2), ULPS),
    ("hypot(x, y)", dict(x=3e-200, y=-4e-200), lambda x, y: sympy.sqrt(x ** 2 + y ** 2), ULPS),
    ("atan2(y, x)", dict(x=1e200, y=2e200), lambda x, y: sympy.atan2(y, x), ULPS),
    ("atan2(y, x)", dict(x=3e-170, y=-4e-170), lambda x, y: sympy.atan2(y, x), ULPS),
    ("log1p(x)", dict(x=1e-20), lambda x: sympy.log(1 + x), ULPS),
    ("log1p(x)", dict(x=-0.999999), lambda x: sympy.log(1 + x), ULPS),
    ("expm1(x)", dict(x=1e-20), lambda x: sympy.exp(x) - 1, ULPS),
    ("expm1(x)", dict(x=-40.0), lambda x: sympy.exp(x) - 1, ULPS),
    ("erf(x)", dict(x=1e-20), lambda x: sympy.erf(x), ULPS),
    ("erf(x)", dict(x=5.5), lambda x: sympy.erf(x), ULPS),
    ("log10(x) + log2(y)", dict(x=1e300, y=2.0 ** -1000),
     lambda x, y: sympy.log(x) / sympy.log(10) + sympy.log(y) / sympy.log(2), ULPS),
]
IDS = [f"{text[:30]}@{list(point.values())[0]:g}" for text, point, _, _ in CASES]


def reference(fn, f: eg.Function, point: dict) -> tuple[float, list[float]]:
    """Value and gradient of the sympy function at the point, 50 digits."""
    syms = [symbol(v) for v in f.variables]
    expr = fn(*syms)
    return (evaluate(expr, point, digits=50),
            [evaluate(sympy.diff(expr, s), point, digits=50) for s in syms])


def near(a: float, b: float, tol) -> bool:
    if a == b:
        return True
    if tol == ULPS:
        return abs(a - b) <= ULPS * math.ulp(max(abs(a), abs(b)))
    return math.isclose(a, b, rel_tol=tol)


def assert_near(got, ref, tol, where: str) -> None:
    value, grads = got
    assert near(float(value), ref[0], tol), (where, "value", value, ref[0])
    for g, r in zip(grads, ref[1]):
        assert near(float(g), r, tol), (where, "grad", list(grads), ref[1])


@pytest.mark.parametrize("text,point,fn,tol", CASES, ids=IDS)
def test_interpreter_value_dag_python_and_numpy_are_stable(text, point, fn, tol):
    f = eg.compile(text)
    ref = reference(fn, f, point)
    xs = [point[v] for v in f.variables]
    value, grads = f.grad(**point)
    assert_near((value, [grads[v] for v in f.variables]), ref, tol, "interpreter")
    root = f.graph(**point)
    leaves = {v.label: v for v in root.topo() if not v._args and v.label}
    assert_near((root.data, [leaves[v].grad for v in f.variables]), ref, tol, "Value")
    _, grad_py = codegen.load_python(f.to_source("python"))
    assert_near(grad_py(*xs), ref, tol, "python")
    _, grad_np = codegen.load_python(f.to_source("numpy"))
    with np.errstate(all="raise"):            # no overflow, not even an intermediate one
        assert_near(grad_np(*xs), ref, tol, "numpy")


@needs_cc
def test_c_is_stable(tmp_path):
    functions = [eg.compile(text) for text, _, _, _ in CASES]
    lib = compile_c([f.to_source("c", name=f"s{i}") for i, f in enumerate(functions)], tmp_path)
    for i, ((text, point, fn, tol), f) in enumerate(zip(CASES, functions)):
        got = call_c(lib, f"s{i}", [point[v] for v in f.variables])
        assert_near(got, reference(fn, f, point), tol, f"C: {text}")


def test_value_methods_of_the_variadic_functions_are_stable():
    a, b, c = Value(1000.0), Value(1000.0), Value(999.0)
    out = a.logsumexp(b, c)
    out.backward()
    total = 2 + math.exp(-1)                   # the weights shifted by 1000, in floats
    assert near(out.data, 1000 + math.log(total), ULPS)
    assert near(a.grad, 1 / total, LARGE) and near(c.grad, math.exp(-1) / total, LARGE)
    assert Value(2.0).max(5.0, 3.0, 5.0).data == 5.0
    assert Value(2.0).min(5.0, -3.0).data == -3.0


def test_softmax_of_large_arguments_sums_to_one_everywhere():
    values = [Value(x) for x in (1000.0, 999.0, -1000.0, 1000.0)]
    probs = eg.nn.softmax(values)
    assert [p.data for p in probs][2] == 0.0                  # exp(-2000 - ...) underflows
    assert abs(sum(p.data for p in probs) - 1.0) <= 4 * math.ulp(1.0)
    f = eg.compile("p1, p2 = softmax(x, y); q = p1 + p2")
    assert f(x=1000.0, y=-1000.0) == 1.0

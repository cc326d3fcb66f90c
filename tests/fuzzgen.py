"""Hypothesis strategies for the differential test and the fuzzer: random programs over the
whole language with points and constants at the edges (tests/test_differential.py,
tests/test_fuzz.py).

``cases()`` draws ``(text, point)``: one expression over the variables ``x, y, z`` built from
every operator and every function of the language (read from the registry, `ops.OPS` and
`ops.FUNCTIONS`, so a new op is drawn by default), fully parenthesised (precedence is
`strategies.py`'s subject, not this one's), with

- constants including 0, -0, 1, huge and tiny ones (``1.7976931348623157e308``, ``4.9e-324``),
  ``pi`` and the thresholds where functions overflow (``710``);
- points drawn from special floats (±0, ±1, 1 ± 2^-53 at the edges of asin/acos, subnormals,
  ±1e300, the largest double, 709.78/710/-745 around exp's overflow and underflow, values
  near kinks: tiny positives and negatives, one variable equal to another for max/min ties)
  as often as from ordinary floats.

Unlike `strategies.py`, nothing keeps a point inside a domain: a program may be undefined,
overflow, or hit a kink there; the numeric policy (README, "Guarantees and limits") says what
each path must do then.
"""
from __future__ import annotations

import math

from hypothesis import strategies as st

from exprgrad.ops import CONSTANTS, FUNCTIONS, OPS

VARIABLES = ("x", "y", "z")

#: literals, as written in text
CONSTANT_TEXTS = ("0", "-0", "0.0", "1", "2", "3", "0.5", "2.5", "100", "710", "1e-8", "1e300",
                  "1e-300", "4.9e-324", "1.7976931348623157e308", *sorted(CONSTANTS))

#: special points: edges of domains, kinks, overflow thresholds, signed zeros
EDGE_POINTS = (0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, 3.0, 1 - 2.0 ** -53, -1 + 2.0 ** -53,
               1 + 2.0 ** -52, 1e-8, -1e-8, 1e-300, 5e-324, -5e-324, 1e300, -1e300,
               1.7976931348623157e308, 709.78, 710.0, -745.2, math.pi / 2, 20.0, 40.0)

# Operators by their registry entry: binary infix ops (pow also as ** and pow(a, b)), prefix.
_INFIX = sorted(name for name, o in OPS.items() if o.infix and not o.public and o.arity == 2)
_PREFIX = sorted(name for name, o in OPS.items() if o.infix and not o.public and o.arity == 1)
# Functions of the language with each number of arguments they take (a variadic one: its
# least and one more); several-valued ones (softmax) end no expression.
_CALLS = sorted((name, n) for name, b in FUNCTIONS.items() if not b.multi
                for n in ((b.arities[0], b.arities[0] + 1) if b.variadic else b.arities))

#: every registry op some construct above writes (the test checks none is missed)
COVERED = ({*_INFIX, *_PREFIX} | {FUNCTIONS[name].op for name, _ in _CALLS}
           | set(CONSTANTS.values()))


def points() -> st.SearchStrategy[float]:
    return st.one_of(st.sampled_from(EDGE_POINTS),
                     st.floats(-4, 4, allow_nan=False),
                     st.floats(allow_nan=False, allow_infinity=False))


# An expression is ``(text, variables)`` while it is built.
def _leaves() -> st.SearchStrategy[tuple]:
    return st.one_of(st.sampled_from(VARIABLES).map(lambda v: (v, frozenset({v}))),
                     st.sampled_from(CONSTANT_TEXTS).map(lambda c: (c, frozenset())))


def _join(text: str, parts) -> tuple:
    return text, frozenset().union(*(p[1] for p in parts))


def _extend(children: st.SearchStrategy[tuple]) -> st.SearchStrategy[tuple]:
    infix = st.tuples(st.sampled_from(_INFIX), children, children).map(
        lambda t: _join(f"({t[1][0]} {OPS[t[0]].infix} {t[2][0]})", t[1:]))
    power = st.tuples(st.sampled_from(("**", "pow")), children, children).map(
        lambda t: _join(f"({t[1][0]} ** {t[2][0]})" if t[0] == "**"
                        else f"pow({t[1][0]}, {t[2][0]})", t[1:]))
    prefix = st.tuples(st.sampled_from(_PREFIX), children).map(
        lambda t: _join(f"({OPS[t[0]].infix}{t[1][0]})", t[1:]))
    call = st.sampled_from(_CALLS).flatmap(
        lambda c: st.lists(children, min_size=c[1], max_size=c[1]).map(
            lambda args: _join(f"{c[0]}({', '.join(a[0] for a in args)})", args)))
    return st.one_of(infix, power, prefix, call)


def expressions(max_leaves: int = 8) -> st.SearchStrategy[tuple]:
    """``(text, variables)``."""
    return st.recursive(_leaves(), _extend, max_leaves=max_leaves)


@st.composite
def cases(draw, max_leaves: int = 8) -> tuple[str, dict[str, float]]:
    """``(text, point)``: an expression with at least one variable and a value for each."""
    text, names = draw(expressions(max_leaves).filter(lambda e: e[1]))
    values: dict[str, float] = {}
    for name in sorted(names):
        # Half the time a variable takes another's value: ties of max and min, x - y = 0.
        if values and draw(st.booleans()):
            values[name] = values[draw(st.sampled_from(sorted(values)))]
        else:
            values[name] = draw(points())
    return text, values

"""The registry's derivative rules as Python source, for loops that inline them.

Input: an `ops.Op`.  Output: the float expression each of its derivative rules computes, as
source text over names the caller chooses (``g``, ``out``, ``x0``, ``x1``): `traced_terms`.
Calling a rule as a function costs more than the arithmetic inside it, so the interpreters
that run many rules per call (`Value.backward`'s sweep in value.py, the tape of tape.py) are one
loop whose body holds every op's rules inline.  That body is not written by hand: each rule is
run once on `Traced` placeholders, which record the expression, so ops.py stays the only
place an op's derivative is written.  Calls of ``m.<op>`` become ``_m_<op>(...)``: the
caller binds those names to the ops' float forwards (`forwards`).  A rule that cannot be traced
(it branches on a value) gives None: its caller runs it as a call.

>>> from exprgrad.ops import OPS
>>> traced_terms(OPS["tanh"])
['(g * (1 - (out * out)))']
"""
from __future__ import annotations

from types import SimpleNamespace

from .ops import OPS, Op


class Traced:
    """A placeholder float: arithmetic on it records the expression as Python source."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text

    def _bin(self, sym: str, other, reflected: bool = False) -> "Traced":
        lhs, rhs = (source(other), self.text) if reflected else (self.text, source(other))
        return Traced(f"({lhs} {sym} {rhs})")

    def __add__(self, o): return self._bin("+", o)
    def __radd__(self, o): return self._bin("+", o, True)
    def __sub__(self, o): return self._bin("-", o)
    def __rsub__(self, o): return self._bin("-", o, True)
    def __mul__(self, o): return self._bin("*", o)
    def __rmul__(self, o): return self._bin("*", o, True)
    def __truediv__(self, o): return self._bin("/", o)
    def __rtruediv__(self, o): return self._bin("/", o, True)
    def __neg__(self): return Traced(f"(-{self.text})")

    def __bool__(self):
        raise TypeError("a traced rule cannot branch on a value")


def source(x) -> str:
    if isinstance(x, Traced):
        return x.text
    if type(x) in (int, float):
        return repr(x)
    raise TypeError(f"cannot trace {type(x).__name__}")


TRACE_MATH = SimpleNamespace(**{
    name: (lambda *xs, _n=name: Traced(f"_m_{_n}({', '.join(map(source, xs))})"))
    for name in OPS})


def traced_terms(op: Op, g: str = "g", out: str = "out",
                 xs: tuple[str, ...] | None = None) -> list[str] | None:
    """The source of each of `op`'s rules (one per argument), or None if one cannot be traced."""
    names = xs or tuple(f"x{i}" for i in range(op.arity))
    try:
        return [rule(TRACE_MATH, Traced(g), Traced(out), *map(Traced, names)).text
                for rule in op.rules]
    except (TypeError, AttributeError):
        return None


def forwards() -> dict:
    """``{"_m_<op>": float forward}``: what traced ``m.<op>(...)`` calls need in scope."""
    return {f"_m_{name}": op.fwd for name, op in OPS.items()}

"""`Value`: a micrograd-compatible scalar autograd engine, driven by the op registry.

A `Value` holds ``data``, ``grad``, its arguments and its op (an `ops.Op`); there are no
per-node closures: `backward` looks up each op's derivative rules in the registry and runs
them on floats.  `backward` sorts the graph with an explicit stack, so a chain of 100,000 nodes
works where micrograd's recursive ``build_topo`` overflows.

>>> a = Value(-2.0, label='a'); b = Value(3.0, label='b')
>>> f = (a * b) * (a + b); f.backward()
>>> a.grad, b.grad
(-3.0, -8.0)
"""
from __future__ import annotations

from typing import Iterable

from .errors import DomainError
from .ir import domain_error
from .ops import FLOAT_MATH, OPS, Op

_BY_SYMBOL = {o.symbol: o for o in OPS.values()}


class Value:
    """A scalar in a computation graph.  ``Value(data, _children=(), _op='', label='')``."""

    __slots__ = ("data", "grad", "_args", "_fn", "label", "_const")

    def __init__(self, data, _children: Iterable["Value"] = (), _op: str | Op = "",
                 label: str = ""):
        self.data = float(data)
        self.grad = 0.0
        self._args = tuple(_children)
        self._fn = _lookup(_op, len(self._args)) if _op or self._args else None
        self.label = label
        self._const = False    # True for numbers lifted into Values by an operator

    # ---- micrograd's attributes -------------------------------------------------------------

    @property
    def _prev(self) -> set:
        """The distinct children (micrograd keeps a set; `_args` keeps order and repeats)."""
        return set(self._args)

    @property
    def _op(self) -> str:
        return self._fn.symbol if self._fn is not None else ""

    def __repr__(self) -> str:
        return f"Value(data={self.data}, grad={self.grad})"

    # ---- building ---------------------------------------------------------------------------

    @staticmethod
    def _lift(x) -> "Value":
        if isinstance(x, Value):
            return x
        v = Value(x)
        v._const = True
        return v

    def _apply(self, name: str, *others) -> "Value":
        args = (self, *map(Value._lift, others))
        fn = OPS[name]
        try:
            data = fn.fwd(*(a.data for a in args))
        except (ValueError, ZeroDivisionError, OverflowError) as exc:
            raise _domain_error(fn, args, exc) from None
        out = Value.__new__(Value)
        out.data, out.grad, out._args, out._fn, out.label, out._const = (
            data, 0.0, args, fn, "", False)
        return out

    def __add__(self, other): return self._apply("add", other)
    def __radd__(self, other): return Value._lift(other)._apply("add", self)
    def __sub__(self, other): return self._apply("sub", other)
    def __rsub__(self, other): return Value._lift(other)._apply("sub", self)
    def __mul__(self, other): return self._apply("mul", other)
    def __rmul__(self, other): return Value._lift(other)._apply("mul", self)
    def __truediv__(self, other): return self._apply("div", other)
    def __rtruediv__(self, other): return Value._lift(other)._apply("div", self)
    def __pow__(self, other): return self._apply("pow", other)
    def __rpow__(self, other): return Value._lift(other)._apply("pow", self)
    def __neg__(self): return self._apply("neg")
    def __pos__(self): return self
    def __abs__(self): return self._apply("abs")

    def log(self, base=None) -> "Value":
        """Natural logarithm, or ``log(x, base) = log(x)/log(base)`` as in the language."""
        if base is None:
            return self._apply("log")
        return self._apply("log") / Value._lift(base)._apply("log")

    # ---- backward ---------------------------------------------------------------------------

    def topo(self) -> list["Value"]:
        """Every node of the graph below `self`, children before parents (iterative DFS)."""
        order: list[Value] = []
        visited: set[int] = set()
        stack: list = [(self, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
                continue
            if id(node) in visited:
                continue
            visited.add(id(node))
            stack.append((node, True))
            for child in reversed(node._args):
                if id(child) not in visited:
                    stack.append((child, False))
        return order

    def backward(self) -> None:
        """Reverse-mode sweep: d self / d node accumulates (+=) into every ``node.grad``."""
        self.grad = 1.0
        m = FLOAT_MATH
        for node in reversed(self.topo()):
            fn = node._fn
            if fn is None:
                continue
            xs = [a.data for a in node._args]
            g, out = node.grad, node.data
            for arg, rule in zip(node._args, fn.rules):
                if arg._const:
                    continue        # numbers lifted into the graph need no gradient
                try:
                    arg.grad += rule(m, g, out, *xs)
                except (ValueError, ZeroDivisionError, OverflowError) as exc:
                    raise _domain_error(fn, node._args, exc, "the derivative of ") from None


def _method(name: str):
    def method(self, *others):
        return self._apply(name, *others)
    method.__name__ = name
    method.__qualname__ = f"Value.{name}"
    method.__doc__ = f"{name} of this value" + (" and the others" if OPS[name].arity > 1 else "")
    return method


# One method per function of the language (tanh, exp, relu, max, ...), read from the registry.
for _name, _op in OPS.items():
    if _op.public and _name not in Value.__dict__:
        setattr(Value, _name, _method(_name))


def _lookup(op, nargs: int) -> Op:
    if isinstance(op, Op):
        return op
    found = OPS.get(op) or _BY_SYMBOL.get(op)
    if found is None or found.arity != nargs:
        raise ValueError(f"unknown op {op!r} for {nargs} children; known: "
                         f"{', '.join(sorted(OPS))}")
    return found


def _domain_error(fn: Op, args, exc: Exception, what: str = "") -> DomainError:
    shown = [f"{a.data:g}" for a in args]
    call = (f"{shown[0]} {fn.infix} {shown[1]}" if fn.infix and len(args) == 2
            else f"{fn.name}({', '.join(shown)})")
    labels = [a.label for a in args if a.label]
    named = f" (inputs {', '.join(labels)})" if labels else ""
    reason = {ZeroDivisionError: "division by zero", OverflowError: "the result overflows"}.get(
        type(exc), "outside the function's domain")
    return DomainError(f"{what}{call} is undefined: {reason}{named}")


def value_graph(graph, point: dict[str, float]) -> Value:
    """Build the `Value` DAG of an IR graph at `point` (forward done, backward not)."""
    values: list = [None] * len(graph.nodes)
    for node in graph.order():
        if node.op == "var":
            v = Value(point[node.payload], label=node.payload)
        elif node.op == "const":
            v = Value(float(node.payload))
            v._const = True
        else:
            args = [values[a.index] for a in node.args]
            datas = [a.data for a in args]
            try:
                OPS[node.op].fwd(*datas)     # to name the failing node in the source text
            except (ValueError, ZeroDivisionError, OverflowError) as exc:
                raise domain_error(graph, node, datas, exc) from None
            v = args[0]._apply(node.op, *args[1:]) if args else _nullary(node.op)
            v.label = graph.labels.get(node, "")
        values[node.index] = v
    return values[graph.output.index]


def _nullary(name: str) -> Value:
    v = Value(OPS[name].fwd())
    v._fn = None
    v.label = name
    v._const = True
    return v


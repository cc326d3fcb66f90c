"""The library API: `compile(text)` → `Function`, compiled once and called many times.

>>> import exprgrad as eg
>>> f = eg.compile("n = x1*w1 + x2*w2 + b; o = tanh(n)")
>>> f.variables
('b', 'w1', 'w2', 'x1', 'x2')
>>> value, grads = f.grad(x1=2, x2=0, w1=-3, w2=1, b=6.8813735870195432)
>>> round(value, 4), round(grads["x1"], 4)
(0.7071, -1.5)
"""
from __future__ import annotations

from .engine import Value, value_graph
from .ir import Graph, check_values, evaluate, pretty
from .lower import lower
from .parse import parse


class Function:
    """A compiled exprgrad program: evaluate it, differentiate it, look at it."""

    def __init__(self, source: str, graph: Graph):
        self.source = source
        self.ir = graph
        self.variables: tuple[str, ...] = graph.variables
        self.output_name: str = graph.output_names[0]
        self._order = graph.order()

    def __repr__(self) -> str:
        return f"<exprgrad.Function {self.output_name}({', '.join(self.variables)})>"

    def __str__(self) -> str:
        return pretty(self.ir)

    def _point(self, args: tuple, values: dict) -> dict[str, float]:
        if args:
            if len(args) > len(self.variables):
                from .errors import VariableError
                raise VariableError(f"expected at most {len(self.variables)} positional values "
                                    f"({', '.join(self.variables)}), got {len(args)}")
            values = {**dict(zip(self.variables, args)), **values}
        return check_values(self.ir, values)

    def __call__(self, *args, **values) -> float:
        """The value at a point: ``f(x=1.0, y=2.0)`` or positionally in `variables` order."""
        point = self._point(args, values)
        return evaluate(self.ir, point, self._order)[self.ir.output.index]

    def grad(self, *args, **values) -> tuple[float, dict[str, float]]:
        """``(value, {variable: partial derivative})`` at a point, by reverse mode."""
        root = self.graph(*args, **values)
        leaves = _leaves(root)
        return root.data, {name: leaves[name].grad if name in leaves else 0.0
                           for name in self.variables}

    def graph(self, *args, **values) -> Value:
        """The `Value` DAG at a point, forward and backward done; returns its root."""
        root = value_graph(self.ir, self._point(args, values))
        root.backward()
        return root


def _leaves(root: Value) -> dict[str, Value]:
    return {v.label: v for v in root.topo() if not v._args and not v._const and v.label}


def compile(text: str) -> Function:   # noqa: A001 - the library's verb, as in re.compile
    """Parse and lower exprgrad text once; the result is called many times."""
    return Function(text, lower(parse(text), text))

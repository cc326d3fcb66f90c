"""Tracing: a `Value` DAG → graph IR, so computations built with `Value` can be compiled.

The inputs named in `trace(root, inputs)` become variables; every other leaf becomes a constant
(its current ``data``, exactly).  Labels of inner nodes become IR labels.  Iterative: it walks
`Value.topo()`.

>>> from exprgrad.value import Value
>>> x, w = Value(2.0), Value(-3.0)
>>> g = trace((x * w + 1).tanh(), {"x": x, "w": w})
>>> g.variables, len(g.order())
(('w', 'x'), 6)
"""
from __future__ import annotations

import math
from fractions import Fraction
from typing import Mapping

from .errors import DomainError, printable
from .value import Value
from .ir import Graph


def _constant(graph: Graph, v: Value):
    """A leaf that is not an input, frozen at its value (exactly)."""
    if not math.isfinite(v.data):
        # The generated code holds constants as exact numbers; inf and nan have none.
        what = f"{printable(v.label)!r} = {v.data!r}" if v.label else repr(v.data)
        raise DomainError(f"cannot compile the constant {what}: a constant of a traced "
                          "computation must be a finite number")
    return graph.const(Fraction(v.data))


def trace(root: Value, inputs: Mapping[str, Value], output_name: str | None = None) -> Graph:
    """The IR of the computation below `root`, with `inputs` as named variables."""
    by_id = {id(v): name for name, v in inputs.items()}
    graph = Graph()
    nodes: dict[int, object] = {}
    for v in root.topo():
        if id(v) in by_id:
            node = graph.var(by_id[id(v)])
        elif not v._args:
            node = graph.apply(v._fn.name) if v._fn is not None else _constant(graph, v)
        else:
            node = graph.apply(v._fn.name, *(nodes[id(a)] for a in v._args))
        nodes[id(v)] = node
        if v.label and v._args:
            graph.name(node, v.label)
    for name in inputs:
        graph.var(name)
    out = nodes[id(root)]
    graph.outputs.append(out)
    graph.output_names.append(output_name or graph.label(out) or "f")
    return graph

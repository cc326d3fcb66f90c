"""Tracing: a `Value` DAG → graph IR, so computations built with `Value` can be compiled (and
written as text, `funcify`).

The inputs named in `trace(root, inputs)` become variables; every other leaf becomes a constant
(its current ``data``, exactly).  Labels of inner nodes become IR labels.  A list of roots is a
program of several outputs.  Iterative: it walks `Value.topo()`.

>>> from exprgrad.value import Value
>>> x, w = Value(2.0), Value(-3.0)
>>> g = trace((x * w + 1).tanh(), {"x": x, "w": w})
>>> g.variables, len(g.order())
(('w', 'x'), 6)
"""
from __future__ import annotations

import math
from fractions import Fraction
from typing import Mapping, Sequence

from .errors import DomainError, printable
from .ir import Graph
from .value import Value


def _constant(graph: Graph, v: Value, decimal: bool):
    """A leaf that is not an input, frozen at its value: the double's exact binary value, or
    (`decimal`) the shortest decimal that reads back to that double, as ``repr`` prints it."""
    if not math.isfinite(v.data):
        # The generated code holds constants as exact numbers; inf and nan have none.
        what = f"{printable(v.label)!r} = {v.data!r}" if v.label else repr(v.data)
        raise DomainError(f"cannot compile the constant {what}: a constant of a traced "
                          "computation must be a finite number")
    return graph.const(Fraction(repr(v.data)) if decimal else Fraction(v.data))


def trace(root: Value | Sequence[Value], inputs: Mapping[str, Value],
          output_name: str | Sequence[str] | None = None, decimal: bool = False) -> Graph:
    """The IR of the computation below `root` (a `Value`, or a list of them: several
    outputs), with `inputs` as named variables.  `output_name`: the output's name (one per
    root for several), default its label, else ``f`` (``f0, f1, ...`` for several).
    ``decimal``: constants as the shortest decimal of their double (see `_constant`); the
    same floats either way."""
    roots = [root] if isinstance(root, Value) else list(root)
    by_id = {id(v): name for name, v in inputs.items()}
    graph = Graph()
    nodes: dict[int, object] = {}
    for r in roots:
        # Each root's order lists arguments first; nodes seen under an earlier root are done.
        for v in r.topo():
            if id(v) in nodes:
                continue
            if id(v) in by_id:
                node = graph.var(by_id[id(v)])
            elif not v._args:
                node = (graph.apply(v._fn.name) if v._fn is not None
                        else _constant(graph, v, decimal))
            else:
                node = graph.apply(v._fn.name, *(nodes[id(a)] for a in v._args))
            nodes[id(v)] = node
            if v.label and v._args:
                graph.name(node, v.label)
    for name in inputs:
        graph.var(name)
    outs = [nodes[id(r)] for r in roots]
    if isinstance(output_name, str) or (output_name is None and len(roots) == 1):
        names = [output_name or graph.label(outs[0]) or "f"]
    else:
        names = list(output_name or [graph.label(o) or f"f{i}" for i, o in enumerate(outs)])
    graph.outputs.extend(outs)
    graph.output_names.extend(names)
    return graph

"""The `--expand` pass: `Graph` → `Graph` with tanh, sigmoid, softplus, sinh, cosh lowered to exp.

Input: a forward graph.  Output: a graph with the same variables, output name and labels
whose nodes are only elementary ops: every op that has an ``expand`` rule in the registry is
replaced by that rule run with ``m`` bound to the new graph's builder (the way the gradient
pass runs derivative rules), as the seeds do by hand::

    o = tanh(n)   →   e = exp(2*n); o = (e - 1)/(e + 1)

Hash-consing keeps ``exp(2*n)`` a single node.  The expanded node takes the label and source
span of the node it replaces, so pictures and domain errors still point at the user's text.
The value and gradients are those of the primitive graph, up to rounding and to the expanded
forms' own limits: ``exp(2*n)`` overflows for n > 354 where ``tanh`` would not.

>>> from exprgrad.printer import pretty
>>> from exprgrad.lower import lower
>>> from exprgrad.parse import parse
>>> print(pretty(expand(lower(parse("n = x*w + b; o = tanh(n)")))))
n = x*w + b
o = (exp(2*n) - 1)/(exp(2*n) + 1)
"""
from __future__ import annotations

from functools import partial
from types import SimpleNamespace

from .ir import Graph, copy_nodes
from .ops import OPS


def expanding_math(graph: Graph) -> SimpleNamespace:
    """`m` for expand rules: builds nodes of `graph`, expanding any expandable op it is asked
    for, so a rule may use another expandable op and still yield elementary nodes only."""
    def build(name, *args):
        rule = OPS[name].expand
        return rule(m, *args) if rule is not None else graph.apply(name, *args)
    m = SimpleNamespace(**{name: partial(build, name) for name in OPS})
    return m


def expand(graph: Graph) -> Graph:
    """A copy of `graph` (reachable nodes) with every expandable op rewritten via exp."""
    out = Graph(graph.source, peephole=graph.peephole)
    m = expanding_math(out)
    mapping = copy_nodes(graph, out, build=lambda op, *args: getattr(m, op)(*args))
    out.outputs = [mapping[o.index] for o in graph.outputs]
    out.output_names = list(graph.output_names)
    return out


def expandable(graph: Graph) -> list[str]:
    """Names of the ops in `graph` that `expand` rewrites (sorted, each once)."""
    return sorted({n.op for n in graph.order() if n.args and OPS[n.op].expand is not None})

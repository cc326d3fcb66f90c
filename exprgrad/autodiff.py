"""Reverse mode as a graph pass: `Graph` → `Graph` whose outputs are the value and its gradient.

The forward nodes are copied into a new graph, then the adjoint sweep runs each op's derivative
rules from the registry with ``m`` bound to the new graph's builder, so every rule becomes
nodes.  Adjoints of a node used twice accumulate (``+``).  Hash-consing shares any
subexpression the forward and adjoint sweeps have in common, and the builder's peephole
identities drop ``g*1`` and ``x + 0``.  The result is the straight-line program that the code
generators print: its size grows like the expression's, not like size × number of variables.

>>> from exprgrad.lower import lower
>>> from exprgrad.parse import parse
>>> g = grad_graph(lower(parse("n = x*w + b; o = tanh(n)")))
>>> g.output_names
['o', 'd_b', 'd_w', 'd_x']
"""
from __future__ import annotations

from typing import Sequence

from .ir import Graph, Node, copy_nodes
from .ops import OPS


def copy_forward(graph: Graph, into: Graph) -> dict[int, Node]:
    """Copy the reachable nodes (with labels and spans) of `graph` into `into`.

    The copy is verbatim (no peephole identities): the forward sweep must compute exactly what
    the interpreter computes, so ``0*log(x)`` still reports log(-1) and ``x*1`` stays visible.
    """
    peephole, into.peephole = into.peephole, False
    mapping = copy_nodes(graph, into)
    into.peephole = peephole
    return mapping


def grad_graph(graph: Graph, wrt: Sequence[str] | None = None) -> Graph:
    """A graph with outputs ``[value, d_<v> for v in wrt]`` (default: all variables, sorted).

    Two side tables serve the code generators: ``adjoints`` maps a forward node's index to its
    adjoint node, and ``blocks`` lists ``(forward node, index of the first node its rules
    created)`` in sweep order, so emitted code can say which statement a block differentiates.
    """
    wrt = list(graph.variables if wrt is None else wrt)
    out = Graph(graph.source, peephole=True)
    mapping = copy_forward(graph, out)
    y = mapping[graph.output.index]
    forward = out.order([y])

    wanted = {out.var(name).index for name in wrt}
    active = bytearray(len(out.nodes))
    for node in forward:
        if node.index in wanted or any(active[a.index] for a in node.args):
            active[node.index] = 1

    m = out.math
    adjoint: dict[int, Node] = {y.index: out.const(1)}
    blocks: list[tuple[Node, int]] = []
    for node in reversed(forward):
        g = adjoint.get(node.index)
        if g is None or not node.args:
            continue
        blocks.append((node, len(out.nodes)))
        rules = OPS[node.op].rules
        for arg, rule in zip(node.args, rules):
            if not active[arg.index]:
                continue
            contribution = rule(m, g, node, *node.args)
            previous = adjoint.get(arg.index)
            adjoint[arg.index] = contribution if previous is None else previous + contribution

    name = graph.output_names[0] if graph.output_names else "f"
    out.outputs = [y]
    out.output_names = [name]
    out.adjoints, out.blocks = adjoint, blocks
    for v in wrt:
        out.outputs.append(adjoint.get(out.var(v).index) or out.const(0))
        out.output_names.append(f"d_{v}")
    return out


def op_count(graph: Graph, roots=None) -> int:
    """Number of op nodes (not leaves) needed to compute `roots` (default: the outputs)."""
    return sum(1 for n in graph.order(roots) if n.args or n.op not in ("var", "const"))

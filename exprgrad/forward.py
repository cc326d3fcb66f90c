"""Forward mode as a graph pass: tangents pushed from the variables to the outputs.

Input: a graph (a forward graph, or a gradient program's graph), the nodes to reach, and seed
tangents for some variables.  Output: the tangent of every node that depends on a seeded
variable, as new nodes of the same graph.  There is no second table of derivatives: every
derivative rule of the registry is linear in its incoming adjoint ``g``, so the tangent of a
node is the sum over its arguments of ``rule(m, tangent of the argument, node, *args)`` —
the same rules the reverse sweep runs, read the other way.  A node none of whose arguments
has a tangent has none either: a structural zero, never built (JAX's symbolic zeros), so a
Hessian entry that is structurally 0 costs nothing.

`jvp_program` is the directional derivative ``J·v`` of every output, with the tangent
``v`` as extra parameters ``v_x, v_y, ...``.

>>> from exprgrad.lower import lower
>>> from exprgrad.parse import parse
>>> p = jvp_program(lower(parse("y = x*x*w")))
>>> p.params, p.result("jvp").labels
(('w', 'x', 'w·', 'x·'), ('jvp_y',))
"""
from __future__ import annotations

from typing import Sequence

from .autodiff import choose_wrt, copy_forward
from .ir import Graph, Node
from .ops import OPS
from .program import Program, Result

#: how a tangent parameter is named inside a graph: not a name the language can write, so it
#: never meets a source variable; generated code shows it as ``v_<name>`` (`tangent_names`)
TANGENT_MARK = "·"


def tangent_var(name: str) -> str:
    return name + TANGENT_MARK


def tangent_names(wrt: Sequence[str]) -> dict[str, str]:
    """Display names of tangent parameters for generated code: ``x·`` → ``v_x``."""
    return {tangent_var(v): f"v_{v}" for v in wrt}


def users(graph: Graph, roots: Sequence[Node]) -> list[list[int]]:
    """For each node index, the indices of the nodes below `roots` that use it (for sweeps
    that visit only what a seed reaches, `forward_sweep`'s ``reach``)."""
    found: list[list[int]] = [[] for _ in graph.nodes]
    for node in graph.order(roots):
        for a in node.args:
            found[a.index].append(node.index)
    return found


def forward_sweep(out: Graph, roots: Sequence[Node], seeds: dict[int, Node],
                  blocks: list | None = None, label: str = "tangents along v",
                  reach: list[list[int]] | None = None) -> dict[int, Node]:
    """Tangents of the nodes below `roots` in `out`, from ``seeds`` (node index → tangent);
    node index → tangent node, absent where the tangent is structurally zero.  ``blocks``,
    if given, receives ``(None, index of the sweep's first node, label)`` for a comment.
    ``reach`` (`users`): visit only the nodes the seeds reach, not every node below `roots`
    — a Hessian's n sweeps then cost what each variable touches, not n times the graph."""
    m = out.math
    tangent = dict(seeds)
    if blocks is not None:
        blocks.append((None, len(out.nodes), f"forward mode: {label}"))
    if reach is None:
        nodes = out.order(roots)
    else:
        cone, stack = set(), list(seeds)
        while stack:
            for u in reach[stack.pop()]:
                if u not in cone:
                    cone.add(u)
                    stack.append(u)
        nodes = [out.nodes[i] for i in sorted(cone)]
    for node in nodes:
        if not node.args or node.index in tangent:
            continue
        total = None
        for arg, rule in zip(node.args, OPS[node.op].rules):
            t = tangent.get(arg.index)
            if t is not None:
                contribution = rule(m, t, node, *node.args)
                if not isinstance(contribution, Node):
                    continue        # a number: a structural zero (ops._zero)
                total = contribution if total is None else total + contribution
        if total is None or (total.op == "const" and total.payload == 0):
            continue                  # a structural zero: nothing downstream needs it
        tangent[node.index] = total
    return tangent


def jvp_program(graph: Graph, wrt: Sequence[str] | None = None) -> Program:
    """Values of every output and their directional derivatives along ``v`` (one tangent
    parameter per variable of `wrt`, default all): results ``value``/``values`` and ``jvp``."""
    wrt = choose_wrt(graph, wrt)
    out = Graph(graph.source, peephole=True)
    mapping = copy_forward(graph, out)
    ys = tuple(mapping[o.index] for o in graph.outputs)
    seeds = {out.var(v).index: out.var(tangent_var(v)) for v in wrt}
    blocks: list = []
    tangent = forward_sweep(out, ys, seeds, blocks)
    dots = tuple(tangent.get(y.index) or out.const(0) for y in ys)
    names = tuple(graph.output_names)
    several = len(ys) > 1
    results = (Result("values" if several else "value", ys, (len(ys),) if several else (), names),
               Result("jvp", dots, (len(ys),) if several else (),
                      tuple(f"jvp_{n}" for n in names)))
    params = graph.variables + tuple(tangent_var(v) for v in wrt)
    return Program("jvp", out, params, results, primal=ys, wrt=wrt, blocks=tuple(blocks),
                   param_names=tangent_names(wrt))

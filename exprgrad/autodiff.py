"""Reverse mode as a graph pass: a forward `Graph` → a gradient `Program`.

The forward nodes are copied into a new graph, then the adjoint sweep runs each op's derivative
rules from the registry with ``m`` bound to the new graph's builder, so every rule becomes
nodes.  Adjoints of a node used twice accumulate (``+``).  Hash-consing shares any
subexpression the forward and adjoint sweeps have in common, and the builder's peephole
identities drop ``g*1`` and ``x + 0``.  The result is the straight-line program that the code
generators print: its size grows like the expression's, not like size × number of variables.

Only nodes on a path from a differentiated variable to the output get adjoints (activity
analysis), so ``--wrt x`` builds only what ∂f/∂x needs.

>>> from exprgrad.lower import lower
>>> from exprgrad.parse import parse
>>> p = grad_program(lower(parse("n = x*w + b; o = tanh(n)")))
>>> p.result("value").labels, p.result("grad").labels
(('o',), ('d_b', 'd_w', 'd_x'))
"""
from __future__ import annotations

from typing import Sequence

from .errors import OutputError, VariableError
from .ir import Graph, Node, copy_nodes
from .ops import OPS
from .program import Program, Result


def copy_forward(graph: Graph, into: Graph) -> dict[int, Node]:
    """Copy the reachable nodes (with labels and spans) of `graph` into `into`.

    The copy is verbatim (no peephole identities): the forward sweep must compute exactly what
    the interpreter computes, so ``0*log(x)`` still reports log(-1) and ``x*1`` stays visible.
    """
    peephole, into.peephole = into.peephole, False
    mapping = copy_nodes(graph, into)
    into.peephole = peephole
    return mapping


def choose_wrt(graph: Graph, wrt: Sequence[str] | None) -> tuple[str, ...]:
    """The variables to differentiate by: `wrt` (checked, duplicates dropped) or all."""
    if wrt is None:
        return graph.variables
    unknown = [v for v in wrt if v not in graph.vars]
    if unknown:
        raise VariableError(f"cannot differentiate by {', '.join(unknown)}: not a variable; "
                            f"the variables are {', '.join(graph.variables) or '(none)'}")
    return tuple(dict.fromkeys(wrt))


def choose_output(graph: Graph, output: int | str | None) -> int:
    """The index of the output to differentiate: the only one, or the one named/numbered."""
    names = graph.output_names
    if output is None:
        if len(graph.outputs) != 1:
            raise OutputError(f"the program has {len(names)} outputs ({', '.join(names)}): "
                              "choose one to differentiate, or take the Jacobian")
        return 0
    if isinstance(output, int) and not isinstance(output, bool):
        if 0 <= output < len(names):
            return output
    elif output in names:
        return names.index(output)
    raise OutputError(f"no output {output!r}; the outputs are {', '.join(names)}")


def reverse_sweep(out: Graph, y: Node, active: bytearray, seed: Node | None = None
                  ) -> tuple[dict[int, Node], list[tuple[Node, int, str]]]:
    """Adjoints of every active node below `y` in `out`, seeded with ``dy = seed`` (1).

    Returns ``(adjoints, blocks)``: forward node index → adjoint node, and ``(forward node,
    index of the first node its rules created, "grad of")`` in sweep order (comments).
    """
    m = out.math
    adjoint: dict[int, Node] = {y.index: out.const(1) if seed is None else seed}
    blocks: list[tuple[Node, int, str]] = []
    for node in reversed(out.order([y])):
        g = adjoint.get(node.index)
        if g is None or not node.args:
            continue
        blocks.append((node, len(out.nodes), "grad of"))
        for arg, rule in zip(node.args, OPS[node.op].rules):
            if not active[arg.index]:
                continue
            contribution = rule(m, g, node, *node.args)
            if not isinstance(contribution, Node):
                continue            # a number: a structural zero (ops._zero)
            previous = adjoint.get(arg.index)
            adjoint[arg.index] = contribution if previous is None else previous + contribution
    return adjoint, blocks


def activity(graph: Graph, roots: Sequence[Node], wrt: Sequence[str]) -> bytearray:
    """1 for every node below `roots` that depends on a variable in `wrt`."""
    wanted = {graph.var(name).index for name in wrt}
    active = bytearray(len(graph.nodes))
    for node in graph.order(roots):
        if node.index in wanted:
            active[node.index] = 1
            continue
        for a in node.args:         # a loop, not any(generator): half the time per node
            if active[a.index]:
                active[node.index] = 1
                break
    return active


def grad_program(graph: Graph, wrt: Sequence[str] | None = None,
                 output: int | str | None = None) -> Program:
    """Value and gradient of one output: results ``value`` (scalar) and ``grad`` (one partial
    per variable of `wrt`, default all, sorted); the arguments are all the variables."""
    wrt = choose_wrt(graph, wrt)
    k = choose_output(graph, output)
    out = Graph(graph.source, peephole=True)
    mapping = copy_forward(graph, out)
    y = mapping[graph.outputs[k].index]
    adjoint, blocks = reverse_sweep(out, y, activity(out, [y], wrt))
    partials = tuple(adjoint.get(out.var(v).index) or out.const(0) for v in wrt)
    name = graph.output_names[k]
    results = (Result("value", (y,), (), (name,)),
               Result("grad", partials, (len(wrt),), tuple(f"d_{v}" for v in wrt)))
    return Program("grad", out, graph.variables, results, primal=(y,), wrt=wrt,
                   adjoints=adjoint, blocks=tuple(blocks))


def op_count(graph: Graph, roots=None) -> int:
    """Number of op nodes (not leaves) needed to compute `roots` (default: the outputs)."""
    return sum(1 for n in graph.order(roots) if n.args or n.op not in ("var", "const"))

"""`funcify`: a `Value` DAG → exprgrad program text that `exprgrad.compile` reads back to the
same function (the seeds' exercise 6).

Input: one root `Value` or a list of them (several outputs), and the leaves that are variables.
Output: the text.  `trace.trace` turns the DAG into the graph IR (constants as the shortest
decimal of their double), labels that are names of the language become statements, and
`printer.pretty` writes it, with the statements chosen so that lowering the text creates the
nodes in the DAG's order (see `_keep_creation_order`).  Iterative throughout: a chain of
100,000 ops works.
"""
from __future__ import annotations

from typing import Mapping, Sequence

from .errors import CodegenError, VariableError
from .ir import Graph
from .ops import CONSTANTS, FUNCTIONS, OPS
from .parse import valid_name
from .printer import fresh_names, pretty, statement_names
from .trace import trace
from .value import Value


def is_name(text: str) -> bool:
    """Can `text` be a variable or an intermediate's name in exprgrad text?  (A name of the
    grammar that is neither a function nor a constant of the language.)"""
    return (isinstance(text, str) and valid_name(text)
            and text not in FUNCTIONS and text not in CONSTANTS)


def funcify(root: Value | Sequence[Value],
            variables: Mapping[str, Value] | Sequence[Value] | None = None) -> str:
    """Program text for the computation below `root` that `exprgrad.compile` reads back to
    the same function: the same value, the same gradient, bit for bit (the seeds' exercise
    6).  `root` is a `Value`, or a list of them (a program of several outputs, such as the
    probabilities of `nn.softmax`).

    ``variables`` picks the leaves that become the program's variables: a mapping of names
    to leaf `Value`s, or a sequence of leaves named by their labels; by default, every
    labelled leaf, by its label (numbers an operator lifted, and ``pi``, stay constants).
    Every other leaf is a constant, written as the shortest decimal that reads back to its
    double (``0.1``: the same float).  An inner node whose
    label is a name of the language, and not taken, becomes a statement of that name; other
    labels (``'x1*w1'``) are left out.  One output is the last statement (named when its
    label is a name), several end with their names (``p0, p1, p2``).

    >>> x, w = Value(2.0, label='x'), Value(-3.0, label='w')
    >>> n = x*w + 0.5; n.label = 'n'
    >>> o = n.tanh(); o.label = 'o'
    >>> print(funcify(o))
    n = x*w + 0.5
    o = tanh(n)
    >>> import exprgrad
    >>> exprgrad.compile(funcify(o))(x=2.0, w=-3.0) == o.data
    True
    """
    roots = [root] if isinstance(root, Value) else list(root)
    if not roots or not all(isinstance(r, Value) for r in roots):
        raise TypeError("funcify takes a Value or a non-empty list of Values")
    inputs = _variables(roots, variables)
    graph = trace(roots, inputs, decimal=True)
    for node in graph.order():
        op = OPS.get(node.op)
        if op is not None and not (op.public or op.infix or op.name in CONSTANTS.values()):
            raise CodegenError(f"the language has no {op.name}: a Value DAG with it has no "
                               "program text")
    taken = set(inputs)
    for node, label in list(graph.labels.items()):      # first label of a name wins
        if is_name(label) and label not in taken:
            taken.add(label)
        else:
            del graph.labels[node]
    if len(roots) == 1:
        label = graph.labels.get(graph.outputs[0])
        graph.output_names[:] = [label or "f"]
    else:
        graph.output_names[:] = _output_names(graph, taken)
    names = statement_names(graph)
    _keep_creation_order(graph, names, taken | set(graph.output_names))
    return pretty(graph, names=names)


# The gradient sums a node's contributions in reverse creation order (autodiff.reverse_sweep,
# Value.backward alike), and floating-point sums depend on their order.  So the text must make
# `lower` create the nodes in the order the Value DAG created them: then the compiled gradient
# is the traced one, bit for bit.  Text lowers statement by statement, each expression in
# post-order, left to right; a node created out of turn gets a statement of its own.

def _lowering_order(graph: Graph, names: dict) -> list:
    """The op nodes, in the order `lower` creates them from ``pretty(graph, names=names)``."""
    created: set[int] = set()
    seq = []
    roots = [n for n in graph.order() if n in names]
    roots += [out for out in graph.outputs if out not in names]
    for root in roots:
        stack = [(root, False)]
        while stack:
            node, ready = stack.pop()
            if node.index in created or (node is not root and node in names):
                continue                # made already, or by its own (earlier) statement
            if ready:
                created.add(node.index)
                if node.args:
                    seq.append(node)
                continue
            stack.append((node, True))
            stack.extend((a, False) for a in reversed(node.args))
    return seq


def _keep_creation_order(graph: Graph, names: dict, taken: set) -> None:
    """Give statements (in `names`) to the nodes the text would create out of turn: first one
    at a time (the fewest names), after a few rounds every misplaced one (it converges)."""
    want = [n for n in graph.order() if n.args]
    fresh = fresh_names(taken | set(names.values()))
    outputs = dict(zip(graph.outputs, graph.output_names))
    for rounds in range(len(want) + 1):
        got = _lowering_order(graph, names)
        wrong = [w for w, g in zip(want, got) if w is not g]
        if not wrong:
            return
        for node in wrong[:1] if rounds < 16 else wrong:
            name = outputs.get(node)
            names[node] = name if name is not None and name not in names.values() \
                else next(fresh)
    raise AssertionError("unreachable: naming every op node gives the creation order")


def _variables(roots: list[Value], variables) -> dict[str, Value]:
    """The name → leaf map of the variables: the caller's, or the labelled leaves."""
    if isinstance(variables, Mapping):
        chosen = dict(variables)
    else:
        if variables is None:
            leaves = {}
            for r in roots:
                for v in r.topo():
                    if not v._args and v._fn is None and v.label and not v._const:
                        leaves[id(v)] = v
            variables = leaves.values()
        chosen = {}
        for v in variables:
            if not isinstance(v, Value) or not v.label:
                raise VariableError("a variable given as a Value needs a label (its name); "
                                    "or pass a mapping {name: value}")
            if chosen.get(v.label, v) is not v:
                raise VariableError(f"two different leaves are labelled {v.label!r}: pass "
                                    "variables={name: value} to choose the names")
            chosen[v.label] = v
    for name, v in chosen.items():
        if not is_name(name):
            raise VariableError(f"{name!r} cannot be a variable's name in exprgrad text (a "
                                "name is a letter or _ then letters, digits, _; not a function "
                                "or pi)")
        if not isinstance(v, Value) or v._args:
            raise VariableError(f"the variable {name} must be a leaf Value (no arguments)")
    return chosen


def _output_names(graph: Graph, taken: set[str]) -> list[str]:
    """Several outputs: each named by its statement's label, else f0, f1, ... (not taken)."""
    names, used = [], set()
    for i, out in enumerate(graph.outputs):
        name = graph.labels.get(out) if out.op != "var" else out.payload
        if name is None or name in used:
            name = f"f{i}"
            while name in taken or name in used:
                name += "_"
        used.add(name)
        names.append(name)
    return names

"""Programs: a graph with a signature — what a generated function takes and what it returns.

Input: the graph a pass built (the forward copy, the gradient pass, forward mode, the
Hessian, the symbolic strategy).  Output: a `Program`, the one type every consumer reads —
the code generators print it as a function, `Function` runs it, the pictures draw it.  It says
in data what used to travel by convention (output names starting with ``d_``):

- ``params``: the function's arguments, in order (variables, then any tangent inputs);
- ``results``: what it returns, in order, each a scalar, vector or matrix of nodes
  (`Result`: ``value``, ``grad``, ``hessian``, ...), with a name for every entry;
- ``primal``: the forward outputs inside the graph (everything they need is the forward sweep;
  the rest is derivative code, drawn in red);
- ``adjoints`` and ``blocks``: which node is the adjoint of which forward node, and where each
  node's derivative statements start, ``(node, first index, "grad of")``, sorted by index
  (emitted as ``# grad of: ...`` comments; a block of a forward sweep has no node, only its
  label: ``# forward mode: second derivatives by x``).

>>> import exprgrad as eg
>>> from exprgrad.autodiff import grad_program
>>> p = grad_program(eg.compile("n = x*w + b; o = tanh(n)").ir)
>>> p.kind, p.params, [(r.name, r.shape) for r in p.results]
('grad', ('b', 'w', 'x'), [('value', ()), ('grad', (3,))])
>>> p.result("grad").labels
('d_b', 'd_w', 'd_x')
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from .ir import Graph, Node

#: kinds of program, in the order `Function` and the generated files document them
KINDS = ("value", "grad", "jacobian", "jvp", "hessian", "hvp")
#: names of results (a backend may derive identifiers from them: C's ``grad_out``)
RESULT_NAMES = ("value", "values", "grad", "jac", "jvp", "hess", "hvp")


@dataclass(frozen=True)
class Result:
    """One returned group: ``nodes`` row-major, ``shape`` () scalar, (n,) vector, (m, n)
    matrix; ``labels`` names each entry (``d_x``, ``d2_x_y``) for comments and dict keys."""
    name: str
    nodes: tuple
    shape: tuple[int, ...]
    labels: tuple[str, ...]
    axes: tuple = ()              # what each axis runs over: (("p", "q"), ("x", "y")) for a Jacobian

    def __post_init__(self):
        if self.name not in RESULT_NAMES:
            raise ValueError(f"unknown result name {self.name!r}")
        size = 1
        for n in self.shape:
            size *= n
        if not len(self.nodes) == len(self.labels) == size:
            raise ValueError(f"result {self.name}: {len(self.nodes)} nodes, "
                             f"{len(self.labels)} labels for shape {self.shape}")

    def rows(self) -> list[tuple]:
        """The entries of a matrix, one tuple per row (a vector: one row)."""
        width = self.shape[-1] if self.shape else 1
        return [self.nodes[i:i + width] for i in range(0, len(self.nodes), width or 1)]


@dataclass
class Program:
    """A straight-line program ready to run or print (see the module docstring)."""
    kind: str
    graph: Graph
    params: tuple[str, ...]
    results: tuple[Result, ...]
    primal: tuple = ()
    wrt: tuple[str, ...] = ()
    adjoints: Mapping[int, Node] = field(default_factory=dict)
    blocks: tuple = ()
    #: display names for parameters that are not source variables (tangent inputs: ``v_x``)
    param_names: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown program kind {self.kind!r}")

    def result(self, name: str) -> Result:
        for r in self.results:
            if r.name == name:
                return r
        raise KeyError(name)

    @property
    def roots(self) -> list[Node]:
        """Every returned node, in order (what `graph.order(roots)` must compute)."""
        return [n for r in self.results for n in r.nodes]

    def forward_nodes(self) -> set[int]:
        """Indices of the nodes of the forward sweep (what the primal outputs need)."""
        return {n.index for n in self.graph.order(self.primal)} if self.primal else set()


def forward_program(graph: Graph) -> Program:
    """The source's outputs as a program of kind ``value`` (one scalar, or a vector of
    several outputs), on the source graph itself."""
    values = tuple(graph.outputs)
    shape = () if len(values) == 1 else (len(values),)
    name = "value" if len(values) == 1 else "values"
    return Program("value", graph, graph.variables,
                   (Result(name, values, shape, tuple(graph.output_names)),), primal=values)


def check(prog: Program) -> None:
    """Verify a program: its graph (`ir.check`), its results, primal outputs, adjoints and
    blocks inside it, its parameters variables of it, its wrt among its parameters."""
    from .ir import IRError, check as check_graph
    g = prog.graph
    adjoints = list(prog.adjoints.values()) + [g.nodes[k] for k in prog.adjoints
                                               if 0 <= k < len(g.nodes)]
    check_graph(g, [*prog.roots, *prog.primal, *adjoints,
                    *(b[0] for b in prog.blocks if b[0] is not None)])
    starts = [b[1] for b in prog.blocks]
    if starts != sorted(starts):
        raise IRError("invalid program: comment blocks are not in statement order")
    if len(adjoints) != 2 * len(prog.adjoints):
        raise IRError("invalid program: an adjoint belongs to a node outside the graph")
    missing = [p for p in prog.params if p not in g.vars]
    if missing or not set(prog.wrt) <= set(prog.params):
        raise IRError(f"invalid program: parameters {missing} are not variables of the graph, "
                      f"or wrt {prog.wrt} is not among the parameters")
    if len(set(prog.params)) != len(prog.params):
        raise IRError("invalid program: a parameter appears twice")

"""Second order and several outputs, composed from the two passes: Hessians, HVPs, Jacobians.

Input: a forward graph.  Output: `Program`s, each built from the reverse sweep (autodiff.py)
and the forward sweep (forward.py) — no rule of its own, no second derivative table:

- `hvp_program`: value, gradient and ``H·v`` by forward-over-reverse (JAX's ``jvp(grad(f))``):
  the forward sweep runs over the gradient program with the tangent ``v`` as parameters;
- `hessian_program`: value, gradient and the Hessian, one forward sweep per variable seeded
  with a unit tangent (``e_i``) over the same gradient program, so it never costs more than
  one HVP per variable, shares every common subexpression, and an entry that is structurally
  zero is the constant 0.  Entry (i, j) for i ≤ j comes from sweep i and is mirrored, so the
  matrix is exactly symmetric;
- `jacobian_program`: values and the Jacobian of several outputs, by one reverse sweep per
  output or one forward sweep per variable, whichever is fewer.

>>> from exprgrad.lower import lower
>>> from exprgrad.parse import parse
>>> p = hessian_program(lower(parse("x*x*y")))
>>> p.result("hess").labels
('d2_x_x', 'd2_x_y', 'd2_y_x', 'd2_y_y')
"""
from __future__ import annotations

from typing import Sequence

from .autodiff import activity, choose_wrt, copy_forward, grad_program, reverse_sweep
from .forward import forward_sweep, tangent_names, tangent_var, users
from .ir import Graph
from .program import Program, Result

#: "jacobian" strategies: one reverse sweep per output, one forward sweep per variable
MODES = ("auto", "reverse", "forward")


def hvp_program(graph: Graph, wrt: Sequence[str] | None = None,
                output: int | str | None = None) -> Program:
    """Value, gradient and the Hessian-vector product ``H·v`` (``v``: one tangent parameter
    per variable of `wrt`, after the variables)."""
    grad = grad_program(graph, wrt, output)
    out = grad.graph
    seeds = {out.var(v).index: out.var(tangent_var(v)) for v in grad.wrt}
    blocks = list(grad.blocks)
    tangent = forward_sweep(out, grad.roots, seeds, blocks)
    hv = tuple(tangent.get(n.index) or out.const(0) for n in grad.result("grad").nodes)
    hvp = Result("hvp", hv, (len(hv),), tuple(f"hvp_{v}" for v in grad.wrt))
    return Program("hvp", out, grad.params + tuple(tangent_var(v) for v in grad.wrt),
                   grad.results + (hvp,), primal=grad.primal, wrt=grad.wrt,
                   adjoints=grad.adjoints, blocks=tuple(blocks),
                   param_names=tangent_names(grad.wrt))


def hessian_program(graph: Graph, wrt: Sequence[str] | None = None,
                    output: int | str | None = None) -> Program:
    """Value, gradient and the Hessian by the variables of `wrt` (rows and columns in that
    order, default all variables)."""
    grad = grad_program(graph, wrt, output)
    out, wrt = grad.graph, grad.wrt
    partials = grad.result("grad").nodes
    n = len(wrt)
    entries: list = [None] * (n * n)
    blocks = list(grad.blocks)
    reach = users(out, partials)
    for i, v in enumerate(wrt):
        tangent = forward_sweep(out, partials[i:], {out.var(v).index: out.const(1)}, blocks,
                                f"second derivatives by {v}", reach)
        for j in range(i, n):
            entries[i * n + j] = entries[j * n + i] = \
                tangent.get(partials[j].index) or out.const(0)
    labels = tuple(f"d2_{a}_{b}" for a in wrt for b in wrt)
    hess = Result("hess", tuple(entries), (n, n), labels, (wrt, wrt))
    return Program("hessian", out, grad.params, grad.results + (hess,), primal=grad.primal,
                   wrt=wrt, adjoints=grad.adjoints, blocks=tuple(blocks))


def jacobian_program(graph: Graph, wrt: Sequence[str] | None = None,
                     mode: str = "auto") -> Program:
    """The values of every output and the Jacobian (rows: outputs, columns: the variables of
    `wrt`).  ``mode`` "auto" takes reverse mode when there are no more outputs than
    variables, else forward mode."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    wrt = choose_wrt(graph, wrt)
    out = Graph(graph.source, peephole=True)
    mapping = copy_forward(graph, out)
    ys = tuple(mapping[o.index] for o in graph.outputs)
    m, n = len(ys), len(wrt)
    if mode == "auto":
        mode = "reverse" if m <= n else "forward"
    entries: list = [None] * (m * n)
    blocks: list = []
    adjoints: dict = {}
    if mode == "reverse":
        for k, y in enumerate(ys):
            adjoint, sweep = reverse_sweep(out, y, activity(out, [y], wrt))
            blocks += sweep
            adjoints = adjoints or adjoint           # naming: the first output's adjoints
            for j, v in enumerate(wrt):
                entries[k * n + j] = adjoint.get(out.var(v).index) or out.const(0)
    else:
        reach = users(out, ys)
        for j, v in enumerate(wrt):
            tangent = forward_sweep(out, ys, {out.var(v).index: out.const(1)}, blocks,
                                    f"derivatives by {v}", reach)
            for k, y in enumerate(ys):
                entries[k * n + j] = tangent.get(y.index) or out.const(0)
    names = tuple(graph.output_names)
    results = (Result("values", ys, (m,), names),
               Result("jac", tuple(entries), (m, n),
                      tuple(f"d_{o}_d_{v}" for o in names for v in wrt), (names, wrt)))
    return Program("jacobian", out, graph.variables, results, primal=ys, wrt=wrt,
                   adjoints=adjoints, blocks=tuple(blocks))

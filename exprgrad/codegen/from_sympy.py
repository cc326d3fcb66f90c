"""The ``symbolic`` strategy: sympy's closed-form derivatives, after `sympy.cse`, as a graph.

Input: a forward `Graph`.  Each node becomes a sympy expression through its op's ``sym`` (one
loop over ``graph.order()``), ``sympy.diff`` differentiates the output by every variable, and
``sympy.cse`` factors out common subexpressions.  Output: a gradient `Program` like
`autodiff.grad_program`'s (the forward copied verbatim, results ``value`` and ``grad``), with
the derivatives rebuilt as IR nodes, so the same printers emit them.  The registry's
derivative rules are not used: this is the independent, closed-form view of the same numbers.

Non-smooth points follow exprgrad's conventions (sympy's ``Heaviside`` is printed as ``step``,
which is 0 at 0 as PyTorch's ``relu'(0)``); ties of ``max``/``min`` may differ.

>>> from exprgrad.lower import lower
>>> from exprgrad.parse import parse
>>> p = symbolic_program(lower(parse("y = x*x; sin(y)")))
>>> p.result("grad").labels
('d_x',)
"""
from __future__ import annotations

from fractions import Fraction
from typing import Sequence

import sympy

from ..autodiff import choose_output, choose_wrt, copy_forward
from ..errors import CodegenError, SymbolicError
from ..ir import Graph, Node
from ..ops import OPS
from ..program import Program, Result
from ..symbolic import Budget, bounded, symbol, to_sympy

def _sympy_functions() -> dict:
    """sympy function class -> registry op, read off each one-argument op's `sym` (the ops
    that sympy writes as ``F(x)``: exp, tanh, Abs, ...); others are rebuilt in `_node`."""
    x = sympy.Symbol("x", real=True)
    found: dict = {}
    for name, op in OPS.items():
        if op.arity == 1:
            expr = op.sym(sympy, x)
            if expr.args == (x,):
                found.setdefault(expr.func, name)
    return found


_FUNCTIONS = _sympy_functions()


@bounded
def symbolic_program(graph: Graph, wrt: Sequence[str] | None = None,
                     output: int | str | None = None) -> Program:
    """Value and ``grad`` of one output (by the variables of `wrt`, default all),
    derivatives from sympy after cse."""
    wrt = choose_wrt(graph, wrt)
    k = choose_output(graph, output)
    out = Graph(graph.source, peephole=True)
    mapping = copy_forward(graph, out)
    symbols = {v: symbol(v) for v in wrt}
    budget = Budget.current()       # one budget for the conversion, diff and cse
    try:
        expr = to_sympy(graph, graph.outputs[k], budget=budget)   # the check's conversion
        with budget.guard("differentiating the closed form and sharing its subexpressions"):
            derivatives = [sympy.diff(expr, s) for s in symbols.values()]
            replacements, reduced = sympy.cse(derivatives)
    except SymbolicError as err:
        raise CodegenError(f"{err.message}; use the reverse strategy") from None
    except RecursionError:
        raise CodegenError("the expression is too deeply nested for sympy; "
                           "use the reverse strategy") from None
    built: dict[sympy.Basic, Node] = {symbol(v): out.var(v) for v in graph.variables}
    for sym, sub in replacements:
        built[sym] = _build(sub, out, built)
    y = mapping[graph.outputs[k].index]
    partials = tuple(_build(d, out, built) for d in reduced)
    results = (Result("value", (y,), (), (graph.output_names[k],)),
               Result("grad", partials, (len(wrt),), tuple(f"d_{v}" for v in wrt)))
    return Program("grad", out, graph.variables, results, primal=(y,), wrt=wrt)


def _build(expr: sympy.Basic, g: Graph, built: dict) -> Node:
    """IR nodes for a sympy expression (post-order with an explicit stack)."""
    stack = [(expr, False)]
    while stack:
        e, ready = stack.pop()
        if e in built:
            continue
        if not ready:
            stack.append((e, True))
            stack.extend((a, False) for a in e.args if a not in built)
            continue
        built[e] = _node(e, g, [built[a] for a in e.args])
    return built[expr]


def _node(e: sympy.Basic, g: Graph, args: list[Node]) -> Node:
    if e.is_Rational:
        value = Fraction(int(e.p), int(e.q))
        try:
            float(value)       # sympy folds 1e308*10 exactly; no double holds the result
        except OverflowError:
            raise CodegenError(f"the closed form has a constant beyond the range of a double "
                               f"({sympy.Float(e, 3)}); use the reverse strategy") from None
        return g.const(value)
    if e.is_Float:
        return g.const(Fraction(float(e)))
    if e is sympy.pi:
        return g.apply("pi")
    if e is sympy.E:
        return g.apply("exp", g.const(1))
    if e.is_Add:
        return _fold(g, "add", args)
    if e.is_Mul:
        return _fold(g, "mul", args)
    if e.is_Pow:
        base, exp = args
        if e.exp == sympy.Rational(1, 2):
            return g.apply("sqrt", base)
        if e.exp == -1:
            return g.apply("div", g.const(1), base)
        if e.exp == sympy.Rational(-1, 2):
            return g.apply("div", g.const(1), g.apply("sqrt", base))
        return g.apply("pow", base, exp)
    if isinstance(e, sympy.Heaviside):
        return g.apply("step", args[0])
    if isinstance(e, (sympy.Max, sympy.Min)):
        return _fold(g, "max" if isinstance(e, sympy.Max) else "min", args)
    op = _FUNCTIONS.get(type(e))
    if op is not None and len(args) == 1:
        return g.apply(op, args[0])
    raise CodegenError(f"the symbolic strategy cannot print {type(e).__name__} "
                       f"(in {str(e)[:60]}); use the reverse strategy")


def _fold(g: Graph, op: str, args: list[Node]) -> Node:
    acc = args[0]
    for a in args[1:]:
        acc = g.apply(op, acc, a)
    return acc

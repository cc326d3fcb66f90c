"""Closed forms: a forward `Graph` → sympy expressions for its output and partial derivatives.

Input: a graph from `lower` (or the `--expand` pass).  Each node becomes a sympy expression
through its op's ``sym`` in one loop over ``graph.order()``, so named intermediates are
substituted and decimal literals stay exact (``6.8813735870195432`` is a `Rational`).  Output:
``f``, ``∂f/∂v`` from `sympy.diff`, the same with the hyperbolic functions rewritten via ``exp``
by sympy's own ``rewrite``, and `evaluate`, which computes any of them at a point to
`EVAL_DIGITS` digits.  The registry's derivative rules are never used here: sympy is the
independent oracle that check.py compares the DAG against.

sympy recurses and some of its operations grow with the expression *tree* (not the DAG): a
chain of named intermediates ``a = x*x; b = a*a; ...`` doubles the tree at every step, and each
level of exp-expanded ``tanh`` quadruples it.  So before sympy sees anything, `measure` counts
on the graph the tree size and nesting depth sympy would get, and every call into sympy runs
under a `Budget`:

- `MAX_TREE` nodes after substitution, `MAX_DEPTH` levels of nesting (sums and products count
  once, as sympy flattens them), checked on the graph first;
- `TIME_BUDGET` seconds for the whole job, enforced by interrupting sympy in whatever thread
  runs it, without touching signals (budget.py says how, and why not SIGALRM);
- any RecursionError sympy raises all the same.

Exceeding a budget raises `SymbolicError("symbolic side skipped: <reason>")`, never a
RecursionError and never a hang.  Simplification is light and bounded: `sympy.factor_terms`
(which never expands), no `simplify`.

>>> from exprgrad.lower import lower
>>> from exprgrad.parse import parse
>>> forms = ClosedForms(lower(parse("n = x*w + b; o = tanh(n)")))
>>> forms.expr()
tanh(b + w*x)
>>> forms.derivative("x")
w*(1 - tanh(b + w*x)**2)
>>> forms.derivative("x", expanded=True).has(sympy.tanh)
False
"""
from __future__ import annotations

import math
import sys
from functools import lru_cache

import sympy

from .budget import Budget, bounded, shared, skipped  # noqa: F401 (shared: for callers)
from .errors import SymbolicError
from .ir import Graph, Node
from .ops import OPS

#: significant digits of `evaluate`; the point's floats are substituted exactly
EVAL_DIGITS = 30
#: `tidy` derivatives only of expressions up to this tree size (factor_terms walks the tree)
TIDY_MAX_TREE = 400

#: the classes that sympy's ``rewrite(exp)`` turns into exponentials (the seeds' "tanh
#: expanded via exp"); sigmoid and softplus are already written with exp by their ``sym``
HYPERBOLIC = (sympy.tanh, sympy.sinh, sympy.cosh, sympy.coth, sympy.sech, sympy.csch)

_ADDITIVE, _MULTIPLICATIVE = {"add", "sub", "neg"}, {"mul", "div"}


# ---- measuring the graph before sympy sees it --------------------------------------------------

@lru_cache(maxsize=None)
def _template(op: str, expanded: bool) -> tuple[int, tuple[int, ...], tuple[int, ...]]:
    """How sympy's form of `op` uses its arguments: (own nodes, copies of each argument,
    depth of each argument), read off ``sym`` applied to placeholder symbols."""
    holders = [sympy.Symbol(f"_arg{i}", real=True) for i in range(OPS[op].arity)]
    expr = OPS[op].sym(sympy, *holders)
    if expanded:
        expr = expr.rewrite(HYPERBOLIC, sympy.exp)
    copies, depths, own = [0] * len(holders), [0] * len(holders), 0
    stack = [(expr, 0)]
    while stack:
        e, d = stack.pop()
        if e in holders:
            i = holders.index(e)
            copies[i] += 1
            depths[i] = max(depths[i], d)
        else:
            own += 1
            stack.extend((a, d + 1) for a in e.args)
    return own, tuple(copies), tuple(depths)


def measure(graph: Graph, root: Node | None = None, expanded: bool = False,
            cap: int = 10 ** 9) -> tuple[int, int]:
    """(tree size, nesting depth) of the sympy expression for `root` (default: the output),
    computed on the graph in one pass; sizes saturate at `cap`."""
    root = graph.output if root is None else root
    size = [0] * len(graph.nodes)
    depth = [0] * len(graph.nodes)
    for node in graph.order([root]):
        i = node.index
        if not node.args:
            size[i], depth[i] = 1, 0
            continue
        own, copies, depths = _template(node.op, expanded)
        size[i] = min(cap, own + sum(c * size[a.index] for c, a in zip(copies, node.args)))
        depth[i] = max((depth[a.index] + (0 if _flattens(node.op, a.op) else d)
                        for d, a in zip(depths, node.args)), default=1)
    return size[root.index], depth[root.index]


def _flattens(op: str, arg_op: str) -> bool:
    """sympy flattens nested sums and products: ``(a + b) + c`` is one Add."""
    return ((op in _ADDITIVE and arg_op in _ADDITIVE)
            or (op in _MULTIPLICATIVE and arg_op in _MULTIPLICATIVE))


# ---- conversion ------------------------------------------------------------------------------

@lru_cache(maxsize=4096)
def symbol(name: str) -> sympy.Symbol:
    """The sympy symbol of an exprgrad variable: real, so ``Abs'`` is ``sign``."""
    return sympy.Symbol(name, real=True)


@bounded
def to_sympy(graph: Graph, root: Node | None = None, expanded: bool = False,
             budget: Budget | None = None) -> sympy.Expr:
    """The sympy expression of `root` (default: the output), one node at a time in
    ``graph.order()``.  ``expanded`` rewrites each hyperbolic function via exp as it is built,
    so the rewrite never walks the (possibly huge) tree below it."""
    budget = budget or Budget.current()
    root = graph.output if root is None else root
    size, depth = measure(graph, root, expanded, cap=budget.max_tree + 1)
    form = "exp-expanded expression" if expanded else "expression"
    if size > budget.max_tree:
        raise skipped(f"the {form} has more than {budget.max_tree:,} nodes once named "
                      f"intermediates are substituted (budget: exprgrad.budget.MAX_TREE = "
                      f"{budget.max_tree:,})")
    if depth > budget.max_depth:
        raise skipped(f"the {form} is nested {depth} levels deep (budget: "
                      f"exprgrad.budget.MAX_DEPTH = {budget.max_depth})")
    done: dict[int, sympy.Expr] = {}
    with budget.guard(f"converting the {form} to sympy"):
        for node in graph.order([root]):
            if node.op == "var":
                expr = symbol(node.payload)
            elif node.op == "const":
                expr = sympy.Rational(node.payload.numerator, node.payload.denominator)
            else:
                args = [done[a.index] for a in node.args]
                if node.op == "pow" and all(a.is_Rational for a in args):
                    _check_exact_power(*args)
                try:
                    expr = OPS[node.op].sym(sympy, *args)
                except (ValueError, TypeError) as err:
                    # sympy's Max and Min refuse an undefined argument (max(1/0, x): zoo)
                    raise skipped(f"{node.op} of an undefined value ({err})") from None
                if expanded and expr.has(*HYPERBOLIC):
                    expr = expr.rewrite(HYPERBOLIC, sympy.exp, deep=False)
            done[node.index] = expr
    return done[root.index]


def _check_exact_power(base: sympy.Rational, exponent: sympy.Rational) -> None:
    """Refuse a power of constants whose exact value has more digits than Python prints
    (`sys.get_int_max_str_digits`, 4,300): the IR declined to fold it (past
    `limits.MAX_CONSTANT_BITS`), and sympy computes it exactly in one C call that no budget
    interrupts (``x - pow(4.9e-324, 1.7976931348623157e308)``, ``y + 2^10000000000`` hung).
    The digits of p/q to the power r/s are about |r/s| * log10(max(|p|, q))."""
    size = max(abs(base.p), base.q)
    if size <= 1 or exponent.is_zero:
        return
    digits = abs(float(exponent)) * size.bit_length() * math.log10(2)
    if digits > (sys.get_int_max_str_digits() or 4300):
        about = f"about {digits:.3g}" if math.isfinite(digits) else "more than 1e308"
        raise too_long(f" (a constant power of {about} digits)")


def too_long(detail: str = "") -> SymbolicError:
    """The skipped symbolic side for a number longer than Python prints."""
    return skipped(f"a number in the closed form has more than "
                   f"{sys.get_int_max_str_digits() or 4300:,} digits{detail}")


def tidy(expr: sympy.Expr) -> sympy.Expr:
    """Light, bounded simplification: pull common factors out of sums without expanding."""
    return sympy.factor_terms(expr)


class ClosedForms:
    """The closed forms of one graph's output, built on demand and cached.

    Each public call runs under a fresh `Budget` unless one is passed in (check.py passes one
    budget for the whole check); `SymbolicError` says what was skipped and why.
    """

    def __init__(self, graph: Graph):
        self.graph = graph
        self._exprs: dict[bool, sympy.Expr | SymbolicError] = {}
        self._derivatives: dict[tuple[str, bool, bool], sympy.Expr] = {}

    def expr(self, expanded: bool = False, budget: Budget | None = None) -> sympy.Expr:
        cached = self._exprs.get(expanded)
        if cached is None:
            try:
                cached = to_sympy(self.graph, expanded=expanded, budget=budget)
            except SymbolicError as err:
                if getattr(err, "transient", False):
                    raise             # another budget may succeed: do not remember
                cached = err
            self._exprs[expanded] = cached
        if isinstance(cached, SymbolicError):
            raise cached
        return cached

    @bounded
    def derivative(self, name: str, expanded: bool = False, budget: Budget | None = None,
                   tidied: bool = True) -> sympy.Expr:
        """∂f/∂name in closed form, by `sympy.diff` of the (exp-expanded) expression;
        `tidy`-ed for reading unless ``tidied=False`` (the check evaluates the raw form)."""
        key = (name, expanded, tidied)
        if key not in self._derivatives:
            budget = budget or Budget.current()
            form = "exp-expanded " if expanded else ""
            if not tidied:
                expr = self.expr(expanded, budget)
                with budget.guard(f"the {form}derivative by {name}"):
                    self._derivatives[key] = _diff(expr, name)
            else:
                raw = self.derivative(name, expanded, budget, tidied=False)
                small = measure(self.graph, expanded=expanded, cap=TIDY_MAX_TREE + 1)[0]
                with budget.guard(f"simplifying the {form}derivative by {name}"):
                    self._derivatives[key] = tidy(raw) if small <= TIDY_MAX_TREE else raw
        return self._derivatives[key]

    @bounded
    def second_derivative(self, a: str, b: str, expanded: bool = False,
                          budget: Budget | None = None, tidied: bool = True) -> sympy.Expr:
        """∂²f/∂a∂b in closed form: `sympy.diff` of ∂f/∂a by b (sympy's own rules, twice)."""
        key = (f"{a}\0{b}", expanded, tidied)
        if key not in self._derivatives:
            budget = budget or Budget.current()
            first = self.derivative(a, expanded, budget, tidied=False)
            form = "exp-expanded " if expanded else ""
            with budget.guard(f"the {form}second derivative by {a} and {b}"):
                raw = _diff(first, b)
                small = measure(self.graph, expanded=expanded, cap=TIDY_MAX_TREE + 1)[0]
                self._derivatives[key] = tidy(raw) if tidied and small <= TIDY_MAX_TREE \
                    else raw
        return self._derivatives[key]

    def derivatives(self, names, expanded: bool = False,
                    budget: Budget | None = None) -> dict[str, sympy.Expr]:
        budget = budget or Budget.current()
        return {name: self.derivative(name, expanded, budget) for name in names}


def _diff(expr: sympy.Expr, name: str) -> sympy.Expr:
    try:
        return sympy.diff(expr, symbol(name))
    except (ValueError, TypeError) as err:
        # sympy's Max and Min refuse an argument they cannot order, and differentiating
        # Min(pi**-z, zoo/log(z)) builds one (the fuzzer found it): the closed form is
        # undefined, so the symbolic side is skipped, as for max(1/0, x) itself.
        raise skipped(f"the derivative by {name} has an undefined value ({err})") from None


# ---- numbers ---------------------------------------------------------------------------------

@bounded
def evaluate(expr: sympy.Expr, point: dict[str, float], budget: Budget | None = None,
             digits: int = EVAL_DIGITS) -> float | None:
    """`expr` at `point`, rounded to a float; None where it is undefined (complex, infinite,
    or not a number, e.g. ``1/0``).

    The point's floats become `Float` numbers carrying their exact binary value at `digits`
    significant digits, and the expression is rebuilt bottom-up (an explicit stack, each
    distinct subexpression once) from numbers: every node is a function of `Float` numbers, which
    sympy evaluates numerically.  Two alternatives fail on exprgrad's forms: substituting
    exact `Rational` numbers makes sympy try to simplify powers of huge rationals (minutes), and
    ``evalf(subs=...)`` leaves ``Heaviside(1/(pi - 66/25) - 203/50)`` unevaluated and is 100×
    slower on nested expressions.  30 digits leave 15 to spare over a double for cancellation.
    """
    budget = budget or Budget.current()
    subs = {symbol(k): sympy.Float(v, digits) for k, v in point.items() if math.isfinite(v)}
    with budget.guard("evaluating a closed form"):
        try:
            value = _numeric(expr, subs, digits)
        except (ArithmeticError, ValueError, TypeError):
            return None
    return as_float(value)


@bounded
def node_values(graph: Graph, point: dict[str, float], budget: Budget | None = None,
                digits: int = EVAL_DIGITS, roots: list[Node] | None = None) -> list:
    """Every node's value (of those `roots` need; default: the outputs') at `point` to
    `digits` significant digits (a sympy `Float`, or None
    where it is not a finite real number), indexed by node.index: the high-precision twin of
    `interpret.evaluate`, used to measure how many digits the float forward lost where.

    Each node is built from its arguments' values unevaluated and then `evalf`-ed, so sympy's
    adaptive evaluation sees ``1 + 1e-35`` whole (an evaluated `Add` of `Float` numbers would
    round it to 1 at `digits` digits, and `log1p`'s form ``log(1 + x)`` would read 0)."""
    budget = budget or Budget.current()
    vals: list = [None] * len(graph.nodes)
    with budget.guard("evaluating the forward at high precision"):
        for node in graph.order(roots):
            if node.op == "var":
                value = sympy.Float(point[node.payload], digits)
            elif node.op == "const":
                value = sympy.Float(sympy.Rational(node.payload.numerator,
                                                   node.payload.denominator), digits)
            else:
                args = [vals[a.index] for a in node.args]
                if any(a is None for a in args):
                    continue
                try:
                    with sympy.evaluate(False):
                        expr = OPS[node.op].sym(sympy, *args)
                    value = sympy.Float(expr.evalf(digits), digits) if expr.is_number \
                        else None
                except (ArithmeticError, ValueError, TypeError):
                    value = None
            if value is not None and not (value.is_real and value.is_finite):
                value = None
            vals[node.index] = value
    return vals


def _numeric(expr: sympy.Basic, subs: dict, digits: int) -> sympy.Basic:
    done: dict = {}
    stack = [(expr, False)]
    while stack:
        e, ready = stack.pop()
        if e in done:
            continue
        if not e.args:
            done[e] = subs.get(e, e.evalf(digits) if isinstance(e, sympy.NumberSymbol) else e)
        elif not ready:
            stack.append((e, True))
            stack.extend((a, False) for a in e.args if a not in done)
        else:
            args = [done[a] for a in e.args]
            try:
                new = e.func(*args)
            except (ValueError, TypeError):     # e.g. Max of something sympy cannot order
                with sympy.evaluate(False):
                    new = e.func(*args)
            if isinstance(new, sympy.Expr) and not new.is_Number:
                new = new.evalf(digits)
            done[e] = new
    return done[expr]


def as_float(value: sympy.Basic) -> float | None:
    """A real, finite sympy number as a float; None for anything else."""
    if not isinstance(value, sympy.Expr) or not value.is_number:
        return None
    re, im = value.as_real_imag()
    if not (re.is_Number and im.is_Number) or not (re.is_finite and im.is_finite):
        return None
    if abs(im) > 1e-20 * max(1, abs(re)):
        return None
    try:
        out = float(re)
    except (TypeError, ValueError, OverflowError):
        return None
    return out if math.isfinite(out) else None

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
- `TIME_BUDGET` seconds for the whole job, enforced with a timer interrupt where Python allows
  one (the main thread) and between steps everywhere;
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
import signal
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache

import sympy

from .errors import SymbolicError
from .ir import Graph, Node
from .ops import OPS

#: nodes of the output's expression tree once named intermediates are substituted
MAX_TREE = 4_000
#: nesting depth as sympy builds it (a flat sum or product is one level)
MAX_DEPTH = 60
#: seconds for one job (one property, one check); see `Budget`
TIME_BUDGET = 3.0
#: significant digits of `evaluate`; the point's floats are substituted exactly
EVAL_DIGITS = 30
#: `tidy` derivatives only of expressions up to this tree size (factor_terms walks the tree)
TIDY_MAX_TREE = 400

#: the classes that sympy's ``rewrite(exp)`` turns into exponentials (the seeds' "tanh
#: expanded via exp"); sigmoid and softplus are already written with exp by their ``sym``
HYPERBOLIC = (sympy.tanh, sympy.sinh, sympy.cosh, sympy.coth, sympy.sech, sympy.csch)

_ADDITIVE, _MULTIPLICATIVE = {"add", "sub", "neg"}, {"mul", "div"}


def skipped(reason: str, transient: bool = False) -> SymbolicError:
    """The error for a skipped symbolic side; ``transient`` (out of time) is not cached."""
    err = SymbolicError(f"symbolic side skipped: {reason}")
    err.transient = transient
    return err


# ---- budgets ---------------------------------------------------------------------------------

class _Timeout(BaseException):
    """Raised by the timer inside sympy; a BaseException so no `except Exception` eats it."""


@dataclass
class Budget:
    """Limits for one job.  ``seconds`` is wall time from the budget's creation."""
    max_tree: int = MAX_TREE
    max_depth: int = MAX_DEPTH
    seconds: float = TIME_BUDGET

    def __post_init__(self):
        self.deadline = time.monotonic() + self.seconds

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    @contextmanager
    def guard(self, what: str):
        """Run sympy code: out-of-time, too deep → `SymbolicError` naming `what`."""
        left = self.remaining()
        if left <= 0:
            raise skipped(f"the time budget ({self.seconds:g} s) ran out before {what}", True)
        try:
            timer = _Timer(left)
            try:
                yield
            finally:
                timer.stop()
        except _Timeout:        # also when the timer fires while it is being stopped
            raise skipped(f"{what} exceeded the time budget ({self.seconds:g} s)", True) from None
        except RecursionError:
            raise skipped(f"{what} is nested too deeply for sympy") from None


class _Timer:
    """A SIGALRM that interrupts sympy after `seconds`, where this thread may own one (the
    main thread, when nobody else has a SIGALRM handler or a pending alarm)."""

    def __init__(self, seconds: float):
        self.armed = False
        if (threading.current_thread() is not threading.main_thread()
                or not hasattr(signal, "setitimer")
                or signal.getsignal(signal.SIGALRM) not in (signal.SIG_DFL, None)
                or signal.getitimer(signal.ITIMER_REAL)[0] > 0):
            return              # keep to the checks between steps
        self.previous = signal.signal(signal.SIGALRM, self._interrupt)
        self.armed = True
        # Repeating: if code between sympy and us swallows the exception (a gc callback, a
        # bare except), the next tick raises it again.
        signal.setitimer(signal.ITIMER_REAL, max(seconds, 1e-3), 0.05)

    def _interrupt(self, signum, frame):
        if self.armed:
            raise _Timeout()

    def stop(self) -> None:
        if self.armed:
            signal.setitimer(signal.ITIMER_REAL, 0)
            self.armed = False      # an alarm still pending now runs a harmless handler
            signal.signal(signal.SIGALRM, self.previous)


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


def to_sympy(graph: Graph, root: Node | None = None, expanded: bool = False,
             budget: Budget | None = None) -> sympy.Expr:
    """The sympy expression of `root` (default: the output), one node at a time in
    ``graph.order()``.  ``expanded`` rewrites each hyperbolic function via exp as it is built,
    so the rewrite never walks the (possibly huge) tree below it."""
    budget = budget or Budget()
    root = graph.output if root is None else root
    size, depth = measure(graph, root, expanded, cap=budget.max_tree + 1)
    form = "exp-expanded expression" if expanded else "expression"
    if size > budget.max_tree:
        raise skipped(f"the {form} has more than {budget.max_tree:,} nodes once named "
                      f"intermediates are substituted (budget: exprgrad.symbolic.MAX_TREE = "
                      f"{budget.max_tree:,})")
    if depth > budget.max_depth:
        raise skipped(f"the {form} is nested {depth} levels deep (budget: "
                      f"exprgrad.symbolic.MAX_DEPTH = {budget.max_depth})")
    done: dict[int, sympy.Expr] = {}
    with budget.guard(f"converting the {form} to sympy"):
        for node in graph.order([root]):
            if node.op == "var":
                expr = symbol(node.payload)
            elif node.op == "const":
                expr = sympy.Rational(node.payload.numerator, node.payload.denominator)
            else:
                expr = OPS[node.op].sym(sympy, *(done[a.index] for a in node.args))
                if expanded and expr.has(*HYPERBOLIC):
                    expr = expr.rewrite(HYPERBOLIC, sympy.exp, deep=False)
            done[node.index] = expr
    return done[root.index]


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

    def derivative(self, name: str, expanded: bool = False, budget: Budget | None = None,
                   tidied: bool = True) -> sympy.Expr:
        """∂f/∂name in closed form, by `sympy.diff` of the (exp-expanded) expression;
        `tidy`-ed for reading unless ``tidied=False`` (the check evaluates the raw form)."""
        key = (name, expanded, tidied)
        if key not in self._derivatives:
            budget = budget or Budget()
            form = "exp-expanded " if expanded else ""
            if not tidied:
                expr = self.expr(expanded, budget)
                with budget.guard(f"the {form}derivative by {name}"):
                    self._derivatives[key] = sympy.diff(expr, symbol(name))
            else:
                raw = self.derivative(name, expanded, budget, tidied=False)
                small = measure(self.graph, expanded=expanded, cap=TIDY_MAX_TREE + 1)[0]
                with budget.guard(f"simplifying the {form}derivative by {name}"):
                    self._derivatives[key] = tidy(raw) if small <= TIDY_MAX_TREE else raw
        return self._derivatives[key]

    def second_derivative(self, a: str, b: str, expanded: bool = False,
                          budget: Budget | None = None, tidied: bool = True) -> sympy.Expr:
        """∂²f/∂a∂b in closed form: `sympy.diff` of ∂f/∂a by b (sympy's own rules, twice)."""
        key = (f"{a}\0{b}", expanded, tidied)
        if key not in self._derivatives:
            budget = budget or Budget()
            first = self.derivative(a, expanded, budget, tidied=False)
            form = "exp-expanded " if expanded else ""
            with budget.guard(f"the {form}second derivative by {a} and {b}"):
                raw = sympy.diff(first, symbol(b))
                small = measure(self.graph, expanded=expanded, cap=TIDY_MAX_TREE + 1)[0]
                self._derivatives[key] = tidy(raw) if tidied and small <= TIDY_MAX_TREE \
                    else raw
        return self._derivatives[key]

    def derivatives(self, names, expanded: bool = False,
                    budget: Budget | None = None) -> dict[str, sympy.Expr]:
        budget = budget or Budget()
        return {name: self.derivative(name, expanded, budget) for name in names}


# ---- numbers ---------------------------------------------------------------------------------

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
    budget = budget or Budget()
    subs = {symbol(k): sympy.Float(v, digits) for k, v in point.items() if math.isfinite(v)}
    with budget.guard("evaluating a closed form"):
        try:
            value = _numeric(expr, subs, digits)
        except (ArithmeticError, ValueError, TypeError):
            return None
    return as_float(value)


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

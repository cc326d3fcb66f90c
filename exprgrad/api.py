"""The library API: `compile(text)` → `Function`, compiled once and called many times.

>>> import exprgrad as eg
>>> f = eg.compile("n = x1*w1 + x2*w2 + b; o = tanh(n)")
>>> f.variables
('b', 'w1', 'w2', 'x1', 'x2')
>>> value, grads = f.grad(x1=2, x2=0, w1=-3, w2=1, b=6.8813735870195432)
>>> round(value, 4), round(grads["x1"], 4)
(0.7071, -1.5)
"""
from __future__ import annotations

import types

from .value import Value, backward_named
from .interpret import check_values, evaluate
from .ir import Graph
from .printer import pretty
from .lower import lower
from .ops import FLOAT_ERRORS
from .parse import parse


class Function:
    """A compiled exprgrad program: evaluate it, differentiate it, look at it."""

    def __init__(self, source: str, graph: Graph):
        self.source = source
        self.ir = graph
        self.variables: tuple[str, ...] = graph.variables
        self.output_name: str = graph.output_names[0]
        self._order = graph.order()
        self._fast = None          # (f, grad_f) compiled from emitted Python on first use

    def __repr__(self) -> str:
        return f"<exprgrad.Function {self.output_name}({', '.join(self.variables)})>"

    def __str__(self) -> str:
        return pretty(self.ir)

    # Notebooks: the structure picture (draw.py) and, where sympy has them, the closed forms.
    def _repr_mimebundle_(self, include=None, exclude=None):
        from .draw import mimebundle
        return mimebundle(self, include, exclude)

    def _repr_svg_(self):
        return self._repr_mimebundle_(include=("image/svg+xml",)).get("image/svg+xml")

    def _repr_latex_(self):
        from .formulas import latex_block
        return latex_block(self)

    def _point(self, args: tuple, values: dict) -> dict[str, float]:
        if args:
            if len(args) > len(self.variables):
                from .errors import VariableError
                raise VariableError(f"expected at most {len(self.variables)} positional values "
                                    f"({', '.join(self.variables)}), got {len(args)}")
            twice = [v for v in self.variables[:len(args)] if v in values]
            if twice:
                from .errors import VariableError
                raise VariableError(f"{', '.join(twice)} given both by position and by name")
            values = {**dict(zip(self.variables, args)), **values}
        return check_values(self.ir, values)

    def __call__(self, *args, **values) -> float:
        """The value at a point: ``f(x=1.0, y=2.0)`` or positionally in `variables` order."""
        if not args:
            try:
                return self._call_kw(**values)
            except (TypeError, *FLOAT_ERRORS):
                pass            # bad values, or a domain error: checked and named below
        xs = self._floats(args, values)
        fast = self._compiled()
        try:
            if fast is not None:
                return fast[0](*xs)
        except FLOAT_ERRORS:
            pass
        # The interpreter names the failing node in a DomainError.
        return evaluate(self.ir, dict(zip(self.variables, xs)), self._order)[self.ir.output.index]

    def grad(self, *args, **values) -> tuple[float, dict[str, float]]:
        """``(value, {variable: partial derivative})`` at a point, by reverse mode.

        Runs the gradient program emitted as Python (compiled on first use): the same rules
        in the same order of accumulation as `graph`'s `Value` DAG, so the same numbers.
        """
        if not args:
            try:
                return self._grad_kw(**values)
            except (TypeError, *FLOAT_ERRORS):
                pass
        xs = self._floats(args, values)
        fast = self._compiled()
        try:
            if fast is not None:
                value, partials = fast[1](*xs)
                return value, dict(zip(self.variables, partials))
        except FLOAT_ERRORS:
            pass
        # The Value DAG names the failing node in a DomainError.
        return self._grad_dag(dict(zip(self.variables, xs)))

    def to_source(self, target: str = "python", name: str = "f",
                  strategy: str = "reverse") -> str:
        """Standalone code for ``name(...)`` (value) and ``grad_name(...)`` (value, partials):
        target "python", "numpy" or "c"; strategy "reverse" or "symbolic" (see codegen)."""
        from . import codegen
        return codegen.emit(self.ir, target, name=name, strategy=strategy)

    # ---- closed forms and the cross-check (symbolic.py, check.py) --------------------------
    # Each raises SymbolicError("symbolic side skipped: <reason>") beyond the budgets that
    # symbolic.py documents (expression size, nesting depth, time).

    @property
    def sympy(self):
        """The output as a sympy expression: named intermediates substituted, literals exact."""
        return self._closed_forms().expr()

    @property
    def derivatives(self) -> dict:
        """``{variable: ∂output/∂variable}`` in closed form, by `sympy.diff`."""
        return self._closed_forms().derivatives(self.variables)

    @property
    def expanded(self):
        """`sympy` with tanh, sinh, cosh rewritten via exp by sympy (sigmoid and softplus are
        exp-based already)."""
        return self._closed_forms().expr(expanded=True)

    @property
    def derivatives_expanded(self) -> dict:
        """``sympy.diff`` of `expanded` by every variable."""
        return self._closed_forms().derivatives(self.variables, expanded=True)

    def check(self, *args, **values):
        """Cross-check the gradient at a point: the DAG's partials against sympy's closed
        form, the exp-expanded closed form and finite differences (a `check.Report`;
        ``report.ok``, ``print(report)``).  Options: `exprgrad.check.check`."""
        from .check import check
        return check(self, self._point(args, values))

    def _closed_forms(self):
        if getattr(self, "_closed", None) is None:
            from .symbolic import ClosedForms
            self._closed = ClosedForms(self.ir)
        return self._closed

    def _floats(self, args: tuple, values: dict) -> list[float]:
        """The point as floats in `variables` order (check_values only when something is off)."""
        if not args and len(values) == len(self.variables):
            try:
                return [float(values[v]) for v in self.variables]
            except (KeyError, TypeError, ValueError, OverflowError):
                pass
        point = self._point(args, values)
        return [point[v] for v in self.variables]

    def _compiled(self):
        """(f, grad_f) from the emitted Python, compiled on first use; None for graphs so big
        that compiling would cost more than interpreting a few calls."""
        if self._fast is None:
            self._fast = False
            if len(self._order) <= COMPILE_LIMIT:
                from . import codegen
                ns = codegen.load_namespace(codegen.emit_for_function(self.ir))
                self._fast = ns["f"], ns["grad_f"]
                kw = codegen.keyword_functions(self.ir, *self._fast)
                if kw is not None:
                    self._call_kw, self._grad_kw = kw
                # From now on ``self.grad(**point)`` is one call of generated code; whatever
                # it does not take (positional values, bad names or values, domain errors)
                # goes to the checked method, which names the problem as before.
                ns["checked"] = types.MethodType(Function.grad, self)
                ns["grad_kw"].__doc__ = Function.grad.__doc__
                self.grad = ns["grad_kw"]
        return self._fast or None

    def _call_kw(self, **values):
        """Replaced by the compiled keyword adapter on first use (see `_compiled`)."""
        self._compiled()
        raise TypeError     # this call takes the checked path

    _grad_kw = _call_kw

    def _grad_dag(self, point: dict[str, float]) -> tuple[float, dict[str, float]]:
        root = backward_named(self.ir, point)
        leaves = _leaves(root)
        return root.data, {name: leaves[name].grad if name in leaves else 0.0
                           for name in self.variables}

    def graph(self, *args, **values) -> Value:
        """The `Value` DAG at a point, forward and backward done; returns its root."""
        return backward_named(self.ir, self._point(args, values))


#: graphs with more nodes than this are interpreted: compiling 100,000 statements takes seconds
COMPILE_LIMIT = 20_000


def _leaves(root: Value) -> dict[str, Value]:
    return {v.label: v for v in root.topo() if not v._args and not v._const and v.label}


def compile(text: str, expand: bool = False) -> Function:   # noqa: A001 - as in re.compile
    """Parse and lower exprgrad text once; the result is called many times.

    ``expand=True`` lowers tanh, sigmoid, softplus, sinh and cosh via exp (expand.py), as the
    seeds do by hand: the same value and gradients, computed from elementary nodes.
    """
    graph = lower(parse(text), text)
    if expand:
        from .expand import expand as expand_graph
        graph = expand_graph(graph)
    return Function(text, graph)

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

from .value import Value, backward_named
from .interpret import check_values, evaluate
from .ir import Graph
from .printer import pretty
from .lower import lower
from .errors import CodegenError, VariableError
from .ops import FLOAT_ERRORS
from .parse import parse


class Function:
    """A compiled exprgrad program: evaluate it, differentiate it, look at it.

    Calls run generated Python (`codegen.kernel_source`), compiled on first use: the value
    and the gradient are one call each, reading the keywords directly; anything unusual
    (positional values, a bad name or value, a domain error) takes the checked path below,
    which names the problem.
    """

    def __init__(self, source: str, graph: Graph):
        self.source = source
        self.ir = graph
        self.variables: tuple[str, ...] = graph.variables
        self.output_name: str = graph.output_names[0]
        self._order = graph.order()
        self._kernel: dict | None = None     # the generated module's namespace, once loaded

    def __repr__(self) -> str:
        names = ", ".join(self.variables[:8])
        if len(self.variables) > 8:
            names += f", ... ({len(self.variables):,} variables)"
        return f"<exprgrad.Function {self.output_name}({names})>"

    def __str__(self) -> str:
        return pretty(self.ir)

    # Notebooks: the structure picture (draw.py) and, where sympy has them, the closed forms,
    # in one HTML output: given LaTeX and SVG apart, Jupyter shows only the LaTeX (its MIME
    # order prefers text/latex to image/svg+xml), while HTML comes first and its $$...$$ is
    # typeset.  text/latex stays in the bundle for front ends without HTML.
    def _repr_mimebundle_(self, include=None, exclude=None):
        import html

        from .draw import inline_svg, mimebundle
        bundle = mimebundle(self)
        latex = self._repr_latex_()
        parts = []
        if "image/svg+xml" in bundle:
            parts.append(f"<div>{inline_svg(bundle.pop('image/svg+xml'))}</div>")
        if latex:
            parts.append(f"<div>{html.escape(latex, quote=False)}</div>")
            bundle["text/latex"] = latex
        if parts:
            bundle["text/html"] = "\n".join(parts)
        return {k: v for k, v in bundle.items() if (include is None or k in include)
                and not (exclude and k in exclude)}

    def _repr_latex_(self):
        from .formulas import latex_block
        return latex_block(self)

    def _point(self, args: tuple, values: dict) -> dict[str, float]:
        if args:
            if len(args) > len(self.variables):
                raise VariableError(f"expected at most {len(self.variables)} positional values "
                                    f"({', '.join(self.variables)}), got {len(args)}")
            twice = [v for v in self.variables[:len(args)] if v in values]
            if twice:
                raise VariableError(f"{', '.join(twice)} given both by position and by name")
            values = {**dict(zip(self.variables, args)), **values}
        return check_values(self.ir, values)

    # ---- evaluation: the generated fast path, and the checked path it falls back to --------

    def __call__(self, /, *args, **values) -> float:
        """The value at a point: ``f(x=1.0, y=2.0)`` or positionally in `variables` order."""
        return (self._kernel or self._load())["value_kw"](*args, **values)

    def grad(self, /, *args, **values) -> tuple[float, dict[str, float]]:
        """``(value, {variable: partial derivative})`` at a point, by reverse mode.

        Runs the gradient program emitted as Python (compiled on first use): the same rules
        in the same order of accumulation as `graph`'s `Value` DAG, so the same numbers.
        After the first call this attribute is the generated keyword entry itself.
        """
        return (self._kernel or self._load())["grad_kw"](*args, **values)

    def _load(self) -> dict:
        """The generated module (`codegen.kernel_source`), loaded once.  Graphs over
        `COMPILE_LIMIT` nodes are interpreted instead: compiling would cost more than a
        few calls."""
        if self._kernel is None:
            if len(self._order) > COMPILE_LIMIT:
                ns = {"f": None, "grad_f": None}
                ns["value_kw"] = ns["checked_value"] = self._checked_value
                ns["grad_kw"] = ns["checked_grad"] = self._checked_grad
            else:
                from . import codegen
                ns = codegen.load_namespace(codegen.kernel_source(self.ir))
                ns["grad_kw"].__doc__ = Function.grad.__doc__
            ns["checked_value"], ns["checked_grad"] = self._checked_value, self._checked_grad
            self._kernel = ns
            # ``f.grad(**point)`` is now one call of generated code (no method in between).
            self.grad = ns["grad_kw"]
        return self._kernel

    def _checked_value(self, /, *args, **values) -> float:
        xs = self._floats(args, values)
        fast = self._kernel["f"]
        if fast is not None:
            try:
                return fast(*xs)
            except FLOAT_ERRORS:
                pass
        # The interpreter names the failing node in a DomainError.
        return evaluate(self.ir, dict(zip(self.variables, xs)), self._order)[self.ir.output.index]

    def _checked_grad(self, /, *args, **values) -> tuple[float, dict[str, float]]:
        xs = self._floats(args, values)
        fast = self._kernel["grad_f"]
        if fast is not None:
            try:
                value, partials = fast(*xs)
                return value, dict(zip(self.variables, partials))
            except FLOAT_ERRORS:
                pass
        # The Value DAG names the failing node in a DomainError.
        return self._grad_dag(dict(zip(self.variables, xs)))

    def to_source(self, target: str = "python", name: str = "f", strategy: str = "reverse",
                  wrt=None, header: bool = False) -> str:
        """Standalone code for ``name(...)`` (value) and ``grad_name(...)`` (value, partials by
        the variables of `wrt`, default all): target "python", "numpy" or "c"; strategy
        "reverse" or "symbolic" (see codegen).  ``header=True`` (C): the matching header."""
        from . import codegen
        if header:
            if target != "c":
                raise CodegenError(f"a header is C's; {target} code needs none")
            return codegen.emit_header(self.ir, name=name, strategy=strategy, wrt=wrt)
        return codegen.emit(self.ir, target, name=name, strategy=strategy, wrt=wrt)

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

    def check(self, /, *args, **values):
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

    def _grad_dag(self, point: dict[str, float]) -> tuple[float, dict[str, float]]:
        root = backward_named(self.ir, point)
        leaves = _leaves(root)
        return root.data, {name: leaves[name].grad if name in leaves else 0.0
                           for name in self.variables}

    def graph(self, /, *args, **values) -> Value:
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

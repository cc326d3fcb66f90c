"""Closed forms rendered for people: sympy expressions → pretty text, LaTeX, JSON fields.

Input: a `Function`'s closed forms (symbolic.py computes them under its budgets) and the names
to show.  Output: the equations the CLI prints without ``--at`` (``f = ...``, ``∂f/∂x = ...``
in sympy's unicode pretty printer or LaTeX), the JSON fields of ``--json``, and the LaTeX block
a notebook shows for a `Function`.  One place for every rendering, so the left-hand sides and
the "number too long to print" rule are the same everywhere.

>>> import exprgrad as eg
>>> print(equations(eg.compile("y = x*sin(x)"), ["x"]))
y = x⋅sin(x)
∂y/∂x = x⋅cos(x) + sin(x)
"""
from __future__ import annotations

from contextlib import contextmanager

import sympy

from .errors import ExprError
from .symbolic import Budget, bounded, symbol, too_long

#: IR nodes; bigger closed forms are unreadable as one formula (notebook LaTeX)
LATEX_LIMIT = 300


@contextmanager
def _printing():
    """Printing is sympy work like any other: under the job's budget (`Budget.current`).
    sympy keeps ``2^100000`` exact, and Python refuses to print an integer of more than
    `sys.get_int_max_str_digits` digits (ValueError): say so as a skipped symbolic side."""
    try:
        with Budget.current().guard("printing the closed form"):
            yield
    except ValueError as err:
        if "integer string conversion" not in str(err):
            raise
        raise too_long() from None


@bounded
def text(expr: sympy.Expr) -> str:
    """``str(expr)`` (sympy syntax); SymbolicError for numbers too long to print."""
    with _printing():
        return str(expr)


def _names_as_written():
    """sympy's unicode pretty printer, printing variable names as written: its own shows
    ``gamma`` as γ, ``x1`` and ``x_1`` both as x₁ and ``a__2`` as a², text that reads as
    another variable, a power or sympy's gamma function."""
    from sympy.printing.pretty.pretty import PrettyPrinter
    from sympy.printing.pretty.stringpict import prettyForm

    class Printer(PrettyPrinter):
        def _print_Symbol(self, e, bold_name=False):
            return prettyForm(e.name)
    return Printer({"use_unicode": True, "wrap_line": False})


@bounded
def pretty_equation(lhs: str, expr: sympy.Expr) -> str:
    """``lhs = <expr>`` with sympy's unicode pretty printer (variable names as written),
    `lhs` on the formula's baseline (a fraction puts it beside the bar), unwrapped."""
    from sympy.printing.pretty.pretty_symbology import pretty_use_unicode
    # The printer's products and powers read sympy's global unicode flag, which is off until
    # something calls sympy.pretty: set it for this call (the doctest failed run alone).
    was = pretty_use_unicode(True)
    try:
        with _printing():
            form = _names_as_written()._print(expr)
    finally:
        pretty_use_unicode(was)
    lines = form.render(wrap_line=False).split("\n")
    head = f"{lhs} = "
    pad = " " * len(head)
    return "\n".join((head if i == form.baseline else pad) + line
                     for i, line in enumerate(lines)).rstrip()


@bounded
def latex(expr: sympy.Expr) -> str:
    with _printing():
        return sympy.latex(expr)


def partial_lhs(out: str, name: str, latex: bool = False) -> str:
    """The left-hand side ``∂out/∂name`` (``\\frac{\\partial out}{\\partial name}`` in LaTeX)."""
    if latex:
        return (rf"\frac{{\partial {sympy.latex(symbol(out))}}}"
                rf"{{\partial {sympy.latex(symbol(name))}}}")
    return f"∂{out}/∂{name}"


def equation(lhs: str, expr, latex_form: bool = False, lhs_is_latex: bool = False) -> str:
    """``lhs = expr``: sympy's pretty printer, or LaTeX."""
    if latex_form:
        head = lhs if lhs_is_latex else sympy.latex(symbol(lhs))
        return f"{head} = {latex(expr)}"
    return pretty_equation(lhs, expr)


def second_lhs(out: str, a: str, b: str, latex: bool = False) -> str:
    """``∂²out/∂a∂b`` (``∂²out/∂a²`` on the diagonal), or its LaTeX."""
    if latex:
        den = (rf"\partial {sympy.latex(symbol(a))}^{{2}}" if a == b else
               rf"\partial {sympy.latex(symbol(a))} \partial {sympy.latex(symbol(b))}")
        return rf"\frac{{\partial^{{2}} {sympy.latex(symbol(out))}}}{{{den}}}"
    return f"∂²{out}/∂{a}²" if a == b else f"∂²{out}/∂{a}∂{b}"


def equations(function, names, latex_form: bool = False, order: int = 1) -> str:
    """``f = ...`` and ``∂f/∂name = ...`` for each name (``order=2``: and ``∂²f/∂a∂b`` for
    each pair a ≤ b); what was skipped, in its place."""
    forms, budget, out = function._closed_forms(), Budget.current(), function.output_name
    lines = []
    try:
        lines.append(equation(out, forms.expr(budget=budget), latex_form))
        for name in names:
            expr = forms.derivative(name, budget=budget)
            lines.append(equation(partial_lhs(out, name, latex_form), expr, latex_form,
                                  lhs_is_latex=True))
        for i, a in enumerate(names if order == 2 else ()):
            for b in names[i:]:
                expr = forms.second_derivative(a, b, budget=budget)
                lines.append(equation(second_lhs(out, a, b, latex_form), expr, latex_form,
                                      lhs_is_latex=True))
    except ExprError as err:
        lines.append(str(err))
    tall = any("\n" in line for line in lines)       # pretty fractions: a blank line between
    return ("\n\n" if tall else "\n").join(lines)


def json_fields(function, names, cached_only: bool = False) -> dict:
    """JSON fields for the closed forms (sympy syntax and LaTeX); ``symbolic_skipped`` says
    why some are missing.  ``cached_only``: only what the check already computed."""
    forms = function._closed_forms()
    budget = Budget(seconds=0.0) if cached_only else Budget.current()
    data: dict = {"symbolic_skipped": None}

    def form(expr):
        return {"sympy": text(expr), "latex": latex(expr)}
    for key, expanded in (("", False), ("_expanded", True)):
        data["closed_form" + key], data["derivatives" + key] = None, {}
        try:
            data["closed_form" + key] = form(forms.expr(expanded, budget=budget))
            for n in names:
                data["derivatives" + key][n] = form(forms.derivative(
                    n, expanded, budget=budget, tidied=not cached_only))
        except ExprError as err:
            if not cached_only:       # with --at, the check's report says what it skipped
                data["symbolic_skipped"] = data["symbolic_skipped"] or str(err)
    return data


def latex_block(function) -> str | None:
    """The closed forms of a `Function` (value and partial derivatives) as one aligned LaTeX
    block, when its symbolic side is available and small enough to read; None otherwise."""
    if len(function.ir.order()) > LATEX_LIMIT:
        return None
    out = function.output_name
    try:
        rows = [rf"{sympy.latex(symbol(out))} &= {latex(function.sympy)}"]
        for name, expr in function.derivatives.items():
            rows.append(rf"{partial_lhs(out, name, True)} &= {latex(expr)}")
    except ExprError:
        return None
    return "$$\\begin{aligned}" + r" \\ ".join(rows) + "\\end{aligned}$$"

"""The `exprgrad` command: text in, value and derivatives (or code, or pictures) out.

    exprgrad "tanh(x1*w1 + x2*w2 + b)" --at x1=2 x2=0 w1=-3 w2=1 b=6.8813735870195432

Every `ExprError` becomes a message with a caret under the column and exit status 2; argparse
errors exit 2 as well.  Nothing prints a traceback for bad input.
"""
from __future__ import annotations

import argparse
import json
import sys

from . import __version__
from .api import Function, compile
from .errors import CodegenError, ExprError, VariableError

EXIT_OK, EXIT_DISAGREE, EXIT_USAGE = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="exprgrad", allow_abbrev=False,
        description="Parse math text, evaluate it and its partial derivatives by reverse-mode "
                    "autodiff, cross-check them, and emit standalone gradient code.",
        epilog='example: exprgrad "tanh(x1*w1 + x2*w2 + b)" --at x1=2 x2=0 w1=-3 w2=1 '
               "b=6.8813735870195432")
    p.add_argument("expr", metavar="EXPR",
                   help="the expression or program ('-' reads it from standard input)")
    p.add_argument("--at", nargs="+", metavar="NAME=VALUE", default=None,
                   help="the point at which to evaluate the value and the gradient")
    p.add_argument("--wrt", nargs="+", metavar="NAME", default=None,
                   help="only these variables' partial derivatives")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--emit", choices=("python", "numpy", "c"), default=None,
                   help="print standalone value-and-gradient code for this target")
    p.add_argument("-o", "--output", metavar="FILE", default=None,
                   help="with --emit: write the code to FILE instead of standard output")
    p.add_argument("--name", default="f",
                   help="with --emit: name of the value function (the gradient is grad_NAME)")
    p.add_argument("--strategy", choices=("reverse", "symbolic"), default="reverse",
                   help="with --emit: reverse-mode program (default) or sympy's closed forms")
    p.add_argument("--dot", metavar="FILE", default=None,
                   help="draw the DAG (after forward and backward at --at; without --at its "
                        "structure) to FILE: .dot, .svg, .png or .pdf")
    p.add_argument("--dot-grad", metavar="FILE", default=None,
                   help="draw the gradient program (forward and adjoint nodes) to FILE")
    p.add_argument("--expand", action="store_true",
                   help="lower tanh, sigmoid, softplus, sinh, cosh via exp (as the seeds do by "
                        "hand) before evaluating, printing, drawing or emitting")
    p.add_argument("--no-check", action="store_true",
                   help="with --at: skip the symbolic side (sympy columns) of the cross-check")
    p.add_argument("--latex", action="store_true",
                   help="without --at: print the closed forms as LaTeX instead of pretty text")
    p.add_argument("--version", action="version", version=f"exprgrad {__version__}")
    return p


def _protect_expression(argv: list[str], options) -> list[str]:
    """Let an expression that starts with '-' (``-x^2``) through argparse's option matching."""
    for i, arg in enumerate(argv):
        if arg == "--":
            break
        if arg.startswith("-") and arg != "-" and arg.split("=", 1)[0] not in options:
            return argv[:i] + argv[i + 1:] + ["--", arg]
    return argv


def parse_point(items: list[str]) -> dict[str, float]:
    point: dict[str, float] = {}
    for item in items:
        name, eq, text = item.partition("=")
        name = name.strip()
        if not eq or not name:
            raise VariableError(f"--at expects NAME=VALUE, got {item!r}")
        if name in point:
            raise VariableError(f"--at gives {name} twice")
        try:
            point[name] = float(text)
        except ValueError:
            raise VariableError(f"--at {name}: {text!r} is not a number") from None
    return point


def _number(x: float) -> str:
    return f"{x:.12g}"


def table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    return "\n".join(lines)


def select(f: Function, wrt: list[str] | None) -> list[str]:
    if not wrt:
        return list(f.variables)
    unknown = [w for w in wrt if w not in f.variables]
    if unknown:
        raise VariableError(f"--wrt {', '.join(unknown)}: not a variable of the expression; "
                            f"the variables are {', '.join(f.variables) or '(none)'}")
    return list(dict.fromkeys(wrt))


def run_at(f: Function, args) -> int:
    """Value, and per variable the DAG's partial next to sympy's, the exp-expanded closed
    form's and finite differences' (check.py); exit 1 when any row disagrees."""
    from .check import check
    point = parse_point(args.at)
    names = select(f, args.wrt)
    out = f.output_name
    report = check(f, point, wrt=names, symbolic_side=not args.no_check)
    status = EXIT_OK if report.ok else EXIT_DISAGREE
    if args.json:
        data = {"expression": f.source, "output": out, "value": report.value,
                "variables": list(f.variables), "point": point,
                "grad": {r.name: r.dag for r in report.rows}, "check": report.to_dict()}
        if not args.no_check:
            data.update(closed_forms(f, names, cached_only=True))
        print(json.dumps(data, ensure_ascii=False))
        return status
    header, rows = report.table()
    notes = report.notes()
    if args.no_check:                 # no symbolic side: no sympy columns, no notes about them
        keep = [i for i, h in enumerate(header) if h not in ("sympy", "exp-expanded")]
        header, rows = [header[i] for i in keep], [[r[i] for i in keep] for r in rows]
        notes = [n for n in notes if not n.startswith(("sympy:", "exp-expanded:"))]
    print(f"{out} = {_number(report.value)}")
    print()
    print(table(header, rows))
    print()
    print("\n".join(notes))
    return status


def run_structure(f: Function, args) -> int:
    """The normalised program, its variables and, from sympy, its closed forms."""
    names = select(f, args.wrt)
    if args.json:
        data = {"expression": f.source, "output": f.output_name, "normalized": str(f),
                "variables": list(f.variables)}
        data.update(closed_forms(f, names))
        print(json.dumps(data, ensure_ascii=False))
        return EXIT_OK
    print(str(f))
    print(f"variables: {', '.join(names) or '(none)'}")
    print()
    print(closed_form_text(f, names, latex=args.latex))
    return EXIT_OK


def closed_form_text(f: Function, names: list[str], latex: bool = False) -> str:
    """``f = ...`` and ``∂f/∂name = ...`` for each name: sympy's pretty printer, or LaTeX."""
    import sympy

    from .symbolic import Budget, latex as to_latex, pretty_equation, symbol
    forms, budget, out = f._closed_forms(), Budget(), f.output_name
    lines = []
    try:
        lines.append(_equation(out, forms.expr(budget=budget), latex))
        for name in names:
            expr = forms.derivative(name, budget=budget)
            if latex:
                lhs = (rf"\frac{{\partial {sympy.latex(symbol(out))}}}"
                       rf"{{\partial {sympy.latex(symbol(name))}}}")
                lines.append(f"{lhs} = {to_latex(expr)}")
            else:
                lines.append(pretty_equation(f"∂{out}/∂{name}", expr))
    except ExprError as err:
        lines.append(str(err))
    tall = any("\n" in line for line in lines)       # pretty fractions: a blank line between
    return ("\n\n" if tall else "\n").join(lines)


def _equation(lhs: str, expr, latex: bool) -> str:
    import sympy

    from .symbolic import latex as to_latex, pretty_equation, symbol
    if latex:
        return f"{sympy.latex(symbol(lhs))} = {to_latex(expr)}"
    return pretty_equation(lhs, expr)


def closed_forms(f: Function, names: list[str], cached_only: bool = False) -> dict:
    """JSON fields for the closed forms (sympy syntax and LaTeX); ``symbolic_skipped`` says
    why some are missing.  ``cached_only``: only what the check already computed."""
    from .symbolic import Budget, latex as to_latex, text
    forms = f._closed_forms()
    budget = Budget(seconds=0.0 if cached_only else Budget().seconds)
    data: dict = {"symbolic_skipped": None}

    def form(expr):
        return {"sympy": text(expr), "latex": to_latex(expr)}
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


def run_emit(f: Function, args) -> int:
    code = f.to_source(args.emit, name=args.name, strategy=args.strategy)
    if args.output is None:
        sys.stdout.write(code)
        return EXIT_OK
    try:
        with open(args.output, "w", encoding="utf-8") as fh:
            fh.write(code)
    except OSError as err:
        raise CodegenError(f"cannot write {args.output}: {err.strerror}") from None
    return EXIT_OK


def check_pictures(args) -> None:
    """Before any work: the picture files have known extensions and Graphviz is there."""
    from .draw import check_renderable
    for path in (args.dot, args.dot_grad):
        if path is not None:
            check_renderable(path)


def draw_pictures(f: Function, args) -> None:
    """--dot: the Value DAG at --at (or the structure); --dot-grad: the gradient program."""
    import warnings

    from .autodiff import grad_graph
    from .draw import draw_dot, render
    point = parse_point(args.at) if args.at is not None else None
    if args.dot is None and args.dot_grad is None:
        return
    # With --expand, `f` was compiled with expand=True: the pictures show the exp nodes.
    jobs = [(args.dot, lambda: f),
            (args.dot_grad, lambda: grad_graph(f.ir, select(f, args.wrt)))]
    for path, what in jobs:
        if path is None:
            continue
        what = what()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")          # said below, in the CLI's own words
            drawing = draw_dot(what, at=point)
        info = drawing.exprgrad_info
        if info.collapsed:
            print(f"exprgrad: note: {path}: the graph has {info.values:,} values; drew the "
                  f"{info.drawn:,} nearest the output and collapsed the other "
                  f"{info.collapsed:,} into one node", file=sys.stderr)
        if info.layout == "pinned":
            print(f"exprgrad: note: {path}: large graph, drawn with exprgrad's simple layered "
                  f"layout (straight edges) instead of Graphviz's dot layout", file=sys.stderr)
        render(drawing, path)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(_protect_expression(argv, parser._option_string_actions))
    if args.emit is None and (args.output is not None or args.name != "f"
                              or args.strategy != "reverse"):
        parser.error("-o/--output, --name and --strategy go with --emit")
    text = sys.stdin.read() if args.expr == "-" else args.expr
    try:
        f = compile(text, expand=args.expand)
        check_pictures(args)
        if args.emit is not None:
            status = run_emit(f, args)
        else:
            status = run_at(f, args) if args.at is not None else run_structure(f, args)
        draw_pictures(f, args)
        return status
    except ExprError as err:
        print(f"exprgrad: error: {err}", file=sys.stderr)
        return EXIT_USAGE


def entry() -> None:
    """Console-script entry point."""
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)

"""The `exprgrad` command: text in, value and derivatives (or code, or pictures) out.

    exprgrad "tanh(x1*w1 + x2*w2 + b)" --at x1=2 x2=0 w1=-3 w2=1 b=6.8813735870195432

Every `ExprError` becomes a message with a caret under the column and exit status 2; argparse
errors exit 2 as well.  Nothing prints a traceback for bad input.
"""
from __future__ import annotations

import argparse
import gc
import os
import sys

from . import __version__, streams
from .api import Function, compile
from .errors import (CodegenError, ExprError, ExprSyntaxError, OutputError, VariableError,
                     printable)
from .files import same_file, write_atomic
from .parse import BadNumber, literal
from .ops import CONSTANTS, FUNCTIONS

EXIT_OK, EXIT_DISAGREE, EXIT_USAGE = 0, 1, 2


def _epilog() -> str:
    import textwrap
    functions = textwrap.fill(f"functions: {' '.join(sorted(FUNCTIONS))}; log(x, base); "
                              f"constant: {', '.join(CONSTANTS)}", 92, subsequent_indent="  ")
    return f"""\
{functions}
  operators + - * / ^ (or **), statements `name = expr` separated by ; or new lines

what the flags do together:
  EXPR                       the normalised program, its variables, closed-form derivatives
  EXPR --at N=V ...          value and the checked gradient table (DAG, sympy, finite diff.)
  EXPR --emit T [-o FILE]    standalone code (T: python, numpy, array, c; -o f.c writes f.h,
                             --header prints it); with --at it also evaluates and checks (the
                             table on stdout, or on stderr when the code is)
  --wrt NAME ...             only these partials: table rows, closed forms, emitted code,
                             --dot-grad; without --at all variables are listed, these marked
  --hessian                  second order too: the Hessian with its check (--at), its closed
                             forms, hess_NAME and hvp_NAME in emitted code, its program (--dot-grad)
  --jacobian                 several outputs (`p, q` ends the program): the Jacobian, each
                             row checked (--at), jac_NAME (--emit); the default for several
  --of NAME                  of several outputs, the one to differentiate (its gradient, Hessian)
  --json                     one JSON object in any mode (with --emit the code is in "code")
  --dot FILE, --dot-grad F   pictures, with any mode
  The expression comes first, or after --at/--wrt's values when it is not NAME=VALUE
  (or a name), or after `--`; -f FILE reads it from a file, '-' from standard input.

exit status: 0 done; 1 the check found a disagreement; 2 bad input or usage (a message with
  a caret, no traceback)

examples:
  exprgrad "tanh(x1*w1 + x2*w2 + b)" --at x1=2 x2=0 w1=-3 w2=1 b=6.8813735870195432
  exprgrad -f loss.eg --wrt w b --emit c -o loss.c
"""


class _Parser(argparse.ArgumentParser):
    def _print_message(self, message, file=None):
        # argparse quotes arguments as they are: no terminal escape sequence gets through.
        # And a failed write is reported (entry), not swallowed as argparse would.
        if message:
            (file or sys.stderr).write(printable(message))


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="exprgrad", allow_abbrev=False, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Parse math text, evaluate it and its partial derivatives by reverse-mode "
                    "autodiff, cross-check them, and emit standalone gradient code.",
        epilog=_epilog())
    p.add_argument("expr", metavar="EXPR", nargs="?", default=None,
                   help="the expression or program ('-' reads it from standard input)")
    p.add_argument("-f", "--file", metavar="FILE", default=None,
                   help="read the program from FILE instead of EXPR")
    p.add_argument("--at", nargs="+", metavar="NAME=VALUE", default=None,
                   help="the point at which to evaluate the value and the gradient")
    p.add_argument("--wrt", nargs="+", metavar="NAME", default=None,
                   help="only these variables' partial derivatives")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--hessian", action="store_true",
                   help="second derivatives too: the Hessian (checked with --at), its closed "
                        "forms, or hess_NAME/hvp_NAME with --emit")
    p.add_argument("--jacobian", action="store_true",
                   help="for a program of several outputs: the Jacobian (the default then)")
    p.add_argument("--of", metavar="NAME", default=None,
                   help="of several outputs, the one to differentiate")
    p.add_argument("--emit", choices=("python", "numpy", "array", "c"), default=None,
                   help="print standalone value-and-gradient code for this target")
    p.add_argument("-o", "--output", metavar="FILE", default=None,
                   help="with --emit: write the code to FILE instead of standard output")
    p.add_argument("--name", default="f",
                   help="with --emit: name of the value function (the gradient is grad_NAME)")
    p.add_argument("--header", action="store_true",
                   help="with --emit c: print the C header (prototypes and their documentation) "
                        "instead of the code; -o FILE.c writes FILE.h beside it anyway")
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
            raise VariableError(f"--at expects NAME=VALUE, got {item!r} (the expression goes "
                                "first: exprgrad EXPR --at NAME=VALUE ...)")
        if name in point:
            raise VariableError(f"--at gives {name} twice")
        try:
            # The literals' rule: a number the grammar reads (with a sign) that a double
            # holds; 1e999, inf and nan are refused, like the literal 1e999.
            value = literal(text)
        except BadNumber as err:
            raise VariableError(f"--at {name}: {err.message}") from None
        point[name] = -0.0 if not value and text.strip().startswith("-") else float(value)
    return point


def target(f: Function, args) -> list[Function]:
    """The functions a mode works on: the one output (or the one --of names), or each output
    of several (the rows of the Jacobian)."""
    if args.of is not None:
        return [f.select(args.of)]
    if len(f.outputs) > 1:
        if args.hessian:
            raise OutputError(f"the program has {len(f.outputs)} outputs "
                              f"({', '.join(f.outputs)}): --hessian needs one, choose it with "
                              f"--of {f.outputs[0]}")
        return [f.select(k) for k in range(len(f.outputs))]
    return [f]


def select(f: Function, wrt: list[str] | None) -> list[str]:
    if not wrt:
        return list(f.variables)
    unknown = [w for w in wrt if w not in f.variables]
    if unknown:
        raise VariableError(f"--wrt {', '.join(unknown)}: not a variable of the expression; "
                            f"the variables are {', '.join(f.variables) or '(none)'}")
    return list(dict.fromkeys(wrt))


def run_at(f: Function, args, data: dict | None = None, stream=None) -> int:
    """Value, and per variable the DAG's partial next to sympy's, the exp-expanded closed
    form's and finite differences' (check.py); exit 1 when any row disagrees.  With `data`
    (--json) the figures go into it instead of being printed; the table goes to `stream`."""
    from .check import check, check_hessian
    point = parse_point(args.at)
    names = select(f, args.wrt)
    functions = target(f, args)
    # Several outputs: the DAG's figures are the Jacobian program's rows (the figures
    # `f.jacobian` gives), each checked against its output's closed forms and differences.
    rows = [None] if len(functions) == 1 else [
        (value, dict(zip(f.variables, row))) for value, row in
        zip(f(**point), f.jacobian(**point))]
    reports = [check(g, point, wrt=names, symbolic_side=not args.no_check, dag=dag)
               for g, dag in zip(functions, rows)]
    if args.hessian:
        reports.append(check_hessian(functions[0], point, wrt=names,
                                     symbolic_side=not args.no_check))
    status = EXIT_OK if all(r.ok for r in reports) else EXIT_DISAGREE
    if data is not None:
        first = reports[0]
        data.update({"expression": f.source, "outputs": list(f.outputs),
                     "variables": list(f.variables), "point": point})
        if len(functions) == 1:
            data.update({"output": first.output, "value": first.value,
                         "grad": {r.name: r.dag for r in first.rows}, "check": first.to_dict()})
            if not args.no_check:
                from . import formulas      # sympy: only when the closed forms are shown
                data.update(formulas.json_fields(functions[0], names, cached_only=True))
        else:
            data.update({"values": {r.output: r.value for r in reports},
                         "jacobian": [[row.dag for row in r.rows] for r in reports],
                         "checks": {r.output: r.to_dict() for r in reports}})
        if args.hessian:
            h = reports[-1]
            data["hessian"] = {"variables": names, "check": h.to_dict(),
                               "matrix": _matrix(functions[0], point, names)}
        return status
    out = stream or sys.stdout
    print("\n\n".join(r.render(symbolic=not args.no_check) for r in reports), file=out)
    return status


def _matrix(f: Function, point: dict, names: list[str]) -> list[list[float]]:
    """The Hessian by `names` (rows and columns in that order)."""
    full = f.hessian(**point)
    index = {v: i for i, v in enumerate(f.variables)}
    return [[full[index[a]][index[b]] for b in names] for a in names]


def run_structure(f: Function, args, data: dict | None = None) -> int:
    """The normalised program, its variables (with --wrt: which are differentiated) and, from
    sympy, its closed forms; into `data` instead with --json."""
    from . import formulas
    from .interpret import check_constants
    names = select(f, args.wrt)
    functions = target(f, args)
    order = 2 if args.hessian else 1
    check_constants(f.ir)           # 1/0 + x: an error, not the closed form `zoo`
    if data is not None:
        data.update({"expression": f.source, "output": f.output_name, "outputs": list(f.outputs),
                     "normalized": str(f), "variables": list(f.variables), "wrt": names})
        if len(functions) == 1:
            data.update(formulas.json_fields(functions[0], names))
        else:
            data["closed_forms"] = {g.output_name: formulas.json_fields(g, names)
                                    for g in functions}
        return EXIT_OK
    print(str(f))
    print(f"variables: {', '.join(f.variables) or '(none)'}")
    if len(f.outputs) > 1:
        print(f"outputs: {', '.join(f.outputs)}")
    if args.wrt:
        print(f"differentiated with respect to: {', '.join(names)}")
    for g in functions:
        print()
        print(formulas.equations(g, names, latex_form=args.latex, order=order))
    return EXIT_OK


def run_emit(f: Function, args, data: dict | None = None) -> int:
    """--emit: the code (C: and its header, FILE.h beside -o FILE, or alone with --header); with
    --json they go into `data` instead of standard output (files are written all the same)."""
    if len(f.outputs) > 1 and args.hessian and args.of is None:
        target(f, args)                           # says to choose an output
    options = dict(name=args.name, strategy=args.strategy,
                   wrt=select(f, args.wrt) if args.wrt else None,
                   order=2 if args.hessian else 1, output=args.of)
    if data is not None:
        data.setdefault("expression", f.source)
        data.setdefault("variables", list(f.variables))
        data.update({"target": args.emit, "name": args.name, "strategy": args.strategy,
                     "wrt": options["wrt"] or list(f.variables), "output_file": args.output})
    if args.header:
        header = f.to_source("c", header=True, **options)
        if data is None:
            streams.write_code(header)
        else:
            data["header"] = header
        return EXIT_OK
    code = f.to_source(args.emit, **options)
    if data is not None:
        data["code"] = code
    if args.output is None:
        if data is None:
            streams.write_code(code)
        return EXIT_OK
    files = [(args.output, code)]
    if args.emit == "c":
        files.append((_header_path(args.output), f.to_source("c", header=True, **options)))
    for path, text in files:
        try:
            write_atomic(path, text.encode("utf-8"))     # a failed write leaves the old file
        except OSError as err:
            raise CodegenError(f"cannot write {path}: {err.strerror or err}") from None
    return EXIT_OK


def check_pictures(args) -> None:
    """Before any work: the picture files have known extensions and Graphviz is there."""
    for path in (args.dot, args.dot_grad):
        if path is not None:
            from .draw import check_renderable      # graphviz: only when drawing
            check_renderable(path)


def draw_pictures(f: Function, args) -> None:
    """--dot: the Value DAG at --at (or the structure); --dot-grad: the gradient program."""
    if args.dot is None and args.dot_grad is None:
        return
    import warnings

    from .draw import NoGraphvizWarning, draw_dot, render   # graphviz: only when drawing
    point = parse_point(args.at) if args.at is not None else None
    # With --expand, `f` was compiled with expand=True: the pictures show the exp nodes.
    jobs = [(args.dot, lambda: f), (args.dot_grad, lambda: derivative_program(f, args))]
    for path, what in jobs:
        if path is None:
            continue
        what = what()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")          # said below, in the CLI's own words
            drawing = draw_dot(what, at=point)
        info = drawing.exprgrad_info
        shown = printable(path)                     # a file name may hold escape sequences
        if info.collapsed:
            print(f"exprgrad: note: {shown}: the graph has {info.values:,} values; drew the "
                  f"{info.drawn:,} nearest the output and collapsed the other "
                  f"{info.collapsed:,} into one node", file=sys.stderr)
        if info.layout == "pinned":
            print(f"exprgrad: note: {shown}: large graph, drawn with exprgrad's simple layered "
                  f"layout (straight edges) instead of Graphviz's dot layout", file=sys.stderr)
        with warnings.catch_warnings(record=True) as notes:
            warnings.simplefilter("always", NoGraphvizWarning)
            render(drawing, path)
        for note in notes:
            print(f"exprgrad: note: {shown}: {note.message}", file=sys.stderr)


def derivative_program(f: Function, args):
    """What --dot-grad draws: the gradient program, the Hessian's (--hessian) or the
    Jacobian's (several outputs)."""
    from .autodiff import grad_program
    from .derivatives import hessian_program, jacobian_program
    wrt = select(f, args.wrt)
    if args.hessian:
        return hessian_program(target(f, args)[0].ir, wrt)
    if len(f.outputs) > 1 and args.of is None:
        return jacobian_program(f.ir, wrt)
    return grad_program(target(f, args)[0].ir, wrt)


def _point_item(item: str) -> bool:
    name, eq, text = item.partition("=")
    try:
        float(text)
    except ValueError:
        return False
    return bool(eq) and name.strip().isidentifier()


def _recover_expression(args, parser) -> None:
    """``exprgrad --at x=1 "x^2"``: --at (or --wrt) took every word after it, the expression
    too.  The last word of either list is the expression when it cannot be one of its values
    (NAME=NUMBER for --at, a name for --wrt); otherwise the expression is missing."""
    swallowed = [items for items, fits in ((args.at, _point_item), (args.wrt, str.isidentifier))
                 if items and len(items) > 1 and not fits(items[-1])]
    if len(swallowed) == 1:
        args.expr = swallowed[0].pop()
        return
    parser.error("the expression is missing: write it first (exprgrad EXPR --at x=1), after "
                 "`--` (exprgrad --at x=1 -- EXPR), or read it with -f FILE or '-' (stdin)")


def check_combinations(args, parser) -> None:
    """Flags either work together or are refused here (exit 2), before any work."""
    if args.expr is not None and args.file is not None:
        parser.error("give the program as EXPR or with -f FILE, not both")
    if args.emit is None and (args.output is not None or args.name != "f"
                              or args.strategy != "reverse" or args.header):
        parser.error("-o/--output, --name, --strategy and --header go with --emit")
    if args.header and args.emit not in (None, "c"):
        parser.error("--header goes with --emit c")
    if args.no_check and args.at is None:
        parser.error("--no-check goes with --at (it skips the sympy columns of the check)")
    if args.jacobian and (args.hessian or args.of is not None):
        parser.error("--jacobian differentiates every output once; --hessian and --of pick one "
                     "output: choose one of them")
    if args.latex and (args.at is not None or args.emit is not None or args.json):
        parser.error("--latex prints the closed forms of the mode without --at, --emit and "
                     "--json (JSON holds them in LaTeX already)")


def read_program(args) -> str:
    if args.file is not None:
        try:
            with open(args.file, "rb") as fh:
                return streams.read_source(fh, args.file)
        except OSError as err:
            raise ExprError(f"cannot read {args.file}: {err.strerror or err}") from None
    return streams.read_stdin() if args.expr == "-" else args.expr


def _header_path(output: str) -> str:
    from pathlib import Path
    return str(Path(output).with_suffix(".h"))


def refuse_shared_outputs(parser, args) -> None:
    """Two outputs written to one file would leave only the last: refused before any work."""
    given = [("-o", args.output), ("--dot", args.dot), ("--dot-grad", args.dot_grad)]
    if args.emit == "c" and args.output is not None and not args.header:
        given.append(("-o's header", _header_path(args.output)))
    given = [(flag, path) for flag, path in given if path is not None]
    for i, (flag, path) in enumerate(given):
        for other, other_path in given[i + 1:]:
            if same_file(path, other_path):
                parser.error(f"{flag} and {other} name the same file ({path}): give each "
                             "output a file of its own")


def _file_hint(err: ExprError, args) -> str:
    """A path given as EXPR (`exprgrad loss.eg`) does not parse: say how to read the file."""
    if (isinstance(err, ExprSyntaxError) and args.file is None and args.expr not in (None, "-")
            and len(args.expr) < 4096 and os.path.isfile(args.expr)):
        return f"\nhint: {args.expr!r} is a file: read the program from it with -f {args.expr}"
    return ""


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    argv = _protect_expression(argv, parser._option_string_actions)
    args = parser.parse_args(argv)
    if args.expr is None and args.file is None:
        _recover_expression(args, parser)
    check_combinations(args, parser)
    refuse_shared_outputs(parser, args)
    # One sympy budget for the whole run: the check's columns, closed forms, --json and
    # --strategy symbolic together stay within exprgrad.budget.TIME_BUDGET.
    from .budget import Budget, shared
    try:
        with shared(Budget()):
            return _run(args)
    except ExprError as err:
        print(f"exprgrad: error: {err}{_file_hint(err, args)}", file=sys.stderr)
        return EXIT_USAGE


def _run(args) -> int:
    """The work of one run, once the flags are known to fit together."""
    text = read_program(args)
    f = compile(text, expand=args.expand)
    check_pictures(args)
    data = {} if args.json else None
    if args.emit is not None:
        status = EXIT_OK
        if args.at is not None:
            # The code goes to stdout unless -o: then the table is on stderr, apart.
            stream = sys.stderr if args.output is None else sys.stdout
            status = run_at(f, args, data, stream)
        run_emit(f, args, data)
    else:
        status = run_at(f, args, data) if args.at is not None else \
            run_structure(f, args, data)
    if data is not None:
        print(streams.json_text(data))
    draw_pictures(f, args)
    return status


def entry() -> None:
    """Console-script entry point: `main` with the standard streams made safe (streams.py):
    a closed, full or broken output ends in one line on standard error, not a traceback.

    The process runs without the cyclic garbage collector.  One run is one short job, and
    the collector's passes would walk what the imports built (with sympy, some 50,000 tracked
    objects) while they import and again when the interpreter shuts down, freeing nothing:
    the stages that build big graphs pause it anyway (`ir.gc_paused`).  Measured
    (benchmarks/startup.py): ``exprgrad "x*y" --at x=1 y=2`` 0.55 → 0.40 s of CPU (median),
    the same peak RSS for W4 n = 1,000 ``--at --hessian`` and n = 10,000 ``--emit``.
    `gc.freeze` before the exit takes every object out of the shutdown's collections."""
    streams.prepare()
    gc.disable()
    try:
        status = main()
    except SystemExit as done:              # argparse: --help, --version, usage errors
        status = done.code if isinstance(done.code, int) else 0 if done.code is None else 2
    except KeyboardInterrupt:
        status = 130
    except OSError as err:                  # a write to standard output failed
        status = streams.write_failed(err)
    gc.freeze()
    sys.exit(streams.finish(status))

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
from .errors import ExprError, VariableError

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
    point = parse_point(args.at)
    value, grads = f.grad(**point)
    names = select(f, args.wrt)
    out = f.output_name
    if args.json:
        print(json.dumps({"expression": f.source, "output": out, "value": value,
                          "variables": list(f.variables), "point": point,
                          "grad": {n: grads[n] for n in names}}))
        return EXIT_OK
    print(f"{out} = {_number(value)}")
    print()
    rows = [[n, repr(point[n]), _number(grads[n])] for n in names]
    print(table(["variable", "value", f"∂{out}/∂variable"], rows))
    return EXIT_OK


def run_structure(f: Function, args) -> int:
    names = select(f, args.wrt)
    if args.json:
        print(json.dumps({"expression": f.source, "output": f.output_name,
                          "normalized": str(f), "variables": list(f.variables)}))
        return EXIT_OK
    print(str(f))
    print(f"variables: {', '.join(names) or '(none)'}")
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(_protect_expression(argv, parser._option_string_actions))
    text = sys.stdin.read() if args.expr == "-" else args.expr
    try:
        f = compile(text)
        return run_at(f, args) if args.at is not None else run_structure(f, args)
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

"""Code generation: a forward graph → standalone source text (Python, NumPy or C).

Input: a forward `Graph` (``Function.ir`` or ``trace.trace(...)``).  A pass turns it into
`Program`s — the gradient pass (`autodiff.grad_program`, strategy ``reverse``) or sympy's
closed forms (`from_sympy`, strategy ``symbolic``) — and emit.py prints each program as one
function for a `Backend` (python.py, numpy.py, c.py: one declared description each, the op
forms coming from the registry).  Output: the text of a file that needs nothing of exprgrad:

- ``f(x1, ...)`` → the value, and
- ``grad_f(x1, ...)`` → ``(value, (d_x1, ...))``, partials in ``graph.variables`` order
  (or in the order of ``wrt=``)

(C: ``double f(const double *in)`` and ``double grad_f(const double *in, double *grad_out)``;
`emit_header` writes the matching header).  `kernel_source` writes the module behind
`Function`'s fast path: the same functions plus keyword entry points; `load` runs it.

>>> from exprgrad.lower import lower
>>> from exprgrad.parse import parse
>>> f, grad_f = load_python(emit(lower(parse("y = x*x; z = sin(y)")), "python"))
>>> grad_f(x=3.0) == (math.sin(9.0), (6.0 * math.cos(9.0),))
True
"""
from __future__ import annotations

import math
from typing import Sequence

from ..errors import CodegenError
from ..ir import Graph, gc_paused
from ..program import Program, Result
from .backend import Backend, printable
from .c import C
from .emit import FunctionPrinter
from .load import load_namespace, load_python
from .naming import Namer
from .numpy import NUMPY
from .python import PYTHON

BACKENDS: dict[str, Backend] = {"python": PYTHON, "numpy": NUMPY, "c": C}
STRATEGIES = ("reverse", "symbolic")
MAX_SOURCE = 2000            # characters of the source expression repeated in the header

__all__ = ["BACKENDS", "STRATEGIES", "emit", "emit_header", "kernel_source", "build",
           "backend", "load_namespace", "load_python", "math"]


def backend(target: str) -> Backend:
    found = BACKENDS.get(target)
    if found is None:
        raise CodegenError(f"unknown target {target!r}; choose one of {', '.join(BACKENDS)}")
    return found


def build(graph: Graph, strategy: str = "reverse", wrt: Sequence[str] | None = None) -> Program:
    """The gradient program for `strategy`: results ``value`` and ``grad``."""
    if strategy == "reverse":
        from ..autodiff import grad_program
        return grad_program(graph, wrt)
    if strategy == "symbolic":
        from .from_sympy import symbolic_program
        return symbolic_program(graph, wrt)
    raise CodegenError(f"unknown strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}")


def value_view(prog: Program) -> Program:
    """The forward part of a program (its primal outputs) as a program of kind ``value``."""
    label = prog.results[0].labels if prog.results[0].name == "value" else ("value",)
    return Program("value", prog.graph, prog.params,
                   (Result("value", prog.primal, (), label[:1]),), primal=prog.primal,
                   param_names=prog.param_names)


def _check_name(be: Backend, name) -> None:
    if not isinstance(name, str) or not be.valid(name) or not Namer(be.reserved, be.valid).free(name):
        raise CodegenError(f"function name {name!r} is not usable in {be.name} code")


@gc_paused()    # building ~10^5 nodes and lines with the collector on is quadratic (W4)
def emit(graph: Graph, target: str, name: str = "f", strategy: str = "reverse",
         wrt: Sequence[str] | None = None) -> str:
    """Standalone source for `target` ("python", "numpy" or "c"): ``name`` (the value) and
    ``grad_<name>`` (value and partials by the variables of `wrt`, default all).

    >>> from exprgrad.lower import lower
    >>> from exprgrad.parse import parse
    >>> print(emit(lower(parse("n = x*w; o = tanh(n)")), "python").split("\\n\\n\\n")[-1].strip())
    def grad_f(w, x):
        n = x * w
        o = math.tanh(n)
        # grad of: o = math.tanh(n)
        d_n = 1.0 - o * o
        return o, (
            d_n * x,  # d_w
            d_n * w,  # d_x
        )
    """
    be = backend(target)
    _check_name(be, name)
    functions = _functions(build(graph, strategy, wrt), name)
    return _file(graph, be, functions, strategy)


def emit_header(graph: Graph, name: str = "f", strategy: str = "reverse",
                wrt: Sequence[str] | None = None) -> str:
    """The C header declaring what `emit(graph, "c", name, ...)` defines, with its docs."""
    _check_name(C, name)
    functions = _functions(build(graph, strategy, wrt), name)
    guard = f"EXPRGRAD_{name.upper()}_H"
    printers = [(fname, FunctionPrinter(prog, C, [n for n, _ in functions]))
                for fname, prog in functions]
    lines = _header(graph, C, printers, strategy)
    lines += ["", f"#ifndef {guard}", f"#define {guard}", ""]
    for fname, printer in printers:
        lines += C.header(fname, printer.params, printer.prog.results)
    return "\n".join(lines + ["", f"#endif  /* {guard} */", ""])


def _functions(grad: Program, name: str) -> list[tuple[str, Program]]:
    return [(name, value_view(grad)), (f"grad_{name}", grad)]


def _file(graph: Graph, be: Backend, functions: list[tuple[str, Program]], strategy: str,
          extra: Sequence[str] = ()) -> str:
    reserved = [n for n, _ in functions] + list(extra)
    printers = [(fname, FunctionPrinter(prog, be, reserved)) for fname, prog in functions]
    bodies = [printer.lines(fname) for fname, printer in printers]
    imports = list(dict.fromkeys(be.imports + tuple(
        i for _, p in printers for i in p.imports())))
    head = _header(graph, be, printers, strategy) + [""] + imports
    return "\n\n\n".join("\n".join(b) for b in [head, *bodies]) + "\n"


def _header(graph: Graph, be: Backend, printers, strategy: str) -> list[str]:
    from .. import __version__
    source = graph.source or "(built without source text)"
    if len(source) > MAX_SOURCE:
        source = source[:MAX_SOURCE] + f"… ({len(graph.source)} characters)"
    lines = [f"Generated by exprgrad {__version__} ({be.name}, strategy {strategy}): standalone "
             "value and gradient code.", "source:"]
    lines += ["    " + printable(line) for line in source.splitlines() or [""]]
    renamed: dict[str, str] = {}
    for fname, printer in printers:
        results = printer.shapes()
        lines += be.describe(fname, printer.params, results)
        renamed.update(printer.renamed)
    if renamed:
        lines.append("renamed (source name -> name here): " + ", ".join(
            f"{printable(k)} -> {v}" for k, v in renamed.items()))
    return [be.comment(line) for line in lines]


# ---- the module behind Function's fast path --------------------------------------------------

#: names in `kernel_source`'s module besides the program's own identifiers
KERNEL_NAMES = ("f", "grad_f", "value_kw", "grad_kw", "checked_value", "checked_grad",
                "kw", "args")
_CAUGHT = "(KeyError, TypeError, ValueError, ZeroDivisionError, OverflowError)"


@gc_paused()
def kernel_source(graph: Graph) -> str:
    """Python for `api.Function`: ``f`` and ``grad_f`` as `emit` writes them (positional), and
    the keyword entry points ``value_kw(*args, **kw)`` → the value and ``grad_kw(*args, **kw)``
    → ``(value, {variable: partial})``: the keywords read, converted by ``float()`` and
    computed in one call.  Anything else — positional arguments, a missing or unknown
    variable, a value ``float()`` rejects, a math error — goes to the module globals
    ``checked_value`` / ``checked_grad`` (the loader sets them), which name the problem.
    Same statements as ``f`` / ``grad_f``, so the same floats.  One output only."""
    grad = build(graph)
    functions = _functions(grad, "f")
    be = PYTHON
    text = _file(graph, be, functions, "reverse", KERNEL_NAMES)
    extra = []
    for (fname, prog), kind in zip(functions, ("value", "grad")):
        printer = FunctionPrinter(prog, be, KERNEL_NAMES)
        extra.append(_keyword_entry(printer, kind))
    return text + "\n\n" + "\n\n\n".join("\n".join(e) for e in extra) + "\n"


def _keyword_entry(printer: FunctionPrinter, kind: str) -> list[str]:
    prog = printer.prog
    body, results = printer.parts()
    if kind == "grad":
        value, grads = results[0].texts[0], results[1].texts
        tail = ([f"    return {value}, {{"] + [f"        {v!r}: {t},"
                                               for v, t in zip(prog.wrt, grads)] + ["    }"])
    else:
        tail = PYTHON.returns(results)
    reads = [f"    {p} = float(kw[{v!r}])" for v, p in zip(prog.params, printer.params)]
    return ([f"def {kind}_kw(*args, **kw):",
             f"    if args or len(kw) != {len(prog.params)}:",
             f"        return checked_{kind}(*args, **kw)",
             "    try:"]
            + ["    " + line for line in reads + body + tail]
            + [f"    except {_CAUGHT}:", f"        return checked_{kind}(*args, **kw)"])

"""Code generation: a forward graph → standalone source text (Python, NumPy, array API or C).

Input: a forward `Graph` (``Function.ir`` or ``trace.trace(...)``).  A pass turns it into
`Program`s — the gradient pass (`autodiff.grad_program`, strategy ``reverse``) or sympy's
closed forms (`from_sympy`, strategy ``symbolic``) — and emit.py prints each program as one
function for a `Backend` (python.py, numpy.py, array.py, c.py: one declared description each,
the op forms coming from the registry).  Output: the text of a file that needs nothing of exprgrad:

- ``f(x1, ...)`` → the value, and
- ``grad_f(x1, ...)`` → ``(value, (d_x1, ...))``, partials in ``graph.variables`` order
  (or in the order of ``wrt=``)

(C: ``double f(const double *in)`` and ``double grad_f(const double *in, double *grad_out)``;
`emit_header` writes the matching header).  `kernel_source` writes the module behind
`Function`'s compiled calls: a keyword entry point for the value or the gradient (the same
statements); `load` runs it.

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
from ..program import Program, Result, forward_program
from .array import ARRAY
from .backend import Backend, import_lines, printable
from .c import C
from .emit import FunctionPrinter
from .load import load_namespace, load_python
from .naming import Namer
from .numpy import NUMPY
from .python import PYTHON

BACKENDS: dict[str, Backend] = {"python": PYTHON, "numpy": NUMPY, "array": ARRAY, "c": C}
STRATEGIES = ("reverse", "symbolic")
MAX_SOURCE = 2000            # characters of the source expression repeated in the header

__all__ = ["BACKENDS", "STRATEGIES", "emit", "emit_header", "emit_programs", "functions",
           "kernel_source",
           "program_source", "build", "backend", "load_namespace", "load_python", "math"]


def backend(target: str) -> Backend:
    found = BACKENDS.get(target)
    if found is None:
        raise CodegenError(f"unknown target {target!r}; choose one of {', '.join(BACKENDS)}")
    return found


def build(graph: Graph, strategy: str = "reverse", wrt: Sequence[str] | None = None,
          output: int | str | None = None) -> Program:
    """The gradient program for `strategy`: results ``value`` and ``grad``."""
    if strategy == "reverse":
        from ..autodiff import grad_program
        return grad_program(graph, wrt, output)
    if strategy == "symbolic":
        from .from_sympy import symbolic_program
        return symbolic_program(graph, wrt, output)
    raise CodegenError(f"unknown strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}")


def value_view(prog: Program) -> Program:
    """The forward part of a program (its primal outputs, their labels) as a program of kind
    ``value``: one scalar, or the vector of several outputs."""
    first = prog.results[0]
    result = Result("value", first.nodes, (), first.labels) if first.name == "value" else \
        Result("values", first.nodes, first.shape, first.labels)
    return Program("value", prog.graph, prog.params, (result,), primal=prog.primal,
                   param_names=prog.param_names)


def functions(graph: Graph, name: str = "f", strategy: str = "reverse",
              wrt: Sequence[str] | None = None, order: int = 1,
              output: int | str | None = None) -> list[tuple[str, Program]]:
    """The functions of a generated file, ``(name, program)`` in order:

    - one output (or ``output`` chosen): ``name`` (value), ``grad_<name>`` (value, gradient)
      and with ``order=2`` ``hess_<name>`` (value, gradient, Hessian) and ``hvp_<name>``
      (value, gradient, Hessian times the tangent ``v_x, ...`` given after the variables);
    - several outputs: ``name`` (values) and ``jac_<name>`` (values, Jacobian).
    """
    from ..autodiff import choose_output
    from ..derivatives import hessian_program, hvp_program, jacobian_program
    if order not in (1, 2):
        raise CodegenError(f"order must be 1 or 2, not {order!r}")
    if len(graph.outputs) > 1 and output is None:
        if order == 2:
            raise CodegenError(f"the program has {len(graph.outputs)} outputs "
                               f"({', '.join(graph.output_names)}): second derivatives are "
                               "written for one of them; choose it (output=, --output)")
        jac = jacobian_program(graph, wrt)
        return [(name, value_view(jac)), (f"jac_{name}", jac)]
    output = choose_output(graph, output)
    grad = build(graph, strategy, wrt, output)
    found = [(name, value_view(grad)), (f"grad_{name}", grad)]
    if order == 2:
        if strategy != "reverse":
            raise CodegenError("the symbolic strategy writes first derivatives only; "
                               "second order uses the reverse strategy")
        found += [(f"hess_{name}", hessian_program(graph, wrt, output)),
                  (f"hvp_{name}", hvp_program(graph, wrt, output))]
    return found


def _check_name(be: Backend, name) -> None:
    why = be.library_name(name) if be.library_name and isinstance(name, str) else None
    if why or not isinstance(name, str) or not be.valid(name) \
            or not Namer(be.reserved, be.valid).free(name):
        raise CodegenError(f"function name {name!r} is not usable in {be.name} code"
                           + (f": {why}" if why else ""))


@gc_paused()    # building ~10^5 nodes and lines with the collector on is quadratic (W4)
def emit(graph: Graph, target: str, name: str = "f", strategy: str = "reverse",
         wrt: Sequence[str] | None = None, order: int = 1,
         output: int | str | None = None, max_statements: int | None = None) -> str:
    """Standalone source for `target` ("python", "numpy", "array" or "c"): ``name`` (the
    value) and ``grad_<name>`` (value and partials by the variables of `wrt`, default all);
    more with ``order=2`` or several outputs (see `functions`).  C: a function of more than
    `max_statements` statements (default `c.MAX_STATEMENTS`) is printed as parts of at most
    that many, called by it (same prototype).

    >>> from exprgrad.lower import lower
    >>> from exprgrad.parse import parse
    >>> print(emit(lower(parse("n = x*w; o = tanh(n)")), "python").split("\\n\\n\\n")[-1].strip())
    def grad_f(w, x):
        n = x * w
        o = tanh(n)
        # grad of: o = tanh(n)
        d_n = 1.0 - o * o
        return o, (
            d_n * x,  # d_w
            d_n * w,  # d_x
        )
    """
    be = backend(target)
    _check_name(be, name)
    return _file(graph, be, functions(graph, name, strategy, wrt, order, output), strategy,
                 max_statements=max_statements)


@gc_paused()    # as `emit`: the collector would walk every node of the program many times
def emit_programs(graph: Graph, target: str, found: list[tuple[str, Program]],
                  strategy: str = "reverse") -> str:
    """The file for programs already built, ``[(function name, program), ...]`` (what
    `functions` returns): for callers that time or reuse the passes."""
    return _file(graph, backend(target), found, strategy)


def emit_header(graph: Graph, name: str = "f", strategy: str = "reverse",
                wrt: Sequence[str] | None = None, order: int = 1,
                output: int | str | None = None) -> str:
    """The C header declaring what `emit(graph, "c", name, ...)` defines, with its docs."""
    _check_name(C, name)
    found = functions(graph, name, strategy, wrt, order, output)
    guard = f"EXPRGRAD_{name.upper()}_H"
    printers = [(fname, FunctionPrinter(prog, C, [n for n, _ in found]))
                for fname, prog in found]
    lines = _header(graph, C, [_signature(fname, p) for fname, p in printers], strategy)
    lines += ["", f"#ifndef {guard}", f"#define {guard}", ""]
    for fname, printer in printers:
        lines += C.header(fname, printer.params, printer.prog.results)
    return "\n".join(lines + ["", f"#endif  /* {guard} */", ""])


def _file(graph: Graph, be: Backend, functions: list[tuple[str, Program]], strategy: str,
          extra: Sequence[str] = (), max_statements: int | None = None) -> str:
    reserved = [n for n, _ in functions] + list(extra)
    signatures, bodies, imports = [], [], []
    # One function at a time: a printer's names and the body's lines are garbage before the
    # next function is printed (10^6 operations: hundreds of MB that were held to the end).
    for fname, prog in functions:
        printer = FunctionPrinter(prog, be, reserved)
        bodies.append("\n".join(printer.lines(fname, max_statements)))
        imports += printer.imports()
        signatures.append(_signature(fname, printer))
    head = _header(graph, be, signatures, strategy) + [""] + import_lines(be.imports
                                                                           + tuple(imports))
    return "\n\n\n".join(["\n".join(head), *bodies]) + "\n"


def _signature(fname: str, printer: FunctionPrinter) -> tuple:
    """What the file's header says of a function: (name, parameters, results, renames)."""
    return fname, printer.params, printer.shapes(), printer.renamed


def _header(graph: Graph, be: Backend, signatures, strategy: str) -> list[str]:
    from .. import __version__
    source = graph.source or "(built without source text)"
    if len(source) > MAX_SOURCE:
        source = source[:MAX_SOURCE] + f"… ({len(graph.source)} characters)"
    lines = [f"Generated by exprgrad {__version__} ({be.name}, strategy {strategy}): standalone "
             "value and gradient code.", "source:"]
    lines += ["    " + printable(line) for line in source.splitlines() or [""]]
    lines += be.notes
    renamed: dict[str, str] = {}
    for fname, params, results, renames in signatures:
        lines += be.describe(fname, params, results)
        renamed.update(renames)
    if renamed:
        lines.append("renamed (source name -> name here): " + ", ".join(
            f"{printable(k)} -> {v}" for k, v in renamed.items()))
    return [be.comment(line) for line in lines]


# ---- the module behind Function's compiled calls ----------------------------------------------

#: names in `kernel_source`'s module besides the program's own identifiers
KERNEL_NAMES = ("value_kw", "grad_kw", "checked_value", "checked_grad", "scalar", "kw", "args")
KINDS = ("value", "grad")
_CAUGHT = "(KeyError, TypeError, ValueError, ZeroDivisionError, OverflowError)"
_READ_CHUNK = 256            # variables unpacked by one statement (bounded stack depth)
_READ_ONE_BY_ONE = 16       # up to this many variables, a few lines each instead


@gc_paused()
def kernel_source(graph: Graph, kind: str = "grad") -> str:
    """Python for `api.Function`'s compiled calls: one keyword entry, ``value_kw(*args,
    **kw)`` → the value (several outputs: their tuple) or ``grad_kw(*args, **kw)`` →
    ``(value, {variable: partial})``, only the one that is called (a file of every function
    would print and compile the program several times).  The keywords are read (floats as
    they are, ints by ``float()``, anything else by the module global ``scalar``, which
    refuses arrays) and computed in one call.  Anything else — positional arguments, a
    missing or unknown variable, a value ``float()`` rejects, an array, a math error — goes to
    the module global ``checked_value`` / ``checked_grad``, which names the problem (the loader
    sets both).  Same statements as `emit`'s ``f`` / ``grad_f``, so the same floats."""
    if kind not in KINDS:
        raise CodegenError(f"unknown kernel {kind!r}; choose one of {', '.join(KINDS)}")
    prog = forward_program(graph) if kind == "value" else build(graph)
    printer = FunctionPrinter(prog, PYTHON, KERNEL_NAMES)
    entry = _keyword_entry(printer, kind)
    imports = import_lines(PYTHON.imports + tuple(printer.imports()))
    return "\n".join(imports + ["from operator import itemgetter as __itemgetter", ""]
                     + entry) + "\n"


@gc_paused()
def program_source(prog: Program, name: str = "run", target: str = "python") -> str:
    """One program as one positional function ``name`` in a file of its own (what `Function`
    runs for its second-order and Jacobian calls: Python; on arrays: the array backend)."""
    return _file(prog.graph, backend(target), [(name, prog)], "reverse")


def _keyword_entry(printer: FunctionPrinter, kind: str) -> list[str]:
    prog = printer.prog
    body, results = printer.parts()
    if kind == "grad":
        value, grads = results[0].texts[0], results[1].texts
        tail = ([f"    return {value}, {{"] + [f"        {v!r}: {t},"
                                               for v, t in zip(prog.wrt, grads)] + ["    }"])
    else:
        tail = PYTHON.returns(results)
    # The keywords read in C: itemgetter, map(float) and one unpacking per chunk of names,
    # instead of a float(kw[...]) line each (compiled and run as bytecode).  Only floats and
    # ints (tested in C too) go through float(): it would turn a one-element PyTorch tensor
    # into a number, losing its library and shape; anything else goes through `scalar`,
    # which refuses arrays (they reach the checked path, which runs array code).  Module
    # names start with "__", which no program identifier does (naming.py).
    # Up to _READ_ONE_BY_ONE names, one test per name is faster (W1: 5 names, ~1.5 µs a call).
    head, reads = ["__plain = frozenset((float, int)).issuperset"], []
    pairs = list(zip(prog.params, printer.params))
    if len(pairs) <= _READ_ONE_BY_ONE:
        head = []
        for v, p in pairs:
            reads += [f"    {p} = kw[{v!r}]", f"    if {p}.__class__ is not float:",
                      f"        {p} = float({p}) if {p}.__class__ is int else scalar({p})"]
    for k in range(0, len(pairs) if head else 0, _READ_CHUNK):
        chunk = pairs[k:k + _READ_CHUNK]
        getter = f"__read{k // _READ_CHUNK}"
        head.append(f"{getter} = __itemgetter({', '.join(repr(v) for v, _ in chunk)})")
        names = ", ".join(p for _, p in chunk) + ("," if len(chunk) == 1 else "")
        reads += [f"    __v = {getter}(kw)",
                  f"    {names} = map(float if __plain(map(type, __v)) else scalar, __v)"]
    return (head + ["", "", f"def {kind}_kw(*args, **kw):",
                    f"    if args or len(kw) != {len(prog.params)}:",
                    f"        return checked_{kind}(*args, **kw)",
                    "    try:"]
            + ["    " + line for line in reads + body + tail]
            + [f"    except {_CAUGHT}:", f"        return checked_{kind}(*args, **kw)"])

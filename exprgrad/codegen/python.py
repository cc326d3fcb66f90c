"""The Python backend: standard-library Python, floats in, floats out.

Input: the statements the printer chose.  Output: the lines of a module that imports only
from ``math`` (``import math`` where a form spells ``math.``, as pow's does).  ``math`` raises ValueError/ZeroDivisionError/OverflowError where the interpreter
would report a DomainError.  A function returns its results as a tuple (one result: itself);
a vector result is a tuple, a matrix a tuple of row tuples::

    def f(x1, ...):       -> value
    def grad_f(x1, ...):  -> (value, (d_x1, ...))
"""
from __future__ import annotations

import builtins
import keyword

from ..ops import OPS
from .backend import Backend, Returned, printable
from .naming import python_identifier

# Keywords (soft keywords such as `_` and `match` are ordinary names), every builtin
# (forms call abs, max, float), the module and the math functions the forms call by their bare
# names (``from math import tanh``; a parsed program cannot name a variable so, a traced one can).
RESERVED = frozenset(keyword.kwlist) | frozenset(dir(builtins)) | {"math"} \
    | {op.fn for op in OPS.values() if op.fn}


def comment(text: str) -> str:
    return f"# {text}" if text else "#"


def signature(name: str, params: list[str], results: list) -> list[str]:
    return [f"def {name}({', '.join(params)}):"]


def statement(name: str, expr: str) -> str:
    return f"    {name} = {expr}"


def body_comment(text: str) -> str:
    return f"    # {text}"


def _inline(r: Returned) -> str | None:
    """The result on one line, if every entry is a plain name."""
    if not r.shape:
        return r.texts[0]
    if not r.texts:
        return "()"
    if len(r.shape) == 1 and r.texts == list(r.labels):
        return "(" + ", ".join(r.texts) + ("," if len(r.texts) == 1 else "") + ")"
    return None


def _block(r: Returned) -> str:
    """A vector (one entry a line, expressions commented with their label) or a matrix (one
    row a line) as a parenthesised block."""
    if len(r.shape) == 2:
        width = r.shape[1]
        rows = [r.texts[i:i + width] for i in range(0, len(r.texts), width)]
        lines = [f"        {_row(row)}," for row in rows]
    else:
        lines = [f"        {text}," + (f"  # {label}" if text != label else "")
                 for text, label in zip(r.texts, r.labels)]
    return "(\n" + "\n".join(lines) + "\n    )"


#: a run of at least this many structural zeros in a matrix row is written ``*(0.0,) * k``
ZERO_RUN = 16


def _row(texts: list[str]) -> str:
    """A matrix row as a tuple display.  Long runs of zeros (a sparse Hessian's rows) are
    repeated tuples unpacked in place: a literal of n entries costs n bytecode loads per call,
    ``(0.0,) * k`` one C loop (n = 1,000 rows: 26 ms → 16 ms per call)."""
    if len(texts) >= ZERO_RUN and all(t == "0.0" for t in texts):
        return f"(0.0,) * {len(texts)}"
    parts, i = [], 0
    while i < len(texts):
        j = i
        while j < len(texts) and texts[j] == "0.0":
            j += 1
        if j - i >= ZERO_RUN:
            parts.append(f"*(0.0,) * {j - i}")
            i = j
        else:
            parts.append(texts[i])
            i += 1
    return f"({', '.join(parts)}{',' if len(parts) == 1 and len(texts) == 1 else ''})"


def returns(results: list[Returned]) -> list[str]:
    """``return v`` for one scalar, else the results as a tuple: on one line when every
    entry is a name, else one entry (or matrix row) a line."""
    inline = [_inline(r) for r in results]
    if len(results) == 1 and results[0].shape == ():
        return [f"    return {inline[0]}"]
    if None not in inline:
        line = "    return " + ", ".join(inline)
        if len(line) <= 96:
            return [line]
    parts = [text if text is not None and not r.shape else _block(r)
             for r, text in zip(results, inline)]
    return ("    return " + ", ".join(parts)).split("\n")


def end() -> list[str]:
    return []


def describe(name: str, params: list[str], results: list[Returned]) -> list[str]:
    shown = [_inline(Returned(r.name, r.shape, list(r.labels), r.labels)) or r.name
             for r in results]
    out = shown[0] if len(results) == 1 and not results[0].shape else ", ".join(shown)
    if len(results) > 1:
        out = f"({out})"
    lines = [f"{name}({', '.join(params)}) -> {out}"]
    value = results[0].labels[0] if results and not results[0].shape else "the value"
    for r in results:
        if r.name == "grad":
            lines.append(f"    {', '.join(r.labels)}: the partial derivatives of {value}")
        if len(r.shape) == 2:
            lines.append(f"    {matrix_doc(r, value)}; a tuple of row tuples")
    return lines


def matrix_doc(r: Returned, value: str) -> str:
    """What entry [i][j] of a matrix result is (every backend's header says it)."""
    rows, cols = (printable_list(a) for a in r.axes) if r.axes else ("rows", "columns")
    if r.name == "hess":
        return (f"{r.name}[i][j] = ∂²{value}/∂a_i∂a_j, a = ({cols}), "
                f"{r.shape[0]}×{r.shape[1]}, symmetric")
    return f"{r.name}[i][j] = ∂({rows})[i]/∂({cols})[j], {r.shape[0]}×{r.shape[1]}"


def printable_list(names) -> str:
    return ", ".join(printable(n) for n in names)


PYTHON = Backend(
    name="python", call="{}", bind="from math import {}", functions={"fabs": "fabs"},
    imports=(), modules={"math.": "import math"},
    reserved=RESERVED, valid=python_identifier, inf="math.inf", comment=comment,
    signature=signature, prologue=lambda params, used: [], statement=statement,
    body_comment=body_comment, returns=returns, end=end, describe=describe)

"""The Python backend's data: header, signature and statement syntax for standard-library Python.

Input: the statements `exprgrad.codegen` chose (names and expression texts built from the ``py``
snippets of `exprgrad.ops`); output: the lines of a module that imports only ``math``.  Values
are floats; ``math`` raises ValueError/ZeroDivisionError/OverflowError where the interpreter
would report a DomainError.
"""
from __future__ import annotations

import builtins
import keyword

from .naming import python_identifier

SNIPPET = "py"                         # the `Op` field holding this target's op snippets
COMMENT = "#"
INF = "math.inf"
IMPORTS = ["import math"]
valid = python_identifier
# Keywords (soft keywords such as `_` and `match` are ordinary names), every builtin
# (snippets call abs, max, float) and the module alias.
RESERVED = frozenset(keyword.kwlist) | frozenset(dir(builtins)) \
    | {"math"}


def comment(text: str) -> str:
    return f"# {text}" if text else "#"


def signature(kind: str, name: str, params: list[str]) -> list[str]:
    return [f"def {name}({', '.join(params)}):"]


def prologue(params: list[str], used: set[str]) -> list[str]:
    return []


def statement(name: str, expr: str) -> str:
    return f"    {name} = {expr}"


def body_comment(text: str) -> str:
    return f"    # {text}"


def value_return(value: str) -> list[str]:
    return [f"    return {value}"]


def grad_return(value: str, grads: list[str], names: list[str]) -> list[str]:
    """``grads`` are the partials' texts: their names, or expressions used only here."""
    if grads == names:
        inner = ", ".join(grads) + ("," if len(grads) == 1 else "")
        return [f"    return {value}, ({inner})"]
    return ([f"    return {value}, ("]
            + [f"        {text}," + (f"  # {name}" if text != name else "")
               for text, name in zip(grads, names)]
            + ["    )"])


def end() -> list[str]:
    return []


def describe(name: str, grad_name: str, params: list[str], value: str,
             grads: list[str]) -> list[str]:
    args = ", ".join(params)
    inner = ", ".join(grads) + ("," if len(grads) == 1 else "")
    return [f"{name}({args}) -> {value}",
            f"{grad_name}({args}) -> ({value}, ({inner}))",
            "    the value and its partial derivatives, in the order of the arguments"]

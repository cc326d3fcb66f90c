"""What the workloads share: exprgrad's optional stages, looked up as they are built.

Input: nothing.  Output: the code generators (`exprgrad.codegen`), the compiled training path
(`exprgrad.nn.compiled`) and the neural-net library (`exprgrad.nn`), or None for a stage that is
not there, so the runner reports it as missing instead of failing.
"""
from __future__ import annotations

import importlib


def _optional(name: str, *attrs: str):
    try:
        module = importlib.import_module(name)
    except ImportError:
        return None
    return module if all(hasattr(module, a) for a in attrs) else None


def codegen():
    """`exprgrad.codegen` with ``emit`` and ``load_python``, or None."""
    return _optional("exprgrad.codegen", "emit", "load_python")


def nn():
    return _optional("exprgrad.nn", "MLP")


def compiled():
    return _optional("exprgrad.nn.compiled")

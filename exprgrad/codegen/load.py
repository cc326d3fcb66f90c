"""Loading generated Python: emitted source text → live functions.

Input: python or numpy source that `emit` wrote.  Output: its namespace (or ``(f, grad_f)``),
executed in a fresh module namespace under a filename of its own registered with `linecache`
(as dataclasses and attrs do), so tracebacks through generated functions show their lines.
"""
from __future__ import annotations

import builtins
import itertools
import linecache

_loaded = itertools.count(1)


def load_python(source: str, name: str = "f"):
    """``(f, grad_f)`` from emitted python or numpy source, executed in a fresh namespace.

    The code gets a filename of its own registered with `linecache` (as dataclasses and attrs
    do), so tracebacks through the generated functions show their lines.
    """
    namespace = load_namespace(source, name)
    return namespace[name], namespace[f"grad_{name}"]


def load_namespace(source: str, name: str = "f") -> dict:
    """The globals of emitted python after running it (see `load_python`)."""
    filename = f"<exprgrad generated {name} #{next(_loaded)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    code = compile(source, filename, "exec")
    namespace = {"__builtins__": builtins}
    exec(code, namespace)  # safe: emit() wrote it; user text is only renamed names + comments
    return namespace



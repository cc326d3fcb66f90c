"""Loading generated Python: emitted source text → live functions.

Input: python or numpy source that `emit` wrote.  Output: its namespace (or ``(f, grad_f)``),
executed in a fresh module namespace under a filename of its own registered with `linecache`
(as dataclasses and attrs do), so tracebacks through generated functions show their lines.
The entry lives as long as the functions do: it is dropped when they are garbage, so a
program that compiles 20,000 functions and drops them does not keep 20,000 sources.
"""
from __future__ import annotations

import builtins
import itertools
import linecache
import sys
import types
import weakref

_loaded = itertools.count(1)
_dead: list[str] = []       # entries to drop at the next load (see `_forget`)


def _forget(filename: str) -> None:
    """Drop a collected module's linecache entry.  The collector runs finalizers wherever it
    is triggered, also inside `linecache.checkcache` (pdb and doctest call it), whose loop
    then fails with a KeyError for an entry removed under it: there, the entry is left for
    the next load to drop."""
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code is _CHECKCACHE:
            _dead.append(filename)
            return
        frame = frame.f_back
    linecache.cache.pop(filename, None)


_CHECKCACHE = linecache.checkcache.__code__


def load_python(source: str, name: str = "f"):
    """``(f, grad_f)`` from emitted python or numpy source, executed in a fresh namespace.

    The code gets a filename of its own registered with `linecache` (as dataclasses and attrs
    do), so tracebacks through the generated functions show their lines.
    """
    namespace = load_namespace(source, name)
    return namespace[name], namespace[f"grad_{name}"]


def load_namespace(source: str, name: str = "f") -> dict:
    """The globals of emitted python after running it (see `load_python`)."""
    while _dead:
        linecache.cache.pop(_dead.pop(), None)
    filename = f"<exprgrad generated {name} #{next(_loaded)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    code = compile(source, filename, "exec")
    namespace = {"__builtins__": builtins}
    exec(code, namespace)  # safe: emit() wrote it; user text is only renamed names + comments
    # Every function of the module holds the namespace (its __globals__), which holds them
    # all: they become garbage together, and the first one's end is the module's end.
    first = next((v for v in namespace.values() if isinstance(v, types.FunctionType)), None)
    if first is None:
        linecache.cache.pop(filename, None)
    else:
        weakref.finalize(first, _forget, filename).atexit = False
    return namespace



"""Generated Python's source lives exactly as long as its functions (codegen/load.py): tracebacks
through a live generated function show its lines, and 20,000 loads leave nothing behind in
`linecache` once their functions are gone."""
from __future__ import annotations

import gc
import linecache
import os
import traceback
import types
import weakref

import exprgrad as eg
from exprgrad.codegen import load_namespace, load_python


def generated() -> set[str]:
    return {k for k in linecache.cache if k.startswith("<exprgrad generated")}


def test_a_traceback_inside_generated_code_shows_its_source_line():
    f, grad_f = load_python(eg.compile("y = log(x)*2").to_source("python"))
    try:
        f(-1.0)
    except ValueError:
        frames = traceback.extract_tb(__import__("sys").exc_info()[2])
    else:
        raise AssertionError("log(-1) did not raise")
    last = frames[-1]
    assert last.filename.startswith("<exprgrad generated") and "log(x)" in last.line
    assert "log(x)" in traceback.format_list([last])[0]


def test_twenty_thousand_loads_leave_no_source_behind():
    source = eg.compile("tanh(x)*y").to_source("python")
    gc.collect()
    before = generated()
    alive = []
    for i in range(20_000):
        namespace = load_namespace(source)
        if i % 1000 == 0:
            alive.append(weakref.ref(namespace["f"]))
        del namespace
    kept_f, _ = load_python(source)                        # one still in use
    gc.collect()
    assert all(ref() is None for ref in alive)
    left = generated() - before
    assert len(left) == 1, len(left)
    assert "def f(" in "".join(linecache.getlines(next(iter(left))))
    del kept_f, _
    gc.collect()
    assert generated() - before == set()


def test_a_module_collected_inside_linecache_checkcache_does_not_break_it(monkeypatch):
    # pdb and doctest call linecache.checkcache(), which stats each file it caches: a
    # collection there ran the finalizer that dropped a generated entry still ahead in its
    # loop, and it failed with a KeyError (test_doctests did, after other tests).
    linecache.getlines(__file__)                     # a real file, checked by os.stat
    before = generated()
    namespace = load_namespace(eg.compile("tanh(x)*y").to_source("python"))
    mine = generated() - before
    ref = weakref.ref(namespace["f"])
    del namespace                                    # a cycle: only the collector frees it

    def stat(path):                                  # the collector runs inside the loop
        gc.collect()
        return os.stat(path)
    monkeypatch.setattr(linecache, "os", types.SimpleNamespace(stat=stat))
    linecache.checkcache()
    monkeypatch.undo()
    assert ref() is None and len(mine) == 1
    load_namespace("def f():\n    return 1\n")     # the next load drops its entry
    assert not mine & generated()

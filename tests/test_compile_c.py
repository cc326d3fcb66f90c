"""`Function.compile_c` (exprgrad/native.py): the emitted C built into a shared library, cached
on disk by content, called over numpy arrays in a C loop — against the array path, across
processes, with OpenMP threads, and with no compiler at all."""
from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import exprgrad as eg
from exprgrad.errors import CodegenError, VariableError

from corpus import NEURON

ROOT = Path(__file__).resolve().parent.parent
needs_cc = pytest.mark.skipif(not any(map(shutil.which, ("cc", "gcc", "clang"))),
                              reason="no C compiler (CI has one)")


@pytest.fixture
def cache(tmp_path, monkeypatch):
    d = tmp_path / "cache"
    monkeypatch.setenv("EXPRGRAD_CACHE_DIR", str(d))
    return d


def _close(a, b, rel=1e-14):
    a, b = np.broadcast_arrays(np.asarray(a), np.asarray(b))
    return a.shape == b.shape and bool(np.all(np.abs(a - b) <= rel * np.maximum(1, np.abs(b))))


@needs_cc
def test_neuron_over_arrays_matches_the_array_path_and_threads_agree(cache):
    f = eg.compile(NEURON)
    rng = np.random.default_rng(0)
    point = {v: rng.uniform(-2, 2, 20_000) for v in f.variables}
    c = f.compile_c()
    assert c.compiled and c.path.parent == cache
    value, grads = c(**point)
    want_v, want_g = f.grad(**point)
    assert value.shape == (20_000,) and _close(value, want_v)
    assert list(grads) == list(f.variables) and all(_close(grads[k], want_g[k]) for k in grads)
    value2, grads2 = f.compile_c(threads=2)(**point)          # OpenMP: the same floats
    assert np.array_equal(value2, value) and all(np.array_equal(grads2[k], grads[k])
                                                 for k in grads)


@needs_cc
def test_broadcasting_numbers_strided_views_and_wrt(cache):
    f = eg.compile("x*w + sin(b)*x")
    c = f.compile_c(wrt=["w", "b"])
    x = np.arange(12.0).reshape(3, 4)[:, ::2]            # not contiguous
    w = np.array([[1.0], [2.0], [3.0]])                   # (3, 1)
    value, grads = c(x=x, w=w, b=0.5)
    assert value.shape == (3, 2) and list(grads) == ["w", "b"]
    assert _close(value, x * w + np.sin(0.5) * x)
    assert _close(grads["w"], np.broadcast_to(x, (3, 2)))
    assert _close(grads["b"], np.cos(0.5) * x)
    v, g = c(0.5, 2.0, 3.0)                               # positional (b, w, x), all numbers
    assert _close(v, 6 + np.sin(0.5) * 3) and g["w"] == 3.0


@needs_cc
def test_bad_input_names_the_variable(cache):
    c = eg.compile("x*y").compile_c()
    with pytest.raises(VariableError, match="value of x .*ragged"):
        c(x=[[1.0], [1.0, 2.0]], y=1.0)
    with pytest.raises(VariableError, match="shapes do not broadcast together: x \\(3,\\), "
                                            "y \\(2,\\)"):
        c(x=np.ones(3), y=np.ones(2))
    with pytest.raises(VariableError, match="missing values for y"):
        c(x=1.0)


@needs_cc
def test_a_second_process_reuses_the_library_without_compiling(cache):
    f = eg.compile(NEURON)
    first = f.compile_c()
    assert first.compiled and stat.S_IMODE(cache.stat().st_mode) == 0o700
    code = ("import exprgrad as eg, sys; c = eg.compile(sys.argv[1]).compile_c(); "
            "print(c.compiled, c.path); print(c(1.0, 2.0, 3.0, 0.5, 0.25)[0])")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "EXPRGRAD_CACHE_DIR": str(cache)}
    out = subprocess.run([sys.executable, "-c", code, NEURON], capture_output=True, text=True,
                         env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    compiled, path = out.stdout.split("\n")[0].split()
    assert compiled == "False" and path == str(first.path)
    assert float(out.stdout.split("\n")[1]) == float(first(1.0, 2.0, 3.0, 0.5, 0.25)[0])
    assert not any(p.name.startswith(".build-") for p in cache.iterdir())


def test_no_compiler_is_a_clear_codegen_error(cache, tmp_path, monkeypatch):
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.delenv("CC", raising=False)
    with pytest.raises(CodegenError, match="compile_c needs a C compiler: none of cc, gcc, "
                                           "clang is on PATH"):
        eg.compile("x*y").compile_c()
    monkeypatch.setenv("CC", "no-such-cc -O1")
    with pytest.raises(CodegenError, match="the C compiler in \\$CC .*no-such-cc"):
        eg.compile("x*y").compile_c()


@needs_cc
def test_a_cache_directory_others_may_write_is_refused(cache):
    cache.mkdir(mode=0o777)
    os.chmod(cache, 0o777)
    with pytest.raises(CodegenError, match="writable by others"):
        eg.compile("x*y").compile_c()

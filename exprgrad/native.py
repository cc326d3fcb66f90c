"""Compiled C from Python: a graph → the emitted C plus a loop → a shared library, cached on
disk → a callable that evaluates value and gradient over numpy arrays in a C loop.

Input: a forward graph (``Function.ir``), the variables to differentiate by, and a number of
threads.  Output: `CompiledC`, called like ``f.grad`` (by name or position, numbers and numpy
arrays that broadcast together) → ``(value, {variable: partial})``, float64 arrays of the
broadcast shape; the loop over points runs in C (OpenMP threads with ``threads > 1``), with
the GIL released.

The library is the C backend's ``grad_f`` (codegen/c.py) and a driver emitted per program: one
pointer and one stride per variable, hoisted out of the loop (a number or a size-1 array is
read with stride 0; an array of the broadcast shape that is C-contiguous float64 is used as it
is, anything else is broadcast into a contiguous copy first), and the value and partials
written into one ``(1 + partials, n)`` block.  It is compiled with the system compiler (``$CC``,
else ``cc``, ``gcc``, ``clang`` on PATH; ``-O2``, IEEE: no fast-math) into the cache directory
(``$EXPRGRAD_CACHE_DIR``, else ``$XDG_CACHE_HOME/exprgrad``, else ``~/.cache/exprgrad``; created
0700, refused if another user owns it or others may write to it: loading a planted library
would run its code), under the sha256 of everything that shapes the binary (source, compiler
path and modification time, flags, machine).  A build goes to a temporary file renamed into
place, so concurrent processes see no library or a whole one, and a later process loads it
without compiling.  Unix only (a shared library loaded with ctypes).
"""
from __future__ import annotations

import ctypes
import hashlib
import os
import platform
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Sequence

import numpy as np

from .errors import CodegenError, VariableError

CFLAGS = ("-O2", "-shared", "-fPIC", "-std=c99", "-fvisibility=hidden",
          "-fno-semantic-interposition")
ABI = 1             # bump when the driver's calling convention changes
LOOP = "exprgrad_grad_loop"


def cache_dir() -> Path:
    """Where compiled libraries are kept (see the module docstring)."""
    if os.environ.get("EXPRGRAD_CACHE_DIR"):
        return Path(os.environ["EXPRGRAD_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "exprgrad"


def find_compiler() -> list[str]:
    """The compiler command: ``$CC`` (it may hold words, "ccache gcc"), else the first of cc,
    gcc, clang on PATH; a CodegenError saying what to install otherwise."""
    cc = os.environ.get("CC", "").strip()
    if cc:
        words = shlex.split(cc)
        if shutil.which(words[0]) is None:
            raise CodegenError(f"the C compiler in $CC ({cc!r}) was not found on PATH")
        return words
    for name in ("cc", "gcc", "clang"):
        if shutil.which(name):
            return [name]
    raise CodegenError("compile_c needs a C compiler: none of cc, gcc, clang is on PATH "
                       "(install one, e.g. apt-get install gcc, or set CC)")


def driver(n_vars: int, n_grads: int) -> str:
    """The loop over points, unrolled per variable (a generic ``in[j][i * stride[j]]`` loop
    measured 1.19× the hand-written loop; hoisted restrict pointers 0.85×)."""
    lines = ["", "/* ---- the loop over points (exprgrad compile_c) ---- */",
             "__attribute__((visibility(\"default\"))) int exprgrad_abi(void) "
             f"{{ return {ABI}; }}", "",
             f"__attribute__((visibility(\"default\"))) void {LOOP}(long n, "
             "const double *const *in, const long *stride, double *const *out, int threads)",
             "{"]
    lines += [f"    const double *restrict p{j} = in[{j}]; const long s{j} = stride[{j}];"
              for j in range(n_vars)]
    lines += [f"    double *restrict o{j} = out[{j}];" for j in range(n_grads + 1)]
    point = ", ".join(f"p{j}[i * s{j}]" for j in range(n_vars)) or "0.0"
    lines += ["    (void)in; (void)stride; (void)threads;",
              "#ifdef _OPENMP",
              "    #pragma omp parallel for schedule(static) num_threads(threads) "
              "if(threads > 1 && n > 4096)",
              "#endif",
              "    for (long i = 0; i < n; i++) {",
              f"        const double x[{max(n_vars, 1)}] = {{{point}}};",
              f"        double g[{max(n_grads, 1)}];",
              "        o0[i] = grad_f(x, g);"]
    lines += [f"        o{1 + j}[i] = g[{j}];" for j in range(n_grads)]
    lines += ["    }", "}"]
    return "\n".join(lines) + "\n"


def _private_dir() -> Path:
    d = cache_dir()
    d.mkdir(mode=0o700, parents=True, exist_ok=True)
    st = d.stat()
    if hasattr(os, "getuid") and st.st_uid != os.getuid() \
            or st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise CodegenError(f"the cache directory {d} belongs to another user or is writable by "
                           "others; set EXPRGRAD_CACHE_DIR to a private directory")
    return d


def build(source: str, openmp: bool) -> tuple[Path, bool]:
    """(the shared library for `source`, whether it was compiled now)."""
    cc = find_compiler()
    flags = list(CFLAGS) + (["-fopenmp"] if openmp else [])
    found = shutil.which(cc[0]) or cc[0]
    ident = f"{os.path.realpath(found)} {os.stat(found).st_mtime_ns}"
    key = hashlib.sha256("\0".join([source, " ".join(cc), ident, " ".join(flags), str(ABI),
                                    platform.machine(), sys.platform]).encode()).hexdigest()
    d = _private_dir()
    lib = d / f"eg_{key[:32]}.so"
    if lib.exists():
        return lib, False
    with tempfile.TemporaryDirectory(dir=d, prefix=".build-") as tmp:
        src, out = Path(tmp) / "f.c", Path(tmp) / lib.name
        src.write_text(source, encoding="utf-8")
        try:
            proc = subprocess.run([*cc, *flags, "-o", str(out), str(src), "-lm"],
                                  capture_output=True, text=True)
        except OSError as exc:
            raise CodegenError(f"could not run the C compiler {cc[0]!r}: {exc}") from None
        if proc.returncode != 0:
            hint = " (is OpenMP available? threads=1 builds without it)" \
                if openmp and "omp" in proc.stderr.lower() else ""
            raise CodegenError(f"{' '.join(cc)} failed{hint}:\n{proc.stderr.strip()[-2000:]}")
        os.replace(out, lib)        # atomic: another process sees no file or a whole one
    return lib, True


class CompiledC:
    """Value and gradient of a program over numpy arrays, looping in C (see the module
    docstring).  ``path``: the shared library; ``compiled``: whether this process built it."""

    def __init__(self, graph, wrt: Sequence[str] | None = None, threads: int = 1):
        from . import codegen
        if not isinstance(threads, int) or threads < 1:
            raise ValueError(f"threads must be a positive integer, not {threads!r}")
        prog = codegen.build(graph, "reverse", wrt)
        self.variables, self.wrt, self.threads = tuple(prog.params), tuple(prog.wrt), threads
        source = codegen.emit(graph, "c", name="f", wrt=wrt) \
            + driver(len(self.variables), len(self.wrt))
        self.path, self.compiled = build(source, openmp=threads > 1)
        lib = ctypes.CDLL(str(self.path))
        if lib.exprgrad_abi() != ABI:
            raise CodegenError(f"{self.path} is not a library of this exprgrad; delete it")
        self._loop = getattr(lib, LOOP)
        self._loop.restype = None
        self._loop.argtypes = [ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
                               ctypes.c_int]
        self._lib = lib
        self._in = ctypes.c_void_p * max(1, len(self.variables))
        self._out = ctypes.c_void_p * (1 + len(self.wrt))

    def __repr__(self) -> str:
        return (f"<exprgrad.CompiledC grad over {', '.join(self.variables[:6])}"
                f"{', ...' if len(self.variables) > 6 else ''}; threads={self.threads}>")

    def __call__(self, /, *args, **values) -> tuple:
        """``(value, {variable: partial})`` at every point: float64 arrays of the arguments'
        broadcast shape (all numbers: numpy float64 scalars)."""
        from .arrays import to_numpy
        if len(args) > len(self.variables):
            raise VariableError(f"expected at most {len(self.variables)} positional values, "
                                f"got {len(args)}")
        values = {**dict(zip(self.variables, args)), **values}
        missing = [v for v in self.variables if v not in values]
        unknown = sorted(set(values) - set(self.variables))
        if missing or unknown:
            raise VariableError(f"missing values for {', '.join(missing)}" if missing else
                                f"unknown variables {', '.join(unknown)}; the variables are "
                                f"{', '.join(self.variables)}")
        nv = len(self.variables)
        scalars = np.empty(max(1, nv))             # numbers, read with stride 0
        strides = np.zeros(max(1, nv), dtype=np.int64)
        pointers = [scalars.ctypes.data + 8 * j for j in range(nv)]
        columns = []
        for j, name in enumerate(self.variables):
            x = to_numpy(name, values[name])
            if x.size == 1:
                scalars[j] = x.reshape(())
            else:
                columns.append((j, name, x))
        try:
            shape = np.broadcast_shapes(*(x.shape for _, _, x in columns))
        except ValueError:
            listed = ", ".join(f"{name} {x.shape}" for _, name, x in columns)
            raise VariableError(f"the arrays' shapes do not broadcast together: {listed}") \
                from None
        keep = []
        for j, _, x in columns:
            if x.shape != shape or not x.flags.c_contiguous:
                x = np.ascontiguousarray(np.broadcast_to(x, shape))
            keep.append(x)
            pointers[j], strides[j] = x.ctypes.data, 1
        n = int(np.prod(shape, dtype=np.int64))
        out = np.empty((1 + len(self.wrt), n))
        base, row = out.ctypes.data, 8 * n
        self._loop(n, self._in(*pointers), strides.ctypes.data,
                   self._out(*range(base, base + row * out.shape[0], row)) if n else
                   self._out(*[base] * out.shape[0]), self.threads)
        out = out.reshape((out.shape[0], *shape))
        return out[0], dict(zip(self.wrt, out[1:]))

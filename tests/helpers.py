"""Helpers shared by the test modules: running the command line, compiling emitted C, comparing
floats.  (tests/ is on sys.path, see pyproject.toml: ``from helpers import run_cli``.)

- `run_cli(*argv, stdin=None)` runs ``exprgrad.cli.main(argv)`` in this process with captured
  streams, as the real process would show them: exit status (``SystemExit`` from argparse
  included), stdout, stderr, and any warning that escapes the CLI written to stderr the way
  Python's default filters show it.  An exception the CLI does not turn into a message
  propagates, so the test fails where the real process would print a traceback.
- `run_process(*argv, ...)` runs ``python -m exprgrad`` in a subprocess: for the few tests where
  the process boundary is the point (the real entry point's exit status, a traceback on
  stderr, stdin, encodings, environment variables such as PYTHONHASHSEED).
- `run_example(name, argv, capsys)`: an example script's ``main(argv)``, in this process.
- `compile_c`, `call_c`, `needs_cc`: emitted C, built with the warnings as errors and called
  through ctypes.
- `close(a, b, rel, abs_tol, nan)`: floats equal to a tolerance (NaN equal to NaN by default).
"""
from __future__ import annotations

import contextlib
import ctypes
import importlib.util
import io
import math
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from exprgrad import cli

ROOT = Path(__file__).resolve().parent.parent


# ---- the command line ---------------------------------------------------------------------

class Result:
    """What a run of the CLI left behind: the attributes of `subprocess.CompletedProcess`, and
    it unpacks as ``status, stdout, stderr``."""

    def __init__(self, returncode, stdout: str, stderr: str):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr

    def __iter__(self):
        return iter((self.returncode, self.stdout, self.stderr))

    def __repr__(self):
        return f"Result(returncode={self.returncode!r}, stderr={self.stderr[-400:]!r})"


# Python's own warning filters when no -W option is given (Python 3.11, not a debug build).
_DEFAULT_FILTERS = (("ignore", DeprecationWarning), ("ignore", PendingDeprecationWarning),
                    ("ignore", ImportWarning), ("ignore", ResourceWarning))


def run_cli(*argv: str, stdin: str | None = None) -> Result:
    """``exprgrad ARGV`` in this process (see the module doc)."""
    out, err = io.StringIO(), io.StringIO()
    old_stdin = sys.stdin
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
            warnings.catch_warnings(record=True) as caught:
        warnings.resetwarnings()
        warnings.simplefilter("default")
        for action, category in _DEFAULT_FILTERS:
            warnings.filterwarnings(action, category=category)
        if stdin is not None:
            sys.stdin = io.StringIO(stdin)
        try:
            status = cli.main(list(argv))
        except SystemExit as exc:
            status = exc.code
        finally:
            sys.stdin = old_stdin
    shown = "".join(warnings.formatwarning(w.message, w.category, w.filename, w.lineno)
                    for w in caught)
    return Result(status, out.getvalue(), err.getvalue() + shown)


def run_process(*argv: str, stdin: str | None = None, env: dict | None = None,
                cwd=None) -> subprocess.CompletedProcess:
    """``python -m exprgrad ARGV`` in a subprocess that imports this checkout's exprgrad."""
    env = dict(os.environ if env is None else env)
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run([sys.executable, "-m", "exprgrad", *argv], capture_output=True,
                          text=True, input=stdin, env=env, cwd=cwd or ROOT, timeout=120)


def run_python(code: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """``python -c CODE`` in a subprocess that imports this checkout's exprgrad."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=timeout)


def run_example(name: str, argv: list[str], capsys) -> tuple[int, str]:
    """``examples/NAME``'s ``main(argv)`` in this process: (exit status, its stdout)."""
    spec = importlib.util.spec_from_file_location(f"example_{Path(name).stem}",
                                                  ROOT / "examples" / name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    status = module.main(argv)
    return status, capsys.readouterr().out


# ---- C through ctypes ---------------------------------------------------------------------

CC = shutil.which("cc") or shutil.which("gcc")
needs_cc = pytest.mark.skipif(CC is None, reason="no C compiler (CI has one)")
C_FLAGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-O2", "-shared", "-fPIC"]


def compile_c(sources: list[str], tmp_path: Path, flags: tuple[str, ...] = ()) -> ctypes.CDLL:
    """The sources as one shared library, compiled warning-free (-Wall -Wextra -Werror), with
    `flags` added."""
    path = tmp_path / "gen.c"
    path.write_text("\n".join(sources), encoding="utf-8")
    lib = tmp_path / "libgen.so"
    result = subprocess.run([CC, *C_FLAGS, *flags, str(path), "-o", str(lib), "-lm"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return ctypes.CDLL(str(lib))


def call_c(lib, name: str, xs: list[float]) -> tuple[float, list[float]]:
    """``grad_NAME(xs)``: the value and the gradient; ``NAME(xs)`` must give the same value
    (NaN where it is NaN)."""
    fn = getattr(lib, f"grad_{name}")
    fn.restype = ctypes.c_double
    fn.argtypes = [ctypes.POINTER(ctypes.c_double), ctypes.POINTER(ctypes.c_double)]
    ins = (ctypes.c_double * max(1, len(xs)))(*xs)
    outs = (ctypes.c_double * max(1, len(xs)))()
    value = fn(ins, outs)
    plain = getattr(lib, name)
    plain.restype = ctypes.c_double
    plain.argtypes = [ctypes.POINTER(ctypes.c_double)]
    assert close(plain(ins), value, rel=0.0)
    return value, list(outs)[:len(xs)]


# ---- floats -------------------------------------------------------------------------------

def close(a: float, b: float, rel: float = 1e-12, abs_tol: float | None = None,
          nan: bool = True) -> bool:
    """`a` and `b` agree to `rel` (absolute `abs_tol`, default `rel`, near zero); two NaNs
    agree unless ``nan=False``."""
    tol = rel if abs_tol is None else abs_tol
    return (math.isclose(a, b, rel_tol=rel, abs_tol=tol)
            or (nan and math.isnan(a) and math.isnan(b)))

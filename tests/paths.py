"""Every path a program's numbers can take, and the numeric policy that relates them.

`run_paths(programs, tmp_path)` compiles each ``(text, point)`` once and evaluates it through

- the library: ``f.grad(**point)``, ``f.grad(*xs)`` (positional), ``f(**point)``;
- the `Value` DAG: ``f.graph(**point)`` (the registry's rules run on floats);
- emitted Python (``f.to_source("python")``, loaded standalone);
- emitted NumPy on arrays (shape (1,)) and on Python floats;
- emitted C (all programs of a call in one shared library, called through ctypes);

and `violations(text, outcomes)` lists what breaks the policy, each naming its rule (`RULES`,
the rows of README's policy table).  An outcome is ``("ok", value, partials)`` or
``("raise", exception name)``; anything else a path raises is a crash, always a violation.
"""
from __future__ import annotations

import math
import re
import tempfile
from pathlib import Path

import numpy as np

import exprgrad as eg
from exprgrad import codegen
from exprgrad.api import _leaves
from exprgrad.ops import FLOAT_ERRORS

from helpers import call_c, compile_c

SCALAR = ("f.grad", "f.grad positional", "Value DAG", "emitted Python")
ARRAY = ("NumPy arrays", "NumPy scalars", "C")

RULES = {
    "scalar": "the scalar paths (f(), f.grad, positional, the Value DAG, emitted Python) give "
              "the same floats bit for bit, or all raise",
    "array": "NumPy (arrays and scalars) and C give the same floats bit for bit",
    "defined": "where the scalar paths give numbers, NumPy and C give the same numbers (hypot, "
               "and atan2's partials, which divide by it: within an ulp, as CPython's "
               "math.hypot is its own algorithm, not the C library's, which NumPy and C call)",
    "zero sign": "the sign of a zero partial derivative is unspecified (the Value DAG "
                 "accumulates from +0.0)",
    "numpy functions": "NumPy's tanh is its own, and NumPy computes a ** c for a constant c "
                       "of 2, -1 or 0.5 as a*a, 1/a, sqrt(a) on arrays: each within an ulp "
                       "of the C library's, so programs with tanh or a power agree to 1e-9 "
                       "relative in NumPy; at a = -inf, sqrt's nan against C's "
                       "pow(-inf, 0.5) = +inf",
    "no crash": "every path ends in numbers or in the documented error (DomainError; emitted "
                "Python: math's ValueError, ZeroDivisionError, OverflowError)",
    "value": "f() gives the value f.grad gives, and raises only where emitted Python's f does",
}


def _raised(exc: BaseException) -> tuple:
    if isinstance(exc, (eg.DomainError, *FLOAT_ERRORS)):
        return ("raise", type(exc).__name__)
    return ("crash", f"{type(exc).__name__}: {exc}")


def _run(fn) -> tuple:
    try:
        value, partials = fn()
    except Exception as exc:       # noqa: BLE001 - every exception is an outcome here
        return _raised(exc)
    return ("ok", float(value), tuple(float(p) for p in partials))


def _scalar_paths(f, point: dict, out: dict) -> None:
    names = f.variables
    xs = [point[v] for v in names]
    out["f.grad"] = _run(lambda: (lambda r: (r[0], [r[1][v] for v in names]))(f.grad(**point)))
    out["f.grad positional"] = _run(
        lambda: (lambda r: (r[0], [r[1][v] for v in names]))(f.grad(*xs)))
    out["f()"] = _run(lambda: (f(**point), ()))

    def dag():
        root = f.graph(**point)
        leaves = _leaves(root)
        return root.data, [leaves[v].grad if v in leaves else 0.0 for v in names]
    out["Value DAG"] = _run(dag)
    ns = codegen.load_namespace(f.to_source("python"))
    out["emitted Python"] = _run(lambda: ns["grad_f"](*xs))
    out["emitted Python f"] = _run(lambda: (ns["f"](*xs), ()))
    np_ns = codegen.load_namespace(f.to_source("numpy"))

    def numpy(args):
        with np.errstate(all="ignore"):
            value, partials = np_ns["grad_f"](*args)
        found = [np.asarray(a) for a in (value, *partials)]
        if any(np.iscomplexobj(a) or a.dtype != np.float64 for a in found):
            raise TypeError(f"NumPy returned {[a.dtype for a in found]}")
        return found[0].ravel()[0], [a.ravel()[0] for a in found[1:]]
    out["NumPy arrays"] = _run(lambda: numpy([np.array([x]) for x in xs]))
    out["NumPy scalars"] = _run(lambda: numpy(xs))


def run_paths(programs: list[tuple[str, dict]], tmp_path) -> list[dict]:
    """``{path: outcome}`` for each program; C for all of them through one compile."""
    results, sources, calls = [], [], []
    for k, (text, point) in enumerate(programs):
        out: dict = {}
        f = eg.compile(text)
        _scalar_paths(f, point, out)
        sources.append(f.to_source("c", name=f"p{k}"))
        calls.append((k, [point[v] for v in f.variables]))
        results.append(out)
    # A directory of its own: dlopen returns the library already loaded from the same path.
    # -fno-builtin: GCC would evaluate math calls of constants itself, correctly rounded,
    # where the C library (and so every other path) may be an ulp away (README's policy).
    lib = compile_c(sources, Path(tempfile.mkdtemp(dir=tmp_path)), ("-fno-builtin",))
    for k, xs in calls:
        value, partials = call_c(lib, f"p{k}", xs)
        results[k]["C"] = ("ok", value, tuple(partials))
    return results


# ---- the policy ----------------------------------------------------------------------------

def same_float(a: float, b: float, signed: bool = True) -> bool:
    """Bitwise the same double (any NaN equals any NaN); `signed=False`: 0.0 == -0.0."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b and (not signed or math.copysign(1, a) == math.copysign(1, b))


def _near(a: float, b: float) -> bool:
    # nan against +inf: NumPy's sqrt(-inf) where C's pow(-inf, 0.5) is +inf (the soak found
    # pow(-(z ** y), 0.5) with z ** y overflowing)
    return same_float(a, b, signed=False) or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-300) \
        or {str(a), str(b)} == {"nan", "inf"}


def same_outcome(a: tuple, b: tuple, close: bool = False) -> bool:
    """Same kind; numbers bitwise (partials' zero signs aside, `RULES["zero sign"]`) or,
    with `close`, to 1e-9 (`RULES["numpy functions"]`).  Two raises agree whatever their class."""
    if a[0] != b[0]:
        return False
    if a[0] != "ok":
        return True
    eq = _near if close else same_float
    return (eq(a[1], b[1]) and len(a[2]) == len(b[2])
            and all(_near(p, q) if close else same_float(p, q, signed=False)
                    for p, q in zip(a[2], b[2])))


def violations(case: tuple[str, dict], out: dict) -> list[str]:
    """The policy rules `out` (the outcomes of ``case = (text, point)``) breaks, each as a
    message."""
    text, point = case
    found = []

    def fail(rule: str, paths: tuple, detail: str = ""):
        shown = "; ".join(f"{p}: {out[p]}" for p in paths)
        found.append(f"{text!r} at {point} breaks policy rule {rule!r} ({RULES[rule]}): {shown} {detail}")
    crashed = tuple(p for p, o in out.items() if o[0] == "crash")
    if crashed:
        fail("no crash", crashed)
    ref = out["f.grad"]
    for p in SCALAR[1:]:
        if not same_outcome(out[p], ref):
            fail("scalar", ("f.grad", p))
    value = out["emitted Python f"]
    if value[0] != out["f()"][0] or (value[0] == "ok" and not same_float(value[1],
                                                                       out["f()"][1])) \
            or (ref[0] == "ok" and not same_outcome(out["f()"], ("ok", ref[1], ()))):
        fail("value", ("f()", "emitted Python f", "f.grad"))
    close = re.search(r"\btanh\b|\*\*|\^|\bpow\(", text) is not None
    # CPython's math.hypot is its own algorithm; the C library's (NumPy's and C's) may be an
    # ulp away from it, so the scalar paths and the array paths agree to 1e-9 relative there.
    # atan2's partials divide by hypot(x, y) (its rule in ops.py): the same ulp there
    own_hypot = re.search(r"\b(hypot|atan2)\(", text) is not None
    if not same_outcome(out["NumPy arrays"], out["NumPy scalars"], close):
        fail("array", ("NumPy arrays", "NumPy scalars"))
    if not same_outcome(out["NumPy arrays"], out["C"], close):
        fail("array", ("NumPy arrays", "C"))
    if ref[0] == "ok":
        for p in ARRAY:
            if not same_outcome(out[p], ref, close=(close and p != "C") or own_hypot):
                fail("defined", ("f.grad", p))
    return found

"""The array backend: array API code that computes with the array library of its arguments.

Input: the statements the printer chose.  Output: a module that needs only numpy (and
``array-api-compat`` for libraries that lack ``__array_namespace__``).  Every function starts
with ``xp, dt, dev, (x1, ...) = _inputs(x1, ...)``: ``xp`` is the array namespace of the
arguments (the Python array API standard, https://data-apis.org/array-api/), ``dt`` their
floating dtype and ``dev`` their device, and every argument — Python numbers and lists too —
becomes an array of that library.  So numpy, Dask, PyTorch, JAX (also under ``jax.jit``) and
CuPy arrays come back as arrays of the same library on the same device, a Dask graph stays
lazy, and nothing is copied to numpy.  The op forms are the registry's ``array`` forms
(``Op.code["array"]``, spelled with ``xp.``), the same ones the numpy backend prints with
``np.``; a constant subexpression is array arithmetic too (``xp.asarray(0.5, ...) / ...``:
``1/0`` is inf, not ZeroDivisionError).

Dtypes: a floating input keeps its dtype (float32 stays float32); integers, booleans and Python
numbers become float64 (JAX: only with ``jax_enable_x64``).  Without any array argument the
function computes with numpy in float64, like the numpy backend.
"""
from __future__ import annotations

import dataclasses

from .numpy import NUMPY
from .numpy import RESERVED as NUMPY_RESERVED

#: the helpers the prelude defines, and the locals every function binds
HELPERS = ("xp", "dt", "dev", "np", "_inputs", "_library", "_NUMBERS", "_compat_namespace",
           "_compat_device")
RESERVED = NUMPY_RESERVED | frozenset(HELPERS)

PRELUDE = '''\
import numpy as np

try:    # Dask arrays and PyTorch tensors reach the array API through array-api-compat
    from array_api_compat import array_namespace as _compat_namespace, device as _compat_device
except ImportError:
    _compat_namespace = _compat_device = None

_NUMBERS = (int, float, np.generic, list, tuple)    # converted, never asked for a namespace


def _library(a):
    """The array API namespace of one array argument."""
    if hasattr(a, "__array_namespace__"):            # numpy >= 2, JAX (jit too), CuPy
        return a.__array_namespace__()
    if _compat_namespace is None:
        raise TypeError(f"{type(a).__module__}.{type(a).__name__} has no __array_namespace__: "
                        "pip install array-api-compat")
    return _compat_namespace(a)


def _inputs(*args):
    """(xp, dt, dev, arguments): the array library of the arguments, their floating dtype
    (integer data becomes float64), their device, and every argument as an array of that
    library.  numpy arrays beside another library's arrays join it; no array at all: numpy,
    float64."""
    arrays = [a for a in args if not isinstance(a, _NUMBERS)]
    if not arrays:
        return np, np.float64, "cpu", [np.asarray(a, dtype=np.float64) for a in args]
    spaces = {}                         # type -> (namespace, first argument of that type)
    for a in arrays:
        if type(a) not in spaces:
            spaces[type(a)] = (_library(a), a)
    if len(spaces) > 1:
        spaces.pop(np.ndarray, None)
    if len(spaces) > 1:
        raise TypeError("arguments from several array libraries: "
                        + ", ".join(sorted(t.__module__ + "." + t.__name__ for t in spaces)))
    (xp, first), = spaces.values()
    floating = [a.dtype for a in arrays
                if type(a) is type(first) and xp.isdtype(a.dtype, "real floating")]
    dt = xp.result_type(*floating) if floating else xp.float64
    # A jax.jit tracer has no .device: None is the library's default device.
    dev = getattr(first, "device", None) if _compat_device is None else _compat_device(first)
    return xp, dt, dev, [a if type(a) is type(first) and a.dtype == dt
                         else xp.asarray(a, dtype=dt, device=dev) for a in args]'''

#: the <math.h> functions the array API standard (2023.12) has with the same meaning, in its
#: spelling; any other (erf, cbrt, round, which rounds half to even there) is unsupported in
#: array code, said at emit time, and the library runs the numpy backend's form on numpy data
FUNCTIONS = {name: name for name in (
    "acos", "acosh", "asin", "asinh", "atan", "atan2", "atanh", "ceil", "copysign", "cos",
    "cosh", "exp", "expm1", "floor", "hypot", "log", "log10", "log1p", "log2", "nextafter",
    "pow", "signbit", "sin", "sinh", "sqrt", "tan", "tanh", "trunc")} | {"fabs": "abs"}

NOTES = (
    "Array API code: computes with the array library of its arguments and returns arrays of",
    "that library, on their device (numpy >= 2.0 and JAX arrays as they are; Dask arrays and",
    "PyTorch tensors need `pip install array-api-compat`).  Floating inputs keep their dtype;",
    "integers and Python numbers become float64 (JAX: enable jax_enable_x64 for float64).",
)


def prologue(params: list[str], used: set[str]) -> list[str]:
    # Every argument takes part in choosing the library, used or not.
    if not params:
        return ["    xp, dt, dev, _ = _inputs()"]
    names = ", ".join(params) + ("," if len(params) == 1 else "")
    return [f"    xp, dt, dev, ({names}) = _inputs({', '.join(params)})"]


ARRAY = dataclasses.replace(
    NUMPY, name="array", call="xp.{}", functions=FUNCTIONS, only_listed=True,
    imports=(PRELUDE,), reserved=RESERVED, inf="xp.inf", prologue=prologue, forms="", spell=None,
    const="xp.asarray({}, dtype=dt, device=dev)", notes=NOTES, _templates={})

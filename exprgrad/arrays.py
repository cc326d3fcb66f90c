"""The library on arrays: a `Function` called with arrays → results that are arrays.

Input: a function's graph, a program of it (value, gradient, or any other `Program`: the
second-order ones too) and one call's arguments by name, some of them arrays — numpy arrays,
any array API array (PyTorch, JAX, CuPy), Dask arrays, or nested lists of numbers.  Output: the
program's results, each an array of the arguments' library broadcast to the arguments' common
shape (a partial that does not depend on the data is expanded too, as a broadcast view, so
summing it over the batch is right).

How it runs: the program is printed once by the ``array`` backend (codegen/array.py), loaded,
and called with the arguments; so the numbers are those of ``f.to_source("array")`` (IEEE: inf
and nan where a scalar call raises a DomainError).  Dask arrays take another road: one
``map_blocks`` task per chunk, which runs the same function on the chunk's numpy blocks and
returns the results stacked in one ``(results, *shape)`` array, so the graph has one task per
chunk whatever the program's size (per statement, a 2,000-statement program builds a graph of
tens of thousands of tasks, super-linearly slowly).  Nothing is computed until the caller asks.

Bad input names its variable (`VariableError`): a ragged or non-numeric list, a complex or
string array, shapes that do not broadcast, an array library that needs array-api-compat.
`Function` sends a call here when one of its values is an array (`is_array`); plain numbers
never come here (they keep the generated scalar fast path and its exact semantics).
"""
from __future__ import annotations

import math
import weakref
from typing import Callable, Sequence

import numpy as np

from .errors import VariableError
from .interpret import any_array, is_array, is_dask as _is_dask, number, scalar  # noqa: F401

#: per Function: {program key: (program, loaded array function)}
_LOADED: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def run(function, key, make_program: Callable, point: dict, mean: bool = False) -> tuple:
    """The results of ``make_program()`` (a `Program` of `function`'s graph, built and loaded
    once per `key`) at `point` (``{variable: number or array}``, every variable), as arrays.
    Each result comes back in its shape: a scalar result is an array, a vector a tuple of
    arrays, a matrix a tuple of row tuples.  ``mean=True``: each entry's mean over the data
    instead (0-d arrays; for Dask, summed inside each chunk's task)."""
    cache = _LOADED.setdefault(function, {})
    if key not in cache:
        from . import codegen
        from .errors import CodegenError
        prog = make_program()
        try:
            ns = codegen.load_namespace(codegen.program_source(prog, "f", "array"), "f")
        except CodegenError as exc:
            # An op the array API lacks (erf): the numpy backend's own form, numpy data only.
            ns = codegen.load_namespace(codegen.program_source(prog, "f", "numpy"), "f")
            ns["_library"] = _numpy_only(str(exc))
        cache[key] = (prog, ns)
    prog, ns = cache[key]
    args = [_argument(name, point[name], ns) for name in prog.params]
    names = [p for p, a in zip(prog.params, args) if _shape(a) is not None]
    shape = _common_shape(names, [_shape(a) for a in args if _shape(a) is not None])
    if any(_is_dask(a) for a in args):
        flat = _dask_results(ns["f"], args, mean)
    else:
        flat = _flatten(prog, ns["f"](*args))
        # The results' library, chosen as the generated code chose it: numpy arrays beside
        # another library's arrays joined that library.
        given = [a for a in args if _shape(a) is not None]
        xp = ns["_library"](next((a for a in given if not isinstance(a, np.ndarray)), given[0]))
        if shape is not None:
            flat = [r if tuple(getattr(r, "shape", ())) == shape else xp.broadcast_to(
                xp.asarray(r), shape) for r in flat]
        if mean:
            flat = [xp.mean(r) for r in flat]
    return _unflatten(prog, flat)


def value(function, point: dict):
    """``f(**point)`` on arrays: the value, an array (several outputs: a tuple of arrays)."""
    from .program import forward_program
    return run(function, "value", lambda: forward_program(function.ir), point)[0]


def grad(function, point: dict, mean: bool = False) -> tuple:
    """``f.grad(**point)`` on arrays: ``(value, {variable: partial})``, arrays (``mean``: their
    means over the data, `Function.mean_grad`)."""
    from .codegen import build
    value_, partials = run(function, "grad", lambda: build(function.ir), point, mean)
    return value_, dict(zip(function.variables, partials))


# ---- arguments --------------------------------------------------------------------------------

def _shape(a):
    if isinstance(a, (int, float, np.generic)):
        return None
    shape = getattr(a, "shape", None)
    return None if shape is None or tuple(shape) == () else tuple(shape)


def _argument(name: str, value, ns: dict):
    """A value as the generated code takes it: numbers stay, lists become float64 numpy
    arrays, arrays are checked to hold real numbers; a VariableError names the variable."""
    if isinstance(value, bool) or not is_array(value):
        return number(name, value)           # a number: the scalar rules and messages
    if isinstance(value, (list, tuple)):
        return _from_list(name, value)
    if _is_dask(value):
        kind = getattr(getattr(value, "dtype", None), "kind", "f")
        if kind not in "fiub":
            raise VariableError(f"value of {name} must hold real numbers, got a Dask array of "
                                f"dtype {value.dtype}")
        return value
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "fiub":
            raise VariableError(f"value of {name} must hold real numbers, got an array of "
                                f"dtype {value.dtype}")
        return value
    try:
        xp = ns["_library"](value)
    except TypeError as exc:
        raise VariableError(f"value of {name}: {exc}") from None
    if not xp.isdtype(value.dtype, ("bool", "integral", "real floating")):
        raise VariableError(f"value of {name} must hold real numbers, got an array of dtype "
                            f"{value.dtype}")
    return value


def _numpy_only(reason: str) -> Callable:
    """`_library` of a program printed for numpy: numpy arrays only (others: the reason)."""
    def library(a):
        if isinstance(a, (np.ndarray, np.generic)):
            return np
        from .errors import CodegenError
        raise CodegenError(f"{reason}; numpy and Dask arrays work (numpy's own form)")
    return library


def _from_list(name: str, value) -> np.ndarray:
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        reason = str(exc).split("\n")[0]
        raise VariableError(f"value of {name} must be a number or an array of numbers, got "
                            f"a list that is ragged or not numeric ({reason})") from None


def to_numpy(name: str, value) -> np.ndarray:
    """A value as a float64 numpy array (a number: 0-d), for code that needs numpy's memory
    (compiled C); a VariableError names the variable."""
    if isinstance(value, bool) or not is_array(value):
        return np.asarray(number(name, value))
    if isinstance(value, (list, tuple)):
        return _from_list(name, value)
    if _is_dask(value):
        raise VariableError(f"value of {name} is a Dask array: compiled C takes numpy arrays "
                            "(f.grad computes on Dask arrays chunk by chunk)")
    if getattr(getattr(value, "dtype", None), "kind", "f") not in "fiub":
        raise VariableError(f"value of {name} must hold real numbers, got an array of dtype "
                            f"{value.dtype}")
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise VariableError(f"value of {name} cannot be read as a numpy array: {exc}") from None


def _common_shape(names: list[str], shapes: list[tuple]) -> tuple | None:
    """The broadcast shape of the array arguments (None: unknown, as for Dask arrays of
    unknown chunk sizes); shapes that do not broadcast are a VariableError naming them."""
    if not shapes or any(not isinstance(n, int) for s in shapes for n in s):
        return None
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        listed = ", ".join(f"{n} {s}" for n, s in zip(names, shapes))
        raise VariableError(f"the arrays' shapes do not broadcast together: {listed}") from None


# ---- results ----------------------------------------------------------------------------------

def _flatten(prog, out) -> list:
    """The generated function's return value as one flat list of entries."""
    results = (out,) if len(prog.results) == 1 else out
    flat = []
    for r, got in zip(prog.results, results):
        if not r.shape:
            flat.append(got)
        elif len(r.shape) == 1:
            flat.extend(got)
        else:
            flat.extend(x for row in got for x in row)
    return flat


def _unflatten(prog, flat: list) -> tuple:
    out, i = [], 0
    for r in prog.results:
        n = len(r.nodes)
        part = flat[i:i + n]
        i += n
        if not r.shape:
            out.append(part[0])
        elif len(r.shape) == 1:
            out.append(tuple(part))
        else:
            width = r.shape[1]
            out.append(tuple(tuple(part[j:j + width]) for j in range(0, n, width)))
    return tuple(out)


# ---- Dask: one task per chunk -----------------------------------------------------------------

def _dask_results(fn, args: list, mean: bool) -> list:
    import dask.array as da
    where = [i for i, a in enumerate(args) if _shape(a) is not None or _is_dask(a)]
    arrays = da.broadcast_arrays(*[da.asarray(args[i]) for i in where])
    chunks = max(arrays, key=lambda a: a.npartitions).chunks
    arrays = [a.rechunk(chunks) for a in arrays]
    template = [None if i in where else a for i, a in enumerate(args)]
    # The output dtype and count, from the function on one element of each argument's dtype.
    with np.errstate(all="ignore"):
        probe = _stacked(fn, template, where, *[np.ones(1, dtype=a.dtype) for a in arrays])
    count, ndim = probe.shape[0], arrays[0].ndim
    if mean:        # per-chunk sums inside the task, then Dask's tree reduction
        sums = da.map_blocks(_sums, fn, template, where, *arrays, new_axis=0,
                             chunks=((count,), *((1,) * len(c) for c in chunks)),
                             dtype=probe.dtype, name="exprgrad-sums",
                             meta=np.empty((0,) * (ndim + 1), dtype=probe.dtype))
        total = sums.sum(axis=tuple(range(1, ndim + 1))) / math.prod(arrays[0].shape)
        return [total[j] for j in range(count)]
    stacked = da.map_blocks(_stacked, fn, template, where, *arrays, new_axis=0,
                            chunks=((count,), *chunks), dtype=probe.dtype, name="exprgrad",
                            meta=np.empty((0,) * (ndim + 1), dtype=probe.dtype))
    return [stacked[j] for j in range(count)]


def _results(fn, template: list, where: list, blocks) -> list:
    """`fn` on one chunk's blocks (numbers from `template`): its results as one flat list."""
    args = list(template)
    for i, b in zip(where, blocks):
        args[i] = b
    out = fn(*args)
    flat = []
    for r in out if isinstance(out, tuple) else (out,):   # value, vectors, matrices' rows
        if isinstance(r, tuple):
            for x in r:
                flat.extend(x if isinstance(x, tuple) else (x,))
        else:
            flat.append(r)
    return flat


def _stacked(fn, template: list, where: list, *blocks):
    """One chunk: every result broadcast into one ``(results, *block shape)`` array."""
    flat = _results(fn, template, where, blocks)
    stacked = np.empty((len(flat),) + blocks[0].shape, dtype=np.result_type(*flat))
    for j, r in enumerate(flat):
        stacked[j] = r
    return stacked


def _sums(fn, template: list, where: list, *blocks):
    """One chunk's sum of every result, shaped ``(results, 1, ...)`` for the reduction (a
    result that is constant over the chunk is summed as a broadcast view, never expanded)."""
    flat = _results(fn, template, where, blocks)
    shape = blocks[0].shape
    sums = np.array([np.sum(np.broadcast_to(r, shape)) for r in flat])
    return sums.reshape((len(flat),) + (1,) * len(shape))

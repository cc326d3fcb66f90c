"""The NumPy backend: the Python backend's shape, for arrays.

Input: the statements the printer chose.  Output: a module that imports only ``numpy``.  Every
argument is converted with ``np.asarray(x, dtype=np.float64)`` first, so scalars, lists and
arrays of any broadcastable shapes work elementwise with IEEE semantics (``1/0`` is inf,
``(-8)**(1/3)`` is nan, with NumPy's warnings) and no Python loop runs over elements.  A result
that does not depend on some input has that input's shape broadcast away (a constant partial is
a scalar): results broadcast against the value, they are not expanded to its shape.
"""
from __future__ import annotations

import builtins
import dataclasses
import keyword

from .python import PYTHON

# "math" too: a form may import it (erf maps math.erf, NumPy having none).
RESERVED = frozenset(keyword.kwlist) | frozenset(dir(builtins)) | {"np", "numpy", "math"}
#: standard <math.h> names NumPy spells differently, or lacks (None)
FUNCTIONS = {"asin": "arcsin", "acos": "arccos", "atan": "arctan", "atan2": "arctan2",
             "fabs": "abs", "erf": None, "erfc": None}


def prologue(params: list[str], used: set[str]) -> list[str]:
    return [f"    {p} = np.asarray({p}, dtype=np.float64)" for p in params if p in used]


NUMPY = dataclasses.replace(
    PYTHON, name="numpy", call="np.{}", functions=FUNCTIONS, imports=("import numpy as np",),
    reserved=RESERVED, inf="np.inf", prologue=prologue, _templates={})

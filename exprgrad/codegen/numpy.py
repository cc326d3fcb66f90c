"""The NumPy backend: the Python backend's shape, for numpy arrays.

Input: the statements the printer chose.  Output: a module that imports only ``numpy`` (2.0 or
later: the array API names ``np.asin``, ``np.astype``).  Every argument is converted with
``np.asarray(x, dtype=np.float64)`` first, so scalars, lists and arrays of any broadcastable
shapes work elementwise with IEEE semantics (``1/0`` is inf, ``(-8)**(1/3)`` is nan, with
NumPy's warnings; constant subexpressions too: ``np.float64(0.5) / np.float64(0.0)``) and no
Python loop runs over elements.  The op forms are the array backend's (``Op.code["array"]``),
``xp`` spelled ``np`` and ``dt`` ``np.float64``: one form per op for both (erf, which the array
API lacks, has a numpy form of its own).  A result that does
not depend on some input has that input's shape broadcast away (a constant partial is a
scalar): results broadcast against the value, they are not expanded to its shape.
"""
from __future__ import annotations

import builtins
import dataclasses
import keyword
import re

from .python import PYTHON

# "math" too: a form may import it (erf maps math.erf, NumPy having none).
RESERVED = frozenset(keyword.kwlist) | frozenset(dir(builtins)) | {"np", "numpy", "math"}
#: standard <math.h> names the array API spells differently, or lacks (None)
FUNCTIONS = {"fabs": "abs", "erf": None, "erfc": None}


def prologue(params: list[str], used: set[str]) -> list[str]:
    return [f"    {p} = np.asarray({p}, dtype=np.float64)" for p in params if p in used]


def spell(text: str) -> str:
    """An array form in numpy's words: ``xp.`` → ``np.``, ``dt`` → ``np.float64``."""
    return re.sub(r"\bdt\b", "np.float64", re.sub(r"\bxp\.", "np.", text))


NUMPY = dataclasses.replace(
    PYTHON, name="numpy", call="np.{}", bind=None, functions=FUNCTIONS,
    imports=("import numpy as np",),
    reserved=RESERVED, inf="np.inf", prologue=prologue, forms="array", spell=spell,
    const="np.float64({})", notes=("NumPy code: needs numpy >= 2.0.",), _templates={})

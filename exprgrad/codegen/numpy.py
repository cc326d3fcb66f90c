"""The NumPy backend's data: header, signature and statement syntax for array code.

Input: the statements `exprgrad.codegen` chose (expression texts built from the ``np`` snippets
of `exprgrad.ops`); output: the lines of a module that imports only ``numpy``.  Every argument
is converted with ``np.asarray(x, dtype=np.float64)`` first, so scalars, lists and arrays of any
broadcastable shapes work elementwise with IEEE semantics (``1/0`` is inf, ``(-8)**(1/3)`` is
nan, with NumPy's warnings) and no Python loop runs over elements.  A partial derivative that
does not depend on some input has that input's shape broadcast away (a constant partial is a
scalar): results broadcast against the value, they are not expanded to its shape.
"""
from __future__ import annotations

import builtins
import keyword

from . import python

SNIPPET = "np"
COMMENT = "#"
INF = "np.inf"
IMPORTS = ["import numpy as np"]
valid = python.valid
RESERVED = frozenset(keyword.kwlist) | frozenset(dir(builtins)) \
    | {"np", "numpy"}

comment = python.comment
signature = python.signature
statement = python.statement
body_comment = python.body_comment
value_return = python.value_return
grad_return = python.grad_return
end = python.end
describe = python.describe


def prologue(params: list[str], used: set[str]) -> list[str]:
    return [f"    {p} = np.asarray({p}, dtype=np.float64)" for p in params if p in used]

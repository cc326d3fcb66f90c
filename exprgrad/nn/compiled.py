"""Compiled training: a per-sample `Value` computation, traced once → a batch value-and-gradient.

Input: a function of one sample (``loss(x, y)`` with ``x`` a list of `Value`s and ``y`` a
`Value`, or ``fn(x)`` for a forward pass), the parameters (`Value`s) it reads, and the number of
inputs.  The function is called once on placeholder `Value`s; `trace.trace` turns the resulting
DAG into the graph IR with the parameters, inputs and target as variables, and
`codegen.emit` prints it as a standalone gradient program, loaded back as Python functions.
Output: `CompiledLoss` (batch mean of the loss, plus an optional `penalty` on the parameters such
as L2, and its gradient with respect to the parameters) and `CompiledForward` (outputs of a batch).

The variables are named so that their sorted order, the order of the generated functions'
arguments, is the order of the parameters: ``p0000, p0001, ..., x00, x01, ..., y``.  With the
``"numpy"`` backend the whole batch is one call: inputs are arrays (one per input column) and
parameters scalars, so numpy broadcasts every statement over the batch and the per-sample
gradients come back as arrays that are averaged here.  The ``"python"`` backend calls the
scalar program once per sample.  The penalty is traced separately (it depends on the parameters
only, not on samples) and runs as a scalar Python program.

Tracing records one path through the computation: the loss must be built from `Value`
operations (``max``, ``min``, ``relu`` ... for branches), never from Python ``if`` on
``.data``.  Leaves that are neither parameters nor inputs are frozen as constants.

>>> from exprgrad import nn, losses
>>> model = nn.MLP(2, [3, 1], seed=1)
>>> train = CompiledLoss(lambda x, y: losses.mse(model(x), y), model.parameters(), n_inputs=2)
>>> loss = train.backward([[0.5, -1.0], [1.0, 2.0]], [1.0, -1.0])   # fills p.grad
>>> len(train.variables), train.variables[:2], train.variables[-3:]
(16, ('p00', 'p01'), ('x0', 'x1', 'y'))
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from ..value import Value
from ..errors import DomainError
from ..trace import trace

BACKENDS = ("numpy", "python")


def _names(prefix: str, count: int) -> list[str]:
    # Zero-padded so that sorted order (the generated argument order) is numeric order.
    width = len(str(max(count - 1, 0)))
    return [f"{prefix}{i:0{width}d}" for i in range(count)]


def _check_params(params: Sequence[Value]) -> list[Value]:
    params = list(params)
    if not all(isinstance(p, Value) for p in params):
        raise TypeError("parameters must be Values (e.g. model.parameters())")
    if len({id(p) for p in params}) != len(params):
        raise ValueError("a parameter appears twice in the list")
    return params


class _Program:
    """One traced computation with its generated source and the loaded functions."""

    def __init__(self, root, variables: dict[str, Value], backend: str, name: str,
                 wrt: Sequence[str] | None = None):
        from .. import codegen      # the code-generation stage; imported when first needed
        if backend not in BACKENDS:
            raise ValueError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
        if not isinstance(root, Value):
            raise TypeError(f"the traced function returned {type(root).__name__}, not a Value")
        self.graph = trace(root, variables, output_name=name)
        # The generated functions take their arguments in sorted-name order; the names were
        # chosen so that this is the order of `variables`.
        assert self.graph.variables == tuple(sorted(variables)) == tuple(variables)
        # `wrt`: the partials worth computing (a loss needs the parameters', not the data's).
        self.source = codegen.emit(self.graph, backend, name=name, wrt=wrt)
        self.f, self.grad_f = codegen.load_python(self.source, name=name)


def _placeholders(count: int, example) -> list[Value]:
    values = [0.0] * count if example is None else [float(v) for v in example]
    if len(values) != count:
        raise ValueError(f"the example has {len(values)} values, expected {count}")
    return [Value(v) for v in values]


def _traced(call: Callable, what: str):
    try:
        return call()
    except DomainError as exc:
        raise DomainError(f"tracing {what} at the placeholder values failed ({exc}); "
                          "pass example=(x, y) with a valid sample") from None


class CompiledLoss:
    """The batch loss ``mean(loss(x_i, y_i)) + penalty(params)`` and its parameter gradient.

    ``loss(x, y)`` builds one sample's loss from `Value`s (``x``: `n_inputs` `Value`s, ``y``: a
    `Value`); ``penalty(params)`` (optional) builds a term that depends on the parameters only.
    Both are traced once, at construction; each call then reads the parameters' current
    ``.data``.  `value_and_grad` returns the numbers; `backward` adds the gradient into each
    ``p.grad`` (as ``Value.backward`` would), so a micrograd training loop stays the same.
    The placeholders are zeros; if the loss is undefined there (``log(y)``), pass
    ``example=(x, y)``, one valid sample.  ``backend`` is ``"numpy"`` or ``"python"``.
    """

    def __init__(self, loss: Callable, params: Sequence[Value], n_inputs: int, *,
                 penalty: Callable | None = None, backend: str = "numpy", example=None):
        self.params = _check_params(params)
        self.n_inputs, self.backend = n_inputs, backend
        pnames = _names("p", len(self.params))
        x = _placeholders(n_inputs, None if example is None else example[0])
        y = _placeholders(1, None if example is None else [example[1]])[0]
        root = _traced(lambda: loss(x, y), "the loss")
        variables = {**dict(zip(pnames, self.params)), **dict(zip(_names("x", n_inputs), x)),
                     "y": y}
        self.variables = tuple(variables)
        self.program = _Program(root, variables, backend, "loss", wrt=pnames)
        self.penalty = None
        if penalty is not None:
            proot = _traced(lambda: penalty(self.params), "the penalty")
            self.penalty = _Program(proot, dict(zip(pnames, self.params)), "python", "penalty")

    @property
    def source(self) -> str:
        """The generated program of one sample's loss (standalone code)."""
        return self.program.source

    def value_and_grad(self, X, y) -> tuple[float, list[float]]:
        """Loss of the batch (`X`: n rows of `n_inputs` numbers, `y`: n targets) and its gradient
        with respect to the parameters, in `params` order."""
        pvals = [p.data for p in self.params]
        if self.backend == "numpy":
            value, grads = self._numpy(pvals, X, y)
        else:
            value, grads = self._python(pvals, X, y)
        if self.penalty is not None:
            pv, pg = self.penalty.grad_f(*pvals)
            value += pv
            grads = [g + d for g, d in zip(grads, pg)]
        return value, grads

    def backward(self, X, y) -> float:
        """Add the batch gradient into every ``p.grad``; return the loss (a float)."""
        value, grads = self.value_and_grad(X, y)
        for p, g in zip(self.params, grads):
            p.grad += g
        return value

    def __call__(self, X, y) -> float:
        """The batch loss only (no gradient)."""
        pvals = [p.data for p in self.params]
        if self.backend == "numpy":
            cols, target, n = _columns(X, y, self.n_inputs)
            value = float(np.sum(np.broadcast_to(self.program.f(*pvals, *cols, target), (n,))))
        else:
            rows, targets = _rows(X, y, self.n_inputs)
            n = len(rows)
            value = sum(self.program.f(*pvals, *row, t) for row, t in zip(rows, targets))
        value *= 1.0 / n
        if self.penalty is not None:
            value += self.penalty.f(*pvals)
        return value

    def _numpy(self, pvals, X, y):
        cols, target, n = _columns(X, y, self.n_inputs)
        value, grads = self.program.grad_f(*pvals, *cols, target)
        # A parameter's adjoint may be a scalar (it does not depend on the sample): broadcast.
        per_sample = np.empty((len(pvals), n))
        for i in range(len(pvals)):
            per_sample[i] = grads[i]
        scale = 1.0 / n
        total = float(np.sum(np.broadcast_to(value, (n,)))) * scale
        return total, (per_sample.sum(axis=1) * scale).tolist()

    def _python(self, pvals, X, y):
        rows, targets = _rows(X, y, self.n_inputs)
        total, sums = 0.0, [0.0] * len(pvals)
        for row, t in zip(rows, targets):
            value, grads = self.program.grad_f(*pvals, *row, t)
            total += value
            sums = [s + d for s, d in zip(sums, grads)]
        scale = 1.0 / len(rows)
        return total * scale, [s * scale for s in sums]


class CompiledForward:
    """``fn(x)`` (one sample's output `Value` from `n_inputs` `Value`s) for a whole batch."""

    def __init__(self, fn: Callable, params: Sequence[Value], n_inputs: int, *,
                 backend: str = "numpy", example=None):
        self.params = _check_params(params)
        self.n_inputs, self.backend = n_inputs, backend
        x = _placeholders(n_inputs, example)
        root = _traced(lambda: fn(x), "the function")
        variables = {**dict(zip(_names("p", len(self.params)), self.params)),
                     **dict(zip(_names("x", n_inputs), x))}
        self.variables = tuple(variables)
        self.program = _Program(root, variables, backend, "forward")

    @property
    def source(self) -> str:
        return self.program.source

    def __call__(self, X) -> np.ndarray:
        """One output per row of `X`, as a float array."""
        pvals = [p.data for p in self.params]
        if self.backend == "numpy":
            cols, _, n = _columns(X, None, self.n_inputs)
            return np.broadcast_to(np.asarray(self.program.f(*pvals, *cols), float), (n,)).copy()
        rows, _ = _rows(X, None, self.n_inputs)
        return np.array([self.program.f(*pvals, *row) for row in rows], dtype=float)


def _columns(X, y, n_inputs: int):
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] != n_inputs:
        raise ValueError(f"X must have shape (n, {n_inputs}), got {X.shape}")
    n = X.shape[0]
    cols = [np.ascontiguousarray(X[:, j]) for j in range(n_inputs)]
    target = None if y is None else np.asarray(y, dtype=float).reshape(n)
    return cols, target, n


def _rows(X, y, n_inputs: int):
    rows = [[float(v) for v in row] for row in X]
    if any(len(row) != n_inputs for row in rows):
        raise ValueError(f"every row of X must have {n_inputs} values")
    targets = None if y is None else [float(t) for t in y]
    if targets is not None and len(targets) != len(rows):
        raise ValueError(f"{len(rows)} rows of X for {len(targets)} targets")
    return rows, targets


def compile_loss(loss: Callable, params: Sequence[Value], n_inputs: int, **options
                 ) -> CompiledLoss:
    """Trace ``loss(x, y)`` once; see `CompiledLoss` (options: penalty, backend, example)."""
    return CompiledLoss(loss, params, n_inputs, **options)


def compile_forward(fn: Callable, params: Sequence[Value], n_inputs: int, **options
                    ) -> CompiledForward:
    """Trace ``fn(x)`` once; see `CompiledForward` (options: backend, example)."""
    return CompiledForward(fn, params, n_inputs, **options)

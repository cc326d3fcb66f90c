"""Compiled training: a per-sample `Value` computation, traced once → a batch value-and-gradient.

Input: a function of one sample (``loss(x, y)`` with ``x`` a list of `Value`s and ``y`` a
`Value`, or a list of them with ``n_targets``, or ``fn(x)`` for a forward pass, which may
return a list: several outputs), the parameters (`Value`s) it reads, and the number of inputs.
The function is called once on placeholder `Value`s; `trace.trace` turns the resulting
DAG into the graph IR with the parameters, inputs and target as variables, and
`codegen.emit` prints it as a standalone gradient program, loaded back as Python functions.
Output: `CompiledLoss` (batch mean of the loss, plus an optional `penalty` on the parameters such
as L2, and its gradient with respect to the parameters) and `CompiledForward` (outputs of a batch).

The variables are named so that their sorted order, the order of the generated functions'
arguments, is the order of the parameters: ``p0000, p0001, ..., x00, x01, ..., y`` (``y0,
y1, ...`` for several targets).  With the ``"numpy"`` backend the whole batch is one call:
inputs are arrays (one per input column) and parameters scalars, so numpy broadcasts every
statement over the batch and the per-sample gradients come back as arrays that are averaged here.  The ``"python"`` backend calls the
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
    """One traced computation with its generated source and the loaded functions: ``f`` (the
    value, or a tuple of values for a list of roots) and ``grad_f`` (one root only)."""

    def __init__(self, root, variables: dict[str, Value], backend: str, name: str,
                 wrt: Sequence[str] | None = None, several: bool = False):
        from .. import codegen      # the code-generation stage; imported when first needed
        if backend not in BACKENDS:
            raise ValueError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
        roots = list(root) if several and isinstance(root, (list, tuple)) else [root]
        if not roots or not all(isinstance(r, Value) for r in roots):
            want = "a Value or a list of Values" if several else "a Value"
            raise TypeError(f"the traced function returned {type(root).__name__}, not {want}")
        self.outputs = len(roots)
        names = name if len(roots) == 1 else [f"out{i}" for i in range(len(roots))]
        self.graph = trace(roots, variables, output_name=names)
        # The generated functions take their arguments in sorted-name order; the names were
        # chosen so that this is the order of `variables`.
        assert self.graph.variables == tuple(sorted(variables)) == tuple(variables)
        # `wrt`: the partials worth computing (a loss needs the parameters', not the data's).
        self.source = codegen.emit(self.graph, backend, name=name, wrt=wrt)
        # Several outputs give `name` and `jac_<name>`, no `grad_<name>`.
        namespace = codegen.load_namespace(self.source, name=name)
        self.f, self.grad_f = namespace[name], namespace.get(f"grad_{name}")


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
    `Value`, or with ``n_targets=k > 1`` a list of k `Value`s: a batch's targets are then rows
    of k numbers, or class indices in ``range(k)``, passed as one-hot rows, as
    ``losses.cross_entropy`` takes them); ``penalty(params)`` (optional) builds a term that
    depends on the parameters only.
    Both are traced once, at construction; each call then reads the parameters' current
    ``.data``.  `value_and_grad` returns the numbers; `backward` adds the gradient into each
    ``p.grad`` (as ``Value.backward`` would), so a micrograd training loop stays the same.
    The placeholders are zeros; if the loss is undefined there (``log(y)``), pass
    ``example=(x, y)``, one valid sample.  ``backend`` is ``"numpy"`` or ``"python"``.
    """

    def __init__(self, loss: Callable, params: Sequence[Value], n_inputs: int, *,
                 penalty: Callable | None = None, backend: str = "numpy", example=None,
                 n_targets: int = 1):
        self.params = _check_params(params)
        self.n_inputs, self.backend, self.n_targets = n_inputs, backend, n_targets
        pnames = _names("p", len(self.params))
        x = _placeholders(n_inputs, None if example is None else example[0])
        if n_targets == 1:
            y = _placeholders(1, None if example is None else [example[1]])[0]
            targets = {"y": y}
        else:
            ys = _placeholders(n_targets, None if example is None else
                               _target_rows([example[1]], n_targets)[0])
            y, targets = ys, dict(zip(_names("y", n_targets), ys))
        root = _traced(lambda: loss(x, y), "the loss")
        variables = {**dict(zip(pnames, self.params)), **dict(zip(_names("x", n_inputs), x)),
                     **targets}
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
            cols, targets, n = _columns(X, y, self.n_inputs, self.n_targets)
            value = float(np.sum(np.broadcast_to(self.program.f(*pvals, *cols, *targets), (n,))))
        else:
            rows, targets = _rows(X, y, self.n_inputs, self.n_targets)
            n = len(rows)
            value = sum(self.program.f(*pvals, *row, *t) for row, t in zip(rows, targets))
        value *= 1.0 / n
        if self.penalty is not None:
            value += self.penalty.f(*pvals)
        return value

    def _numpy(self, pvals, X, y):
        cols, targets, n = _columns(X, y, self.n_inputs, self.n_targets)
        value, grads = self.program.grad_f(*pvals, *cols, *targets)
        # A parameter's adjoint may be a scalar (it does not depend on the sample): broadcast.
        per_sample = np.empty((len(pvals), n))
        for i in range(len(pvals)):
            per_sample[i] = grads[i]
        scale = 1.0 / n
        total = float(np.sum(np.broadcast_to(value, (n,)))) * scale
        return total, (per_sample.sum(axis=1) * scale).tolist()

    def _python(self, pvals, X, y):
        rows, targets = _rows(X, y, self.n_inputs, self.n_targets)
        total, sums = 0.0, [0.0] * len(pvals)
        for row, t in zip(rows, targets):
            value, grads = self.program.grad_f(*pvals, *row, *t)
            total += value
            sums = [s + d for s, d in zip(sums, grads)]
        scale = 1.0 / len(rows)
        return total * scale, [s * scale for s in sums]


class CompiledForward:
    """``fn(x)`` (one sample's output `Value` from `n_inputs` `Value`s, or a list of output
    `Value`s, such as a layer's scores or `nn.softmax` of them) for a whole batch."""

    def __init__(self, fn: Callable, params: Sequence[Value], n_inputs: int, *,
                 backend: str = "numpy", example=None):
        self.params = _check_params(params)
        self.n_inputs, self.backend = n_inputs, backend
        x = _placeholders(n_inputs, example)
        root = _traced(lambda: fn(x), "the function")
        variables = {**dict(zip(_names("p", len(self.params)), self.params)),
                     **dict(zip(_names("x", n_inputs), x))}
        self.variables = tuple(variables)
        # No partials: a forward pass reads the value only (several outputs would otherwise
        # build a whole Jacobian program).
        self.program = _Program(root, variables, backend, "forward", wrt=(), several=True)

    @property
    def source(self) -> str:
        return self.program.source

    def __call__(self, X) -> np.ndarray:
        """The outputs for each row of `X`: a float array of shape (n,), or (n, k) when
        ``fn`` returns a list of k Values."""
        pvals = [p.data for p in self.params]
        k = self.program.outputs
        if self.backend == "numpy":
            cols, _, n = _columns(X, None, self.n_inputs)
            outs = self.program.f(*pvals, *cols)
            outs = [outs] if k == 1 else list(outs)
            table = np.stack([np.broadcast_to(np.asarray(o, float), (n,)) for o in outs], 1)
        else:
            rows, _ = _rows(X, None, self.n_inputs)
            table = np.array([self.program.f(*pvals, *row) for row in rows],
                             dtype=float).reshape(len(rows), k)
        return table[:, 0].copy() if k == 1 else table


def _columns(X, y, n_inputs: int, n_targets: int = 1):
    """Arrays per input column and per target column (None without targets)."""
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] != n_inputs:
        raise ValueError(f"X must have shape (n, {n_inputs}), got {X.shape}")
    n = X.shape[0]
    cols = [np.ascontiguousarray(X[:, j]) for j in range(n_inputs)]
    if y is None:
        return cols, None, n
    if n_targets == 1:
        return cols, [np.asarray(y, dtype=float).reshape(n)], n
    table = np.asarray(_target_rows(y, n_targets), dtype=float)
    if table.shape[0] != n:
        raise ValueError(f"{n} rows of X for {table.shape[0]} targets")
    return cols, [np.ascontiguousarray(table[:, j]) for j in range(n_targets)], n


def _rows(X, y, n_inputs: int, n_targets: int = 1):
    """Rows of input values and, per row, the list of its target values."""
    rows = [[float(v) for v in row] for row in X]
    if any(len(row) != n_inputs for row in rows):
        raise ValueError(f"every row of X must have {n_inputs} values")
    if y is None:
        return rows, None
    targets = ([[float(t)] for t in y] if n_targets == 1 else _target_rows(y, n_targets))
    if len(targets) != len(rows):
        raise ValueError(f"{len(rows)} rows of X for {len(targets)} targets")
    return rows, targets


def _target_rows(y, k: int) -> list[list[float]]:
    """Targets of k values per sample: rows of k numbers, or class indices in range(k)
    (a one-hot row each)."""
    rows = []
    for t in y:
        if np.ndim(t) == 0:
            c = float(t)
            if not c.is_integer() or not 0 <= c < k:
                raise ValueError(f"a class index must be an integer in range({k}), got {t!r}")
            rows.append([1.0 if j == c else 0.0 for j in range(k)])
        else:
            row = [float(v) for v in np.ravel(t)]
            if len(row) != k:
                raise ValueError(f"a target row must have {k} values, got {len(row)}")
            rows.append(row)
    return rows


def compile_loss(loss: Callable, params: Sequence[Value], n_inputs: int, **options
                 ) -> CompiledLoss:
    """Trace ``loss(x, y)`` once; see `CompiledLoss` (options: penalty, backend, example)."""
    return CompiledLoss(loss, params, n_inputs, **options)


def compile_forward(fn: Callable, params: Sequence[Value], n_inputs: int, **options
                    ) -> CompiledForward:
    """Trace ``fn(x)`` once; see `CompiledForward` (options: backend, example)."""
    return CompiledForward(fn, params, n_inputs, **options)

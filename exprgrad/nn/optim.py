"""Optimisers: parameters with gradients → parameters moved one step downhill.

Plain functions over a list of `Value`s, the loop micrograd writes inline.  They read
``p.grad`` and change ``p.data`` only, so they serve the `Value` path (after ``backward()``) and
the compiled path (after `CompiledLoss.backward`) alike.

>>> from exprgrad.value import Value
>>> w = Value(1.0); w.grad = 0.5
>>> sgd_step([w], lr=0.1); w.data
0.1
0.95
"""
from __future__ import annotations

from typing import Iterable


def linear_decay(lr: float, step: int, steps: int, decay: float = 0.9) -> float:
    """``lr * (1 - decay*step/steps)``; micrograd's demo: ``1.0 - 0.9*k/100``."""
    return lr * (1.0 - decay * step / steps)


def sgd_step(params: Iterable, lr: float, *, step: int = 0, steps: int | None = None,
             decay: float = 0.0) -> float:
    """``p.data -= rate * p.grad`` for every parameter; returns the rate used.

    With ``decay`` (and ``steps``), the rate falls linearly: ``linear_decay(lr, step, steps,
    decay)``, so ``decay=0.9, steps=100`` reproduces micrograd's moons schedule.
    """
    if decay:
        if not steps:
            raise ValueError("sgd_step: a decay needs the number of steps")
        rate = linear_decay(lr, step, steps, decay)
    else:
        rate = lr
    for p in params:
        p.data -= rate * p.grad
    return rate

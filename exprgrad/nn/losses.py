"""Loss functions on `Value`s: predictions and targets → one `Value` to call `backward()` on.

Each loss takes either one prediction and one target, or two equal-length sequences, and builds
the loss from `Value` operations only, so the same code runs in the `Value` path and can be
traced once into the IR for compiled training (`exprgrad.compiled`).  A pair of sequences is
reduced by ``"mean"`` (the default, computed as ``sum * (1.0 / n)`` as in micrograd's demo) or
``"sum"`` (the seeds' notebook sums its squared errors).  Plain floats work too.

>>> round(mse([0.5, -0.5], [1.0, -1.0]).data, 6)
0.25
>>> round(hinge(Value(0.25), 1.0).data, 6)
0.75
"""
from __future__ import annotations

from typing import Iterable, Sequence

from ..value import Value, as_value


def _reduce(per_sample: list, reduction: str):
    if reduction == "sum":
        return sum(per_sample)
    if reduction == "mean":
        return sum(per_sample) * (1.0 / len(per_sample))
    if reduction == "none":
        return per_sample
    raise ValueError(f"unknown reduction {reduction!r}; use 'mean', 'sum' or 'none'")


def _elementwise(one, pred, target, reduction: str):
    """`one(p, t)` for a single pair, or reduced over two sequences of the same length."""
    if not isinstance(pred, (list, tuple)):
        return one(as_value(pred), target)
    if len(pred) != len(target) or not pred:
        raise ValueError(f"{len(pred)} predictions for {len(target)} targets")
    return _reduce([one(as_value(p), t) for p, t in zip(pred, target)], reduction)


def mse(pred, target, reduction: str = "mean"):
    """Squared error ``(pred - target)**2``, averaged (or summed) over samples."""
    return _elementwise(lambda p, t: (p - t) ** 2, pred, target, reduction)


def bce(prob, target, eps: float = 1e-8, reduction: str = "mean"):
    """Binary cross-entropy of a probability, clamped to ``[eps, 1 - eps]`` as in the seeds.

    ``-t*log(p) - (1 - t)*log(1 - p)`` with ``p = min(max(prob, eps), 1 - eps)``: the clamp keeps
    the logarithms finite when a sigmoid saturates.  Inside the clamp it is part of the function,
    so where it is active the gradient is 0 (PyTorch's convention for max and min).
    """
    def one(p, t):
        p = p.max(eps).min(1 - eps)
        return -t * p.log() - (1 - t) * (1 - p).log()
    return _elementwise(one, prob, target, reduction)


def hinge(score, target, reduction: str = "mean"):
    """micrograd's max-margin loss ``relu(1 - target*score)`` for targets in {-1, +1}."""
    return _elementwise(lambda s, t: (1 + -t * s).relu(), score, target, reduction)


def l2(params: Iterable, alpha: float = 1e-4):
    """L2 regularisation ``alpha * sum(p*p)`` (micrograd's demo uses alpha = 1e-4)."""
    return alpha * sum(p * p for p in params)


def accuracy(scores: Sequence, targets: Sequence) -> float:
    """Fraction of samples where the score's sign agrees with the target in {-1, +1}."""
    scores = [s.data if isinstance(s, Value) else s for s in scores]
    hits = [(t > 0) == (s > 0) for s, t in zip(scores, targets)]
    return sum(hits) / len(hits)

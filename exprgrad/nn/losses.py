"""Loss functions on `Value`s: predictions and targets → one `Value` to call `backward()` on.

Each loss takes either one prediction and one target, or two equal-length sequences (for
`cross_entropy`, a prediction is a list of scores), and builds the loss from `Value` operations
only, so the same code runs in the `Value` path and can be traced once into the IR for
compiled training (`exprgrad.compiled`).  A pair of sequences is
reduced by ``"mean"`` (the default, computed as ``sum * (1.0 / n)`` as in micrograd's demo) or
``"sum"`` (the seeds' notebook sums its squared errors).  Plain floats work too.

>>> round(mse([0.5, -0.5], [1.0, -1.0]).data, 6)
0.25
>>> round(hinge(Value(0.25), 1.0).data, 6)
0.75
>>> round(cross_entropy([2.0, 0.5, -1.0], 0).data, 6)
0.241311
"""
from __future__ import annotations

from numbers import Integral
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


def cross_entropy(logits, target, reduction: str = "mean"):
    """Categorical cross-entropy of ``softmax(logits)`` against a class, in the stable form
    ``logsumexp(z) - z[y]``: no probability is formed, no exponential of a large score is taken
    (scores of 1e3 are fine), and the gradient is ``softmax(z) - onehot(y)``.

    One sample: `logits` is a list of k scores (`Value`s or numbers, e.g. a layer's outputs)
    and `target` the class, an int in ``range(k)``, or k probabilities (a one-hot list, soft
    labels; numbers or `Value`s, as compiled training passes them), giving
    ``sum_i t_i * (logsumexp(z) - z_i)``, which is ``-sum_i t_i * log(softmax(z)_i)``; terms
    whose probability is the number 0 are left out, so a one-hot list builds exactly the graph
    of its class index.  A batch: a list of such logit lists and a list of targets, reduced by
    ``"mean"`` (default), ``"sum"`` or ``"none"``.
    """
    if logits and isinstance(logits[0], (list, tuple)):
        if len(logits) != len(target):
            raise ValueError(f"{len(logits)} samples of logits for {len(target)} targets")
        return _reduce([cross_entropy(z, t, "none") for z, t in zip(logits, target)],
                       reduction)
    z = [as_value(v) for v in logits]
    if len(z) < 1:
        raise ValueError("cross_entropy of no logits")
    lse = z[0].logsumexp(*z[1:])
    if isinstance(target, Integral) and not isinstance(target, bool):
        if not 0 <= target < len(z):
            raise ValueError(f"class {target} out of range for {len(z)} logits")
        return lse - z[target]
    if not isinstance(target, (list, tuple)) or len(target) != len(z):
        raise ValueError(f"the target must be a class in range({len(z)}) or {len(z)} "
                         f"probabilities, got {target!r}")
    terms = []
    for t, zi in zip(target, z):
        if isinstance(t, Value) or t != 0:
            terms.append(lse - zi if not isinstance(t, Value) and t == 1 else t * (lse - zi))
    if not terms:
        raise ValueError("the target probabilities are all 0")
    return sum(terms[1:], terms[0])


def l2(params: Iterable, alpha: float = 1e-4):
    """L2 regularisation ``alpha * sum(p*p)`` (micrograd's demo uses alpha = 1e-4)."""
    return alpha * sum(p * p for p in params)


def accuracy(scores: Sequence, targets: Sequence) -> float:
    """Fraction of samples classified right: the score's sign agrees with the target in
    {-1, +1}; or, when each score is a list of k class scores (or a row of a 2-D array), its
    largest score's index is the target class."""
    def data(s):
        return s.data if isinstance(s, Value) else float(s)
    hits = []
    for s, t in zip(scores, targets):
        if isinstance(s, (list, tuple)) or getattr(s, "ndim", 0) == 1:
            row = [data(v) for v in s]
            hits.append(row.index(max(row)) == t)
        else:
            hits.append((t > 0) == (data(s) > 0))
    return sum(hits) / len(hits)

"""Above or below the line y = x: a ReLU unit, a sigmoid and binary cross-entropy.

The tree-network article's second demo: 1000 points drawn from uniform(-1, 1)², labelled 1 when
y > x, and the model ``sigmoid(v * relu(w1*x + w2*y + b1) + b2)`` -- here ``MLP(2, [1, 1])``
(one ReLU neuron, a linear output) followed by ``.sigmoid()`` -- trained with the seeds' clamped
BCE and an update after every sample (learning rate 0.01).  Prints each epoch, then the article's
probe points.  Exit status 0 when the accuracy on 1000 fresh points is at least 95%.

    python examples/line_classifier.py [--epochs 10] [--lr 0.01] [--seed 0]
"""
from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

try:
    import exprgrad  # noqa: F401
except ImportError:     # run from a checkout without installing: use the repository's package
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from exprgrad import losses, nn, optim  # noqa: E402

TARGET = 0.95
PROBES = [(1, 0), (0, 1), (0, 1000), (-5, 3), (0, 0)]


def make_data(rng: random.Random, n: int = 1000) -> list[tuple[list[float], float]]:
    points = ([rng.uniform(-1, 1), rng.uniform(-1, 1)] for _ in range(n))
    return [(p, 1.0 if p[1] > p[0] else 0.0) for p in points]


def probability(model: nn.MLP, point) -> float:
    return model([float(v) for v in point]).sigmoid().data


def accuracy(model: nn.MLP, data) -> float:
    return sum((probability(model, p) > 0.5) == (label > 0.5) for p, label in data) / len(data)


def train(epochs: int = 10, lr: float = 0.01, seed: int = 0, log=print):
    """Train; return the model and its accuracy on fresh points."""
    rng = random.Random(seed)
    data, test = make_data(rng), make_data(rng)
    model = nn.MLP(2, [1, 1], activation="relu", rng=rng)
    for epoch in range(epochs):
        total = 0.0
        for point, label in data:
            loss = losses.bce(model(point).sigmoid(), label)
            model.zero_grad()
            loss.backward()
            optim.sgd_step(model.parameters(), lr)
            total += loss.data
        log(f"epoch {epoch:2d}  mean BCE {total / len(data):.4f}  "
            f"train accuracy {accuracy(model, data):.1%}")
    return model, accuracy(model, test)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    model, acc = train(args.epochs, args.lr, args.seed)
    for point in PROBES:
        print(f"  P(y > x) at {point}: {probability(model, point):.4f}")
    print(f"accuracy on 1000 fresh points: {acc:.1%} (target {TARGET:.0%})")
    return 0 if acc >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())

"""Fahrenheit → Celsius with one linear neuron: it learns w ≈ 5/9 and b ≈ -17.78.

The tree-network article's first demo: 1000 temperatures drawn from uniform(-1, 1) °F, targets
``(f - 32) * 5/9``, squared error, and a parameter update after every sample (stochastic
gradient descent, learning rate 0.01).  Prints each epoch.  Exit status 0 when w and b are
within 1e-3 of the exact 5/9 and -160/9.

    python examples/fahrenheit.py [--epochs 10] [--lr 0.01] [--seed 0]
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

W, B = 5 / 9, -160 / 9        # C = (F - 32) * 5/9 = 5/9 F - 160/9
TOLERANCE = 1e-3


def make_data(rng: random.Random, n: int = 1000) -> list[tuple[float, float]]:
    return [(f, (f - 32) * 5 / 9) for f in (rng.uniform(-1, 1) for _ in range(n))]


def train(epochs: int = 10, lr: float = 0.01, seed: int = 0, log=print) -> nn.Neuron:
    rng = random.Random(seed)
    data = make_data(rng)
    model = nn.Neuron(1, nonlin=False, rng=rng)        # w*f + b
    for epoch in range(epochs):
        total = 0.0
        for f, c in data:
            loss = losses.mse(model([f]), c)
            model.zero_grad()
            loss.backward()
            optim.sgd_step(model.parameters(), lr)
            total += loss.data
        w, b = (p.data for p in model.parameters())
        log(f"epoch {epoch:2d}  mean loss {total / len(data):.3e}  w {w:.6f}  b {b:.6f}")
    return model


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    model = train(args.epochs, args.lr, args.seed)
    w, b = (p.data for p in model.parameters())
    print(f"learned C = {w:.6f} * F {b:+.6f}   (exact: {W:.6f} * F {B:+.6f})")
    for f in (32.0, 212.0, -40.0):
        print(f"  {f:6.1f} °F -> {model([f]).data:8.3f} °C")
    ok = abs(w - W) < TOLERANCE and abs(b - B) < TOLERANCE
    print("target reached" if ok else f"w or b is further than {TOLERANCE} from the exact value")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

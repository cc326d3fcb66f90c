"""Train micrograd's MLP(3, [4, 4, 1]) on the seeds' 4-sample dataset, printing every step.

The loop is the notebook's: forward pass, sum of squared errors, zero_grad, backward, SGD step.
The hidden layers use tanh as the notebook does; the last layer is linear, as in micrograd.
Exit status 0 when the loss fell below the target within the steps, 1 otherwise.

    python examples/train_seed.py [--steps 100] [--lr 0.05] [--seed 0]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

try:
    import exprgrad  # noqa: F401
except ImportError:     # run from a checkout without installing: use the repository's package
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from exprgrad import losses, nn, optim  # noqa: E402

XS = [[2.0, 3.0, -1.0],
      [3.0, -1.0, 0.5],
      [0.5, 1.0, 1.0],
      [1.0, 1.0, -1.0]]
YS = [1.0, -1.0, -1.0, 1.0]
TARGET = 0.05


def train(steps: int = 100, lr: float = 0.05, seed: int = 0, log=print):
    """Train; return the model and the loss of every step."""
    model = nn.MLP(3, [4, 4, 1], activation="tanh", seed=seed)
    log(f"{model}: {len(model.parameters())} parameters")
    curve = []
    for k in range(steps):
        ypred = [model(x) for x in XS]
        loss = losses.mse(ypred, YS, reduction="sum")      # the notebook sums its errors
        model.zero_grad()
        loss.backward()
        optim.sgd_step(model.parameters(), lr)
        curve.append(loss.data)
        log(f"step {k:3d}  loss {loss.data:.6f}")
    return model, curve


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    model, curve = train(args.steps, args.lr, args.seed)
    print("predictions:", ", ".join(f"{model(x).data:+.4f}" for x in XS), " targets:", YS)
    reached = next((k for k, loss in enumerate(curve) if loss < TARGET), None)
    if reached is None:
        print(f"loss stayed above {TARGET} for {args.steps} steps (last {curve[-1]:.6f})")
        return 1
    print(f"loss below {TARGET} at step {reached}; final loss {curve[-1]:.6f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

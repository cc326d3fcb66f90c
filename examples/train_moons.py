"""micrograd's moons demo, trained twice: on the `Value` graph and through compiled code.

The data is two interleaving half circles with Gaussian noise (made here, no scikit-learn);
labels are -1/+1.  The model is ``MLP(2, [16, 16, 1])`` with ReLU, the loss micrograd's
max-margin ``mean(relu(1 - y*score)) + 1e-4 * sum(p*p)``, the optimiser SGD with the learning
rate ``1.0 - 0.9*k/100``, and accuracy is the agreement of signs.

1. The `Value` path builds the graph of the whole batch each step and calls ``backward()``.
2. The compiled path traces one sample's loss once (`exprgrad.compile_loss`), emits it as numpy
   code and evaluates the whole batch in one call per step.

Both start from the same seeded weights; the script prints each step of both, the time each path
took, the speed-up, and the largest relative difference between the two loss curves.  With
matplotlib installed (``pip install '.[plot]'`` in the checkout, as the README says) it also
saves the decision boundary.
Exit status 0 when the compiled model reaches 95% accuracy and the curves agree to 1e-9.
The `Value` path is the slow one (about half a second a step, a minute for 100 steps);
``--value-steps 10`` times and compares fewer of its steps for a quick run.

    python examples/train_moons.py [--steps 100] [--value-steps N] [--backend numpy|python]
"""
from __future__ import annotations

import argparse
import math
import random
import sys
import time
from pathlib import Path

try:
    import exprgrad  # noqa: F401
except ImportError:     # run from a checkout without installing: use the repository's package
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import exprgrad as eg  # noqa: E402
from exprgrad import Value, losses, nn, optim  # noqa: E402

ALPHA = 1e-4             # micrograd's L2 strength
TARGET_ACCURACY = 0.95
TARGET_SPEEDUP = 30
TOLERANCE = 1e-9         # relative, per step, between the two loss curves


def make_moons(n: int = 100, noise: float = 0.1, seed: int = 0):
    """Two interleaving half circles (scikit-learn's construction), shuffled, labels -1/+1."""
    rng = random.Random(seed)
    n_upper = n // 2
    points = []
    for i in range(n_upper):
        t = math.pi * i / max(n_upper - 1, 1)
        points.append((math.cos(t), math.sin(t), -1.0))
    for i in range(n - n_upper):
        t = math.pi * i / max(n - n_upper - 1, 1)
        points.append((1.0 - math.cos(t), 0.5 - math.sin(t), 1.0))
    rng.shuffle(points)
    X = [[x + rng.gauss(0, noise), y + rng.gauss(0, noise)] for x, y, _ in points]
    y = [label for *_, label in points]
    return X, y


def new_model(seed: int) -> nn.MLP:
    return nn.MLP(2, [16, 16, 1], activation="relu", seed=seed)


def train_value(X, y, steps: int, seed: int, log=print):
    """micrograd's loop on the `Value` graph; returns [(loss, accuracy)] per step and seconds."""
    model = new_model(seed)
    curve = []
    start = time.perf_counter()
    for k in range(steps):
        inputs = [list(map(Value, row)) for row in X]
        scores = [model(row) for row in inputs]
        total = losses.hinge(scores, y) + losses.l2(model.parameters(), ALPHA)
        acc = losses.accuracy(scores, y)
        model.zero_grad()
        total.backward()
        optim.sgd_step(model.parameters(), 1.0, step=k, steps=100, decay=0.9)
        curve.append((total.data, acc))
        log(f"value     step {k:3d}  loss {total.data:.12f}  accuracy {acc:.0%}")
    return model, curve, time.perf_counter() - start


def train_compiled(X, y, steps: int, seed: int, backend: str = "numpy", log=print):
    """The same loop through code traced once; returns model, curve, seconds, compile seconds."""
    model = new_model(seed)
    params = model.parameters()
    start = time.perf_counter()
    loss = eg.compile_loss(lambda x, t: losses.hinge(model(x), t), params, n_inputs=2,
                           penalty=lambda ps: losses.l2(ps, ALPHA), backend=backend)
    predict = eg.compile_forward(model, params, n_inputs=2, backend=backend)
    compile_seconds = time.perf_counter() - start
    curve = []
    start = time.perf_counter()
    for k in range(steps):
        model.zero_grad()
        total = loss.backward(X, y)
        acc = losses.accuracy(predict(X), y)
        optim.sgd_step(params, 1.0, step=k, steps=100, decay=0.9)
        curve.append((total, acc))
        log(f"compiled  step {k:3d}  loss {total:.12f}  accuracy {acc:.0%}")
    return model, curve, time.perf_counter() - start, compile_seconds, predict


def plot_boundary(predict, X, y, path: str) -> str:
    """Save the decision boundary; returns a sentence saying what happened."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return ("matplotlib is not installed: no decision-boundary picture "
                "(pip install '.[plot]' in the checkout to get one)")
    import numpy as np
    xs, ys = np.meshgrid(np.linspace(-1.5, 2.5, 200), np.linspace(-1.0, 1.5, 200))
    scores = predict(np.column_stack([xs.ravel(), ys.ravel()])).reshape(xs.shape)
    fig, ax = plt.subplots(figsize=(6, 4.5))
    ax.contourf(xs, ys, scores > 0, cmap=plt.cm.Spectral, alpha=0.8)
    points = np.asarray(X)
    ax.scatter(points[:, 0], points[:, 1], c=y, s=30, cmap=plt.cm.Spectral, edgecolors="k")
    ax.set_title("MLP(2, [16, 16, 1]) on the moons, compiled training")
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return f"decision boundary saved to {path}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--value-steps", type=int, default=None,
                        help="steps of the slow Value path (default: --steps)")
    parser.add_argument("--backend", choices=("numpy", "python"), default="numpy")
    parser.add_argument("--seed", type=int, default=1337, help="weights (data: seed 0)")
    parser.add_argument("--plot", default="moons.png", help="picture file ('' for none)")
    parser.add_argument("--quiet", action="store_true", help="do not print every step")
    args = parser.parse_args(argv)
    value_steps = args.steps if args.value_steps is None else min(args.value_steps, args.steps)
    log = (lambda *a: None) if args.quiet else print

    X, y = make_moons(100, noise=0.1, seed=0)
    _, value_curve, value_seconds = train_value(X, y, value_steps, args.seed, log)
    _, curve, seconds, compile_seconds, predict = train_compiled(
        X, y, args.steps, args.seed, args.backend, log)

    worst = max((abs(a[0] - b[0]) / abs(a[0]) for a, b in zip(value_curve, curve)), default=0.0)
    per_value = value_seconds / max(value_steps, 1)
    per_compiled = seconds / max(args.steps, 1)
    speedup = per_value / per_compiled
    final_loss, final_acc = curve[-1]
    print()
    print(f"Value path:     {value_steps} steps in {value_seconds:.3f} s "
          f"({1000 * per_value:.2f} ms/step)")
    print(f"compiled path:  {args.steps} steps in {seconds:.3f} s "
          f"({1000 * per_compiled:.3f} ms/step, {args.backend} backend), "
          f"plus {compile_seconds:.3f} s to trace and compile once")
    with_compile = per_value * args.steps / (seconds + compile_seconds)
    print(f"speed-up:       {speedup:.1f}x per step "
          f"({'reached' if speedup >= TARGET_SPEEDUP else 'BELOW'} the {TARGET_SPEEDUP}x target); "
          f"{with_compile:.1f}x for {args.steps} steps counting the one-time compilation")
    print(f"loss curves:    largest relative difference over {value_steps} steps {worst:.1e} "
          f"(tolerance {TOLERANCE:.0e})")
    print(f"final:          loss {final_loss:.6f}, accuracy {final_acc:.0%} "
          f"(target {TARGET_ACCURACY:.0%})")
    if args.plot:
        print(plot_boundary(predict, X, y, args.plot))
    return 0 if final_acc >= TARGET_ACCURACY and worst <= TOLERANCE else 1


if __name__ == "__main__":
    sys.exit(main())

"""Three classes: an MLP's three scores, softmax, categorical cross-entropy (the seeds' exercise 5).

The toy set is three spiral arms in the plane (class k is the arm turned by 2πk/3), 300
training and 300 test points with noise.  The model is ``MLP(2, [16, 16, 3])``: its last layer
is a list output of three scores z, and the loss is ``losses.cross_entropy(z, y) =
logsumexp(z) - z[y]``, the stable form of -log softmax(z)[y].  Training is compiled
(``compile_loss`` with ``n_targets=3``: the class becomes a one-hot row) and full-batch, with
micrograd's decaying learning rate; the probabilities come from ``nn.softmax`` compiled with
``compile_forward``.  Prints the loss and accuracy every 50 steps and the probabilities of a
few test points.  ``--funcify FILE`` writes the trained network as exprgrad program text
(``model.funcify()``: three outputs) and checks that ``exprgrad.compile`` reads it back to the
same scores.  Exit status 0 when the test accuracy reaches 95%.

    python examples/softmax_classifier.py [--steps 400] [--lr 0.5] [--seed 0] [--funcify FILE]
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
from exprgrad import losses, nn, optim  # noqa: E402

TARGET = 0.95
CLASSES = 3


def spirals(rng: random.Random, n: int) -> tuple[list[list[float]], list[int]]:
    """n points, n/3 per class: arm k at angle t + 2πk/3, radius t/(1.5π), with noise."""
    X, y = [], []
    for i in range(n):
        k = i % CLASSES
        t = rng.uniform(0.25, 1.0) * 1.5 * math.pi
        angle = t + 2 * math.pi * k / CLASSES + rng.gauss(0, 0.15)
        r = t / (1.5 * math.pi)
        X.append([r * math.cos(angle), r * math.sin(angle)])
        y.append(k)
    return X, y


def train(steps: int = 400, lr: float = 0.5, seed: int = 0, log=print):
    """Train; return the model, its compiled probabilities and the test set."""
    rng = random.Random(seed)
    X, y = spirals(rng, 300)
    X_test, y_test = spirals(rng, 300)
    model = nn.MLP(2, [16, 16, CLASSES], activation="tanh", rng=rng)
    start = time.perf_counter()
    loss_fn = eg.compile_loss(lambda x, t: losses.cross_entropy(model(x), t),
                              model.parameters(), n_inputs=2, n_targets=CLASSES)
    scores = eg.compile_forward(model, model.parameters(), n_inputs=2)
    log(f"{len(model.parameters())} parameters; compiled in {time.perf_counter() - start:.2f} s")
    for k in range(steps):
        model.zero_grad()
        loss = loss_fn.backward(X, y)            # class indices: one-hot rows of 3 targets
        optim.sgd_step(model.parameters(), lr, step=k, steps=steps, decay=0.9)
        if k % 50 == 0 or k == steps - 1:
            log(f"step {k:4d}  cross-entropy {loss:.4f}  "
                f"train accuracy {losses.accuracy(scores(X), y):.1%}")
    probabilities = eg.compile_forward(lambda x: nn.softmax(model(x)), model.parameters(),
                                       n_inputs=2)
    return model, scores, probabilities, (X_test, y_test)


def check_funcify(model: nn.MLP, path: Path, points) -> bool:
    """Write the model as program text; compile it back; compare the scores bit for bit."""
    text = model.funcify(["x1", "x2"])
    path.write_text(text + "\n", encoding="utf-8")
    f = eg.compile(text)
    same = all(f(x1=p[0], x2=p[1]) == tuple(v.data for v in model(p)) for p in points)
    print(f"wrote {path} ({len(text.splitlines())} statements, outputs {', '.join(f.outputs)});"
          f" exprgrad.compile reads it back to the same scores: {'yes' if same else 'NO'}")
    return same


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--lr", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--funcify", metavar="FILE", type=Path,
                        help="write the trained network as exprgrad text and compile it back")
    args = parser.parse_args(argv)
    model, scores, probabilities, (X_test, y_test) = train(args.steps, args.lr, args.seed)
    for point, label in list(zip(X_test, y_test))[:3]:
        p = probabilities([point])[0]
        shown = ", ".join(f"{v:.3f}" for v in p)
        print(f"  point ({point[0]:+.2f}, {point[1]:+.2f}), class {label}: "
              f"softmax ({shown}), sum {sum(p):.15f}")
    acc = losses.accuracy(scores(X_test), y_test)
    print(f"test accuracy on {len(X_test)} fresh points: {acc:.1%} (target {TARGET:.0%})")
    ok = acc >= TARGET
    if args.funcify is not None:
        ok &= check_funcify(model, args.funcify, X_test[:20])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

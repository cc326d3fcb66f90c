"""Every picture of the seed tutorials, drawn by exprgrad.

    python examples/seed_pictures.py [OUTDIR] [--format svg|png|pdf|dot]

writes, after forward and backward:
  neuron            tanh(x1*w1 + x2*w2 + b) at the lecture's point (built with `Value`, labelled as
                    in the lecture), and the same neuron from exprgrad's language
  a_plus_a          b = a + a: `a` is used twice, so its grad is 2 (the multi-use bug, fixed)
  diamond           d = a*b; e = a + b; f = d*e: two paths from a and from b
  neuron_exp        the neuron with tanh written through exp: e = exp(2n); o = (e - 1)/(e + 1)
  neuron_gradient   the gradient program exprgrad emits for the neuron (adjoint nodes in red)
"""
from __future__ import annotations

import sys
from pathlib import Path

try:
    import exprgrad  # noqa: F401
except ImportError:     # run from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import exprgrad as eg  # noqa: E402
from exprgrad.autodiff import grad_program  # noqa: E402
from exprgrad.draw import render  # noqa: E402

SEED = dict(x1=2.0, x2=0.0, w1=-3.0, w2=1.0, b=6.8813735870195432)


def neuron_values(expanded: bool = False) -> eg.Value:
    """The lecture's neuron, built and labelled with `Value` as the seeds do."""
    x1, x2 = eg.Value(SEED["x1"], label="x1"), eg.Value(SEED["x2"], label="x2")
    w1, w2 = eg.Value(SEED["w1"], label="w1"), eg.Value(SEED["w2"], label="w2")
    b = eg.Value(SEED["b"], label="b")
    x1w1 = x1 * w1; x1w1.label = "x1*w1"
    x2w2 = x2 * w2; x2w2.label = "x2*w2"
    x1w1x2w2 = x1w1 + x2w2; x1w1x2w2.label = "x1*w1 + x2*w2"
    n = x1w1x2w2 + b; n.label = "n"
    if expanded:
        e = (2 * n).exp(); e.label = "e"
        o = (e - 1) / (e + 1)
    else:
        o = n.tanh()
    o.label = "o"
    o.backward()
    return o


def a_plus_a() -> eg.Value:
    a = eg.Value(3.0, label="a")
    b = a + a; b.label = "b"
    b.backward()
    return b


def diamond() -> eg.Value:
    a, b = eg.Value(-2.0, label="a"), eg.Value(3.0, label="b")
    d = a * b; d.label = "d"
    e = a + b; e.label = "e"
    f = d * e; f.label = "f"
    f.backward()
    return f


def pictures() -> dict:
    """name → what to draw (a Value root, or a Function with its point)."""
    text = eg.compile("n = x1*w1 + x2*w2 + b; o = tanh(n)")
    expanded = eg.compile("n = x1*w1 + x2*w2 + b; e = exp(2*n); o = (e - 1)/(e + 1)")
    return {
        "neuron": eg.draw_dot(neuron_values()),
        "neuron_text": eg.draw_dot(text, at=SEED),
        "a_plus_a": eg.draw_dot(a_plus_a()),
        "diamond": eg.draw_dot(diamond()),
        "neuron_exp": eg.draw_dot(neuron_values(expanded=True)),
        "neuron_exp_text": eg.draw_dot(expanded, at=SEED),
        "neuron_gradient": eg.draw_dot(grad_program(text.ir), at=SEED),
    }


def main(argv: list[str]) -> int:
    fmt = "svg"
    if "--format" in argv:
        i = argv.index("--format")
        fmt = argv[i + 1]
        argv = argv[:i] + argv[i + 2:]
    out = Path(argv[0] if argv else "seed_pictures")
    out.mkdir(parents=True, exist_ok=True)
    for name, drawing in pictures().items():
        path = render(drawing, out / f"{name}.{fmt}")
        print(path)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except eg.ExprError as err:          # e.g. no Graphviz for svg/png/pdf: say how to get it
        print(f"seed_pictures: error: {err}", file=sys.stderr)
        sys.exit(2)

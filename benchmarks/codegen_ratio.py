"""Cheap-gradient check for emitted code: time(grad_f) / time(f) and op counts, per backend.

    python3 benchmarks/codegen_ratio.py

Prints one row per expression and backend: op counts of the emitted forward and gradient
programs and the measured time ratio gradient/forward (python: one call on floats; numpy: one
call on arrays of 100,000 elements).  Timing is reported here, never asserted in tests.
"""
from __future__ import annotations

import sys
import timeit
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import exprgrad as eg                                   # noqa: E402
from exprgrad import codegen                            # noqa: E402
from exprgrad.autodiff import grad_program, op_count      # noqa: E402

EXPRESSIONS = {
    "neuron": "n = x1*w1 + x2*w2 + b; o = tanh(n)",
    "mse": "(yout1 - 1)^2 + (yout2 + 1)^2",
    "sigmoid-layer": "; ".join(f"h{i} = sigmoid(w{i}a*x + w{i}b*y + b{i})" for i in range(4))
                     + "; o = " + " + ".join(f"v{i}*h{i}" for i in range(4)),
    "trig": "t = pi*x; s = sin(t)*cos(t) + sinh(x)/cosh(y) + atan(x/y)",
    "polynomial": "y = x*x; z = y*y; w = z*y + 3*z - 2*y + x",
}


def best(fn, number: int) -> float:
    return min(timeit.repeat(fn, number=number, repeat=5)) / number


def main() -> None:
    print(f"{'expression':<14} {'backend':<7} {'ops f':>6} {'ops grad':>8} {'time ratio':>10}")
    for label, text in EXPRESSIONS.items():
        f = eg.compile(text)
        p = grad_program(f.ir)
        ops_f, ops_g = op_count(p.graph, p.primal), op_count(p.graph, p.roots)
        for target in ("python", "numpy"):
            value_fn, grad_fn = codegen.load_python(f.to_source(target))
            if target == "python":
                args, number = [0.3 + 0.1 * i for i in range(len(f.variables))], 20000
            else:
                rng = np.random.default_rng(0)
                args = [rng.uniform(0.5, 1.5, 100_000) for _ in f.variables]
                number = 20
            ratio = best(lambda: grad_fn(*args), number) / best(lambda: value_fn(*args), number)
            print(f"{label:<14} {target:<7} {ops_f:>6} {ops_g:>8} {ratio:>10.2f}")


if __name__ == "__main__":
    main()

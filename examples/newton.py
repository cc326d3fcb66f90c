"""Newton's method with exprgrad Hessians: the n-variable Rosenbrock function, n = 10 and 100.

    python examples/newton.py [N ...]

The function is written as text, compiled once, and each step asks exprgrad for the value,
the gradient and the Hessian (`f.hessian` runs the Hessian program — forward mode over the
reverse-mode gradient, built once — as generated Python).  The step solves H d = -g with
numpy; where H is not positive definite, a multiple of the identity is added until it is
(Levenberg's damping), and a backtracking line search keeps every step downhill.  It prints
the iterations and exits 0 when every n converges (|grad| < 1e-8 at x = (1, ..., 1)).
"""
from __future__ import annotations

import sys
import time

import numpy as np

import exprgrad as eg


def rosenbrock_text(n: int) -> str:
    # Zero-padded names, so that exprgrad's sorted variable order is x[0], x[1], ...
    w = len(str(n - 1))
    x = [f"x{i:0{w}d}" for i in range(n)]
    return " + ".join(f"100*({x[i + 1]} - {x[i]}^2)^2 + (1 - {x[i]})^2" for i in range(n - 1))


def newton(f: eg.Function, x0: np.ndarray, tol: float = 1e-8, max_steps: int = 200):
    x = x0.copy()
    names = f.variables
    for step in range(max_steps):
        point = dict(zip(names, x))
        value, grads = f.grad(**point)
        g = np.array([grads[v] for v in names])
        if np.linalg.norm(g) < tol:
            return x, step, value
        h = np.array(f.hessian(**point))
        damping = 0.0
        while True:                             # Levenberg: H + λI positive definite
            try:
                np.linalg.cholesky(h + damping * np.eye(len(x)))
                break
            except np.linalg.LinAlgError:
                damping = max(2 * damping, 1e-6 * max(1.0, np.abs(h).max()))
        d = np.linalg.solve(h + damping * np.eye(len(x)), -g)
        t = 1.0
        while f(**dict(zip(names, x + t * d))) > value + 1e-4 * t * g.dot(d) and t > 1e-12:
            t /= 2                              # backtracking (Armijo)
        x = x + t * d
        if step < 5 or step % 10 == 0:
            print(f"  step {step:3d}: f = {value:.6e}, |grad| = {np.linalg.norm(g):.3e}, "
                  f"step size {t:g}")
    return x, max_steps, f(**dict(zip(names, x)))


def main(argv: list[str]) -> int:
    sizes = [int(a) for a in argv] or [10, 100]
    ok = True
    for n in sizes:
        t0 = time.perf_counter()
        f = eg.compile(rosenbrock_text(n))
        f.hessian(**dict.fromkeys(f.variables, 0.0))       # build and compile once
        built = time.perf_counter() - t0
        x0 = np.zeros(n)                     # from (-1.2, 1, ...) Newton finds the local
        # minimum near (-1, 1, ..., 1) that the chained Rosenbrock has for n >= 4
        print(f"Rosenbrock, n = {n}: text → callable Hessian in {built:.2f} s")
        t0 = time.perf_counter()
        x, steps, value = newton(f, x0)
        spent = time.perf_counter() - t0
        converged = steps < 200 and np.allclose(x, 1.0, atol=1e-6)
        ok &= converged
        print(f"  {'converged' if converged else 'did NOT converge'} in {steps} Newton steps "
              f"({spent:.2f} s): f = {value:.3e}, max |x - 1| = {np.abs(x - 1).max():.2e}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

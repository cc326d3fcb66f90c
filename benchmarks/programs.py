"""The programs the build benchmarks give exprgrad, each with a point and "the limit".

Input: a workload name and a size.  Output: a `Program`: the exprgrad text, a point (a value
for every variable), and the limit — hand-written, straight-line Python source of the same
value and gradient (``grad_f(<variables in sorted order>) -> (value, (partials...))``), the
code a person would write with no tool at all.  CPython's ``compile()`` of that source is what
issue 15 calls the limit: a build that costs about as much does no work beyond printing code.

- ``w4``: ``sum_{i=1..n} tanh(w_i*x_i + b_i)^2`` on one line (W4; about 11 ops per term).
- ``chain``: ``tanh(0.5*x + 0.1)`` nested ``n`` times (W5), as one expression.
- ``chain_lines``: the same chain as ``n`` statements ``y1 = tanh(0.5*x + 0.1)`` …
- ``pendulum``: a damped pendulum unrolled by explicit Euler for n/2 steps, two statements a
  step (``x_00001 = x_00000 + dt*v_00000``, ``v_00001 = v_00000 - dt*(g_l*sin(x_00000) +
  mu*v_00000)``) and a loss ``(x_N - target)^2``: machine-generated code as people bring it;
  n = 100,000 statements is 4.3 MB of text with a dependency chain 100,000 statements deep.

The hand-written gradients are checked against central differences in
tests/test_benchmarks.py and against exprgrad's own by profile_build.py.  `torch_gradient` is
the same program as PyTorch builds and differentiates it (the peer of issue 15's depth target).
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass


@dataclass
class Program:
    name: str
    size: int
    text: str
    point: dict[str, float]
    limit: str                      # hand-written source of grad_f

    @property
    def variables(self) -> list[str]:
        return sorted(self.point)


def make(name: str, size: int) -> Program:
    return {"w4": w4, "chain": chain, "chain_lines": chain_lines,
            "pendulum": pendulum}[name](size)


def _function(params: list[str], body: list[str], value: str, partials: list[str]) -> str:
    lines = ["import math", "", "", f"def grad_f({', '.join(params)}):"]
    lines += [f"    {s}" for s in body]
    lines.append(f"    return {value}, (")
    lines += [f"        {p}," for p in partials]
    lines.append("    )")
    return "\n".join(lines) + "\n"


# ---- W4 ---------------------------------------------------------------------------------------

def w4(n: int) -> Program:
    text = " + ".join(f"tanh(w{i}*x{i} + b{i})^2" for i in range(1, n + 1))
    rng = random.Random(n)
    point = {f"{k}{i}": rng.uniform(-1, 1) for i in range(1, n + 1) for k in "bwx"}
    body, partial = [], {}
    for i in range(1, n + 1):
        body.append(f"t{i} = math.tanh(w{i} * x{i} + b{i})")
        # A running sum: a single n-term expression is n levels deep for CPython's compiler.
        body.append(f"f = t{i} * t{i}" if i == 1 else f"f += t{i} * t{i}")
        body.append(f"d{i} = 2.0 * t{i} * (1.0 - t{i} * t{i})")
        partial[f"b{i}"], partial[f"w{i}"], partial[f"x{i}"] = f"d{i}", f"d{i} * x{i}", \
            f"d{i} * w{i}"
    names = sorted(point)
    return Program("w4", n, text, point, _function(names, body, "f", [partial[v] for v in names]))


# ---- W5: the chain ----------------------------------------------------------------------------

def _chain_limit(d: int) -> str:
    body = [f"y1 = math.tanh(0.5 * x + 0.1)"]
    body += [f"y{i} = math.tanh(0.5 * y{i - 1} + 0.1)" for i in range(2, d + 1)]
    body.append(f"g = 0.5 * (1.0 - y{d} * y{d})")
    body += [f"g *= 0.5 * (1.0 - y{i} * y{i})" for i in range(d - 1, 0, -1)]
    return _function(["x"], body, f"y{d}", ["g"])


def chain(d: int) -> Program:
    text = "tanh(0.5*" * d + "x" + " + 0.1)" * d
    return Program("chain", d, text, {"x": 0.3}, _chain_limit(d))


def chain_lines(d: int) -> Program:
    lines = ["y1 = tanh(0.5*x + 0.1)"] + [f"y{i} = tanh(0.5*y{i - 1} + 0.1)"
                                          for i in range(2, d + 1)]
    return Program("chain_lines", d, "\n".join(lines) + "\n", {"x": 0.3}, _chain_limit(d))


# ---- the unrolled pendulum ----------------------------------------------------------------------

def pendulum(statements: int) -> Program:
    steps = statements // 2
    width = max(5, len(str(steps)))
    x = [f"x_{i:0{width}d}" for i in range(steps + 1)]
    v = [f"v_{i:0{width}d}" for i in range(steps + 1)]
    lines = []
    for i in range(steps):
        lines.append(f"{x[i + 1]} = {x[i]} + dt*{v[i]}")
        lines.append(f"{v[i + 1]} = {v[i]} - dt*(g_l*sin({x[i]}) + mu*{v[i]})")
    lines.append(f"loss = ({x[steps]} - target)^2")
    point = {x[0]: 0.5, v[0]: 0.0, "dt": 0.01, "g_l": 1.0, "mu": 0.1, "target": 0.2}
    # By hand: the forward sweep keeps sin(x_i) and the acceleration term a_i; the reverse
    # sweep carries gx, gv (adjoints of x_{i+1}, v_{i+1}) down and sums the parameters'.
    body = []
    for i in range(steps):
        body.append(f"s{i} = math.sin({x[i]})")
        body.append(f"a{i} = g_l * s{i} + mu * {v[i]}")
        body.append(f"{x[i + 1]} = {x[i]} + dt * {v[i]}")
        body.append(f"{v[i + 1]} = {v[i]} - dt * a{i}")
    body.append(f"e = {x[steps]} - target")
    body += ["loss = e * e", "gx = 2.0 * e", "gv = 0.0", "gdt = 0.0", "gk = 0.0", "gc = 0.0"]
    for i in range(steps - 1, -1, -1):
        body.append(f"gdt += gx * {v[i]} - gv * a{i}")
        body.append(f"gk -= gv * dt * s{i}")
        body.append(f"gc -= gv * dt * {v[i]}")
        body.append(f"gx, gv = gx - gv * dt * g_l * math.cos({x[i]}), gx * dt + gv * "
                    f"(1.0 - dt * mu)")
    partial = {"mu": "gc", "dt": "gdt", "g_l": "gk", "target": "-2.0 * e", x[0]: "gx",
               v[0]: "gv"}
    names = sorted(point)
    return Program("pendulum", statements, "\n".join(lines) + "\n", point,
                   _function(names, body, "loss", [partial[n] for n in names]))


# ---- PyTorch's build + backward of the same programs ------------------------------------------

def torch_gradient(prog: Program, torch):
    """(value, partials in `prog.variables` order) by PyTorch's autograd on float64 scalar
    tensors: the graph built by running the program in Python, then ``backward()`` — the
    peer issue 15 compares the build with (its build is the first call: no text, no code)."""
    leaf = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True)
            for k, v in prog.point.items()}
    n = prog.size
    if prog.name == "w4":
        out = 0.0
        for i in range(1, n + 1):
            out = out + torch.tanh(leaf[f"w{i}"] * leaf[f"x{i}"] + leaf[f"b{i}"]) ** 2
    elif prog.name in ("chain", "chain_lines"):
        out = leaf["x"]
        for _ in range(n):
            out = torch.tanh(0.5 * out + 0.1)
    elif prog.name == "pendulum":
        (x,), (v,) = ([leaf[k] for k in prog.point if k.startswith(p)] for p in ("x_", "v_"))
        dt, g_l, mu = leaf["dt"], leaf["g_l"], leaf["mu"]
        for _ in range(n // 2):
            x, v = x + dt * v, v - dt * (g_l * torch.sin(x) + mu * v)
        out = (x - leaf["target"]) ** 2
    else:
        raise ValueError(prog.name)
    out.backward()
    return out.item(), [leaf[k].grad.item() for k in prog.variables]


def load_limit(source: str):
    """``grad_f`` from hand-written source."""
    namespace: dict = {}
    exec(compile(source, "<limit>", "exec"), namespace)  # noqa: S102 - our own text
    return namespace["grad_f"]


def central_differences(prog: Program, h: float = 1e-6) -> list[float]:
    """The partials of the limit's value by central differences (for tests, small sizes)."""
    f = load_limit(prog.limit)
    args = [prog.point[v] for v in prog.variables]
    out = []
    for i in range(len(args)):
        up, down = list(args), list(args)
        up[i] += h
        down[i] -= h
        out.append((f(*up)[0] - f(*down)[0]) / (2 * h))
    return out


def close(a: float, b: float, rel: float = 1e-9) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=rel * max(1.0, abs(a), abs(b)))

"""W6: training — micrograd's moons demo (MLP 2-16-16-1, max-margin loss + L2, SGD with
micrograd's decaying rate) for 100 steps, three ways.

Input: the moons data and model of `examples/train_moons.py`.  Output: one table: seconds for
the whole loop through micrograd (its own `Value` and `MLP`, given the same initial weights),
exprgrad's `Value` path and exprgrad's compiled path (traced once, emitted numpy), the speed-up
over micrograd, and the largest relative gap between the loss curves.
"""
from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import peers
from harness import Row, Settings, Table, Target, fmt_time

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "train_moons.py"


def load_example():
    if not EXAMPLE.exists():
        return None
    spec = importlib.util.spec_from_file_location("train_moons", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception:                      # noqa: BLE001 - the example is still being built
        return None
    needed = ("make_moons", "new_model", "train_value", "train_compiled", "ALPHA")
    return module if all(hasattr(module, n) for n in needed) else None


def train_micrograd(ex, X, y, steps: int, seed: int):
    """micrograd's demo loop on micrograd's own classes, starting from exprgrad's weights."""
    from micrograd.nn import MLP
    MG = peers.micrograd_value()
    model = MLP(2, [16, 16, 1])
    for p, q in zip(model.parameters(), ex.new_model(seed).parameters()):
        p.data = q.data
    curve = []
    start = time.perf_counter()
    for k in range(steps):
        inputs = [list(map(MG, row)) for row in X]
        scores = list(map(model, inputs))
        losses = [(1 + -yi * s).relu() for yi, s in zip(y, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg_loss = ex.ALPHA * sum(p * p for p in model.parameters())
        total = data_loss + reg_loss
        acc = sum((yi > 0) == (s.data > 0) for yi, s in zip(y, scores)) / len(y)
        model.zero_grad()
        total.backward()
        rate = 1.0 - 0.9 * k / 100
        for p in model.parameters():
            p.data -= rate * p.grad
        curve.append((total.data, acc))
    return curve, time.perf_counter() - start


def run(settings: Settings) -> list[Table]:
    steps = 2 if settings.quick else 100
    table = Table("W6", f"training: moons, MLP 2-16-16-1, {steps} steps",
                  columns=["seconds", "per step", "× micrograd (speed-up)",
                           "loss curve vs micrograd", "final loss", "accuracy"], plain=True)
    ex = load_example()
    if ex is None:
        table.rows.append(Row("exprgrad", status="missing",
                              note="examples/train_moons.py (nn, compiled path) not built"))
        return [table]
    X, y = ex.make_moons(100, seed=0)
    seed = 1337
    quiet = lambda *a, **k: None           # noqa: E731
    results = {}
    if peers.load("micrograd") is not None:
        curve, seconds = train_micrograd(ex, X, y, steps, seed)
        results["micrograd"] = ("micrograd's Value + MLP", "micrograd", curve, seconds)
    else:
        table.rows.append(Row("micrograd's Value + MLP", "micrograd", status="missing",
                              note="not installed"))
    _, curve, seconds = ex.train_value(X, y, steps, seed, log=quiet)
    results["value"] = ("exprgrad Value path", "exprgrad", curve, seconds)
    out = ex.train_compiled(X, y, steps, seed, log=quiet)
    curve, seconds, compile_s = out[1], out[2], out[3]
    results["compiled"] = ("exprgrad compiled path (trace + emit numpy once)", "exprgrad",
                           curve, seconds + compile_s)
    ref = results.get("micrograd")
    for key, (name, kind, curve, seconds) in results.items():
        gap = max(abs(a[0] - b[0]) / max(abs(b[0]), 1e-300)
                  for a, b in zip(curve, ref[2])) if ref else None
        speed = ref[3] / seconds if ref else None
        row = Row(name, kind, median=seconds)
        row.extra = {"seconds": fmt_time(seconds), "per step": fmt_time(seconds / steps),
                     "× micrograd (speed-up)": f"{speed:.1f}×" if speed else "—",
                     "loss curve vs micrograd": "—" if gap is None else f"max rel. gap {gap:.1e}",
                     "final loss": f"{curve[-1][0]:.6f}", "accuracy": f"{curve[-1][1]:.0%}"}
        if key == "compiled":
            row.extra["seconds"] += f" (compile {fmt_time(compile_s)})"
        table.rows.append(row)
        if key != "micrograd" and ref:
            table.targets.append(Target(f"micrograd / {name} (speed-up)", speed,
                                        ">= 30" if key == "compiled" else ">= 1"))
            table.targets.append(Target(f"{name}: loss curve matches micrograd (max rel. gap)",
                                        gap, "<= 1e-9", unit=""))
    table.notes.append("Same data, same initial weights, same loss, same schedule; the "
                       "compiled path's time includes tracing and compiling.")
    return [table]

"""W2's generator: micrograd's ``MLP(2, [16, 16, 1])`` with fixed weights, as exprgrad text.

Input: the layer sizes, a seed and the network's input.  Output: the loss ``(out - 1)^2`` of the
network as one exprgrad program whose 337 variables are the parameters (named so that sorting
them gives the layer order: ``b1_00 … b3, w1_00_0 … w3_15``), the parameter values, and — the
hand-written side of the benchmark — the same network unrolled into straight-line Python with
its reverse pass written out, as a person writes it.

    python benchmarks/mlp_text.py            # prints the exprgrad program
    python benchmarks/mlp_text.py --python   # prints the unrolled hand-written reference

The network is micrograd's: ``act = b + w·x`` summed from the bias, ReLU on every layer but the
last, which is linear.
"""
from __future__ import annotations

import functools
import random
import sys

SIZES = (2, 16, 16, 1)
X = (0.8, 1.7)           # the network's input, fixed
SEED = 36       # a draw where half of the ReLUs are active at X


@functools.lru_cache(maxsize=None)
def names(sizes=SIZES) -> tuple[list[list[str]], list[list[list[str]]]]:
    """(biases[layer][neuron], weights[layer][neuron][input]) — zero-padded, sortable."""
    biases, weights = [], []
    last = len(sizes) - 1
    for layer in range(1, len(sizes)):
        nin, nout = sizes[layer - 1], sizes[layer]
        wn, wi = len(str(nout - 1)), len(str(nin - 1))
        if layer == last and nout == 1:
            biases.append([f"b{layer}"])
        else:
            biases.append([f"b{layer}_{j:0{max(wn, 2)}d}" for j in range(nout)])
        weights.append([[f"w{layer}_{j:0{max(wn, 2)}d}_{i:0{wi}d}" if nout > 1 else
                         f"w{layer}_{i:0{max(wi, 2)}d}" for i in range(nin)]
                        for j in range(nout)])
    return biases, weights


def parameters(sizes=SIZES, seed=SEED) -> dict[str, float]:
    """Fixed parameter values: uniform(-1, 1) from `seed`, drawn layer by layer."""
    rng = random.Random(seed)
    biases, weights = names(sizes)
    point = {}
    for bl, wl in zip(biases, weights):
        for b, ws in zip(bl, wl):
            for w in ws:
                point[w] = rng.uniform(-1, 1)
            point[b] = rng.uniform(-0.5, 0.5)
    return point


def exprgrad_text(sizes=SIZES, x=X) -> str:
    """The loss as an exprgrad program, one statement per neuron."""
    biases, weights = names(sizes)
    inputs = [repr(v) for v in x]
    lines = []
    last = len(biases) - 1
    for layer, (bl, wl) in enumerate(zip(biases, weights)):
        outs = []
        for j, (b, ws) in enumerate(zip(bl, wl)):
            act = " + ".join([b] + [f"{w}*{xi}" for w, xi in zip(ws, inputs)])
            name = f"h{layer + 1}_{j:02d}" if layer < last else "out"
            lines.append(f"{name} = relu({act})" if layer < last else f"{name} = {act}")
            outs.append(name)
        inputs = outs
    lines.append("loss = (out - 1)^2")
    return "\n".join(lines) + "\n"


def variables(sizes=SIZES) -> list[str]:
    return sorted(parameters(sizes))


def reference_python(sizes=SIZES, x=X, name="mlp_grad") -> str:
    """The hand-written reference: forward unrolled, then the reverse pass unrolled."""
    biases, weights = names(sizes)
    args = variables(sizes)
    body = []
    inputs = [repr(v) for v in x]
    zs, hs = [], []
    last = len(biases) - 1
    for layer, (bl, wl) in enumerate(zip(biases, weights)):
        lz, lh = [], []
        for j, (b, ws) in enumerate(zip(bl, wl)):
            act = " + ".join([b] + [f"{w} * {xi}" for w, xi in zip(ws, inputs)])
            if layer < last:
                z, h = f"z{layer + 1}_{j:02d}", f"h{layer + 1}_{j:02d}"
                body.append(f"{z} = {act}")
                body.append(f"{h} = {z} if {z} > 0.0 else 0.0")
                lz.append(z)
                lh.append(h)
            else:
                body.append(f"out = {act}")
        zs.append(lz)
        hs.append(lh)
        inputs = lh
    body.append("e = out - 1.0")
    body.append("loss = e * e")
    body.append("d_out = 2.0 * e")
    # Reverse pass: d of each pre-activation, layer by layer from the top.
    grads: dict[str, str] = {biases[last][0]: "d_out"}
    upstream = ["d_out"]
    for layer in range(last, 0, -1):
        # d h_{layer}[i] = sum_j d_z_{layer+1}[j] * w_{layer+1}[j][i]; then through the ReLU.
        wl = weights[layer]
        dz = []
        for i, z in enumerate(zs[layer - 1]):
            terms = [f"{d} * {wl[j][i]}" for j, d in enumerate(upstream)]
            d = f"d_{z}"
            body.append(f"{d} = {' + '.join(terms)} if {z} > 0.0 else 0.0")
            dz.append(d)
        for j, d in enumerate(upstream):
            for i, h in enumerate(hs[layer - 1]):
                grads[wl[j][i]] = f"{d} * {h}"
        for j, d in enumerate(dz):
            grads[biases[layer - 1][j]] = d
        upstream = dz
    for j, d in enumerate(upstream):
        for i, xi in enumerate(x):
            grads[weights[0][j][i]] = f"{d} * {xi!r}"
    out = ",\n        ".join(grads[a] for a in args)
    lines = [f"def {name}({', '.join(args)}):"]
    lines += [f"    {s}" for s in body]
    lines.append(f"    return loss, (\n        {out})")
    return "\n".join(lines) + "\n"


def model(make, point: dict, sizes=SIZES) -> tuple[list, dict]:
    """micrograd's MLP structure: layers of (bias, [weights]) leaves made by ``make(value)``
    (a `Value` class, or a function returning a symbol); also {name: leaf}."""
    biases, weights = names(sizes)
    params = {k: make(v) for k, v in point.items()} if callable(make) else make
    layers = [[(params[b], [params[w] for w in ws]) for b, ws in zip(bl, wl)]
              for bl, wl in zip(biases, weights)]
    return layers, params


def forward(layers: list, x=X):
    """micrograd's MLP forward and the loss, for any `Value`-like leaves: ``act = b + w·x``
    summed from the bias (micrograd's `Neuron.__call__`), ReLU on all layers but the last."""
    inputs = list(x)
    last = len(layers) - 1
    for i, layer in enumerate(layers):
        outs = []
        for b, ws in layer:
            act = sum((wi * xi for wi, xi in zip(ws, inputs)), b)
            outs.append(act.relu() if i < last else act)
        inputs = outs
    return (inputs[0] - 1) ** 2


if __name__ == "__main__":
    print(reference_python() if "--python" in sys.argv[1:] else exprgrad_text(), end="")

"""Dask for real: one `dask.distributed.LocalCluster` with two worker processes (one per module,
started once), the seed neuron and the 2-16-16-1 MLP loss evaluated over chunked Dask arrays
on it — value and gradient — against numpy to 1e-12.

Needs the ``dask`` extra (``pip install '.[dask]'``; CI installs it); skipped, saying so,
without it.  Worker processes are spawned, and import exprgrad from the same environment.
"""
from __future__ import annotations

import random
import warnings

import numpy as np
import pytest

da = pytest.importorskip("dask.array", reason="Dask not installed (pip install '.[dask]'): the "
                         "Dask cluster tests are skipped")
distributed = pytest.importorskip("dask.distributed", reason="dask.distributed not installed "
                                  "(pip install '.[dask]'): the Dask cluster tests are skipped")

import exprgrad as eg                      # noqa: E402
from exprgrad import codegen               # noqa: E402

from corpus import NEURON                  # noqa: E402

ROWS, CHUNK = 40_000, 10_000


def mlp_loss(sizes=(2, 16, 16, 1), seed=36) -> tuple[str, dict]:
    """The 2-16-16-1 MLP (ReLU hidden layers, linear output) with loss ``(out - y)^2`` over
    data columns x0, x1, y; its 337 parameters are variables too, with values."""
    rng = random.Random(seed)
    inputs, lines, params = ["x0", "x1"], [], {}
    for layer in range(len(sizes) - 1):
        outs = []
        for j in range(sizes[layer + 1]):
            terms = [f"b{layer}_{j:02d}"]
            params[terms[0]] = rng.uniform(-0.5, 0.5)
            for i, x in enumerate(inputs):
                w = f"w{layer}_{j:02d}_{i:02d}"
                params[w] = rng.uniform(-1, 1)
                terms.append(f"{w}*{x}")
            last = layer == len(sizes) - 2
            name = "out" if last else f"h{layer}_{j:02d}"
            lines.append(f"{name} = " + (" + ".join(terms) if last else
                                         f"relu({' + '.join(terms)})"))
            outs.append(name)
        inputs = outs
    return "\n".join(lines + ["loss = (out - y)^2"]), params


@pytest.fixture(scope="module")
def client():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                      dashboard_address=None) as cluster, \
                distributed.Client(cluster) as c:
            c.compute(da.ones(4, chunks=2).sum(), sync=True)     # workers import dask.array
            yield c


def _numpy_grad(f, point):
    """The emitted numpy backend's value and partials, expanded to the data's shape."""
    _, grad_np = codegen.load_python(f.to_source("numpy"))
    value, grads = grad_np(*(point[v] for v in f.variables))
    full = (ROWS,)
    return np.broadcast_to(value, full), [np.broadcast_to(g, full) for g in grads]


def _close(got, want, tol=1e-12):
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    return got.shape == want.shape and bool(np.all(np.abs(got - want)
                                                   <= tol * np.maximum(1.0, np.abs(want))))


def test_seed_neuron_value_and_gradient_on_the_cluster(client):
    f = eg.compile(NEURON)
    rng = np.random.default_rng(0)
    point = {v: rng.uniform(-2, 2, ROWS) for v in f.variables}
    lazy = {v: da.from_array(a, chunks=CHUNK) for v, a in point.items()}
    value, grads = f.grad(**lazy)                          # the library: one task per chunk
    assert isinstance(value, da.Array)
    got = client.compute([value, *grads.values()], sync=True)
    want_v, want_g = _numpy_grad(f, point)
    assert _close(got[0], want_v) and all(map(_close, got[1:], want_g))
    assert _close(client.compute(f(**lazy), sync=True), want_v)
    # the emitted array code itself on Dask arrays: a lazy graph per statement
    pytest.importorskip("array_api_compat", reason="array-api-compat not installed")
    _, grad_a = codegen.load_python(f.to_source("array"))
    value, grads = grad_a(*lazy.values())
    got = client.compute([value, *grads], sync=True)
    assert _close(got[0], want_v) and all(map(_close, got[1:], want_g))


def test_mlp_loss_value_and_gradient_on_the_cluster(client):
    text, params = mlp_loss()
    f = eg.compile(text)
    assert len(f.variables) == 340
    rng = np.random.default_rng(1)
    x0, x1 = rng.uniform(-2, 2, ROWS), rng.uniform(-2, 2, ROWS)
    data = {"x0": x0, "x1": x1, "y": np.sin(x0) * np.cos(x1)}
    lazy = {k: da.from_array(a, chunks=CHUNK) for k, a in data.items()}
    want_v, want_g = _numpy_grad(f, {**params, **data})
    # per row: value and the 340 partials, views of one stacked array
    value, grads = f.grad(**params, **lazy)
    rows = client.compute([value, grads["w0_03_01"], grads["x0"], grads["b2_00"]], sync=True)
    index = [f.variables.index(v) for v in ("w0_03_01", "x0", "b2_00")]
    assert _close(rows[0], want_v) and all(_close(r, want_g[i]) for r, i in zip(rows[1:], index))
    # the mean loss and mean gradient: summed inside each chunk's task
    mean_v, mean_g = f.mean_grad(**params, **lazy)
    got = client.compute([mean_v, *mean_g.values()], sync=True)
    assert _close(got[0], want_v.mean()) and all(map(_close, got[1:], (g.mean() for g in want_g)))


def test_the_dask_example_on_the_same_cluster(client):
    """examples/dask_gradients.py through a scheduler address (as on a real cluster): the mean
    loss and gradient of data generated on the workers, against the same data in memory."""
    import importlib.util
    from pathlib import Path
    path = Path(__file__).resolve().parent.parent / "examples" / "dask_gradients.py"
    spec = importlib.util.spec_from_file_location("dask_gradients", path)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    r = example.run_dask(200_000, 50_000, scheduler=client.scheduler.address, progress=False)
    assert r["chunks"] == 4 and r["workers"] == 2 and set(r["peak_mb"]) >= {"worker 1",
                                                                           "scheduler"}
    data = client.compute(example.dask_data(200_000, 50_000), sync=True)
    loss, grads = eg.compile(example.MODEL).mean_grad(**example.PARAMS, **data)
    assert _close(r["loss"], loss) and all(_close(r["grad"][k], grads[k]) for k in r["grad"])
    assert "rows 200,000 in 4 chunks" in example.report(r)

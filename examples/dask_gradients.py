"""Mean loss and gradient of a logistic regression over 10^8 rows on a Dask cluster, in bounded
memory: the path to take when the data outgrow one machine.

    python examples/dask_gradients.py                          # a LocalCluster: 2 worker processes
    python examples/dask_gradients.py --scheduler tcp://HOST:8786     # a running cluster
    python examples/dask_gradients.py --rows 1e7 --numpy       # in memory, for comparison

The data — four standard-normal features and labels drawn from a known logistic model — are
generated chunk by chunk on the workers (never on this machine); exprgrad's ``mean_grad`` runs
the model's gradient program once per chunk and sums inside the task, and Dask adds up the
chunks' sums.  Nothing but the five means comes back.  Reported: the mean loss and gradient,
wall and CPU time, rows per CPU-second, and the peak resident memory of every process
(``ru_maxrss``: this process, which hosts a LocalCluster's scheduler too, and each worker).

On a real cluster: start ``dask scheduler`` on one machine and ``dask worker tcp://HOST:8786``
on each of the others (every machine needs exprgrad, numpy and dask installed), then pass the
scheduler's address; nothing else changes.  Needs ``pip install '.[dask]'``.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time

import numpy as np

import exprgrad as eg

MODEL = "z = b + w1*x1 + w2*x2 + w3*x3 + w4*x4; loss = softplus(z) - y*z"
PARAMS = {"b": 0.1, "w1": 0.2, "w2": -0.3, "w3": 0.4, "w4": 0.0}
TRUE_Z = (0.5, 1.0, -2.0, 0.5, 0.0)          # the model the labels are drawn from


def peak_rss_mb() -> float:
    """This process's peak resident memory in MB (ru_maxrss: KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (2 ** 20 if sys.platform == "darwin" else 2 ** 10)


def cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system


def dask_data(rows: int, chunk: int, seed: int = 42):
    """The features and labels as lazy Dask arrays, generated on the workers chunk by chunk."""
    import dask.array as da
    rng = da.random.default_rng(seed)
    xs = [rng.standard_normal(rows, chunks=chunk) for _ in range(4)]
    z = TRUE_Z[0] + sum(w * x for w, x in zip(TRUE_Z[1:], xs))
    y = (rng.random(rows, chunks=chunk) < 1 / (1 + da.exp(-z))).astype(np.float64)
    return {"x1": xs[0], "x2": xs[1], "x3": xs[2], "x4": xs[3], "y": y}


def numpy_data(rows: int, seed: int = 42):
    """The same model's data in memory (numpy), for the comparison."""
    rng = np.random.default_rng(seed)
    xs = [rng.standard_normal(rows) for _ in range(4)]
    z = TRUE_Z[0] + sum(w * x for w, x in zip(TRUE_Z[1:], xs))
    y = (rng.random(rows) < 1 / (1 + np.exp(-z))).astype(np.float64)
    return {"x1": xs[0], "x2": xs[1], "x3": xs[2], "x4": xs[3], "y": y}


def run_numpy(rows: int) -> dict:
    f = eg.compile(MODEL)
    cpu, start = cpu_seconds(), time.perf_counter()
    loss, grads = f.mean_grad(**PARAMS, **numpy_data(rows))
    wall, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    return {"rows": rows, "loss": float(loss), "grad": {k: float(grads[k]) for k in PARAMS},
            "wall": wall, "cpu": cpu, "peak_mb": {"this process": peak_rss_mb()}}


def run_dask(rows: int, chunk: int, scheduler: str | None = None, progress: bool = True,
             workers: int = 2) -> dict:
    from dask.distributed import Client, LocalCluster
    from dask.distributed import progress as progress_bar
    start = time.perf_counter()
    cluster = None if scheduler else LocalCluster(
        n_workers=workers, processes=True, threads_per_worker=1, dashboard_address=None)
    try:
        with Client(scheduler or cluster) as client:
            import dask.array as da
            client.compute(da.ones(4, chunks=2).sum(), sync=True)   # workers import dask.array
            up = time.perf_counter() - start
            f = eg.compile(MODEL)
            loss, grads = f.mean_grad(**PARAMS, **dask_data(rows, chunk))   # lazy: a task graph
            outputs = [loss, *(grads[k] for k in PARAMS)]
            cpu0, cpu_here = client.run(cpu_seconds), cpu_seconds()
            t0 = time.perf_counter()
            futures = client.compute(outputs)
            tick = 0.1 if sys.stdout.isatty() else 2.0      # fewer redraws into a file or pipe
            if progress:            # Dask's own progress bar (a widget in a notebook)
                progress_bar(futures, interval=f"{tick}s")
            values = client.gather(futures)
            wall = time.perf_counter() - t0
            done = time.perf_counter()
            cpu1 = client.run(cpu_seconds)
            cpu_workers = sum(cpu1[w] - cpu0[w] for w in cpu1 if w in cpu0)
            cpu_here = cpu_seconds() - cpu_here
            peaks = {f"worker {i + 1}": mb for i, mb in enumerate(client.run(peak_rss_mb)
                                                                   .values())}
            here = "this process (client + scheduler)" if cluster else "this process (client)"
            peaks = {here: peak_rss_mb(), **peaks}
            if scheduler:
                peaks["scheduler"] = client.run_on_scheduler(peak_rss_mb)
            # The scheduler's feed to the bar stops at its next tick; closing the cluster
            # before that logs a harmless CancelledError traceback (a known Dask wrinkle).
            time.sleep(max(0.0, done + 1.5 * tick - time.perf_counter()) if progress else 0.0)
    finally:
        if cluster is not None:
            cluster.close()
    return {"rows": rows, "chunk": chunk, "chunks": -(-rows // chunk), "up": up,
            "loss": float(values[0]), "grad": dict(zip(PARAMS, map(float, values[1:]))),
            "wall": wall, "cpu": cpu_workers + cpu_here, "cpu_workers": cpu_workers,
            "workers": len(cpu1), "peak_mb": peaks}


def report(r: dict) -> str:
    grad = ", ".join(f"{k} {v:+.6e}" for k, v in r["grad"].items())
    lines = [f"rows {r['rows']:,}" + (f" in {r['chunks']} chunks of {r['chunk']:,} on "
                                        f"{r['workers']} workers" if "chunk" in r else
                                        " in memory (numpy)"),
             f"mean loss {r['loss']:.9f}", f"mean gradient: {grad}",
             f"computed in {r['wall']:.1f} s wall, {r['cpu']:.1f} s CPU: "
             f"{r['rows'] / r['cpu'] / 1e6:.2f} M rows per CPU-second, "
             f"{r['rows'] / r['wall'] / 1e6:.2f} M rows per second"]
    lines += ["peak memory: " + "; ".join(f"{k} {v:.0f} MB" for k, v in r["peak_mb"].items())]
    return "\n".join(lines)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=float, default=1e8, help="rows of data (default 1e8)")
    ap.add_argument("--chunk", type=float, default=2e6, help="rows per chunk (default 2e6)")
    ap.add_argument("--scheduler", default=None, metavar="ADDRESS",
                    help="a running Dask scheduler (tcp://HOST:8786); default: a LocalCluster "
                         "of 2 worker processes on this machine")
    ap.add_argument("--workers", type=int, default=2, help="LocalCluster worker processes")
    ap.add_argument("--numpy", action="store_true", help="compute in memory with numpy instead")
    ap.add_argument("--no-progress", action="store_true", help="no progress bar")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args(argv)
    rows, chunk = int(args.rows), int(args.chunk)
    if args.numpy:
        r = run_numpy(rows)
    else:
        try:                # the dask extra is optional: say how to get it, not a traceback
            import dask.distributed  # noqa: F401
        except ImportError:
            ap.exit(2, "dask_gradients.py needs Dask: pip install '.[dask]' in the checkout "
                       "(or run it with --numpy, in memory)\n")
        r = run_dask(rows, chunk, args.scheduler, not args.no_progress and not args.json,
                     args.workers)
    if args.json:
        print(json.dumps(r))
        return
    if not args.numpy:
        print(f"\ncluster ready in {r['up']:.1f} s")
    print(report(r))


if __name__ == "__main__":      # needed: a LocalCluster's workers are spawned processes
    main()

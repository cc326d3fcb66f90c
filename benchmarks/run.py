"""Run exprgrad's benchmarks side by side with hand-written code and the installed peers.

    python benchmarks/run.py [--quick] [--only W1,W3] [--json PATH] [--no-peers]

Input: the workloads W1..W7 (one module each in this folder).  Output: one Markdown table per
workload on stdout — median, min and max per call, the ratio to the hand-written reference
measured in the same run, every installed peer (micrograd, sympy, jax, torch, casadi, numexpr;
missing ones are listed as missing) and the issue's targets with whether they are met — and the
same numbers as JSON (default: benchmarks/results/latest.json; with --quick the untracked
benchmarks/results/quick.local.json).

Every workload checks each implementation's numbers against its reference before timing it.
numpy is timed as the environment gives it; on machines that set OPENBLAS_CORETYPE or
OPENBLAS_L2_SIZE, run `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/run.py`
for numbers that are not slowed by them (the runner reports which of the two were set).
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))          # exprgrad from the checkout, installed or not

import harness  # noqa: E402

WORKLOADS = {
    "W1": "w1_neuron",
    "W2": "w2_mlp",
    "W3": "w3_arrays",
    "W4": "w4_scaling",
    "W5": "w5_depth",
    "W6": "w6_training",
    "W7": "w7_second_order",
}


def machine() -> dict:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import numpy
    return {
        "cpu": cpu, "nproc": os.cpu_count(), "python": platform.python_version(),
        "platform": platform.platform(), "numpy": numpy.__version__,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "openblas_env": {k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
                         if k in os.environ},
    }


def header(info: dict, versions: dict, quick: bool) -> str:
    installed = ", ".join(f"{k} {v}" for k, v in versions.items() if v) or "none"
    missing = ", ".join(k for k, v in versions.items() if not v) or "none"
    import exprgrad
    lines = [
        f"## exprgrad {exprgrad.__version__} benchmarks ({'quick' if quick else 'full'} run)",
        "",
        f"Machine: {info['cpu']}, {info['nproc']} cores (nproc), Python {info['python']}, "
        f"numpy {info['numpy']}; {info['date']}.",
        f"Peers installed: {installed}. Missing: {missing}.",
    ]
    if info["openblas_env"]:
        lines.append(f"Note: {info['openblas_env']} set in the environment (slows numpy).")
    return "\n".join(lines)


def default_json(quick: bool) -> Path:
    """Where results go without --json: a full run updates the tracked latest.json (its figures
    are the README's); a quick run writes an untracked file (.gitignore), never the tracked
    results, so trying the benchmarks leaves the checkout clean."""
    return HERE / "results" / ("quick.local.json" if quick else "latest.json")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, fewer samples "
                        "(under a minute)")
    parser.add_argument("--only", default="", help="comma-separated workloads, e.g. W1,W3")
    parser.add_argument("--json", default=None, help="where to write the JSON results")
    parser.add_argument("--no-peers", action="store_true", help="treat every peer as missing "
                        "(a fast smoke run of exprgrad against the hand-written references)")
    args = parser.parse_args(argv)

    only = [w.strip().upper() for w in args.only.split(",") if w.strip()] or list(WORKLOADS)
    unknown = [w for w in only if w not in WORKLOADS]
    if unknown:
        parser.error(f"unknown workload(s) {', '.join(unknown)}; choose from "
                     f"{', '.join(WORKLOADS)}")
    settings = harness.Settings(quick=args.quick)
    if args.no_peers:
        import peers
        peers.DISABLED = True
    info, versions = machine(), harness.peer_versions()
    print(header(info, versions, args.quick), flush=True)

    results = {"machine": info, "peers": versions, "quick": args.quick, "workloads": {}}
    failures = 0
    started = time.perf_counter()
    for key in only:
        t0 = time.perf_counter()
        try:
            module = __import__(WORKLOADS[key])
            tables = module.run(settings)
        except Exception:                      # noqa: BLE001 - report and go on
            failures += 1
            print(f"\n### {key} — failed\n\n```\n{traceback.format_exc()}```", flush=True)
            results["workloads"][key] = {"error": traceback.format_exc()}
            continue
        for table in tables:
            print("\n" + harness.markdown(table), flush=True)
        # date and peers per workload: a partial run (--only) keeps the others' entries
        results["workloads"][key] = {"seconds": time.perf_counter() - t0, "date": info["date"],
                                     "peers": versions,
                                     "tables": [harness.to_json(t) for t in tables]}
    total = time.perf_counter() - started
    results["seconds"] = total

    targets = [(k, t) for k, w in results["workloads"].items() for tab in w.get("tables", [])
               for t in tab["targets"]]
    if targets:
        print("\n### Targets\n\n| workload | target | measured | goal | met |\n"
              "| --- | --- | ---: | ---: | --- |")
        for key, t in targets:
            measured, goal = harness.fmt_target(t["measured"], t["goal"], t["unit"])
            met = {True: "✓ yes", False: "✗ no", None: "— not measured"}[t["met"]]
            print(f"| {key} | {t['what']} | {measured} | "
                  f"{goal.replace('<=', '≤').replace('>=', '≥')} | {met} |")
    print(f"\nTotal: {total:.1f} s.")

    out = Path(args.json) if args.json else default_json(args.quick)
    out.parent.mkdir(parents=True, exist_ok=True)
    if args.only and out.exists():
        # A partial run updates its workloads in the file and keeps the others' latest results.
        try:
            previous = json.loads(out.read_text(encoding="utf-8"))
            if previous.get("quick") == args.quick:
                previous["workloads"].update(results["workloads"])
                previous.update({k: v for k, v in results.items() if k != "workloads"})
                results = previous
        except (ValueError, KeyError):
            pass
    out.write_text(json.dumps(results, indent=1, default=str) + "\n", encoding="utf-8")
    print(f"JSON: {out}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

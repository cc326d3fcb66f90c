"""Start-up cost: what ``import exprgrad`` and a one-line CLI run spend, and on which imports.

    python benchmarks/startup.py [--runs N]

Input: nothing (the checkout's exprgrad, run in fresh interpreters).  Output:

1. wall and CPU time (the best of `--runs`) of ``python -c "import exprgrad"``, of
   ``python -m exprgrad "x*y" --at x=1 y=2 --no-check`` and ``--at`` with the check, and of a
   bare ``python -c pass``, against issue 15's targets (0.1 s, 0.3 s, 0.6 s);
2. ``python -X importtime`` of the first two, as a table: the self time of every third-party
   package (numpy, sympy, graphviz, lark, ... with the standard-library modules they import),
   of each exprgrad module and of the rest of the standard library, and for each package the
   exprgrad module whose import pulled it in — the list of imports to make lazy.
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = {
    "python -c pass": ["-c", "pass"],
    "import exprgrad": ["-c", "import exprgrad"],
    "exprgrad 'x*y' --at x=1 y=2 --no-check": ["-m", "exprgrad", "x*y", "--at", "x=1", "y=2",
                                                "--no-check"],
    "exprgrad 'x*y' --at x=1 y=2 (with the check)": ["-m", "exprgrad", "x*y", "--at", "x=1",
                                                     "y=2"],
}
TARGETS = {"import exprgrad": 0.1, "exprgrad 'x*y' --at x=1 y=2 --no-check": 0.3,
           "exprgrad 'x*y' --at x=1 y=2 (with the check)": 0.6}
THIRD_PARTY = ("numpy", "sympy", "mpmath", "graphviz", "lark")


def _env() -> dict:
    # As an installed package runs: with its bytecode cached (pip writes it at install time).
    # Without it (PYTHONDONTWRITEBYTECODE), every start compiles exprgrad's sources again:
    # that doubles `import exprgrad`, and is not what a user waits for.
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def timed(args: list[str], runs: int) -> tuple[float, float]:
    """(best wall, best CPU) seconds of ``python <args>``."""
    walls, cpus = [], []
    for _ in range(runs):
        before = os.times()
        start = time.perf_counter()
        subprocess.run([sys.executable, *args], env=_env(), capture_output=True, check=True)
        walls.append(time.perf_counter() - start)
        after = os.times()
        cpus.append(after.children_user - before.children_user
                    + after.children_system - before.children_system)
    return min(walls), min(cpus)


def importtime(args: list[str]) -> list[tuple[int, str, int]]:
    """(self µs, module, depth) for each import, in the order -X importtime reports them."""
    out = subprocess.run([sys.executable, "-X", "importtime", *args], env=_env(),
                         capture_output=True, text=True, check=True).stderr
    rows = []
    for line in out.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if m:
            rows.append((int(m.group(1)), m.group(4), len(m.group(3)) // 2))
    return rows


def attribute(rows) -> tuple[dict, dict]:
    """Self time per group and, per third-party package, the exprgrad modules importing it.

    A module's group is its nearest importer (or itself) that is a third-party package
    (numpy's own imports of the standard library count as numpy's), else the exprgrad module
    it is, else "stdlib etc." (what exprgrad's modules and the interpreter import).
    """
    # importtime lists a module after the modules it imported, one level deeper: a module's
    # importer is the next row at a smaller depth.
    importer: dict[int, int] = {}
    pending: list[int] = []
    for i, (_, _, depth) in enumerate(rows):
        while pending and rows[pending[-1]][2] > depth:
            importer[pending.pop()] = i
        pending.append(i)
    groups: dict[str, float] = defaultdict(float)
    pulled_by: dict[str, set] = defaultdict(set)
    for i, (us, module, _) in enumerate(rows):
        j, group = i, None
        while j is not None and group is None:
            top = rows[j][1].split(".")[0]
            if top in THIRD_PARTY:
                group = top
            j = importer.get(j)
        if group is None:
            group = module if module.split(".")[0] == "exprgrad" else "stdlib etc."
        groups[group] += us / 1e6
        if module.split(".")[0] in THIRD_PARTY:
            k = importer.get(i)
            while k is not None and rows[k][1].split(".")[0] != "exprgrad":
                k = importer.get(k)
            if k is not None:
                pulled_by[group].add(rows[k][1])
    return groups, pulled_by


def least(runs: list[dict]) -> dict:
    """Per group, the least self time over several runs (a run slowed by load counts less)."""
    return {g: min(r.get(g, 0.0) for r in runs) for g in set().union(*runs)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args(argv)
    for cmd in COMMANDS.values():                 # writes the bytecode caches once
        subprocess.run([sys.executable, *cmd], env=_env(), capture_output=True, check=True)
    print("| command | wall | CPU | target (wall) |\n|---|---|---|---|")
    for name, cmd in COMMANDS.items():
        wall, cpu = timed(cmd, args.runs)
        target = TARGETS.get(name)
        mark = "" if target is None else (f"≤ {target} s " + ("✓" if wall <= target else "✗"))
        print(f"| `{name}` | {wall:.3f} s | {cpu:.3f} s | {mark} |")
    for name in ("import exprgrad", "exprgrad 'x*y' --at x=1 y=2 --no-check"):
        measured = [attribute(importtime(COMMANDS[name])) for _ in range(args.runs)]
        groups, pulled_by = least([g for g, _ in measured]), measured[0][1]
        total = sum(groups.values())
        print(f"\n`python -X importtime` of `{name}`: {total:.3f} s of imports in all\n")
        print("| imports of | self time | imported first by |\n|---|---|---|")
        for group, seconds in sorted(groups.items(), key=lambda kv: -kv[1]):
            if seconds >= 0.002:
                who = ", ".join(sorted(pulled_by.get(group, ())))
                print(f"| {group} | {seconds * 1e3:.0f} ms | {who} |")
    print(f"\nImport self times: the least of {args.runs} -X importtime runs (which slow imports "
          f"a little); wall and CPU: the best of {args.runs} runs; load average "
          f"{os.getloadavg()[0]:.1f}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

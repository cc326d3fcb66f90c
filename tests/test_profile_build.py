"""The build profile's workloads: hand-written limits that are right, a report that runs.

`benchmarks/programs.py` writes each workload's gradient by hand (the limit of issue 15);
here each one is checked against central differences and against exprgrad, and
`benchmarks/profile_build.py` is run at small sizes as a user runs it.  Timings are never
asserted.
"""
import subprocess
import sys
from pathlib import Path

import pytest

import exprgrad as eg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
import programs  # noqa: E402

sys.path.remove(str(ROOT / "benchmarks"))


@pytest.mark.parametrize("name, size", [("w4", 7), ("chain", 40), ("chain_lines", 40),
                                        ("pendulum", 60)])
def test_hand_written_gradients_are_right(name, size):
    prog = programs.make(name, size)
    value, partials = programs.load_limit(prog.limit)(*[prog.point[v] for v in prog.variables])
    for got, fd in zip(partials, programs.central_differences(prog)):
        assert got == pytest.approx(fd, rel=1e-5, abs=1e-8)
    f = eg.compile(prog.text)
    assert f.variables == tuple(prog.variables)
    eg_value, eg_partials = f.grad(**prog.point)
    assert eg_value == pytest.approx(value, rel=1e-12)
    for v, got in zip(prog.variables, partials):
        assert eg_partials[v] == pytest.approx(got, rel=1e-9, abs=1e-12)


def test_the_pendulum_is_a_4_mb_program_at_100k_statements():
    prog = programs.make("pendulum", 100_000)
    assert prog.text.count("\n") == 100_001 and 4.2e6 < len(prog.text) < 4.4e6


def test_the_profile_prints_every_stage_and_checks_every_row():
    run = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "profile_build.py"),
                          "--only", "w4,pendulum", "--sizes", "10,100"],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    head = lines[0]
    for column in ("lex", "parse", "lower", "grad", "print", "compile", "1st call", "limit",
                   "text→grad", "RSS/op"):
        assert f"| {column}" in head
    rows = [line for line in lines[2:] if line.startswith("| w4") or line.startswith("| pend")]
    assert len(rows) == 4 and all(row.rstrip().endswith("| ✓ |") for row in rows)

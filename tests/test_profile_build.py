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
from helpers import run_python

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


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc (Linux)")
def test_a_child_s_peak_rss_is_its_own_not_its_parent_s():
    # ru_maxrss survives fork and exec: a build measured in a child of a big process (run.py
    # after W3's arrays) read the parent's memory as its own.
    code = ("import subprocess, sys\n"
            "big = bytearray(256 * 1024 * 1024)\n"
            "big[::4096] = b'x' * len(big[::4096])\n"
            f"sys.path.insert(0, {str(ROOT / 'benchmarks')!r})\n"
            "child = ('import profile_build; print(profile_build._rss_kb())')\n"
            "out = subprocess.run([sys.executable, '-c', child], capture_output=True, text=True,"
            " env={'PYTHONPATH': sys.path[0]}, check=True)\n"
            "print(out.stdout.strip())\n")
    run = run_python(code)
    assert run.returncode == 0, run.stderr
    assert int(run.stdout.split()[-1]) < 128 * 1024      # KB; the parent holds 256 MB

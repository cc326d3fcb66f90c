"""The command line, end to end: `exprgrad.cli.main(argv)` with captured streams
(`helpers.run_cli`), and through the real process where the process boundary is the point
(the last section)."""
import json
import os

import pytest

from corpus import NEURON_TEXT as NEURON, SEED_ARGS as SEED
from helpers import run_cli as run, run_process


def rows(stdout):
    table = {}
    for line in stdout.splitlines():
        parts = line.split()
        if parts and parts[0] in ("b", "w1", "w2", "x1", "x2"):
            table[parts[0]] = parts
    return table


def test_seed_neuron_at_point():
    res = run(NEURON, "--at", *SEED)
    assert res.returncode == 0, res.stderr
    assert "0.707106781187" in res.stdout.splitlines()[0]
    table = rows(res.stdout)
    assert set(table) == {"b", "w1", "w2", "x1", "x2"}
    grads = {k: float(v[2]) for k, v in table.items()}
    assert grads == pytest.approx({"x1": -1.5, "w1": 1.0, "x2": 0.5, "w2": 0.0, "b": 0.5})


def test_wrt_limits_rows():
    res = run(NEURON, "--at", *SEED, "--wrt", "x1", "b")
    assert res.returncode == 0
    assert set(rows(res.stdout)) == {"x1", "b"}


def test_json():
    res = run("n = x1*w1 + x2*w2 + b; o = tanh(n)", "--at", *SEED, "--json")
    assert res.returncode == 0
    data = json.loads(res.stdout)
    assert data["value"] == pytest.approx(0.70710678, rel=1e-6)
    assert data["variables"] == ["b", "w1", "w2", "x1", "x2"]
    assert data["grad"]["x1"] == pytest.approx(-1.5)
    assert data["output"] == "o"


def test_structure_without_at():
    res = run("n = x1*w1+x2*w2+b; o = tanh(n)")
    assert res.returncode == 0
    assert "n = x1*w1 + x2*w2 + b" in res.stdout
    assert "o = tanh(n)" in res.stdout
    assert "b, w1, w2, x1, x2" in res.stdout


def test_expression_starting_with_minus_and_stdin():
    res = run("-x^2", "--at", "x=3", "--json")
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["value"] == -9.0
    res = run("-", "--at", "x=2", "--json", stdin="y = x*x\n# comment\nz = y + 1\n")
    assert json.loads(res.stdout)["value"] == 5.0


@pytest.mark.parametrize("args, message", [
    (["tanh(x1"], "not closed"),
    (["tanh(x1 +"], "unexpected end of input"),
    (["2 +* 3"], "unexpected '*'"),
    (["tanx(x)"], "did you mean tan"),
    (["x*y", "--at", "x=1"], "missing value for y"),
    (["x", "--at", "x=abc"], "not a number"),
    (["x", "--at", "x"], "NAME=VALUE"),
    (["x", "--at", "x=1", "--wrt", "q"], "not a variable"),
    (["log(x)", "--at", "x=-1"], "log(-1) is undefined"),
    (["1/x", "--at", "x=0"], "division by zero"),
])
def test_bad_input_exits_2_with_message_and_no_traceback(args, message):
    res = run(*args)                 # an exception other than an ExprError would propagate
    assert res.returncode == 2
    assert message in res.stderr and res.stdout == ""


def test_caret_under_the_column():
    res = run("tanh(x1")
    lines = res.stderr.rstrip("\n").splitlines()
    assert lines[-2] == "tanh(x1" and lines[-1] == " " * 7 + "^"


@pytest.mark.parametrize("extra", [[], ["--json"], ["--latex"]])
def test_closed_form_with_a_number_too_long_to_print_is_skipped_not_a_traceback(extra):
    # sympy keeps 2^20000 exact (6,021 digits); Python refuses to print it (ValueError).
    res = run("x*2^20000", *extra)
    assert res.returncode == 0, res.stderr
    assert "symbolic side skipped: a number in the closed form has more than" in res.stdout
    assert "x*2^20000" in res.stdout


def test_usage_errors_exit_2():
    assert run().returncode == 2
    assert run("x", "--bogus").returncode == 2


# ---- through the real process ---------------------------------------------------------------
# Kept as subprocesses because what they check lives at the process boundary: the exit status
# that `python -m exprgrad` (the console script's `entry`) hands to the shell, that stderr
# carries no traceback, stdin read as a file, and text in and out through the locale's
# encoding.  (tests/test_packaging.py runs the installed console script itself.)

def test_real_process_exit_status_and_no_traceback():
    ok = run_process(NEURON, "--at", *SEED)
    assert ok.returncode == 0, ok.stderr
    assert "0.707106781187" in ok.stdout and ok.stderr == ""
    for args in (["tanh(x1"], ["x", "--bogus"]):          # an ExprError; argparse's usage
        bad = run_process(*args)
        assert bad.returncode == 2, (args, bad.stderr)
        assert "Traceback" not in bad.stderr and bad.stderr.strip() and bad.stdout == ""


def test_real_process_reads_stdin_and_writes_unicode_in_the_c_locale():
    env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
    env.pop("PYTHONIOENCODING", None)
    res = run_process("-", "--at", "θ=2", "x=3", stdin="y = θ*x\n# comment\nz = y + 1\n",
                      env=env)
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("z = 7") and "∂z/∂variable" in res.stdout
    assert [line.split()[:3] for line in res.stdout.splitlines() if line.startswith("θ ")] == \
        [["θ", "2.0", "3"]]

"""The command line, end to end through a subprocess (as a user runs it)."""
import json
import subprocess
import sys

import pytest

from corpus import NEURON_TEXT as NEURON, SEED_ARGS as SEED



def run(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "exprgrad", *args], capture_output=True,
                          text=True, input=stdin, timeout=120)


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
    res = run(*args)
    assert res.returncode == 2
    assert message in res.stderr
    assert "Traceback" not in res.stderr and res.stdout == ""


def test_caret_under_the_column():
    res = run("tanh(x1")
    lines = res.stderr.rstrip("\n").splitlines()
    assert lines[-2] == "tanh(x1" and lines[-1] == " " * 7 + "^"


@pytest.mark.parametrize("extra", [[], ["--json"], ["--latex"]])
def test_closed_form_with_a_number_too_long_to_print_is_skipped_not_a_traceback(extra):
    # sympy keeps 2^20000 exact (6,021 digits); Python refuses to print it (ValueError).
    res = run("x*2^20000", *extra)
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    assert "symbolic side skipped: a number in the closed form has more than" in res.stdout
    assert "x*2^20000" in res.stdout


def test_usage_errors_exit_2():
    assert run().returncode == 2
    assert run("x", "--bogus").returncode == 2

"""Closed forms, exp expansion, the --expand lowering and the three-way check.

References are independent of exprgrad's derivative rules: sympy expressions written by hand
here, `sympy.diff` of them, `math` functions, and finite differences.
"""
import json
import math
import signal
import threading
from fractions import Fraction

import pytest
import sympy

import exprgrad as eg
from exprgrad import symbolic
from exprgrad.check import Report, check
from exprgrad.expand import expand, expandable
from exprgrad.printer import pretty
from exprgrad.symbolic import Budget, evaluate, measure

from corpus import NEURON_TEXT as NEURON, SEED, SEED_ARGS, application
from helpers import run_cli as run

x, y, z = (sympy.Symbol(n, real=True) for n in "xyz")


# ---- Graph → sympy -------------------------------------------------------------------------

# Each language function next to the sympy expression a reader would write for it.  Written by
# hand on purpose (the one op table in tests/ not derived from the registry): it is the
# independent reference for each op's `sym`, so a new function needs a line here, and
# test_every_public_function_is_covered_by_the_table fails until it has one.
HAND_WRITTEN = {
    "exp(x)": sympy.exp(x), "log(x)": sympy.log(x), "ln(x)": sympy.log(x),
    "sqrt(x)": sympy.sqrt(x), "tanh(x)": sympy.tanh(x), "sigmoid(x)": 1 / (1 + sympy.exp(-x)),
    "relu(x)": sympy.Max(0, x), "softplus(x)": sympy.log(1 + sympy.exp(x)),
    "sin(x)": sympy.sin(x), "cos(x)": sympy.cos(x), "tan(x)": sympy.tan(x),
    "asin(x)": sympy.asin(x), "acos(x)": sympy.acos(x), "atan(x)": sympy.atan(x),
    "sinh(x)": sympy.sinh(x), "cosh(x)": sympy.cosh(x), "abs(x)": sympy.Abs(x),
    "pow(x, y)": x ** y, "x^y": x ** y, "x**y": x ** y, "max(x, y)": sympy.Max(x, y),
    "min(x, y)": sympy.Min(x, y), "log(x, 2)": sympy.log(x) / sympy.log(2),
    "log(x, y)": sympy.log(x) / sympy.log(y), "-x^2": -x ** 2, "x/y - +z": x / y - z,
    "pi*x": sympy.pi * x, "exp(1)": sympy.E,
    "logaddexp(x, y)": sympy.log(sympy.exp(x) + sympy.exp(y)),
    "logsumexp(x, y, z)": sympy.log(sympy.exp(x) + sympy.exp(y) + sympy.exp(z)),
    "max(x, y, z)": sympy.Max(x, y, z), "min(x, y, z)": sympy.Min(x, y, z),
    "log1p(x)": sympy.log(1 + x), "expm1(x)": sympy.exp(x) - 1, "erf(x)": sympy.erf(x),
    "atan2(y, x)": sympy.atan2(y, x), "hypot(x, y)": sympy.sqrt(x ** 2 + y ** 2),
    "log10(x)": sympy.log(x) / sympy.log(10), "log2(x)": sympy.log(x) / sympy.log(2),
}


@pytest.mark.parametrize("text", sorted(HAND_WRITTEN))
def test_every_construct_converts_to_the_sympy_a_reader_would_write(text):
    assert sympy.simplify(eg.compile(text).sympy - HAND_WRITTEN[text]) == 0


def test_every_public_function_is_covered_by_the_table():
    called = {t.split("(")[0] for t in HAND_WRITTEN if "(" in t}
    assert {name for name, op in eg.ops.OPS.items() if op.public and op.arity} <= called
    # ... and every function of the language with one value (softmax's several: below)
    assert {n for n, b in eg.ops.FUNCTIONS.items() if not b.multi} <= called


def test_softmax_gives_each_output_the_sympy_a_reader_would_write():
    f = eg.compile("softmax(x, y, z)")
    total = sympy.exp(x) + sympy.exp(y) + sympy.exp(z)
    assert len(f.ir.outputs) == 3
    for out, v in zip(f.ir.outputs, (x, y, z)):
        assert sympy.simplify(symbolic.to_sympy(f.ir, out) - sympy.exp(v) / total) == 0


def test_named_intermediates_and_user_functions_are_substituted():
    f = eg.compile("sig(z) = 1/(1+exp(-z)); n = w*x + b; o = sig(n) * n")
    w, b = sympy.symbols("w b", real=True)
    n = w * x + b
    assert sympy.simplify(f.sympy - n / (1 + sympy.exp(-n))) == 0


def test_decimal_literals_stay_exact():
    f = eg.compile("x + 6.8813735870195432")
    assert f.sympy - x == sympy.Rational(68813735870195432, 10 ** 16)
    assert f.sympy - x != sympy.Rational(Fraction(6.8813735870195432))   # not the double


def test_derivatives_match_sympy_diff_of_the_hand_written_expression(neuron):
    f = neuron
    names = sympy.symbols("b w1 w2 x1 x2", real=True)
    b, w1, w2, x1, x2 = names
    hand = sympy.tanh(x1 * w1 + x2 * w2 + b)
    assert list(f.derivatives) == ["b", "w1", "w2", "x1", "x2"]
    for s in names:
        assert sympy.simplify(f.derivatives[str(s)] - sympy.diff(hand, s)) == 0


def test_exp_expanded_forms_have_no_hyperbolic_functions_and_the_same_values():
    f = eg.compile("a = sinh(x)*cosh(y); tanh(a) + sigmoid(x) + softplus(y)")
    assert not f.expanded.has(sympy.tanh, sympy.sinh, sympy.cosh)
    assert f.expanded.has(sympy.exp)
    for point in ({"x": 0.3, "y": -1.2}, {"x": -2.0, "y": 0.7}, {"x": 1.1, "y": 1.9}):
        for name in ("x", "y"):
            plain = evaluate(f.derivatives[name], point)
            expanded = evaluate(f.derivatives_expanded[name], point)
            assert plain == pytest.approx(expanded, rel=1e-14)
            assert not f.derivatives_expanded[name].has(sympy.tanh, sympy.sinh, sympy.cosh)


def test_evaluate_substitutes_exact_binary_values_and_reports_undefined():
    assert evaluate(x, {"x": 0.1}) == 0.1
    assert evaluate(sympy.exp(x), {"x": 0.5}) == math.exp(0.5)
    assert evaluate(sympy.log(x), {"x": -1.0}) is None          # complex
    assert evaluate(1 / x, {"x": 0.0}) is None                  # infinite
    assert evaluate(sympy.Heaviside(x), {"x": 0.0}) == 0.5      # sympy's own convention


# ---- budgets -------------------------------------------------------------------------------

def test_measure_counts_the_substituted_tree_and_sympy_depth():
    f = eg.compile("; ".join(["a0 = x*x + 1"] + [f"a{i} = a{i-1}*a{i-1}" for i in range(1, 30)]))
    size, _ = measure(f.ir)
    assert size > 2 ** 29                        # the DAG has 32 nodes; the tree does not
    flat = eg.compile(" + ".join(f"x{i}" for i in range(300)))
    assert measure(flat.ir)[1] <= 2              # sympy flattens sums


@pytest.mark.parametrize("text, reason", [
    ("sin(" * 300 + "x" + ")" * 300, "nested 300 levels deep"),
    ("; ".join(["a0 = x*x + 1"] + [f"a{i} = sin(a{i-1})*a{i-1} + cos(a{i-1})"
                                    for i in range(1, 20)]), "more than 4,000 nodes"),
    ("-" * 20_000 + "x", "more than 4,000 nodes"),
])
def test_too_big_for_sympy_is_skipped_with_a_reason_and_the_check_still_runs(text, reason):
    f = eg.compile(text)
    with pytest.raises(eg.SymbolicError, match=f"symbolic side skipped: .*{reason}"):
        f.sympy
    report = f.check(x=0.25)
    assert report.ok and "sympy" in report.skipped and reason in report.skipped["sympy"]
    assert all(r.fd is not None for r in report.rows)
    assert "skipped" in str(report)


def test_the_time_budget_interrupts_sympy_and_restores_the_alarm():
    before = signal.getsignal(signal.SIGALRM)
    with pytest.raises(eg.SymbolicError, match="exceeded the time budget"):
        with Budget(seconds=0.2).guard("expanding a big power"):
            while True:
                sympy.expand((x + y + z + 1) ** 40)
                sympy.core.cache.clear_cache()
    assert signal.getsignal(signal.SIGALRM) == before
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_an_exhausted_budget_skips_the_symbolic_side_of_a_check():
    f = eg.compile(NEURON)
    report = check(f, SEED, budget=Budget(seconds=0))
    assert report.ok and "time budget" in report.skipped["sympy"]
    assert all(r.sympy is None and r.fd is not None for r in report.rows)


def test_check_works_outside_the_main_thread():
    result = {}
    thread = threading.Thread(target=lambda: result.update(r=eg.compile(NEURON).check(**SEED)))
    thread.start()
    thread.join(60)
    assert result["r"].ok and all(r.sympy is not None for r in result["r"].rows)


# ---- the check -----------------------------------------------------------------------------

def test_seed_neuron_all_four_figures_agree():
    report = eg.compile(NEURON).check(**SEED)
    assert isinstance(report, Report) and report.ok
    expected = {"x1": -1.5, "w1": 1.0, "x2": 0.5, "w2": 0.0, "b": 0.5}
    for row in report.rows:
        assert row.status == "agree" and row.mark == "✓"
        for figure in (row.dag, row.sympy, row.expanded, row.fd):
            assert figure == pytest.approx(expected[row.name], abs=1e-9)
    text = str(report)
    for column in ("sympy", "exp-expanded", "finite diff", "agree"):
        assert column in text


class _Wrong:
    """A Function whose DAG gradient is off by 0.1% in one variable: the check must see it."""

    def __init__(self, f, name):
        self._f, self._name = f, name

    def __getattr__(self, attr):
        return getattr(self._f, attr)

    def grad(self, **point):
        value, grads = self._f.grad(**point)
        return value, {**grads, self._name: grads[self._name] * 1.001}


def test_a_wrong_dag_gradient_is_reported():
    report = check(_Wrong(eg.compile(NEURON), "x1"), SEED)
    assert not report.ok
    bad = {r.name: r for r in report.rows if not r.ok}
    assert list(bad) == ["x1"] and bad["x1"].mark == "✗" and bad["x1"].rel_err > 1e-4
    assert "disagree for x1" in str(report)


@pytest.mark.parametrize("text, point, dag, left, right", [
    ("relu(x)", {"x": 0.0}, 0.0, 0.0, 1.0),
    ("max(x, y)", {"x": 1.0, "y": 1.0}, 1.0, 0.0, 1.0),
    ("x - relu(x) + relu(-x)", {"x": 0.0}, 1.0, 0.0, 0.0),
])
def test_kinks_are_reported_honestly(text, point, dag, left, right):
    report = eg.compile(text).check(**point)
    row = report.rows[0]
    assert row.status == "kink" and row.mark == "~" and report.ok
    assert row.dag == dag
    assert row.fd_left == pytest.approx(left, abs=1e-9)
    assert row.fd_right == pytest.approx(right, abs=1e-9)
    assert "not differentiable here" in str(report)


def test_differentiable_points_of_non_smooth_ops_agree():
    # relu(x)*x has derivative 0 at 0 even though relu has a kink there; abs'(0) = sign(0).
    for text in ("relu(x)*x", "abs(x)", "max(x, 0)^2"):
        report = eg.compile(text).check(x=0.0)
        assert report.ok and report.rows[0].status == "agree", str(report)


def test_finite_differences_avoid_a_nearby_kink_and_the_domain_edge():
    report = eg.compile("relu(x) + log(y - 0.0999)").check(x=1e-4, y=0.1)
    rows = {r.name: r for r in report.rows}
    assert rows["x"].fd == pytest.approx(1.0, rel=1e-9)
    assert rows["y"].fd == pytest.approx(1 / 1e-4, rel=1e-6)
    assert report.ok


@pytest.mark.parametrize("point", [{"x": -2.5}, {"x": 0.3}, {"x": 1.7}, {"x": 40.0}])
def test_finite_differences_match_math_at_several_points(point):
    report = eg.compile("exp(x) * sin(x)").check(**point)
    v = point["x"]
    exact = math.exp(v) * (math.sin(v) + math.cos(v))
    assert report.rows[0].fd == pytest.approx(exact, rel=1e-8)
    assert report.ok


def test_many_variables_get_a_directional_check_when_finite_differences_run_out_of_time():
    f = eg.compile(" + ".join(f"{i % 3 + 1}*sin(x{i})" for i in range(200)))
    point = {f"x{i}": i / 100 for i in range(200)}
    report = check(f, point, symbolic_side=False, fd_seconds=0.0)
    assert report.directional is not None and report.directional.ok and report.ok
    assert "directional" in str(report)


# ---- the --expand lowering ----------------------------------------------------------------

def test_expand_writes_tanh_as_the_seeds_do(neuron):
    text = pretty(expand(neuron.ir))
    assert text.splitlines() == ["n = x1*w1 + x2*w2 + b", "o = (exp(2*n) - 1)/(exp(2*n) + 1)"]


def test_expand_leaves_no_expandable_op_and_shares_exp():
    # Every op with an expand rule in the registry, and one nested in another.
    rewritten = sorted(name for name, op in eg.ops.OPS.items() if op.expand)
    assert {"tanh", "sigmoid", "softplus", "sinh", "cosh"} <= set(rewritten)
    text = " + ".join(application(name) for name in rewritten) + " + tanh(tanh(x))"
    g = expand(eg.compile(text).ir)
    assert expandable(g) == []
    ops = [n.op for n in g.order()]
    assert "exp" in ops and not set(rewritten) & set(ops)
    assert len([n for n in g.order() if n.op == "exp"]) == len({n for n in g.order()
                                                                 if n.op == "exp"})


def test_expanded_seed_neuron_matches_the_primitive_dag_to_1e_12():
    value, grads = eg.compile(NEURON).grad(**SEED)
    expanded = eg.compile(NEURON, expand=True)
    value_x, grads_x = expanded.grad(**SEED)
    assert value_x == pytest.approx(value, rel=1e-12)
    for name, g in grads.items():
        assert grads_x[name] == pytest.approx(g, rel=1e-12, abs=1e-15)
    assert expanded.check(**SEED).ok


# ---- the command line ---------------------------------------------------------------------

def test_cli_seed_neuron_shows_four_agreeing_columns_and_exits_0():
    res = run(NEURON, "--at", *SEED_ARGS)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    header = next(line for line in lines if line.startswith("variable"))
    for column in ("sympy", "exp-expanded", "finite diff", "agree"):
        assert column in header
    rows = [line.split() for line in lines if line.split()[:1] in (["b"], ["w1"], ["w2"],
                                                                     ["x1"], ["x2"])]
    assert len(rows) == 5
    for row in rows:
        assert row[-1] == "✓"
        figures = [float(v) for v in row[2:6]]
        assert max(figures) - min(figures) < 1e-9


def test_cli_without_at_prints_the_five_closed_form_partials():
    res = run(NEURON)
    assert res.returncode == 0, res.stderr
    for name in ("b", "w1", "w2", "x1", "x2"):
        assert f"∂f/∂{name} = " in res.stdout
    assert "tanh" in res.stdout


def test_cli_latex_and_expand():
    res = run(NEURON, "--latex")
    assert res.returncode == 0 and r"\frac{\partial f}{\partial w_{1}}" in res.stdout
    assert r"\tanh" in res.stdout
    res = run("n = x*w + b; o = tanh(n)", "--expand")
    assert "o = (exp(2*n) - 1)/(exp(2*n) + 1)" in res.stdout
    assert "tanh" not in res.stdout


def test_cli_json_carries_the_check_and_the_closed_forms():
    res = run(NEURON, "--at", *SEED_ARGS, "--json")
    assert res.returncode == 0
    data = json.loads(res.stdout)
    assert data["check"]["ok"] is True
    row = data["check"]["rows"]["x1"]
    for key in ("dag", "sympy", "exp_expanded", "finite_diff", "abs_err", "rel_err", "ok"):
        assert key in row
    assert row["sympy"] == pytest.approx(-1.5)
    assert sympy.sympify(data["derivatives"]["x1"]["sympy"]) is not None
    assert "tanh" in data["derivatives"]["x1"]["latex"]
    res = run(NEURON, "--json")
    data = json.loads(res.stdout)
    assert set(data["derivatives"]) == {"b", "w1", "w2", "x1", "x2"}
    assert "exp" in data["derivatives_expanded"]["b"]["sympy"]


def test_cli_no_check_drops_the_symbolic_columns():
    res = run(NEURON, "--at", *SEED_ARGS, "--no-check")
    assert res.returncode == 0
    assert "sympy" not in res.stdout.splitlines()[2] and "finite diff" in res.stdout


def test_cli_big_inputs_answer_with_the_symbolic_side_skipped():
    text = " + ".join(f"x{i}*x{i}" for i in range(1500))
    res = run("-", "--at", *[f"x{i}=0.5" for i in range(1500)], stdin=text)
    assert res.returncode == 0, res.stderr
    assert "sympy: 1500 of 1500 skipped" in res.stdout
    res = run("sin(" * 400 + "x" + ")" * 400, "--at", "x=0.5")
    assert res.returncode == 0 and "nested" in res.stdout


def test_undefined_closed_form_is_not_a_disagreement_when_finite_differences_agree():
    # d/dy x^y = x^y*log(x) has no closed-form value at x = 0; the DAG (0) and the finite
    # difference (0) agree, so the check passes and says why sympy has no figure.
    report = eg.compile("x^y").check(x=0, y=2)
    assert report.ok
    row = {r.name: r for r in report.rows}["y"]
    assert row.dag == 0.0 and row.fd == pytest.approx(0.0, abs=1e-9)
    assert any("undefined" in note for note in row.notes)

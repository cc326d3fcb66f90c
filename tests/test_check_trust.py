"""The check never misleads: unreliable finite differences, lost precision, undefined values.

A finite difference that overflowed, whose own error estimate is large, or whose step is small
against the float forward's rounding error is marked unreliable (``!``): it is shown, never
makes a row ✓ or ✗, and the verdict follows the trusted columns.  When the float forward lost
digits against the 30-digit evaluation the report names where and the stable form to write.
An undefined value is an error with a caret, never ``zoo``, nan or a ✓ over nothing.
"""
from __future__ import annotations

import json
import math
import re

import pytest

import exprgrad as eg
from exprgrad import check as check_module
from exprgrad.check import check
from exprgrad.finite_diff import Estimate, FiniteDifferences
from exprgrad.precision import STABLE_FORMS, suggest_text

from helpers import run_cli

LOGISTIC = "-(y*log(sigmoid(w*x+b)) + (1-y)*log(1-sigmoid(w*x+b)))"


def last_line(report) -> str:
    return report.notes()[-1]


# ---- the logistic loss at a large logit ---------------------------------------------------

@pytest.mark.parametrize("w", [18, 20, 25, 30])
def test_logistic_loss_at_a_large_logit_is_not_a_disagreement(w):
    report = eg.compile(LOGISTIC).check(w=w, b=0, x=1, y=0)
    rows = {r.name: r for r in report.rows}
    # ∂f/∂y = log(sigmoid(z)) - log(1 - sigmoid(z)) computed in floats inherits the lost
    # digits: from z = 20 on the DAG's own figure is off (sympy says so, ✗); at 18 it is not.
    assert report.ok == (w == 18) and rows["y"].status == ("agree" if w == 18 else "disagree")
    if w > 18:
        assert "the DAG's figure inherits the loss" in last_line(report)
    for name in "bwx":
        row = rows[name]
        # DAG and sympy agree; the finite difference is off (1.26 against 1.0 at w = 18)
        assert math.isclose(row.dag, row.sympy, rel_tol=1e-9), str(report)
        assert row.status == "unreliable" and row.mark == "!", str(report)
        assert row.fd_unreliable and "unreliable" in row.fd_unreliable
    assert report.precision is not None
    assert report.precision.where == "1-sigmoid(w*x+b)"
    assert report.precision.unstable == "log(1-sigmoid(w*x+b))"
    assert report.precision.stable == "-softplus(w*x+b)"


def test_logistic_loss_on_the_command_line_names_the_stable_form():
    status, out, err = run_cli(LOGISTIC, "--at", "w=18", "b=0", "x=1", "y=0")
    assert status == 0, out + err
    table = out.split("\n\n")[1]
    for line in table.splitlines()[2:]:
        name, mark = line.split()[0], line.split()[-1]
        assert mark == ("✓" if name == "y" else "!"), table
    assert "`log(1-sigmoid(w*x+b))`" in out and "`-softplus(w*x+b)`" in out
    assert "! the finite difference is unreliable for b, w, x" in out


def test_json_reports_unreliable_columns_and_the_precision_loss():
    status, out, _ = run_cli(LOGISTIC, "--at", "w=18", "b=0", "x=1", "y=0", "--json")
    assert status == 0
    data = json.loads(out)["check"]
    assert data["ok"] and data["compared"] and data["unreliable"] == ["b", "w", "x"]
    assert data["rows"]["w"]["status"] == "unreliable"
    assert data["rows"]["w"]["finite_diff_unreliable"].startswith("finite difference unreliable")
    assert data["rows"]["y"]["finite_diff_unreliable"] is None
    assert data["precision"]["stable"] == "-softplus(w*x+b)"
    assert data["precision"]["digits_lost"] >= 5


# ---- overflow ---------------------------------------------------------------------------

@pytest.mark.parametrize("text, x", [("exp(x)", 709.7), ("cosh(x)", 710), ("sinh(x)", -710)])
def test_an_overflowing_finite_difference_is_unreliable_and_the_check_passes(text, x):
    status, out, err = run_cli(text, "--at", f"x={x}")
    assert status == 0, out + err
    report = eg.compile(text).check(x=x)
    (row,) = report.rows
    assert row.status == "unreliable" and "overflowed" in row.fd_unreliable
    assert math.isclose(row.dag, row.sympy, rel_tol=1e-12)
    assert last_line(report).startswith("✓")


def test_an_unreliable_finite_difference_does_not_hide_a_wrong_dag():
    f = eg.compile("exp(x)")
    value = f(x=709.7)
    report = check(f, {"x": 709.7}, dag=(value, {"x": value * 1.001}))   # a wrong gradient
    (row,) = report.rows
    assert row.status == "disagree" and not report.ok
    assert row.fd_unreliable is not None        # and the finite difference did not decide


def test_a_large_error_estimate_makes_a_finite_difference_unreliable(monkeypatch):
    # An estimate of 2.0 ± 0.5 for a true 1.0 would pass the old tolerance (2·error);
    # it can neither confirm nor refute the DAG.
    monkeypatch.setattr(FiniteDifferences, "partial",
                        lambda self, name: Estimate(2.0, 0.5, step=1e-3))
    f = eg.compile("x + y")
    report = check(f, {"x": 1.0, "y": 2.0})
    assert [r.status for r in report.rows] == ["unreliable", "unreliable"]
    assert all("own error estimate" in r.fd_unreliable for r in report.rows)
    assert report.ok
    wrong = check(f, {"x": 1.0, "y": 2.0}, dag=(3.0, {"x": 2.0, "y": 1.0}))
    assert [r.status for r in wrong.rows] == ["disagree", "unreliable"]


def test_a_reliable_finite_difference_still_decides_alone(monkeypatch):
    f = eg.compile("x*y")
    report = check(f, {"x": 1.5, "y": 2.0}, symbolic_side=False,
                   dag=(3.0, {"x": 2.0, "y": 1.6}))
    assert [r.status for r in report.rows] == ["agree", "disagree"]


# ---- nothing compared is never ✓ ----------------------------------------------------------

def test_nothing_trustworthy_compared_never_ends_in_a_tick():
    report = check(eg.compile("exp(x)"), {"x": 709.7}, symbolic_side=False)
    (row,) = report.rows
    assert row.status == "unreliable" and row.compared == 0
    assert report.ok and not report.compared
    assert last_line(report).startswith("?"), report.notes()
    assert not any(line.startswith("✓") for line in report.notes())
    status, out, _ = run_cli("exp(x)", "--at", "x=709.7", "--no-check")
    assert status == 0 and "✓" not in out and "? nothing trustworthy was compared" in out


# ---- precision loss: the subexpression and the stable form -------------------------------

@pytest.mark.parametrize("text, point, where, stable", [
    ("log(1 - sigmoid(z))*3 + z", {"z": 25.0}, "1 - sigmoid(z)", "-softplus(z)"),
    ("log(sigmoid(z))", {"z": 20.0}, "log(sigmoid(z))", "-softplus(-z)"),
    ("log(1 + x)/x", {"x": 1e-12}, "log(1 + x)", "log1p(x)"),
    ("(exp(x) - 1)/x", {"x": 1e-10}, "exp(x) - 1", "expm1(x)"),
    ("n = u - 1; (exp(n) - 1)/n", {"u": 1 + 2**-30}, "exp(n) - 1", "expm1(u - 1)"),
])
def test_lost_digits_are_located_and_the_stable_form_suggested(text, point, where, stable):
    report = eg.compile(text).check(**point)
    loss = report.precision
    assert loss is not None and loss.digits >= 5, str(report)
    assert (loss.where, loss.stable) == (where, stable), str(report)
    assert f"`{stable}`" in str(report)
    # the DAG's figure may inherit the loss (✗, said so), but no finite difference decides
    assert all(r.status != "agree" or r.fd_unreliable is None for r in report.rows)
    # the stable form keeps the forward's digits: no precision note, finite differences
    # trusted (the gradient of log1p(x)/x at 1e-12 still cancels: that is the DAG's own
    # figure, which the check compares as usual)
    fixed = text.replace(loss.unstable, stable)
    again = eg.compile(fixed).check(**point)
    assert again.precision is None and not again.unreliable, str(again)


def test_a_loss_multiplied_by_zero_is_not_blamed():
    # log(sigmoid(18)) lost digits too, but y = 0 multiplies it away: the cause is elsewhere
    loss = eg.compile(LOGISTIC).check(w=18, b=0, x=1, y=0).precision
    assert loss.where == "1-sigmoid(w*x+b)"


@pytest.mark.parametrize("text, point", [("atan2(y*0, x)", {"y": -1.0, "x": -2.0}),
                                          ("atan2(-0, y) + y", {"y": -745.2})])
def test_atan2_on_its_branch_cut_with_a_negative_zero_is_named_not_called_a_loss(text, point):
    """IEEE's atan2(-0, x < 0) is -pi, sympy's (no -0) +pi: the soak found the check calling
    the 2*pi jump 16 lost digits.  The note names the branch cut; no stable form is offered."""
    report = eg.compile(text).check(**point)
    loss = report.precision
    assert loss.cut and loss.where.startswith("atan2(") and loss.stable is None
    assert math.isclose(loss.value, loss.exact - 2 * math.pi, rel_tol=1e-9, abs_tol=1e-9)
    note = loss.note()
    assert "branch cut" in note and "lost" not in note.replace("no digits were lost", "")
    assert loss.to_dict()["branch_cut"] is True
    # +0 is not on the cut side: atan2(0, x < 0) is +pi on every side, nothing to say
    plain = eg.compile(text.replace("y*0", "y*0 + 0").replace("-0", "0")).check(**point)
    assert plain.precision is None or not plain.precision.cut


def test_rounding_noise_near_zero_is_not_reported():
    report = eg.compile("sin(pi*x) + x").check(x=1.0)
    assert report.precision is None and all(r.status == "agree" for r in report.rows)


@pytest.mark.parametrize("unstable, stable", STABLE_FORMS)
def test_every_stable_form_of_the_table_is_the_same_function(unstable, stable):
    """The table is data: each pattern's rewrite must compute the same values, and the
    matcher must find it with placeholders standing for compound subexpressions."""
    names = sorted(set(re.findall(r"\b[a-z]\b", unstable)))
    a, b = eg.compile(unstable), eg.compile(stable)
    assert set(a.variables) == set(b.variables) == set(names)
    for value in (0.3, 0.6, 0.05):           # inside every domain (log(1 - x): x < 1)
        point = {n: value + 0.1 * k for k, n in enumerate(names)}
        assert math.isclose(a(**point), b(**point), rel_tol=1e-9, abs_tol=1e-12), point
    compound = {"a": "(p*q)", "b": "(p + q)", "x": "(p*q)", "y": "(p - q)", "z": "(p*q + r)"}
    text = re.sub(r"\b[a-z]\b", lambda m: compound[m.group()], unstable)
    found = suggest_text(text)
    assert found is not None and found[0] == text
    assert eg.compile(found[1]).variables == eg.compile(text).variables


# ---- undefined values -------------------------------------------------------------------

@pytest.mark.parametrize("text, shown", [("1/0 + x", "1/0"), ("log(0)*0 + x", "log(0)"),
                                         ("p = 1/0; q = x; p, q", "1/0")])
@pytest.mark.parametrize("at", [(), ("--at", "x=1"), ("--json",)])
def test_an_undefined_constant_part_is_an_error_with_a_caret(text, shown, at):
    status, out, err = run_cli(text, *at)
    assert status == 2 and out == "", out
    assert "undefined" in err and f"in `{shown}`" in err and "^" in err, err
    assert "zoo" not in err and "nan" not in err.replace("domain", "")


@pytest.mark.parametrize("value", ["1e400", "-1e999", "inf", "nan"])
def test_an_infinite_at_value_is_an_error(value):
    status, out, err = run_cli("x + 1", "--at", f"x={value}")
    assert status == 2 and out == "" and "--at x" in err


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan])
def test_the_library_check_refuses_a_non_finite_point(value):
    with pytest.raises(eg.VariableError, match="finite"):
        eg.compile("x*y").check(x=value, y=1.0)


def test_a_nan_value_at_the_point_is_a_domain_error_naming_the_node():
    f = eg.compile("a = x*1e200; b = a*1e200; b*0 + y")
    with pytest.raises(eg.DomainError, match="overflows") as err:
        f.check(x=1.0, y=2.0)
    assert "in `a*1e200`" in str(err.value) and "^" in str(err.value)


# ---- a ✗ from the DAG's own float arithmetic ----------------------------------------------

def test_a_disagreement_from_lost_digits_in_the_gradient_says_so():
    # d/dx log1p(x)/x = 1/(x(1+x)) - log1p(x)/x^2: two terms of 1e12 cancel at x = 1e-12
    report = eg.compile("log1p(x)/x").check(x=1e-12)
    (row,) = report.rows
    assert row.status == "disagree" and row.dag_digits_lost >= 10, str(report)
    assert any("the DAG's float figure lost" in note for note in row.notes)
    assert "its rules may be right" in last_line(report)
    assert row.to_dict()["dag_digits_lost"] == row.dag_digits_lost


def test_a_disagreement_not_from_lost_digits_gets_no_such_excuse():
    f = eg.compile("sin(x)")
    value, grads = f.grad(x=0.5)
    f.grad = lambda **point: (value, {"x": grads["x"] * 1.001})    # a wrong DAG figure
    report = f.check(x=0.5)
    (row,) = report.rows
    assert row.status == "disagree" and row.dag_digits_lost is None, str(report)
    assert last_line(report) == "✗ the figures disagree for x"


@pytest.mark.parametrize("text, x", [("1/x + y", 1.1e-101), ("x^-1 + y", -3e-120),
                                     ("tan(x) + y", 1.56)])
def test_a_stencil_never_jumps_over_a_pole(text, x):
    # from x - h to x + h across the pole, a central difference reads ~1/h², not -1/x²
    report = eg.compile(text).check(x=x, y=0.5)
    row = next(r for r in report.rows if r.name == "x")
    assert row.status == "agree" and report.ok, str(report)
    assert row.fd is None or math.isclose(row.fd, row.dag, rel_tol=1e-6), str(report)

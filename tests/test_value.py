"""The micrograd-compatible `Value`: the seeds' numbers, accumulation, depth."""
import math

import pytest

import exprgrad as eg
from exprgrad import Value

from exprgrad.ops import OPS

from corpus import application


def test_seed_neuron_by_hand():
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    x1w1 = x1 * w1; x1w1.label = "x1*w1"
    n = x1w1 + x2 * w2 + b
    o = n.tanh()
    o.backward()
    assert o.data == pytest.approx(0.7071, abs=1e-4)
    assert (x1.grad, w1.grad, x2.grad, w2.grad, b.grad) == pytest.approx(
        (-1.5, 1.0, 0.5, 0.0, 0.5), abs=1e-12)
    assert o._op == "tanh" and n._op == "+" and x1w1._op == "*"
    assert o._prev == {n}


def test_seed_neuron_exp_expanded_matches_tanh():
    x1, x2, w1, w2, b = (Value(v) for v in (2.0, 0.0, -3.0, 1.0, 6.8813735870195432))
    n = x1 * w1 + x2 * w2 + b
    e = (2 * n).exp()
    o = (e - 1) / (e + 1)
    o.backward()
    assert o.data == pytest.approx(math.sqrt(0.5), rel=1e-12)
    assert (x1.grad, w1.grad, x2.grad, w2.grad, b.grad) == pytest.approx(
        (-1.5, 1.0, 0.5, 0.0, 0.5), rel=1e-9, abs=1e-12)


def test_node_used_twice_accumulates():
    a = Value(3.0, label="a")
    b = a + a
    b.backward()
    assert a.grad == 2.0
    assert b._prev == {a} and len(b._args) == 2


def test_diamond():
    a, b = Value(-2.0), Value(3.0)
    d = a * b
    e = a + b
    f = d * e
    f.backward()
    assert (a.grad, b.grad) == (-3.0, -8.0)


def test_seed_L():
    a, b, c, f = Value(2.0), Value(-3.0), Value(10.0), Value(-2.0)
    e = a * b; d = e + c; L = d * f
    L.backward()
    assert L.data == -8.0
    assert (a.grad, b.grad, c.grad, f.grad) == (6.0, -4.0, -2.0, 4.0)


@pytest.mark.parametrize("make, expected", [
    (lambda a: 2 + a, 5.0), (lambda a: a + 2, 5.0), (lambda a: 2 - a, -1.0),
    (lambda a: a - 2, 1.0), (lambda a: 2 * a, 6.0), (lambda a: a * 2, 6.0),
    (lambda a: 6 / a, 2.0), (lambda a: a / 2, 1.5), (lambda a: a ** 2, 9.0),
    (lambda a: 2 ** a, 8.0), (lambda a: -a, -3.0), (lambda a: +a, 3.0), (lambda a: abs(-a), 3.0),
])
def test_numbers_on_either_side(make, expected):
    a = Value(3.0)
    out = make(a)
    assert out.data == expected


@pytest.mark.parametrize("name", sorted(n for n, op in OPS.items() if op.public and op.arity))
def test_a_method_per_language_function(name):
    op = OPS[name]
    xs = [lo + 0.3 * (hi - lo) for lo, hi in op.domain]
    v = getattr(Value(xs[0]), name)(*map(Value, xs[1:]))
    f = eg.compile(application(name))
    assert v.data == pytest.approx(f(**dict(zip(f.variables, xs))), rel=1e-15)
    assert v._op == (op.label or name)          # tanh, ReLU, ** as in micrograd


def test_max_min_pow_and_log_base():
    a, b = Value(2.0), Value(5.0)
    assert a.max(b).data == 5.0 and a.min(b).data == 2.0
    assert a.pow(3).data == 8.0
    assert Value(8.0).log(2).data == pytest.approx(3.0)


def test_exponent_gradient_of_variable_power():
    a, b = Value(2.0), Value(3.0)
    c = a ** b
    c.backward()
    assert a.grad == pytest.approx(12.0)
    assert b.grad == pytest.approx(8 * math.log(2))


def test_square_of_negative_has_no_exponent_derivative_problem():
    a = Value(-3.0)
    (a ** 2).backward()
    assert a.grad == -6.0


def test_non_smooth_points_follow_pytorch():
    for make, grads in [
        (lambda a, b: a.relu(), (0.0, 0.0)),
        (lambda a, b: abs(a), (0.0, 0.0)),
        (lambda a, b: a.max(b), (1.0, 0.0)),
        (lambda a, b: a.min(b), (1.0, 0.0)),
    ]:
        a, b = Value(0.0), Value(0.0)
        make(a, b).backward()
        assert (a.grad, b.grad) == grads


def test_chain_of_100k_nodes_backward_does_not_recurse():
    x = Value(0.5, label="x")
    y = x
    for _ in range(100_000):
        y = y * 1.0 + 0.0
    y.backward()
    assert x.grad == 1.0
    assert len(y.topo()) > 100_000


def test_domain_errors_are_expr_errors():
    with pytest.raises(eg.DomainError, match=r"log\(-1\)"):
        Value(-1.0).log()
    with pytest.raises(eg.DomainError, match="division by zero"):
        Value(1.0) / 0
    with pytest.raises(eg.DomainError, match="derivative"):
        Value(0.0).sqrt().backward()


def test_micrograd_constructor_and_repr():
    a = Value(2.0)
    b = Value(3.0)
    c = Value(a.data + b.data, (a, b), "+", label="c")
    c.backward()
    assert (a.grad, b.grad) == (1.0, 1.0)
    assert repr(c) == "Value(data=5.0, grad=1.0)"


def test_constructor_takes_every_operator_symbol_micrograd_code_writes():
    # Hand-built nodes as micrograd and the lecture write them: '-' with two children is
    # subtraction (not negation), '**3' carries its exponent in the op string.
    a, b = Value(2.0), Value(5.0)
    d = Value(a.data - b.data, (a, b), "-")
    d.backward()
    assert (d.data, a.grad, b.grad) == (-3.0, 1.0, -1.0)
    c = Value(a.data ** 3, (a,), "**3")
    c.backward()
    assert (c.data, a.grad) == (8.0, 1.0 + 3 * 2.0 ** 2)     # accumulates onto d's 1.0
    h = Value(4.0)
    r = Value(h.data ** 0.5, (h,), "**0.5")
    r.backward()
    assert h.grad == 0.25
    with pytest.raises(ValueError, match=r"unknown op '\*\*k'"):
        Value(1.0, (a,), "**k")

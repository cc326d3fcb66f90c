"""funcify: a `Value` DAG → program text that `exprgrad.compile` reads back to the same function.

The references: the `Value` DAG itself (its ``data`` and, after ``backward()``, its leaves'
``grad``), and the IR traced from it.  "The same function" is checked bit for bit at several
points: the value, every partial, every constant.
"""
from __future__ import annotations

import math
import random

import pytest
from hypothesis import HealthCheck, given, settings

import exprgrad as eg
from exprgrad import Value, codegen, losses, nn, optim
from exprgrad.trace import trace
from exprgrad.valuetext import funcify

from strategies import programs


def seed_neuron():
    """The micrograd lecture's neuron, with its labels (some are not names: 'x1*w1')."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    x1w1 = x1 * w1; x1w1.label = "x1*w1"
    x2w2 = x2 * w2; x2w2.label = "x2*w2"
    s = x1w1 + x2w2; s.label = "x1*w1 + x2*w2"
    n = s + b; n.label = "n"
    o = n.tanh(); o.label = "o"
    return o, {"x1": x1, "x2": x2, "w1": w1, "w2": w2, "b": b}


def assert_same_function(root: Value, leaves: dict, text: str, others) -> None:
    """compile(text) gives root's value and the Value DAG's gradient, bit for bit, at the
    leaves' values; at `others` (points the DAG was not built at) it gives what the IR traced
    from the DAG gives there."""
    f = eg.compile(text)
    assert set(f.variables) == set(leaves)
    for v in root.topo():
        v.grad = 0.0
    root.backward()
    value, grads = f.grad(**{name: v.data for name, v in leaves.items()})
    assert value == root.data
    assert grads == {name: v.grad for name, v in leaves.items()}
    _, grad_traced = codegen.load_python(codegen.emit(trace(root, leaves), "python"))
    for point in others:
        value, partials = grad_traced(*(point[v] for v in f.variables))
        assert f.grad(**point) == (value, dict(zip(f.variables, partials)))


def test_the_seed_neuron_reads_back_as_its_lecture_text():
    o, leaves = seed_neuron()
    text = funcify(o)
    assert text.splitlines() == ["n = x1*w1 + x2*w2 + b", "o = tanh(n)"]
    rng = random.Random(0)
    others = [{k: rng.uniform(-2, 2) for k in leaves} for _ in range(3)]
    assert_same_function(o, leaves, text, others)


def test_a_trained_neuron_and_mlp_read_back_with_exact_constants():
    rng = random.Random(1)
    xs = [[rng.uniform(-2, 2) for _ in range(3)] for _ in range(8)]
    ys = [math.tanh(x[0] - 0.5 * x[1] + 0.25 * x[2]) for x in xs]
    for model in (nn.Neuron(3, activation="tanh", rng=random.Random(2)),
                  nn.MLP(3, [4, 4, 1], activation="tanh", seed=3)):
        for _ in range(25):                          # some training: arbitrary doubles
            loss = losses.mse([model(x) for x in xs], ys)
            model.zero_grad()
            loss.backward()
            optim.sgd_step(model.parameters(), 0.1)
        text = model.funcify(["a", "b", "c"])
        f = eg.compile(text)
        assert f.variables == ("a", "b", "c")
        # every parameter is a constant of the program, the same double
        constants = {float(n.payload) for n in f.ir.order() if n.op == "const"}
        assert {p.data for p in model.parameters()} - {0.0} <= constants
        for x in xs[:4]:
            inputs = [Value(v, label=name) for v, name in zip(x, "abc")]
            out = model(inputs)
            out.backward()
            value, grads = f.grad(a=x[0], b=x[1], c=x[2])
            assert value == out.data
            # the inputs' partials: bitwise for the neuron; the MLP sums each input's uses
            # in another order than Value.backward does (hash-consed, one adjoint per node)
            for v, name in zip(inputs, "abc"):
                assert grads[name] == pytest.approx(v.grad, rel=1e-14, abs=1e-16)
                if isinstance(model, nn.Neuron):
                    assert grads[name] == v.grad


def test_mlp_hidden_values_are_named_once_and_several_outputs_end_the_program():
    model = nn.MLP(2, [3, 2], seed=1)
    text = model.funcify()
    lines = text.splitlines()
    assert [line.split(" = ")[0] for line in lines[:3]] == ["h1_1", "h1_2", "h1_3"]
    assert lines[-1] == "f0, f1"
    f = eg.compile(text)
    assert f.outputs == ("f0", "f1")
    for x in ([0.3, -0.2], [1.5, 2.0], [-1.0, 0.25]):
        assert f(x1=x[0], x2=x[1]) == tuple(o.data for o in model(x))


def test_softmax_probabilities_read_back_as_several_outputs():
    z = [Value(v, label=f"z{i}") for i, v in enumerate((1.0, 3.0, -2.0))]
    probs = nn.softmax(z)
    for p, name in zip(probs, ("p_a", "p_b", "p_c")):
        p.label = name
    f = eg.compile(funcify(probs))
    assert f.outputs == ("p_a", "p_b", "p_c")
    assert f(z0=1.0, z1=3.0, z2=-2.0) == tuple(p.data for p in probs)
    probs[2].backward()
    jac = f.jacobian(z0=1.0, z1=3.0, z2=-2.0)
    assert [jac[2][i] for i in range(3)] == pytest.approx([v.grad for v in z], rel=1e-15)


def test_the_caller_chooses_the_variables():
    x, w, b = Value(0.5, label="x"), Value(-1.25, label="w"), Value(0.1)
    y = (x * w + b).sigmoid()
    assert funcify(y) == "sigmoid(x*w + 0.1)"                      # labelled leaves
    assert funcify(y, [x]) == "sigmoid(x*(-1.25) + 0.1)"           # w frozen
    assert funcify(y, {"input": x, "weight": w, "bias": b}) == "sigmoid(input*weight + bias)"
    f = eg.compile(funcify(y, {"input": x, "weight": w, "bias": b}))
    assert f(input=0.5, weight=-1.25, bias=0.1) == y.data
    # pi in a Value DAG is a labelled number, not a variable
    assert funcify(eg.compile("y = pi*x").graph(x=0.5)) == "y = 3.141592653589793*x"


def test_constants_are_the_doubles_themselves_in_their_shortest_decimal():
    x = Value(3.0, label="x")
    for c, literal in [(0.1, "0.1"), (1 / 3, "0.3333333333333333"), (-7.0, "(-7)"),
                       (6.8813735870195432, "6.881373587019543"), (1e-300, "1e-300"),
                       (2.5e300, "25e299"), (5e-324, "5e-324")]:
        y = x * c
        text = funcify(y)
        assert text == f"x*{literal}"
        assert eg.compile(text)(x=3.0) == y.data


def test_labels_that_are_not_names_or_are_taken_are_left_out():
    x = Value(1.5, label="x")
    a = x * x; a.label = "x"                       # the variable's name: left out
    b = a + 1; b.label = "tanh"                    # a function's name: left out
    c = b * 2; c.label = "c"
    d = c - x; d.label = "c"                       # the second 'c': left out
    text = funcify(d)
    assert text.splitlines() == ["c = (x*x + 1)*2", "c - x"]
    assert eg.compile(text)(x=1.5) == d.data
    e = d.exp(); e.label = "x²"                    # \w, but not a name the parser takes
    assert funcify(e).splitlines()[-1] == "exp(c - x)"
    with pytest.raises(eg.VariableError, match="'x²' cannot be a variable's name"):
        funcify(e, {"x²": x})


def test_a_chain_of_100000_ops_is_written_and_read_back():
    """No recursion over the DAG: tracing, naming, printing and the order pass are loops."""
    x = Value(0.5, label="x")
    v = x
    for i in range(100_000):
        v = v.tanh() if i % 2 else v * 0.999
    f = eg.compile(funcify(v))
    assert f.variables == ("x",) and f(x=0.5) == v.data


def test_bad_requests_are_clear_errors():
    x = Value(1.0, label="x")
    y = x.exp()
    with pytest.raises(eg.VariableError, match="'2x' cannot be a variable's name"):
        funcify(y, {"2x": x})
    with pytest.raises(eg.VariableError, match="needs a label"):
        funcify(y, [Value(1.0)])
    with pytest.raises(eg.VariableError, match="two different leaves are labelled 'x'"):
        funcify(x + Value(2.0, label="x"))
    with pytest.raises(eg.VariableError, match="must be a leaf"):
        funcify(y, {"e": y})
    with pytest.raises(eg.CodegenError, match="the language has no step"):
        funcify(Value(0.0, (x,), "step"))
    with pytest.raises(TypeError, match="a Value or a non-empty list"):
        funcify([])
    with pytest.raises(eg.DomainError, match="finite number"):
        funcify(x * float("inf"))
    with pytest.raises(eg.VariableError, match="reads 2 inputs"):
        nn.Neuron(2).funcify(["a"])


@settings(max_examples=150, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(programs())
def test_every_program_of_the_language_round_trips_through_its_value_dag(case):
    """compile → Value DAG at a point → funcify → compile: the same value and gradient, bit
    for bit, over random programs of the whole language."""
    text, point = case
    f = eg.compile(text)
    root = f.graph(**point)
    leaves = {v.label: v for v in root.topo() if not v._args and v.label in point}
    back = eg.compile(funcify(root, leaves))
    assert set(back.variables) == set(leaves)     # a variable the output never reads is gone
    mine = {v: point[v] for v in back.variables}
    value, grads = f.grad(**point)
    assert back(**mine) == root.data == value
    assert back.grad(**mine) == (value, {v: grads[v] for v in back.variables})
    assert all(grads[v] == 0 for v in set(point) - set(leaves))

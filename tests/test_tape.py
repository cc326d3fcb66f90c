"""The interpreted tier (tape.py) and tiered calls (api.Function): the same floats, bit for bit,
as the emitted code and the `Value` DAG, before and after compiling; errors named alike."""
import math
import pickle

import pytest
from hypothesis import given, settings

import exprgrad as eg
from corpus import CORPUS, NEURON, SEED
from exprgrad import codegen
from exprgrad.tape import Tape
from strategies import programs


def bits(x: float) -> tuple:
    """A float as its exact value and sign (0.0 and -0.0 differ, NaN equals NaN)."""
    return ("nan",) if math.isnan(x) else (x, math.copysign(1.0, x))


def same(a, b) -> bool:
    return [bits(x) for x in a] == [bits(x) for x in b]


def _points(text, domains, count=6):
    import random
    f = eg.compile(text)
    rng = random.Random(text)
    return [[rng.uniform(*domains.get(v, (-2, 2))) for v in f.variables] for _ in range(count)]


def _emitted(f):
    _, grad_f = codegen.load_python(f.to_source("python"))
    return grad_f


def _dag(f, xs):
    value, grads = f._grad_dag(dict(zip(f.variables, xs)))
    return [value, *(grads[v] for v in f.variables)]


@pytest.mark.parametrize("text,domains", CORPUS, ids=[c[0][:40] for c in CORPUS])
def test_tape_is_the_emitted_code_and_the_value_dag_bit_for_bit(text, domains):
    f = eg.compile(text)
    tape, grad_f = Tape(f.ir, f.ir.outputs, f.variables), _emitted(f)
    for xs in _points(text, domains):
        value, partials = tape.grad(xs)
        emitted_value, emitted = grad_f(*xs)
        assert same([value, *partials], [emitted_value, *emitted])
        assert same([value, *partials], _dag(f, xs))
        assert same(tape.values(xs), [value])


# The same examples on every run, in CI and here, as the other property tests draw them.
@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(programs())
def test_random_programs_tape_equals_emitted_code(case):
    text, point = case
    f = eg.compile(text)
    if len(f.outputs) > 1:
        f = f.select(0)
    xs = [point[v] for v in f.variables]
    value, partials = Tape(f.ir, f.ir.outputs, f.variables).grad(xs)
    emitted_value, emitted = _emitted(f)(*xs)
    assert same([value, *partials], [emitted_value, *emitted])


def test_signed_zeros_infinities_and_rounding_as_the_emitted_code():
    # 3*x^2 is 3*(x*x): printed as (3*x)*x it rounds differently at this x.
    for text, xs in [("3*x^2 - 4*x + 5", [1.3677234341740951]), ("x*y", [-0.0, 2.0]), ("x*y + y", [3.0, -0.0]), ("-x - y", [0.0, 0.0]),
                     ("x*x + y*y", [1e200, -1e300]), ("relu(x)*y", [-1.0, -0.0])]:
        f = eg.compile(text)
        value, partials = Tape(f.ir, f.ir.outputs, f.variables).grad(xs)
        emitted_value, emitted = _emitted(f)(*xs)
        assert same([value, *partials], [emitted_value, *emitted]), text
        # The Value DAG starts every grad at 0.0 (micrograd's `+=`), so -0.0 partials are
        # 0.0 there; every other float is the same.
        assert [value, *partials] == _dag(f, xs), text


def test_only_what_depends_on_a_variable_is_differentiated():
    # sqrt(pi - pi) depends on no variable: its derivative (infinite at 0) is never taken, as
    # in the gradient program; the Value DAG, which differentiates every node, fails there.
    f = eg.compile("x * sqrt(pi - pi)")
    assert f.grad(x=2.0) == (0.0, {"x": 0.0})


def test_domain_errors_name_the_node_in_every_tier():
    f = eg.compile("a = x*y; b = log(a); c = sqrt(b) + y")
    with pytest.raises(eg.DomainError) as forward:
        f.grad(x=-1.0, y=2.0)
    assert "log(-2)" in str(forward.value) and "log(a)" in str(forward.value)
    with pytest.raises(eg.DomainError) as backward:
        f.grad(x=1.0, y=1.0)          # b = 0: sqrt's slope is infinite there
    assert "the derivative of sqrt(0)" in str(backward.value)
    assert "sqrt(b)" in str(backward.value)
    for _ in range(f._tape_().calls_before_compiling() + 2):
        f.grad(x=2.0, y=3.0)
    assert "grad" in f._kernels          # compiled: a math error re-runs the interpreter
    for point, caught in [(dict(x=-1.0, y=2.0), forward), (dict(x=1.0, y=1.0), backward)]:
        with pytest.raises(eg.DomainError) as again:
            f.grad(**point)
        assert str(again.value) == str(caught.value)


def test_calls_are_interpreted_then_compiled_with_the_same_results():
    f = eg.compile(NEURON)
    first, value = f.grad(**SEED), f(**SEED)
    assert hasattr(f.grad, "__self__") and not f._kernels       # interpreted: nothing compiled
    due = f._tape_().calls_before_compiling()
    assert 20 < due < 1000
    results = {repr(f.grad(**SEED)) for _ in range(due + 1)}
    assert results == {repr(first)} and f.grad.__name__ == "grad_kw"
    positional = [SEED[v] for v in f.variables]
    assert f.grad(*positional) == first                        # through the compiled entry
    for _ in range(f._tape_().calls_before_compiling("value") + 1):
        assert f(**SEED) == value
    assert f(*positional) == value and "value" in f._kernels
    assert pickle.loads(pickle.dumps(f)).grad(**SEED) == first


def test_a_compiled_call_emits_only_itself():
    f = eg.compile(NEURON)
    grad_source, value_source = codegen.kernel_source(f.ir), codegen.kernel_source(f.ir, "value")
    assert "def grad_kw(" in grad_source and "def " not in grad_source.replace("def grad_kw(", "")
    assert "def value_kw(" in value_source and "grad" not in value_source


def test_several_outputs_and_second_order_are_tiered_too():
    f = eg.compile("p = x*y; q = sin(x) + y; p, q")
    with pytest.raises(eg.OutputError):
        f.grad(x=1.0, y=2.0)
    first = f.jacobian(x=1.0, y=2.0)
    run = f._runs["jacobian"]
    for _ in range(run[3] + 2):
        assert f.jacobian(x=1.0, y=2.0) == first
    assert run[2] is not None                               # compiled
    assert f(x=1.0, y=2.0) == (2.0, math.sin(1.0) + 2.0)
    h = eg.compile("x^3*y")
    assert h.hessian(1.0, 2.0) == h.hessian(x=1.0, y=2.0) == [[12.0, 3.0], [3.0, 0.0]]


def test_self_is_a_variable_name_in_every_tier():
    f = eg.compile("self * x")
    for _ in range(f._tape_().calls_before_compiling() + 3):
        assert f.grad(self=2.0, x=3.0) == (6.0, {"self": 3.0, "x": 2.0})
    assert "grad" in f._kernels


def test_the_tape_grows_linearly():
    import time
    costs = []
    for n in (2000, 20000):
        text = " + ".join(f"tanh(w{i}*x{i})" for i in range(n))
        f = eg.compile(text)
        xs = [0.5] * len(f.variables)
        best = math.inf
        for _ in range(3):               # the least of three: a loaded machine's bursts
            start = time.process_time()
            Tape(f.ir, f.ir.outputs, f.variables).grad(xs)
            best = min(best, time.process_time() - start)
        costs.append(best)
    assert costs[1] < 30 * costs[0]      # ×10 in size: ×10 in time, with generous room

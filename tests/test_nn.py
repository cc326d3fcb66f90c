"""exprgrad.nn, losses, optim and compiled training against independent references.

References: micrograd's documented behaviour (parameter counts, reprs, layer outputs), forward
passes recomputed here with numpy from the same random draws, central finite differences, the
seeds' own float formulas, and the `Value` path itself for the compiled path.
"""
from __future__ import annotations

import math
import random

import numpy as np
import pytest

import exprgrad as eg
from exprgrad import Value, losses, nn, optim
from exprgrad.errors import DomainError
from helpers import run_example

XS = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
YS = [1.0, -1.0, -1.0, 1.0]


def rel(a, b):
    return abs(a - b) / max(abs(a), abs(b), 1e-300)


def central(f, xs, i, h=1e-6):
    up, down = list(xs), list(xs)
    up[i] += h
    down[i] -= h
    return (f(up) - f(down)) / (2 * h)


def set_params(model, values):
    for p, v in zip(model.parameters(), values):
        p.data = v


# ---- micrograd parity ------------------------------------------------------------------------

@pytest.mark.parametrize("nin, nouts, count", [(3, [4, 4, 1], 41), (2, [16, 16, 1], 337),
                                               (2, [3], 9), (1, [1], 2)])
def test_parameter_counts(nin, nouts, count):
    assert len(nn.MLP(nin, nouts, seed=0).parameters()) == count


def test_repr_like_micrograd():
    assert repr(nn.MLP(2, [2, 1], seed=0)) == (
        "MLP of [Layer of [ReLUNeuron(2), ReLUNeuron(2)], Layer of [LinearNeuron(2)]]")
    assert repr(nn.MLP(3, [1, 1], activation="tanh")) == (
        "MLP of [Layer of [TanhNeuron(3)], Layer of [LinearNeuron(1)]]")
    assert repr(nn.Neuron(4, nonlin=False)) == "LinearNeuron(4)"
    assert repr(nn.Layer(2, 2)) == "Layer of [ReLUNeuron(2), ReLUNeuron(2)]"


def test_layer_outputs_and_initialisation():
    layer = nn.Layer(2, 3, rng=random.Random(5))
    out = layer([2.0, 3.0])
    assert isinstance(out, list) and len(out) == 3
    assert isinstance(nn.Layer(2, 1)([2.0, 3.0]), Value)     # one neuron: unwrapped
    model = nn.MLP(3, [4, 4, 1], seed=7)
    weights = [p.data for n in (n for l in model.layers for n in l.neurons) for p in n.w]
    assert all(-1 <= w <= 1 for w in weights) and len(set(weights)) == len(weights)
    assert all(n.b.data == 0 for l in model.layers for n in l.neurons)   # micrograd: bias 0
    assert [p.data for p in nn.MLP(3, [4, 4, 1], seed=7).parameters()] == \
        [p.data for p in model.parameters()]
    assert [p.data for p in nn.MLP(3, [4, 4, 1], seed=8).parameters()] != \
        [p.data for p in model.parameters()]


def test_unknown_activation():
    with pytest.raises(ValueError, match="activation"):
        nn.MLP(2, [2], activation="gelu")


def reference_forward(seed, nin, nouts, activation, x):
    """The same random draws (weights only, in parameter order), evaluated with numpy."""
    rng = random.Random(seed)
    sizes = [nin] + nouts
    mats = [np.array([[rng.uniform(-1, 1) for _ in range(sizes[i])] for _ in range(nouts[i])])
            for i in range(len(nouts))]
    act = {"relu": lambda v: np.maximum(v, 0.0), "tanh": np.tanh}[activation]
    h = np.asarray(x, dtype=float)
    for i, w in enumerate(mats):
        h = w @ h                         # biases are 0 at initialisation
        if i < len(mats) - 1:             # the last layer is linear
            h = act(h)
    return h


@pytest.mark.parametrize("activation", ["relu", "tanh"])
@pytest.mark.parametrize("seed, nin, nouts", [(0, 3, [4, 4, 1]), (1337, 2, [16, 16, 1]),
                                              (3, 2, [5, 3])])
def test_forward_against_numpy(activation, seed, nin, nouts):
    model = nn.MLP(nin, nouts, activation=activation, seed=seed)
    rng = random.Random(99)
    for _ in range(5):
        x = [rng.uniform(-3, 3) for _ in range(nin)]
        out = model(x)
        got = [out.data] if isinstance(out, Value) else [v.data for v in out]
        want = reference_forward(seed, nin, nouts, activation, x)
        assert got == pytest.approx(list(want), rel=1e-12, abs=1e-12)


def test_zero_grad():
    model = nn.MLP(3, [4, 1], seed=0)
    losses.mse([model(x) for x in XS], YS).backward()
    assert any(p.grad != 0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0 for p in model.parameters())


# ---- gradients against finite differences -----------------------------------------------------

def mlp_loss(model, values, loss_fn):
    set_params(model, values)
    return loss_fn(model).data


@pytest.mark.parametrize("activation, make_loss", [
    ("tanh", lambda m: losses.mse([m(x) for x in XS], YS, reduction="sum")),
    ("relu", lambda m: losses.hinge([m(x) for x in XS], YS) + losses.l2(m.parameters(), 0.1)),
])
def test_mlp_loss_gradient_against_finite_differences(activation, make_loss):
    model = nn.MLP(3, [4, 4, 1], activation=activation, seed=2)
    start = [p.data for p in model.parameters()]
    loss = make_loss(model)
    model.zero_grad()
    loss.backward()
    grads = [p.grad for p in model.parameters()]
    for i in range(len(start)):
        fd = central(lambda v: mlp_loss(model, v, make_loss), start, i)
        assert grads[i] == pytest.approx(fd, rel=1e-5, abs=1e-7), i


@pytest.mark.parametrize("name, fn, points", [
    ("mse", lambda p, t: losses.mse(p, t), [(0.3, 1.0), (-2.0, 0.5), (1.5, -1.0)]),
    ("bce", lambda p, t: losses.bce(p, t), [(0.3, 1.0), (0.8, 0.0), (0.5, 1.0), (0.01, 0.0)]),
    ("hinge", lambda s, t: losses.hinge(s, t), [(0.3, 1.0), (-2.0, 1.0), (0.5, -1.0),
                                                (2.0, 1.0), (-3.0, -1.0)]),
])
def test_loss_gradient_against_finite_differences(name, fn, points):
    for pred, target in points:
        p = Value(pred)
        fn(p, target).backward()
        fd = central(lambda v: fn(Value(v[0]), target).data, [pred], 0)
        assert p.grad == pytest.approx(fd, rel=1e-6, abs=1e-9), (name, pred, target)


def test_batched_losses_against_float_formulas():
    preds, targets = [0.2, 0.9, 0.6], [0.0, 1.0, 1.0]
    assert losses.mse(preds, targets).data == pytest.approx(
        sum((p - t) ** 2 for p, t in zip(preds, targets)) / 3, rel=1e-15)
    assert losses.mse(preds, targets, reduction="sum").data == pytest.approx(
        sum((p - t) ** 2 for p, t in zip(preds, targets)), rel=1e-15)
    want = sum(-t * math.log(p) - (1 - t) * math.log(1 - p) for p, t in zip(preds, targets)) / 3
    assert losses.bce(preds, targets).data == pytest.approx(want, rel=1e-14)
    scores = [0.5, -2.0, 3.0]
    assert losses.hinge(scores, [1.0, 1.0, -1.0]).data == pytest.approx((0.5 + 3 + 4) / 3)
    with pytest.raises(ValueError):
        losses.mse([1.0, 2.0], [1.0])


def test_bce_clamps_like_the_seeds():
    # The seeds: p = min(max(p, eps), 1 - eps); loss -t*log(p) - (1-t)*log(1-p);
    # and inside the clamp their hand-written gradient (p - t) / (p * (1 - p)).
    eps = 1e-8
    for prob, t in [(0.0, 1.0), (1.0, 0.0), (1e-12, 1.0), (0.3, 1.0), (0.7, 0.0)]:
        q = min(max(prob, eps), 1 - eps)
        p = Value(prob)
        loss = losses.bce(p, t)
        assert math.isfinite(loss.data)
        assert loss.data == pytest.approx(-t * math.log(q) - (1 - t) * math.log(1 - q), rel=1e-9)
        loss.backward()
        if eps < prob < 1 - eps:
            assert p.grad == pytest.approx((q - t) / (q * (1 - q)), rel=1e-12)
        else:
            assert p.grad == 0.0          # the clamp is active: max/min route nothing to p


def test_l2_gradient():
    params = [Value(v) for v in (0.5, -1.5, 2.0)]
    losses.l2(params, 0.01).backward()
    for p in params:
        fd = central(lambda v: losses.l2([Value(v[0])], 0.01).data, [p.data], 0)
        assert p.grad == pytest.approx(fd, rel=1e-7)


def test_accuracy_is_sign_agreement():
    assert losses.accuracy([Value(0.5), Value(-0.1), 2.0], [1.0, 1.0, -1.0]) == pytest.approx(1 / 3)


# ---- optimiser --------------------------------------------------------------------------------

def test_sgd_step_and_micrograd_schedule():
    for k in (0, 1, 37, 99):
        p = Value(1.0)
        p.grad = 2.0
        rate = optim.sgd_step([p], 1.0, step=k, steps=100, decay=0.9)
        assert rate == 1.0 - 0.9 * k / 100                   # micrograd's moons schedule
        assert p.data == 1.0 - rate * 2.0
    p = Value(1.0)
    p.grad = -1.0
    assert optim.sgd_step([p], 0.05) == 0.05 and p.data == 1.05
    with pytest.raises(ValueError):
        optim.sgd_step([p], 1.0, decay=0.9)


# ---- compiled training against the Value path ------------------------------------------------

def moons(n=24, seed=3):
    rng = random.Random(seed)
    X, y = [], []
    for i in range(n):
        t = math.pi * rng.random()
        if i % 2:
            X.append([math.cos(t) + rng.gauss(0, 0.1), math.sin(t) + rng.gauss(0, 0.1)])
            y.append(-1.0)
        else:
            X.append([1 - math.cos(t) + rng.gauss(0, 0.1), 0.5 - math.sin(t) + rng.gauss(0, 0.1)])
            y.append(1.0)
    return X, y


def value_path(model, X, y, alpha):
    total = (losses.hinge([model(list(map(Value, row))) for row in X], y)
             + losses.l2(model.parameters(), alpha))
    model.zero_grad()
    total.backward()
    return total.data, [p.grad for p in model.parameters()]


@pytest.mark.parametrize("backend", ["numpy", "python"])
def test_compiled_value_and_grad_matches_value_path(backend):
    X, y = moons()
    model = nn.MLP(2, [6, 5, 1], seed=4)
    want_value, want_grads = value_path(model, X, y, 1e-3)
    train = eg.compile_loss(lambda x, t: losses.hinge(model(x), t), model.parameters(), 2,
                            penalty=lambda ps: losses.l2(ps, 1e-3), backend=backend)
    value, grads = train.value_and_grad(X, y)
    assert rel(value, want_value) < 1e-13
    assert grads == pytest.approx(want_grads, rel=1e-12, abs=1e-15)
    assert train(X, y) == pytest.approx(value, rel=1e-13)
    model.zero_grad()
    assert train.backward(X, y) == value
    assert [p.grad for p in model.parameters()] == grads


@pytest.mark.parametrize("backend", ["numpy", "python"])
def test_compiled_training_curve_matches_value_path(backend):
    X, y = moons()
    steps = 12
    reference, compiled = nn.MLP(2, [8, 8, 1], seed=9), nn.MLP(2, [8, 8, 1], seed=9)
    train = eg.compile_loss(lambda x, t: losses.hinge(compiled(x), t), compiled.parameters(), 2,
                            penalty=lambda ps: losses.l2(ps, 1e-4), backend=backend)
    for k in range(steps):
        want, _ = value_path(reference, X, y, 1e-4)
        optim.sgd_step(reference.parameters(), 1.0, step=k, steps=steps, decay=0.9)
        compiled.zero_grad()
        got = train.backward(X, y)
        optim.sgd_step(compiled.parameters(), 1.0, step=k, steps=steps, decay=0.9)
        assert rel(got, want) < 1e-9, k
    for p, q in zip(reference.parameters(), compiled.parameters()):
        assert q.data == pytest.approx(p.data, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("backend", ["numpy", "python"])
def test_compiled_forward_and_other_losses(backend):
    model = nn.MLP(3, [4, 4, 1], activation="tanh", seed=0)
    predict = eg.compile_forward(model, model.parameters(), 3, backend=backend)
    assert list(predict(XS)) == pytest.approx([model(x).data for x in XS], rel=1e-13)
    # BCE through a sigmoid, and MSE: the compiled mean against the Value path
    for loss_fn, targets in [(lambda x, t: losses.bce(model(x).sigmoid(), t), [1.0, 0, 0, 1]),
                             (lambda x, t: losses.mse(model(x), t), YS)]:
        total = sum(loss_fn(list(map(Value, x)), t) for x, t in zip(XS, targets)) * 0.25
        model.zero_grad()
        total.backward()
        want = [p.grad for p in model.parameters()]
        value, grads = eg.compile_loss(loss_fn, model.parameters(), 3,
                                       backend=backend).value_and_grad(XS, targets)
        assert rel(value, total.data) < 1e-13
        assert grads == pytest.approx(want, rel=1e-12, abs=1e-15)


def test_compiled_source_is_standalone_and_errors_are_clear():
    model = nn.MLP(2, [2, 1], seed=0)
    train = eg.compile_loss(lambda x, t: losses.mse(model(x), t), model.parameters(), 2)
    imports = [line for line in train.source.splitlines() if line.startswith(("import", "from"))]
    assert imports == ["import numpy as np"] and "def grad_loss(" in train.source
    assert train.variables == ("p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8",
                               "x0", "x1", "y")
    with pytest.raises(ValueError, match="shape"):
        train.value_and_grad([[1.0, 2.0, 3.0]], [1.0])
    with pytest.raises(ValueError, match="twice"):
        eg.compile_loss(lambda x, t: model(x), model.parameters() * 2, 2)
    with pytest.raises(TypeError, match="not a Value"):
        eg.compile_loss(lambda x, t: 1.0, model.parameters(), 2)
    with pytest.raises(ValueError, match="backend"):
        eg.compile_loss(lambda x, t: model(x), model.parameters(), 2, backend="fortran")
    with pytest.raises(DomainError, match="example"):
        eg.compile_loss(lambda x, t: (model(x) * t).log(), model.parameters(), 2)
    fine = eg.compile_loss(lambda x, t: (x[0] * t).log(), model.parameters(), 2,
                           example=([1.0, 1.0], 1.0))
    assert fine.value_and_grad([[2.0, 0.0]], [3.0])[0] == pytest.approx(math.log(6.0))


# ---- several outputs: softmax, cross-entropy, compiled (the seeds' exercise 5) ----------------

def float_softmax(z):
    top = max(z)
    e = [math.exp(v - top) for v in z]
    return [v / sum(e) for v in e]


def test_softmax_of_a_layer_is_a_list_output_that_backpropagates():
    layer = nn.Layer(2, 3, nonlin=False, rng=random.Random(2))
    x = [0.7, -1.3]
    probs = nn.softmax(layer(x))
    assert isinstance(probs, list) and len(probs) == 3
    assert [p.data for p in probs] == pytest.approx(float_softmax([o.data for o in layer(x)]),
                                                    rel=1e-15)
    assert abs(sum(p.data for p in probs) - 1.0) <= 2 * math.ulp(1.0)
    weights = layer.parameters()
    probs[1].backward()                   # one output's gradient, by finite differences
    for i, w in enumerate(weights):
        def p1(v, i=i):
            saved = w.data
            w.data = v[0]
            out = nn.softmax(layer(x))[1].data
            w.data = saved
            return out
        assert w.grad == pytest.approx(central(p1, [w.data], 0), rel=1e-7, abs=1e-10)
    with pytest.raises(ValueError, match="no values"):
        nn.softmax([])


CE_POINTS = [([2.0, 0.5, -1.0], 0), ([0.1, 0.2, 0.3, 0.4], 3), ([1000.0, -1000.0, 999.0], 2),
             ([-3.0], 0), ([5.0, 5.0], 1)]


@pytest.mark.parametrize("scores, label", CE_POINTS)
def test_cross_entropy_is_minus_log_softmax_and_its_gradient_softmax_minus_onehot(scores, label):
    z = [Value(v) for v in scores]
    loss = losses.cross_entropy(z, label)
    loss.backward()
    probs = float_softmax(scores)
    # -log softmax_y = log(sum exp(z - max)) - (z_y - max): the float formula, stable
    top = max(scores)
    want = math.log(sum(math.exp(v - top) for v in scores)) - (scores[label] - top)
    assert loss.data == pytest.approx(want, rel=1e-13, abs=1e-13)
    for k, v in enumerate(z):
        assert v.grad == pytest.approx(probs[k] - (k == label), rel=1e-12, abs=1e-15)
    assert math.isfinite(loss.data)
    onehot = [1.0 if k == label else 0.0 for k in range(len(scores))]
    assert losses.cross_entropy(scores, onehot).data == loss.data     # the same graph


CE_SYMPY_POINTS = CE_POINTS + [([1e3, 1e3 - 1, 1e3 - 30], 1), ([-1e3, -999.0, -1e3], 0),
                               ([700.0, 710.0, 720.0, 690.0], 0)]


@pytest.mark.parametrize("scores, label", CE_SYMPY_POINTS)
def test_cross_entropy_against_sympy_and_the_naive_formula(scores, label):
    """The independent references: sympy's -log(exp(z_y)/sum exp(z_j)) and its own diff,
    evaluated at 40 digits (exp(1000) is no problem there); in floats, the naive
    -log(softmax) wherever exp does not overflow."""
    import sympy
    zs = sympy.symbols(f"z0:{len(scores)}")
    ref = -sympy.log(sympy.exp(zs[label]) / sum(sympy.exp(z) for z in zs))
    at = {z: sympy.Float(v, 40) for z, v in zip(zs, scores)}
    z = [Value(v) for v in scores]
    loss = losses.cross_entropy(z, label)
    loss.backward()
    want = float(ref.evalf(40, subs=at))
    assert loss.data == pytest.approx(want, rel=1e-13, abs=1e-12)   # |z|*eps from lse - z_y
    for v, zk in zip(z, zs):
        assert v.grad == pytest.approx(float(sympy.diff(ref, zk).evalf(40, subs=at)),
                                       rel=1e-12, abs=1e-15)
    def naive():
        return -math.log(math.exp(scores[label]) / sum(math.exp(v) for v in scores))
    if all(abs(v) < 700 for v in scores):
        assert loss.data == pytest.approx(naive(), rel=1e-13, abs=1e-15)
    else:                   # exp(710) overflows, exp(-1000) is 0: only the stable form works
        with pytest.raises((OverflowError, ZeroDivisionError)):
            naive()


def test_cross_entropy_soft_labels_batches_and_errors():
    z, t = [1.0, 2.0, -0.5], [0.2, 0.5, 0.3]
    want = -sum(ti * math.log(pi) for ti, pi in zip(t, float_softmax(z)))
    assert losses.cross_entropy(z, t).data == pytest.approx(want, rel=1e-13)
    batch = [[2.0, 0.5, -1.0], [0.3, 0.1, 0.9]]
    each = [losses.cross_entropy(row, c).data for row, c in zip(batch, [0, 2])]
    assert losses.cross_entropy(batch, [0, 2]).data == pytest.approx(sum(each) / 2, rel=1e-15)
    assert losses.cross_entropy(batch, [0, 2], reduction="sum").data == pytest.approx(sum(each))
    for bad, match in [((z, 3), "out of range"), ((z, [1.0, 0.0]), "3 probabilities"),
                       ((z, [0, 0, 0]), "all 0"), ((batch, [0]), "2 samples"), (([], 0), "no")]:
        with pytest.raises(ValueError, match=match):
            losses.cross_entropy(*bad)


def test_accuracy_of_class_scores_is_argmax_agreement():
    scores = [[0.1, 2.0, 0.3], [Value(5.0), Value(-1.0), Value(0.0)], np.array([0.0, 0.0, 1.0])]
    assert losses.accuracy(scores, [1, 0, 1]) == pytest.approx(2 / 3)


def three_classes(n=30, seed=5):
    rng = random.Random(seed)
    centres = [(0.0, 1.5), (-1.3, -0.8), (1.3, -0.8)]
    X, y = [], []
    for i in range(n):
        cx, cy = centres[i % 3]
        X.append([cx + rng.gauss(0, 0.4), cy + rng.gauss(0, 0.4)])
        y.append(i % 3)
    return X, y


@pytest.mark.parametrize("backend", ["numpy", "python"])
def test_compiled_cross_entropy_and_several_outputs_match_the_value_path(backend):
    X, y = three_classes()
    model = nn.MLP(2, [5, 3], seed=6)
    total = losses.cross_entropy([model(list(map(Value, row))) for row in X], y)
    model.zero_grad()
    total.backward()
    want = [p.grad for p in model.parameters()]
    train = eg.compile_loss(lambda x, t: losses.cross_entropy(model(x), t), model.parameters(),
                            2, n_targets=3, backend=backend)
    assert train.variables[-3:] == ("y0", "y1", "y2")
    onehot = [[1.0 if k == c else 0.0 for k in range(3)] for c in y]
    for targets in (y, np.array(y), onehot):       # class indices or rows of probabilities
        value, grads = train.value_and_grad(X, targets)
        assert rel(value, total.data) < 1e-13
        assert grads == pytest.approx(want, rel=1e-12, abs=1e-15)
    assert train(X, y) == pytest.approx(total.data, rel=1e-13)
    with pytest.raises(ValueError, match="class index"):
        train.value_and_grad(X, [3] * len(X))
    with pytest.raises(ValueError, match="3 values"):
        train.value_and_grad(X, [[1.0, 0.0]] * len(X))
    scores = eg.compile_forward(model, model.parameters(), 2, backend=backend)(X)
    assert scores.shape == (len(X), 3)
    assert np.allclose(scores, [[o.data for o in model(row)] for row in X], rtol=1e-13,
                       atol=0)
    probs = eg.compile_forward(lambda x: nn.softmax(model(x)), model.parameters(), 2,
                               backend=backend)(X)
    assert np.allclose(probs.sum(axis=1), 1.0, rtol=0, atol=4e-16)
    assert losses.accuracy(scores, y) == losses.accuracy([model(row) for row in X], y)


# ---- the example scripts reach their targets --------------------------------------------------

def test_example_train_seed(capsys):
    status, out = run_example("train_seed.py", ["--steps", "30"], capsys)
    assert status == 0 and "loss below 0.05 at step" in out
    assert out.count("step ") >= 30 and "41 parameters" in out


def test_example_fahrenheit(capsys):
    status, out = run_example("fahrenheit.py", ["--epochs", "3"], capsys)
    assert status == 0 and "0.555556 * F -17.777778" in out


def test_example_line_classifier(capsys):
    status, out = run_example("line_classifier.py", ["--epochs", "3"], capsys)
    assert status == 0 and "accuracy on 1000 fresh points" in out


def test_example_softmax_classifier(capsys, tmp_path):
    program = tmp_path / "model.eg"
    status, out = run_example("softmax_classifier.py", ["--funcify", str(program)], capsys)
    assert status == 0, out
    assert "test accuracy on 300 fresh points" in out
    assert "reads it back to the same scores: yes" in out
    f = eg.compile(program.read_text(encoding="utf-8"))
    assert f.outputs == ("f0", "f1", "f2") and f.variables == ("x1", "x2")


def test_example_moons(capsys, tmp_path):
    picture = tmp_path / "moons.png"
    status, out = run_example("train_moons.py", ["--value-steps", "2", "--plot", str(picture)],
                              capsys)
    assert status == 0, out
    assert "compiled  step  99" in out and "value     step   1" in out
    assert "speed-up" in out and "largest relative difference over 2 steps" in out
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "matplotlib is not installed" in out and not picture.exists()
    else:
        assert picture.stat().st_size > 0


def test_lecture_mlp_activates_its_output_layer_too():
    """The seeds' lecture MLP has tanh on its output neuron as well; micrograd's is linear."""
    linear = nn.MLP(3, [4, 4, 1], activation="tanh", seed=0)
    lecture = nn.MLP(3, [4, 4, 1], activation="tanh", seed=0, activate_output=True)
    assert repr(lecture.layers[-1]) == "Layer of [TanhNeuron(4)]"
    assert [p.data for p in lecture.parameters()] == [p.data for p in linear.parameters()]
    for x in ([2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0]):
        assert lecture(x).data == math.tanh(linear(x).data)
        assert -1.0 < lecture(x).data < 1.0

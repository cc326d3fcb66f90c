"""W1: the seed neuron at the seed point — value and 5 partials per call.

Input: the seed neuron ``tanh(x1*w1 + x2*w2 + b)`` at x1=2, x2=0, w1=-3, w2=1, b=6.88...
Output: one table: exprgrad's emitted python (positional), ``f.grad(**pt)``, the `Value`
graph built and backpropagated per call, against hand-written straight-line python (and its
forward-only time) and the peers.
"""
from __future__ import annotations

import math

import peers
from harness import Bench, Settings, Table, Target
from workloads import codegen

TEXT = "n = x1*w1 + x2*w2 + b; o = tanh(n)"
POINT = dict(x1=2.0, x2=0.0, w1=-3.0, w2=1.0, b=6.8813735870195432)
ORDER = ("b", "w1", "w2", "x1", "x2")          # exprgrad's variables: sorted
ARGS = tuple(POINT[k] for k in ORDER)


# ---- hand-written references ------------------------------------------------------------------

def ref_grad(b, w1, w2, x1, x2):
    """What a person writes: forward, then the chain rule by hand."""
    o = math.tanh(x1 * w1 + x2 * w2 + b)
    dn = 1.0 - o * o
    return o, (dn, dn * x1, dn * x2, dn * w1, dn * w2)


def ref_forward(b, w1, w2, x1, x2):
    return math.tanh(x1 * w1 + x2 * w2 + b)


def ref_grad_kwargs(**kw):
    """The same, with f.grad's calling convention: keywords in, (value, dict) out."""
    b, w1, w2, x1, x2 = kw["b"], kw["w1"], kw["w2"], kw["x1"], kw["x2"]
    o = math.tanh(x1 * w1 + x2 * w2 + b)
    dn = 1.0 - o * o
    return o, {"b": dn, "w1": dn * x1, "w2": dn * x2, "x1": dn * w1, "x2": dn * w2}


def value_path(Value):
    """The neuron written with a `Value` class, built and backpropagated per call (the same
    code drives exprgrad's `Value` and micrograd's)."""
    def run():
        x1, x2, w1, w2, b = Value(2.0), Value(0.0), Value(-3.0), Value(1.0), Value(
            6.8813735870195432)
        o = (x1 * w1 + x2 * w2 + b).tanh()
        o.backward()
        return o.data, (b.grad, w1.grad, w2.grad, x1.grad, x2.grad)
    return run


# ---- the table ------------------------------------------------------------------------------

def run(settings: Settings) -> list[Table]:
    import exprgrad as eg
    table = Table("W1", "seed neuron: value + 5 partials per call")
    bench = Bench(table, settings)
    bench.reference("hand-written python (math.tanh)", lambda: ref_grad(*ARGS))

    cg = codegen()
    f = eg.compile(TEXT)
    grad_f = fwd_f = None
    if cg is not None:
        try:
            fwd_f, grad_f = cg.load_python(cg.emit(f.ir, "python", name="f"), "f")
        except Exception as exc:        # noqa: BLE001
            bench.failed("emitted python grad_f(*args)", "exprgrad", exc)
    if grad_f is not None:
        bench.add("emitted python grad_f(*args)", lambda: grad_f(*ARGS))
    elif cg is None:
        bench.missing("emitted python grad_f(*args)", "exprgrad", "exprgrad.codegen not built")
    # (value, {name: partial}) is checked as it comes: dicts are compared by sorted key.
    bench.add("f.grad(**pt)", lambda: f.grad(**POINT))
    bench.add("Value graph built + backward per call", value_path(eg.Value))

    MG = peers.micrograd_value()
    if MG is None:
        bench.missing("micrograd Value + backward", "micrograd")
    else:
        bench.add("Value + backward (lecture tanh)", value_path(MG), "micrograd")
    _sympy(bench)
    _jax(bench)
    _torch(bench)
    _casadi(bench)

    # Same calling convention as f.grad, and forward-only times for the gradient/forward ratio.
    kw_ref = bench.add("hand-written, **kwargs in, dict out", lambda: ref_grad_kwargs(**POINT),
                       "reference")
    fwd_ref = bench.add("hand-written forward only", lambda: ref_forward(*ARGS), "reference",
                        expected=ref_grad(*ARGS)[0])
    if fwd_f is not None:
        bench.add("emitted python f(*args), forward only", lambda: fwd_f(*ARGS),
                  expected=ref_grad(*ARGS)[0])
    bench.run()

    r = table.ratio
    emitted = "emitted python grad_f(*args)"
    table.targets = [
        Target("emitted python / hand-written reference", r(emitted), "<= 1.1"),
        Target("f.grad(**pt) / hand-written **kwargs function",
               r("f.grad(**pt)", kw_ref.name), "<= 1.5"),
        Target("micrograd / exprgrad Value path (speed-up)",
               r("Value + backward (lecture tanh)", "Value graph built + backward per call"),
               ">= 2"),
    ]
    grad_over_fwd = r(table.reference, fwd_ref.name)
    notes = []
    if grad_over_fwd:
        notes.append(f"Gradient/forward cost: hand-written {grad_over_fwd:.2f}×"
                     + (f", emitted {r(emitted, 'emitted python f(*args), forward only'):.2f}×"
                        if fwd_f is not None and table.row(emitted).min else "") + ".")
    notes.append("numexpr: not applicable (array library; see W3). micrograd 0.1.0 has no "
                 "tanh: the lecture's closure-based tanh is added to its Value.")
    table.notes = notes
    return [table]


def _sympy(bench: Bench) -> None:
    sp = peers.sympy()
    if sp is None:
        bench.missing("sympy lambdify", "sympy")
        return
    syms = sp.symbols(ORDER)
    b, w1, w2, x1, x2 = syms
    o = sp.tanh(x1 * w1 + x2 * w2 + b)
    exprs = [o, tuple(sp.diff(o, s) for s in syms)]
    fn = sp.lambdify(syms, exprs, modules="math", cse=True)
    bench.add("lambdify(diff, cse=True), math", lambda: fn(*ARGS), "sympy")


def _jax(bench: Bench) -> None:
    loaded = peers.jax()
    if loaded is None:
        bench.missing("jit(value_and_grad)", "jax")
        return
    jax, jnp = loaded

    def neuron(b, w1, w2, x1, x2):
        return jnp.tanh(x1 * w1 + x2 * w2 + b)
    vg = jax.jit(jax.value_and_grad(neuron, argnums=(0, 1, 2, 3, 4)))

    def call():
        value, grads = vg(*ARGS)
        return float(value), tuple(float(g) for g in grads)
    bench.add("jit(value_and_grad), floats out", call, "jax")


def _torch(bench: Bench) -> None:
    torch = peers.torch()
    if torch is None:
        bench.missing("autograd", "torch")
        return

    def call():
        b, w1, w2, x1, x2 = (torch.tensor(v, dtype=torch.float64, requires_grad=True)
                             for v in ARGS)
        o = torch.tanh(x1 * w1 + x2 * w2 + b)
        o.backward()
        return o.item(), (b.grad.item(), w1.grad.item(), w2.grad.item(), x1.grad.item(),
                          x2.grad.item())
    bench.add("scalar tensors + backward", call, "torch")


def _casadi(bench: Bench) -> None:
    ca = peers.casadi()
    if ca is None:
        bench.missing("SX Function", "casadi")
        return
    xs = [ca.SX.sym(k) for k in ORDER]
    b, w1, w2, x1, x2 = xs
    o = ca.tanh(x1 * w1 + x2 * w2 + b)
    fn = ca.Function("f", xs, [o, ca.gradient(o, ca.vertcat(*xs))])

    def call():
        value, grad = fn(*ARGS)
        return float(value), tuple(grad.full().ravel().tolist())
    bench.add("SX Function(value, gradient)", call, "casadi")

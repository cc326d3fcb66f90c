"""Every op of the registry, checked against central finite differences at several points.

The reference is independent of the registry's derivative rules: only each op's float forward
is used, nudged on either side (the seeds' 'derivatives by nudging').
"""
import math
import random

import pytest
import sympy

import exprgrad as eg
from exprgrad.value import Value
from exprgrad import ops
from exprgrad.codegen import BACKENDS
from exprgrad.ops import FUNCTIONS, OPS, Op, Unsupported


def central_difference(fwd, xs, i, h=1e-6):
    up = list(xs); up[i] += h
    down = list(xs); down[i] -= h
    return (fwd(*up) - fwd(*down)) / (2 * h)


def points(op, n=4, seed=0):
    rng = random.Random(f"{op.name}-{seed}")
    return [[rng.uniform(lo, hi) for lo, hi in op.domain] for _ in range(n)]


DIFFERENTIABLE = [o for o in OPS.values() if o.arity > 0]


@pytest.mark.parametrize("op", DIFFERENTIABLE, ids=lambda o: o.name)
def test_every_rule_matches_finite_differences(op):
    assert op.domain, f"{op.name} needs a domain to be tested"
    for xs in points(op):
        args = [Value(x) for x in xs]
        out = args[0]._apply(op.name, *args[1:])
        out.backward()
        for i, a in enumerate(args):
            expected = central_difference(op.fwd, xs, i)
            assert a.grad == pytest.approx(expected, rel=1e-6, abs=1e-6), (op.name, xs, i)


@pytest.mark.parametrize("op", list(OPS.values()), ids=lambda o: o.name)
def test_every_sym_computes_the_float_forward(op):
    # Two definitions of each op in the registry, `sym` (sympy's function, for closed forms)
    # and `fwd` (math's, for numbers): sympy evaluates the one at 30 digits on the exact
    # binary value of each point inside the domain, and must give the other.
    for xs in points(op):
        exact = op.sym(sympy, *(sympy.Float(x, 30) for x in xs)).evalf(30)
        assert float(exact) == pytest.approx(op.fwd(*xs), rel=1e-13, abs=1e-300), (op.name, xs)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_every_language_function_through_compile(name):
    op = OPS[FUNCTIONS[name].op]
    arity = max(FUNCTIONS[name].arities)
    params = ["x", "y"][:arity]
    domain = op.domain if arity == op.arity else op.domain + ((2.0, 4.0),)
    f = eg.compile(f"{name}({', '.join(params)})")
    rng = random.Random(name)
    for _ in range(3):
        xs = [rng.uniform(lo, hi) for lo, hi in domain]
        point = dict(zip(params, xs))
        value, grads = f.grad(**point)
        for i, p in enumerate(params):
            expected = central_difference(lambda *v: f(**dict(zip(params, v))), xs, i)
            assert grads[p] == pytest.approx(expected, rel=1e-6, abs=1e-6), (name, xs)


@pytest.mark.parametrize("target", sorted(BACKENDS))
def test_every_op_prints_on_every_backend(target):
    # Python, NumPy and C print every op.  Array code may refuse one the array API standard
    # lacks (erf), but only as a CodegenError naming it at emit time, never as code that
    # fails when a library runs it; the library then runs the numpy form on numpy data
    # (test_library_arrays' corpus cases cover every op that way).
    backend = BACKENDS[target]
    backend.check()
    for op in OPS.values():
        if target == "array":
            try:
                t = backend.template(op)
            except eg.CodegenError as exc:
                assert f"{op.name} cannot be emitted as array code" in str(exc)
                continue
        else:
            t = backend.template(op)       # CodegenError if the backend cannot print it
        assert sorted({k for k, _ in t.needs}) == list(range(op.arity)), (target, op.name)


def test_an_op_a_backend_cannot_print_is_a_codegen_error_at_emit_time():
    scratch = Op("scratch_erf", 1, fwd=math.erf, rules=(lambda m, g, out, x: g,),
                 sym=lambda s, x: s.erf(x), fn="erf")
    assert BACKENDS["c"].template(scratch).pieces == ("erf(", (0, 0), ")")
    with pytest.raises(eg.CodegenError, match="numpy has no erf"):
        BACKENDS["numpy"].template(scratch)
    marked = Op("scratch_marked", 1, fwd=math.erf, rules=(lambda m, g, out, x: g,),
                sym=lambda s, x: s.erf(x), fn="erf", code={"c": Unsupported("not in C89")})
    with pytest.raises(eg.CodegenError, match="not in C89"):
        BACKENDS["c"].template(marked)


@pytest.mark.parametrize("bad,message", [
    (dict(rules=()), "0 derivative rules for 1 arguments"),
    (dict(fn=None), "no way to print it"),
    (dict(code={"python": "math.erf(x)"}), "does not use argument 0"),
    (dict(code={"python": "{0} + 1"}), "is not one atom"),
    (dict(domain=((0, 1), (0, 1))), "a domain for 2 arguments"),
])
def test_registry_rejects_an_inconsistent_entry_when_it_is_defined(bad, message):
    entry = dict(fwd=math.erf, rules=(lambda m, g, out, x: g,), sym=lambda s, x: s.erf(x),
                 fn="erf")
    entry.update(bad)
    with pytest.raises(ValueError, match=message):
        ops.op("scratch_bad", 1, **entry)
    assert "scratch_bad" not in OPS


def test_sigmoid_and_softplus_are_stable():
    assert OPS["sigmoid"].fwd(-1000.0) == 0.0
    assert OPS["sigmoid"].fwd(1000.0) == 1.0
    assert OPS["softplus"].fwd(1000.0) == 1000.0
    assert OPS["softplus"].fwd(-1000.0) == 0.0
    assert OPS["sigmoid"].fwd(-30.0) == pytest.approx(math.exp(-30.0), rel=1e-12)


@pytest.mark.parametrize("op", DIFFERENTIABLE, ids=lambda o: o.name)
def test_every_rule_matches_sympy_diff_of_its_forward(op):
    """The second, independent reference: sympy differentiates the op's sympy counterpart
    (`Op.sym`, the forward only), evaluated with 30 digits at the same points."""
    import sympy
    from exprgrad.symbolic import evaluate
    names = [f"a{i}" for i in range(op.arity)]
    syms = [sympy.Symbol(n, real=True) for n in names]
    expr = op.sym(sympy, *syms)
    for xs in points(op, seed=1):
        args = [Value(x) for x in xs]
        args[0]._apply(op.name, *args[1:]).backward()
        for a, s in zip(args, syms):
            expected = evaluate(sympy.diff(expr, s), dict(zip(names, xs)))
            assert a.grad == pytest.approx(expected, rel=1e-13, abs=1e-15), (op.name, xs, s)


def test_numpy_erf_maps_math_erf_even_beside_a_variable_named_math():
    import numpy as np
    from exprgrad import codegen
    f = eg.compile("erf(math) * erf(x)")
    src = f.to_source("numpy")
    assert "import math" in src and "np.vectorize(math.erf" in src
    _, grad_np = codegen.load_python(src)
    xs = np.linspace(-3, 3, 7)
    value, (d_math, d_x) = grad_np(xs, 0.5)
    for i, v in enumerate(xs):
        ref_value, ref = f.grad(math=float(v), x=0.5)
        assert value[i] == ref_value                 # math.erf itself: the same floats
        # the partials use np.exp, which may differ from libm's exp in the last place
        assert d_math[i] == pytest.approx(ref["math"], rel=1e-14)
        assert d_x[i] == pytest.approx(ref["x"], rel=1e-14)

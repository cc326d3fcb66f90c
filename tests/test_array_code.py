"""The array backend (`--emit array`): array API code run for real on numpy, and on PyTorch, JAX
and Dask arrays when those are installed (each such test says why it was skipped otherwise).

The numpy backend prints the same op forms (``xp.`` spelled ``np.``), so on float64 numpy data
both must give the same floats, bit for bit; the other libraries are compared with numpy.
"""
from __future__ import annotations

import math
import re
import warnings

import numpy as np
import pytest

import exprgrad as eg
from exprgrad import codegen
from exprgrad.errors import CodegenError
from exprgrad.ops import OPS, Op, Unsupported

from corpus import CORPUS, LANGUAGE, NEURON, application



def every_op() -> tuple[str, dict]:
    """One program applying every op of the language that array code prints (read from the
    registry, so a new op runs on PyTorch and JAX by default), each to variables of its own,
    and their domains (the registry's)."""
    terms, domains = [], {}
    for k, name in enumerate(sorted(LANGUAGE)):
        try:
            codegen.BACKENDS["array"].template(OPS[name])
        except CodegenError:
            continue                 # refused at emit time (erf): its own test
        terms.append("(" + re.sub(r"\b[xyzw]\b", lambda m: f"{m.group()}{k}",
                                  application(name)) + ")")
        for v, domain in zip("xyzw", OPS[name].domain):
            domains[f"{v}{k}"] = domain
    return " + ".join(terms), domains


#: constant subexpressions that Python floats would raise on or turn complex
EDGES = ["0.5/0 + x", "(-pi)^.5 + x", "0/0*x + y", "tanh(2)*x + 2^10000*y", "(-8)^(1/3)*x + y"]


def load(text: str, target: str = "array", **kw):
    """(f, grad_f) of the emitted code for `target`, and the Function."""
    f = eg.compile(text)
    return (*codegen.load_python(f.to_source(target, **kw)), f)


def same(a, b) -> bool:
    """Bitwise-equal floats after broadcasting (NaN equal to NaN)."""
    a, b = np.broadcast_arrays(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))
    return a.shape == b.shape and np.array_equal(a, b, equal_nan=True)


def columns(names, n=1000, seed=0, domains=None):
    rng = np.random.default_rng(seed)
    return [rng.uniform(*(domains or {}).get(v, (-2, 2)), size=n) for v in names]


# ---- numpy ---------------------------------------------------------------------------------

@pytest.mark.parametrize("text,domains", CORPUS, ids=[c[0][:40] for c in CORPUS])
def test_array_code_on_numpy_is_the_numpy_backend_bit_for_bit(text, domains):
    f = eg.compile(text)
    missing = {n.op for n in f.ir.order() if n.op in OPS and isinstance(
        codegen.BACKENDS["array"]._build(OPS[n.op]), Unsupported)}
    if missing:                          # erf: no array API function, refused at emit time
        with pytest.raises(CodegenError, match="cannot be emitted as array code"):
            f.to_source("array")
        return
    _, grad_a, f = load(text)
    _, grad_np = codegen.load_python(f.to_source("numpy"))
    xs = columns(f.variables, 257, len(text), domains)
    shapes = [xs, [0.5] * len(xs)]                      # arrays, and Python floats only
    if len(xs) >= 2:                                    # (3,1) against (1,4), the rest floats
        shapes.append([xs[0][:3].reshape(3, 1), xs[1][:4].reshape(1, 4)] + [0.25] * (len(xs) - 2))
    for args in shapes:
        with np.errstate(all="ignore"):
            va, ga = grad_a(*args)
            vn, gn = grad_np(*args)
        assert same(va, vn) and len(ga) == len(gn) and all(same(a, b) for a, b in zip(ga, gn))
        assert all(isinstance(r, (np.ndarray, np.generic)) for r in (va, *ga))


def test_constant_subexpressions_are_ieee_in_array_and_numpy_code():
    x = np.array([1.0, -2.0])
    for text in EDGES:
        for target in ("array", "numpy"):
            f_, grad_f, f = load(text, target)
            args = [x] + [0.5] * (len(f.variables) - 1)
            with np.errstate(all="ignore"):
                value, grads = grad_f(*args)          # Python floats raised or went complex here
                scalar = f_(*[1.0] * len(f.variables))
            assert np.shape(value) == (2,) and np.asarray(value).dtype == np.float64
            assert not np.iscomplexobj(value) and not np.iscomplexobj(scalar)
    with np.errstate(all="ignore"):
        assert load("0.5/0 + x")[1](np.array([1.0]))[0][0] == math.inf
        assert math.isnan(load("(-pi)^.5 + x")[1](np.array([1.0]))[0][0])
        assert math.isnan(load("0/0*x + y", "numpy")[0](1.0, 2.0))
        assert load("2^10000*y + x", "numpy")[0](1.0, 2.0) == math.inf


def test_a_constant_result_is_an_array_of_the_arguments_library():
    _, grad_f, _ = load("2*x + y")
    value, (d_x, d_y) = grad_f(np.ones(3, dtype=np.float32), 1.0)
    assert d_x.dtype == np.float32 and d_x == 2 and d_y == 1 and value.shape == (3,)


def test_dtypes_floats_kept_integers_become_float64_no_array_is_numpy_float64():
    f_, grad_f, _ = load("x*y + relu(x) + max(x, y)")
    assert f_(np.ones(2, np.float32), 2.0).dtype == np.float32
    assert f_(np.ones(2, np.float32), np.ones(2)).dtype == np.float64       # promoted
    assert f_(np.arange(3), 2).dtype == np.float64
    assert f_([1, 2, 3], True).dtype == np.float64                          # a list: numpy
    value, grads = grad_f(1.5, 2)
    assert isinstance(value, np.float64) and value == 1.5 * 2 + 1.5 + 2
    assert all(g.dtype == np.float64 for g in grads)


def test_array_code_calls_no_python_loop_and_broadcasts():
    _, grad_f, f = load(NEURON)
    b, w1, w2 = 0.1, np.linspace(-1, 1, 4).reshape(4, 1), 0.3
    x1, x2 = np.linspace(-2, 2, 5), np.float64(0.5)
    value, grads = grad_f(b, w1, w2, x1, x2)
    assert value.shape == (4, 5)
    want = np.tanh(x1 * w1 + x2 * w2 + b)
    assert np.array_equal(value, want)
    assert np.allclose(grads[3], (1 - want * want) * w1, rtol=1e-15)


def test_several_libraries_are_refused_and_a_missing_namespace_says_what_to_install():
    ns = codegen.load_namespace(eg.compile("x*y").to_source("array"))

    class A:     # an array type of some library without __array_namespace__
        dtype = np.float64

    class B(A):
        def __array_namespace__(self):
            return np

    ns["_compat_namespace"] = None              # as without array-api-compat installed
    with pytest.raises(TypeError, match="pip install array-api-compat"):
        ns["f"](A(), 1.0)
    with pytest.raises(TypeError, match="several array libraries"):
        ns["f"](B(), type("C", (B,), {})())


def test_header_says_what_array_code_needs():
    src = eg.compile("x*y").to_source("array")
    head = src.split("import numpy as np")[0]
    assert "array-api-compat" in head and "float64" in head and "(array, strategy" in head
    assert "numpy >= 2.0" in eg.compile("x").to_source("numpy").split("import numpy")[0]


def test_an_op_without_an_array_api_function_is_a_codegen_error():
    # erf is in <math.h> but not in the array API standard: the backend says so at emit time
    # (numpy has a form of its own for it).
    with pytest.raises(CodegenError, match="erf cannot be emitted as array code: array has no "
                                           "erf function"):
        eg.compile("erf(x) + y").to_source("array")
    _, grad_np = codegen.load_python(eg.compile("erf(x) + y").to_source("numpy"))
    assert np.allclose(grad_np(np.array([0.5]), 1.0)[0], math.erf(0.5) + 1, rtol=1e-15)
    probe = Op("erfc_probe", 1, fwd=math.erfc, rules=(lambda m, g, out, x: g,),
               sym=lambda s, x: s.erfc(x), fn="erfc")
    with pytest.raises(CodegenError, match="numpy has no erfc function"):
        codegen.BACKENDS["numpy"].template(probe)
    # A <math.h> function outside the standard is refused by array code even where no one
    # listed it (PyTorch has no cbrt: printing xp.cbrt would fail only when it runs), while
    # numpy, which has it, prints it.
    cbrt = Op("cbrt_probe", 1, fwd=lambda x: math.copysign(abs(x) ** (1 / 3), x),
              rules=(lambda m, g, out, x: g / (3 * out * out),), sym=lambda s, x: s.cbrt(x),
              fn="cbrt")
    with pytest.raises(CodegenError, match="array has no cbrt function"):
        codegen.BACKENDS["array"].template(cbrt)
    assert codegen.BACKENDS["numpy"].template(cbrt).pieces == ("np.cbrt(", (0, 0), ")")


def test_the_array_functions_exist_in_every_library_at_hand():
    # The array backend's list of the standard's functions, checked against the libraries
    # that implement it: numpy always, PyTorch (through array-api-compat) and JAX when here.
    spaces = {"numpy": np}
    try:
        import array_api_compat.torch
        spaces["torch"] = array_api_compat.torch
    except ImportError:
        pass
    try:
        import jax.numpy
        spaces["jax"] = jax.numpy
    except ImportError:
        pass
    for library, xp in spaces.items():
        missing = [f for f in codegen.BACKENDS["array"].functions.values() if not hasattr(xp, f)]
        assert not missing, (library, missing)


def test_emit_array_from_the_cli(tmp_path):
    from exprgrad.cli import main
    out = tmp_path / "g.py"
    assert main(["x*y + sin(x)", "--emit", "array", "-o", str(out)]) == 0
    ns = codegen.load_namespace(out.read_text())
    value, grads = ns["grad_f"](np.array([1.0, 2.0]), 3.0)
    assert np.allclose(value, [3 + math.sin(1), 6 + math.sin(2)], rtol=1e-15)


# ---- other array libraries (each needs its package; skipped with the reason otherwise) --------

def _numpy_reference(text, args):
    _, grad_np = codegen.load_python(eg.compile(text).to_source("numpy"))
    with np.errstate(all="ignore"):
        return grad_np(*args)


def _close(got, want, to_numpy, rel=1e-13):
    gv, gg = got
    wv, wg = want
    for g, w in zip([gv, *gg], [wv, *wg]):
        g = to_numpy(g)
        g, w = np.broadcast_arrays(g, np.asarray(w, dtype=np.float64))
        assert g.dtype == np.float64
        assert np.allclose(g, w, rtol=rel, atol=1e-14, equal_nan=True)


def test_pytorch_tensors_stay_tensors():
    torch = pytest.importorskip("torch", reason="PyTorch not installed: its array tests skipped")
    pytest.importorskip("array_api_compat", reason="array-api-compat not installed")
    for text, domains in [(NEURON, {}), every_op()]:
        _, grad_f, f = load(text)
        xs = columns(f.variables, 500, 1, domains)
        value, grads = got = grad_f(*[torch.from_numpy(x) for x in xs])
        assert all(isinstance(r, torch.Tensor) and r.dtype == torch.float64
                   for r in (value, *grads))
        _close(got, _numpy_reference(text, xs), lambda t: t.numpy())
    _, grad_f, _ = load("relu(x)*y + max(x, y)")
    value, grads = grad_f(torch.ones(3, dtype=torch.float32), 2.0)
    assert value.dtype == torch.float32 and all(g.dtype == torch.float32 for g in grads)
    value, grads = grad_f(torch.arange(3), np.float64(2.0))     # int data, a numpy scalar
    assert value.dtype == torch.float64 and grads[0].dtype == torch.float64


def test_jax_arrays_stay_jax_arrays_eager_and_under_jit():
    jax = pytest.importorskip("jax", reason="JAX not installed: its array tests skipped")
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    for text, domains in [(NEURON, {}), every_op()]:
        _, grad_f, f = load(text)
        xs = columns(f.variables, 500, 2, domains)
        want = _numpy_reference(text, xs)
        got = grad_f(*[jnp.asarray(x) for x in xs])
        assert isinstance(got[0], jax.Array) and got[0].dtype == jnp.float64
        _close(got, want, np.asarray, rel=1e-12)
        _close(jax.jit(grad_f)(*[jnp.asarray(x) for x in xs]), want, np.asarray, rel=1e-12)


def test_dask_arrays_stay_lazy_until_computed():
    da = pytest.importorskip("dask.array", reason="Dask not installed (pip install "
                             "'.[dask]'): its array tests skipped")
    pytest.importorskip("array_api_compat", reason="array-api-compat not installed")
    made = []

    def chunk(block_info=None):
        made.append(1)
        lo, hi = block_info[None]["array-location"][0]
        return np.linspace(-2, 2, 4000)[lo:hi]

    _, grad_f, f = load(NEURON)
    cols = [da.map_blocks(chunk, chunks=((1000,) * 4,), dtype=np.float64,
                          meta=np.empty(0)) * (i + 1) / 3
            for i in range(len(f.variables))]
    value, grads = grad_f(*cols)
    assert made == [] and all(isinstance(r, da.Array) for r in (value, *grads))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        got = da.compute(value, *grads, scheduler="sync")
    xs = [np.linspace(-2, 2, 4000) * (i + 1) / 3 for i in range(len(f.variables))]
    _close((got[0], got[1:]), _numpy_reference(NEURON, xs), np.asarray, rel=0)

"""The library on arrays (exprgrad/arrays.py): ``f(**arrays)`` and ``f.grad(**arrays)`` broadcast
like the emitted array code, keep scalars on the exact scalar path, and name the variable when
an input is no array of real numbers.  PyTorch, JAX and Dask cases run when installed."""
from __future__ import annotations

import math

import numpy as np
import pytest

import exprgrad as eg
from exprgrad.errors import DomainError, VariableError

from corpus import CORPUS, NEURON, SEED


def test_neuron_on_arrays_matches_the_scalar_calls_elementwise():
    f = eg.compile(NEURON)
    rng = np.random.default_rng(1)
    point = {v: rng.uniform(-2, 2, 50) for v in f.variables}
    value, grads = f.grad(**point)
    assert f(**point).shape == value.shape == (50,)
    for i in range(50):
        v_i, g_i = f.grad(**{k: float(a[i]) for k, a in point.items()})
        assert abs(value[i] - v_i) <= 1e-15 * max(1, abs(v_i))
        assert all(abs(grads[k][i] - g_i[k]) <= 1e-14 * max(1, abs(g_i[k])) for k in g_i)


@pytest.mark.parametrize("text,domains", CORPUS[::3], ids=[c[0][:40] for c in CORPUS[::3]])
def test_corpus_on_arrays_is_the_emitted_numpy_code(text, domains):
    # (the array code on float64 numpy data is the numpy code bit for bit, test_array_code.py;
    # erf, which the array API lacks, runs numpy's own form here)
    from exprgrad import codegen
    f = eg.compile(text)
    _, grad_a = codegen.load_python(f.to_source("numpy"))
    rng = np.random.default_rng(2)
    point = {v: rng.uniform(*domains.get(v, (-2, 2)), size=(7,)) for v in f.variables}
    if not f.variables:
        return
    with np.errstate(all="ignore"):
        value, grads = f.grad(**point)
        want_v, want_g = grad_a(*(point[v] for v in f.variables))
    assert np.array_equal(value, want_v, equal_nan=True)
    for v, w in zip(f.variables, want_g):
        assert grads[v].shape == (7,)
        assert np.array_equal(grads[v], np.broadcast_to(w, (7,)), equal_nan=True)


def test_scalars_mixed_with_arrays_broadcast_and_constant_partials_are_expanded():
    f = eg.compile("x*w + b")
    value, grads = f.grad(x=np.arange(6.0).reshape(2, 3), w=2.0, b=np.array([1.0, 2.0, 3.0]))
    assert value.shape == (2, 3) and np.array_equal(value, np.arange(6.0).reshape(2, 3) * 2
                                                    + [1, 2, 3])
    assert grads["x"].shape == grads["b"].shape == grads["w"].shape == (2, 3)
    assert np.all(grads["x"] == 2.0) and np.all(grads["b"] == 1.0)
    assert grads["w"].sum() == 15.0         # summing a partial over the batch is right
    assert f(1.0, 2.0, [1.0, 2.0]).tolist() == [3.0, 5.0]     # b, w, x by position; a list


def test_scalars_keep_the_scalar_path_and_its_exact_semantics():
    f = eg.compile(NEURON)
    value, grads = f.grad(**SEED)
    assert type(value) is float and all(type(g) is float for g in grads.values())
    v0, g0 = f.grad(**{k: np.float64(v) for k, v in SEED.items()})     # numpy scalars
    v1, g1 = f.grad(**{k: np.array(v) for k, v in SEED.items()})       # 0-d arrays
    assert v0 == v1 == value and g0 == g1 == grads
    g = eg.compile("log(x)")
    with pytest.raises(DomainError):
        g(x=-1.0)                               # a number: the scalar rules
    with np.errstate(invalid="ignore"):
        assert math.isnan(g(x=np.array([-1.0]))[0])      # an array: IEEE, like array code


def test_float32_arrays_stay_float32_integers_become_float64():
    f = eg.compile("x*y + sin(x)")
    assert f(x=np.ones(3, np.float32), y=2.0).dtype == np.float32
    value, grads = f.grad(x=np.arange(3), y=[1, 2, 3])
    assert value.dtype == grads["x"].dtype == np.float64


@pytest.mark.parametrize("bad,message", [
    ([[1.0, 2.0], [3.0]], "value of x must be a number or an array of numbers.*ragged"),
    (["a", "b"], "value of x .*ragged or not numeric"),
    (np.array([1 + 2j]), "value of x must hold real numbers.*complex"),
    (np.array(["a"]), "value of x must hold real numbers"),
    (np.ones(3), "shapes do not broadcast together: x \\(3,\\), y \\(2,\\)"),
    ("abc", "value of x must be a number"),
])
def test_bad_arrays_are_variable_errors_naming_the_variable(bad, message):
    f = eg.compile("x*y")
    with pytest.raises(VariableError, match=message):
        f.grad(x=bad, y=np.ones(2))
    with pytest.raises(VariableError, match=message):
        f(bad, np.ones(2))


def test_names_are_checked_on_arrays_too():
    f = eg.compile("x*y")
    with pytest.raises(VariableError, match="missing value for y"):
        f.grad(x=np.ones(2))
    with pytest.raises(VariableError, match="unknown variable z"):
        f(x=np.ones(2), y=1.0, z=np.ones(2))


def test_an_op_the_array_api_lacks_works_on_numpy_and_says_so_elsewhere():
    f = eg.compile("erf(x)*y")
    value, grads = f.grad(x=np.array([0.0, 0.5]), y=2.0)
    assert np.allclose(value, [0.0, 2 * math.erf(0.5)], rtol=1e-15)
    assert np.allclose(grads["y"], [0.0, math.erf(0.5)], rtol=1e-15)

    class Other:             # an array of another library
        shape, dtype = (2,), np.float64

        def __array_namespace__(self):
            return np

    with pytest.raises(eg.errors.CodegenError, match="no erf function; numpy and Dask arrays"):
        f.grad(x=Other(), y=1.0)


class OneElementConverts(np.ndarray):
    """A numpy array that float() converts when it holds one element, as a PyTorch tensor
    (or a CuPy array) does: numpy itself refuses, so without this the case goes untested."""

    def __float__(self):
        return float(self.view(np.ndarray).reshape(()))


def test_a_one_element_array_stays_an_array_on_the_fast_path():
    # The generated keyword entry read its values with float(), which turned a one-element
    # tensor into a number: a batch of one row came back as Python floats.
    f = eg.compile("x*y + sin(x)")
    one = np.array([0.5]).view(OneElementConverts)
    assert float(one) == 0.5
    # The first calls are interpreted (tiered calls): enough calls with numbers to compile
    # both entries, then arrays again.
    warm = max(f._tape_().calls_before_compiling(k) for k in ("grad", "value")) + 2
    for calls in (1, warm):                    # before and after the fast path is compiled
        for _ in range(calls):
            f.grad(x=0.5, y=2.0), f(x=0.5, y=2.0)
        value, grads = f.grad(x=one, y=2.0)
        assert value.shape == grads["x"].shape == grads["y"].shape == (1,)
        assert np.allclose(value, [1.0 + math.sin(0.5)], rtol=1e-15)
        assert f(x=one, y=2.0).shape == (1,) and f.grad(x=0.5, y=2.0)[0] == value[0]
    assert f._kernels.keys() == {"grad", "value"}          # the compiled entries refused it
    # Many variables are read in chunks (itemgetter), the last one here of one name.
    many = [f"x{i}" for i in range(257)]
    g = eg.compile("sin(" + " + ".join(many) + ")")
    pt = dict.fromkeys(many, 0.0)
    for _ in range(g._tape_().calls_before_compiling() + 2):
        g.grad(**pt)
    assert "grad" in g._kernels
    assert g.grad(**{**pt, "x256": one})[0].shape == (1,)
    assert g.grad(**{**pt, "x0": one})[0].shape == (1,)
    assert g.grad(**{**pt, "x0": 1})[0] == g.grad(**{**pt, "x0": 1.0})[0] == math.sin(1.0)
    torch = pytest.importorskip("torch", reason="PyTorch not installed: its library tests "
                                "skipped")
    pytest.importorskip("array_api_compat", reason="array-api-compat not installed")
    value, grads = f.grad(x=torch.tensor([0.5], dtype=torch.float64), y=2.0)
    assert isinstance(value, torch.Tensor) and value.shape == (1,)
    assert isinstance(grads["y"], torch.Tensor) and grads["y"].shape == (1,)


def test_several_outputs_give_their_values_on_arrays():
    f = eg.compile("x*y + 1")
    assert f(x=np.ones(2), y=np.arange(2.0)).tolist() == [1.0, 2.0]


# ---- other libraries ---------------------------------------------------------------------

def test_pytorch_tensors_in_pytorch_tensors_out():
    torch = pytest.importorskip("torch", reason="PyTorch not installed: its library tests "
                                "skipped")
    pytest.importorskip("array_api_compat", reason="array-api-compat not installed")
    f = eg.compile(NEURON)
    xs = {v: torch.linspace(-1, 1, 9, dtype=torch.float64) * (i + 1)
          for i, v in enumerate(f.variables)}
    value, grads = f.grad(**xs)
    assert isinstance(value, torch.Tensor) and all(isinstance(g, torch.Tensor)
                                                   for g in grads.values())
    want_v, want_g = f.grad(**{k: t.numpy() for k, t in xs.items()})
    assert np.allclose(value.numpy(), want_v, rtol=1e-15)
    assert all(np.allclose(grads[k].numpy(), want_g[k], rtol=1e-14) for k in grads)
    value, grads = f.grad(**{**xs, "b": 0.5, "w1": np.float64(2.0)})      # mixed with numbers
    assert value.shape == (9,) and grads["b"].shape == (9,)
    value, grads = f.grad(**{**xs, "b": np.zeros((3, 1)), "w2": [1.0] * 9})  # and numpy, lists
    assert isinstance(value, torch.Tensor) and value.shape == (3, 9)
    assert all(isinstance(g, torch.Tensor) and g.shape == (3, 9) for g in grads.values())


def test_jax_arrays_in_jax_arrays_out():
    jax = pytest.importorskip("jax", reason="JAX not installed: its library tests skipped")
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    f = eg.compile(NEURON)
    xs = {v: jnp.linspace(-1, 1, 9) * (i + 1) for i, v in enumerate(f.variables)}
    value, grads = f.grad(**xs)
    assert isinstance(value, jax.Array) and value.dtype == jnp.float64
    want_v, want_g = f.grad(**{k: np.asarray(a) for k, a in xs.items()})
    assert np.allclose(np.asarray(value), want_v, rtol=1e-14)
    assert all(np.allclose(np.asarray(grads[k]), want_g[k], rtol=1e-13) for k in grads)


def test_dask_arrays_give_one_task_per_chunk_and_stay_lazy():
    da = pytest.importorskip("dask.array", reason="Dask not installed (pip install "
                             "'.[dask]'): its library tests skipped")
    f = eg.compile(NEURON)
    rng = np.random.default_rng(3)
    cols = {v: rng.uniform(-2, 2, 4000) for v in f.variables}
    lazy = {k: da.from_array(c, chunks=1000) for k, c in cols.items()}
    lazy["b"] = 0.25                                     # a number beside the chunks
    lazy["w2"] = cols["w2"]                              # a numpy array beside them
    value, grads = f.grad(**lazy)
    assert isinstance(value, da.Array) and all(isinstance(g, da.Array) for g in grads.values())
    # one map_blocks task per chunk (plus the inputs' and the views' tasks), not per statement
    graph = dict(value.__dask_graph__())
    assert sum(1 for k in graph if isinstance(k, tuple) and k[0].startswith("exprgrad")) == 4
    got_v, *got_g = da.compute(value, *grads.values(), scheduler="sync")
    want_v, want_g = f.grad(**{**cols, "b": 0.25})
    assert np.array_equal(got_v, want_v)
    assert all(np.array_equal(g, want_g[k]) for g, k in zip(got_g, grads))
    assert f(**lazy).compute(scheduler="sync").shape == (4000,)


def test_second_order_and_several_outputs_on_arrays_match_the_scalar_calls():
    f = eg.compile("x*x*y + sin(x*y)")
    x, y = np.linspace(-1, 1, 4), np.linspace(0.5, 2, 4)
    hess, hvp = f.hessian(x=x, y=y), f.hvp([1.0, -2.0], x=x, y=y)
    jvp_value, jvp = f.jvp({"x": 0.5}, x=x, y=2.0)
    for i in range(4):
        h_i = f.hessian(x=float(x[i]), y=float(y[i]))
        assert all(abs(hess[a][b][i] - h_i[a][b]) <= 1e-13 * max(1, abs(h_i[a][b]))
                   for a in range(2) for b in range(2))
        hv_i = f.hvp([1.0, -2.0], x=float(x[i]), y=float(y[i]))
        assert all(abs(hvp[k][i] - hv_i[k]) <= 1e-13 * max(1, abs(hv_i[k])) for k in hv_i)
        v_i, t_i = f.jvp({"x": 0.5}, x=float(x[i]), y=2.0)
        assert abs(jvp_value[i] - v_i) <= 1e-15 and abs(jvp[i] - t_i) <= 1e-13 * max(1, abs(t_i))
    g = eg.compile("x*y, x + y")                        # two outputs
    values = g(x=x, y=1.0)
    assert isinstance(values, tuple) and np.allclose(values[0], x)
    assert np.allclose(values[1], x + 1)
    jac = g.jacobian(x=x, y=y)
    assert np.allclose(jac[0][0], y) and np.allclose(jac[0][1], x) and np.all(jac[1][1] == 1.0)

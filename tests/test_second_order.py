"""Second order and several outputs, against independent references.

Hessians, HVPs, JVPs and Jacobians from the DAG programs (derivatives.py, forward.py) are
compared with sympy's own differentiation of the closed form (evaluated at 30 digits) at several
points per corpus expression, with each other (H·v, J·v), and the emitted second-order code of
every backend is run (python in a fresh namespace, numpy on arrays, C through cc) against them.
"""
from __future__ import annotations

import math
import random

import numpy as np
import pytest

import exprgrad as eg
from exprgrad import codegen, program, symbolic
from exprgrad.check import check_hessian
from exprgrad.autodiff import grad_program, op_count
from exprgrad.cli import main
from exprgrad.derivatives import hessian_program, hvp_program, jacobian_program
from exprgrad.forward import jvp_program
from exprgrad.ops import OPS
from exprgrad.symbolic import Budget, ClosedForms

from corpus import LANGUAGE, NEURON, SEED, SEED_ARGS, SMOOTH_CORPUS, application
import helpers
from helpers import CC, compile_c


def points(text: str, domains: dict, count: int = 3) -> list[dict]:
    f = eg.compile(text)
    rng = random.Random(f"second:{text}")
    return [{v: rng.uniform(*domains.get(v, (-1.5, 1.5))) for v in f.variables}
            for _ in range(count)]


def defined_points(f: eg.Function, text: str, domains: dict, count: int = 2):
    """(point, Hessian, value, gradient) at the points where both are defined."""
    for point in points(text, domains, count):
        try:
            hess = f.hessian(**point)
            value, grads = f.grad(**point)
        except eg.DomainError:
            continue
        yield point, hess, value, grads


def close(a: float, b: float, rel: float = 1e-9) -> bool:
    # Looser near zero than the first-order tests' default, and NaN is never close here.
    return helpers.close(a, b, rel, abs_tol=rel * 10, nan=False)


def sympy_hessian(f: eg.Function, point: dict) -> list[list[float | None]]:
    """sympy's ∂²f/∂a∂b of the closed form (its own diff), at 30 digits."""
    forms, budget = ClosedForms(f.ir), Budget(seconds=30)
    return [[symbolic.evaluate(forms.second_derivative(a, b, tidied=False, budget=budget),
                               point, budget) for b in f.variables] for a in f.variables]


def test_hessian_matches_sympy_and_is_exactly_symmetric(smooth_corpus_case):
    text, domains = smooth_corpus_case
    f = eg.compile(text)
    for point in points(text, domains):
        try:
            hess = f.hessian(**point)
        except eg.DomainError:
            continue                              # outside the expression's domain
        n = len(f.variables)
        assert all(hess[i][j] == hess[j][i] for i in range(n) for j in range(n))
        expected = sympy_hessian(f, point)
        for i in range(n):
            for j in range(n):
                if expected[i][j] is not None:
                    assert close(hess[i][j], expected[i][j]), (text, point, i, j)


def test_hvp_and_jvp_are_the_hessian_and_gradient_times_a_vector(smooth_corpus_case):
    text, domains = smooth_corpus_case
    f = eg.compile(text)
    rng = random.Random(text)
    for point, hess, value, grads in defined_points(f, text, domains):
        v = [rng.uniform(-1, 1) for _ in f.variables]
        hv = f.hvp(v, **point)
        for i, name in enumerate(f.variables):
            expected = sum(h * x for h, x in zip(hess[i], v))
            assert close(hv[name], expected, 1e-10), (text, name)
        jvp_value, tangent = f.jvp(v, **point)
        assert jvp_value == value
        assert close(tangent, sum(grads[n] * x for n, x in zip(f.variables, v)), 1e-10)


SEVERAL = [
    ("p = x*y; q = x + sin(y); p, q", {}),
    ("a, b, c = softmax(x, y, z)", {}),
    ("s = x + y; d = x - y; s*d, exp(s)/(1 + d^2), tanh(x)", {}),
    ("u = x*y*z; u, u^2, log(1 + u^2), x", {}),
]


@pytest.mark.parametrize("text,domains", SEVERAL, ids=[t[:40] for t, _ in SEVERAL])
def test_jacobian_matches_sympy_in_both_modes(text, domains):
    f = eg.compile(text)
    assert len(f.outputs) > 1
    modes = {mode: jacobian_program(f.ir, mode=mode) for mode in ("reverse", "forward")}
    for prog in modes.values():
        program.check(prog)
    for point in points(text, domains):
        jac = f.jacobian(**point)
        assert len(jac) == len(f.outputs) and all(len(r) == len(f.variables) for r in jac)
        for k, name in enumerate(f.outputs):
            forms = ClosedForms(f.select(name).ir)
            for j, v in enumerate(f.variables):
                expected = symbolic.evaluate(forms.derivative(v, tidied=False), point)
                assert close(jac[k][j], expected, 1e-10), (text, name, v)
        for mode, prog in modes.items():
            _, matrix = codegen.load_namespace(codegen.program_source(prog))["run"](
                *[point[v] for v in f.variables])
            assert all(close(a, b, 1e-12) for ra, rb in zip(matrix, jac)
                       for a, b in zip(ra, rb)), mode


def test_jacobian_mode_follows_the_shape():
    wide = eg.compile("x*y*z*w, x + y")               # 2 outputs, 4 variables: reverse
    tall = eg.compile("x, x*y, y^2, x - y, sin(x)")   # 5 outputs, 2 variables: forward
    assert "grad of" in " ".join(b[2] for b in jacobian_program(wide.ir).blocks)
    assert all("forward mode" in b[2] for b in jacobian_program(tall.ir).blocks)


def test_several_outputs_in_the_library():
    f = eg.compile("p = x*y; q = x + y; p, q")
    assert f.outputs == ("p", "q") and f(x=2, y=3) == (6.0, 5.0)
    assert f.select("q").grad(x=2, y=3) == (5.0, {"x": 1.0, "y": 1.0})
    assert f.select(0)(x=2, y=3) == 6.0
    assert eg.compile("x*y, x + y").outputs == ("f0", "f1")
    assert eg.compile("x*y").outputs == ("f",)
    with pytest.raises(eg.OutputError, match="2 outputs"):
        f.grad(x=2, y=3)
    with pytest.raises(eg.OutputError, match="no output 'r'"):
        f.select("r")
    with pytest.raises(eg.OutputError):
        f.hessian(x=2, y=3)


def test_softmax_and_logsumexp_are_stable():
    f = eg.compile("a, b, c = softmax(z1, z2, z3)")
    probs = f(z1=1000.0, z2=999.0, z3=-1000.0)
    assert math.isclose(sum(probs), 1.0, rel_tol=4e-16) and probs[2] == 0.0
    assert math.isclose(probs[0], 1 / (1 + math.exp(-1)), rel_tol=1e-15)
    lse = eg.compile("logsumexp(x, y, z)")
    assert math.isclose(lse(x=1e3, y=1e3, z=1e3), 1e3 + math.log(3), rel_tol=1e-15)
    _, grads = lse.grad(x=1e3, y=1e3, z=-1e3)
    assert math.isclose(grads["x"], 0.5, rel_tol=1e-15) and grads["z"] == 0.0


def test_bad_input_gets_a_clear_error(neuron):
    f = neuron
    with pytest.raises(eg.VariableError, match="2 numbers for 5 variables"):
        f.hvp([1.0, 2.0], **SEED)
    with pytest.raises(eg.VariableError, match="unknown variable q"):
        f.jvp({"q": 1.0}, **SEED)
    with pytest.raises(eg.VariableError, match="cannot differentiate by zz"):
        hessian_program(f.ir, wrt=["zz"])


# ---- cost ----------------------------------------------------------------------------------

def _counts(text: str) -> tuple[int, int]:
    """Ops of the gradient program and of the HVP program of `text`."""
    f = eg.compile(text)
    grad, hvp = grad_program(f.ir), hvp_program(f.ir)
    return op_count(grad.graph, grad.roots), op_count(hvp.graph, hvp.roots)


def _hvp_per_gradient(text: str) -> float:
    g, h = _counts(text)
    return h / max(1, g)


#: ops whose own second-order rules are costly: one application's HVP costs more than 3.5
#: gradient programs (today pow, whose rules use xlogy, and div), measured for every op the
#: language can write, so a new op is classified by default
COSTLY = {op for op in LANGUAGE if OPS[op].arity and _hvp_per_gradient(application(op)) > 3.5}


#: the HVP ops of one application of each costly op: no program using the op needs to cost
#: less (hypot(x, y): 16 for a gradient of 3, 5.3×: its partials x/r, y/r are quotients, whose
#: tangents the div rule writes a/r + -(b)/r; atan2: 31 for 7)
OWN_HVP = {op: _counts(application(op))[1] for op in COSTLY}


def test_the_seeds_ops_and_the_elementary_ones_have_cheap_second_order_rules():
    assert not COSTLY & {"add", "sub", "mul", "neg", "exp", "log", "tanh", "sigmoid", "sin",
                         "cos", "relu"}


def test_second_order_cost(corpus_case):
    """The Hessian of n variables costs at most n HVPs (it shares far more); an HVP costs at
    most 3.5 gradient programs (5 with an op whose own rules are costly, `COSTLY`), and no
    less than one application of its costliest op (`OWN_HVP`); a structurally zero Hessian
    entry is the constant 0 and costs nothing."""
    f = eg.compile(corpus_case.text)
    grad, hvp, hess = grad_program(f.ir), hvp_program(f.ir), hessian_program(f.ir)
    for prog in (hvp, hess, jvp_program(f.ir)):
        program.check(prog)
    g, h, H = (op_count(p.graph, p.roots) for p in (grad, hvp, hess))
    assert H <= max(1, len(f.variables)) * h
    used = {n.op for n in f.ir.order()} & COSTLY
    floor = max((OWN_HVP[op] for op in used), default=0)
    assert h <= max((5 if used else 3.5) * max(g, 1), floor), (h, g)


def test_structural_zeros_are_constants_that_cost_nothing():
    f = eg.compile("x*y + z^2 + sin(w)")
    hess = hessian_program(f.ir).result("hess")
    n = 4
    names = f.variables                                  # w, x, y, z
    nonzero = {("w", "w"), ("x", "y"), ("y", "x"), ("z", "z")}
    for i, a in enumerate(names):
        for j, b in enumerate(names):
            node = hess.nodes[i * n + j]
            assert (node.op == "const" and node.payload == 0) == ((a, b) not in nonzero)
    src = f.to_source("python", order=2)
    assert "(0.0, 0.0, 0.0, 0.0)" not in src and "0.0," in src


def test_a_sparse_hessian_is_emitted_with_zero_runs_and_stays_a_tuple_of_row_tuples():
    """Rosenbrock's tridiagonal Hessian at n = 40: long runs of zeros are written as repeated
    tuples (``*(0.0,) * k``), the result is still a tuple of row tuples, entry for entry the
    library's Hessian, whose rules the sympy and finite-difference checks cover."""
    from exprgrad.codegen.python import ZERO_RUN
    xs = [f"x{i:02d}" for i in range(40)]
    f = eg.compile(" + ".join(f"100*({b} - {a}^2)^2 + (1 - {a})^2" for a, b in zip(xs, xs[1:])))
    src = f.to_source("python", order=2)
    assert f"*(0.0,) * {40 - 2}" in src                    # the first row: 2 entries, 38 zeros
    hess_f = codegen.load_namespace(src)["hess_f"]
    rng = random.Random(3)
    for _ in range(3):
        point = {x: rng.uniform(-1.5, 1.5) for x in xs}
        value, grad, hess = hess_f(*(point[x] for x in f.variables))
        assert type(hess) is tuple and all(type(row) is tuple and len(row) == 40 for row in hess)
        assert [list(row) for row in hess] == [list(row) for row in f.hessian(**point)]
        for i, row in enumerate(hess):
            assert all(row[j] == 0.0 for j in range(40) if abs(i - j) > 1)
    small = eg.compile("x*y + z^2 + sin(w)").to_source("python", order=2)
    assert "*(0.0,)" not in small and ZERO_RUN > 4           # short rows stay literal


# ---- generated second-order code, every backend -----------------------------------------------

@pytest.mark.parametrize("text,domains", SMOOTH_CORPUS[:12],
                         ids=[t[:40] for t, _ in SMOOTH_CORPUS[:12]])
def test_emitted_second_order_code_runs_in_every_backend(text, domains, tmp_path):
    f = eg.compile(text)
    names = list(f.variables)
    py = codegen.load_namespace(f.to_source("python", order=2))
    npns = codegen.load_namespace(f.to_source("numpy", order=2))
    lib = compile_c([f.to_source("c", order=2)], tmp_path) if CC else None
    for point, hess, value, grads in defined_points(f, text, domains):
        xs = [point[v] for v in names]
        v_py, g_py, h_py = py["hess_f"](*xs)
        assert v_py == value and list(g_py) == [grads[v] for v in names]
        assert [list(r) for r in h_py] == hess                      # the same program: bitwise
        v_np, g_np, h_np = npns["hess_f"](*[np.full(3, x) for x in xs])
        for row_np, row in zip(h_np, hess):          # entries broadcast: scalars or arrays
            for entry, expected in zip(row_np, row):
                assert np.allclose(np.broadcast_to(entry, (3,)), expected, rtol=1e-12,
                                   atol=1e-12)
        vv = [0.5] * len(xs)
        _, _, hv = py["hvp_f"](*xs, *vv)
        assert all(close(a, sum(h * 0.5 for h in row), 1e-12) for a, row in zip(hv, hess))
        if lib is not None:
            import ctypes
            fn = lib.hess_f
            fn.restype = ctypes.c_double
            n = max(1, len(xs))
            ins = (ctypes.c_double * n)(*xs)
            grad_out = (ctypes.c_double * n)()
            hess_out = (ctypes.c_double * (n * n))()
            c_value = fn(ins, grad_out, hess_out)
            assert close(c_value, value, 1e-12)
            flat = list(hess_out)[:len(xs) ** 2]
            assert all(close(a, b, 1e-11) for a, b in zip(flat, sum(hess, [])))


DIFFERENTIABLE = sorted(op for op in LANGUAGE if OPS[op].arity)


def test_emitted_hessian_code_of_every_op_matches_sympy_in_every_backend(tmp_path):
    """hess_f of one application of each op, as python (fresh namespace), numpy (on arrays)
    and C (one cc run), against sympy's own second derivatives at two points of its domain."""
    functions = {op: eg.compile(application(op)) for op in DIFFERENTIABLE}
    lib = compile_c([f.to_source("c", name=f"op_{op}", order=2) for op, f in functions.items()],
                    tmp_path) if CC else None
    import ctypes
    for op, f in functions.items():
        py = codegen.load_namespace(f.to_source("python", order=2))["hess_f"]
        npy = codegen.load_namespace(f.to_source("numpy", order=2))["hess_f"]
        rng = random.Random(f"hess:{op}")
        n = len(f.variables)
        for _ in range(2):
            xs = [rng.uniform(*OPS[op].domain[i]) for i in range(n)]
            expected = sympy_hessian(f, dict(zip(f.variables, xs)))
            got = {"python": py(*xs)[2],
                   "numpy": [[float(np.ravel(h)[0]) for h in row]
                             for row in npy(*[np.full(2, x) for x in xs])[2]]}
            if lib is not None:
                fn = getattr(lib, f"hess_op_{op}")
                fn.restype = ctypes.c_double
                hess_out = (ctypes.c_double * (n * n))()
                fn((ctypes.c_double * n)(*xs), (ctypes.c_double * n)(), hess_out)
                got["c"] = [list(hess_out)[i * n:(i + 1) * n] for i in range(n)]
            for backend, hess in got.items():
                for i in range(n):
                    for j in range(n):
                        if expected[i][j] is not None:
                            assert close(hess[i][j], expected[i][j]), (op, backend, xs, i, j)


def test_emitted_jacobian_code_for_several_outputs(tmp_path):
    f = eg.compile("p = x*y; q = x + sin(y); p, q")
    src = f.to_source("python")
    ns = codegen.load_namespace(src)
    values, jac = ns["jac_f"](1.0, 2.0)
    assert values == (2.0, 1.0 + math.sin(2.0)) and jac == ((2.0, 1.0), (1.0, math.cos(2.0)))
    assert ns["f"](1.0, 2.0) == values
    with pytest.raises(eg.CodegenError, match="choose it"):
        f.to_source("python", order=2)
    assert "def hess_f" in f.to_source("python", order=2, output="q")


# ---- the command line ----------------------------------------------------------------------------

def test_cli_hessian_prints_the_checked_hessian(capsys):
    args = [NEURON, "--at", *SEED_ARGS, "--hessian"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "∂²o/∂a∂b" in out and out.count("✓") >= 5 + 15
    assert main([NEURON, "--emit", "python", "--hessian"]) == 0
    code = capsys.readouterr().out
    ns = codegen.load_namespace(code)
    assert ns["hess_f"](*[SEED[v] for v in sorted(SEED)])[2][0][0] == \
        pytest.approx(-1 / math.sqrt(2), rel=1e-12)


def test_cli_several_outputs(capsys):
    text = "p = x*y; q = x + sin(y); p, q"
    assert main([text, "--at", "x=1", "y=2"]) == 0
    out = capsys.readouterr().out
    assert "∂p/∂variable" in out and "∂q/∂variable" in out
    assert main([text, "--at", "x=1", "y=2", "--hessian"]) == 2
    assert "--of p" in capsys.readouterr().err
    assert main([text, "--at", "x=1", "y=2", "--hessian", "--of", "q"]) == 0
    assert "∂²q/∂a∂b" in capsys.readouterr().out
    assert main([text, "--emit", "c", "--jacobian"]) == 0
    assert "void jac_f(const double *in, double *values_out, double *jac_out)" in \
        capsys.readouterr().out
    assert main([text, "--at", "x=1", "--of", "r"]) == 2


def test_dot_grad_with_hessian_draws_the_second_order_program(tmp_path):
    out = tmp_path / "hess.dot"
    res = helpers.run_cli(NEURON, "--hessian", "--dot-grad", str(out))
    assert res.returncode == 0, res.stderr
    drawn = out.read_text(encoding="utf-8")
    names = sorted(SEED)
    # every entry of the 5×5 Hessian is a node of the drawing, and the gradient it sweeps
    assert all(f"d2_{a}_{b}" in drawn for a in names for b in names)
    assert all(f"d_{a}" in drawn for a in names)
    assert "d2_a_b = ∂²output/∂a∂b" in drawn              # the caption names the tangent sweeps


def test_a_wrong_hessian_entry_is_a_disagreement_and_exit_status_1(monkeypatch, capsys):
    """The check must see a Hessian program that is off by 0.1% in one entry."""
    run = eg.Function._run

    def wrong(self, kind, *args, **kwargs):
        out = run(self, kind, *args, **kwargs)
        if kind != "hessian":
            return out
        value, grads, hess = out
        hess = [list(row) for row in hess]
        hess[1][3] *= 1.001                   # (w1, x1): not zero at the seed point
        return value, grads, hess
    monkeypatch.setattr(eg.Function, "_run", wrong)
    report = check_hessian(eg.compile(NEURON), SEED)
    bad = [row.name for row in report.rows if not row.ok]
    assert not report.ok and bad == ["w1, x1"]
    assert main([NEURON, "--at", *SEED_ARGS, "--hessian"]) == 1
    assert "✗" in capsys.readouterr().out


def test_newton_example_converges_on_rosenbrock(capsys):
    import importlib.util
    from pathlib import Path
    path = Path(__file__).resolve().parent.parent / "examples" / "newton.py"
    spec = importlib.util.spec_from_file_location("newton_example", path)
    newton = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(newton)
    assert newton.main(["10"]) == 0
    out = capsys.readouterr().out
    assert "converged in" in out and "did NOT" not in out

"""Fuzzer: random programs through every path against an independent reference.

The reference is sympy's own: the parsed program as a closed form (`Function.sympy`), its
derivatives by `sympy.diff`, both evaluated by mpmath at 50 digits.  For each program of
tests/fuzzgen.py (the whole language, edge constants and points) it asks:

- **rules**: the gradient program, evaluated op by op at 50 digits, equals sympy's derivative
  (both exact, so a disagreement is a wrong derivative rule, not rounding), except where the
  point sits on a kink (relu'(0) = 0 is a convention, `Op.kink`);
- **floats**: every path's value and partials that are numbers lie within a first-order
  rounding-error bound of sympy's (the bound: each op's rounding, 2 ulps, carried forward by
  its partials; partials off kinks only);
- **errors**: a scalar path raises, and C gives inf or nan where sympy gives a number, only
  where the program is undefined at the point, or a function or a value computed on the way
  overflows the double range (README's numeric policy: x^x's slope at x = 5e-324 computes
  a^(b-1) = 2.0e323, `overflows_inside`).  (Numbers where a node is undefined are allowed:
  + - * / overflow to inf, d/db a^b is NaN for a < 0.)

The paths must also agree with each other (tests/paths.py's `violations`).  CI runs a
derandomized sample.  A soak runs ``EXPRGRAD_SOAK`` programs at random and writes every
finding, one JSON object a line, to ``EXPRGRAD_FINDINGS`` (default ``fuzz-findings.jsonl``),
failing at the end if there was any::

    EXPRGRAD_SOAK=20000 PYTHONPATH=$PWD python -m pytest -q -p no:cacheprovider tests/test_fuzz.py
"""
from __future__ import annotations

import contextlib
import functools
import json
import math
import os
import signal
import sys
import tempfile
import time
import types
from fractions import Fraction
from pathlib import Path

import mpmath
import sympy
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import exprgrad as eg
import exprgrad.ops as ops_module
from exprgrad.autodiff import grad_program
from exprgrad.budget import Budget
from exprgrad.errors import SymbolicError
from exprgrad.ops import FLOAT_ERRORS, FLOAT_MATH, OPS

from fuzzgen import cases
from helpers import needs_cc, run_python
from paths import SCALAR, run_paths, violations

DIGITS = 50
BATCH = 20
SOAK = int(os.environ.get("EXPRGRAD_SOAK", "0"))
FINDINGS = Path(os.environ.get("EXPRGRAD_FINDINGS", "fuzz-findings.jsonl"))
ULPS = 2 * 2.0 ** -52           # one op's rounding: libm functions are within an ulp or so
MAX = 1.7976931348623157e308


@contextlib.contextmanager
def _same_precision():
    """mpmath's precision as it was, after the block: sympy's ``workprec`` of a precision past
    the float range leaves it at that (mpmath 1.3; exprgrad's guard repairs it the same way,
    budget.py `_restore_precision`), and everything evaluated after it would fail.  The
    fuzzer owns its process: it puts back whatever precision it found."""
    bits = mpmath.mp.prec
    try:
        yield
    finally:
        mpmath.mp.prec = bits


def _number(expr, digits: int = DIGITS) -> tuple | None:
    """A sympy number at 50 digits as (real part, imaginary part) mpmath numbers; None where it
    is undefined (zoo, nan, infinite)."""
    try:
        with _same_precision():
            re, im = sympy.N(expr, digits).as_real_imag()
            re, im = mpmath.mpf(sympy.N(re, digits)), mpmath.mpf(sympy.N(im, digits))
    except (TypeError, ValueError, ZeroDivisionError, OverflowError, AttributeError,
            MemoryError):
        return None
    if not (mpmath.isfinite(re) and mpmath.isfinite(im)):
        return None
    return re, im


def _at(expr, point: dict, digits: int = DIGITS):
    # Substituted, then evaluated: evalf(subs=...) loses z - y at z = y = 1.8e308.
    subs = {s: sympy.Float(point[s.name], digits + 10) for s in expr.free_symbols}
    try:
        return _number(expr.xreplace(subs), digits)
    except (TypeError, ValueError, ZeroDivisionError, OverflowError, RecursionError,
            MemoryError):
        return None


def _defined(z) -> bool:
    """Real, finite and inside the double range."""
    return z is not None and z[1] == 0 and abs(z[0]) <= MAX


def exact(graph, point: dict, roots=None, digits: int = DIGITS + 10):
    """Each node of `graph` at `digits` digits (the registry's sympy forms, `Op.sym`, on
    exact inputs): {node index: sympy number}, and whether every node is defined (real, finite,
    within the double range): where one is not, the program is undefined or overflows there,
    and the policy lets the scalar paths raise."""
    vals, ok = {}, True
    for node in graph.order(roots):
        if node.op == "var":
            v = sympy.Float(point[node.payload], digits)
        elif node.op == "const":
            # A Float, never a Rational: sympy would raise an exact 1e300 to an exact 710
            # (a 213,000-digit integer) where mpmath needs one multiplication of exponents.
            v = sympy.Float(sympy.Rational(node.payload.numerator, node.payload.denominator),
                            digits)
        else:
            try:
                with _same_precision():
                    v = sympy.N(OPS[node.op].sym(sympy, *(vals[a.index] for a in node.args)),
                                digits)
            except (ZeroDivisionError, OverflowError, ValueError, TypeError, MemoryError):
                v = sympy.nan
        vals[node.index] = v
        ok = ok and _defined(_number(v))
    return vals, ok


# Arguments an op's form shifts by a constant before use: dpow(a, b) computes b - 1, whose
# rounding (an ulp of |b - 1|, not of |b|) its exponent slope carries: at b = 1e-8 and
# a = 3.8e-134 the partial a^(b-1)*(1 + b*log(a)) turns it into 3e-14 of the result.
SHIFTED = {("dpow", 1): 1.0}


def error_bounds(graph, point: dict, roots=None) -> dict:
    """A first-order bound of each node's rounding error in float evaluation: its own
    rounding plus its arguments' errors times its partials (the registry's rules on floats);
    inf where a partial is not a finite number.  Bounds are mpmath numbers: a subnormal
    literal's rounding (4.9e-324 is 4.94...e-324) is below the smallest double, and matters
    once a slope scales it up."""
    vals, bound = {}, {}
    for node in graph.order(roots):
        i = node.index
        if node.op == "var":
            vals[i], bound[i] = float(point[node.payload]), mpmath.mpf(0)
            continue
        if node.op == "const":
            vals[i] = float(node.payload)
            error = abs(Fraction(vals[i]) - node.payload)              # 4.9e-324 is 5e-324
            bound[i] = mpmath.mpf(error.numerator) / error.denominator
            continue
        xs = [vals[a.index] for a in node.args]
        try:
            out = OPS[node.op].fwd(*xs)
            slopes = [abs(rule(FLOAT_MATH, 1.0, out, *xs)) for rule in OPS[node.op].rules]
        except FLOAT_ERRORS:
            out, slopes = math.nan, [math.inf] * len(xs)
        vals[i] = out
        # the arguments' errors carried by the slopes; the op's own rounding, as if its
        # inputs were off by an ulp too (a form computes b - 1 inside: dpow, logaddexp), and
        # an underflow's (the spacing of subnormals)
        if not all(math.isfinite(s) for s in slopes):
            bound[i] = mpmath.inf
            continue
        spans = [bound[a.index] + (abs(x) + SHIFTED.get((node.op, k), 0)) * ULPS
                 for k, (a, x) in enumerate(zip(node.args, xs))]
        if not _linear(node.op, xs, out, slopes, spans):
            bound[i] = mpmath.inf
            continue
        grown = sum(s * span for s, span in zip(slopes, spans))
        bound[i] = grown + abs(out) * ULPS + 2.0 ** -1074
    return bound


def _linear(op: str, xs: list, out: float, slopes: list, spans: list) -> bool:
    """A first-order bound holds only where no argument's error interval holds a pole (the
    sign test of finite_diff.POLES) and the slopes do not grow across it by more than the
    first-order term itself: tan at the double nearest -pi/2 (atan(-1.8e308)) is -1.6e16
    with slope 2.7e32, but its interval holds the pole, and the exact value is -1.8e308
    (found by the soak)."""
    from exprgrad.finite_diff import POLES
    rules, pole = OPS[op].rules, POLES.get(op)
    for k, span in enumerate(spans):
        step = float(span)
        if not step or not math.isfinite(step):
            continue
        for x in (xs[k] - step, xs[k] + step):
            moved = [*xs[:k], x, *xs[k + 1:]]
            try:
                if pole is not None and (pole(*moved) > 0) != (pole(*xs) > 0):
                    return False
                again = [abs(rule(FLOAT_MATH, 1.0, OPS[op].fwd(*moved), *moved))
                         for rule in rules]
            except FLOAT_ERRORS:
                return False
            if any(not math.isfinite(b) or (b - a) * step > a * step + abs(out) * ULPS
                   + 2.0 ** -1074 for a, b in zip(slopes, again)):
                return False
    return True


def justified(graph, point: dict, roots=None) -> bool:
    """Float evaluation of `graph` fails at a node whose op is undefined, or overflows, on the
    float arguments it got (rounding upstream may take it there: log(1e300, 100) is
    150.00000000000003, and (-x)^150.00000000000003 has no real value), or whose float
    forward computes a value on the way that overflows (`overflows_inside`)."""
    vals: dict = {}
    for node in graph.order(roots):
        if node.op == "var":
            vals[node.index] = float(point[node.payload])
        elif node.op == "const":
            vals[node.index] = float(node.payload)
        else:
            xs = [vals[a.index] for a in node.args]
            try:
                vals[node.index] = out = OPS[node.op].fwd(*xs)
            except FLOAT_ERRORS:
                return _undefined_at(node.op, xs) or overflows_inside(node.op, xs)
            # The IEEE form of the same: an op that returns ±inf or nan from finite float
            # arguments where it is undefined there (xlogy(1, 0) = -inf, d/db a^b at a base
            # that underflowed to 0: sigmoid(-2.6e300) is 0.0, its exact value is not).
            if not math.isfinite(out) and all(math.isfinite(x) for x in xs) and \
                    _undefined_at(node.op, xs):
                return True
    return False


def _undefined_at(op: str, xs: list) -> bool:
    """`op` is undefined, or beyond the double range, at the float arguments `xs`."""
    args = [sympy.Float(x, DIGITS + 10) for x in xs]
    try:
        return not _defined(_number(OPS[op].sym(sympy, *args)))
    except (ZeroDivisionError, OverflowError, ValueError, TypeError, MemoryError):
        return True


# ---- the values a float forward computes on the way ------------------------------------------
# README's policy: an intermediate value of the gradient program that overflows is treated as a
# function that overflows.  Most are nodes, which `exact` sees; some are inside one op's float
# forward: dpow(a, b) = b*a^(b-1) computes a^(b-1) first, which overflows at a = b = 5e-324
# (2.0e323) where the slope, 1.0, does not.  To see those, each op's forward is run as written
# in ops.py on exact numbers: the same code with `math` bound to mpmath's functions, which
# record what they return.

_INSIDE: list = []                      # what the exact `math` functions returned, in order
_MPMATH = {"pow": mpmath.power, "log2": lambda x: mpmath.log(x, 2)}


class _ExactMath:
    """`math` for ops.py's forwards on mpmath numbers: each function computes at mpmath's
    precision and records its result in `_INSIDE`; the constants are mpmath's."""

    def __getattr__(self, name: str):
        if name in ("inf", "nan"):
            return getattr(mpmath, name)
        if name in ("pi", "e"):
            return +getattr(mpmath, name)
        function = _MPMATH.get(name) or getattr(mpmath, name)

        def recorded(*args):
            out = function(*args)
            _INSIDE.append(out)
            return out
        return recorded


@functools.cache
def _exact_forwards() -> dict:
    """{op name: its float forward on mpmath numbers}: ops.py's functions rebuilt over a copy
    of the module's namespace where `math` is `_ExactMath` (so `_dpow` calls the copy of
    `_pow`, which calls the exact `pow`); a forward that is a `math` function is the exact
    one; `operator.add`, `abs` work on mpmath numbers as they are."""
    namespace: dict = {}
    exact_math = _ExactMath()

    def rebuild(fn):
        if isinstance(fn, types.FunctionType) and fn.__module__ == ops_module.__name__:
            return types.FunctionType(fn.__code__, namespace, fn.__name__, fn.__defaults__,
                                      fn.__closure__)
        if isinstance(fn, types.BuiltinFunctionType) and fn.__module__ == "math":
            return getattr(exact_math, fn.__name__)
        return fn
    namespace.update((name, rebuild(value)) for name, value in vars(ops_module).items())
    namespace["math"] = exact_math
    return {name: rebuild(o.fwd) for name, o in OPS.items()}


def overflows_inside(op: str, xs: list) -> bool:
    """`op`'s float forward on the doubles `xs`, computed exactly (at `DIGITS` + 10 digits),
    calls a function whose result is a real number beyond the largest double: a value
    computed on the way overflows, whatever the op's own result (x^x's slope at x = 5e-324:
    a^(b-1) is 2.0e323, b*a^(b-1) is 1.0).  A pole (log(0), 1/0) is not an overflow."""
    del _INSIDE[:]
    with mpmath.workdps(DIGITS + 10):
        try:
            _exact_forwards()[op](*(mpmath.mpf(x) for x in xs))
        except (ZeroDivisionError, ValueError, OverflowError, TypeError):
            pass                        # undefined further on: what came before still counts
        return any(isinstance(v, mpmath.mpf) and mpmath.isfinite(v) and abs(v) > MAX
                   for v in _INSIDE)


DEEP = 700             # digits that confirm a disagreement of the rules


def _apart(mine, ref) -> bool:
    """Two 50-digit results farther apart than the doubles in rules allow (log(10) in
    log10's rule is a double): a wrong rule is off by much more."""
    if mine is None or ref is None:
        return mine is not ref
    return abs(mine[0] - ref[0]) > 1e-13 * max(1.0, abs(ref[0]))


def _kinked(graph, point: dict) -> bool:
    """The point sits on a kink of some op (relu and abs at 0, max/min ties, ...)."""
    from exprgrad.interpret import evaluate
    try:
        vals = evaluate(graph, point)
    except eg.DomainError:
        return True
    return any(OPS[n.op].kink is not None and OPS[n.op].kink(*(vals[a.index] for a in n.args))
               == 0 for n in graph.order() if n.op in OPS and n.args)


def _on_cut(graph, point: dict) -> bool:
    """Some op's value follows the sign of a zero argument (`Op.signed_zero`: atan2(-0, x < 0)
    is IEEE's -pi, sympy's +pi).  Every path follows IEEE (README's policy keeps -0 through
    folding); the reference cannot."""
    from exprgrad.interpret import evaluate
    try:
        vals = evaluate(graph, point)
    except eg.DomainError:
        return False
    return any(OPS[n.op].signed_zero(*(vals[a.index] for a in n.args)) for n in graph.order()
               if n.args and OPS[n.op].signed_zero is not None)


def _far(got: float, want, bound: float) -> bool:
    """`got` further from the real number `want` than 8 bounds allow."""
    if math.isnan(got) or not mpmath.isfinite(bound) or not _defined(want):
        return False
    return abs(mpmath.mpf(got) - want[0]) > 8 * bound + 2.0 ** -1074


def findings(case: tuple[str, dict], out: dict) -> list[dict]:
    """Every way `case`'s outcomes (`run_paths`) disagree with the reference."""
    text, point = case
    found = [{"rule": "paths", "detail": v} for v in violations(case, out)]
    f = eg.compile(text)
    try:
        closed = f.sympy
        derivs = f.derivatives
    except SymbolicError:
        return found                    # beyond the symbolic budgets: nothing to compare
    except Exception as exc:            # noqa: BLE001 - a traceback for the user: a finding
        # (`_Slow`, the alarm, is no Exception: the program is skipped)
        return found + [{"rule": "traceback", "path": "f.sympy", "text": text, "point": point,
                         "detail": f"{type(exc).__name__}: {exc}"}]
    program = grad_program(f.ir)
    grad_nodes = program.result("grad").nodes
    roots = [*program.primal, *grad_nodes]
    backward, backward_ok = exact(program.graph, point, roots)
    forward_ok = backward_ok or exact(f.ir, point)[1]
    ref_value = _at(closed, point)
    ref_grad = [_at(derivs[v], point) for v in f.variables]

    def note(rule, path, detail):
        found.append({"rule": rule, "path": path, "text": text, "point": point,
                      "got": repr(out.get(path)), "detail": detail})
    # rules: the gradient program at 50 digits against sympy's own derivative
    kinked = _kinked(f.ir, point)
    cut = _on_cut(f.ir, point)
    if backward_ok and not kinked:
        checked = zip(("value", *(f"d/d{v}" for v in f.variables)), roots,
                      (closed, *(derivs[v] for v in f.variables)), (ref_value, *ref_grad))
        for what, node, form, ref in checked:
            mine = _number(backward[node.index])
            # Confirmed with both sides at `DEEP` digits: 3^1e-300 is 1 at 60 (its log 0),
            # atan(z)/z's slope at z = 1e-225 cancels 450 digits.
            if _defined(ref) and _defined(mine) and _apart(mine, ref) and _apart(
                    _number(exact(program.graph, point, roots, DEEP)[0][node.index]),
                    _at(form, point, DEEP)):
                note("rules", "gradient program",
                     f"{what}: {mine[0]} at 50 digits, sympy {ref[0]}")
    # errors and floats, on each scalar path (they agree, but each is checked) and C.  A
    # scalar path may raise, and C give inf or nan where sympy gives a number, only where a
    # node is undefined or beyond the double range at 50 digits, or where float evaluation
    # fails at an op that is undefined or overflows there or computes a value on the way
    # that overflows (`justified`; README's policy).
    value_bound = error_bounds(f.ir, point)[f.ir.output.index]
    grad_bounds = error_bounds(program.graph, point, roots)
    excused: list = []

    def failure_excused() -> bool:
        if not excused:
            excused.append(not (forward_ok and backward_ok)
                           or justified(program.graph, point, roots))
        return excused[0]
    for path in (*SCALAR, "C"):
        got = out[path]
        if got[0] == "raise":
            if not failure_excused():
                note("errors", path, "raised where every node is defined at 50 digits")
            continue
        if got[0] != "ok":
            continue                    # a crash: already a paths finding
        if path == "C" and any(not math.isfinite(x) and _defined(ref) for x, ref in zip(
                (got[1], *got[2]), (ref_value, *ref_grad))) and not failure_excused():
            note("errors", path, "inf or nan where sympy's is a number and every node is "
                                 "defined at 50 digits")
        # A disagreement is confirmed at `DEEP` digits: log(exp(-3e16) + exp(1e-300)) is 0
        # at 50 and 1e-300 at 700.
        if cut:
            continue                    # IEEE's -0 against a reference without one
        if forward_ok and _far(got[1], ref_value, value_bound) and \
                _far(got[1], _at(closed, point, DEEP), value_bound):
            note("floats", path, f"value, 50 digits: {ref_value and ref_value[0]}")
        if backward_ok and not kinked:
            for v, node, p, ref in zip(f.variables, grad_nodes, got[2], ref_grad):
                if _far(p, ref, grad_bounds[node.index]) and \
                        _far(p, _at(derivs[v], point, DEEP), grad_bounds[node.index]):
                    note("floats", path, f"d/d{v}, 50 digits: {ref and ref[0]}")
    return found


SLOW = 20              # seconds for one program's reference before it is skipped


class _Slow(BaseException):
    """The fuzzer's per-program alarm.  Not an Exception: sympy and mpmath catch those
    (`except Exception`, `except (TypeError, ValueError)`...) and go on with a fallback, so an
    alarm landing there would be swallowed and leave whatever it interrupted half done."""


def _run(programs: list, found: list, skipped: list | None = None) -> None:
    """`findings` of each program into `found`; a program whose reference takes longer than
    `SLOW` into `skipped`.  The limit is a SIGALRM, not exprgrad's sympy budget: CPython
    checks for signals inside a long integer power, where the budget's watchdog (an
    asynchronous exception, seen only between bytecodes) cannot stop it: the closed form of
    pow(4.9e-324, 1.7976931348623157e308) is an exact power with a 309-digit exponent.  The
    alarm repeats every second until cancelled: one that lands in hypothesis's gc callback is
    only reported there ("Exception ignored"), and the next one ends the program.  After an
    alarm sympy's caches are cleared, as the budget does after its timeouts: a computation
    cut short may have cached what it had so far."""
    def expire(signum, frame):
        raise _Slow
    with tempfile.TemporaryDirectory() as tmp:
        for case, out in zip(programs, run_paths(programs, Path(tmp))):
            old = signal.signal(signal.SIGALRM, expire)
            signal.setitimer(signal.ITIMER_REAL, SLOW, 1.0)
            try:
                try:
                    with _same_precision():     # also where the alarm cut the program short
                        found += findings(case, out)
                finally:
                    signal.setitimer(signal.ITIMER_REAL, 0)
            except _Slow:
                sympy.core.cache.clear_cache()
                if skipped is not None:
                    skipped.append(case)
            except Exception as exc:    # noqa: BLE001 - escaped exprgrad or sympy: a finding,
                found.append({"rule": "traceback", "path": "findings", "text": case[0],
                              "point": case[1], "detail": f"{type(exc).__name__}: {exc}"})
            finally:
                signal.signal(signal.SIGALRM, old)


def health() -> dict:
    """Numbers that sympy and mpmath compute from their process-wide state (precision,
    cached constants, caches): the same in every healthy process.  A soak compares them after
    every batch with a fresh process's (`fresh_health`), so a process that goes bad is caught
    at the batch that did it."""
    out = {"mp.prec": mpmath.mp.prec}
    for text in ("pi", "log(3)", "exp(1/3)", "atan(7)", "10**40/3 + 1/7"):
        try:
            value = sympy.N(sympy.sympify(text), 30)
            out[text] = f"{value} {float(value)!r}"
        except Exception as exc:    # noqa: BLE001 - a sick process is what this looks for
            out[text] = f"{type(exc).__name__}: {exc}"
    return out


def fresh_health() -> dict:
    """`health()` in a new interpreter (the baseline: this process may be sick already)."""
    done = run_python(f"import json, sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); "
                      "import test_fuzz; print(json.dumps(test_fuzz.health()))", timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


_SETTINGS = dict(deadline=None, database=None, phases=[Phase.explicit, Phase.generate],
                 suppress_health_check=list(HealthCheck))


@needs_cc
@settings(max_examples=6, derandomize=True, **_SETTINGS)
@given(st.lists(cases(max_leaves=6), min_size=BATCH, max_size=BATCH))
def test_paths_agree_with_sympy_at_50_digits(programs):
    found: list = []
    _run(programs, found)
    assert not found, "\n".join(json.dumps(f, default=str) for f in found[:10])


def test_soak():
    """``EXPRGRAD_SOAK=N``: N random programs (batches of `BATCH`), every finding written to
    ``EXPRGRAD_FINDINGS``; the test fails at the end if there was any."""
    if not SOAK:
        return
    found: list = []
    skipped: list = []
    counted = [0]
    healthy, sick = fresh_health(), []

    @settings(max_examples=max(1, SOAK // BATCH), **_SETTINGS)
    @given(st.lists(cases(max_leaves=6), min_size=BATCH, max_size=BATCH))
    def soak(programs):
        if sick:
            return          # every later program's finding would be the sickness's
        before, slow = len(found), len(skipped)
        _run(programs, found, skipped)
        counted[0] += len(programs)
        now = health()
        if now != healthy and not sick:
            # The first batch after which sympy or mpmath compute other numbers than a fresh
            # process: its programs, and those that were cut short by the alarm.
            sick.append(counted[0])
            found.append({"rule": "state", "path": "process", "text": "", "point": {},
                          "detail": {"after_programs": counted[0], "healthy": healthy,
                                     "now": now, "batch": programs,
                                     "cut_short": skipped[slow:]}})
        with FINDINGS.open("a", encoding="utf-8") as out:
            for f in found[before:]:
                out.write(json.dumps(f, default=str) + "\n")
        # The count so far, for a soak that is stopped or dies: <findings file>.count
        Path(f"{FINDINGS}.count").write_text(
            f"{counted[0]} programs, {len(found)} findings, {len(skipped)} skipped\n")
    soak()
    print(f"soak: {counted[0]} programs, {len(found)} findings in {FINDINGS}, "
          f"{len(skipped)} skipped (reference slower than {SLOW} s)")
    assert not found, f"{len(found)} findings, see {FINDINGS}"


@needs_cc
def test_a_wrong_rule_is_found(monkeypatch):
    """The fuzzer can fail: sin's rule off by 1e-7 is a "rules" finding and a "floats" one."""
    import dataclasses
    wrong = dataclasses.replace(OPS["sin"], rules=(lambda m, g, out, x: g * m.cos(x) * 1.0000001,))
    monkeypatch.setitem(OPS, "sin", wrong)
    found: list = []
    _run([("sin(x)*y", {"x": 0.7, "y": 2.0})], found)
    assert {"rules", "floats"} <= {f["rule"] for f in found}


# ---- an intermediate value that overflows (README's policy) ----------------------------------

SUBNORMAL_POWERS = [("x^x", {"x": 5e-324}), ("pow(x, z)", {"x": 5e-324, "z": 5e-324}),
                    ("x^x", {"x": 5e-309})]       # 1/5e-309 = 2.0e308: past the largest double


@needs_cc
def test_an_overflow_on_the_way_is_the_policy():
    """x^y's slope at a subnormal base: the scalar paths raise and C gives inf (a^(b-1)
    overflows inside dpow), and the fuzzer counts that as the policy, not as a finding."""
    with tempfile.TemporaryDirectory() as tmp:
        outs = run_paths(SUBNORMAL_POWERS, Path(tmp))
    for case, out in zip(SUBNORMAL_POWERS, outs):
        assert all(out[p][0] == "raise" for p in SCALAR), (case, out)
        assert out["C"][0] == "ok" and math.isinf(out["C"][2][0]), (case, out)
        assert findings(case, out) == [], case


@needs_cc
def test_an_overflow_on_the_way_does_not_hide_a_wrong_rule(monkeypatch):
    """At the same point, a wrong d/da a^b (off by 1e-7) is still a "rules" finding."""
    import dataclasses
    wrong = dataclasses.replace(OPS["pow"], rules=(
        lambda m, g, out, a, b: g * m.dpow(a, b) * 1.0000001, OPS["pow"].rules[1]))
    monkeypatch.setitem(OPS, "pow", wrong)
    found: list = []
    _run(SUBNORMAL_POWERS[:1], found)
    assert "rules" in {f["rule"] for f in found}, found


def _faked(case: tuple, out: dict, partial: float) -> dict:
    """`out` as if every scalar path raised and C gave `partial` as the first partial."""
    c = out["C"]
    return {**out, **{p: ("raise", "DomainError") for p in SCALAR},
            "C": ("ok", c[1], (partial, *c[2][1:]))}


@needs_cc
def test_a_raise_near_subnormals_that_nothing_overflows_is_a_finding():
    """The policy is not "small numbers may fail": x^x at 1e-308 (a^(b-1) = 1.0e308, in
    range) and x^y at (5e-324, 1) (a^0) give numbers on every path; a path that raised or
    gave inf there would be reported, on each scalar path and on C."""
    cases = [("x^x", {"x": 1e-308}), ("x^y", {"x": 5e-324, "y": 1.0})]
    with tempfile.TemporaryDirectory() as tmp:
        outs = run_paths(cases, Path(tmp))
    for case, out in zip(cases, outs):
        assert out["f.grad"][0] == "ok" and findings(case, out) == [], (case, out)
        faked = findings(case, _faked(case, out, math.inf))
        assert {(f["rule"], f.get("path")) for f in faked} >= {
            ("errors", p) for p in (*SCALAR, "C")}, (case, faked)


@needs_cc
@pytest.mark.parametrize("case", [
    # IEEE's atan2(-0, y < 0) = -pi on every path; sympy, without -0, says +pi
    ("atan2(-0, y)", {"y": -745.2}),
    ("atan2(-0, y) * z", {"y": -1.5, "z": 2.0}),
    # dpow computes b - 1: its rounding, 1e-16 of |b - 1| = 1, is 3e-14 of the slope here
    ("(pow(y, z) - erf(1e-8))", {"y": 3.7961756070391427e-134, "z": 1e-08}),
    # sympy's diff raises ValueError on Min(pi**-z, zoo/log(z)): "symbolic side skipped"
    ("min(pow(pi, (-z)), log(-0, z))", {"z": 1.0}),
    # a base that underflowed to 0.0 (its exact value is not 0): d/db a^b = a^b*log(0) is
    # -inf in floats, then nan; undefined at the float arguments, as a raise would be
    ("pow(sigmoid((x / 1e-300)), (-(x * -0)))", {"x": -2.602407540934495}),
    ("atan2(pow((pi ** x), (0.5 * y)), (-0 * y))", {"x": -1.7916812946168846e+23, "y": 0.0}),
    # tan at the double nearest -pi/2: the first-order bound does not hold across a pole
    ("tan(atan(z))", {"z": -1.7976931348623157e+308}),
    # atan2's partials divide by hypot: CPython's own math.hypot is an ulp from the C library's
    ("atan2(y, 2)", {"y": 3.473364007839507}),
])
def test_the_soaks_false_alarms_stay_fixed(case):
    """Findings of the 2026-12-01 soak that were the fuzzer's (or sympy's) and not a path's."""
    found: list = []
    _run([case], found)
    assert not found, found


@needs_cc
def test_a_wrong_value_beside_the_cut_is_still_found(monkeypatch):
    """Skipping atan2's -0 cut is that point only: a wrong atan2 at +0 is still a finding."""
    import dataclasses
    wrong = dataclasses.replace(OPS["atan2"], fwd=lambda y, x: math.atan2(y, x) * 1.0000001)
    monkeypatch.setitem(OPS, "atan2", wrong)
    found: list = []
    _run([("atan2(y, x)", {"y": 0.0, "x": -2.0})], found)
    assert "floats" in {f["rule"] for f in found}


@needs_cc
def test_a_reference_past_its_time_is_skipped(monkeypatch):
    """A program whose reference runs past `SLOW` is skipped, not a finding: also where the
    time runs out inside one of the library's own sympy guards (whose SymbolicError the
    fuzzer takes as "beyond the symbolic budgets"), and inside one long integer power, which
    no bytecode-level interruption reaches."""
    x = sympy.Symbol("x")

    def in_a_guard(case, out):
        try:
            with Budget(seconds=600).guard("the closed form"):
                while True:
                    sympy.expand((x + 1) ** 40)
                    sympy.core.cache.clear_cache()
        except SymbolicError:
            return []                   # as `findings` does: beyond the symbolic budgets

    def one_power(case, out):
        sympy.Rational(49, 10 ** 325) ** sympy.Integer(10 ** 308)
        return []
    here = sys.modules[__name__]
    monkeypatch.setattr(here, "SLOW", 0.3)
    for slow in (in_a_guard, one_power):
        monkeypatch.setattr(here, "findings", slow)
        found: list = []
        skipped: list = []
        _run([("x + 1", {"x": 1.0})], found, skipped)
        assert found == [] and skipped == [("x + 1", {"x": 1.0})], slow


@needs_cc
def test_the_alarm_is_not_swallowed_by_a_library_s_except_exception(monkeypatch):
    """sympy and mpmath catch `Exception` and go on: the fuzzer's alarm is not one, so code
    like this cannot swallow it and carry on half done (it did, as a TimeoutError)."""
    def broad_except(case, out):
        give_up = time.monotonic() + 30
        try:
            while time.monotonic() < give_up:
                sum(range(1000))
        except Exception:                # noqa: BLE001 - what library code does
            return [{"rule": "carried on after the alarm"}]
        return [{"rule": "no alarm in 30 s"}]
    here = sys.modules[__name__]
    monkeypatch.setattr(here, "SLOW", 0.2)
    monkeypatch.setattr(here, "findings", broad_except)
    found: list = []
    skipped: list = []
    _run([("x + 1", {"x": 1.0})], found, skipped)
    assert found == [] and skipped == [("x + 1", {"x": 1.0})]


def test_health_sees_a_poisoned_mpmath_constant():
    """The soak's check of the process: mpmath's cached pi made inconsistent (its value at a
    higher precision stored, its precision not: what an interrupted update would leave) is
    seen, and a repaired cache is healthy again."""
    from mpmath.libmp import libelefun
    memo = next(c.cell_contents for c in libelefun.pi_fixed.__closure__
                if hasattr(c.cell_contents, "memo_prec"))
    healthy = health()
    libelefun.pi_fixed(400)
    saved = memo.memo_prec, memo.memo_val
    try:
        memo.memo_val = memo(2000)            # the value of a later precision ...
        sick = health()                       # ... with the earlier precision
        assert sick != healthy and sick["pi"] != healthy["pi"]
    finally:
        memo.memo_prec, memo.memo_val = saved
    assert health() == healthy


@needs_cc
def test_a_reference_past_mpmath_s_float_range_leaves_the_process_healthy():
    """The program after which a soak's process went bad (2026-12-01, twice): sympy's
    reference of cosh(1)^(710^1.8e308) asks mpmath for a precision of a 310-digit number of
    bits, mpmath 1.3 sets it and then fails (OverflowError in prec_to_dps) before its
    workprec's __exit__, and every later program raised "too many digits in integer"."""
    healthy = health()
    found: list = []
    _run([("pow(cosh(1), pow(710, x))", {"x": 1.7976931348623157e+308}),
          ("x + 1", {"x": 0.5})], found)
    assert not found, found
    assert health() == healthy


def test_the_soak_s_baseline_is_a_fresh_process_s_health():
    """The soak's baseline comes from a new interpreter, and this (healthy) one agrees."""
    assert fresh_health() == health()

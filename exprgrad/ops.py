"""The op registry: every primitive operation, defined once.

Each entry holds an op's arity, its float forward, one derivative rule per argument, its sympy
counterpart and how each code-generation backend prints it.  Nothing else in exprgrad knows what
an op means: the resolver reads the function table from here, the `Value` engine and the IR
gradient pass run the same derivative rules, sympy conversion uses ``sym``, and the backends
print it from ``infix``/``fn``/``code`` (see `Op`).

A derivative rule is ``rule(m, g, out, *xs) -> cotangent`` for one argument: ``g`` is the
cotangent of the op's output, ``out`` its value and ``xs`` its inputs.  ``m`` is a namespace
with one function per op name: floats (`FLOAT_MATH`) when `Value.backward` runs the rule
numerically, the IR builder when the gradient pass turns it into nodes.  So one rule serves both
the numbers and the emitted code (the JAX idea of a traceable rule).

>>> OPS["tanh"].fwd(0.5) == math.tanh(0.5)
True
"""
from __future__ import annotations

import math
import operator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Callable

# One precedence table for every printer (language text, python, numpy, C); higher binds tighter.
PREC_ADD, PREC_MUL, PREC_NEG, PREC_POW, PREC_ATOM = 10, 20, 30, 40, 50


# ---- how an op is printed in generated code ------------------------------------------------------
# A backend prints an op from, in this order: its entry in ``Op.code`` (by backend name, or by
# the name of the backend it takes its forms from: ``numpy`` prints the ``array`` forms), its
# standard function ``Op.fn`` (the C99 <math.h> name, which each backend spells its own way),
# or its infix operator (``+ - * /`` and unary ``-`` read the same in every target).
# ``array`` forms are array API code (https://data-apis.org/array-api/): ``xp`` is the
# arguments' array namespace and ``dt`` their floating dtype (numpy prints ``np`` and
# ``np.float64``).  Comparisons become numbers through ``xp.astype(c, dt)``, never ``1.0 * c``
# (PyTorch gives float32 for a float times a bool tensor).

@dataclass(frozen=True)
class Infix:
    """A binary operator, ``{0} symbol {1}``, binding with `prec` of the one table."""
    symbol: str
    prec: int
    right_assoc: bool = False


@dataclass(frozen=True)
class Form:
    """Text with ``{0}``, ``{1}`` for the arguments.  It must print as one atom — a call
    ``name(...)``, a parenthesised whole, a name — so its precedence needs no guessing; a
    placeholder written twice gets a plain name.  ``imports``: lines the form needs at the top
    of the file (a NumPy form may need ``import math``)."""
    text: str
    imports: tuple[str, ...] = ()


@dataclass(frozen=True)
class Unsupported:
    """The op cannot be printed for this backend; emitting it raises CodegenError(reason)."""
    reason: str


def _is_atom(text: str) -> bool:
    """A call (or a call of a call's result, ``f(a)(b)``), a parenthesised whole, a (dotted)
    name or a number: nothing at the top level that an operator next to it could split."""
    if all(c.isalnum() or c in "._" for c in text):
        return bool(text)
    head = text.split("(", 1)[0]
    if not text.endswith(")") or not all(c.isalnum() or c in "._" for c in head):
        return False
    depth = 0
    for i, ch in enumerate(text[len(head):], len(head)):
        depth += (ch == "(") - (ch == ")")
        if depth == 0 and i != len(text) - 1 and text[i + 1] != "(":
            return False
    return depth == 0


@dataclass(frozen=True)
class Op:
    name: str                      # registry key: IR tag, Value method, function name in text
    arity: int
    fwd: Callable[..., float]      # float forward; may raise ValueError/ZeroDivisionError/Overflow
    rules: tuple                   # one derivative rule per argument (see module doc)
    sym: Callable                  # sym(sympy, *args): sympy counterpart, forward only
    # Printing (see `Infix`): the C99 <math.h> name of a standard function ("tanh", "log1p"),
    # and per backend name a `Form`, `Infix` or `Unsupported` (a plain str is a Form).
    fn: str | None = None
    code: dict = field(default_factory=dict)
    infix: str | None = None       # operator symbol in exprgrad text ("+", "^") for infix ops
    prec: int = PREC_ATOM          # binding strength of the op in exprgrad text
    right_assoc: bool = False
    public: bool = True            # callable by name from exprgrad text (infix ops are not)
    domain: tuple = ()             # per argument (lo, hi): where the op is smooth; for tests
    label: str = ""                # symbol shown for Value._op and in pictures
    # The op rewritten via exp, ``expand(m, *xs)``, written with ``m`` like the derivative
    # rules; the `--expand` pass (expand.py) uses it.  None: the op is already elementary.
    expand: Callable | None = None
    # ``kink(*xs)`` is 0 exactly where the op is not differentiable (relu and abs at 0, max
    # and min at ties) and changes sign across that set; the check (check.py) uses it to say
    # "not differentiable here" and to keep finite-difference stencils off kinks.
    kink: Callable | None = None
    # ``signed_zero(*xs)`` is true where the value follows the sign of a zero argument, which
    # exact arithmetic (sympy, the check's 30-digit evaluation) does not have: atan2(-0, x < 0)
    # is -pi in IEEE arithmetic on every path, +pi exactly.  The check names it instead of
    # calling the difference lost digits.
    signed_zero: Callable | None = None
    # Printed forms for one constant argument, ``((argument index, constant, form, precedence),
    # ...)`` (constant None: any other constant; its form, per backend like `code`, prints both
    # arguments), forms written with operators every backend shares, the other argument as "{0}";
    # each must compute what `fwd` computes for that constant (pow: a^2 is a * a).  The
    # precedence is the form's top-level operator's: x/y^2 must print as x / (y * y).
    special: tuple = ()
    # The op on exact Fractions, for constant folding (ir.py folds only where the float
    # result equals this one); it returns None where it will not fold.  None: never folded.
    exact: Callable | None = None

    @property
    def symbol(self) -> str:
        return self.label or self.infix or self.name


OPS: dict[str, Op] = {}

#: what a float forward (`Op.fwd`) raises where its op is undefined: log(-1), 1/0, exp(1000)
FLOAT_ERRORS = (ValueError, ZeroDivisionError, OverflowError)


def op(name, arity, **rules) -> Op:
    """Register one op; all of its rules sit together in the call.  The entry's invariants
    are checked here, so a broken op fails at import, not in some later stage."""
    if name in OPS:
        raise ValueError(f"op {name!r} registered twice")
    entry = Op(name, arity, **rules)
    _check_entry(entry)
    OPS[name] = entry
    return entry


def _check_entry(o: Op) -> None:
    def fail(what):
        raise ValueError(f"op {o.name!r}: {what}")
    if len(o.rules) != o.arity:
        fail(f"{len(o.rules)} derivative rules for {o.arity} arguments")
    if o.domain and len(o.domain) != o.arity:
        fail(f"a domain for {len(o.domain)} arguments, arity {o.arity}")
    if not (o.fn or o.infix or o.code):
        fail("no way to print it: give fn, infix or code")
    for backend, form in o.code.items():
        text = form if isinstance(form, str) else getattr(form, "text", None)
        if text is None:
            continue
        missing = [i for i in range(o.arity) if f"{{{i}}}" not in text]
        if missing:
            fail(f"{backend} form {text!r} does not use argument {missing[0]}")
        if not _is_atom(text.format(*["a"] * o.arity)):
            fail(f"{backend} form {text!r} is not one atom (a call or a parenthesised whole)")
    for _, value, text, _ in o.special:
        if value is not None and "{0}" not in text:
            fail(f"special form {text!r} does not use the other argument")


# ---- stable float kernels (the forward used by the interpreter and by `Value`) --------------

def _sigmoid(x):
    # Two branches so that exp never overflows: exp(-x) for x >= 0, exp(x) otherwise.
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def _softplus(x):
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def _div(a, b):
    return a / b


def _pow(a, b):
    # math.pow raises on a complex result ((-8)^(1/3)) where ** would return a complex number.
    # a^2 is a * a, as every printer writes it (one correctly rounded multiply; inf, not
    # OverflowError, when it overflows, like any other product).
    if b == 2.0:
        return a * a
    return math.pow(a, b)


def _pow_exact(a, b):
    # Only small integer powers of nonzero bases are worth folding exactly (2^3^2 = 512).
    if b.denominator != 1 or abs(b) > 64 or a == 0:
        return None
    return a ** int(b)


def _xlogy(x, y):
    # d/db a^b = a^b*log(a) has no real value for a < 0: NaN there, as PyTorch and JAX give,
    # so the other partials of x^y (and the value) are still reported.
    if x == 0:
        return 0.0
    if y > 0:
        return x * math.log(y)
    return x * -math.inf if y == 0 else math.nan


def _dpow(a, b):
    # b*a^(b-1) with 0 where b == 0: a^0 is the constant 1, so its slope is 0 even at a = 0,
    # where a^(b-1) = 0^-1 is a division by zero.  pow(1, b - 1) = 1 stands in for it there
    # (b * 1 keeps b's sign, as every printed form does).
    return b * _pow(1.0 if b == 0 else a, b - 1)


def _zero(m, g, out, *xs):
    # Piecewise-constant helpers have derivative 0 wherever they are differentiable: the
    # number 0, not 0*g, so it is a structural zero (the IR sweeps skip a contribution that is
    # not a node) and stays 0 where g is infinite.
    return 0.0


# Constants of derivative rules, correctly rounded doubles (exact in the IR once lifted).
_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)
_LN10, _LN2 = math.log(10), math.log(2)

_SIGMOID_PY = ("(1.0 / (1.0 + math.exp(-{0})) if {0} >= 0 "
               "else math.exp({0}) / (1.0 + math.exp({0})))")
_SIGMOID_C = "({0} >= 0.0 ? 1.0 / (1.0 + exp(-{0})) : exp({0}) / (1.0 + exp({0})))"
# Array code computes both branches: exp(-|x|) in each never overflows, and equals exp(-x)
# where x >= 0 and exp(x) where x < 0, so the result is the Python and C forms' bit for bit
# (exp(-logaddexp(0, -x)) is within an ulp or two of it, not equal).
_SIGMOID_ARRAY = ("xp.where({0} >= 0, 1.0 / (1.0 + xp.exp(-xp.abs({0}))), "
                  "xp.exp(-xp.abs({0})) / (1.0 + xp.exp(-xp.abs({0}))))")

# ---- operators --------------------------------------------------------------------------------

op("add", 2, fwd=operator.add,
   rules=(lambda m, g, out, a, b: g,
          lambda m, g, out, a, b: g),
   sym=lambda s, a, b: a + b,
   infix="+", prec=PREC_ADD, public=False, domain=((-3, 3), (-3, 3)),
   exact=operator.add)
op("sub", 2, fwd=operator.sub,
   rules=(lambda m, g, out, a, b: g,
          lambda m, g, out, a, b: -g),
   sym=lambda s, a, b: a - b,
   infix="-", prec=PREC_ADD, public=False, domain=((-3, 3), (-3, 3)),
   exact=operator.sub)
op("mul", 2, fwd=operator.mul,
   rules=(lambda m, g, out, a, b: g * b,
          lambda m, g, out, a, b: g * a),
   sym=lambda s, a, b: a * b,
   infix="*", prec=PREC_MUL, public=False, domain=((-3, 3), (-3, 3)),
   exact=operator.mul)
op("div", 2, fwd=_div,
   rules=(lambda m, g, out, a, b: g / b,
          lambda m, g, out, a, b: -(g * out) / b),
   sym=lambda s, a, b: a / b,
   infix="/", prec=PREC_MUL, public=False, domain=((-3, 3), (0.5, 3)),
   exact=_div)
op("neg", 1, fwd=operator.neg,
   rules=(lambda m, g, out, x: -g,),
   sym=lambda s, x: -x,
   # "neg", not "-", in pictures and Value._op: x - y and -x must not look alike there.
   infix="-", prec=PREC_NEG, public=False, domain=((-3, 3),), label="neg",
   exact=operator.neg)
# pow is both the `^`/`**` operator and the function pow(a, b).  a^2 is a*a whether the 2 is
# a literal or a value at run time (the forms test b == 2; a constant exponent prints the
# branch it takes: x*x, pow(x, 3.0)), so every path rounds and overflows alike.  0^0 = 1 (C's and IEEE's
# pow), and d/da a^b = b*a^(b-1) is dpow, 0 where b = 0 (x^0 is the constant 1: slope 0 at
# x = 0 too).  d/db a^b = a^b*log(a) is written with xlogy so that 0^b (b > 0) has derivative
# 0 in b, as in PyTorch.
op("pow", 2, fwd=_pow,
   rules=(lambda m, g, out, a, b: g * m.dpow(a, b),
          lambda m, g, out, a, b: g * m.xlogy(out, a)),
   sym=lambda s, a, b: a ** b,
   fn="pow", code={"python": "({0} * {0} if {1} == 2 else math.pow({0}, {1}))",
                   "array": "xp.where({1} == 2, {0} * {0}, {0} ** {1})",
                   "c": "({1} == 2.0 ? {0} * {0} : pow({0}, {1}))"},
   infix="^", prec=PREC_POW, right_assoc=True, label="**", domain=((0.2, 3), (-2, 2)),
   special=((1, 2, "{0} * {0}", PREC_MUL),
            (1, None, {"python": "math.pow({0}, {1})",
                       "array": Infix("**", PREC_POW, right_assoc=True)}, None)),
   exact=_pow_exact)

# ---- functions --------------------------------------------------------------------------------

op("exp", 1, fwd=math.exp,
   rules=(lambda m, g, out, x: g * out,),
   sym=lambda s, x: s.exp(x),
   fn="exp", domain=((-3, 3),))
op("log", 1, fwd=math.log,
   rules=(lambda m, g, out, x: g / x,),
   sym=lambda s, x: s.log(x),
   fn="log", domain=((0.1, 5),))
op("sqrt", 1, fwd=math.sqrt,
   rules=(lambda m, g, out, x: g / (2 * out),),
   sym=lambda s, x: s.sqrt(x),
   fn="sqrt", domain=((0.1, 5),))


def _tanh_via_exp(e):
    # tanh(x) = (exp(2x) - 1)/(exp(2x) + 1), the seeds' form; `e` is the shared exp(2x) node.
    return (e - 1) / (e + 1)


op("tanh", 1, fwd=math.tanh,
   rules=(lambda m, g, out, x: g * (1 - out * out),),
   sym=lambda s, x: s.tanh(x),
   fn="tanh", domain=((-3, 3),),
   expand=lambda m, x: _tanh_via_exp(m.exp(2 * x)))
op("sigmoid", 1, fwd=_sigmoid,
   rules=(lambda m, g, out, x: g * (out * (1 - out)),),
   sym=lambda s, x: 1 / (1 + s.exp(-x)),
   code={"python": _SIGMOID_PY, "array": _SIGMOID_ARRAY, "c": _SIGMOID_C},
   domain=((-4, 4),),
   expand=lambda m, x: 1 / (1 + m.exp(-x)))
# relu'(0) = 0, as in PyTorch: step(0) is 0.  The rule is gate(g, x), the value of g * step(x)
# (signed zeros and NaN included) without the multiply: printed as a conditional expression.
# NaN propagates (relu(nan) is nan, as numpy's maximum gives): the test is `x <= 0`, which
# NaN fails.  Every comparison-based op below has a third branch for the unordered case,
# written as an expression of its arguments that is NaN there (`x`, `a + b`, `x - x`).
op("relu", 1, fwd=lambda x: 0.0 if x <= 0 else x,
   rules=(lambda m, g, out, x: m.gate(g, x),),
   sym=lambda s, x: s.Max(0, x),
   code={"python": "(0.0 if {0} <= 0 else {0})", "array": "xp.maximum({0}, 0.0)",
         "c": "({0} <= 0.0 ? 0.0 : {0})"},
   label="ReLU", domain=((0.1, 3),), kink=lambda x: x)
op("softplus", 1, fwd=_softplus,
   rules=(lambda m, g, out, x: g * m.sigmoid(x),),
   sym=lambda s, x: s.log(1 + s.exp(x)),
   code={"python": "(max({0}, 0.0) + math.log1p(math.exp(-abs({0}))))",
         "array": "xp.logaddexp(0.0, {0})", "c": "(fmax({0}, 0.0) + log1p(exp(-fabs({0}))))"},
   domain=((-4, 4),),
   expand=lambda m, x: m.log(1 + m.exp(x)))
op("sin", 1, fwd=math.sin,
   rules=(lambda m, g, out, x: g * m.cos(x),),
   sym=lambda s, x: s.sin(x),
   fn="sin", domain=((-3, 3),))
op("cos", 1, fwd=math.cos,
   rules=(lambda m, g, out, x: -(g * m.sin(x)),),
   sym=lambda s, x: s.cos(x),
   fn="cos", domain=((-3, 3),))
op("tan", 1, fwd=math.tan,
   rules=(lambda m, g, out, x: g * (1 + out * out),),
   sym=lambda s, x: s.tan(x),
   fn="tan", domain=((-1.2, 1.2),))
op("asin", 1, fwd=math.asin,
   rules=(lambda m, g, out, x: g / m.sqrt(1 - x * x),),
   sym=lambda s, x: s.asin(x),
   fn="asin", domain=((-0.9, 0.9),))
op("acos", 1, fwd=math.acos,
   rules=(lambda m, g, out, x: -g / m.sqrt(1 - x * x),),
   sym=lambda s, x: s.acos(x),
   fn="acos", domain=((-0.9, 0.9),))
op("atan", 1, fwd=math.atan,
   rules=(lambda m, g, out, x: g / (1 + x * x),),
   sym=lambda s, x: s.atan(x),
   fn="atan", domain=((-3, 3),))
op("sinh", 1, fwd=math.sinh,
   rules=(lambda m, g, out, x: g * m.cosh(x),),
   sym=lambda s, x: s.sinh(x),
   fn="sinh", domain=((-3, 3),),
   expand=lambda m, x: (m.exp(x) - m.exp(-x)) / 2)
op("cosh", 1, fwd=math.cosh,
   rules=(lambda m, g, out, x: g * m.sinh(x),),
   sym=lambda s, x: s.cosh(x),
   fn="cosh", domain=((-3, 3),),
   expand=lambda m, x: (m.exp(x) + m.exp(-x)) / 2)
# abs'(0) = 0, as in PyTorch: sign(0) is 0.
op("abs", 1, fwd=abs,
   rules=(lambda m, g, out, x: g * m.sign(x),),
   sym=lambda s, x: s.Abs(x),
   fn="fabs", code={"python": "abs({0})"}, domain=((0.2, 3),), kink=lambda x: x)


# log1p(x) = log(1 + x) and expm1(x) = exp(x) - 1, accurate near 0 where 1 + x would round
# x away (log1p(1e-20) is 1e-20, log(1 + 1e-20) is 0).  expm1's rule uses exp(x), not out + 1:
# out + 1 cancels for x < -37 (expm1(-40) rounds to -1.0, exp(-40) is 4.2e-18).
op("log1p", 1, fwd=math.log1p,
   rules=(lambda m, g, out, x: g / (1 + x),),
   sym=lambda s, x: s.log(1 + x),
   fn="log1p", domain=((-0.5, 3),))
op("expm1", 1, fwd=math.expm1,
   rules=(lambda m, g, out, x: g * m.exp(x),),
   sym=lambda s, x: s.exp(x) - 1,
   fn="expm1", domain=((-3, 3),))
# erf'(x) = 2/sqrt(pi) * exp(-x^2).  NumPy has no erf (it is scipy.special's), and generated
# NumPy code imports numpy only: it maps the standard library's math.erf over the elements.
# That is the same function, bit for bit, as the Python backend's, one Python call per
# element (about 100 times slower than a ufunc) and a float64 result for any input.
op("erf", 1, fwd=math.erf,
   rules=(lambda m, g, out, x: g * (_TWO_OVER_SQRT_PI * m.exp(-(x * x))),),
   sym=lambda s, x: s.erf(x),
   fn="erf", code={"numpy": Form("np.vectorize(math.erf, otypes=[np.float64])({0})",
                                 imports=("import math",))},
   domain=((-2, 2),))
# atan2(y, x): the angle of the point (x, y), y first as in C.  Its partials x/r^2 and -y/r^2
# divide by r = hypot(x, y) twice (a node that programs of polar coordinates share) rather
# than by x*x + y*y, which overflows past 1e154 and underflows to 0 below 1e-162 where the
# partials are still finite.  It jumps by 2*pi across its branch cut (y = 0, x < 0), where
# `kink` is 0 and changes sign.  No function is 0 only on the cut and changes sign across it
# (the plane minus the cut is connected), so the zero set continues from the origin along a
# ray where atan2 is smooth and no point is special, y = -e*x (x > 0): the one-sided slopes
# agree there, and the check's stencils only shrink near it.  (Marking the whole x-axis
# instead left no stencil for atan2(1e-52, 1).)
op("atan2", 2, fwd=math.atan2,
   rules=(lambda m, g, out, y, x: g * ((x / m.hypot(x, y)) / m.hypot(x, y)),
          lambda m, g, out, y, x: -(g * ((y / m.hypot(x, y)) / m.hypot(x, y)))),
   sym=lambda s, y, x: s.atan2(y, x),
   fn="atan2", domain=((-3, 3), (0.5, 3)), kink=lambda y, x: y if x < 0 else y + math.e * x,
   signed_zero=lambda y, x: y == 0 and math.copysign(1.0, y) < 0 and x < 0)
# hypot(x, y) = sqrt(x^2 + y^2) without overflow or underflow of the squares (every backend's
# hypot scales).  Its partials x/out, y/out lie in [-1, 1]; at the origin, where it has no
# derivative, they are 0/0 (a domain error of the derivative, as sqrt's at 0).
op("hypot", 2, fwd=math.hypot,
   rules=(lambda m, g, out, x, y: g * (x / out),
          lambda m, g, out, x, y: g * (y / out)),
   sym=lambda s, x, y: s.sqrt(x * x + y * y),
   fn="hypot", domain=((0.2, 3), (-3, 3)))
op("log10", 1, fwd=math.log10,
   rules=(lambda m, g, out, x: g / x / _LN10,),
   sym=lambda s, x: s.log(x, 10),
   fn="log10", domain=((0.1, 5),))
op("log2", 1, fwd=math.log2,
   rules=(lambda m, g, out, x: g / x / _LN2,),
   sym=lambda s, x: s.log(x, 2),
   fn="log2", domain=((0.1, 5),))

def _logaddexp(a, b):
    # log(exp(a) + exp(b)) without overflow: the larger plus log1p of a number <= 1, the form
    # the python and C printers write; equal arguments give a + log(2), so that two equal
    # infinities give that infinity, not inf - inf = NaN (numpy's np.logaddexp, bit for bit).
    if a == b:
        return a + _LN2
    return max(a, b) + math.log1p(math.exp(-abs(a - b)))


# logaddexp(a, b) = log(exp(a) + exp(b)); the language's logsumexp(a, b, c, ...) folds it.
# Its partials are the softmax weights exp(a - out) = sigmoid(a - b): written as sigmoids,
# they are exact where a - b is (exp(a - out) would lose |out|·eps in the subtraction).
op("logaddexp", 2, fwd=_logaddexp,
   rules=(lambda m, g, out, a, b: g * m.sigmoid(a - b),
          lambda m, g, out, a, b: g * m.sigmoid(b - a)),
   sym=lambda s, a, b: s.log(s.exp(a) + s.exp(b)),
   code={"python": "({0} + 0.6931471805599453 if {0} == {1} "
                   "else max({0}, {1}) + math.log1p(math.exp(-abs({0} - {1}))))",
         "array": "xp.logaddexp({0}, {1})",
         "c": "({0} == {1} ? {0} + 0.6931471805599453 "
              ": fmax({0}, {1}) + log1p(exp(-fabs({0} - {1}))))"},
   domain=((-3, 3), (-3, 3)))
# max routes the whole gradient to `a` when a >= b (PyTorch's convention for ties is the
# spec's choice); min routes it to `a` when a <= b.  A NaN argument gives NaN (a + b), as
# numpy's maximum does, and NaN partials (ge).
op("max", 2, fwd=lambda a, b: a if a >= b else b if a < b else a + b,
   rules=(lambda m, g, out, a, b: g * m.ge(a, b),
          lambda m, g, out, a, b: g * (1 - m.ge(a, b))),
   sym=lambda s, a, b: s.Max(a, b),
   code={"python": "({0} if {0} >= {1} else {1} if {0} < {1} else {0} + {1})",
         "array": "xp.where({0} >= {1}, {0}, xp.where({0} < {1}, {1}, {0} + {1}))",
         "c": "({0} >= {1} ? {0} : {0} < {1} ? {1} : {0} + {1})"},
   domain=((-3, 3), (-3, 3)), kink=lambda a, b: a - b)
op("min", 2, fwd=lambda a, b: a if a <= b else b if a > b else a + b,
   rules=(lambda m, g, out, a, b: g * m.ge(b, a),
          lambda m, g, out, a, b: g * (1 - m.ge(b, a))),
   sym=lambda s, a, b: s.Min(a, b),
   code={"python": "({0} if {0} <= {1} else {1} if {0} > {1} else {0} + {1})",
         "array": "xp.where({0} <= {1}, {0}, xp.where({0} > {1}, {1}, {0} + {1}))",
         "c": "({0} <= {1} ? {0} : {0} > {1} ? {1} : {0} + {1})"},
   domain=((-3, 3), (-3, 3)), kink=lambda a, b: a - b)
op("pi", 0, fwd=lambda: math.pi, rules=(),
   sym=lambda s: s.pi,
   code={"python": "math.pi", "array": "xp.pi", "c": "3.141592653589793"}, public=False)

# ---- helpers that only derivative rules use (not callable from text) --------------------------

op("step", 1, fwd=lambda x: 1.0 if x > 0 else 0.0 if x <= 0 else x, rules=(_zero,),
   sym=lambda s, x: s.Heaviside(x, 0),
   code={"python": "(1.0 if {0} > 0 else 0.0 if {0} <= 0 else {0})",
         "array": "xp.where({0} > 0, 1.0, xp.where({0} <= 0, 0.0, {0}))",
         "c": "({0} > 0.0 ? 1.0 : {0} <= 0.0 ? 0.0 : {0})"},
   public=False, domain=((0.1, 3),), kink=lambda x: x)
# gate(g, x) = g * step(x) exactly: g where x > 0 (g * 1.0 is g), 0.0 * g where x <= 0 (-0.0
# for a negative g, NaN for an infinite or NaN g), NaN where x is NaN.  relu's rule.
op("gate", 2, fwd=lambda g, x: g if x > 0 else 0.0 * g if x <= 0 else x,
   rules=(lambda m, g, out, a, x: m.gate(g, x), _zero),
   sym=lambda s, g, x: g * s.Heaviside(x, 0),
   code={"python": "({0} if {1} > 0 else 0.0 * {0} if {1} <= 0 else {1})",
         "array": "({0} * xp.where({1} > 0, 1.0, xp.where({1} <= 0, 0.0, {1})))",
         "c": "({1} > 0.0 ? {0} : {1} <= 0.0 ? 0.0 * {0} : {1})"},
   public=False, domain=((-3, 3), (0.1, 3)),
   kink=lambda g, x: x)
# sign(±0) = 0.0 and sign(nan) = nan, as numpy's: x - x is +0.0 for either zero, NaN for NaN.
op("sign", 1, fwd=lambda x: 1.0 if x > 0 else -1.0 if x < 0 else x - x, rules=(_zero,),
   sym=lambda s, x: s.sign(x),
   code={"python": "(1.0 if {0} > 0 else -1.0 if {0} < 0 else {0} - {0})",
         "array": "xp.sign({0})",
         "c": "({0} > 0.0 ? 1.0 : {0} < 0.0 ? -1.0 : {0} - {0})"},
   public=False, domain=((0.1, 3),),
   kink=lambda x: x)
op("ge", 2, fwd=lambda a, b: 1.0 if a >= b else 0.0 if a < b else a + b, rules=(_zero, _zero),
   sym=lambda s, a, b: s.Piecewise((1, s.Ge(a, b)), (0, True)),
   code={"python": "(1.0 if {0} >= {1} else 0.0 if {0} < {1} else {0} + {1})",
         "array": "xp.where({0} >= {1}, 1.0, xp.where({0} < {1}, 0.0, {0} + {1}))",
         "c": "({0} >= {1} ? 1.0 : {0} < {1} ? 0.0 : {0} + {1})"},
   public=False, domain=((1, 3), (-3, 0)), kink=lambda a, b: a - b)
op("xlogy", 2, fwd=_xlogy,
   rules=(lambda m, g, out, x, y: g * m.log(y),
          lambda m, g, out, x, y: g * x / y),
   sym=lambda s, x, y: s.Piecewise((0, s.Eq(x, 0)), (x * s.log(y), True)),
   code={"python": "(0.0 if {0} == 0 else {0} * math.log({1}) if {1} > 0 "
                   "else {0} * -math.inf if {1} == 0 else math.nan)",
         "array": "xp.where({0} == 0, 0.0, {0} * xp.log(xp.where({0} == 0, 1.0, {1})))",
         "c": "({0} == 0.0 ? 0.0 : {0} * log({1}))"},
   public=False, domain=((0.5, 3), (0.5, 3)))

# dpow(a, b) = d/da a^b = b*a^(b-1), 0 where b = 0 (see pow); a^(b-1) is pow's, so a*a where
# b = 3.  In a gradient program with a
# constant exponent it is rewritten to c*a^(c-1) (ir.py's peephole), so x^3 prints 3*x^2.
op("dpow", 2, fwd=_dpow,
   rules=(lambda m, g, out, a, b: g * (b * m.dpow(a, b - 1)),
          lambda m, g, out, a, b: g * (m.pow(a, b - 1) + m.xlogy(out, a))),
   sym=lambda s, a, b: s.Piecewise((0, s.Eq(b, 0)), (b * a ** (b - 1), True)),
   code={"python": "({1} * ({0} * {0} if {1} == 3 "
                   "else math.pow(1.0 if {1} == 0 else {0}, {1} - 1)))",
         "array": "({1} * xp.where({1} == 3, {0} * {0}, xp.where({1} == 0, 1.0, {0}) ** ({1} - 1)))",
         "c": "({1} * ({1} == 3.0 ? {0} * {0} : pow({1} == 0.0 ? 1.0 : {0}, {1} - 1.0)))"},
   public=False, domain=((0.2, 3), (-2, 2)))

# ---- the language's function table ------------------------------------------------------------

@dataclass(frozen=True)
class Builtin:
    """A function name of the language: the argument counts it accepts and how a call builds
    its value, ``build(m, *args)``, written with ``m`` like the derivative rules, so lowering
    (IR nodes) and `Value` (numbers) desugar a call the same way.  A ``variadic`` function
    takes ``arities[0]`` arguments or more; a ``multi`` one gives one value per argument (a
    list), which a program unpacks (``p1, p2 = softmax(z1, z2)``) or ends with."""
    name: str
    op: str                        # the registry op the call is made of
    arities: tuple[int, ...]
    build: Callable
    variadic: bool = False
    multi: bool = False
    direct: bool = False           # `build` is ``m.<op>(*args)``: one node of `op`

    def accepts(self, n: int) -> bool:
        return n >= self.arities[0] if self.variadic else n in self.arities

    def arity_text(self) -> str:
        if self.variadic:
            return f"{self.arities[0]} or more arguments"
        plural = "" if self.arities == (1,) else "s"
        return " or ".join(map(str, self.arities)) + f" argument{plural}"


def _call(name: str) -> Callable:
    return lambda m, *args: getattr(m, name)(*args)


def _fold(name: str) -> Callable:
    """``f(a, b, c) = f(f(a, b), c)``: a binary op over any number of arguments, left to
    right (so max's ties still go to the first argument)."""
    def build(m, first, *rest):
        step = getattr(m, name)
        for x in rest:
            first = step(first, x)
        return first
    return build


def _log(m, x, base=None):
    # log(x, base) is log(x)/log(base), as in sympy.
    return m.log(x) if base is None else m.log(x) / m.log(base)


def _softmax(m, *zs):
    # exp(z_i - max z) / sum_j exp(z_j - max z), as PyTorch computes it: no exponential of a
    # large number, every difference z_i - max z exact where it matters, so the values sum to 1
    # within a few ulps (exp(z_i - logsumexp(z)) would lose |z|·eps in the subtraction).
    top = _fold("max")(m, *zs)
    es = [m.exp(z - top) for z in zs]
    total = es[0]
    for e in es[1:]:
        total = total + e
    return [e / total for e in es]


#: names callable from exprgrad text
FUNCTIONS: dict[str, Builtin] = {
    o.name: Builtin(o.name, o.name, (o.arity,), _call(o.name), direct=True)
    for o in OPS.values() if o.public}
FUNCTIONS["ln"] = Builtin("ln", "log", (1,), _call("log"), direct=True)
FUNCTIONS["log"] = Builtin("log", "log", (1, 2), _log)
FUNCTIONS["max"] = Builtin("max", "max", (2,), _fold("max"), variadic=True)
FUNCTIONS["min"] = Builtin("min", "min", (2,), _fold("min"), variadic=True)
FUNCTIONS["logsumexp"] = Builtin("logsumexp", "logaddexp", (1,), _fold("logaddexp"),
                                 variadic=True)
FUNCTIONS["softmax"] = Builtin("softmax", "logaddexp", (1,), _softmax, variadic=True,
                               multi=True)

#: names that denote constants in exprgrad text
CONSTANTS = {"pi": "pi"}

#: `m` for running derivative rules on floats
FLOAT_MATH = SimpleNamespace(**{name: o.fwd for name, o in OPS.items()})

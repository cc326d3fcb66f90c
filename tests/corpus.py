"""The shared test corpus: the seeds' point and neuron, and named expressions with domains.

Every test that needs "the seed neuron" or "the corpus" imports it from here (tests/ is on
sys.path, see pyproject.toml), or takes it by argument name (tests/conftest.py:
``corpus_case``, ``smooth_corpus_case``, ``neuron``, ``seed``), so a new case or a new op
reaches every stage's tests at once.  Cases that call each function of the language are
derived from the registry (`ops.FUNCTIONS`), and so are the lists of ops tests walk
(`LANGUAGE`, `application`), so a new op is tested by default.
"""
from __future__ import annotations

from typing import NamedTuple

import exprgrad as eg
from exprgrad.ops import CONSTANTS, FUNCTIONS, OPS

#: the seed neuron of the micrograd lecture, with labels, and its point
NEURON = "n = x1*w1 + x2*w2 + b; o = tanh(n)"
NEURON_TEXT = "tanh(x1*w1 + x2*w2 + b)"          # the same neuron as one expression
SEED = dict(x1=2.0, x2=0.0, w1=-3.0, w2=1.0, b=6.8813735870195432)
SEED_ARGS = ["x1=2", "x2=0", "w1=-3", "w2=1", "b=6.8813735870195432"]   # the CLI's --at
#: the seed neuron's partials at SEED (the lecture's numbers)
SEED_GRADS = {"x1": -1.5, "w1": 1.0, "x2": 0.5, "w2": 0.0, "b": 0.5}


#: every op the language can write, by registry name: functions, operators and constants
LANGUAGE = frozenset(name for name, op in OPS.items()
                     if op.public or op.infix or name in CONSTANTS.values())


def application(name: str) -> str:
    """One application of the op `name` to the variables x, y, ... as the language writes it:
    ``tanh(x)``, ``x / y``, ``-x``, ``pi``."""
    op, args = OPS[name], ["x", "y", "z", "w"][:OPS[name].arity]
    if op.public:
        return f"{name}({', '.join(args)})"
    if op.infix:
        return f"x {op.infix} y" if op.arity == 2 else f"{op.infix}x"
    spelled = [text for text, target in CONSTANTS.items() if target == name]
    if not spelled:
        raise ValueError(f"the language cannot write {name!r} (a helper of derivative rules)")
    return spelled[0]


def smooth(text: str) -> bool:
    """No op of `text` has a kink (relu, abs, max, min...: ``Op.kink``): it is smooth at every
    point of its domain, so second derivatives and closed forms apply everywhere."""
    return not any(OPS[n.op].kink for n in eg.compile(text).ir.order() if n.op in OPS)


def function_cases() -> list[tuple[str, tuple, list[str]]]:
    """Every function of the language, each on points inside its smooth domain."""
    cases = []
    for fname, builtin in sorted(FUNCTIONS.items()):
        op = builtin.op
        for arity in builtin.arities:
            args = ["x", "y"][:arity]
            text = f"{fname}({', '.join(args)})"
            domain = OPS[op].domain or ((-2, 2),) * arity
            if fname == "log" and arity == 2:
                domain = ((0.1, 5), (1.5, 5))
            cases.append((text, domain, args))
    return cases


class Case(NamedTuple):
    """A corpus entry: exprgrad text, and (lo, hi) for the variables that need a range other
    than the default (-2, 2)."""
    text: str
    domains: dict


# seeds' examples, user functions, named intermediates, then every function of the language
CORPUS = [Case(text, domains) for text, domains in [
    (NEURON, {}),
    (NEURON_TEXT, {}),
    ("n = x1*w1 + x2*w2 + b; e = exp(2*n); o = (e - 1)/(e + 1)", {}),
    ("e = a*b; d = e + c; L = d*f", {}),
    ("b = a + a", {}),
    ("d = a*b; e = a + b; f = d*e", {}),
    ("3*x^2 - 4*x + 5", {}),
    ("(yout1 - 1)^2 + (yout2 + 1)^2", {}),
    ("sig(z) = 1/(1 + exp(-z)); sig(w*x + b)", {}),
    ("sq(t) = t*t; h(u, v) = sq(u) - sq(v); h(x + y, x - y)", {}),
    ("a = x*y; b = a + sin(a); c = b*b/a", {"x": (0.5, 2), "y": (0.5, 2)}),
    ("y = x*x; z = y*y; w = z*y + x^-2 - 2^-x + -x^2", {"x": (0.5, 2)}),
    ("p = relu(x - y) + softplus(x*y) + max(x, y)*min(x, y) + abs(x - 3)", {}),
    ("t = pi*x; s = sin(t)*cos(t) + sinh(x)/cosh(y) + atan(x/y)", {"y": (0.5, 2)}),
    ("q = pow(x, y) + x^0.5 + log(x, 2) + ln(y) + sqrt(x*y)", {"x": (0.5, 3), "y": (0.5, 3)}),
    ("k = 2; m = k*x; m*m*0 + 1e-3*x + 1_000", {}),
    ("7", {}),
    ("pi", {}),
    ("x", {}),
] + [(text, dict(zip(args, dom))) for text, dom, args in function_cases()]]

#: the corpus entries made of smooth ops only (no relu, abs, max, min, ...: see `smooth`)
SMOOTH_CORPUS = [case for case in CORPUS if smooth(case.text)]

"""Hypothesis strategies: random, well-formed exprgrad programs with a point inside every domain.

Public API (other test modules reuse it)::

    from strategies import programs, expressions

    @given(programs())
    def test_something(case):
        text, point = case          # text: exprgrad source; point: {variable: float}

- ``programs(max_statements=3, max_depth=3, ops=None, user_functions=True)`` draws
  ``(text, point)``: zero or more user-function definitions, named intermediates, and a final
  statement (a bare expression or an assignment), separated by ``;`` or new lines, with
  ``#`` comments.  ``point`` gives a value to exactly the variables that occur in ``text``.
- ``expressions(max_depth=3, ops=None)`` draws ``(text, point)`` for one expression.
- ``argument_counts(name)``: the numbers of arguments drawn for a function of the language.
- ``ops`` limits the functions and operators drawn (names of `exprgrad.ops.OPS` entries, e.g.
  ``{"add", "mul", "tanh"}``; ``"pow"`` covers ``^``, ``**`` and ``pow(a, b)``, and an op
  covers every function of the language made of it (`ops.FUNCTIONS`): ``"log"`` covers
  ``log``, ``ln`` and ``log(x, base)``, ``"max"`` covers ``max(a, b, c)``, ``"logaddexp"``
  covers ``logsumexp`` and ``softmax``); default: the whole language, `LANGUAGE`.

Every construct of the language occurs: numbers in all their spellings (``2``, ``2.5``,
``.5``, ``1e-3``, ``1_000``, ``6.8813735870195432``), Unicode names, the registry's infix
operators (``+ - * /``, ``^`` and ``**``, unary ``-``) and unary ``+``, parentheses (needed and
redundant), every function of `ops.FUNCTIONS` with each number of arguments it takes (variadic
ones with one more too), several values unpacked (``p1, p2 = softmax(a, b)``), constants
(``pi``), statements, user functions and comments.  The operators and functions are read from
the registry, so a new op is drawn by default.

Points lie inside each function's domain, away from its edges and kinks: while a program is
built its value at the point is tracked with the registry's float forwards, and an argument
that would fall outside the smooth region of the function applied to it (`SMOOTH`, derived
from each op's ``domain``) is shifted there by a literal offset, ``f(u - 2.25)``.  User
functions are generated at sample argument values and called only with arguments shifted to
within 1e-8 of them, so their bodies stay inside their domains too.
"""
from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

from exprgrad.ops import CONSTANTS, FLOAT_MATH, FUNCTIONS, OPS, PREC_ADD, PREC_ATOM, PREC_NEG, \
    PREC_POW

from corpus import LANGUAGE          # every op the language can write, by registry name

# Where each op is smooth, per argument: a union of intervals.  The registry's `domain` is
# one interval per argument; these widen it where the op is smooth on both sides of a kink or
# a pole, so negative relu arguments and negative divisors are drawn too.
SMOOTH: dict[str, tuple] = {name: tuple((d,) for d in op.domain) for name, op in OPS.items()}
SMOOTH.update({
    "relu": (((-3, -0.1), (0.1, 3)),),
    "abs": (((-3, -0.2), (0.2, 3)),),
    "hypot": (((-3, -0.2), (0.2, 3)), ((-3, 3),)),
    "div": (((-3, 3),), ((-3, -0.5), (0.5, 3))),
    "add": (((-40, 40),), ((-40, 40),)),
    "sub": (((-40, 40),), ((-40, 40),)),
    "neg": (((-40, 40),),),
    "mul": (((-6, 6),), ((-6, 6),)),
})
# Arguments a function of the language takes beyond its op's own (log(x, base): the base),
# where they are smooth.  Not derivable from the registry: what the extra argument means is
# the function's `build`.  A function with extra arguments missing here fails `_regions`.
EXTRA_ARGUMENTS = {"log": ((0.2, 0.7), (1.5, 3))}          # log(x, base): base away from 1
INT_POWER_BASES = ((-3, -0.3), (0.3, 3))    # u^2, u^-1: any sign, away from 0
TIE_GAP = 0.1                               # |a - b| for max and min
# softmax shifts its arguments by their max (ops._softmax): a value that does not depend on the
# shift, but finite differences see the max's kink, and within ~1e-8 of a tie every stencil
# crosses it (the check then has no finite difference), so its arguments keep apart like max's.
_TIES = {"softmax": "max"}

VARIABLES = ("x", "y", "w1", "b", "θ", "e", "x_2", "alpha")
INTERMEDIATES = ("n", "h1", "t_2", "ψ", "out1", "L")
FUNCTION_NAMES = ("sq", "act", "g", "φ")
PARAMS = ("z", "u", "v_1")
NUMBERS = (("2", 2.0), ("2.5", 2.5), (".5", 0.5), ("1e-3", 1e-3), ("1_000", 1000.0),
           ("3", 3.0), ("0.25", 0.25), ("1.5e0", 1.5), ("6.8813735870195432",
                                                         6.8813735870195432))

# From the registry: the binary operators that are only operators (pow is a function too, see
# `power`), the prefix ones, the functions with one value and those with several.
_BINARY = {name: op for name, op in OPS.items() if op.infix and not op.public and op.arity == 2}
_PREFIX = {name: op for name, op in OPS.items() if op.infix and not op.public and op.arity == 1}
_FUNCTIONS = sorted(name for name, b in FUNCTIONS.items() if not b.multi)
_MULTI = sorted(name for name, b in FUNCTIONS.items() if b.multi)
_CONSTANTS = sorted(CONSTANTS)


def _regions(name: str, count: int) -> list[tuple]:
    """Where each of `count` arguments of the language function `name` is smooth."""
    builtin = FUNCTIONS[name]
    own = SMOOTH[builtin.op]
    if builtin.variadic or count <= len(own):
        return [own[min(i, len(own) - 1)] for i in range(count)]
    return list(own) + [EXTRA_ARGUMENTS[name]] * (count - len(own))


def argument_counts(name: str) -> tuple[int, ...]:
    """The numbers of arguments drawn for `name`: each it accepts; one more for a variadic."""
    b = FUNCTIONS[name]
    return (b.arities[0], b.arities[0] + 1) if b.variadic else b.arities


@dataclass(frozen=True)
class Expr:
    """A generated expression: its text, its value at the point, its binding strength and a
    tree (op, *children) to re-evaluate it with other values bound to names."""
    text: str
    value: float
    prec: int
    tree: tuple


def _fwd(op: str, *xs: float) -> float:
    return OPS[op].fwd(*xs)


def evaluate_tree(tree: tuple, env: dict, functions: dict) -> float:
    """The float value of a generated tree; user functions are evaluated with their params
    bound (trees are at most a few levels deep, so recursion is fine here)."""
    kind = tree[0]
    if kind == "num":
        return tree[1]
    if kind == "name":
        return env[tree[1]]
    if kind == "call":
        params, body = functions[tree[1]]
        args = [evaluate_tree(t, env, functions) for t in tree[2:]]
        return evaluate_tree(body, dict(zip(params, args)), functions)
    if kind == "builtin":           # a function of the language, as its `build` desugars it
        return _call(tree[1], *(evaluate_tree(t, env, functions) for t in tree[2:]))
    return _fwd(kind, *(evaluate_tree(t, env, functions) for t in tree[1:]))


def _call(name: str, *xs: float):
    """The float value(s) of the language function `name` (a list for several values)."""
    return FUNCTIONS[name].build(FLOAT_MATH, *xs)


class _Builder:
    """Draws one program; `env` maps visible names to their values at the point."""

    def __init__(self, draw, ops, max_depth):
        self.draw, self.ops, self.max_depth = draw, ops, max_depth
        self.functions: dict[str, tuple] = {}       # name -> (params, body tree)
        self.used: set[str] = set()                 # variables that occur in the text
        self.point: dict[str, float] = {}

    # ---- small pieces ---------------------------------------------------------------------

    def space(self) -> str:
        return self.draw(st.sampled_from(("", "", " ")))

    def paren(self, e: Expr) -> Expr:
        return Expr(f"({e.text})", e.value, PREC_ATOM, e.tree)

    def at_least(self, e: Expr, prec: int) -> Expr:
        return e if e.prec >= prec else self.paren(e)

    def shift(self, e: Expr, intervals, exact: bool = False) -> Expr:
        """`e`, or `e` minus a literal offset, so that its value lies well inside one of
        `intervals` (exact: within 1e-8 of the single point ``intervals[0][0]``)."""
        v = e.value
        if exact:
            target, digits = intervals[0][0], 10
        else:
            for lo, hi in intervals:
                margin = min(0.1, (hi - lo) / 10)
                if lo + margin <= v <= hi - margin:
                    return e
            lo, hi = self.draw(st.sampled_from(intervals))
            margin = min(0.1, (hi - lo) / 10)
            target = self.draw(st.floats(lo + 2 * margin, hi - 2 * margin))
            digits = 2
        offset = round(v - target, digits)
        if offset == 0:
            return e
        text = f"{abs(offset):.{digits}f}".rstrip("0").rstrip(".")
        op = "sub" if offset > 0 else "add"
        num = Expr(text, abs(offset), PREC_ATOM, ("num", abs(offset)))
        left = self.at_least(e, PREC_ADD)
        value = _fwd(op, v, abs(offset))
        return self.paren(Expr(f"{left.text} {_BINARY[op].infix} {text}", value, PREC_ADD,
                               (op, e.tree, num.tree)))

    # ---- expressions ------------------------------------------------------------------------

    def atom(self, env: dict) -> Expr:
        constants = [c for c in _CONSTANTS if CONSTANTS[c] in self.ops]
        kinds = ["name"] * 4 + ["number"] + (["constant"] if constants else [])
        kind = self.draw(st.sampled_from(kinds)) if env else "number"
        if kind == "name":
            name = self.draw(st.sampled_from(sorted(env)))
            if name in self.point:
                self.used.add(name)
            return Expr(name, env[name], PREC_ATOM, ("name", name))
        if kind == "constant":
            name = self.draw(st.sampled_from(constants))
            return Expr(name, _fwd(CONSTANTS[name]), PREC_ATOM, (CONSTANTS[name],))
        text, value = self.draw(st.sampled_from(NUMBERS))
        return Expr(text, value, PREC_ATOM, ("num", value))

    def expr(self, env: dict, depth: int) -> Expr:
        if depth <= 0 or self.draw(st.integers(0, 4)) == 0:
            return self.atom(env)
        choices = ["function"] * 4 + ["binary"] * 3 + ["unary", "power"]
        if self.functions:
            choices.append("user")
        kind = self.draw(st.sampled_from(choices))
        if kind == "binary":
            return self.binary(env, depth)
        prefix = [name for name in _PREFIX if name in self.ops]
        if kind == "unary" and prefix:
            name = self.draw(st.sampled_from(prefix + ["+"]))      # unary + is syntax only
            if name == "+":
                inner = self.at_least(self.expr(env, depth - 1), PREC_NEG)
                return Expr(f"+{inner.text}", inner.value, PREC_NEG, inner.tree)
            op = _PREFIX[name]
            inner = self.shift(self.expr(env, depth - 1), SMOOTH[name][0])
            inner = self.at_least(inner, op.prec)
            return Expr(f"{op.infix}{inner.text}", _fwd(name, inner.value), op.prec,
                        (name, inner.tree))
        if kind == "power" and "pow" in self.ops:
            return self.power(env, depth)
        if kind == "user":
            return self.call_user(env, depth)
        return self.function(env, depth)

    def binary(self, env: dict, depth: int) -> Expr:
        names = [o for o in _BINARY if o in self.ops] or ["add"]
        op = self.draw(st.sampled_from(names))
        prec = _BINARY[op].prec
        a = self.shift(self.expr(env, depth - 1), SMOOTH[op][0])
        b = self.shift(self.expr(env, depth - 1), SMOOTH[op][1])
        a, b = self.at_least(a, prec), self.at_least(b, prec + 1)
        s = self.space() if prec > PREC_ADD else " "
        return Expr(f"{a.text}{s}{_BINARY[op].infix}{s}{b.text}", _fwd(op, a.value, b.value),
                    prec, (op, a.tree, b.tree))

    def power(self, env: dict, depth: int) -> Expr:
        sym = self.draw(st.sampled_from(("^", "**")))
        if self.draw(st.booleans()):               # u^2, u**-1: integer literal exponents
            base = self.shift(self.expr(env, depth - 1), INT_POWER_BASES)
            k = self.draw(st.sampled_from((2, 3, -1, -2)))
            exponent = Expr(str(abs(k)), float(abs(k)), PREC_ATOM, ("num", float(abs(k))))
            if k < 0:
                exponent = Expr(f"-{exponent.text}", float(k), PREC_NEG, ("neg", exponent.tree))
        else:
            base = self.shift(self.expr(env, depth - 1), SMOOTH["pow"][0])
            exponent = self.shift(self.expr(env, depth - 1), SMOOTH["pow"][1])
        base, exponent = self.at_least(base, PREC_ATOM), self.at_least(exponent, PREC_NEG)
        return Expr(f"{base.text}{sym}{exponent.text}", _fwd("pow", base.value, exponent.value),
                    PREC_POW, ("pow", base.tree, exponent.tree))

    def function(self, env: dict, depth: int) -> Expr:
        names = [f for f in _FUNCTIONS if FUNCTIONS[f].op in self.ops] or ["exp"]
        name = self.draw(st.sampled_from(names))
        args = self.arguments(name, env, depth)
        text = f"{name}({f',{self.space()}'.join(a.text for a in args)})"
        return Expr(text, _call(name, *(a.value for a in args)), PREC_ATOM,
                    ("builtin", name, *(a.tree for a in args)))

    def arguments(self, name: str, env: dict, depth: int) -> list[Expr]:
        """Arguments for the language function `name`, each inside its smooth region; for an
        op with a kink between two arguments (max, min: ties), each argument is moved apart
        from the running fold of the ones before it."""
        count = self.draw(st.sampled_from(argument_counts(name)))
        args = [self.shift(self.expr(env, depth - 1), region)
                for region in _regions(name, count)]
        op = OPS[_TIES.get(name, FUNCTIONS[name].op)]
        if op.kink is not None and op.arity == 2:
            acc = args[0].value
            for i in range(1, count):
                if abs(op.kink(acc, args[i].value)) < TIE_GAP:
                    moved = self.at_least(args[i], PREC_ADD)
                    args[i] = self.paren(Expr(f"{moved.text} + 0.5", args[i].value + 0.5,
                                              PREC_ADD, ("add", args[i].tree, ("num", 0.5))))
                acc = op.fwd(acc, args[i].value)
        return args

    def unpacking(self, env: dict, depth: int, free: list[str]) -> str:
        """``p1, p2 = softmax(a, b)``: a function of several values, one name (taken from
        `free`) per value."""
        name = self.draw(st.sampled_from([f for f in _MULTI if FUNCTIONS[f].op in self.ops]))
        args = self.arguments(name, env, depth)
        values = _call(name, *(a.value for a in args))
        targets = [free.pop(0) for _ in values]
        env.update(zip(targets, values))
        return f"{', '.join(targets)} = {name}({', '.join(a.text for a in args)})"

    def call_user(self, env: dict, depth: int) -> Expr:
        fname = self.draw(st.sampled_from(sorted(self.functions)))
        params, body, samples = self.functions[fname]
        args = [self.shift(self.expr(env, depth - 1), ((s, s),), exact=True) for s in samples]
        trees = {f: (p, b) for f, (p, b, _) in self.functions.items()}
        tree = ("call", fname, *(a.tree for a in args))
        value = evaluate_tree(tree, env, trees)
        return Expr(f"{fname}({', '.join(a.text for a in args)})", value, PREC_ATOM, tree)

    # ---- statements ---------------------------------------------------------------------------

    def define_function(self, name: str) -> str:
        arity = self.draw(st.integers(1, 2))
        params = list(PARAMS[:arity])
        samples = [self.draw(st.floats(-2, 2)) for _ in params]
        body = self.expr(dict(zip(params, samples)), max(1, self.max_depth - 1))
        self.functions[name] = (params, body.tree, samples)
        return f"{name}({', '.join(params)}) = {body.text}"


def _check_ops(ops) -> frozenset:
    ops = LANGUAGE if ops is None else frozenset(ops)
    unknown = ops - LANGUAGE
    if unknown:
        raise ValueError(f"not ops of the language: {sorted(unknown)}")
    return ops


@st.composite
def programs(draw, max_statements: int = 3, max_depth: int = 3, ops=None,
             user_functions: bool = True, outputs: int = 1):
    """``(text, point)``: a random well-formed program and a point inside its domains;
    ``outputs`` > 1 ends it with that many outputs (``e1, e2`` or ``a, b = e1, e2``)."""
    ops = _check_ops(ops)
    b = _Builder(draw, ops, max_depth)
    names = draw(st.lists(st.sampled_from(VARIABLES), min_size=1, max_size=3, unique=True))
    b.point = {n: draw(st.floats(-2.5, 2.5)) for n in names}
    env = dict(b.point)
    lines = []
    if user_functions:
        for fname in draw(st.lists(st.sampled_from(FUNCTION_NAMES), max_size=2, unique=True)):
            lines.append(b.define_function(fname))
    free = list(draw(st.permutations(INTERMEDIATES)))       # names for intermediates
    multi = [f for f in _MULTI if FUNCTIONS[f].op in ops]
    for _ in range(draw(st.integers(0, max_statements - 1))):
        if multi and len(free) >= 3 and draw(st.integers(0, 3)) == 0:
            lines.append(b.unpacking(env, max_depth, free))
            continue
        name = free.pop(0)
        e = b.expr(env, max_depth)
        lines.append(f"{name} ={b.space() or ' '}{e.text}")
        env[name] = e.value
    finals = [b.expr(env, max_depth) for _ in range(outputs)]
    if not b.used:                     # at least one variable, so there is a gradient
        var = Expr(names[0], b.point[names[0]], PREC_ATOM, ("name", names[0]))
        b.used.add(names[0])
        final = finals[0]
        finals[0] = Expr(f"{b.at_least(final, PREC_ADD).text} + {var.text}",
                         final.value + var.value, PREC_ADD, ("add", final.tree, var.tree))
    texts = ", ".join(f.text for f in finals)
    if draw(st.booleans()):
        free = [n for n in ("f", "o", "loss", "p", "q", "r") if n not in env]
        outs = draw(st.lists(st.sampled_from(free), min_size=outputs, max_size=outputs,
                             unique=True))
        lines.append(f"{', '.join(outs)} = {texts}")
    else:
        lines.append(texts)
    text = _join(draw, lines)
    return text, {n: v for n, v in b.point.items() if n in b.used}


def _join(draw, lines: list[str]) -> str:
    """Statements separated by ';' or new lines, with comments where a line ends."""
    out = []
    for i, line in enumerate(lines):
        last = i == len(lines) - 1
        how = draw(st.sampled_from(("; ", ";", "\n", "  # note\n", "\n# comment line\n")))
        if last:
            how = draw(st.sampled_from(("", "\n", "  # the output\n")))
        out.append(line + how)
    return "".join(out)


def expressions(max_depth: int = 3, ops=None):
    """``(text, point)`` for a single expression (no statements, no user functions)."""
    return programs(max_statements=1, max_depth=max_depth, ops=ops, user_functions=False)

"""The first calls' interpreter: a graph → flat tapes, each run by one loop.

Input: a graph, the nodes to compute and the order of its parameters.  Output: a `Tape` whose
`values` computes those nodes at a point and whose `grad` gives the value and gradient of one
output, with no code generated: what `Function` runs until compiling pays off (api.py).

A tape is a list of tuples ``(op code, node, argument, argument[, modes])`` over one list of
floats indexed by node.  It runs what the gradient program that the code generators print
(`autodiff.grad_program`) runs, in the same order: the forward nodes in graph order, then each
node's derivative rules from the registry in reverse order, only through nodes that depend on a
variable, the contributions to a node added with ``+`` in the order the gradient pass adds them
(the first one taken as is).  So it gives the generated code's floats, without building that
program.  The rules are inlined into the loop by tracing them (rules.py); an op whose rules
cannot be traced runs them as calls.  A math error names its node, as `interpret.evaluate` does.

>>> from exprgrad.lower import lower
>>> from exprgrad.parse import parse
>>> g = lower(parse("n = x*w; o = tanh(n)"))
>>> value, partials = Tape(g, g.outputs, ["w", "x"]).grad([0.5, 2.0])
>>> value == math.tanh(1.0), partials == [2.0 * (1 - value * value), 0.5 * (1 - value * value)]
(True, True)
"""
from __future__ import annotations

import math
import operator
from typing import Sequence

from .interpret import domain_error
from .ir import Graph, Node, gc_paused
from .ops import FLOAT_ERRORS, FLOAT_MATH, OPS
from .rules import forwards, traced_terms

# Codes are tested in this order: the most frequent ops first.
_HOT = ("mul", "add", "sub", "tanh", "pow", "neg", "div", "exp", "relu", "sigmoid", "log",
        "sin", "cos", "sqrt", "gate", "step")
_ORDER = [n for n in _HOT if n in OPS] + sorted(n for n in OPS if n not in _HOT)
CODES = {name: k for k, name in enumerate(_ORDER)}
_BINARY = frozenset(CODES[n] for n, o in OPS.items() if o.arity == 2)
GENERIC = -1                 # (GENERIC, node, argument indices, op[, modes]): rules as calls
# Forwards that are one Python operator: inlined (value.py checks the same identities).
_INLINE = {operator.add: "{0} + {1}", operator.sub: "{0} - {1}", operator.mul: "{0} * {1}",
           operator.neg: "-{0}"}
# A contribution's mode: the argument gets none (it depends on no variable), its first one,
# or one more (added).
SKIP, FIRST, MORE = 0, 1, 2

_loops: list = []           # [forward, reverse, {op they inline: code}], made on first use


def _generate() -> list:
    """The forward and reverse loops, specialised from the registry (once per process)."""
    env = {"_FLOAT_ERRORS": FLOAT_ERRORS, "_m": FLOAT_MATH, **forwards()}
    fwd, rev, inlined = [], [], {}
    for name in _ORDER:
        op, k = OPS[name], CODES[name]
        terms = traced_terms(op) if op.arity in (1, 2) else None
        if terms is None:
            continue                     # GENERIC entries
        inlined[name] = k
        head = "if" if not fwd else "elif"
        args = ("v[a]", "v[b]")[:op.arity]
        inline = _INLINE.get(op.fwd)
        env[f"_fwd_{name}"] = op.fwd
        expr = inline.format(*args) if inline else f"_fwd_{name}({', '.join(args)})"
        fwd += [f"{head} k == {k}:", f"    v[i] = {expr}"]
        used = " ".join(terms)
        rev += [f"{head} k == {k}:"]
        rev += [f"    x{j} = v[{arg}]" for j, arg in enumerate("ab"[:op.arity]) if f"x{j}" in used]
        rev += ["    out = v[i]"] if "out" in used else []
        for arg, mode, term in zip("ab", ("ma", "mb"), terms):
            rev += [f"    if {mode} == 1:", f"        adj[{arg}] = {term}",
                    f"    elif {mode}:", f"        adj[{arg}] += {term}"]
    fwd += ["else:", "    v[i] = a.fwd(*[v[j] for j in b])"]     # GENERIC: a is the op
    rev += ["else:", "    _generic(v, adj, i, a, b, ma)"]
    indent = "\n" + " " * 12
    source = f"""
def forward(v, tape):
    i = -1
    try:
        for k, i, a, b in tape:
            {indent.join(fwd)}
    except _FLOAT_ERRORS as exc:
        return i, exc
    return None


def reverse(v, adj, tape):
    i = -1
    try:
        for k, i, a, b, ma, mb in tape:
            g = adj[i]
            {indent.join(rev)}
    except _FLOAT_ERRORS as exc:
        return i, exc
    return None
"""
    env["_generic"] = _generic
    loops = compile(source, "<exprgrad.tape: interpreter loops>", "exec")
    exec(loops, env)  # safe: source built from the registry's rules only, never user text
    _loops.extend((env["forward"], env["reverse"], inlined))
    return _loops


def _generic(v, adj, i, op, args, modes) -> None:
    """An op the loops do not inline: its rules called on floats (GENERIC entries)."""
    g, out, xs = adj[i], v[i], [v[j] for j in args]
    for j, rule, mode in zip(args, op.rules, modes):
        if mode == FIRST:
            adj[j] = rule(FLOAT_MATH, g, out, *xs)
        elif mode:
            adj[j] += rule(FLOAT_MATH, g, out, *xs)


class Tape:
    """The program of `roots` in `graph` as flat tapes (see the module docstring); `params`:
    the variables in the order `values` and `grad` take them."""

    @gc_paused()        # tens of thousands of tuples that live as long as the tape
    def __init__(self, graph: Graph, roots: Sequence[Node], params: Sequence[str]):
        self.graph, self.roots = graph, list(roots)
        self.order = graph.order(self.roots)
        code = (_loops or _generate())[2].get        # None: not inlined
        base: list = [None] * len(graph.nodes)
        forward = []
        entry = forward.append
        for node in self.order:
            args = node.args
            if args:
                k = code(node.op)
                if k is not None:
                    entry((k, node.index, args[0].index, args[-1].index))
                else:
                    entry((GENERIC, node.index, OPS[node.op], tuple(a.index for a in args)))
            elif node.op == "const":
                base[node.index] = float(node.payload)
            elif node.op != "var":
                base[node.index] = OPS[node.op].fwd()     # pi
        self.base, self.forward = base, forward
        self.slots = [graph.vars[p].index if p in graph.vars else None for p in params]
        self._reverse: list | None = None

    def calls_before_compiling(self, kind: str = "grad") -> int:
        """How many ``kind`` calls ("value" or "grad") to interpret before compiling pays
        off (see INTERPRET_S below)."""
        entries = len(self.forward) * (2 if kind == "grad" else 1)
        compiling = COMPILE_FIXED_S + COMPILE_S[kind] * len(self.order)
        return int(compiling / (CALL_S + INTERPRET_S * entries))

    def run(self, xs: Sequence[float]) -> list:
        """The value of every node of the program at ``xs`` (by node index)."""
        v = self.base.copy()
        for slot, x in zip(self.slots, xs):
            if slot is not None:
                v[slot] = x
        failed = _loops[0](v, self.forward)
        if failed is not None:
            raise self._error(v, *failed)
        return v

    def values(self, xs: Sequence[float]) -> list[float]:
        """The roots' values at ``xs``."""
        v = self.run(xs)
        return [v[r.index] for r in self.roots]

    def grad(self, xs: Sequence[float]) -> tuple[float, list[float]]:
        """``(value of the first root, [partial by each parameter])`` at ``xs``."""
        v = self.run(xs)
        y = self.roots[0].index
        adj: list = [None] * len(v)
        adj[y] = 1.0
        failed = _loops[1](v, adj, self.reverse_tape())
        if failed is not None:
            raise self._error(v, *failed, what="the derivative of ")
        zero = 0.0
        return v[y], [zero if s is None or adj[s] is None else adj[s] for s in self.slots]

    def reverse_tape(self) -> list:
        """The reverse sweep's entries (built on the first gradient)."""
        if self._reverse is None:
            self._reverse = self._build_reverse()
        return self._reverse

    @gc_paused()
    def _build_reverse(self) -> list:
        """Each entry of the forward tape, last first, with the mode of each argument's
        contribution (see SKIP, FIRST, MORE); nodes without an adjoint are left out."""
        active = bytearray(len(self.base))       # depends on a parameter
        for s in self.slots:
            if s is not None:
                active[s] = 1
        for k, i, a, b in self.forward:
            if k == GENERIC:
                active[i] = any(active[j] for j in b)
            else:
                active[i] = active[a] | active[b]
        has = bytearray(len(self.base))          # has an adjoint already
        has[self.roots[0].index] = 1
        entries = []
        add = entries.append
        for k, i, a, b in reversed(self.forward):
            if not has[i]:
                continue
            if k == GENERIC:
                modes = []
                for j in b:
                    modes.append(SKIP if not active[j] else MORE if has[j] else FIRST)
                    has[j] |= active[j]
                if any(modes):
                    add((k, i, a, b, tuple(modes), 0))
                continue
            if active[a]:
                ma = MORE if has[a] else FIRST
                has[a] = 1
            else:
                ma = SKIP
            if b == a and k not in _BINARY:
                mb = SKIP                         # a one-argument op (its entry repeats a)
            elif active[b]:
                mb = MORE if has[b] else FIRST
                has[b] = 1
            else:
                mb = SKIP
            if ma or mb:
                add((k, i, a, b, ma, mb))
        return entries

    def _error(self, v: list, i: int, exc: Exception, what: str = ""):
        node = self.graph.nodes[i]
        return domain_error(self.graph, node, [v[a.index] for a in node.args], exc, what)


# ---- when compiling pays off ---------------------------------------------------------------------
# Ski rental: interpret until the interpreted calls have cost what compiling would, then
# compile; never worse than twice the better of the two.  Measured on the benchmark machine
# (CPU seconds; W4, the chain, the pendulum at 10 … 5,000): an interpreted call costs about
# INTERPRET_S per tape entry plus CALL_S; compiling the gradient (gradient pass, printing,
# CPython's compile) about COMPILE_S["grad"] per forward node plus COMPILE_FIXED_S, the value
# alone about COMPILE_S["value"].  Only the ratios matter: a gradient of n nodes is compiled
# after roughly 100–200 interpreted calls.
INTERPRET_S = 0.15e-6
CALL_S = 5e-6
COMPILE_S = {"grad": 35e-6, "value": 10e-6}
COMPILE_FIXED_S = 0.5e-3

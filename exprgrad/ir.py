"""The graph IR: a hash-consed SSA graph that every later stage reads.

`lower` (in lower.py) builds a `Graph` from the AST; the gradient pass, the interpreters
(`evaluate`, the `Value` DAG), sympy conversion, pictures and code generators each walk
`graph.order()` in one loop.  Nodes are created only after their arguments, so creation order is
a topological order and no walk needs recursion.

A `Node` is ``(op, args, payload)``: ``op`` is a registry key of `ops.OPS` or one of the leaves
``"var"`` (payload: the name) and ``"const"`` (payload: the exact `Fraction`).  Building the same
``(op, args)`` twice gives the same node, so ``x*w + x*w`` holds one ``x*w``.  Names live in a
side table (`Graph.labels`); a node reached by two names keeps the first one.

>>> from exprgrad.lower import lower
>>> from exprgrad.parse import parse
>>> g = lower(parse("n = x*w + x*w; o = tanh(n)"))
>>> print(pretty(g))
n = x*w + x*w
o = tanh(n)
>>> len(g.order())
5
"""
from __future__ import annotations

import contextlib
import gc
import math
from fractions import Fraction
from itertools import compress
from typing import Iterable

from .errors import DomainError, Span, VariableError
from .ops import OPS, PREC_ADD, PREC_NEG

LEAVES = ("var", "const")
_ARITY = {name: o.arity for name, o in OPS.items()}


@contextlib.contextmanager
def gc_paused():
    """Run a compiler stage without the cyclic garbage collector.

    Stages that build a graph allocate tens of thousands of long-lived objects (AST nodes, IR
    nodes); every full collection walks all of them, so with the collector on, building a graph
    of n nodes costs O(n^2) in collections.  Nothing built here is garbage until the stage
    ends, when the collector is restored (only if it was on) and catches up at its own pace.
    """
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


class Node:
    """One SSA value.  Arithmetic operators build new nodes in the same graph, so derivative
    rules written with ``+ - * /`` run on nodes as they do on floats."""

    __slots__ = ("op", "args", "payload", "index", "graph")

    def __init__(self, op: str, args: tuple, payload, index: int, graph: "Graph"):
        self.op, self.args, self.payload, self.index, self.graph = op, args, payload, index, graph

    def __repr__(self) -> str:   # shallow: never descends
        if self.op == "var":
            return f"<var {self.payload}>"
        if self.op == "const":
            return f"<const {self.payload}>"
        return f"<%{self.index} = {self.op}({', '.join('%' + str(a.index) for a in self.args)})>"

    @property
    def is_const(self) -> bool:
        return self.op == "const"

    @property
    def value(self) -> float:
        """The float value of a constant node."""
        return float(self.payload)

    def _lift(self, other) -> "Node":
        return other if isinstance(other, Node) else self.graph.const(other)

    def __add__(self, other): return self.graph.apply("add", self, self._lift(other))
    def __radd__(self, other): return self.graph.apply("add", self._lift(other), self)
    def __sub__(self, other): return self.graph.apply("sub", self, self._lift(other))
    def __rsub__(self, other): return self.graph.apply("sub", self._lift(other), self)
    def __mul__(self, other): return self.graph.apply("mul", self, self._lift(other))
    def __rmul__(self, other): return self.graph.apply("mul", self._lift(other), self)
    def __truediv__(self, other): return self.graph.apply("div", self, self._lift(other))
    def __rtruediv__(self, other): return self.graph.apply("div", self._lift(other), self)
    def __pow__(self, other): return self.graph.apply("pow", self, self._lift(other))
    def __neg__(self): return self.graph.apply("neg", self)


class Graph:
    """A hash-consed graph of `Node`s with named outputs, labels and source spans.

    ``peephole=True`` also applies the algebraic identities that are exact for finite values
    (``x*1``, ``x+0``, ``0*x``, ``--x``); the gradient pass builds with it, lowering does not, so
    a user's ``x*1`` stays visible in pictures.
    """

    def __init__(self, source: str = "", peephole: bool = False):
        self.source = source
        self.peephole = peephole
        self.nodes: list[Node] = []
        self.outputs: list[Node] = []
        self.output_names: list[str] = []
        self.labels: dict[Node, str] = {}
        self.spans: dict[Node, Span] = {}
        self.vars: dict[str, Node] = {}
        self._table: dict[tuple, Node] = {}

    # ---- construction ---------------------------------------------------------------------

    def _intern(self, key: tuple, op: str, args: tuple, payload) -> Node:
        node = self._table.get(key)
        if node is None:
            node = Node(op, args, payload, len(self.nodes), self)
            self.nodes.append(node)
            self._table[key] = node
        return node

    def var(self, name: str) -> Node:
        node = self._intern(("var", name), "var", (), name)
        self.vars.setdefault(name, node)
        return node

    def const(self, value) -> Node:
        # Constants are exact; keyed by their Fraction (a float key would merge 0.0 and -0.0).
        exact = value if isinstance(value, Fraction) else Fraction(value)
        return self._intern(("const", exact), "const", (), exact)

    def apply(self, op: str, *args: Node) -> Node:
        if len(args) != _ARITY[op]:
            raise ValueError(f"{op} takes {OPS[op].arity} arguments, got {len(args)}")
        # The hash-consing key, built without a loop for the usual arities (the hot path of
        # lowering and of the gradient pass).
        if len(args) == 2:
            a, b = args
            if a.op == "const" and b.op == "const":
                folded = self._fold(op, args)
                if folded is not None:
                    return folded
            key = (op, a.index, b.index)
        elif len(args) == 1:
            if args[0].op == "const":
                folded = self._fold(op, args)
                if folded is not None:
                    return folded
            key = (op, args[0].index)
        else:
            key = (op, *[a.index for a in args])
        if self.peephole:
            simpler = _peephole(self, op, args)
            if simpler is not None:
                return simpler
        node = self._table.get(key)
        if node is None:
            node = Node(op, args, None, len(self.nodes), self)
            self.nodes.append(node)
            self._table[key] = node
        return node

    def _fold(self, op: str, args: tuple) -> Node | None:
        """Fold constants only where the float result equals the exact one, so folding never
        changes a number the unfolded graph would compute."""
        rule = OPS[op].exact
        if rule is None or not args or not all(a.is_const for a in args):
            return None
        try:
            exact = rule(*(a.payload for a in args))
            if exact is None:
                return None
            approx = OPS[op].fwd(*(a.value for a in args))
        except (ZeroDivisionError, ValueError, OverflowError):
            return None         # left in place: evaluation reports it against the node
        if not math.isfinite(approx) or float(exact) != approx:
            return None
        return self.const(exact)

    def name(self, node: Node, label: str) -> None:
        """Give `node` a label (the first name given to a node is kept)."""
        if node.op != "var":
            self.labels.setdefault(node, label)

    def note_span(self, node: Node, span: Span) -> None:
        self.spans.setdefault(node, span)

    # ---- reading --------------------------------------------------------------------------

    @property
    def output(self) -> Node:
        return self.outputs[0]

    @property
    def variables(self) -> tuple[str, ...]:
        return tuple(sorted(self.vars))

    def label(self, node: Node) -> str:
        if node.op == "var":
            return node.payload
        return self.labels.get(node, "")

    def order(self, roots: Iterable[Node] | None = None) -> list[Node]:
        """Nodes reachable from `roots` (default: the outputs), arguments before users."""
        nodes = self.nodes
        seen = bytearray(len(nodes))
        stack = [r.index for r in (self.outputs if roots is None else roots)]
        push = stack.append
        while stack:
            i = stack.pop()
            if not seen[i]:
                seen[i] = 1
                for a in nodes[i].args:
                    if not seen[a.index]:
                        push(a.index)
        return list(compress(nodes, seen))

    def source_of(self, node: Node) -> str | None:
        span = self.spans.get(node)
        if span is None or not self.source:
            return None
        return self.source[span.start:span.end]


def copy_nodes(graph: Graph, into: Graph, build=None) -> dict[int, Node]:
    """Rebuild the reachable nodes of `graph` in `into`, with labels and spans; returns
    ``old index -> new node``.  `build(op, args)` makes an op node (default `into.apply`);
    nodes it creates along the way (an expansion's helpers) share the source span."""
    build = build or into.apply
    mapping: dict[int, Node] = {}
    for node in graph.order():
        if node.op == "var":
            new = into.var(node.payload)
        elif node.op == "const":
            new = into.const(node.payload)
        else:
            first = len(into.nodes)
            new = build(node.op, *(mapping[a.index] for a in node.args))
            if node in graph.spans:
                for made in into.nodes[first:]:
                    into.note_span(made, graph.spans[node])
        mapping[node.index] = new
        if node in graph.labels:
            into.name(new, graph.labels[node])
        if node in graph.spans:
            into.note_span(new, graph.spans[node])
    for name in graph.vars:                     # variables of dead statements stay variables
        into.var(name)
    return mapping


def _is(node: Node, value) -> bool:
    return node.op == "const" and node.payload == value


def _peephole(graph: Graph, op: str, args: tuple) -> Node | None:
    if op == "mul":
        a, b = args
        if _is(a, 1):
            return b
        if _is(b, 1):
            return a
        if _is(a, 0) or _is(b, 0):
            return graph.const(0)
        if _is(a, -1):
            return graph.apply("neg", b)
        if _is(b, -1):
            return graph.apply("neg", a)
    elif op == "add":
        a, b = args
        if _is(a, 0):
            return b
        if _is(b, 0):
            return a
        if b.op == "neg":
            return graph.apply("sub", a, b.args[0])
    elif op == "sub":
        a, b = args
        if _is(b, 0):
            return a
        if _is(a, 0):
            return graph.apply("neg", b)
        if b.op == "neg":
            return graph.apply("add", a, b.args[0])
    elif op == "div":
        if _is(args[1], 1):
            return args[0]
        if _is(args[0], 0):
            return graph.const(0)
    elif op == "neg":
        if args[0].op == "neg":
            return args[0].args[0]
    elif op == "pow":
        if _is(args[1], 1):
            return args[0]
    return None


# ---- interpretation ---------------------------------------------------------------------------

def check_values(graph: Graph, values: dict) -> dict[str, float]:
    """Validate a point: every variable given, no unknown names, every value a real number."""
    missing = [v for v in graph.variables if v not in values]
    unknown = sorted(set(values) - set(graph.vars))
    if unknown:
        hint = f"; the variables are {', '.join(graph.variables) or '(none)'}"
        raise VariableError(f"unknown variable{'s' if len(unknown) > 1 else ''} "
                            f"{', '.join(unknown)}{hint}")
    if missing:
        raise VariableError(f"missing value{'s' if len(missing) > 1 else ''} for "
                            f"{', '.join(missing)}")
    point = {}
    for name in graph.variables:
        value = values[name]
        if isinstance(value, bool) or not isinstance(value, (int, float, Fraction)):
            try:
                value = float(value)
            except (TypeError, ValueError, OverflowError):
                raise VariableError(f"value of {name} must be a number, "
                                    f"got {values[name]!r}") from None
        try:
            point[name] = float(value)
        except OverflowError:
            raise VariableError(f"value of {name} is too large for a float: "
                                f"{values[name]!r:.40}") from None
    return point


def evaluate(graph: Graph, point: dict[str, float], nodes: list[Node] | None = None) -> list:
    """Float value of every node in `nodes` (default: all reachable), indexed by node.index."""
    vals: list = [None] * len(graph.nodes)
    for node in graph.order() if nodes is None else nodes:
        if node.op == "var":
            vals[node.index] = point[node.payload]
        elif node.op == "const":
            vals[node.index] = float(node.payload)
        else:
            args = [vals[a.index] for a in node.args]
            try:
                vals[node.index] = OPS[node.op].fwd(*args)
            except (ValueError, ZeroDivisionError, OverflowError) as exc:
                raise domain_error(graph, node, args, exc) from None
    return vals


def failure(op_name: str, args: list, exc: Exception, what: str = "") -> str:
    """The head of a domain-error message: ``log(-1) is undefined: outside the ...``."""
    op = OPS[op_name]
    shown = [_fmt(a) for a in args]
    if op.infix and len(args) == 2:
        call = f"{shown[0]} {op.infix} {shown[1]}"
    else:
        call = f"{op.name}({', '.join(shown)})"
    reason = {ZeroDivisionError: "division by zero", OverflowError: "the result overflows"}.get(
        type(exc), "outside the function's domain")
    if what and isinstance(exc, ZeroDivisionError):
        reason = "the slope is infinite there"
    return f"{what}{call} is undefined: {reason}"


def domain_error(graph: Graph, node: Node, args: list, exc: Exception,
                 what: str = "") -> DomainError:
    """A `DomainError` that names the failing node, its arguments and where it came from."""
    message = failure(node.op, args, exc, what)
    where = graph.source_of(node)
    if where is not None:
        message += f", in `{where}`"
    return DomainError(message, graph.spans.get(node), graph.source or None)


def _fmt(x: float) -> str:
    return f"{x:g}" if x == x else "nan"


# ---- printing ---------------------------------------------------------------------------------

def pretty(graph: Graph, max_inline: int | None = None) -> str:
    """The graph as exprgrad text: one statement per labelled node, minimal parentheses.

    Shared, unlabelled nodes are written inline (as in the source) unless inlining would make
    the text much larger than the graph; then they get statements of their own (``_t1 = ...``).
    """
    order = graph.order()
    named = {n: graph.labels[n] for n in order if n in graph.labels}
    if max_inline is None:
        max_inline = 8 * len(order) + 1000
    size = [0] * len(graph.nodes)
    uses = [0] * len(graph.nodes)
    for n in order:
        size[n.index] = 1 + sum(size[a.index] for a in n.args if a not in named)
        for a in n.args:
            uses[a.index] += 1
    if sum(size[n.index] for n in order if n in named or n in graph.outputs) > max_inline:
        taken = set(graph.vars) | set(named.values())
        counter = 0
        for n in order:
            if uses[n.index] > 1 and n.args and n not in named:
                counter += 1
                while f"_t{counter}" in taken:
                    counter += 1
                named[n] = f"_t{counter}"
    lines = []
    for n in order:
        if n in named:
            lines.append(f"{named[n]} = {format_expr(n, named, root=n)}")
    several = len(graph.outputs) > 1
    for out, name in zip(graph.outputs, graph.output_names or ["f"]):
        if out in named and named[out] == name:
            continue
        text = format_expr(out, named, root=None if out in named else out)
        lines.append(f"{name} = {text}" if several or out in named else text)
    return "\n".join(lines)


def format_expr(node: Node, names: dict, root: Node | None = None) -> str:
    """One expression in exprgrad syntax; nodes in `names` (other than `root`) print as names.

    Iterative: an explicit stack of pending pieces, so a 100,000-deep chain prints fine.
    """
    out: list[str] = []
    stack: list = [(node, 0)]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)
            continue
        n, need = item
        if n is not root and n in names:
            out.append(names[n])
            continue
        if n.op == "var":
            out.append(n.payload)
            continue
        if n.op == "const":
            text = _const_text(n.payload)
            if text.startswith("-") and need > PREC_ADD:
                text = f"({text})"
            out.append(text)
            continue
        op = OPS[n.op]
        pieces: list = []
        if op.infix and op.arity == 2:
            lhs_need = op.prec + (1 if op.right_assoc else 0)
            rhs_need = op.prec + (0 if op.right_assoc else 1)
            if op.name == "pow":
                rhs_need = PREC_NEG     # 2^-1 needs no parentheses
            spacer = " " if op.prec == PREC_ADD else ""
            pieces = [(n.args[0], lhs_need), f"{spacer}{op.infix}{spacer}", (n.args[1], rhs_need)]
        elif op.infix:
            pieces = [op.infix, (n.args[0], PREC_NEG)]
        elif op.arity == 0:
            pieces = [op.name]
        else:
            pieces = [f"{op.name}("]
            for i, a in enumerate(n.args):
                pieces += ([", "] if i else []) + [(a, 0)]
            pieces.append(")")
        if op.prec < need:
            pieces = ["(", *pieces, ")"]
        stack.extend(reversed(pieces))
    return "".join(out)


def _const_text(value: Fraction) -> str:
    """Exact decimal where one exists (literals always have one), else a quotient."""
    if value.denominator == 1:
        text = str(value.numerator)
        zeros = len(text) - len(text.rstrip("0"))
        return f"{text[:-zeros]}e{zeros}" if zeros > 20 else text
    as_float = float(value)
    if Fraction(repr(as_float)) == value:
        return repr(as_float)
    den, twos, fives = value.denominator, 0, 0
    while den % 2 == 0:
        den, twos = den // 2, twos + 1
    while den % 5 == 0:
        den, fives = den // 5, fives + 1
    if den != 1:
        return f"({value.numerator}/{value.denominator})"
    places = max(twos, fives)
    digits = str(abs(value.numerator) * 10 ** places // value.denominator)
    sign = "-" if value < 0 else ""
    if places > 20:            # 1e-400 rather than 0.000...0001 (still exact)
        significant = digits.rstrip("0")
        return f"{sign}{significant}e-{places - (len(digits) - len(significant))}"
    digits = digits.rjust(places + 1, "0")
    return f"{sign}{digits[:-places]}.{digits[-places:]}"

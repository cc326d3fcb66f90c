"""The graph IR: a hash-consed SSA graph that every later stage reads.

`lower` (in lower.py) builds a `Graph` from the AST; the passes (gradient, expansion), the
interpreters (interpret.py, the `Value` DAG), sympy conversion, the printer (printer.py),
pictures and code generators each walk `graph.order()` in one loop.  Nodes are created only after their arguments, so creation order is
a topological order and no walk needs recursion.

A `Node` is ``(op, args, payload)``: ``op`` is a registry key of `ops.OPS` or one of the leaves
``"var"`` (payload: the name) and ``"const"`` (payload: the exact `Fraction`).  Building the same
``(op, args)`` twice gives the same node, so ``x*w + x*w`` holds one ``x*w``.  Names live in a
side table (`Graph.labels`); a node reached by two names keeps the first one.

>>> from exprgrad.lower import lower
>>> from exprgrad.parse import parse
>>> g = lower(parse("n = x*w + x*w; o = tanh(n)"))
>>> len(g.order())                 # x, w, x*w, x*w + x*w, tanh(...): x*w is built once
5
"""
from __future__ import annotations

import gc
import math
from fractions import Fraction
from functools import partial, wraps
from itertools import compress
from typing import Iterable

from . import limits
from .errors import Span
from .ops import FLOAT_ERRORS, OPS

#: ops whose two arguments commute exactly in floating point (IEEE + and *)
COMMUTATIVE = frozenset({"add", "mul"})

LEAVES = ("var", "const")
_REPR_NODES = 200       # graphs up to this size show their program in repr()
_ARITY = {name: o.arity for name, o in OPS.items()}


class gc_paused:
    """Run a compiler stage without the cyclic garbage collector: ``with gc_paused():``, or
    ``@gc_paused()`` on a function.

    Stages that build a graph allocate tens of thousands of long-lived objects (AST nodes, IR
    nodes); every full collection walks all of them, so with the collector on, building a graph
    of n nodes costs O(n^2) in collections.  Nothing built here is garbage until the stage
    ends, when the collector is restored (only if it was on) and catches up at its own pace.
    A class, not `contextlib.contextmanager`: a small program's compile and first gradient
    enter five of these, at 3-4 µs each through a generator and under 1 µs here.
    """

    __slots__ = ("was_on",)

    def __enter__(self) -> None:
        self.was_on = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc) -> None:
        if self.was_on:
            gc.enable()

    def __call__(self, fn):
        @wraps(fn)
        def paused(*args, **kwargs):
            with gc_paused():
                return fn(*args, **kwargs)
        return paused


class _Builders:
    """`Graph.math`: ``m.cos(x)`` builds a cos node (``apply("cos", x)``).  Each op's function
    is made on its first use and then found like any attribute: a program's lowering uses a
    few of the ~40 ops, and making all of them for every graph was 10 µs of compiling a small
    program."""

    def __init__(self, apply):
        self._apply = apply

    def __getattr__(self, name: str):
        if name not in OPS:
            raise AttributeError(f"no op {name!r}")
        build = self.__dict__[name] = partial(self._apply, name)
        return build


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

    ``peephole=True`` also applies the algebraic identities that hold for infinities and NaN
    too (``x*1``, ``x+0``, ``--x``; not ``0*x``, which is NaN for an infinite x: the `Value`
    DAG computes it, so the gradient program must as well) and takes ``b*a`` for ``a*b`` (``+`` likewise); the
    derivative passes build with it, lowering does not, so a user's ``x*1`` stays visible in
    pictures and the forward sweep computes what the source says, in its order.
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
        self._integers: dict[int, Node] = {}       # integer constants by value (see `const`)
        self._math: _Builders | None = None
        self._orders: dict[tuple, tuple] = {}      # root indices -> order(roots)

    def __repr__(self) -> str:
        """``<Graph o(b, w1): 9 nodes>`` and, for a small graph, its program (printer.py)."""
        head = (f"<Graph {', '.join(self.output_names) or '(no output)'}"
                f"({', '.join(self.variables)}): {len(self.nodes):,} nodes>")
        if not self.outputs or len(self.nodes) > _REPR_NODES:
            return head
        from .printer import pretty
        return head + "\n" + "\n".join("    " + line for line in pretty(self).splitlines())

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
        # Integer constants are also found by their int: the derivative rules' 1 and 2 would
        # otherwise build and hash a Fraction for every use (a tenth of the gradient pass).
        if value.__class__ is int:
            node = self._integers.get(value)
            if node is not None:
                return node
        exact = value if isinstance(value, Fraction) else Fraction(value)
        node = self._intern(("const", exact), "const", (), exact)
        if exact.denominator == 1:
            self._integers[exact.numerator] = node
        return node

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
            if self.peephole and op in COMMUTATIVE and b.index < a.index:
                key = (op, b.index, a.index)   # derivative code: b*a is a*b (exact in IEEE)
            else:
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
        # `_intern` inlined: calling it measured 3-4% slower lowering (160,000 nodes).
        node = self._table.get(key)
        if node is None:
            node = Node(op, args, None, len(self.nodes), self)
            self.nodes.append(node)
            self._table[key] = node
        return node

    def _fold(self, op: str, args: tuple) -> Node | None:
        """Fold constants only where the float result equals the exact one, so folding never
        changes a number the unfolded graph would compute; and only while the result stays
        in the range of a double and within `limits.MAX_CONSTANT_BITS` or a literal's size
        (``((1e-300^64)^64)^64`` is not a 78-million-digit number): the printer then writes
        every constant as text the parser reads back."""
        rule = OPS[op].exact
        if rule is None or not args or not all(a.is_const for a in args):
            return None
        try:
            exact = rule(*(a.payload for a in args))
            if exact is None:
                return None
            approx = OPS[op].fwd(*(a.value for a in args))
        except FLOAT_ERRORS:
            return None         # left in place: evaluation reports it against the node
        if not math.isfinite(approx) or float(exact) != approx or (exact and not approx):
            return None
        if approx == 0 and math.copysign(1.0, approx) < 0:
            return None         # -0.0 has no exact Fraction: `x*-0` keeps its -0 (1/-0 is -inf)
        cap = limits.MAX_CONSTANT_BITS
        if exact.numerator.bit_length() > cap or exact.denominator.bit_length() > cap:
            # Past the cap, fold only what a literal writes (-x of a long literal).
            from .printer import decimal_text
            if decimal_text(exact) is None:
                return None
        return self.const(exact)

    @property
    def math(self) -> "_Builders":
        """``m`` for rules written with it (derivative rules, `ops.Builtin.build`, expansions):
        one function per op name, each building a node of this graph."""
        if self._math is None:
            self._math = _Builders(self.apply)
        return self._math

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

    def order(self, roots: Iterable[Node] | None = None) -> tuple[Node, ...]:
        """Nodes reachable from `roots` (default: the outputs), arguments before users.

        Remembered for the last few sets of roots: the passes and the printer walk the same
        program several times (printing Python walked it 10 times, 17% of printing), and
        what given nodes reach never changes (nodes are only appended, their arguments are
        fixed).  A tuple, so that no caller can change the remembered order."""
        key = tuple(r.index for r in (self.outputs if roots is None else roots))
        found = self._orders.get(key)
        if found is not None:
            return found
        nodes = self.nodes
        seen = bytearray(len(nodes))
        for i in key:
            seen[i] = 1
        # Arguments come before their users, so one sweep from the last root down to the
        # first node marks everything the roots reach (no stack: about twice as fast as a
        # depth-first walk).
        i = max(key, default=-1)
        for node in reversed(nodes[:i + 1]):
            if seen[i]:
                for a in node.args:
                    seen[a.index] = 1
            i -= 1
        found = tuple(compress(nodes, seen))
        if len(self._orders) >= 4:       # a graph serves a few programs: keep memory bounded
            self._orders.clear()
        self._orders[key] = found
        return found

    def source_of(self, node: Node) -> str | None:
        span = self.spans.get(node)
        if span is None or not self.source:
            return None
        return self.source[span.start:span.end]


class IRError(Exception):
    """A graph breaks an invariant: a bug in the pass that built it, never bad input."""


def check(graph: Graph, roots: Iterable[Node] = ()) -> None:
    """Verify `graph` (JAX's ``check_jaxpr``): every node at its index and of this graph,
    arguments before their users, leaves well formed, each op's arity from the registry, the
    hash-cons table holding exactly the nodes under their keys, and outputs, labels, spans and
    `roots` inside the graph.  Raises IRError naming the first broken invariant."""
    nodes = graph.nodes

    def mine(n) -> bool:
        return isinstance(n, Node) and n.graph is graph and 0 <= n.index < len(nodes) \
            and nodes[n.index] is n

    def fail(what):
        raise IRError(f"invalid graph: {what}")
    for i, n in enumerate(nodes):
        if n.index != i or n.graph is not graph:
            fail(f"node {n!r} is at position {i} of another graph or index")
        if n.op == "var":
            if n.args or not isinstance(n.payload, str) or graph.vars.get(n.payload) is not n:
                fail(f"variable node {n!r} is not the graph's variable {n.payload!r}")
            key = ("var", n.payload)
        elif n.op == "const":
            if n.args or not isinstance(n.payload, Fraction):
                fail(f"constant node {n!r} has arguments or a non-exact payload")
            key = ("const", n.payload)
        else:
            if n.op not in OPS or len(n.args) != OPS[n.op].arity:
                fail(f"{n!r}: {n.op} is not a registry op of arity {len(n.args)}")
            for a in n.args:
                if not mine(a) or a.index >= i:
                    fail(f"{n!r} uses {a!r}, which is not an earlier node of this graph")
            key = (n.op, *[a.index for a in n.args])
            if graph.peephole and n.op in COMMUTATIVE and graph._table.get(key) is not n:
                key = (n.op, *sorted(a.index for a in n.args))
        if graph._table.get(key) is not n:
            fail(f"the hash-cons table does not map {key!r} to {n!r}")
    if len(graph._table) != len(nodes):
        fail(f"the hash-cons table holds {len(graph._table)} keys for {len(nodes)} nodes")
    if len(graph.output_names) != len(graph.outputs):
        fail(f"{len(graph.outputs)} outputs, {len(graph.output_names)} output names")
    for what, found in (("output", graph.outputs), ("labelled node", graph.labels),
                        ("node with a span", graph.spans), ("root", roots)):
        for n in found:
            if not mine(n):
                fail(f"{what} {n!r} is not a node of this graph")
    if not all(isinstance(label, str) and label for label in graph.labels.values()):
        fail("a label is empty or not a string")
    if not all(isinstance(span, Span) for span in graph.spans.values()):
        fail("a span is not a Span")


def copy_nodes(graph: Graph, into: Graph, build=None) -> dict[int, Node]:
    """Rebuild the reachable nodes of `graph` in `into`, with labels and spans; returns
    ``old index -> new node``.  `build(op, args)` makes an op node (default `into.apply`);
    nodes it creates along the way (an expansion's helpers) share the source span."""
    build = build or into.apply
    mapping: dict[int, Node] = {}
    labels, spans, made_nodes = graph.labels, graph.spans, into.nodes
    for node in graph.order():
        op = node.op
        span = spans.get(node)
        if op == "var":
            new = into.var(node.payload)
        elif op == "const":
            new = into.const(node.payload)
        else:
            first = len(made_nodes)
            new = build(op, *[mapping[a.index] for a in node.args])
            if span is not None and (len(made_nodes) != first + 1
                                     or made_nodes[first] is not new):
                for made in made_nodes[first:]:     # an expansion's helpers
                    into.note_span(made, span)
        mapping[node.index] = new
        if node in labels:
            into.name(new, labels[node])
        if span is not None:
            into.note_span(new, span)
    for name in graph.vars:                     # variables of dead statements stay variables
        if name not in into.vars:
            into.var(name)
    return mapping


def _is(node: Node, value) -> bool:
    return node.op == "const" and node.payload == value


def _peephole(graph: Graph, op: str, args: tuple) -> Node | None:
    if op == "mul":
        a, b = args
        # The op is tested before the payload: Fraction's == is slow Python code.
        a_const, b_const = a.op == "const", b.op == "const"
        if a_const and a.payload == 1:
            return b
        if b_const and b.payload == 1:
            return a
        if a_const and a.payload == -1:
            return graph.apply("neg", b)
        if b_const and b.payload == -1:
            return graph.apply("neg", a)
        # (-a)*b is -(a*b) exactly: the sign moves out, where a sum can absorb it (x - y).
        if a.op == "neg":
            return graph.apply("neg", graph.apply("mul", a.args[0], b))
        if b.op == "neg":
            return graph.apply("neg", graph.apply("mul", a, b.args[0]))
        if a is b:
            # a*a is a^2 exactly (pow's forward and printers compute a^2 as a*a): reuse the
            # forward's square, as tanh(x)^2's gradient 1 - t*t does.
            two = graph._integers.get(2)
            square = two is not None and graph._table.get(("pow", a.index, two.index))
            if square:
                return square
    elif op == "add":
        a, b = args
        if _is(a, 0):
            return b
        if _is(b, 0):
            return a
        if b.op == "neg":
            return graph.apply("sub", a, b.args[0])
        if a.op == "neg":
            return graph.apply("sub", b, a.args[0])
    elif op == "sub":
        a, b = args
        if _is(b, 0):
            return a
        if _is(a, 0):
            return graph.apply("neg", b)
        if b.op == "neg":
            return graph.apply("add", a, b.args[0])
        if a.op == "neg":
            return graph.apply("neg", graph.apply("add", a.args[0], b))   # -a - b = -(a + b)
    elif op == "div":
        if _is(args[1], 1):
            return args[0]
    elif op == "neg":
        if args[0].op == "neg":
            return args[0].args[0]
    elif op == "pow":
        if _is(args[1], 1):
            return args[0]
    elif op == "dpow":
        a, b = args
        if b.op == "const":
            # dpow(a, c) is c*a^(c-1) for a constant c (0 for c = 0, by dpow's definition):
            # x^3's slope prints as 3*x^2, not as dpow's general form.  c - 1 is taken from
            # c's double, as every float path computes it (the double's exact value minus 1
            # rounds as IEEE subtraction does): an exact c of 1 + 4.9e-324 is the double 1.0,
            # whose slope exponent is 0, not 4.9e-324.
            c = b.payload
            if c.numerator == 0:
                return b
            if c.denominator == 1 and abs(c.numerator) <= 2 ** 53:
                c_minus_1 = c.numerator - 1     # an integer the double holds exactly
            else:
                c_minus_1 = Fraction(float(c)) - 1
            return graph.apply("mul", b, graph.apply("pow", a, graph.const(c_minus_1)))
    elif op == "gate":
        if args[0].op == "const":
            # gate(c, x) = c if x > 0 else 0.0*c = c*step(x), exactly; relu's gradient with a
            # constant seed (relu at the output) then prints as step(x), not "0.0 * 1.0".
            return graph.apply("mul", args[0], graph.apply("step", args[1]))
    return None

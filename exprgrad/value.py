"""`Value`: a micrograd-compatible scalar autograd engine, driven by the op registry.

A `Value` holds ``data``, ``grad``, its arguments and its op (an `ops.Op`); there are no
per-node closures: `backward` runs each op's derivative rules from the registry on floats.
`backward` collects the graph with an explicit stack and orders it by creation stamp, so a chain
of 100,000 nodes works where micrograd's recursive ``build_topo`` overflows.

Speed (benchmarks W1, W2): ``+ - *`` build their node inline, and the backward sweep is one
loop whose body holds every op's rules inline — generated at import by tracing the registry's
rules once (`_build_sweep`), so the rules are still written only in ops.py.

>>> a = Value(-2.0, label='a'); b = Value(3.0, label='b')
>>> f = (a * b) * (a + b); f.backward()
>>> a.grad, b.grad
(-3.0, -8.0)
"""
from __future__ import annotations

import itertools
import operator
from types import SimpleNamespace
from typing import Iterable

from .errors import DomainError
from .interpret import domain_error, failure
from .ops import FLOAT_ERRORS, FLOAT_MATH, FUNCTIONS, OPS, Op
from .rules import forwards, traced_terms

_BY_SYMBOL = {o.symbol: o for o in OPS.values()}
# Creation stamps: a node is always created after its arguments, so sorting the nodes of a
# graph by stamp is a topological order (`topo` needs no recursion and no post-order stack).
_tick = itertools.count().__next__
_stamp = operator.attrgetter("_seq")


class Value:
    """A scalar in a computation graph.  ``Value(data, _children=(), _op='', label='')``."""

    __slots__ = ("data", "grad", "_args", "_fn", "label", "_const", "_seq")

    def __init__(self, data, _children: Iterable["Value"] = (), _op: str | Op = "",
                 label: str = ""):
        self.data = float(data)
        self.grad = 0.0
        self.label = label
        self._const = False    # True for numbers lifted into Values by an operator
        self._seq = _tick()
        if _children or _op:
            args = tuple(_children)
            if isinstance(_op, str) and _op.startswith("**") and len(args) == 1:
                # The lecture's __pow__ writes Value(x.data**k, (x,), f'**{k}'): the
                # exponent travels in the op string, and pow takes it as a constant argument.
                args, _op = (args[0], _const(_exponent(_op))), "**"
            self._args = args
            self._fn = _lookup(_op, len(self._args))
        else:
            self._args = ()
            self._fn = None

    # ---- micrograd's attributes -------------------------------------------------------------

    @property
    def _prev(self) -> set:
        """The distinct children (micrograd keeps a set; `_args` keeps order and repeats)."""
        return set(self._args)

    @property
    def _op(self) -> str:
        return self._fn.symbol if self._fn is not None else ""

    def __repr__(self) -> str:
        return f"Value(data={self.data}, grad={self.grad})"

    # Notebooks show a Value as the picture of its graph (draw.py; text if Graphviz is missing).
    def _repr_mimebundle_(self, include=None, exclude=None):
        from .draw import mimebundle
        return mimebundle(self, include, exclude)

    def _repr_svg_(self):
        return self._repr_mimebundle_(include=("image/svg+xml",)).get("image/svg+xml")

    # ---- building ---------------------------------------------------------------------------

    def _apply(self, name: str, *others) -> "Value":
        args = (self, *map(as_value, others))
        fn = OPS[name]
        try:
            data = fn.fwd(*[a.data for a in args])
        except FLOAT_ERRORS as exc:
            raise _domain_error(fn, args, exc) from None
        return _node(data, args, fn)

    # +, - and * are the hot path of micrograd-style code: they inline the registry's forward
    # (operator.add/sub/mul, checked at import below) and build the node without a call.
    def __add__(self, other):
        if other.__class__ is not Value:
            other = as_value(other)
        out = _new(Value)
        out.data, out.grad, out._args, out._fn = self.data + other.data, 0.0, (self, other), _ADD
        out.label, out._const, out._seq = "", False, _tick()
        return out

    def __radd__(self, other):
        other = as_value(other)
        out = _new(Value)
        out.data, out.grad, out._args, out._fn = other.data + self.data, 0.0, (other, self), _ADD
        out.label, out._const, out._seq = "", False, _tick()
        return out

    def __sub__(self, other):
        if other.__class__ is not Value:
            other = as_value(other)
        out = _new(Value)
        out.data, out.grad, out._args, out._fn = self.data - other.data, 0.0, (self, other), _SUB
        out.label, out._const, out._seq = "", False, _tick()
        return out

    def __rsub__(self, other):
        other = as_value(other)
        out = _new(Value)
        out.data, out.grad, out._args, out._fn = other.data - self.data, 0.0, (other, self), _SUB
        out.label, out._const, out._seq = "", False, _tick()
        return out

    def __mul__(self, other):
        if other.__class__ is not Value:
            other = as_value(other)
        out = _new(Value)
        out.data, out.grad, out._args, out._fn = self.data * other.data, 0.0, (self, other), _MUL
        out.label, out._const, out._seq = "", False, _tick()
        return out

    def __rmul__(self, other):
        other = as_value(other)
        out = _new(Value)
        out.data, out.grad, out._args, out._fn = other.data * self.data, 0.0, (other, self), _MUL
        out.label, out._const, out._seq = "", False, _tick()
        return out

    def __pos__(self): return self

    def log(self, base=None) -> "Value":
        """Natural logarithm, or ``log(x, base) = log(x)/log(base)`` as in the language."""
        args = (self,) if base is None else (self, base)
        return FUNCTIONS["log"].build(VALUE_MATH, *args)

    # ---- backward ---------------------------------------------------------------------------

    def topo(self) -> list["Value"]:
        """Every node of the graph below `self`, children before parents (no recursion)."""
        seen = {self}
        stack = [self]
        while stack:
            for child in stack.pop()._args:
                if child not in seen:
                    seen.add(child)
                    if child._args:
                        stack.append(child)
        return sorted(seen, key=_stamp)

    def backward(self) -> None:
        """Reverse-mode sweep: d self / d node accumulates (+=) into every ``node.grad``.

        The derivative rules are the registry's (`Op.rules`), run on floats by `_sweep`.  Only
        op nodes are visited (leaves pass nothing on), in reverse creation order.
        """
        seen = {self}
        stack = [self]
        while stack:
            for child in stack.pop()._args:
                if child._args and child not in seen:
                    seen.add(child)
                    stack.append(child)
        self.grad = 1.0
        if self._args:
            _sweep(sorted(seen, key=_stamp, reverse=True))


def _node(data: float, args: tuple, fn: Op) -> Value:
    """A new op node (`Value.__init__` without its argument checks: the hot path)."""
    out = _new(Value)
    out.data = data
    out.grad = 0.0
    out._args = args
    out._fn = fn
    out.label = ""
    out._const = False
    out._seq = _tick()
    return out


def _const(x) -> Value:
    """A number lifted into the graph: a leaf that needs no gradient."""
    v = Value(x)
    v._const = True
    return v


_new = object.__new__


def _binary(name: str, reflected: bool = False):
    """A specialised operator method (``__truediv__``, ``__rpow__``, ...) for the registry op
    `name`: the same forward and rules as `_apply`, without its generic argument handling."""
    fn = OPS[name]
    fwd = fn.fwd

    def method(self, other):
        if other.__class__ is not Value:
            other = as_value(other)
        a, b = (other, self) if reflected else (self, other)
        try:
            data = fwd(a.data, b.data)
        except FLOAT_ERRORS as exc:
            raise _domain_error(fn, (a, b), exc) from None
        out = _new(Value)
        out.data, out.grad, out._args, out._fn = data, 0.0, (a, b), fn
        out.label, out._const, out._seq = "", False, _tick()
        return out

    method.__name__ = f"__{'r' if reflected else ''}{name}__"
    return method


def _unary(name: str):
    """A specialised method for the one-argument registry op `name` (``tanh``, ``__neg__``...)."""
    fn = OPS[name]
    fwd = fn.fwd

    def method(self):
        try:
            data = fwd(self.data)
        except FLOAT_ERRORS as exc:
            raise _domain_error(fn, (self,), exc) from None
        out = _new(Value)
        out.data = data
        out.grad = 0.0
        out._args = (self,)
        out._fn = fn
        out.label = ""
        out._const = False
        out._seq = _tick()
        return out

    method.__name__ = name
    method.__qualname__ = f"Value.{name}"
    method.__doc__ = f"{name} of this value"
    return method


def as_value(x) -> Value:
    """`x` itself if it is a Value, else the number lifted into a constant leaf."""
    return x if isinstance(x, Value) else _const(x)


_ADD, _SUB, _MUL = OPS["add"], OPS["sub"], OPS["mul"]
assert (_ADD.fwd, _SUB.fwd, _MUL.fwd) == (operator.add, operator.sub, operator.mul), \
    "Value.__add__/__sub__/__mul__ inline these forwards: update them with the registry"

# The other operators → registry ops.
for _dunder, _name in (("truediv", "div"), ("pow", "pow")):
    setattr(Value, f"__{_dunder}__", _binary(_name))
    setattr(Value, f"__r{_dunder}__", _binary(_name, reflected=True))
Value.__neg__ = _unary("neg")
Value.__abs__ = _unary("abs")


def _method(name: str):
    def method(self, *others):
        return self._apply(name, *others)
    method.__name__ = name
    method.__qualname__ = f"Value.{name}"
    method.__doc__ = f"{name} of this value" + (" and the others" if OPS[name].arity > 1 else "")
    return method


# One method per function of the language (tanh, exp, relu, max, ...), read from the registry.
for _name, _op in OPS.items():
    if _op.public and _name not in Value.__dict__:
        setattr(Value, _name, _unary(_name) if _op.arity == 1 else _method(_name))


#: `m` for rules written with it (`ops.Builtin.build`), building `Value` nodes
VALUE_MATH = SimpleNamespace(**{
    name: (lambda *xs, _n=name: as_value(xs[0])._apply(_n, *xs[1:])) for name in OPS})


def _variadic(name: str):
    build = FUNCTIONS[name].build

    def method(self, *others):
        return build(VALUE_MATH, self, *others)
    method.__name__ = name
    method.__qualname__ = f"Value.{name}"
    method.__doc__ = (f"{name} of this value and any number of others, as the language's "
                      f"{name}(a, b, ...) computes it (the same build, ops.FUNCTIONS)")
    return method


# The language's functions of any number of arguments (max, min, logsumexp): a.max(b, c) is
# max(a, b, c), built by the registry's own desugaring (a left fold of the binary op).
for _name, _builtin in FUNCTIONS.items():
    if _builtin.variadic and not _builtin.multi:
        setattr(Value, _name, _variadic(_name))


def _exponent(op: str) -> float:
    try:
        return float(op[2:])
    except ValueError:
        raise ValueError(f"unknown op {op!r}: '**' and a number (micrograd's '**2') "
                         "or '**' with two children") from None


def _lookup(op, nargs: int) -> Op:
    if isinstance(op, Op):
        return op
    found = OPS.get(op) or _BY_SYMBOL.get(op)
    if found is None or found.arity != nargs:
        raise ValueError(f"unknown op {op!r} for {nargs} children; known: "
                         f"{', '.join(sorted(OPS))}")
    return found


def _domain_error(fn: Op, args, exc: Exception, what: str = "") -> DomainError:
    labels = [a.label for a in args if a.label]
    named = f" (inputs {', '.join(labels)})" if labels else ""
    return DomainError(failure(fn.name, [a.data for a in args], exc, what) + named)


# ---- the backward sweep, specialised from the registry's rules ---------------------------------
#
# One loop whose body holds every op's rules inline, traced from the registry (rules.py); an
# op whose rules cannot be traced (they branch on values, say) runs its rules as calls.

# The most frequent ops of micrograd-style graphs are tested first.
_HOT = ("add", "mul", "sub", "tanh", "relu", "pow", "neg", "div", "exp", "log", "sigmoid")


def _op_body(name: str, op: Op) -> list[str] | None:
    """Source lines that propagate a node's gradient to its arguments, or None."""
    terms = traced_terms(op)
    if terms is None:
        return None
    used = " ".join(terms)
    lines = ["a0, = node._args" if op.arity == 1 else
             f"{', '.join(f'a{i}' for i in range(op.arity))} = node._args"]
    lines += [f"x{i} = a{i}.data" for i in range(op.arity) if f"x{i}" in used]
    if "out" in used:
        lines.append("out = node.data")
    lines += [f"if not a{i}._const:\n    a{i}.grad += {t}" for i, t in enumerate(terms)]
    return lines


def _build_sweep():
    env = {"_FLOAT_ERRORS": FLOAT_ERRORS, "_domain_error": _domain_error, "_m": FLOAT_MATH,
           **forwards()}
    names = [n for n in _HOT if n in OPS] + sorted(n for n in OPS if n not in _HOT)
    branches = []
    for name in names:
        op = OPS[name]
        body = _op_body(name, op) if op.arity else None
        if body is None:
            continue
        env[f"_op_{name}"] = op
        keyword = "if" if not branches else "elif"
        branches.append(f"{keyword} fn is _op_{name}:")
        branches += ["    " + line.replace("\n", "\n    ") for line in body]
    generic = ["xs = [a.data for a in node._args]",
               "for arg, rule in zip(node._args, fn.rules):",
               "    if not arg._const:",
               "        arg.grad += rule(_m, g, node.data, *xs)"]
    branches += ["else:"] + ["    " + line for line in generic]
    loop = "\n".join("            " + line.replace("\n", "\n            ")
                     for line in branches)
    source = f"""def _sweep(order):
    node = None
    try:
        for node in order:
            fn = node._fn
            g = node.grad
{loop}
    except _FLOAT_ERRORS as exc:
        err = _domain_error(node._fn, node._args, exc, "the derivative of ")
        err.node, err.reason = node, exc     # value_graph's callers map it to the source
        raise err from None
"""
    exec(compile(source, "<exprgrad.value: backward sweep>", "exec"), env)  # safe: source built from the registry's rules only, never user text
    env["_sweep"].source = source
    return env["_sweep"]


_sweep = _build_sweep()


def value_graph(graph, point: dict[str, float], origins: dict | None = None) -> Value:
    """Build the `Value` DAG of an IR graph at `point` (forward done, backward not).

    `origins`, if given, receives ``id(value) -> IR node`` for every op node, so that an error
    in `backward` can be named against the source (`backward_named`).
    """
    values: list = [None] * len(graph.nodes)
    for node in graph.order():
        if node.op == "var":
            v = Value(point[node.payload], label=node.payload)
        elif node.op == "const":
            v = _const(float(node.payload))
        else:
            args = tuple([values[a.index] for a in node.args])
            fn = OPS[node.op]
            try:
                data = fn.fwd(*[a.data for a in args])
            except FLOAT_ERRORS as exc:    # named against the node in the source text
                raise domain_error(graph, node, [a.data for a in args], exc) from None
            v = _node(data, args, fn) if args else _nullary(node.op)
            # A node of constants is a constant (the gradient pass's `activity`): backward
            # passes it nothing, so asin(tanh(100)) + x has d/dx = 1, not asin'(1) = inf.
            v._const = v._const or all(a._const for a in args)
            v.label = graph.labels.get(node, "")
            if origins is not None:
                origins[id(v)] = node
        values[node.index] = v
    return values[graph.output.index]


def _nullary(name: str) -> Value:
    v = _const(OPS[name].fwd())
    v.label = name
    return v


def backward_named(graph, point: dict[str, float]) -> Value:
    """`value_graph` + `backward`; a derivative that is undefined at the point raises the
    `DomainError` that names its node in the source, with a caret."""
    origins: dict = {}
    root = value_graph(graph, point, origins)
    try:
        root.backward()
    except DomainError as err:
        node = origins.get(id(getattr(err, "node", None)))
        if node is None:
            raise
        raise domain_error(graph, node, [a.data for a in err.node._args], err.reason,
                           "the derivative of ") from None
    return root

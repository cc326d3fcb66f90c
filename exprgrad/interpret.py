"""The float interpreter: a `Graph` and a point → the value of every node.

Input: a graph (from `lower`, a pass, or `trace`) and ``{variable: number}``.  `check_values`
validates the point (every variable given, none unknown, each a real number) and `evaluate`
runs each op's float forward from the registry in one loop over ``graph.order()``.  An op that
fails (``log(-1)``, ``1/0``) becomes a `DomainError` naming the node, its arguments and its
source text with a caret (`domain_error`); `failure` is the head of that message, shared with
the `Value` engine so both paths word it alike.

>>> from exprgrad.lower import lower
>>> from exprgrad.parse import parse
>>> g = lower(parse("n = x*w; o = tanh(n)"))
>>> evaluate(g, check_values(g, {"x": 1, "w": 0.5}))[g.output.index] == math.tanh(0.5)
True
"""
from __future__ import annotations

import math
from fractions import Fraction

from .errors import DomainError, VariableError
from .ir import Graph, Node
from .ops import FLOAT_ERRORS, OPS

def check_values(graph: Graph, values: dict) -> dict[str, float]:
    """Validate a point: every variable given, no unknown names, every value a real number."""
    check_names(graph, values)
    return {name: number(name, values[name]) for name in graph.variables}


def check_names(graph: Graph, values: dict) -> None:
    """Every variable given a value, and no value for a name that is not a variable."""
    missing = [v for v in graph.variables if v not in values]
    unknown = sorted(set(values) - set(graph.vars))
    if unknown:
        hint = f"; the variables are {', '.join(graph.variables) or '(none)'}"
        raise VariableError(f"unknown variable{'s' if len(unknown) > 1 else ''} "
                            f"{', '.join(unknown)}{hint}")
    if missing:
        raise VariableError(f"missing value{'s' if len(missing) > 1 else ''} for "
                            f"{', '.join(missing)}")


def is_array(value) -> bool:
    """An argument that makes a call an array call (arrays.py): a list or tuple, or an object
    with a shape other than ``()`` (0-d arrays and numpy scalars are numbers), or any Dask
    array.  Here, not in arrays.py, so that a call with numbers never imports numpy."""
    if isinstance(value, (list, tuple)):
        return True
    shape = getattr(value, "shape", None)
    if shape is None:
        return False
    return tuple(shape) != () or is_dask(value)


# Values of these types are numbers: `any_array` asks nothing more of them (a call with
# thirty floats spent 6 µs in `is_array`, a first `f.grad` at W4 n = 10 about 80 µs in all).
_PLAIN = frozenset({float, int})


def any_array(args, values: dict) -> bool:
    if _PLAIN.issuperset(map(type, values.values())) and _PLAIN.issuperset(map(type, args)):
        return False
    return any(map(is_array, args)) or any(map(is_array, values.values()))


def scalar(value) -> float:
    """A value on the scalar path: ``float(value)``, but a TypeError for an array (see
    `is_array`), which float() would turn into a number when it holds one element."""
    if is_array(value):
        raise TypeError(f"a {type(value).__name__} is an array, not a number")
    return float(value)


def is_dask(value) -> bool:
    return type(value).__module__.split(".", 1)[0] == "dask"


def number(name: str, given) -> float:
    """The value of variable `name` as a float; a VariableError naming it if it is none."""
    value = given
    if isinstance(value, bool) or not isinstance(value, (int, float, Fraction)):
        try:
            value = float(value)
        except (TypeError, ValueError, OverflowError):
            raise VariableError(f"value of {name} must be a number, got {given!r}") from None
    try:
        return float(value)
    except OverflowError:
        raise VariableError(f"value of {name} is too large for a float: {given!r:.40}") from None


def evaluate(graph: Graph, point: dict[str, float], nodes: list[Node] | None = None,
             fixed: dict[int, float] | None = None) -> list:
    """Float value of every node in `nodes` (default: all reachable), indexed by node.index;
    `fixed` gives some nodes (by index) their value instead (precision.py asks what the result
    would be had one node been exact)."""
    vals: list = [None] * len(graph.nodes)
    for node in graph.order() if nodes is None else nodes:
        if fixed and node.index in fixed:
            vals[node.index] = fixed[node.index]
        elif node.op == "var":
            vals[node.index] = point[node.payload]
        elif node.op == "const":
            vals[node.index] = float(node.payload)
        else:
            args = [vals[a.index] for a in node.args]
            try:
                vals[node.index] = OPS[node.op].fwd(*args)
            except FLOAT_ERRORS as exc:
                raise domain_error(graph, node, args, exc) from None
    return vals


def undefined(graph: Graph, vals: list, nodes: list[Node]) -> DomainError | None:
    """The error for the first of `nodes` (evaluated, in order) whose value is not finite
    although its arguments are (a nan or an overflow the float forward let through), naming
    it with its caret; None when every value is finite."""
    for node in nodes:
        v = vals[node.index]
        if v is None or math.isfinite(v) or not node.args:
            continue
        args = [vals[a.index] for a in node.args]
        if all(math.isfinite(a) for a in args):
            exc = OverflowError() if math.isinf(v) else ValueError()
            return domain_error(graph, node, args, exc)
    return None


def check_constants(graph: Graph) -> None:
    """DomainError if a part of the program that no variable reaches is undefined
    (``1/0 + x``, ``log(0)*0 + x``): the program is then undefined at every point, and its
    closed form would read ``zoo`` or ``nan``.  A constant past the range of a double
    (``2^20000``) is not undefined: its closed form is exact, only floats overflow."""
    free: set[int] = set()
    vals: list = [None] * len(graph.nodes)
    for node in graph.order():
        if node.op == "var" or any(a.index in free for a in node.args):
            free.add(node.index)
        elif node.op == "const":
            vals[node.index] = float(node.payload)
        else:
            args = [vals[a.index] for a in node.args]
            if not all(math.isfinite(a) for a in args):
                free.add(node.index)            # beyond floats: nothing more to learn
                continue
            try:
                vals[node.index] = OPS[node.op].fwd(*args)
            except OverflowError:
                free.add(node.index)
            except FLOAT_ERRORS as exc:
                raise domain_error(graph, node, args, exc) from None
            if vals[node.index] != vals[node.index]:
                raise domain_error(graph, node, args, ValueError())


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
    if what and isinstance(exc, OverflowError):
        # A value computed on the way, not necessarily the slope: x^x's slope x*x^(x-1) is
        # about 1 at x = 5e-324, where x^(x-1) is 2e323 (README's numeric policy).
        return f"{what}{call} overflows: a value in its computation is beyond the largest double"
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


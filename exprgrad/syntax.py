"""The AST: what the parser builds and the lowering reads.

Dataclasses, one per construct, each knowing where it came from: ``line``/``column`` (1-based)
and ``start``/``end`` (0-based offsets, end exclusive), and ``span``, the `errors.Span` of those
four numbers.  Nodes are treated as immutable; only the parser creates them.

Why not frozen, and why no `Span` object inside: a parse creates about one node per token, and
the frozen dataclass ``__init__`` (one ``object.__setattr__`` per field) plus a `Span` per node
cost four times the plain slotted ``__init__`` used here, and twice the memory (see
benchmarks/parse_speed.py).  ``span`` is built when it is asked for.

They compare by identity (``eq=False``): a generated ``__eq__``/``__repr__`` would recurse, and a
100,000-deep tree would overflow the stack.  Structural comparison is `dump` (iterative).
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from .errors import Span


_REPR_CHARS = 300       # repr() of an AST node shows about this much of its structure


@dataclass(eq=False, repr=False, slots=True)
class Node:
    line: int                     # where the construct starts (1-based line and column)
    column: int
    start: int                    # its offsets in the source text: [start, end)
    end: int

    @property
    def span(self) -> Span:
        return Span(self.line, self.column, self.start, self.end)

    def __repr__(self) -> str:    # iterative and cut short: a deep tree cannot overflow it
        return f"{dump(self, limit=_REPR_CHARS)} at {self.line}:{self.column}"


@dataclass(eq=False, repr=False, slots=True)
class Num(Node):
    value: Fraction               # exact value of the literal
    text: str                     # as written


@dataclass(eq=False, repr=False, slots=True)
class Name(Node):
    id: str


@dataclass(eq=False, repr=False, slots=True)
class Unary(Node):
    op: str                       # "neg" or "pos"
    operand: Node


@dataclass(eq=False, repr=False, slots=True)
class Binary(Node):
    op: str                       # "add" "sub" "mul" "div" "pow" (registry keys)
    left: Node
    right: Node


@dataclass(eq=False, repr=False, slots=True)
class Call(Node):
    func: Name
    args: tuple


@dataclass(eq=False, repr=False, slots=True)
class Tuple(Node):
    items: tuple                  # expressions separated by commas: outputs, or names assigned


@dataclass(eq=False, repr=False, slots=True)
class Assign(Node):
    target: Node                  # a Name, or a Tuple of Names
    value: Node                   # an expression, or a Tuple of them


@dataclass(eq=False, repr=False, slots=True)
class FuncDef(Node):
    name: Name
    params: tuple                 # of Name
    body: Node


@dataclass(eq=False, repr=False, slots=True)
class Program(Node):
    statements: tuple


def children(node: Node) -> tuple:
    """The direct sub-nodes of `node`, in source order."""
    if isinstance(node, Unary):
        return (node.operand,)
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, Call):
        return node.args
    if isinstance(node, Tuple):
        return node.items
    if isinstance(node, Assign):
        return (node.target, node.value)
    if isinstance(node, FuncDef):
        return (node.name, *node.params, node.body)
    if isinstance(node, Program):
        return node.statements
    return ()


def dump(node: Node, limit: int | None = None) -> str:
    """A structural, span-free rendering (iterative), for tests and debugging; with `limit`,
    cut after about that many characters (ending in "…").

    >>> from exprgrad.parse import parse
    >>> dump(parse("-x^2"))
    'Program(Unary(neg, Binary(pow, Name(x), Num(2))))'
    >>> parse("x*y + 1")
    Program(Binary(add, Binary(mul, Name(x), Name(y)), Num(1))) at 1:1
    """
    out: list[str] = []
    stack: list = [node]
    size = 0
    while stack:
        if limit is not None and size > limit:
            out.append("…")
            break
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)
            size += len(item)
            continue
        name = type(item).__name__
        if isinstance(item, Num):
            out.append(f"Num({item.text})")
            size += len(item.text) + 5
        elif isinstance(item, Name):
            out.append(f"Name({item.id})")
            size += len(item.id) + 6
        else:
            head = {Unary: lambda n: n.op, Binary: lambda n: n.op,
                    Call: lambda n: n.func.id}.get(type(item))
            parts = ([head(item)] if head else []) + list(children(item))
            out.append(f"{name}(")
            size += len(name) + 1
            pending: list = []
            for i, part in enumerate(parts):
                if i:
                    pending.append(", ")
                pending.append(part)
            pending.append(")")
            stack.extend(reversed(pending))
    text = "".join(out)
    return text if limit is None or len(text) <= limit + 1 else text[:limit] + "…"

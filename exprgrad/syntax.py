"""The AST: what the parser builds and the lowering reads.

Frozen dataclasses, one per construct, each with the `Span` it came from.  They compare by
identity (``eq=False``): a generated ``__eq__``/``__hash__``/``__repr__`` would recurse, and a
100,000-deep tree would overflow the stack.  Structural comparison is `dump` (iterative).
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from .errors import Span


@dataclass(frozen=True, eq=False, repr=False)
class Node:
    span: Span

    def __repr__(self) -> str:    # shallow on purpose: never descends into children
        return f"<{type(self).__name__} at {self.span.line}:{self.span.column}>"


@dataclass(frozen=True, eq=False, repr=False)
class Num(Node):
    value: Fraction               # exact value of the literal
    text: str                     # as written


@dataclass(frozen=True, eq=False, repr=False)
class Name(Node):
    id: str


@dataclass(frozen=True, eq=False, repr=False)
class Unary(Node):
    op: str                       # "neg" or "pos"
    operand: Node


@dataclass(frozen=True, eq=False, repr=False)
class Binary(Node):
    op: str                       # "add" "sub" "mul" "div" "pow" (registry keys)
    left: Node
    right: Node


@dataclass(frozen=True, eq=False, repr=False)
class Call(Node):
    func: Name
    args: tuple


@dataclass(frozen=True, eq=False, repr=False)
class Assign(Node):
    target: Name
    value: Node


@dataclass(frozen=True, eq=False, repr=False)
class FuncDef(Node):
    name: Name
    params: tuple                 # of Name
    body: Node


@dataclass(frozen=True, eq=False, repr=False)
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
    if isinstance(node, Assign):
        return (node.target, node.value)
    if isinstance(node, FuncDef):
        return (node.name, *node.params, node.body)
    if isinstance(node, Program):
        return node.statements
    return ()


def dump(node: Node) -> str:
    """A structural, span-free rendering (iterative), for tests and debugging.

    >>> from exprgrad.parse import parse
    >>> dump(parse("-x^2"))
    'Program(Unary(neg, Binary(pow, Name(x), Num(2))))'
    """
    out: list[str] = []
    stack: list = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)
            continue
        name = type(item).__name__
        if isinstance(item, Num):
            out.append(f"Num({item.text})")
        elif isinstance(item, Name):
            out.append(f"Name({item.id})")
        else:
            head = {Unary: lambda n: n.op, Binary: lambda n: n.op,
                    Call: lambda n: n.func.id}.get(type(item))
            parts = ([head(item)] if head else []) + list(children(item))
            out.append(f"{name}(")
            pending: list = []
            for i, part in enumerate(parts):
                if i:
                    pending.append(", ")
                pending.append(part)
            pending.append(")")
            stack.extend(reversed(pending))
    return "".join(out)

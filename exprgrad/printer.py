"""The IR printer: a `Graph` → exprgrad text, with minimal parentheses.

Input: a graph.  Output: program text that the grammar reads back to the same structure
(`pretty`: one statement per labelled node; `format_expr`: one expression), constants as exact
decimals (`const_text`).  Precedence comes from the registry's one table (`ops.PREC_*`).  Every
walk uses an explicit stack, so a 100,000-deep chain prints.

>>> from exprgrad.lower import lower
>>> from exprgrad.parse import parse
>>> print(pretty(lower(parse("n = x*w + x*w; o = tanh(n)"))))
n = x*w + x*w
o = tanh(n)
"""
from __future__ import annotations

from fractions import Fraction

from .ir import Graph, Node
from .ops import OPS, PREC_ADD, PREC_NEG

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
            text = const_text(n.payload)
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


def const_text(value: Fraction) -> str:
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

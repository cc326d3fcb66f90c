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

from . import limits
from .ir import Graph, Node
from .ops import OPS, PREC_ADD, PREC_NEG

def pretty(graph: Graph, max_inline: int | None = None, names: dict | None = None) -> str:
    """The graph as exprgrad text: one statement per labelled node, minimal parentheses.

    Shared, unlabelled nodes are written inline (as in the source) unless inlining would make
    the text much larger than the graph; then they get statements of their own (``_t1 = ...``).
    `names` (node → name) overrides that choice: exactly those nodes get statements.
    """
    order = graph.order()
    named = statement_names(graph, max_inline) if names is None else names
    lines = []
    for n in order:
        if n in named:
            lines.append(f"{named[n]} = {format_expr(n, named, root=n)}")
    several = len(graph.outputs) > 1
    for out, name in zip(graph.outputs, graph.output_names or ["f"]):
        if named.get(out) == name or (several and out.op == "var" and out.payload == name):
            continue           # the name already holds this output
        text = format_expr(out, named, root=None if out in named else out)
        lines.append(f"{name} = {text}" if several or out in named else text)
    if several:                # the last statement names the outputs: "p = ...; q = ...; p, q"
        lines.append(", ".join(graph.output_names))
    return "\n".join(lines)


def statement_names(graph: Graph, max_inline: int | None = None) -> dict:
    """The nodes that `pretty` writes as statements, with their names: the labelled ones, and
    every shared op node (``_t1``, ``_t2``, ...) when inlining would write more than
    `max_inline` nodes (default 8 per node of the graph, plus 1,000)."""
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
        fresh = fresh_names(set(graph.vars) | set(named.values()))
        for n in order:
            if uses[n.index] > 1 and n.args and n not in named:
                named[n] = next(fresh)
    return named


def fresh_names(taken: set):
    """``_t1, _t2, ...``, skipping the names in `taken`."""
    counter = 0
    while True:
        counter += 1
        if f"_t{counter}" not in taken:
            yield f"_t{counter}"


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
            # Left-associative operators need a tighter right operand; a right-associative
            # one (^) a tighter left one, and its exponent may be a unary minus (2^-1), as
            # the grammar reads it: the rule codegen's backends follow (`infix_template`).
            lhs_need, rhs_need = ((op.prec + 1, PREC_NEG) if op.right_assoc
                                  else (op.prec, op.prec + 1))
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
    """Text the parser reads back to exactly `value`: the decimal where one exists with at
    most `limits.MAX_LITERAL_DIGITS` significant digits (every literal has one), else the
    quotient of two integers.  Constants are bounded (literals by that limit, folded ones by
    `limits.MAX_CONSTANT_BITS`), so no conversion here meets Python's 4,300-digit limit and
    both integers of a quotient are literals a double can hold.

    >>> const_text(Fraction(1, 8)), const_text(Fraction(1, 3)), const_text(Fraction(10)**300)
    ('0.125', '(1/3)', '1e300')
    """
    text = decimal_text(value)
    return text if text is not None else f"({value.numerator}/{value.denominator})"


def decimal_text(value: Fraction) -> str | None:
    """`value` as a decimal literal, or None when it has none within the literal limits."""
    num, den = value.numerator, value.denominator
    if den == 1:
        if num.bit_length() > 1024:     # beyond the largest double: no literal writes it
            return None
        text = str(num)
        zeros = len(text) - len(text.rstrip("0"))
        return f"{text[:-zeros]}e{zeros}" if zeros > 20 else text
    # A literal's denominator is at most 10^(digits + 324): give up on anything bigger
    # before any slow arithmetic on it.
    if den.bit_length() > (limits.MAX_LITERAL_DIGITS + 330) / _LOG10_2:
        return None
    as_float = float(value)
    if Fraction(repr(as_float)) == value:
        return repr(as_float)
    twos = (den & -den).bit_length() - 1
    rest, fives = den >> twos, 0
    while rest % 5 == 0:
        rest, fives = rest // 5, fives + 1
    places = max(twos, fives)
    # Significant digits of the decimal, from the sizes: num * 10^places / den.
    size = (abs(num).bit_length() - den.bit_length()) * _LOG10_2 + places
    if rest != 1 or size > limits.MAX_LITERAL_DIGITS:
        return None
    digits = str(abs(num) * 10 ** places // den)
    sign = "-" if value < 0 else ""
    if places > 20:            # 1e-300 rather than 0.000...0001 (still exact)
        significant = digits.rstrip("0")
        return f"{sign}{significant}e-{places - (len(digits) - len(significant))}"
    digits = digits.rjust(places + 1, "0")
    return f"{sign}{digits[:-places]}.{digits[-places:]}"


_LOG10_2 = 0.30103

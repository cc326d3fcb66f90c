"""Precision of the float forward: a graph and a point → the digits it lost, where, and the fix.

Input: a forward `Graph`, a point, and the 30-digit value of every node (`symbolic.node_values`,
computed from the point's exact binary values).  Output: a `Loss` — how many of its 16
significant digits the float forward's result lost at the point, the subexpression where the
loss happened (the first node, in evaluation order, that lost nearly the most digits: the
cause, not a node that merely inherits it), and, when that node or one of the two levels of
callers above it matches a pattern of `STABLE_FORMS`, the numerically stable form to write
instead.  The check uses it to say why a finite difference cannot be trusted (finite
differences of a forward that lost digits differentiate its rounding noise).

The table is data, written in exprgrad's own syntax: single-letter names are placeholders that
match any subexpression (the same letter, the same subexpression), ``+`` and ``*`` match either
order of their arguments.

>>> suggest_text("log(1 - sigmoid(w*x + b))")
('log(1 - sigmoid(w*x + b))', '-softplus(w*x + b)')
>>> suggest_text("sqrt(a^2 + (b - c)^2)")
('sqrt(a^2 + (b - c)^2)', 'hypot(a, b - c)')
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

from .errors import DomainError, shorten
from .interpret import evaluate
from .ir import COMMUTATIVE, Graph, Node
from .ops import OPS

#: unstable form → stable form (the same function, computed without cancellation or overflow)
STABLE_FORMS: tuple[tuple[str, str], ...] = (
    ("log(1 - sigmoid(z))", "-softplus(z)"),
    ("log(sigmoid(z))", "-softplus(-z)"),
    ("1 - sigmoid(z)", "sigmoid(-z)"),
    ("log(1 + exp(x))", "softplus(x)"),
    ("log(exp(a) + exp(b))", "logaddexp(a, b)"),
    ("log(1 + x)", "log1p(x)"),
    ("log(1 - x)", "log1p(-x)"),
    ("exp(x) - 1", "expm1(x)"),
    ("1 - exp(x)", "-expm1(x)"),
    ("sqrt(x^2 + y^2)", "hypot(x, y)"),
    ("sqrt(x*x + y*y)", "hypot(x, y)"),
    ("1/(1 + exp(-x))", "sigmoid(x)"),
)

#: a loss of fewer digits than this in the result is ordinary rounding and not reported
LOSS_DIGITS = 6
_DIGITS = 53 * math.log10(2)            # a double's significant digits (≈ 15.95)
_CALLERS = 2                            # levels above the worst node a pattern may start at
_SUSPECTS = 30                          # nodes tried as the cause (each costs one float forward)


@dataclass
class Loss:
    """How the float forward compares with the 30-digit one at a point."""
    value: float                 # the float forward's result
    exact: float | None          # the 30-digit result, rounded
    error: float                 # |value − exact| (inf when the exact one is missing)
    digits: float                # significant digits of the result lost (0 … ≈16)
    where: str | None = None     # the subexpression that lost most digits first
    where_digits: float = 0.0
    unstable: str | None = None  # the pattern instance to replace, and its stable form
    stable: str | None = None
    cut: bool = False            # `where` is atan2 on its branch cut with a −0: not a loss

    def to_dict(self) -> dict:
        """For --json: ``digits_lost``, ``where`` (the subexpression), ``unstable`` and
        ``stable`` (the rewrite, or None), ``branch_cut`` (`where` is atan2 at y = -0, x < 0),
        ``value`` (None if it overflowed), ``exact``."""
        return {"digits_lost": round(self.digits, 1), "where": self.where,
                "unstable": self.unstable, "stable": self.stable, "branch_cut": self.cut,
                "value": self.value if math.isfinite(self.value) else None,
                "exact": self.exact if math.isfinite(self.exact) else None}

    def noticeable(self) -> bool:
        """Lost `LOSS_DIGITS` or more."""
        return self.digits >= LOSS_DIGITS

    def note(self) -> str:
        """One sentence for the report."""
        if self.cut:
            return (f"`{self.where}` sits on atan2's branch cut with a -0 (y = -0, x < 0): "
                    f"IEEE's atan2 gives -pi there, the 30-digit evaluation, which has no -0, "
                    f"+pi (float {self.value:.12g}, 30-digit {self.exact:.12g}); no digits "
                    f"were lost, but the function jumps at this point")
        if not math.isfinite(self.value):
            text = f"the float forward overflowed at this point (30-digit {self.exact:.12g})"
        else:
            text = (f"the float forward lost {self.digits:.0f} of its 16 digits at this point "
                    f"(float {self.value:.12g}, 30-digit {self.exact:.12g})")
        if self.where is not None:
            text += f", {self.where_digits:.0f} of them in `{self.where}`" \
                if math.isfinite(self.value) else f", in `{self.where}`"
        if self.stable is not None:
            text += f"; write `{self.stable}` instead of `{self.unstable}`, which keeps them"
        return text


def digits_lost(value: float, exact) -> float:
    """Significant digits of `exact` (a sympy Float) that the float `value` lost."""
    if not math.isfinite(value):
        return _DIGITS
    if exact.is_zero:            # (sympy: Float(0) == 0 is False; is_zero is the test)
        return 0.0 if value == 0 else _DIGITS
    rel = float(abs(exact - value) / abs(exact))
    if rel <= 2.0 ** -53:
        return 0.0
    return min(_DIGITS, math.log10(rel) + _DIGITS)


def loss(graph: Graph, point: dict[str, float], floats: list, exacts: list,
         root: Node | None = None) -> Loss | None:
    """The `Loss` at `point` from the float (`interpret.evaluate`) and 30-digit
    (`symbolic.node_values`) values of `graph`'s nodes; None without a 30-digit result."""
    root = graph.output if root is None else root
    exact = exacts[root.index]
    if exact is None:
        return None
    value = floats[root.index]
    error = float(abs(exact - value)) if math.isfinite(value) else math.inf
    result = Loss(value, float(exact), error, digits_lost(value, exact))
    if not error:
        return result
    order = graph.order([root])
    for n in order:
        # atan2(-0, x < 0) is -pi in IEEE arithmetic and +pi without signed zeros: the two
        # forwards differ by 2*pi from there on, which is a jump, not lost digits.
        sided = OPS[n.op].signed_zero if n.args else None
        if sided is not None and exacts[n.index] is not None and floats[n.index] is not None \
                and sided(*(floats[a.index] for a in n.args)):
            result.where, result.cut = _text(graph, n), True
            return result
    lost = {n.index: digits_lost(floats[n.index], exacts[n.index]) for n in order
            if n.args and exacts[n.index] is not None and floats[n.index] is not None}
    node = _cause(graph, point, order, floats, exacts, root, lost)
    if node is None:
        return result
    result.where, result.where_digits = _text(graph, node), lost[node.index]
    found = _suggestion(graph, node, order)
    if found is not None:
        result.unstable, result.stable = found
    return result


def _cause(graph, point, order, floats, exacts, root, lost) -> Node | None:
    """The node where the result's digits were lost: the first (in evaluation order) whose
    float overflowed, else the first among those whose exact value repairs the result best.
    A node that lost digits only matters if making it exact repairs the result: a loss
    multiplied by 0 downstream (``y*log(sigmoid(z))`` at y = 0) explains nothing."""
    for n in order:
        if n.index in lost and not math.isfinite(floats[n.index]):
            return n
    exact = exacts[root.index]
    error = float(abs(exact - floats[root.index]))
    suspects = sorted((i for i, d in lost.items() if d >= LOSS_DIGITS),
                      key=lambda i: -lost[i])[:_SUSPECTS]
    after = {}
    for i in suspects:
        try:
            again = evaluate(graph, point, order, fixed={i: float(exacts[i])})[root.index]
        except DomainError:
            continue
        if math.isfinite(again) and abs(exact - again) < error / 2:
            after[i] = float(abs(exact - again))
    if not after:
        return None
    # The first one in evaluation order: the nodes above it inherit its loss.
    best = min(after.values())
    return next(n for n in order if after.get(n.index, math.inf) <= 2 * best + 1e-300)


# ---- the table of stable forms --------------------------------------------------------------

@lru_cache(maxsize=None)
def _patterns() -> tuple[tuple[Graph, str], ...]:
    from .lower import lower
    from .parse import parse
    return tuple((lower(parse(unstable)), stable) for unstable, stable in STABLE_FORMS)


def _match(pattern: Node, node: Node, binding: dict) -> bool:
    """Does `node` have the shape of `pattern`?  Fills `binding` (placeholder → node).
    Recursion over the pattern only: a handful of nodes, whatever the size of the graph."""
    if pattern.op == "var":
        bound = binding.setdefault(pattern.payload, node)
        return bound is node
    if pattern.op == "const":
        return node.op == "const" and node.payload == pattern.payload
    if pattern.op != node.op:
        return False
    orders = [node.args] + ([node.args[::-1]] if pattern.op in COMMUTATIVE else [])
    for args in orders:
        trial = dict(binding)
        if all(_match(p, a, trial) for p, a in zip(pattern.args, args)):
            binding.clear()
            binding.update(trial)
            return True
    return False


def _suggestion(graph: Graph, node: Node, order: list[Node]) -> tuple[str, str] | None:
    """(the unstable subexpression, its stable form) for the first pattern of the table that
    matches at `node` or at one of its callers up to `_CALLERS` levels above."""
    users: dict[int, list[Node]] = {}
    for n in order:
        for a in n.args:
            users.setdefault(a.index, []).append(n)
    roots, level = [node], [node]
    for _ in range(_CALLERS):
        level = [u for n in level for u in users.get(n.index, [])]
        roots += level
    for pattern, stable in _patterns():
        for root in roots:
            binding: dict = {}
            if _match(pattern.output, root, binding):
                return _text(graph, root), _fill(stable, binding, graph)
    return None


def suggest_text(text: str) -> tuple[str, str] | None:
    """The stable form of exprgrad `text` when it matches the table at its top."""
    from .lower import lower
    from .parse import parse
    graph = lower(parse(text), text)
    return _suggestion(graph, graph.output, graph.order())


def _fill(template: str, binding: dict, graph: Graph) -> str:
    """`template` with each placeholder replaced by the text of the node it matched,
    parenthesised unless it is a whole argument of a call or needs none."""
    def piece(m: re.Match) -> str:
        node = binding.get(m.group(0))
        if node is None:
            return m.group(0)
        text = _text(graph, node, width=None)
        alone = (m.string[:m.start()].rstrip().endswith(("(", ","))
                 and m.string[m.end():].lstrip().startswith((")", ",")))
        if alone or not (node.args and OPS[node.op].infix):
            return text
        return f"({text})"
    return re.sub(r"\b[A-Za-z_]\w*\b(?!\s*\()", piece, template)


def _text(graph: Graph, node: Node, width: int | None = 60) -> str:
    """The node as the user wrote it (outer parentheses dropped), else as the printer
    writes it."""
    from .printer import format_expr
    text = graph.source_of(node)
    text = " ".join(text.split()) if text is not None else format_expr(node, {})
    while text.startswith("(") and text.endswith(")") and _balanced(text[1:-1]):
        text = text[1:-1].strip()
    return text if width is None else shorten(text, width)


def _balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        depth += (ch == "(") - (ch == ")")
        if depth < 0:
            return False
    return depth == 0

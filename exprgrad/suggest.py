"""Did-you-mean for messages: a name nobody defined → the closest names, or what to write.

Input: a misspelt or foreign name (``tahn``, ``arctan2``, ``math.exp``) and the names that
exist.  Output: up to three close candidates, ordered by an edit distance that counts the
transposition of two adjacent letters as one edit (optimal string alignment, a restricted
Damerau–Levenshtein), so ``tahn`` is one edit from ``tanh``, not two; or, for a function that
other languages spell differently, the exprgrad call to write instead (``atan2(y, x)``).

>>> close("tahn", ["tan", "tanh", "atan", "exp"])
['tanh', 'tan']
>>> rewrite("exp2", ["x + 1"], {"pow": (2,)})
'2^(x + 1)'
"""
from __future__ import annotations

#: functions of other libraries (math, numpy, C) → the exprgrad text for the same value.
#: Only for names exprgrad does not define (log10, log1p, ... are functions of the language).
REWRITES = {
    "exp2": "2^{0}", "square": "{0}^2", "fabs": "abs({0})",
    "arcsin": "asin({0})", "arccos": "acos({0})", "arctan": "atan({0})",
    "arctan2": "atan2({0}, {1})",
    "power": "pow({0}, {1})", "maximum": "max({0}, {1})", "minimum": "min({0}, {1})",
    "fmax": "max({0}, {1})", "fmin": "min({0}, {1})",
}


def distance(a: str, b: str) -> int:
    """Edits (insert, delete, substitute, swap two adjacent letters) from `a` to `b`."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], prev2[j - 2] + 1)
        prev2, prev = prev, row
    return prev[len(b)]


def close(name: str, candidates, most: int = 3) -> list[str]:
    """Up to `most` candidates within a few edits of `name` (one edit per three letters, at
    least one), nearest first; ties go to the candidate of the same length, then by name."""
    if len(name) > 64:
        return []                   # a pasted blob is not a typo; keep the cost bounded
    limit = max(1, len(name) // 3)
    scored = []
    for c in set(candidates):
        if abs(len(c) - len(name)) <= limit:
            d = distance(name.lower(), c.lower())
            if d <= limit:
                scored.append((d, abs(len(c) - len(name)), c))
    return [c for _, _, c in sorted(scored)[:most]]


def rewrite(name: str, args: list[str], functions) -> str | None:
    """The exprgrad call to write for another library's function `name` applied to `args`
    (their source text), if there is one and it takes that many arguments; a name that
    `functions` (name → accepted argument counts) defines is written as it is."""
    if name in functions:
        if len(args) in functions[name]:
            return f"{name}({', '.join(args)})"
        return None
    template = REWRITES.get(name)
    if template is None or template.count("{") != len(args):
        return None
    if "^" in template:            # an operand of a power binds tighter than anything in it
        args = [a if _atomic(a) else f"({a})" for a in args]
    return template.format(*args)


def _atomic(text: str) -> bool:
    """Safe to use as an operand without parentheses (a name, a number, a call)."""
    return text.replace("_", "a").replace(".", "0").isalnum() or (
        text.endswith(")") and text.split("(", 1)[0].isidentifier())


def spoken(names: list[str]) -> str:
    """``a``, ``a or b``, ``a, b or c``."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]

"""Size limits: the bounds that keep any input's work and memory finite, in one place.

Every limit is a module-level number read when it is checked, so a program that needs more sets
it before compiling (``exprgrad.limits.MAX_NODES = 5_000_000``); the error a limit raises
(`LimitError`) names it.  The defaults keep the worst input within each limit to seconds and
about a gigabyte on a laptop (figures: README, "Guarantees and limits").

>>> import exprgrad as eg
>>> try:
...     eg.compile("x" * (MAX_SOURCE_CHARS + 1))
... except eg.LimitError as err:
...     print(err.limit)
MAX_SOURCE_CHARS
"""
from __future__ import annotations

from .errors import LimitError

#: characters of program text `exprgrad.compile` (and the command line) accepts
MAX_SOURCE_CHARS = 2_000_000

#: nodes in the graph of one program, user functions expanded (each node is about 1 KB in
#: the graph, its gradient program and the code generated from them)
MAX_NODES = 1_000_000

#: significant digits of a number literal (a double needs at most 17 to be identified, and 767
#: to be written exactly)
MAX_LITERAL_DIGITS = 1_000

#: bits of the numerator and of the denominator of a folded constant: constant folding stops
#: before an exact result grows past this (``(1e-300 + 1)^64`` stays a power).  Both then stay
#: below the largest double, so a folded constant prints as a quotient of two literals.
MAX_CONSTANT_BITS = 1_000


def check_source(text: str) -> None:
    """Refuse program text longer than `MAX_SOURCE_CHARS`, before any work on it."""
    if len(text) > MAX_SOURCE_CHARS:
        raise LimitError(f"the program is {len(text):,} characters long; the limit is "
                         f"{MAX_SOURCE_CHARS:,} (exprgrad.limits.MAX_SOURCE_CHARS)",
                         limit="MAX_SOURCE_CHARS")


def node_limit_error(span=None, source=None) -> LimitError:
    return LimitError(f"the program's graph grows past {MAX_NODES:,} nodes (user functions "
                      f"expanded); the limit is exprgrad.limits.MAX_NODES", span, source,
                      limit="MAX_NODES")

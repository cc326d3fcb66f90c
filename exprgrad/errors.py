"""Errors: one hierarchy for everything exprgrad rejects, and the caret that points at the cause.

Every error a user can provoke is an `ExprError`; ``str(err)`` is the message followed, when the
error has a source position, by the offending line and a caret under the column::

    ExprError
    ├── ExprSyntaxError        text that does not parse (line, column, expected tokens)
    ├── NameResolutionError    names used against the rules of the language
    │   ├── UnknownFunctionError   a call to a function nobody defined (did-you-mean)
    │   ├── ArityError             a call with the wrong number of arguments
    │   ├── ReassignmentError      a name assigned twice, or a built-in redefined
    │   └── UseBeforeAssignmentError
    ├── VariableError          values passed at evaluation: missing, unknown or not numbers
    ├── OutputError            an unknown output, or several where one must be chosen
    ├── DomainError            log(-1), 1/0, asin(2), exp(1000): names the node
    ├── SymbolicError          the sympy side could not finish within its budget
    ├── CodegenError           a target or an option code generation does not know
    ├── LimitError             an input past a size limit of `exprgrad.limits` (named)
    └── RenderError            a picture could not be rendered (e.g. no Graphviz)

>>> import exprgrad as eg
>>> try:
...     eg.compile("tanh(x1")
... except eg.ExprSyntaxError as err:
...     print(err.line, err.column)
1 8
"""
from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple


class Span(NamedTuple):
    """Where a piece of the AST came from: 1-based line/column, 0-based offsets [start, end).

    A named tuple, not a frozen dataclass: lowering makes one per IR node, and a frozen
    dataclass's ``__init__`` (one ``object.__setattr__`` per field) costs three times as much."""
    line: int
    column: int
    start: int
    end: int

    def merge(self, other: "Span") -> "Span":
        first = self if self.start <= other.start else other
        return Span(first.line, first.column, first.start, max(self.end, other.end))


_WINDOW = 100    # characters of a long source line shown around the error
_LONG = 200      # a run of this many non-blank characters in a message is shortened


def printable(text: str, keep: str = "\n\t") -> str:
    """`text` with every character a terminal would act on or not show written as an escape:
    control characters (ESC of terminal escape sequences, NUL, CR), bidirectional overrides
    and other formatting characters, lone surrogates (undecodable bytes), except `keep`.

    >>> print(printable("a\\x1b[2Jb\\u202e"))
    a\\x1b[2Jb\\u202e
    """
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() or ch in keep
                   else ch.encode("unicode_escape", "backslashreplace").decode("ascii")
                   for ch in text)


def shorten(text: str, width: int = 60) -> str:
    """`text`, or its start and end around an ellipsis when it is longer than `width`.

    >>> shorten("0123456789" * 100_000, 20)
    '0123456789012…456789'
    """
    if len(text) <= width:
        return text
    tail = width // 3
    return f"{text[:width - tail - 1]}…{text[len(text) - tail:]}"


def clean_message(message: str) -> str:
    """A message safe to print: control characters escaped (new lines and tabs kept) and
    every very long run of non-blank characters (a 1 MB name, a 1 MB number) shortened."""
    message = printable(message)
    if len(message) > _LONG:
        message = re.sub(r"\S{%d,}" % _LONG,
                         lambda m: f"{shorten(m.group(), 80)} ({len(m.group()):,} characters)",
                         message)
    return message


def _columns(text: str) -> str:
    """Blank space as wide as `text` on a terminal (tabs kept; wide characters count 2)."""
    return "".join(ch if ch == "\t" else
                   "  " if unicodedata.east_asian_width(ch) in "WF" else
                   "" if unicodedata.combining(ch) else " " for ch in text)


def caret(source: str, span: Span) -> str:
    """The source line of `span` and a caret line under it; characters a terminal would act
    on are shown escaped (see `printable`), and a long line as a window around the column.

    >>> print(caret("a + log(x", Span(1, 5, 4, 9)))
    a + log(x
        ^^^^^
    """
    lines = source.split("\n")
    text = lines[span.line - 1].rstrip("\r") if 0 < span.line <= len(lines) else ""
    col = min(span.column - 1, len(text))
    width = max(1, min(span.end - span.start, len(text) - col))
    lo, hi = 0, len(text)
    if len(text) > _WINDOW:
        # A 1 MB one-line program must not be echoed whole: show a window around the column.
        lo = max(0, min(col - _WINDOW // 2, len(text) - _WINDOW))
        hi = lo + _WINDOW
        width = max(1, min(width, hi - col))
    before = ("..." if lo else "") + printable(text[lo:col], keep="\t")
    marked = printable(text[col:col + width], keep="\t")
    after = printable(text[col + width:hi], keep="\t") + ("..." if hi < len(text) else "")
    return f"{before}{marked}{after}\n{_columns(before)}{'^' * max(1, len(_columns(marked)))}"


class ExprError(Exception):
    """Base of every error exprgrad raises for bad input."""

    def __init__(self, message: str, span: Span | None = None, source: str | None = None):
        # Messages quote user text (names, numbers, values): never a terminal escape sequence
        # or a megabyte of it.
        message = clean_message(message)
        super().__init__(message)
        self.message = message
        self.span = span
        self.source = source

    @property
    def line(self):
        return self.span.line if self.span else None

    @property
    def column(self):
        return self.span.column if self.span else None

    def __str__(self) -> str:
        if self.span is None or self.source is None:
            return self.message
        where = f"line {self.span.line}, column {self.span.column}"
        return f"{self.message} ({where})\n{caret(self.source, self.span)}"


class ExprSyntaxError(ExprError):
    """The text does not parse; ``expected`` lists what would have been accepted."""

    def __init__(self, message, span=None, source=None, expected=()):
        super().__init__(message, span, source)
        self.expected = tuple(expected)


class NameResolutionError(ExprError):
    """A name is used against the rules of the language."""


class UnknownFunctionError(NameResolutionError):
    """A call to a function that is neither built in nor defined: ``suggestions`` holds what
    the message proposes (the closest names, or the call to write), ``suggestion`` the first."""

    def __init__(self, message, span=None, source=None, suggestion=None, suggestions=()):
        super().__init__(message, span, source)
        self.suggestion = suggestion
        self.suggestions = tuple(suggestions) or ((suggestion,) if suggestion else ())


class ArityError(NameResolutionError):
    """A function called with the wrong number of arguments."""


class ReassignmentError(NameResolutionError):
    """A name assigned twice, or a built-in name redefined."""


class UseBeforeAssignmentError(NameResolutionError):
    """A name read before the statement that assigns it."""


class VariableError(ExprError):
    """Values given at evaluation time are missing, unknown or not numbers."""


class OutputError(ExprError):
    """An output that does not exist, or a program of several outputs asked for something
    that needs one (its gradient, its Hessian): choose it, or take the Jacobian."""


class DomainError(ExprError):
    """A node cannot be evaluated (or differentiated) at the given point."""


class SymbolicError(ExprError):
    """The symbolic side could not produce a result within its budget."""


class CodegenError(ExprError):
    """Code generation was asked for something it does not support."""


class LimitError(ExprError):
    """The input is past one of the size limits of `exprgrad.limits`; ``limit`` is its name."""

    def __init__(self, message, span=None, source=None, limit=""):
        super().__init__(message, span, source)
        self.limit = limit


class RenderError(ExprError):
    """A picture could not be produced (for example, Graphviz's `dot` is not installed)."""

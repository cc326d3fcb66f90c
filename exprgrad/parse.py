"""Parsing: exprgrad text → AST (`syntax.Program`).

lark's LALR parser runs with `ToAst` as an inline transformer, so no parse tree is built and
nothing recurses: 100,000 nested parentheses parse in linear time.  lark's exceptions become
`ExprSyntaxError` with the line, the column and a caret.

>>> from exprgrad.syntax import dump
>>> dump(parse("2^3^2"))
'Program(Binary(pow, Num(2), Binary(pow, Num(3), Num(2))))'
"""
from __future__ import annotations

import dataclasses
import functools
import re
import sys
from fractions import Fraction
from importlib import resources
from pathlib import Path

import lark
from lark import Lark, Token, v_args

from . import suggest, syntax as ast
from .errors import ExprSyntaxError, Span
from .ops import CONSTANTS, FUNCTIONS
from .ir import gc_paused

# Operator terminals of the grammar → registry keys.
_BINARY = {"ADD": "add", "SUB": "sub", "MUL": "mul", "DIV": "div", "POW": "pow"}
_UNARY = {"SUB": "neg", "ADD": "pos"}

# How terminals are named in messages.
_TERMINAL_NAMES = {
    "ADD": "'+'", "SUB": "'-'", "MUL": "'*'", "DIV": "'/'", "POW": "'^'", "ASSIGN": "'='",
    "LPAR": "'('", "RPAR": "')'", "_COMMA": "','", "_SEMI": "';'", "_NEWLINE": "a new line",
    "NUMBER": "a number", "NAME": "a name", "$END": "the end of the input",
}


def grammar_text() -> str:
    """The grammar: packaged inside the wheel, or at the repository's top level."""
    packaged = resources.files("exprgrad") / "grammar" / "exprgrad.lark"
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    return (Path(__file__).resolve().parent.parent / "grammar" / "exprgrad.lark").read_text(
        encoding="utf-8")


@functools.lru_cache(maxsize=4096)
def _exact(text: str) -> Fraction:
    # Generated programs repeat the same literals thousands of times (0.5, 2, ...); parsing a
    # Fraction from text costs more than the rest of the number's reduction.
    return Fraction(text.replace("_", ""))


def _span(tok: Token) -> Span:
    return Span(tok.line, tok.column, tok.start_pos, tok.end_pos)


@v_args(inline=True)
class ToAst(lark.Transformer):
    """Builds AST nodes as the parser reduces; one method per alias of the grammar."""

    def number(self, tok):        # Corresponds to `NUMBER -> number`
        text = str(tok)
        value = _exact(text)
        if value > _FLOAT_MAX:
            raise _Rejected(_span(tok), f"the number {text} is too large for a float "
                                        "(the largest is about 1.8e308)")
        return ast.Num(_span(tok), value, text)

    def name(self, tok):          # `NAME -> name`
        text = str(tok)
        if not text.isidentifier():
            # \w admits digits such as '²' that Python names do not: x² is not x^2.
            hint = ": write powers as x^2" if any(c in _SUPERSCRIPTS for c in text) else ""
            raise _Rejected(_span(tok), f"{text!r} is not a valid name{hint}")
        return ast.Name(_span(tok), text)

    def call(self, name, lpar, args, rpar):
        return ast.Call(_span(name).merge(_span(rpar)), self.name(name), tuple(args))

    def arguments(self, *args):
        return list(args)

    def paren(self, lpar, expr, rpar):
        # The same node, with the parentheses inside its span (for carets and messages).
        return dataclasses.replace(expr, span=_span(lpar).merge(_span(rpar)))

    def binary(self, left, op, right):
        return ast.Binary(left.span.merge(right.span), _BINARY[op.type], left, right)

    def unary(self, op, operand):
        return ast.Unary(_span(op).merge(operand.span), _UNARY[op.type], operand)

    def assign(self, target, eq, value):
        span = target.span.merge(value.span)
        if isinstance(target, ast.Name):
            return ast.Assign(span, target, value)
        if isinstance(target, ast.Call) and all(isinstance(a, ast.Name) for a in target.args):
            return ast.FuncDef(span, target.func, target.args, value)
        raise _Rejected(target.span, "can only assign to a name (`n = ...`) or define a "
                        "function (`f(x, y) = ...`)")

    def program(self, *statements):
        kept = tuple(s for s in statements if s is not None)
        if not kept:
            return ast.Program(Span(1, 1, 0, 0), kept)
        return ast.Program(kept[0].span.merge(kept[-1].span), kept)


_SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹"
_FLOAT_MAX = Fraction(sys.float_info.max)


class _Rejected(Exception):
    """Raised inside a transformer callback; `parse` turns it into an ExprSyntaxError."""

    def __init__(self, span, message):
        super().__init__(message)
        self.span, self.message = span, message


class _DropNewlinesInParens:
    """Post-lexer: a newline inside parentheses continues the line, as in Python."""

    always_accept = ("_NEWLINE",)

    def process(self, stream):
        depth = 0
        for tok in stream:
            if tok.type == "LPAR":
                depth += 1
            elif tok.type == "RPAR":
                depth = max(depth - 1, 0)
            elif tok.type == "_NEWLINE" and depth:
                continue
            yield tok


_parsers: dict[bool, Lark] = {}


def _get_parser(multiline: bool = True) -> Lark:
    """The LALR parser; text without a newline skips the post-lexer, which then has nothing
    to drop but would still cost a generator step per token."""
    parser = _parsers.get(multiline)
    if parser is None:
        parser = _parsers[multiline] = Lark(
            grammar_text(), start="program", parser="lalr", lexer="contextual",
            transformer=ToAst(), postlex=_DropNewlinesInParens() if multiline else None,
            propagate_positions=False, maybe_placeholders=True)
    return parser


def parse(text: str) -> ast.Program:
    """Parse exprgrad text into a `Program`; raises `ExprSyntaxError` with a caret."""
    if not isinstance(text, str):
        raise TypeError(f"expected the expression as a str, got {type(text).__name__}")
    try:
        with gc_paused():
            program = _get_parser("\n" in text or "\r" in text).parse(text)
    except _Rejected as err:
        raise ExprSyntaxError(err.message, err.span, text) from None
    except lark.exceptions.UnexpectedCharacters as err:
        span = Span(err.line, err.column, err.pos_in_stream, err.pos_in_stream + 1)
        char = text[err.pos_in_stream]
        hint = _dotted_hint(text, err.pos_in_stream) if char == "." else ""
        raise ExprSyntaxError(f"unexpected character {char!r}{hint}", span, text) from None
    except lark.exceptions.UnexpectedToken as err:
        raise _token_error(err, text) from None
    except lark.exceptions.UnexpectedEOF:   # pragma: no cover - LALR reports $END tokens
        raise ExprSyntaxError("unexpected end of input", _end_span(text), text) from None
    if not program.statements:
        raise ExprSyntaxError("empty expression: nothing to compute", Span(1, 1, 0, 0), text)
    return program


def _end_span(text: str) -> Span:
    line = text.count("\n") + 1
    column = len(text) - (text.rfind("\n") + 1) + 1
    return Span(line, column, len(text), len(text) + 1)


def _expected_words(expected) -> list[str]:
    """lark's expected terminals in the words a message uses (``err.expected`` holds them)."""
    expected = set(expected)
    if "_SEMI" not in expected:
        expected.discard("_NEWLINE")      # accepted by the post-lexer everywhere, not meant
    if {"ADD", "MUL", "_SEMI"} <= expected:
        return ["an operator", "the end of the statement"]
    return sorted({_TERMINAL_NAMES.get(t, t.lower()) for t in expected})


def _describe(words: list[str]) -> str:
    return ", expected " + suggest.spoken(words) if words else ""


def _token_error(err, text: str) -> ExprSyntaxError:
    tok = err.token
    words = _expected_words(err.expected)
    if tok.type == "$END":
        span = _end_span(text)
        unclosed = _unclosed_paren(text)
        if unclosed is not None:
            message = (f"unexpected end of input: '(' at line {unclosed.line}, column "
                       f"{unclosed.column} is not closed" + _describe(words))
        else:
            message = "unexpected end of input" + _describe(words)
        return ExprSyntaxError(message, span, text, words)
    span = _span(tok)
    shown = "a new line" if tok.type == "_NEWLINE" else repr(str(tok))
    message = f"unexpected {shown}" + _describe(words) + _juxtaposition_hint(tok, text)
    return ExprSyntaxError(message, span, text, words)


def _juxtaposition_hint(tok: Token, text: str) -> str:
    """`2x` and `sin x` are the usual slips: say what to write instead."""
    if tok.type not in ("NAME", "NUMBER", "LPAR"):
        return ""
    before = text[:tok.start_pos].rstrip()
    word = before[len(before.rstrip("_0123456789abcdefghijklmnopqrstuvwxyz"
                                    "ABCDEFGHIJKLMNOPQRSTUVWXYZ")):]
    if tok.type == "NUMBER" and str(tok).startswith(".") and before[-1:].isdigit():
        return " (a number has at most one decimal point)"
    if word in FUNCTIONS and tok.type != "LPAR":
        return f" (call functions with parentheses: {word}({tok}))"
    if before and (before[-1].isalnum() or before[-1] in "._)"):
        return " (multiplication needs '*': write a*b, 2*x)"
    return ""


_WORD = re.compile(r"[^\W\d]\w*")


def _dotted_hint(text: str, dot: int) -> str:
    """`math.exp(x)`, `np.tanh(x)`, `math.pi`: names carry no module prefix; say what to write."""
    before = re.search(r"[^\W\d]\w*$", text[max(0, dot - 40):dot])
    after = _WORD.match(text, dot + 1)
    if before is None or after is None:
        return ""
    name = after.group()
    if name in CONSTANTS:
        return f": write {name}"
    if name == "e":
        return ": Euler's number is exp(1) (e is an ordinary name)"
    args = _call_arguments(text, after.end())
    instead = None
    if args is not None:
        arities = {n: b.arities for n, b in FUNCTIONS.items()}
        instead = suggest.rewrite(name, args, arities)
    if instead is None:
        return ": names cannot contain '.'"
    return f": write {instead} (functions are called without a module prefix)"


def _call_arguments(text: str, start: int) -> list[str] | None:
    """The argument texts of the call whose '(' is at `start` (after blanks), split at the
    top-level commas; None if there is no short, closed argument list there."""
    i = start
    while i < len(text) and text[i] in " \t":
        i += 1
    if i >= len(text) or text[i] != "(":
        return None
    depth, args, begin = 0, [], i + 1
    for j in range(i, min(len(text), i + 80)):
        c = text[j]
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                args.append(text[begin:j].strip())
                return [a for a in args if a] if args != [""] else []
        elif c == "," and depth == 1:
            args.append(text[begin:j].strip())
            begin = j + 1
    return None


def _unclosed_paren(text: str) -> Span | None:
    opened: list[Token] = []
    try:
        for tok in _get_parser().lex(text):
            if tok.type == "LPAR":
                opened.append(tok)
            elif tok.type == "RPAR" and opened:
                opened.pop()
    except lark.exceptions.LarkError:
        return None
    return _span(opened[-1]) if opened else None

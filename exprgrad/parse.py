"""Parsing: exprgrad text → AST (`syntax.Program`).

lark compiles the grammar (grammar/exprgrad.lark) into an LALR(1) table, and two drivers run
that table with the same node builders (`_BUILD`: one function per alias of the grammar):

- the fast loop (lalr.py), used for every parse: one regular expression made of the
  grammar's terminals reads the text, and a plain loop over the table shifts and reduces.
  It only knows how to accept: at the first character or token the table does not expect,
  it gives up.
- lark's own parser, with `ToAst` as its transformer, parses the text again when the fast
  loop gave up, so every syntax error comes from lark (`UnexpectedToken`,
  `UnexpectedCharacters`) and becomes an `ExprSyntaxError` with line, column and caret.

The fast loop reads the table from grammar/exprgrad.lalr.json, written from the grammar by
lark (`table_data`; ``python -m exprgrad.parse`` rewrites it when the grammar changes, and a
test fails until then), so a parse imports lark only to explain an error.  Neither driver
builds a parse tree or recurses: 100,000 nested parentheses parse in linear time.  A rule
about what the language accepts (a check on a name, a number) belongs in a builder, where both
drivers see it.  tests/test_parse.py runs both drivers side by side; benchmarks/parse_speed.py
times them.

>>> from exprgrad.syntax import dump
>>> dump(parse("2^3^2"))
'Program(Binary(pow, Num(2), Binary(pow, Num(3), Num(2))))'
"""
from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import re
from fractions import Fraction

from . import lalr, limits, suggest, syntax as ast
from .errors import ExprSyntaxError, LimitError, Span, shorten
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
    return _read("exprgrad.lark")


def _read(name: str) -> str:
    # os.path, not importlib.resources or pathlib: they import tempfile, shutil and urllib
    # (~20 ms of every start-up); the package resource is read only for a zipped package.
    here = os.path.dirname(os.path.abspath(__file__))
    for path in (os.path.join(here, "grammar", name),
                 os.path.join(os.path.dirname(here), "grammar", name)):
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as f:
                return f.read()
    return _grammar_file(name).read_text(encoding="utf-8")


def _grammar_file(name: str):
    """The file `name` of the grammar folder, as a path (a package resource if packaged)."""
    from importlib import resources
    from pathlib import Path
    packaged = resources.files("exprgrad") / "grammar" / name
    if packaged.is_file():
        return packaged
    return Path(__file__).resolve().parent.parent / "grammar" / name


# ---- node builders: one per alias of the grammar, shared by both drivers ----------------------
# A token is a tuple (type, text, start, end, line, column): cheaper to make than lark's Token,
# and `ToAst` turns lark's tokens into the same tuples.

# A decimal literal without its underscores: digits, fraction digits, exponent (ASCII only).
_DECIMAL = re.compile(r"([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?\Z")


class BadNumber(ValueError):
    """A number literal no double can hold, or longer than `limits.MAX_LITERAL_DIGITS`."""

    def __init__(self, message: str, limit: str = ""):
        super().__init__(message)
        self.message, self.limit = message, limit


@functools.lru_cache(maxsize=4096)
def literal(text: str) -> Fraction:
    """The exact value of a number literal (the grammar's NUMBER, or an ``--at`` value, which
    may also have a sign); `BadNumber` when no double holds it.

    The rule: a literal must round to a finite double, and a nonzero one must not round to
    zero; ``1.7976931348623158e308`` (which rounds to the largest double) is accepted.  The
    exponent is read before any power of ten is built, so ``1e999999999`` is refused at once.

    >>> literal("1_000.5"), literal("-2.5e-3")
    (Fraction(2001, 2), Fraction(-1, 400))
    """
    # Generated programs repeat the same literals thousands of times (0.5, 2, ...); the cache
    # saves reading them again.
    plain = text.strip().replace("_", "")
    sign = -1 if plain.startswith("-") else 1
    match = _DECIMAL.match(plain[1:] if plain[:1] in "+-" else plain)
    if match is None or not (match[1] or match[2]):
        raise BadNumber(f"{shorten(text)!r} is not a number")
    whole, frac, exp = match[1], match[2] or "", match[3] or "0"
    digits = (whole + frac).lstrip("0")
    if not digits:
        return Fraction(0)
    shift = len(digits) - len(digits.rstrip("0"))
    digits = digits[:len(digits) - shift]
    # Decimal exponent of the leading digit; an exponent of more than 12 digits is out of any
    # range whatever the mantissa (which has fewer than limits.MAX_SOURCE_CHARS digits).
    big = len(exp.lstrip("+-0")) > 12
    power = (0 if big else int(exp)) - len(frac) + shift
    lead = 10**13 * (-1 if exp.startswith("-") else 1) if big else power + len(digits) - 1
    approx = math.inf if lead > 400 else 0.0 if lead < -400 else float(plain)
    if math.isinf(approx):
        raise BadNumber(f"the number {shorten(text)} is too large for a float (the largest is "
                        "about 1.8e308)")
    if approx == 0:
        raise BadNumber(f"the number {shorten(text)} is too small for a float: it would round "
                        "to 0 (the smallest is about 4.9e-324); write 0 for zero")
    if len(digits) > limits.MAX_LITERAL_DIGITS:
        raise BadNumber(f"the number {shorten(text)} has {len(digits):,} significant digits; "
                        f"the limit is {limits.MAX_LITERAL_DIGITS:,} "
                        "(exprgrad.limits.MAX_LITERAL_DIGITS)", "MAX_LITERAL_DIGITS")
    value = sign * int(digits)
    return Fraction(value * 10**power) if power >= 0 else Fraction(value, 10**-power)


def _span(tok: tuple) -> Span:
    return Span(tok[4], tok[5], tok[2], tok[3])


def number(tok):                        # Corresponds to `NUMBER -> number` in the grammar
    text = tok[1]
    try:
        value = literal(text)
    except BadNumber as err:
        raise _Rejected(_span(tok), err.message, err.limit) from None
    return ast.Num(tok[4], tok[5], tok[2], tok[3], value, text)


def valid_name(text: str) -> bool:
    """The grammar's NAME that is also an identifier: \\w admits digits such as '²' that
    Python names do not (x² is not x^2)."""
    return _WORD.fullmatch(text) is not None and text.isidentifier()


def name(tok):                          # `NAME -> name`
    text = tok[1]
    # The token matched the grammar's NAME, which is `_WORD` (a test says so): only the
    # identifier rule is left to check (the full check costs twice the node).
    if not text.isidentifier():
        hint = ": write powers as x^2" if any(c in _SUPERSCRIPTS for c in text) else ""
        raise _Rejected(_span(tok), f"{text!r} is not a valid name{hint}")
    return ast.Name(tok[4], tok[5], tok[2], tok[3], text)


def call(fn, lpar, args, rpar):         # `NAME LPAR arguments RPAR -> call`
    return ast.Call(fn[4], fn[5], fn[2], rpar[3], name(fn), tuple(args))


def arguments(items):                   # `arguments`: the expressions, in order
    return items


def paren(lpar, expr, rpar):            # `LPAR expr RPAR -> paren`
    # The same node, with the parentheses inside its span (for carets and messages).  It is
    # new and nothing else refers to it yet, so it is updated in place.
    expr.line, expr.column, expr.start, expr.end = lpar[4], lpar[5], lpar[2], rpar[3]
    return expr


def binary(left, op, right):            # `sum ADD product -> binary`, and the like
    return ast.Binary(left.line, left.column, left.start, right.end, _BINARY[op[0]], left, right)


def unary(op, operand):                 # `SUB unary -> unary`, `ADD unary -> unary`
    return ast.Unary(op[4], op[5], op[2], operand.end, _UNARY[op[0]], operand)


def tuple_(items):                      # `tuple: expr (_COMMA expr)+`
    first, last = items[0], items[-1]
    return ast.Tuple(first.line, first.column, first.start, last.end, tuple(items))


def assign(target, eq, value):          # `exprs ASSIGN exprs -> assign`
    if type(target) is ast.Name:        # the usual statement
        return ast.Assign(target.line, target.column, target.start, value.end, target, value)
    where = target.line, target.column, target.start, value.end
    if isinstance(target, ast.Tuple) and all(isinstance(t, ast.Name) for t in target.items):
        return ast.Assign(*where, target, value)
    if isinstance(target, ast.Call) and all(isinstance(a, ast.Name) for a in target.args):
        return ast.FuncDef(*where, target.func, target.args, value)
    raise _Rejected(target.span, "can only assign to a name (`n = ...`), to names (`a, b = "
                    "...`) or define a function (`f(x, y) = ...`)")


def program(statements):                # `program`: the statements that are not empty
    if not statements:
        return ast.Program(1, 1, 0, 0, ())
    first, last = statements[0], statements[-1]
    return ast.Program(first.line, first.column, first.start, last.end, tuple(statements))


#: rule alias (or rule name) → builder
_BUILD = {f.__name__: f for f in (number, name, call, arguments, paren, binary, unary, assign,
                                   program)}
_BUILD["tuple"] = tuple_

_SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹"


class _Rejected(Exception):
    """Raised inside a builder; `parse` turns it into an ExprSyntaxError (or a LimitError when
    `limit` names the limit of `exprgrad.limits` it is past)."""

    def __init__(self, span, message, limit=""):
        super().__init__(message)
        self.span, self.message, self.limit = span, message, limit


# ---- lark's driver (the errors) ---------------------------------------------------------------

def _tok(tok) -> tuple:
    return (tok.type, str(tok), tok.start_pos, tok.end_pos, tok.line, tok.column)


class ToAst:
    """The builders as lark's transformer (``Lark(..., transformer=ToAst())``): a method per
    alias gets the rule's children, with lark's tokens turned into the builders' tuples."""

    def number(self, c):
        return number(_tok(c[0]))

    def name(self, c):
        return name(_tok(c[0]))

    def call(self, c):
        return call(_tok(c[0]), _tok(c[1]), c[2], _tok(c[3]))

    def arguments(self, c):
        return arguments(list(c))

    def paren(self, c):
        return paren(_tok(c[0]), c[1], _tok(c[2]))

    def binary(self, c):
        return binary(c[0], _tok(c[1]), c[2])

    def unary(self, c):
        return unary(_tok(c[0]), c[1])

    def tuple(self, c):
        return tuple_(list(c))

    def assign(self, c):
        return assign(c[0], _tok(c[1]), c[2])

    def program(self, c):
        return program([s for s in c if s is not None])


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


_parsers: dict = {}


def _get_parser(multiline: bool = True):
    """lark's LALR parser (lark is imported here, on first use); text without a newline skips
    the post-lexer, which then has nothing to drop but would still cost a step per token."""
    parser = _parsers.get(multiline)
    if parser is None:
        from lark import Lark
        parser = _parsers[multiline] = Lark(
            grammar_text(), start="program", parser="lalr", lexer="contextual",
            transformer=ToAst(), postlex=_DropNewlinesInParens() if multiline else None,
            propagate_positions=False, maybe_placeholders=True)
    return parser


def _lark_parse(text: str, start: int = 0) -> ast.Program:
    """The program, by lark's parser; lark's errors become `ExprSyntaxError`s.

    The fast loop parsed the statements before offset `start`: lark gets them blanked out, with
    the same lines and offsets, so an error at the end of 4 MB takes lark a moment, not 20 s.
    """
    from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedToken
    shown = _blank(text[:start]) + text[start:] if start else text
    try:
        program = _get_parser("\n" in shown or "\r" in shown).parse(shown)
    except UnexpectedCharacters as err:
        raise _char_error(text, err.pos_in_stream, err.line, err.column) from None
    except UnexpectedToken as err:
        raise _token_error(_tok(err.token), err.expected, text) from None
    except UnexpectedEOF:   # pragma: no cover - LALR reports $END tokens
        raise ExprSyntaxError("unexpected end of input", _end_span(text), text) from None
    # lark accepted what the fast loop did not (tests say the drivers agree): lark decides.
    return _lark_parse(text) if start else program


def _blank(prefix: str) -> str:
    """`prefix` as lark's lexer skips it all: each line's characters become spaces and a
    backslash-newline (an empty line stays a newline: an empty statement)."""
    lines = prefix.split("\n")
    blanked = [" " * (len(line) - 1) + "\\" if line else "" for line in lines[:-1]]
    return "\n".join(blanked + [" " * len(lines[-1])])


# ---- the fast driver's table -------------------------------------------------------------------

TABLE_FILE = "exprgrad.lalr.json"


def table_data() -> dict:
    """The grammar's table for `lalr.Table`, made by lark now (imports lark: about 0.1 s)."""
    return lalr.table_data(_get_parser(False), _sha256(grammar_text()), _BUILD, "_sep")


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


_fast: list = []


def _fast_table() -> lalr.Table | None:
    """The fast driver's table: the shipped one if it was made from this grammar, else lark's
    (built now); None if the grammar needs lark's own lexer."""
    if not _fast:
        try:
            data = json.loads(_read(TABLE_FILE))
            if data.get("grammar_sha256") != _sha256(grammar_text()):
                data = None
        except (OSError, ValueError):
            data = None
        try:
            _fast.append(lalr.Table(data or table_data(), _BUILD))
        except NotImplementedError:
            _fast.append(None)
    return _fast[0]


def parse(text: str) -> ast.Program:
    """Parse exprgrad text into a `Program`; raises `ExprSyntaxError` with a caret."""
    if not isinstance(text, str):
        raise TypeError(f"expected the expression as a str, got {type(text).__name__}")
    limits.check_source(text)
    try:
        with gc_paused():
            table = _fast_table()
            if table is None:
                program = _lark_parse(text)
            else:
                try:
                    program = lalr.run(text, table)
                except lalr.GaveUp as stop:
                    try:
                        program = _lark_parse(text, stop.start)     # raises the error
                    except ImportError:     # run from a checkout without lark installed
                        raise _fast_error(stop, text) from None
    except _Rejected as err:
        if err.limit:
            raise LimitError(err.message, err.span, text, limit=err.limit) from None
        raise ExprSyntaxError(err.message, err.span, text) from None
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


def _fast_error(stop, text: str) -> ExprSyntaxError:
    """The error the fast loop met, worded as lark's would be (lark is then not needed)."""
    if stop.token is not None:
        return _token_error(stop.token, stop.expected, text)
    pos = stop.offset
    line = text.count("\n", 0, pos) + 1
    return _char_error(text, pos, line, pos - (text.rfind("\n", 0, pos) + 1) + 1)


def _char_error(text: str, pos: int, line: int, column: int) -> ExprSyntaxError:
    char = text[pos]
    hint = _dotted_hint(text, pos) if char == "." else ""
    if char.isdecimal():    # ٣ or ３: a digit to str.isdecimal and to \d, not to NUMBER
        hint = " (write numbers with the digits 0-9)"
    return ExprSyntaxError(f"unexpected character {char!r}{hint}",
                           Span(line, column, pos, pos + 1), text)


def _token_error(tok: tuple, expected, text: str) -> ExprSyntaxError:
    """`tok`: the builders' token tuple (kind, text, start, end, line, column)."""
    words = _expected_words(expected)
    if tok[0] == "$END":
        span = _end_span(text)
        unclosed = _unclosed_paren(text)
        if unclosed is not None:
            message = (f"unexpected end of input: '(' at line {unclosed.line}, column "
                       f"{unclosed.column} is not closed" + _describe(words))
        else:
            message = "unexpected end of input" + _describe(words)
        return ExprSyntaxError(message, span, text, words)
    span = _span(tok)
    shown = "a new line" if tok[0] == "_NEWLINE" else repr(tok[1])
    message = f"unexpected {shown}" + _describe(words) + _juxtaposition_hint(tok, text)
    return ExprSyntaxError(message, span, text, words)


def _juxtaposition_hint(tok, text: str) -> str:
    """`2x` and `sin x` are the usual slips: say what to write instead."""
    kind, value = tok[0], tok[1]
    if kind not in ("NAME", "NUMBER", "LPAR"):
        return ""
    before = text[:tok[2]].rstrip()
    word = before[len(before.rstrip("_0123456789abcdefghijklmnopqrstuvwxyz"
                                    "ABCDEFGHIJKLMNOPQRSTUVWXYZ")):]
    if kind == "NUMBER" and value.startswith(".") and before[-1:].isdigit():
        return " (a number has at most one decimal point)"
    if word in FUNCTIONS and kind != "LPAR":
        return f" (call functions with parentheses: {word}({value}))"
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
    """The last '(' not closed, or None (also where a character is no token)."""
    opened: list = []
    for kind, start, end in _tokens(text):
        if kind == "LPAR":
            opened.append((start, end))
        elif kind == "RPAR" and opened:
            opened.pop()
        elif kind is None:
            return None
    if not opened:
        return None
    start, end = opened[-1]
    line_start = text.rfind("\n", 0, start) + 1
    return Span(text.count("\n", 0, start) + 1, start - line_start + 1, start, end)


def _tokens(text: str):
    """(type, start, end) of each token, as lark's lexer reads them; (None, ...) at a
    character no terminal matches."""
    table = _fast_table()
    if table is None:
        from lark.exceptions import LarkError
        try:
            for tok in _get_parser().lex(text):
                yield tok.type, tok.start_pos, tok.end_pos
        except LarkError:
            yield None, 0, 0
        return
    end = 0
    for match in iter(table.regex.scanner(text).match, None):
        kind = match.lastgroup
        end = match.end()
        yield kind, end - len(match[kind]), end
    if end != len(text) and not table.tail.match(text, end):
        yield None, end, end


def write_table():
    """Rewrite grammar/exprgrad.lalr.json from grammar/exprgrad.lark (in a checkout)."""
    from pathlib import Path
    path = Path(__file__).resolve().parent.parent / "grammar" / TABLE_FILE
    data = table_data()
    lines = ",\n".join(f" {json.dumps(k)}: {json.dumps(v)}" for k, v in data.items()
                       if k not in ("action", "goto"))
    for key in ("action", "goto"):      # a state per line: a grammar change reads as a diff
        rows = ",\n  ".join(json.dumps(row, sort_keys=True) for row in data[key])
        lines += f",\n {json.dumps(key)}: [\n  {rows}\n ]"
    path.write_text("{\n" + lines + "\n}\n", encoding="utf-8")
    return path


if __name__ == "__main__":
    print(f"wrote {write_table()}")

"""What a code-generation backend is: one declared description, data plus a few line formats.

Input: nothing (this module defines the shape).  Output: `Backend`, which python.py, numpy.py,
array.py and c.py each instantiate once, and `Template`, an op's printed form for one backend, built
from the registry (`ops.Op`: its ``code`` entry for the backend, else its standard function
``fn`` as the backend spells it, else its infix operator).  Precedence comes from the registry's
one table (`ops.PREC_*`): an infix form carries its own, every other form is one atom.

Adding an op touches its registry entry only; adding a backend is one more `Backend` (ops with
no form for it are unsupported there, and say so at emit time).

>>> from exprgrad.codegen import BACKENDS
>>> BACKENDS["numpy"].template(OPS["asin"]).pieces
('np.asin(', (0, 0), ')')
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable, Mapping

from ..errors import CodegenError
from ..ops import OPS, PREC_ATOM, PREC_NEG, Form, Infix, Op, Unsupported

PREC_LEAF = PREC_ATOM + 1    # a name or a literal: what a form repeating "{0}" needs


@dataclass(frozen=True)
class Template:
    """An op's printed form: ``pieces`` are text or ``(argument index, precedence that
    argument needs)``; ``prec`` is how tightly the whole binds; ``imports`` what it needs."""
    pieces: tuple
    prec: int
    imports: tuple[str, ...] = ()

    @cached_property        # read for every node printed: computed once per template
    def needs(self) -> tuple[tuple[int, int], ...]:
        return tuple(p for p in self.pieces if isinstance(p, tuple))

    @cached_property
    def fmt(self) -> str:
        """The form as a `str.format` string, one ``{}`` per argument piece in order."""
        return "".join(p.replace("{", "{{").replace("}", "}}") if isinstance(p, str) else "{}"
                       for p in self.pieces)

    @cached_property
    def left_flat(self) -> bool:
        """Whether the first argument comes first, at this form's own precedence (the left
        operand of a left-associative operator: ``a + b + c`` needs no parentheses)."""
        return self.pieces[0] == (0, self.prec)

    def other(self, k: int) -> "Template":
        """A binary op's special form (written with "{0}" only): "{0}" is the argument that
        is not the constant at index `k`."""
        return Template(tuple((1 - k, p[1]) if isinstance(p, tuple) else p
                              for p in self.pieces), self.prec, self.imports)


def infix_template(form: Infix) -> Template:
    # Left-associative operators need a tighter right operand; a right-associative one (**)
    # a tighter left one, and its exponent may be a unary minus (x ** -y).
    p = form.prec
    left, right = (p + 1, PREC_NEG) if form.right_assoc else (p, p + 1)
    return Template(((0, left), f" {form.symbol} ", (1, right)), p)


def form_template(text: str, arity: int, imports: tuple[str, ...] = (),
                  prec: int = PREC_ATOM) -> Template:
    """A form with placeholders, one atom unless `prec` says how tightly its top-level
    operator binds: a placeholder used twice must be a plain name (computing an argument
    twice is not an option); one that is a whole call argument takes anything."""
    parts = re.split(r"(\{\d\})", text)
    counts = [text.count(f"{{{i}}}") for i in range(arity)]
    pieces: list = []
    for i, part in enumerate(parts):
        m = re.fullmatch(r"\{(\d)\}", part)
        if not m:
            if part:
                pieces.append(part)
            continue
        k = int(m.group(1))
        before, after = parts[i - 1] if i else "", parts[i + 1] if i + 1 < len(parts) else ""
        if counts[k] > 1:
            need = PREC_LEAF
        elif before.endswith(("(", ", ")) and after.startswith((")", ",")):
            need = 0
        else:
            need = PREC_ATOM
        pieces.append((k, need))
    return Template(tuple(pieces), prec, tuple(imports))


@dataclass(frozen=True)
class Backend:
    """One target language.  Data: its name (the key of ``Op.code``), how it calls a standard
    math function, its reserved names and identifier syntax; and the line formats of a
    function: signature, argument prologue, statement, return, comment."""
    name: str
    call: str                              # a standard function: "np.{}" → np.tanh(...)
    functions: Mapping[str, str | None]    # spelling of standard names here; None: missing
    imports: tuple[str, ...]               # lines every file starts with
    reserved: frozenset[str]
    valid: Callable[[str], bool]           # is this an identifier of the language?
    inf: str                               # how +infinity is written
    comment: Callable[[str], str]
    signature: Callable                    # (name, params, results) -> lines
    prologue: Callable                     # (params, used identifiers) -> lines
    statement: Callable                    # (name, expression) -> line
    body_comment: Callable                 # (text) -> line
    returns: Callable                      # (results: list[Returned]) -> lines
    end: Callable                          # () -> lines
    describe: Callable                     # (name, params, results: list[Returned]) -> lines
    header: Callable | None = None         # (name, params, results) -> prototype lines (C)
    # (function name) -> why the language's library reserves it for itself, or None (C: a
    # function named malloc would replace the library's in the whole program)
    library_name: Callable[[str], str | None] | None = None
    extension: str = ".py"
    # True: `functions` lists every standard function the target has, and any other is
    # missing (the array API standard is a short list: a <math.h> name printed as ``xp.cbrt``
    # would fail only when PyTorch runs it).  False: any other exists under its C name.
    only_listed: bool = False
    # Forms borrowed from another backend's ``Op.code`` entries (numpy prints the array API
    # forms), respelled by `spell` (``xp.`` → ``np.``).
    forms: str = ""
    spell: Callable[[str], str] | None = None
    # Array code: how a constant leaf of a subexpression that depends on no variable is
    # printed ("np.float64({})"), so that the library computes it (IEEE: 0.5/0 is inf, not
    # Python's ZeroDivisionError; (-pi)**0.5 is nan, not a complex number).  None: literals.
    const: str | None = None
    notes: tuple[str, ...] = ()            # lines the header of every file adds
    # The import that binds a standard function's name in the module ("from math import {}"),
    # for a `call` that spells it bare: a global name costs a call one lookup, `math.tanh` two.
    bind: str | None = None
    # Imports by what the code spells: a form or literal containing the key ("math.") needs
    # the line ("import math"), and a file imports it only where a function prints one.
    modules: Mapping[str, str] = field(default_factory=dict)
    # A function longer than `max_statements` statements and result entries is printed as
    # parts of `part_statements` by `split` (name, params, results, parts: list[Part], slots,
    # scratch) -> lines; None: always one function (CPython compiles long functions in linear
    # time, gcc does not).
    split: Callable | None = None
    max_statements: int | None = None
    part_statements: int = 0
    _templates: dict = field(default_factory=dict, compare=False, repr=False)

    def template(self, op: Op) -> Template:
        """The op's printed form here; CodegenError if this backend cannot print it."""
        t = self._templates.get(op.name)
        if t is None:
            t = self._templates[op.name] = self._build(op)
        if isinstance(t, Unsupported):
            raise CodegenError(f"{op.name} cannot be emitted as {self.name} code: {t.reason}")
        return t

    def special(self, op: Op) -> list[tuple[int, object, Template]]:
        """``(argument index, constant, template)`` (see `Op.special`): a template of the
        other argument, or for constant None (any other constant) of both."""
        return [(k, value, self._build(op, form) if value is None else
                 form_template(form, 1, self.spelled_imports(form), prec).other(k))
                for k, value, form, prec in op.special]

    def spelled_imports(self, text: str, imports: tuple[str, ...] = ()) -> tuple[str, ...]:
        """`imports` and the import of every module `text` spells (see ``modules``)."""
        return imports + tuple(line for prefix, line in self.modules.items() if prefix in text)

    def _build(self, op: Op, code: dict | None = None):
        code = op.code if code is None else code
        form = code.get(self.name)
        if form is None and self.forms:
            form = code.get(self.forms)
            if self.spell is not None and isinstance(form, (str, Form)):
                form = Form(self.spell(getattr(form, "text", form)), getattr(form, "imports", ()))
        if isinstance(form, Unsupported):
            return form
        if isinstance(form, Infix):
            return infix_template(form)
        if isinstance(form, (str, Form)):
            text, imports = (form, ()) if isinstance(form, str) else (form.text, form.imports)
            return form_template(text, op.arity, self.spelled_imports(text, imports))
        if op.fn:
            spelled = self.functions.get(op.fn, None if self.only_listed else op.fn)
            if spelled is None:
                return Unsupported(f"{self.name} has no {op.fn} function")
            args = ", ".join(f"{{{i}}}" for i in range(op.arity))
            return form_template(f"{self.call.format(spelled)}({args})", op.arity,
                                 (self.bind.format(spelled),) if self.bind else ())
        if op.infix and op.arity == 2:
            return infix_template(Infix(op.infix, op.prec, op.right_assoc))
        if op.infix:                        # unary minus; "- -x" would be C's "--"
            return Template((op.infix, (0, PREC_NEG + 1)), PREC_NEG)
        return Unsupported(f"no {self.name} form for {op.name}")

    def check(self) -> None:
        """Build every op's template now (tests call it): a malformed form fails here."""
        for op in OPS.values():
            self._templates.pop(op.name, None)
            self._build(op)


@dataclass(frozen=True)
class Returned:
    """One result as a function returns it: identifiers for C's out-parameters and the
    texts of its entries (a name, or an expression used only there), with their labels."""
    name: str
    shape: tuple[int, ...]
    texts: list[str]
    labels: tuple[str, ...]
    axes: tuple = ()


def import_lines(lines) -> list[str]:
    """Distinct import lines in their order, every ``from M import name`` of one module M
    merged into one line at the first one's place (names sorted)."""
    out: list[str] = []
    names: dict[str, set[str]] = {}
    for line in lines:
        m = re.fullmatch(r"from (\S+) import (\w+(?:, \w+)*)", line)
        if m is None:
            if line not in out:
                out.append(line)
            continue
        if m.group(1) not in names:
            names[m.group(1)] = set()
            out.append(m.group(1))      # the module's place, filled in below
        names[m.group(1)].update(m.group(2).split(", "))
    return [f"from {x} import {', '.join(sorted(names[x]))}" if x in names else x for x in out]


@dataclass
class Part:
    """One part of a function split by `FunctionPrinter.split`, in order: printed lines
    (str) and the items the backend prints — ``("param", index, identifier)``, ``("load",
    slot, identifier)``, ``("store", slot, identifier)`` (the scratch array) and ``("entry",
    result index, entry index, text, label)``."""
    items: list = field(default_factory=list)


def printable(text: str) -> str:
    """Control characters (which could end a comment line) spelled as escapes."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() or ch == "\t" else f"\\u{ord(ch):04x}" for ch in text)

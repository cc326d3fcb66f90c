"""Code generation: a forward graph → standalone source text (Python, NumPy or C).

Input: a forward `Graph` (``Function.ir`` or ``trace.trace(...)``).  The gradient pass
(`autodiff.grad_graph`) turns it into one straight-line program, the forward sweep then the
adjoint sweep, with every shared subexpression computed once; this module decides which nodes
get a statement (named nodes, nodes used more than once, nodes a snippet needs as a plain name,
and whatever keeps an inlined expression under `MAX_INLINE_HEIGHT` levels), gives them names
(`naming`), and prints each op with its snippet from the registry (``Op.py``/``np``/``c``)
using one precedence table, so parentheses are minimal.  Output: the text of a file with

- ``f(x1, ...)`` → the value, and
- ``grad_f(x1, ...)`` → ``(value, (d_x1, ...))``, partials in ``graph.variables`` order

(C: ``double f(const double *in)`` and ``double grad_f(const double *in, double *grad_out)``).
A backend module (`python`, `numpy`, `c`) holds only data: header, signature, statement syntax.

>>> from exprgrad.lower import lower
>>> from exprgrad.parse import parse
>>> f, grad_f = load_python(emit(lower(parse("y = x*x; z = sin(y)")), "python"))
>>> grad_f(x=3.0) == (math.sin(9.0), (6.0 * math.cos(9.0),))
True
"""
from __future__ import annotations

import bisect
import builtins
import math
import re
from dataclasses import dataclass
from typing import Sequence

from ..autodiff import grad_graph
from ..errors import CodegenError
from ..ir import Graph, Node, gc_paused
from ..printer import format_expr
from ..ops import OPS, PREC_ADD, PREC_ATOM, PREC_MUL, PREC_NEG, PREC_POW
from . import c, numpy, python
from .load import _loaded, load_namespace, load_python
from .naming import Namer

BACKENDS = {"python": python, "numpy": numpy, "c": c}
STRATEGIES = ("reverse", "symbolic")
MAX_INLINE_HEIGHT = 8        # nesting of inlined single-use values (CPython allows 200 parens)
MAX_CHAIN = 64               # terms of one flat inlined chain such as a + b + c (AST depth)
MAX_COMMENT = 96             # characters of one "# grad of:" description
MAX_SOURCE = 2000            # characters of the source expression repeated in the header
PREC_LEAF = PREC_ATOM + 1    # a name or a literal: what a snippet repeating "{0}" needs


# ---- snippets → templates (checked at import time for every op and every backend) -------------

@dataclass(frozen=True)
class Template:
    pieces: tuple            # text, or (argument index, precedence the argument needs)
    prec: int                # how tightly the printed form binds

    @property
    def needs(self) -> list[tuple[int, int]]:
        return [p for p in self.pieces if isinstance(p, tuple)]


_INFIX = {"+": PREC_ADD, "-": PREC_ADD, "*": PREC_MUL, "/": PREC_MUL, "**": PREC_POW}


def template(snippet: str, arity: int) -> Template:
    """Parse a registry snippet: where its arguments sit and how much they must bind."""
    parts = re.split(r"(\{\d\})", snippet)
    counts = [snippet.count(f"{{{i}}}") for i in range(arity)]
    if any(k == 0 for k in counts):
        raise ValueError(f"snippet {snippet!r} does not use all {arity} arguments")
    infix = re.fullmatch(r"\{0\} (\+|-|\*|/|\*\*) \{1\}", snippet)
    if infix:
        p = _INFIX[infix.group(1)]
        # Left-associative operators need a tighter right operand; ** is right-associative and
        # its exponent may be a unary minus (x ** -y).
        needs = (p + 1, PREC_NEG) if p == PREC_POW else (p, p + 1)
        return Template(((0, needs[0]), parts[2], (1, needs[1])), p)
    if snippet == "-{0}":
        return Template(("-", (0, PREC_NEG + 1)), PREC_NEG)   # "- -x" would be C's "--"
    pieces = []
    for i, part in enumerate(parts):
        m = re.fullmatch(r"\{(\d)\}", part)
        if not m:
            if part:
                pieces.append(part)
            continue
        k = int(m.group(1))
        before, after = parts[i - 1] if i else "", parts[i + 1] if i + 1 < len(parts) else ""
        if counts[k] > 1:
            need = PREC_LEAF                  # repeated: computing it twice is not an option
        elif before.endswith(("(", ", ")) and after.startswith((")", ",")):
            need = 0                          # a whole call argument: anything goes
        else:
            need = PREC_ATOM
        pieces.append((k, need))
    return Template(tuple(pieces), _snippet_prec(snippet))


def _snippet_prec(snippet: str) -> int:
    """PREC_ATOM for a call or a parenthesised whole, else its loosest top-level operator."""
    depth, top = 0, []
    for ch in snippet:
        depth += ch == "("
        depth -= ch == ")"
        top.append(ch if depth == 0 and ch != ")" else "\0")
    text = "".join(top)
    if re.fullmatch(r"[\w.]*\0*", text):
        return PREC_ATOM                      # f(...), (...), math.pi, 3.14
    if " if " in text or " ? " in text:
        return 0
    found = [p for sym, p in _INFIX.items() if f" {sym} " in text]
    return min(found) if found else PREC_NEG  # a prefix form such as a C cast


def _other(t: Template, k: int) -> Template:
    """A binary op's special form: its "{0}" is the argument that is not the constant `k`."""
    return Template(tuple((1 - k, p[1]) if isinstance(p, tuple) else p for p in t.pieces), t.prec)


TEMPLATES = {target: {name: template(getattr(o, backend.SNIPPET), o.arity)
                      for name, o in OPS.items()}
             for target, backend in BACKENDS.items()}
#: target -> op -> [(argument index, constant, template of the other argument)] (Op.special)
SPECIAL = {target: {name: [(k, value, _other(template(forms[backend.SNIPPET], 1), k))
                           for k, value, forms in o.special]
                    for name, o in OPS.items() if o.special}
           for target, backend in BACKENDS.items()}


# ---- the program: which nodes get statements, and their names ---------------------------------

@dataclass
class Program:
    """A gradient program ready to print: the graph, its roots and every node's identifier."""
    graph: Graph
    wrt: list[str]
    names: dict[int, str]          # node index -> identifier (variables, statements)
    params: list[str]              # identifiers of the variables, in `wrt` order
    value_name: str
    grad_names: list[str]          # identifiers of the partials, in `wrt` order
    renamed: dict[str, str]


def build(graph: Graph, strategy: str = "reverse") -> Graph:
    """The straight-line program for `strategy`: outputs ``[value, d_v for v in variables]``."""
    if strategy == "reverse":
        return grad_graph(graph)
    if strategy == "symbolic":
        from .from_sympy import symbolic_graph
        return symbolic_graph(graph)
    raise CodegenError(f"unknown strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}")


def name_program(g: Graph, backend, function_names: Sequence[str]) -> tuple[Program, Namer]:
    """Identifiers for variables, labels, adjoints of labels and partials (see `naming`)."""
    wrt = [n[2:] for n in g.output_names[1:]]
    y, grads = g.outputs[0], g.outputs[1:]
    namer = Namer(backend.RESERVED | set(function_names), backend.valid)
    reachable = g.order()
    labelled = [n for n in reachable if n in g.labels]
    wanted = [(("var", v), v) for v in wrt]
    wrt_set = set(wrt)          # a set: 30,000 variables made `in wrt` quadratic
    wanted += [(("var", v), v) for v in sorted(g.vars) if v not in wrt_set]
    wanted += [(("node", n.index), g.labels[n]) for n in labelled]
    value_key = ("var", y.payload) if y.op == "var" else ("node", y.index)
    if y.op not in ("var", "const") and y not in g.labels:
        wanted.append((value_key, "value"))
    idents = namer.claim_all(wanted)
    renamed = dict(namer.renamed)
    names = {g.vars[v].index: idents[("var", v)] for v in g.vars}
    names.update({n.index: idents[("node", n.index)] for n in labelled})
    if y.op != "const":
        names[y.index] = idents[value_key]
    grad_names = [namer.claim(f"d_{v}") for v in wrt]
    adjoints = getattr(g, "adjoints", {})
    for n in labelled:
        a = adjoints.get(n.index)
        if a is not None and a.args and a.index not in names:
            names[a.index] = namer.claim(f"d_{g.labels[n]}")
    for node, ident in zip(grads, grad_names):
        if node.args and node.index not in names:
            names[node.index] = ident
    params = [names[g.vars[v].index] for v in wrt]
    value = names.get(y.index) or ""
    return Program(g, wrt, names, params, value, grad_names, renamed), namer


# ---- printing -------------------------------------------------------------------------------

class _Printer:
    """Prints one function of a program: statements in topological order, single uses inlined."""

    def __init__(self, prog: Program, namer: Namer, backend, templates: dict,
                 special: dict | None = None):
        self.prog, self.namer, self.backend, self.templates = prog, namer, backend, templates
        self.special = special or {}

    def template(self, node: Node) -> Template:
        """The op's template, or its special form when that constant argument is present."""
        for k, value, t in self.special.get(node.op, ()):
            if node.args[k].op == "const" and node.args[k].payload == value:
                return t
        return self.templates[node.op]

    def statements(self, roots: list[Node], returned: Sequence[str] = ()
                   ) -> tuple[list[Node], list[Node], set[int]]:
        """(every node `roots` need, the ones that get a statement, their indices).

        ``returned[i]`` is the identifier of ``roots[1 + i]``, a partial: one that nothing else
        uses is printed inside the return (no local to store and load again), as by hand.
        """
        g, names = self.prog.graph, self.prog.names
        order = g.order(roots)
        uses = [0] * len(g.nodes)
        for n in order:
            for a in n.args:
                uses[a.index] += 1
        for r in roots:
            uses[r.index] += 1
        inline = {r.index for r, ident in zip(roots[1:], returned)
                  if uses[r.index] == 1 and names.get(r.index) == ident and r != roots[0]}
        stmt = {n.index for n in order if n.args and n.index not in inline
                and (n.index in names or uses[n.index] > 1)}
        if roots[0].args:
            stmt.add(roots[0].index)
        height = [0] * len(g.nodes)
        chain = [0] * len(g.nodes)
        for n in order:
            if not n.args:
                continue
            t = self.template(n)
            h, c = 1, 1
            for k, need in t.needs:
                a = n.args[k]
                if not a.args:
                    continue
                # The left operand of a left-associative operator at its own level (a + b + c)
                # prints without parentheses: a long flat sum stays one line, up to MAX_CHAIN.
                flat = k == 0 and t.pieces[0] == (0, t.prec) and \
                    self.template(a).prec == t.prec
                too_deep = chain[a.index] >= MAX_CHAIN if flat \
                    else height[a.index] >= MAX_INLINE_HEIGHT
                if a.index not in stmt and (need == PREC_LEAF or too_deep):
                    stmt.add(a.index)
                if a.index not in stmt:
                    if flat:
                        h, c = max(h, height[a.index]), chain[a.index] + 1
                    else:
                        h = max(h, height[a.index] + 1)
            height[n.index], chain[n.index] = h, c
        for i in sorted(stmt):
            if i not in names:
                names[i] = self.namer.temporary()
        return order, [n for n in order if n.index in stmt], stmt

    def expr(self, node: Node, stmt: set[int], root: bool = False) -> tuple[str, int]:
        """Text and precedence of `node` (its name unless it is the statement being printed)."""
        if node.op == "const":
            return self.literal(float(node.payload))
        if node.index in stmt and not root or not node.args and node.op == "var":
            return self.prog.names[node.index], PREC_LEAF
        t = self.template(node)
        out = []
        for p in t.pieces:
            if isinstance(p, str):
                out.append(p)
                continue
            text, prec = self.expr(node.args[p[0]], stmt)   # inlined depth ≤ MAX_INLINE_HEIGHT
            out.append(f"({text})" if prec < p[1] else text)
        return "".join(out), t.prec

    def literal(self, x: float) -> tuple[str, int]:
        text = repr(abs(x)) if math.isfinite(x) else self.backend.INF
        return ("-" + text, PREC_NEG) if x < 0 or math.copysign(1, x) < 0 else (text, PREC_LEAF)

    def ref(self, node: Node, stmt: set[int]) -> str:
        text, prec = self.expr(node, stmt)
        return text if prec >= PREC_NEG else f"({text})"


@gc_paused()    # building ~10^5 nodes and lines with the collector on is quadratic (W4)
def emit(graph: Graph, target: str, name: str = "f", strategy: str = "reverse") -> str:
    """Standalone source for `target` ("python", "numpy" or "c"): ``name`` and ``grad_name``.

    >>> from exprgrad.lower import lower
    >>> from exprgrad.parse import parse
    >>> print(emit(lower(parse("n = x*w; o = tanh(n)")), "python").split("\\n\\n\\n")[-1].strip())
    def grad_f(w, x):
        n = x * w
        o = math.tanh(n)
        # grad of: o = tanh(n)
        d_n = 1.0 - o * o
        return o, (
            d_n * x,  # d_w
            d_n * w,  # d_x
        )
    """
    backend = BACKENDS.get(target)
    if backend is None:
        raise CodegenError(f"unknown target {target!r}; choose one of {', '.join(BACKENDS)}")
    grad_name = f"grad_{name}"
    namer_check = Namer(backend.RESERVED, backend.valid)
    if not backend.valid(name) or not namer_check.free(name):
        raise CodegenError(f"function name {name!r} is not usable in {target} code")
    g = build(graph, strategy)
    prog, namer = name_program(g, backend, (name, grad_name))
    printer = _Printer(prog, namer, backend, TEMPLATES[target], SPECIAL[target])
    y = g.outputs[0]
    f_lines = _function(printer, "value", name, [y])
    grad_lines = _function(printer, "grad", grad_name, g.outputs)
    head = _header(graph, prog, backend, name, grad_name, strategy, target)
    blocks = [head + [""] + backend.IMPORTS, f_lines, grad_lines]
    return "\n\n\n".join("\n".join(b) for b in blocks) + "\n"


#: names in `emit_for_function`'s module besides the program's own identifiers
_KW_NAMES = ("f", "grad_f", "grad_kw", "checked", "kw", "args")


@gc_paused()
def emit_for_function(graph: Graph) -> str:
    """Python for `api.Function`'s fast path: ``f`` and ``grad_f`` as `emit` writes them, and

    ``grad_kw(*args, **kw)`` → ``(value, {variable: partial})``: the keyword arguments read,
    converted by ``float()`` and differentiated in one call, with no adapter between.  Anything
    else — positional arguments, a missing or unknown variable, a value ``float()`` rejects, a
    math error (a domain error) — goes to the module global ``checked`` (the loader sets it),
    which names the problem.  Same statements as ``grad_f``, so the same floats.
    """
    backend = python
    g = build(graph)
    prog, namer = name_program(g, backend, _KW_NAMES)
    printer = _Printer(prog, namer, backend, TEMPLATES["python"], SPECIAL["python"])
    f_lines = _function(printer, "value", "f", [g.outputs[0]])
    grad_lines = _function(printer, "grad", "grad_f", g.outputs)
    body, value, grads = _body(printer, "grad", g.outputs)
    reads = [f"        {p} = float(kw[{v!r}])" for v, p in zip(prog.wrt, prog.params)]
    entries = [f"            {v!r}: {text}," for v, text in zip(prog.wrt, grads)]
    kw_lines = (["def grad_kw(*args, **kw):",
                 f"    if args or len(kw) != {len(prog.wrt)}:",
                 "        return checked(*args, **kw)",
                 "    try:"]
                + reads + ["    " + line for line in body]
                + [f"        return {value}, {{"] + entries + ["        }",
                   "    except (KeyError, TypeError, ValueError, ZeroDivisionError, "
                   "OverflowError):",
                   "        return checked(*args, **kw)"])
    blocks = [backend.IMPORTS, f_lines, grad_lines, kw_lines]
    return "\n\n\n".join("\n".join(b) for b in blocks) + "\n"


def _function(printer: _Printer, kind: str, fname: str, roots: list[Node]) -> list[str]:
    prog, backend = printer.prog, printer.backend
    body, value, grads = _body(printer, kind, roots)
    tail = backend.value_return(value) if kind == "value" else \
        backend.grad_return(value, grads, prog.grad_names)
    used = {prog.names[n.index] for n in prog.graph.order(roots) if n.op == "var"}
    return (backend.signature(kind, fname, prog.params) + backend.prologue(prog.params, used)
            + body + tail + backend.end())


def _body(printer: _Printer, kind: str, roots: list[Node]) -> tuple[list[str], str, list[str]]:
    """(statements, the value's text, the partials' texts): partials used nowhere else are
    whole expressions, to be printed where they are returned."""
    prog, backend = printer.prog, printer.backend
    returned = prog.grad_names if kind == "grad" else ()
    order, nodes, stmt = printer.statements(roots, returned)
    body = []
    blocks = getattr(prog.graph, "blocks", [])
    starts = [s for _, s in blocks]
    current = None
    for n in nodes:
        if kind == "grad" and starts and n.index >= starts[0]:
            b = bisect.bisect_right(starts, n.index) - 1
            if b != current:
                current = b
                body.append(backend.body_comment(_describe(prog, blocks[b][0], stmt)))
        body.append(backend.statement(prog.names[n.index], printer.expr(n, stmt, root=True)[0]))
    value = printer.ref(roots[0], stmt)
    grads = [printer.expr(node, stmt)[0] for node in roots[1:]] if kind == "grad" else []
    return body, value, grads


def _describe(prog: Program, node: Node, stmt: set[int]) -> str:
    """``o = tanh(n)``: the forward statement a block of adjoint statements differentiates."""
    g = prog.graph
    shown = {n: g.labels[n] for n in [node, *node.args] if n in g.labels}
    shown.update({a: prog.names[a.index] for a in node.args
                  if a not in shown and a.index in prog.names})
    text = format_expr(node, {**shown, **{n: "…" for n in _deep(node)}}, root=node)
    if node in g.labels:
        text = f"{g.labels[node]} = {text}"
    text = " ".join(text.split())
    return "grad of: " + (text if len(text) <= MAX_COMMENT else text[:MAX_COMMENT - 1] + "…")


def _deep(node: Node, depth: int = 3) -> list[Node]:
    """Nodes `depth` levels below `node`: shown as "…" so a description stays small."""
    level = [node]
    for _ in range(depth):
        level = [a for n in level for a in n.args if a.args]
    return level


def _header(graph: Graph, prog: Program, backend, name: str, grad_name: str, strategy: str,
            target: str) -> list[str]:
    from .. import __version__
    source = graph.source or "(built without source text)"
    if len(source) > MAX_SOURCE:
        source = source[:MAX_SOURCE] + f"… ({len(graph.source)} characters)"
    lines = [f"Generated by exprgrad {__version__} ({target}, strategy {strategy}): standalone "
             "value and gradient code.", "source:"]
    lines += ["    " + _printable(line) for line in source.splitlines() or [""]]
    lines += backend.describe(name, grad_name, prog.params, prog.value_name or "the value",
                              prog.grad_names)
    if prog.renamed:
        lines.append("renamed (source name -> name here): " + ", ".join(
            f"{_printable(k)} -> {v}" for k, v in prog.renamed.items()))
    return [backend.comment(line) for line in lines]


def _printable(text: str) -> str:
    """Control characters (which could end a comment line) spelled as escapes."""
    return "".join(ch if ch.isprintable() or ch == "\t" else f"\\u{ord(ch):04x}" for ch in text)


def keyword_functions(graph: Graph, f, grad_f):
    """``(call, grad)`` taking the variables as keyword arguments, or None if some variable
    is not a Python identifier as written.  ``grad`` returns ``(value, {name: partial})``.

    For `Function`: Python binds the keywords (unknown or missing ones raise TypeError) and
    ``float()`` checks each value, with no per-call bookkeeping in Python.
    """
    names = list(graph.variables)
    reserved = python.RESERVED | {"f", "grad_f"}
    if not all(python.valid(v) and v not in reserved and not v.startswith("__") for v in names):
        return None
    params = ", ".join(names)
    floats = ", ".join(f"float({v})" for v in names)
    partials = [f"d{i}" for i in range(len(names))]
    unpacked = ", ".join(partials) + ("," if len(names) == 1 else "")
    as_dict = ", ".join(f"{v!r}: {d}" for v, d in zip(names, partials))
    source = (f"def call({params}):\n    return f({floats})\n\n"
              f"def grad({params}):\n    value, ({unpacked}) = grad_f({floats})\n"
              f"    return value, {{{as_dict}}}\n")
    namespace = {"__builtins__": builtins, "f": f, "grad_f": grad_f}
    code = compile(source, f"<exprgrad keyword adapter #{next(_loaded)}>", "exec")
    exec(code, namespace)  # safe: names checked as plain identifiers above, keys repr()'d
    return namespace["call"], namespace["grad"]

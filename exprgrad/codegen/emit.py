"""Printing programs: a `Program` and a `Backend` → the lines of one function.

Input: a program (its graph, parameters and results) and a backend.  This module decides
which nodes get a statement — named nodes, nodes used more than once, nodes a form needs as a
plain name, and whatever keeps an inlined expression under `MAX_INLINE_HEIGHT` levels — names
them, and prints each op with its template, so parentheses are minimal.  Output: the lines of
the function, in statement order: the forward sweep, then the derivative statements, each
block of them under a ``grad of: <the forward statement>`` comment in the target's syntax.
A C function longer than the backend's threshold is printed as parts of bounded length that it
calls (`FunctionPrinter.split`): the same statements, so the same floats.

Names say what things are.  Source variables and labels keep their spelling (renamed only
where the target forbids it, see naming.py); an unlabelled returned value is ``value``; the
adjoint of a named node ``n`` is ``d_n``; other shared forward values are ``t0, t1, ...``
and other shared derivative values ``g0, g1, ...`` — a partial's name (``d_x``) is given only
to a node that is that partial and nothing else.
"""
from __future__ import annotations

import bisect
import heapq
import math
from typing import Sequence

from ..ir import Node
from ..ops import OPS, PREC_NEG
from ..program import Program
from .backend import PREC_LEAF, Backend, Part, Returned, Template, printable
from .naming import Namer

MAX_INLINE_HEIGHT = 8        # nesting of inlined single-use values (CPython allows 200 parens)
MAX_CHAIN = 64               # terms of one flat inlined chain such as a + b + c (AST depth)
MAX_COMMENT = 96             # characters of one "grad of:" description
COMMENT_DEPTH = 3            # levels of an expression shown in a "grad of:" description


class FunctionPrinter:
    """Names and prints one function of `prog` for `backend` (see the module docstring)."""

    def __init__(self, prog: Program, backend: Backend, reserved: Sequence[str] = ()):
        self.prog, self.backend, self.graph = prog, backend, prog.graph
        self.namer = Namer(backend.reserved | set(reserved), backend.valid)
        self.names: dict[int, str] = {}
        self.forward = prog.forward_nodes()
        self._special = {}
        self._plain: dict[str, Template] = {}      # op -> template, ops without special forms
        self._special_used: dict[tuple, tuple[str, Template]] = {}    # the other forms used
        self._inf = False                           # an infinite literal was printed
        self._templates: list | None = None         # node index -> template (during printing)
        self._literals: dict[int, tuple[str, int]] = {}
        self.constant: set[int] = set()     # nodes that depend on no variable (array code)
        self.params = self._name_sources()
        self.renamed = dict(self.namer.renamed)
        self.scratch: str | None = None      # the array that carries values between parts
        self.used_params: set[str] = set()   # parameters the statements read (after `units`)

    # ---- names ----------------------------------------------------------------------------

    def _name_sources(self) -> list[str]:
        """Claim the names that come from the source, in a fixed order: parameters, then
        labels, then unlabelled primal results (``value``).  Returns the parameters'."""
        g, prog = self.graph, self.prog
        wanted = [(("var", v), prog.param_names.get(v, v)) for v in prog.params]
        reachable = g.order(prog.roots)
        labelled = [n for n in reachable if n in g.labels]
        wanted += [(("node", n.index), g.labels[n]) for n in labelled]
        primal = [(r, n, label) for r in prog.results for n, label in zip(r.nodes, r.labels)
                  if n in prog.primal]
        for _, n, label in primal:
            if n.args and n not in g.labels:
                # One unlabelled output is the "value"; several keep their output names.
                wanted.append((("node", n.index), "value" if len(prog.primal) == 1 else label))
        idents = self.namer.claim_all(wanted)
        for v in prog.params:
            self.names[g.vars[v].index] = idents[("var", v)]
        for n in labelled:
            self.names[n.index] = idents[("node", n.index)]
        for _, n, _ in primal:
            if ("node", n.index) in idents:
                self.names[n.index] = idents[("node", n.index)]
        return [idents[("var", v)] for v in prog.params]

    def _name_statements(self, stmt: set[int], uses: list[int]) -> None:
        """Names for the statement nodes that have none yet (see the module docstring)."""
        g, prog = self.graph, self.prog
        only_result: dict[int, str] = {}
        for r in prog.results:
            for n, label in zip(r.nodes, r.labels):
                if uses[n.index] == 1 and n.index not in self.forward:
                    only_result[n.index] = label
        adjoint_of: dict[int, int] = {}      # the first forward node (nearest the output) wins
        for k, a in prog.adjoints.items():
            if a.args and a.index not in self.forward:
                adjoint_of.setdefault(a.index, k)
        for i in sorted(stmt):
            if i in self.names:
                continue
            if i in only_result:
                self.names[i] = self.namer.claim(only_result[i])
            elif i in adjoint_of and adjoint_of[i] in self.names \
                    and g.nodes[adjoint_of[i]].op != "var":
                self.names[i] = self.namer.claim(f"d_{self.names[adjoint_of[i]]}")
            else:
                self.names[i] = self.namer.temporary("t" if i in self.forward else "g")

    # ---- statements ---------------------------------------------------------------------------

    def template(self, node: Node) -> Template:
        """The op's template, or its special form when that constant argument is present."""
        t = self._plain.get(node.op)
        if t is not None:
            return t
        op = OPS[node.op]
        if not op.special:
            t = self._plain[node.op] = self.backend.template(op)
            return t
        forms = self._special.get(node.op)
        if forms is None:
            forms = self._special[node.op] = self.backend.special(op)
        for k, value, t in forms:
            if node.args[k].op == "const" and (value is None or node.args[k].payload == value):
                break
        else:
            t = self.backend.template(op)
        self._special_used[(node.op, id(t))] = (node.op, t)    # for `imports`
        return t

    def plan(self, roots: list[Node]) -> tuple[list[Node], set[int], list[int]]:
        """(the nodes that get a statement, in order; their indices; use counts).

        A returned node that nothing else uses is printed inside the return (no local to
        store and load again), as by hand; a value used twice gets a statement.  Every op
        node's template is looked up here, once (`print_nodes` reuses it).
        """
        g, names = self.graph, self.names
        order = g.order(roots)
        uses = [0] * len(g.nodes)
        for n in order:
            for a in n.args:
                uses[a.index] += 1
        for r in roots:
            uses[r.index] += 1
        stmt = {n.index for n in order if n.args and (n.index in names or uses[n.index] > 1)}
        height = [0] * len(g.nodes)
        chain = [0] * len(g.nodes)
        templates = self._templates = [None] * len(g.nodes)
        template, plain = self.template, self._plain
        for n in order:
            args = n.args
            if not args:
                continue
            t = templates[n.index] = plain.get(n.op) or template(n)
            h, c = 1, 1
            for k, need in t.needs:
                a = args[k]
                if not a.args:
                    continue
                i = a.index
                # The left operand of a left-associative operator at its own level (a + b + c)
                # prints without parentheses: a long flat sum stays one line, up to MAX_CHAIN.
                flat = k == 0 and t.left_flat and templates[i].prec == t.prec
                if i not in stmt and (need == PREC_LEAF or (
                        chain[i] >= MAX_CHAIN if flat else height[i] >= MAX_INLINE_HEIGHT)):
                    stmt.add(i)
                if i not in stmt:
                    if flat:
                        h, c = max(h, height[i]), chain[i] + 1
                    else:
                        h = max(h, height[i] + 1)
            height[n.index], chain[n.index] = h, c
        del height, chain
        self._name_statements(stmt, uses)
        if self.backend.const:
            self.constant = set()
            for n in order:
                if n.op != "var" and all(a.index in self.constant for a in n.args):
                    self.constant.add(n.index)
        return [n for n in order if n.index in stmt], stmt, uses

    def print_nodes(self, order, stmt: set[int], statement) -> dict[int, tuple[str, int]]:
        """Print the op nodes of `order` (the program's order, after `plan`) in one loop,
        without recursion: each node's text is built from its arguments' texts (a name, a
        literal, or an inlined argument's text, which has exactly one user and is dropped
        once used).  ``statement(node, text)`` receives each statement node's right-hand
        side, in order; returns the texts left over (returned values inlined in the return)."""
        names, templates, constant = self.names, self._templates, self.constant
        literal, wrap_constant = self._literal, self.array_constant
        pending: dict[int, tuple[str, int]] = {}
        take = pending.pop
        for n in order:
            args = n.args
            if not args:
                continue
            t = templates[n.index]
            wrap = constant and n.index in constant
            out = []
            for k, need in t.needs:
                a = args[k]
                if a.args:
                    if a.index in stmt:
                        out.append(names[a.index])
                        continue
                    text, prec = take(a.index)
                elif a.op == "var":
                    out.append(names[a.index])
                    continue
                else:                   # a constant, or an op without arguments (pi)
                    text, prec = literal(a) if a.op == "const" else self.expr(a, stmt)
                    if wrap:
                        text, prec = wrap_constant(text), PREC_LEAF
                out.append(f"({text})" if prec < need else text)
            if n.index in stmt:
                statement(n, t.fmt.format(*out))
            else:
                pending[n.index] = (t.fmt.format(*out), t.prec)
        return pending

    def _literal(self, node: Node) -> tuple[str, int]:
        found = self._literals.get(node.index)
        if found is None:
            found = self._literals[node.index] = self.literal(node.payload)
        return found

    def expr(self, node: Node, stmt: set[int], root: bool = False,
             depth: int = -1) -> tuple[str, int]:
        """Text and precedence of `node` (its name unless it is the statement being printed);
        ``depth`` levels at most, "…" below (for comments).  Recursion is bounded by `plan`:
        inlined expressions are at most MAX_INLINE_HEIGHT deep.  Statements are printed by
        `print_nodes` (one loop); this serves leaves and the ``grad of:`` comments."""
        if node.op == "const":
            return self.literal(node.payload)
        if node.index in stmt and not root or node.op == "var":
            return self.names[node.index], PREC_LEAF
        if depth == 0:
            return "…", PREC_LEAF
        t = self.template(node)
        wrap = node.index in self.constant
        out = []
        for p in t.pieces:
            if isinstance(p, str):
                out.append(p)
                continue
            arg = node.args[p[0]]
            text, prec = self.expr(arg, stmt, depth=depth - 1)
            if wrap and not arg.args:
                text, prec = self.array_constant(text), PREC_LEAF
            out.append(f"({text})" if prec < p[1] else text)
        return "".join(out), t.prec

    def array_constant(self, text: str) -> str:
        """A constant leaf as an array of the code's library (see `Backend.const`): array code
        computes a constant subexpression, or returns a constant, in array arithmetic."""
        return self.backend.const.format(text)

    def literal(self, value) -> tuple[str, int]:
        x = float(value)
        if math.isfinite(x):
            text = repr(abs(x))
        else:
            text, self._inf = self.backend.inf, True
        return ("-" + text, PREC_NEG) if math.copysign(1, x) < 0 else (text, PREC_LEAF)

    # ---- the function -------------------------------------------------------------------------

    def parts(self) -> tuple[list[str], list[Returned]]:
        """(the statements, with ``grad of:`` comments; the results as returned)."""
        units, results, _ = self.units()
        return [line for lines, _ in units for line in lines], results

    def units(self) -> tuple[list[tuple[list[str], Node]], list[Returned], set[int]]:
        """(each statement's lines — its ``grad of:`` comment, if one starts there, and the
        statement — with its node; the results as returned; the statement nodes)."""
        prog, backend, names = self.prog, self.backend, self.names
        _, stmt, uses = self.plan(prog.roots)
        g = self.graph
        # The parameters the program reads (a variable it reaches is used at least once).
        self.used_params = {p for v, p in zip(prog.params, self.params) if uses[g.vars[v].index]}
        del uses
        units = []
        starts = [s for _, s, _ in prog.blocks]
        current = [None]
        first = starts[0] if starts else None
        forward, line = self.forward, backend.statement

        def statement(n: Node, text: str) -> None:
            lines = []
            if first is not None and n.index >= first and n.index not in forward:
                b = bisect.bisect_right(starts, n.index) - 1
                if b != current[0]:
                    current[0] = b
                    node, _, label = prog.blocks[b]
                    lines.append(backend.body_comment(self.describe(node, stmt, label)))
            lines.append(line(names[n.index], text))
            units.append((lines, n))

        pending = self.print_nodes(self.graph.order(prog.roots), stmt, statement)

        def returned(n: Node) -> tuple[str, int]:
            if n.args and n.index not in stmt:
                return pending[n.index]
            return self.expr(n, stmt)

        results = []
        for r in prog.results:
            texts = []
            for n in r.nodes:
                text, prec = returned(n)
                texts.append(text if r.shape or prec >= PREC_NEG else f"({text})")
            if backend.const:       # a constant result is an array of the code's library too
                texts = [self.array_constant(t) if not n.args and n.op != "var" else t
                         for n, t in zip(r.nodes, texts)]
            results.append(Returned(r.name, r.shape, texts, tuple(map(printable, r.labels)),
                                    r.axes))
        self._templates = None
        return units, results, stmt

    def lines(self, fname: str, max_statements: int | None = None) -> list[str]:
        """The whole function: signature, prologue, statements, returns.  A backend that
        splits (C) prints a function of more than `max_statements` statements and result
        entries (default: the backend's) as parts of at most ``backend.part_statements``, or
        `max_statements` if fewer (see `split`)."""
        units, results, stmt = self.units()
        backend = self.backend
        most = max_statements or backend.max_statements
        if backend.split is not None and most \
                and len(units) + sum(len(r.texts) for r in results) > most:
            return self.split(fname, units, results, stmt, min(most, backend.part_statements))
        used = self.used_params
        body = [line for lines, _ in units for line in lines]
        return (backend.signature(fname, self.params, results)
                + backend.prologue(self.params, used) + body + backend.returns(results)
                + backend.end())

    def reads(self, node: Node, stmt: set[int], root: bool = False) -> set[str]:
        """The names `node`'s printed text reads (``root``: its statement's right-hand side):
        variables and other statements' values, through the single-use values inlined into
        it (each is walked once, for its one user: all statements cost the program's size)."""
        names, found = self.names, set()
        todo = list(node.args) if root else [node]
        while todo:
            a = todo.pop()
            if a.op == "var" or a.index in stmt:
                found.add(names[a.index])
            else:
                todo.extend(a.args)
        return found

    def split(self, fname: str, units, results: list[Returned], stmt: set[int],
              size: int) -> list[str]:
        """The function as consecutive parts of at most `size` statements and result entries,
        printed by the backend's `split` (why: gcc -O2 takes time superlinear in a straight-line
        function's length; parts of bounded size keep it linear in the program's).

        A value used by a later part crosses through a scratch array: the part that computes
        it stores it in a slot right after its statement, a later part that reads it loads it
        under the same name just before its first use there (parameters too), so every
        statement prints exactly as in one function and no value is live across a part it
        does not use (live ranges across the calls of tanh, exp... are what costs gcc time).
        A slot is reused after the last part that reads its value, so the array holds about
        what is live at a boundary of parts, not every value.  The first result's entries come
        last: C returns that value, from the last part.
        """
        names = self.names
        work = [(lines, names[n.index], sorted(self.reads(n, stmt, root=True)))
                for lines, n in units]
        entries = [(k, i, n) for k, r in enumerate(self.prog.results) for i, n in
                   enumerate(r.nodes)]
        entries = [e for e in entries if e[0]] + [e for e in entries if not e[0]]
        work += [((k, i), None, sorted(self.reads(n, stmt))) for k, i, n in entries]
        chunks = [work[i:i + size] for i in range(0, len(work), size)]
        made, last = {}, {}
        for c, chunk in enumerate(chunks):
            for _, name, reads in chunk:
                for v in reads:
                    last[v] = c
                if name is not None:
                    made[name] = c
        position = {p: i for i, p in enumerate(self.params)}
        free, slot, top, parts = [], {}, 0, []
        for c, chunk in enumerate(chunks):
            part, have, done = Part(), set(), []
            for what, name, reads in chunk:
                for v in reads:
                    if v in have or made.get(v) == c:
                        continue
                    have.add(v)
                    if v in position:
                        part.items.append(("param", position[v], v))
                    else:
                        part.items.append(("load", slot[v], v))
                        if last[v] == c:
                            done.append(slot.pop(v))
                if name is None:
                    k, i = what
                    part.items.append(("entry", k, i, results[k].texts[i], results[k].labels[i]))
                    continue
                part.items += what
                if last.get(name, c) > c:
                    if free:
                        slot[name] = heapq.heappop(free)
                    else:
                        slot[name], top = top, top + 1
                    part.items.append(("store", slot[name], name))
            for k in done:          # loaded somewhere in this part: free for later parts
                heapq.heappush(free, k)
            parts.append(part)
        if self.scratch is None:    # claimed last: it takes no name from the program
            self.scratch = self.namer.claim("scratch")
        return self.backend.split(fname, self.params, results, parts, top, self.scratch)

    def shapes(self) -> list[Returned]:
        """The results with their labels for texts (for documentation)."""
        return [Returned(r.name, r.shape, list(map(printable, r.labels)),
                         tuple(map(printable, r.labels)), r.axes) for r in self.prog.results]

    def imports(self) -> list[str]:
        """Lines the forms printed in this function need beyond the backend's own imports
        (after printing: the forms a node took, special ones included), ``import m`` lines
        first."""
        used = list(self._plain.items()) + list(self._special_used.values())
        lines = [line for _, t in sorted(used, key=lambda u: u[0]) for line in t.imports]
        if self._inf:
            lines += self.backend.spelled_imports(self.backend.inf)
        return sorted(lines, key=lambda line: not line.startswith("import "))

    def describe(self, node: Node, stmt: set[int], label: str = "grad of") -> str:
        """``grad of: o = tanh(n)``: the statement a block differentiates, in the
        target's syntax, arguments shown by name or to `COMMENT_DEPTH` levels ("…" below)."""
        if node is None:
            return label
        text = self.expr(node, stmt, root=True, depth=COMMENT_DEPTH)[0]
        if node.index in self.names:
            text = f"{self.names[node.index]} = {text}"
        text = " ".join(text.split())
        return f"{label}: " + (text if len(text) <= MAX_COMMENT else text[:MAX_COMMENT - 1] + "…")

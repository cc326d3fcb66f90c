"""Lowering: AST (`syntax.Program`) → graph IR (`ir.Graph`), applying the language's name rules.

Name resolution and lowering are one iterative walk: the AST is never rewritten, and user
functions are inlined as their bodies are lowered with the parameters bound to the argument
nodes (a macro of elementary ops).  A body is lowered once per distinct call, that is per
function and argument nodes: the graph is hash-consed, so a second ``f(x)`` would rebuild the
very same nodes, and nested definitions (``f1(x) = f0(x) + f0(x)``, ...) would cost 2^depth.
The graph may not grow past `limits.MAX_NODES`.  The rules (SPEC §1):

- a name assigned before use is an intermediate node, labelled with that name;
- assigning a name twice is an error, and so is reading a name before the statement that
  assigns it; a name that is never assigned is a variable;
- only the last statement may be a bare expression; the last statement is the output, or
  the outputs: ``p, q`` (several expressions), ``a, b = ...`` (several names), or a function
  of several values such as ``softmax(z1, z2)`` (outputs ``f0, f1, ...`` where unnamed).

>>> from exprgrad.parse import parse
>>> g = lower(parse("e = a*b; d = e + c; L = d*f"))
>>> g.variables, g.label(g.output)
(('a', 'b', 'c', 'f'), 'L')
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from . import limits, suggest, syntax as ast
from .errors import (ArityError, Span, ExprSyntaxError, ReassignmentError, UnknownFunctionError,
                     UseBeforeAssignmentError, NameResolutionError)
from .ir import Graph, Node, gc_paused
from .ops import CONSTANTS, FUNCTIONS


@dataclass
class _Scope:
    params: dict            # parameter name -> Node (empty at top level)
    visible_before: int     # statements with a smaller index are visible
    fn: str = ""            # the user function being inlined, for messages


@dataclass
class _UserFunction:
    node: ast.FuncDef
    index: int              # its statement index: names assigned before it are visible

    def __post_init__(self):    # read at every call: computed once
        self.params = [p.id for p in self.node.params]


class _Lowerer:
    def __init__(self, program: ast.Program, source: str):
        self.source = source
        self.graph = Graph(source)
        self.statements = program.statements
        self.env: dict[str, Node] = {}
        self.functions: dict[str, _UserFunction] = {}
        # (function name, argument node indices) -> the node its body lowered to
        self.inlined: dict[tuple, Node] = {}
        self.consts: dict[int, Node] = {}   # id of a literal's Fraction -> its node
        self.keep: list = []                # those Fractions (their ids stay theirs)
        # Where each name is (first) assigned, to tell "used before assignment" from "variable".
        self.assigned_at: dict[str, int] = {}
        for i, stmt in enumerate(self.statements):
            for target in _targets(stmt):
                self.assigned_at.setdefault(target.id, i)

    def error(self, cls, message, span, **extra):
        return cls(message, span, self.source, **extra)

    # ---- statements -----------------------------------------------------------------------

    def run(self) -> Graph:
        last = len(self.statements) - 1
        outputs: list[Node] = []
        for i, stmt in enumerate(self.statements):
            kind = type(stmt)
            if kind is ast.Assign:
                outputs = self.assign(stmt, i)
            elif kind is ast.FuncDef:
                self.define(stmt, i)
                if i == last:
                    raise self.error(ExprSyntaxError, "the program ends with a function "
                                     "definition: add an expression that uses it", stmt.span)
            else:
                if i != last:
                    raise self.error(ExprSyntaxError, "only the last statement can be a bare "
                                     "expression: assign this one to a name", stmt.span)
                outputs = self.values(stmt, _Scope({}, i))
        names = self.output_names(self.statements[last], outputs)
        self.graph.outputs.extend(outputs)
        self.graph.output_names.extend(names)
        return self.graph

    def output_names(self, stmt: ast.Node, outputs: list[Node]) -> list[str]:
        """An assigned name, a name written as an output, else the node's label, else ``f``
        (one output) or ``f0, f1, ...`` (several)."""
        if isinstance(stmt, ast.Assign):
            items = _targets(stmt)
        else:
            items = stmt.items if isinstance(stmt, ast.Tuple) else [stmt] * len(outputs)
        several = len(outputs) > 1
        names = []
        for k, (item, node) in enumerate(zip(items, outputs)):
            name = item.id if isinstance(item, ast.Name) else self.graph.label(node)
            names.append(name or (f"f{k}" if several else "f"))
        return names

    def values(self, node: ast.Node, scope: _Scope) -> list[Node]:
        """The values of a tuple's items, or of one expression (several for ``softmax``)."""
        if isinstance(node, ast.Tuple):
            return [self.expr(item, scope) for item in node.items]
        return self.expr(node, scope, many=True)

    def check_new_name(self, target: ast.Name, what: str) -> None:
        name = target.id
        if name in CONSTANTS:
            raise self.error(ReassignmentError, f"cannot assign to the constant {name}",
                             target.span)
        if name in FUNCTIONS and what == "function":
            raise self.error(ReassignmentError, f"cannot redefine the built-in function {name}",
                             target.span)
        first = self.assigned_at[name]
        if name in self.env or name in self.functions:
            line = self.statements[first].span.line
            raise self.error(ReassignmentError, f"{name} is already assigned (line {line}); "
                             "names cannot be reassigned, pick a new name", target.span)

    def assign(self, stmt: ast.Assign, index: int) -> list[Node]:
        targets = _targets(stmt)
        for target in targets:
            self.check_new_name(target, "name")
        value = stmt.value
        scope = _Scope({}, index)
        nodes = (self.expr(value, scope, many=True) if type(value) is not ast.Tuple
                 else self.values(value, scope))
        if len(nodes) != len(targets):
            def count(k, what):
                return f"one {what}" if k == 1 else f"{k} {what}s"
            raise self.error(ExprSyntaxError, f"{count(len(targets), 'name')} for "
                             f"{count(len(nodes), 'value')}: give as many names as values",
                             stmt.span)
        for target, node in zip(targets, nodes):
            self.env[target.id] = node
            self.graph.name(node, target.id)
        return nodes

    def define(self, stmt: ast.FuncDef, index: int) -> None:
        self.check_new_name(stmt.name, "function")
        seen = set()
        for p in stmt.params:
            if p.id in seen:
                raise self.error(NameResolutionError, f"parameter {p.id} appears twice in "
                                 f"{stmt.name.id}", p.span)
            seen.add(p.id)
        self.functions[stmt.name.id] = _UserFunction(stmt, index)
        self.check_body(stmt, index)

    def check_body(self, stmt: ast.FuncDef, index: int) -> None:
        """Report unknown functions, wrong arities and bad names in a body even if unused."""
        params = {p.id for p in stmt.params}
        stack = [stmt.body]
        while stack:
            node = stack.pop()
            if isinstance(node, ast.Name):
                if node.id not in params:
                    self.global_name(node, _Scope({}, index, stmt.name.id))
            elif isinstance(node, ast.Call):
                self.function_arity(node, index)
            stack.extend(ast.children(node))

    # ---- expressions ----------------------------------------------------------------------

    def expr(self, root: ast.Node, scope: _Scope, many: bool = False):
        """Lower one expression with an explicit stack (post-order), inlining user functions.
        ``many``: `root` may be a function of several values (``softmax``): a list comes back.

        The hot path of lowering (one iteration per AST node): the node's type picks its
        branch, leaves are resolved where their parent is visited, and a node's `Span` is
        made only when its IR node is new (hash-consed repeats keep their first span)."""
        graph = self.graph
        spans, nodes, apply = graph.spans, graph.nodes, graph.apply
        max_nodes = limits.MAX_NODES
        results: list[Node] = []
        push = results.append
        stack: list = [(root, scope, False)]
        while stack:
            node, sc, ready = stack.pop()
            kind = type(node)
            if kind is ast.Binary:
                # A leaf operand gets no stack entry: a left one is resolved now, a right one
                # when the left operand is done (the order of a walk of the tree, so nodes are
                # numbered and errors found in the same order).
                if not ready:
                    left, right = node.left, node.right
                    if type(left) in _LEAVES:
                        a = self.leaf(left, sc)
                        if type(right) in _LEAVES:
                            n = apply(node.op, a, self.leaf(right, sc))
                        else:
                            push(a)
                            stack += ((node, sc, True), (right, sc, False))
                            continue
                    elif type(right) in _LEAVES:
                        stack += ((node, sc, True), (left, sc, False))
                        continue
                    else:
                        stack += ((node, sc, True), (right, sc, False), (left, sc, False))
                        continue
                else:
                    right = node.right
                    b = self.leaf(right, sc) if type(right) in _LEAVES else results.pop()
                    n = apply(node.op, results.pop(), b)
            elif kind in _LEAVES:
                n = self.leaf(node, sc)
            elif kind is _Inline:
                first = len(results) - node.nargs
                key = (node.fn_name, *(a.index for a in results[first:]))
                done = self.inlined.get(key)
                if done is None:
                    body_scope = _Scope(dict(zip(node.params, results[first:])),
                                        node.visible_before, node.fn_name)
                    stack.append((_Inlined(key), sc, True))
                    stack.append((node.body, body_scope, False))
                del results[first:]
                if done is not None:
                    push(done)
                continue
            elif kind is _Inlined:
                self.inlined[node.key] = results[-1]
                continue
            elif not ready:
                stack.append((node, sc, True))
                operands = node.args if kind is ast.Call else _operands(node)
                if len(operands) == 1:
                    stack.append((operands[0], sc, False))
                else:
                    stack += [(child, sc, False) for child in reversed(operands)]
                continue
            elif kind is ast.Unary:
                n = apply("neg", results.pop()) if node.op == "neg" else results.pop()
            elif kind is ast.Call:
                # A built-in that is one op, called with the op's arity (the usual call, such
                # as tanh(x)), is its node: no general checks, no rule.  A name in _DIRECT is
                # never a user function (define() refuses it).
                op = _DIRECT.get((node.func.id, len(node.args)))
                if op is not None and len(node.args) == 1:
                    n = apply(op, results.pop())
                elif op is not None:
                    n = self.builtin_call(node, results)
                else:
                    if self.function_arity(node, sc.visible_before) == "user":
                        fn = self.functions[node.func.id]
                        stack.append((_Inline(fn, len(node.args)), sc, True))
                        continue
                    n = self.builtin_call(node, results)
                    if isinstance(n, list):
                        if not (many and node is root):
                            raise self.error(ExprSyntaxError, f"{node.func.id}(...) gives "
                                             f"{len(n)} values: unpack them (`p1, p2 = "
                                             f"{node.func.id}(...)`) or end the program with "
                                             "it", node.span)
                        for v in n:
                            graph.note_span(v, node.span)
                        return n
            elif kind is ast.Tuple:
                raise self.error(ExprSyntaxError, "several values separated by commas can only "
                                 "be the program's outputs or be assigned to as many names",
                                 node.span)
            else:
                raise TypeError(f"cannot lower {kind.__name__}")
            push(n)
            if n not in spans:
                spans[n] = new_span((node.line, node.column, node.start, node.end))
                if len(nodes) > max_nodes:
                    raise limits.node_limit_error(node.span, self.source)
        return [results.pop()] if many else results.pop()

    def leaf(self, node: ast.Node, sc: _Scope) -> Node:
        """The node of a name or a number (its span noted).  A leaf adds at most one node and
        is not checked against `limits.MAX_NODES`: the operation that uses it is."""
        graph = self.graph
        if type(node) is ast.Num:
            # The parser gives one Fraction object per literal text: keyed by its id, the
            # Fraction is hashed (in Python) once per literal, not once per occurrence.
            n = self.consts.get(id(node.value))
            if n is None:
                n = self.consts[id(node.value)] = graph.const(node.value)
                self.keep.append(node.value)
        else:
            name = node.id
            n = sc.params.get(name) if sc.params else None
            if n is None:
                n = graph.vars.get(name)      # a variable already (never assigned)
                if n is None:
                    n = self.env.get(name)
                    if n is None or self.assigned_at[name] >= sc.visible_before:
                        n = self.global_name(node, sc)
        spans = graph.spans
        if n not in spans:
            spans[n] = new_span((node.line, node.column, node.start, node.end))
        return n

    def global_name(self, node: ast.Name, sc: _Scope) -> Node:
        name = node.id
        first = self.assigned_at.get(name)
        if first is not None and first < sc.visible_before and name in self.env:
            return self.env[name]
        if first is not None and name in self.functions and first < sc.visible_before:
            raise self.error(NameResolutionError, f"{name} is a function: call it as "
                             f"{name}(...)", node.span)
        if first is not None:
            where = f" in the body of {sc.fn}" if sc.fn else ""
            line = self.statements[first].span.line
            raise self.error(UseBeforeAssignmentError, f"{name} is used{where} before it is "
                             f"assigned (line {line})", node.span)
        if name in CONSTANTS:
            return self.graph.apply(CONSTANTS[name])
        if name in FUNCTIONS:
            raise self.error(NameResolutionError, f"{name} is a built-in function: call it as "
                             f"{name}(...)", node.span)
        return self.graph.var(name)

    def function_arity(self, call: ast.Call, visible_before: int) -> str:
        """Check that `call` names a known function with a matching arity; "user" or "builtin"."""
        name, n = call.func.id, len(call.args)
        if name in self.functions and self.assigned_at[name] < visible_before:
            kind, expected = "user", (len(self.functions[name].node.params),)
        elif name in FUNCTIONS:
            kind, expected = "builtin", FUNCTIONS[name].arities
        else:
            if name in self.assigned_at:
                raise self.error(UseBeforeAssignmentError, f"function {name} is called before "
                                 "it is defined", call.func.span)
            raise self.unknown_function(call)
        if kind == "user" and n not in expected or kind == "builtin" and \
                not FUNCTIONS[name].accepts(n):
            want = FUNCTIONS[name].arity_text() if kind == "builtin" else \
                f"{expected[0]} argument{'' if expected == (1,) else 's'}"
            raise self.error(ArityError, f"{name} takes {want}, got {n}", call.span)
        return kind

    def unknown_function(self, call: ast.Call) -> UnknownFunctionError:
        """What to write instead (``exp2(x)`` → ``2^x``), or the closest names, and
        always the functions there are."""
        name = call.func.id
        arities = {n: b.arities for n, b in FUNCTIONS.items()}
        args = [self.source[a.span.start:a.span.end] if self.source else "…" for a in call.args]
        instead = suggest.rewrite(name, [a if len(a) <= 40 else "…" for a in args], arities)
        close = [] if instead else suggest.close(name, [*FUNCTIONS, *self.functions])
        hint = (f": write {instead}" if instead else
                f"; did you mean {suggest.spoken(close)}?" if close else "")
        mine = f"; defined here: {', '.join(sorted(self.functions))}" if self.functions else ""
        message = (f"unknown function {name}{hint} (the functions are "
                   f"{', '.join(sorted(FUNCTIONS))}{mine})")
        return self.error(UnknownFunctionError, message, call.func.span,
                          suggestion=instead or (close[0] if close else None),
                          suggestions=tuple([instead] if instead else close))

    def builtin_call(self, call: ast.Call, results: list) -> Node:
        first = len(results) - len(call.args)
        args = results[first:]
        del results[first:]
        fn = FUNCTIONS[call.func.id]
        if fn.direct:       # one node of its op: built without the rule's layers of calls
            return self.graph.apply(fn.op, *args)
        return fn.build(self.graph.math, *args)


@dataclass
class _Inline:
    """Stack marker: the arguments of a user-function call are lowered; now lower its body."""
    fn: _UserFunction
    nargs: int

    @property
    def params(self):
        return self.fn.params

    @property
    def body(self):
        return self.fn.node.body

    @property
    def visible_before(self):
        return self.fn.index

    @property
    def fn_name(self):
        return self.fn.node.name.id


@dataclass
class _Inlined:
    """Stack marker: the body of the call `key` is lowered; remember its node."""
    key: tuple


_LEAVES = (ast.Name, ast.Num)
# (name, argument count) → op, for the built-ins a call of which is one node of an op.
_DIRECT = {(name, fn.arities[0]): fn.op for name, fn in FUNCTIONS.items()
           if fn.direct and not fn.variadic and len(fn.arities) == 1}
# `Span(...)` without the named tuple's Python-level __new__ (a Span per IR node).
new_span = partial(tuple.__new__, Span)


def _targets(stmt: ast.Node) -> list[ast.Name]:
    """The names a statement assigns (a function definition: its name)."""
    kind = type(stmt)
    if kind is ast.Assign:
        target = stmt.target
        return list(target.items) if type(target) is ast.Tuple else [target]
    if kind is ast.FuncDef:
        return [stmt.name]
    return []


def _operands(node: ast.Node) -> tuple:
    if isinstance(node, ast.Unary):
        return (node.operand,)
    if isinstance(node, ast.Binary):
        return (node.left, node.right)
    if isinstance(node, ast.Call):
        return node.args
    return ()


def lower(program: ast.Program, source: str = "") -> Graph:
    """Lower a parsed program to a `Graph` whose outputs are the program's values."""
    with gc_paused():
        return _Lowerer(program, source).run()

"""The fast parse loop: text → AST, by the grammar's LALR(1) table and parse.py's builders.

Input: a `Table` — the table lark computes for grammar/exprgrad.lark (`table_data`; parse.py
ships it as grammar/exprgrad.lalr.json) with the builder function of each rule alias — and the
text.  Output: what the builders make of the text (a `syntax.Program`), or `GaveUp` at the
first character or token the table does not expect: lark's own parser then reads the failing
statement again and says what is wrong (parse.py).  Only the accepting path is here, and it is written for speed:

- one regular expression, the grammar's terminals in the order lark's lexer tries them, reads
  a token and whatever lark skips before it; a token is a tuple (type, text, start, end, line,
  column), cheaper to make than lark's Token;
- states and actions are lists and dicts of ints; a reduction's goto and the chain of unit
  reductions after it (``?sum: product``: atom → power → unary → product), with the next
  action, is one dict lookup, remembered;
- each node is one call of its builder, with the rule's values as arguments.

lark's parser costs about 4× as much per token (benchmarks/parse_speed.py).  Nothing recurses.
"""
from __future__ import annotations

import re

# How a rule's reduction runs in `run` (most frequent first).
_UNIT = 0       # `?sum: product`: the value passes on, only the state changes
_ONE = 1        # `NUMBER -> number`: build(value)
_THREE = 2      # `sum ADD product -> binary`: build(a, b, c)
_CALL = 3       # any other aliased rule: build(*values)
_GATHER = 4     # `program`, `arguments`, lark's helpers for [..] and (..)*: one list of nodes


class Table:
    """The LALR table of `program` (`table_data`), in the shapes a plain loop reads fastest.

    ``action[state][terminal]`` is the next state (a shift) or ``~r`` (reduce by rule r);
    ``goto[state][rule name]`` is the state after a reduction; ``rules[r]`` is
    ``(how, length, rule name, builder)`` with ``how`` one of `_UNIT` … `_GATHER`.
    ``regex`` matches what lark's lexer skips (spaces, comments, a backslash-newline) and then
    one terminal, in the order lark's lexer tries them; the terminal's group name is its type.
    ``tail`` matches what may follow the last terminal: only what lark skips.
    ``separators`` are the terminals between statements.
    """

    def __init__(self, data: dict, builders: dict):
        self.start, self.end = data["start"], data["end"]
        self.action: list[dict] = data["action"]
        self.goto: list[dict] = data["goto"]
        if any(build not in builders for *_, build in data["rules"] if build):
            raise NotImplementedError("the table names a builder that is not there")
        self.rules = [(how, size, origin, builders[build] if build else None)
                      for how, size, origin, build in data["rules"]]
        self.after: dict[tuple, tuple] = {}   # see `run`
        self.regex = re.compile(data["regex"], data["flags"])
        self.tail = re.compile(data["tail"], data["flags"])
        self.skip = re.compile(data["tail"].removesuffix(r"\Z"), data["flags"])
        self.separators = frozenset(data["separators"])


class GaveUp(Exception):
    """`run` met a character or a token the table does not expect.  The statements before
    offset `start` (up to the last statement separator shifted) did parse.  ``token`` is the
    unexpected token (``$END`` at the end) and ``expected`` the terminals its state takes, or
    ``token`` is None and ``offset`` is a character no terminal matches: what lark's
    UnexpectedToken and UnexpectedCharacters say, so an error can be worded without lark."""

    def __init__(self, start: int, token: tuple | None = None, expected=(), offset: int = 0):
        super().__init__(start)
        self.start, self.token, self.expected, self.offset = start, token, set(expected), offset


def table_data(lk, grammar_sha256: str, builders: dict, separator_rule: str) -> dict:
    """The LALR table and terminals of the `lark.Lark` parser `lk`, as JSON-ready data for
    `Table`; `builders` names the rule aliases the loop may call; the terminals of
    `separator_rule` separate statements (see `GaveUp`).

    Raises NotImplementedError for a grammar the loop cannot run the way lark does.
    """
    from lark.lexer import PatternStr
    from lark.parsers.lalr_analysis import Shift
    conf = lk.parse_interactive("").parser_state.parse_conf
    terminals = {t.name for t in lk.terminals} | {"$END"}
    # lark numbers states in an order that changes with Python's hash seed: number them again
    # in the order a walk from the start state meets them, so that the file is reproducible.
    number = {conf.start_state: 0}
    walk = [conf.start_state]
    action: list[dict] = []
    goto: list[dict] = []
    rules: list = []
    index: dict = {}
    for state in walk:                  # grows while it is walked
        action.append({})
        goto.append({})
        for symbol, (act, arg) in sorted((str(k), v) for k, v in conf.states[state].items()):
            # (a plain str key: lark's Token compares in Python)
            if act is Shift:
                if arg not in number:
                    number[arg] = len(walk)
                    walk.append(arg)
                (action if symbol in terminals else goto)[-1][symbol] = number[arg]
            else:
                if arg not in index:
                    index[arg] = len(rules)
                    rules.append(_rule_entry(arg, builders))
                action[-1][symbol] = ~index[arg]
    assert len(walk) == len(conf.states)
    # Terminals in the order lark's lexer tries them (a longer fixed string first).
    ordered = sorted(lk.terminals, key=lambda t: (-t.priority, -t.pattern.max_width,
                                                  -len(t.pattern.value), t.name))
    skipped = [t.pattern.to_regexp() for t in ordered if t.name in lk.ignore_tokens]
    tokens = [t for t in ordered if t.name not in lk.ignore_tokens]
    for t in tokens:
        if isinstance(t.pattern, PatternStr) and any(
                u is not t and re.fullmatch(u.pattern.to_regexp(), t.pattern.value)
                for u in tokens):
            # lark re-types such a match (a keyword inside NAME); this loop cannot.
            raise NotImplementedError(f"terminal {t.name} overlaps another terminal")
    # `(?=(X))\1` matches X once and never backtracks into it: `(?:[ ]+)*` alone takes
    # exponential time to fail on a long run of spaces before a bad character.
    skip = f"(?=((?:{'|'.join(skipped)})*))\\1" if skipped else "()"
    regex = skip + "(?:" + "|".join(f"(?P<{t.name}>{t.pattern.to_regexp()})"
                                    for t in tokens) + ")"
    separators = sorted({str(s.name) for r in lk.rules if str(r.origin.name) == separator_rule
                         for s in r.expansion})
    return {"grammar_sha256": grammar_sha256, "start": 0,
            "end": number[conf.end_state], "regex": regex, "tail": skip + r"\Z",
            "flags": lk.options.g_regex_flags, "separators": separators, "rules": rules,
            "action": action, "goto": goto}


def _rule_entry(rule, builders: dict) -> list:
    size, origin = len(rule.expansion), str(rule.origin.name)
    if rule.alias:
        if any(str(s.name).startswith("_") for s in rule.expansion):
            raise NotImplementedError(f"rule {rule}: filtered symbols in an aliased rule")
        if rule.alias not in builders:
            raise NotImplementedError(f"rule {rule}: no builder")
        return [{1: _ONE, 3: _THREE}.get(size, _CALL), size, origin, str(rule.alias)]
    if rule.options.expand1 and size == 1:
        return [_UNIT, size, origin, None]
    if origin.startswith("_"):
        return [_GATHER, size, origin, None]
    if origin not in builders:
        raise NotImplementedError(f"rule {rule}: no builder")
    return [_GATHER, size, origin, origin]


def _gather(values: list) -> list:
    """The nodes among a gathering rule's values (lists are spliced, tokens dropped).  A left
    recursive helper (``xs: xs _sep x``) finds its list first and appends to it in place."""
    out = None
    for v in values:
        if type(v) is list:
            if out is None:
                out = v
            else:
                out.extend(v)
        elif type(v) is not tuple:
            if out is None:
                out = []
            out.append(v)
    return [] if out is None else out


def run(text: str, table: Table):
    """The tree the builders make of `text`; raises `GaveUp` where it does not parse."""
    action, rules, after = table.action, table.rules, table.after
    stack = [table.start]
    values: list = []
    push, vpush = stack.append, values.append
    separators = table.separators
    line, line_start, depth, end, statement = 1, 0, 0, 0, 0
    # Lines are counted at the newlines' offsets, wherever they are (a newline token, a
    # backslash-newline): a token past the next newline starts a new line.
    newline = text.find("\n")
    if newline < 0:
        newline = len(text)
    for match in iter(table.regex.scanner(text).match, None):
        kind = match.lastgroup
        value = match[kind]
        end = match.end()
        start = end - len(value)
        while start > newline:
            line, line_start = line + 1, newline + 1
            newline = text.find("\n", line_start)
            if newline < 0:
                newline = len(text)
        tok = (kind, value, start, end, line, start - line_start + 1)
        # parse.py's post-lexer rule (`_DropNewlinesInParens`), inline.
        if kind == "LPAR":
            depth += 1
        elif kind == "RPAR":
            if depth:
                depth -= 1
        elif kind == "_NEWLINE" and depth:
            continue
        lexed_in = stack[-1]
        try:
            act = action[lexed_in][kind]
        except KeyError:
            act = None
        while True:
            if act is None:
                raise GaveUp(statement, tok, _expected(action, lexed_in, stack[-1], kind))
            if act >= 0:
                push(act)
                vpush(tok)
                if kind in separators:
                    statement = start
                break
            rule = ~act
            how, size, origin, build = rules[rule]
            if how == _ONE:
                values[-1] = build(values[-1])
                del stack[-1]
            elif how == _THREE:
                right = values.pop()
                middle = values.pop()
                values[-1] = build(values[-1], middle, right)
                del stack[-3:]
            else:
                _pop_reduce(stack, values, how, size, build)
            # The state after the reduction and the unit reductions that follow it (a chain
            # such as atom → power → unary → product leaves the values as they are): it
            # depends only on the state below, the rule and the token, so it is remembered.
            key = (stack[-1], rule, kind)
            found = after.get(key)
            if found is None:
                found = after[key] = _after(table, stack[-1], origin, kind)
            top, act = found
            push(top)
    if end != len(text) and not table.tail.match(text, end):
        # a character no terminal matches, after what the lexer skips
        raise GaveUp(statement, offset=table.skip.match(text, end).end())
    while True:
        act = action[stack[-1]].get("$END")
        if act is None or act >= 0:
            raise GaveUp(statement, ("$END", "", len(text), len(text), line, 1),
                         action[stack[-1]])
        how, size, origin, build = rules[~act]
        _pop_reduce(stack, values, how, size, build)
        stack.append(table.goto[stack[-1]][origin])
        if stack[-1] == table.end:
            return values[-1]


def _after(table: Table, below: int, origin: str, kind: str) -> tuple:
    """``(state, action)``: the state that the goto from `below` on `origin` reaches, after
    the unit reductions the token `kind` then makes, and the action of `kind` there (None:
    the token is not expected)."""
    goto, action, rules = table.goto, table.action, table.rules
    top = goto[below][origin]
    while True:
        act = action[top].get(kind)
        if act is None or act >= 0 or rules[~act][0] != _UNIT:
            return top, act
        top = goto[below][rules[~act][2]]


def _expected(action: list, lexed_in: int, state: int, kind: str) -> set:
    """What lark reports as expected: its contextual lexer refuses a terminal the state it
    lexes in does not take (listing that state's terminals), else its parser fails in the
    state the reductions reached (listing that state's, the end of the input included)."""
    if kind not in action[lexed_in]:
        return set(action[lexed_in]) - {"$END"}
    return set(action[state])


def _pop_reduce(stack: list, values: list, how: int, size: int, build) -> None:
    """A reduction, in general: pop `size` states and values, push the value the rule makes
    of them (the caller pushes the state)."""
    if size:
        args = values[-size:]
        del values[-size:]
        del stack[-size:]
    else:
        args = []
    if how == _GATHER:
        args = _gather(args)
        values.append(args if build is None else build(args))
    elif how == _UNIT:
        values.append(args[0])
    else:
        values.append(build(*args))

"""The two parse drivers agree: the fast loop (every parse) and lark's parser (every error).

The fast driver must build exactly the tree lark's driver builds, with the same positions, and
give up on exactly the texts lark rejects; both are run here side by side on a corpus of every
construct, on random programs and on random strings.
"""
import importlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import exprgrad as eg
from exprgrad import lalr, syntax
from helpers import run_python
from strategies import programs

P = importlib.import_module("exprgrad.parse")     # the module (exprgrad.parse is the function)
ROOT = Path(__file__).resolve().parent.parent


def shape(node) -> list:
    """Every node of the tree, pre-order, with its class, position and payload (iterative)."""
    out, stack = [], [node]
    while stack:
        n = stack.pop()
        payload = {syntax.Num: lambda: (n.value, n.text), syntax.Name: lambda: n.id,
                   syntax.Unary: lambda: n.op, syntax.Binary: lambda: n.op}.get(type(n))
        out.append((type(n).__name__, n.line, n.column, n.start, n.end,
                    payload() if payload else None))
        stack.extend(reversed(syntax.children(n)))
    return out


def outcome(driver, text):
    """("ok", shape) | ("rejected", message, span) | ("syntax error", message, span, expected)
    — for either driver."""
    try:
        tree = driver(text)
    except P._Rejected as err:
        return ("rejected", err.message, err.span)
    except eg.ExprSyntaxError as err:
        return ("syntax error", str(err), err.span, err.expected)
    return ("ok", shape(tree))


def fast(text):
    """The fast loop, its errors worded from what it met (as without lark installed)."""
    try:
        return lalr.run(text, P._fast_table())
    except lalr.GaveUp as stop:
        raise P._fast_error(stop, text) from None


def both_agree(text):
    lark_side = outcome(P._lark_parse, text)
    assert outcome(fast, text) == lark_side, text
    return lark_side


CORPUS = [
    "x", "2^3^2", "-x^2", "a**b^c", "2*-x", "+3", "--3", "2^-1^2", "8/4/2", "a-b-c",
    "1_000 + .5 + 1e-3 + 2.5E+1 + 6.8813735870195432", "θ*w_1 + e", "pow(2, 10)",
    "log(8, 2) + max(a, b) + min(a, b)", "((x))", "(" * 50 + "y" + ")" * 50,
    "n = x1*w1 + x2*w2 + b; o = tanh(n)",
    "\n# the seed neuron\nn = x1*w1 + x2*w2 + b   # pre-activation\no = tanh(n)\n",
    "f(x, y) = x*y\ng = f(1,\n      2)\r\nh = g \\\n + 1\n\n;;",
    "a = (1 +\n 2)\nb = (a\n\n * 3)  # comment\n", "tanh(x)^2 ", "   x", "x # end",
    "y = sin(x)\n\n\n\nz = y", "a\t+ b\f- c", "", "# only a comment", ";\n;",
]

BAD = ["tanh(x1", "2 +* 3", "x $ 2", "x y", "(a+b) = 3", "x)",
       "2x", "(a+b)(a-b)", "sin x", "1.2.3", "x² + 1", "1e400*x", "max(1,2,)", "a = = b",
       "x\r+ 1", "f(1) = x; f(2)", "(" * 1000 + "x", "x" + " " * 50 + "$", "1__0"]


def test_the_fast_driver_runs_this_grammar():
    assert P._fast_table() is not None


def test_the_grammars_names_are_words():
    """The `name` builder checks only str.isidentifier: NAME tokens already match `_WORD`."""
    assert f"(?P<NAME>{P._WORD.pattern})" in P._fast_table().regex.pattern
    assert P.valid_name("x²") is False and P.valid_name("θ_1") is True
    with pytest.raises(eg.ExprSyntaxError, match="not a valid name"):
        eg.compile("x² + 1")


@pytest.mark.parametrize("text", CORPUS + BAD)
def test_drivers_agree_on_the_corpus(text):
    result = both_agree(text)
    assert (result[0] == "ok") == (text in CORPUS)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs())
def test_drivers_agree_on_random_programs(case):
    text, _ = case
    assert both_agree(text)[0] == "ok"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab1._e+-*/^()=,;#\\ \t\n\r²θ", max_size=25))
def test_drivers_agree_on_random_strings(text):
    both_agree(text)


def message(parse, text):
    try:
        parse(text)
    except eg.ExprSyntaxError as err:
        return str(err), err.expected
    except P._Rejected as err:
        return err.message, err.span
    return None


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet="ab1.+-*(),=", max_size=8), min_size=1, max_size=5),
       st.lists(st.sampled_from([";", "\n", "\r\n", " \\\n", "  # c\n"]), min_size=4,
                max_size=4))
def test_lark_reads_only_the_failing_statement_and_says_the_same(statements, separators):
    # parse() hands lark the text with the statements before the failing one blanked out.
    text = "".join(s + sep for s, sep in zip(statements, separators))
    assert message(eg.parse, text) == message(lark_only, text)


def lark_only(text):
    """parse() as if the fast loop were not there: lark reads the whole text."""
    P._fast_table()
    saved = P._fast[:]
    P._fast[:] = [None]
    try:
        return eg.parse(text)
    finally:
        P._fast[:] = saved


def test_a_blanked_prefix_keeps_lines_and_offsets_and_has_no_tokens():
    prefix = "a = 1\n\nb = (a +\r\n 2)  # two\nc = b; d"
    blanked = P._blank(prefix)
    assert len(blanked) == len(prefix)
    assert [i for i, c in enumerate(blanked) if c == "\n"] == [
        i for i, c in enumerate(prefix) if c == "\n"]
    assert [t.type for t in P._get_parser().lex(blanked)] == ["_NEWLINE"]   # the empty line


def test_errors_come_from_lark_with_the_same_messages():
    # parse() gives the text to lark when the fast loop gives up: same message, same caret.
    with pytest.raises(eg.ExprSyntaxError) as info:
        eg.parse("a = 1\nb = (a +\n 2\nc = b")
    assert info.value.line == 4 and "unexpected 'c'" in info.value.message


def test_deep_nesting_parses_and_fails_without_recursion():
    depth = 100_000
    tree = eg.parse("(" * depth + "x" + ")" * depth)
    assert shape(tree)[1][:5] == ("Name", 1, 1, 0, 2 * depth + 1)
    with pytest.raises(eg.ExprSyntaxError, match="is not closed"):
        eg.parse("(" * depth + "x" + ")" * (depth - 1))


def test_spaces_before_a_bad_character_take_linear_time():
    # The skip pattern is matched atomically: `(?:[ ]+)*` alone backtracks exponentially.
    def seconds(spaces):
        start = time.perf_counter()
        with pytest.raises(eg.ExprSyntaxError):
            eg.parse("x" + " " * spaces + "$")
        return time.perf_counter() - start
    seconds(16)
    assert seconds(26) < 8 * max(seconds(16), 0.005)


# ---- the shipped table ---------------------------------------------------------------------------

def test_the_shipped_table_is_the_grammars():
    shipped = json.loads(P._grammar_file(P.TABLE_FILE).read_text(encoding="utf-8"))
    assert shipped == json.loads(json.dumps(P.table_data())), (
        "grammar/exprgrad.lalr.json is out of date: run `python -m exprgrad.parse`")


def test_a_stale_table_is_not_used(monkeypatch):
    text = P.grammar_text()
    monkeypatch.setattr(P, "grammar_text", lambda: text + "\n// edited\n")
    monkeypatch.setattr(P, "_fast", [])
    monkeypatch.setattr(P, "_parsers", {})
    table = P._fast_table()                 # built by lark from the (edited) grammar
    assert table is not None and shape(lalr.run("a*b + c", table)) == shape(
        eg.parse("a*b + c"))


def test_parsing_imports_lark_only_for_an_error():
    code = ("import sys, exprgrad; f = exprgrad.compile('n = x*w\\no = tanh(n)'); "
            "print('lark' in sys.modules)\n"
            "try:\n    exprgrad.compile('x +')\nexcept exprgrad.ExprSyntaxError:\n"
            "    print('lark' in sys.modules)")
    out = run_python(code)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "True"]


def test_a_syntax_error_without_lark_installed_is_the_same_message():
    """Run from a checkout whose Python lacks lark (a declared dependency, but a checkout is
    run uninstalled too): valid text parses by the fast loop alone, and a syntax error is
    worded from what the loop met, as lark words it, exit 2, no traceback."""
    root = Path(__file__).resolve().parent.parent
    code = ("import sys; sys.modules['lark'] = None\n"
            "from exprgrad.cli import entry\n"
            "sys.argv = ['exprgrad'] + sys.argv[1:]\n"
            "entry()\n")
    run = subprocess.run([sys.executable, "-c", code, "tanh(x1*w1 + "],
                         capture_output=True, text=True, cwd=root, timeout=120)
    assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr
    assert message(P.parse, "tanh(x1*w1 + ")[0] in run.stderr
    ok = subprocess.run([sys.executable, "-c", code, "x*y", "--at", "x=2", "y=3", "--no-check"],
                        capture_output=True, text=True, cwd=root, timeout=120)
    assert ok.returncode == 0 and "6" in ok.stdout, ok.stderr

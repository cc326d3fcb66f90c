"""The hostile-input corpus: inputs that once hung, ate gigabytes, crashed or misled, grouped by
the classes of issue 12 ("Trust under fire").  Data only; tests/test_hostile.py runs it, and
tests/test_differential.py the numeric policy's repros (`PATHS_DISAGREE`).

A case is ``(id, make, expected)``: ``make()`` builds the input (big inputs are built only when
their test runs), ``expected`` is None when the input must be accepted, else ``(error class
name, fragment of the message)``.  Add a case here when a new hostile input is found; its class's
test picks it up.
"""
from __future__ import annotations

import math


def nested_functions(depth: int) -> str:
    """``f0(x) = x + x; f1(x) = f0(x) + f0(x); ...; f<depth>(y)``: 2^depth calls if each call
    expanded its body again, depth + 2 nodes when each distinct call is expanded once."""
    lines = ["f0(x) = x + x"] + [f"f{i}(x) = f{i - 1}(x) + f{i - 1}(x)"
                                 for i in range(1, depth + 1)]
    return "; ".join(lines + [f"f{depth}(y)"])


def composed_functions(depth: int) -> str:
    """``f_i(x) = f_{i-1}(f_{i-1}(x))`` over ``f0(x) = x + 1``: an output of 2^depth adds."""
    lines = ["f0(x) = x + 1"] + [f"f{i}(x) = f{i - 1}(f{i - 1}(x))" for i in range(1, depth + 1)]
    return "; ".join(lines + [f"f{depth}(y)"])


# ---- bounded work: programs whose compilation must end at once ----------------------------------
# Each once hung (or grew past gigabytes); now each compiles or is refused, in well under a second
# (the 10 MB and 20 MB inputs included).

BOUNDED = [
    ("nested-user-functions-40", lambda: nested_functions(40), None),
    ("composed-user-functions-12", lambda: composed_functions(12), None),
    ("exponent-1e999999999", lambda: "1e999999999*x", ("ExprSyntaxError", "too large")),
    ("exponent-1e-99999999", lambda: "1e-99999999*x", ("ExprSyntaxError", "too small")),
    ("exponent-of-5000-digits", lambda: "1e" + "9" * 5000 + "*x",
     ("ExprSyntaxError", "too large")),
    ("negative-exponent-of-5000-digits", lambda: "2.5e-" + "9" * 5000 + "*x",
     ("ExprSyntaxError", "too small")),
    ("integer-of-5000-digits", lambda: "1" * 5000 + "*x", ("ExprSyntaxError", "too large")),
    ("fraction-of-1200-digits", lambda: "0." + "1" * 1200 + "*x", ("LimitError", "1,200")),
    ("1e-5000-plus-1", lambda: "1e-5000 + 1 + x", ("ExprSyntaxError", "too small")),
    ("printer-1e-1000000", lambda: "1e-1000000*x", ("ExprSyntaxError", "too small")),
    ("power-tower-folding", lambda: "((1e-300^64)^64)^64*x", None),
    ("power-of-long-sum", lambda: "(1e-300 + 1)^64*x", None),
    ("underflowing-product", lambda: "1e-300*1e-300*x", None),
    ("10MB-of-newlines", lambda: "\n" * 10_000_000, ("LimitError", "MAX_SOURCE_CHARS")),
    ("1.9MB-of-newlines", lambda: "\n" * 1_900_000 + "x", None),
    ("5-million-term-sum", lambda: " + ".join(["x"] * 5_000_000),
     ("LimitError", "MAX_SOURCE_CHARS")),
]

# ---- hostile text: what error messages must not echo as it is ----------------------------------
# Each is refused; its message must hold no character a terminal acts on (escape sequences,
# bidi overrides, NUL, lone surrogates) and must stay short however long the input.

TEXT = [
    ("arabic-indic-digit", lambda: "x*\u0663", ("ExprSyntaxError", "digits 0-9")),
    ("fullwidth-digit", lambda: "x*\uff13", ("ExprSyntaxError", "digits 0-9")),
    ("clear-screen", lambda: "x + \x1b[2J", ("ExprSyntaxError", "\\x1b")),
    ("set-window-title", lambda: "x + \x1b]0;pwned\x07", ("ExprSyntaxError", "\\x1b")),
    ("escape-in-second-line", lambda: "a = 1\n\x1b[31mb = a", ("ExprSyntaxError", "\\x1b")),
    ("bidi-override", lambda: "\u202ex + 1", ("ExprSyntaxError", "\\u202e")),
    ("nul", lambda: "x\0", ("ExprSyntaxError", "\\x00")),
    ("carriage-return", lambda: "x +\r y", ("ExprSyntaxError", "\\r")),
    ("lone-surrogate", lambda: "x\udcff", ("ExprSyntaxError", "\\udcff")),
    ("1MB-unknown-function", lambda: "f" * 1_000_000 + "(x)",
     ("UnknownFunctionError", "1,000,000 characters")),
    ("1MB-number", lambda: "x*" + "1" * 1_000_000, ("ExprSyntaxError", "too large")),
    ("1MB-name-unclosed", lambda: "y" * 1_000_000 + "(", ("ExprSyntaxError", "not closed")),
]

# Values passed by name to a compiled ``x*y``: the messages quote them.
VALUES = [
    ("escape-in-variable-name", lambda: {"\x1b[2J": 1, "x": 1, "y": 1}),
    ("escape-in-value", lambda: {"x": "\x1b[2J", "y": 1}),
    ("1MB-variable-name", lambda: {"v" * 1_000_000: 1, "x": 1, "y": 1}),
    ("1MB-value", lambda: {"x": "9" * 1_000_000 + "z", "y": 1}),
]

# ---- streams and encodings: the command line as a Unix tool ------------------------------------
# ``(id, argv after "exprgrad", shell redirection, stdin bytes, environment, exit statuses)``:
# each must end with those statuses and at most one line on standard error, no traceback.

STREAMS = [
    ("stdout-closed", ["x*y"], ">&-", None, {}, (2,)),
    ("stdout-closed-emit", ["x*y", "--emit", "python"], ">&-", None, {}, (2,)),
    ("stdout-full", ["x*y"], ">/dev/full", None, {}, (2,)),
    ("stdout-full-json", ["x*y", "--at", "x=1", "y=2", "--json"], ">/dev/full", None, {}, (2,)),
    ("stdout-full-emit", ["x*y", "--emit", "c"], ">/dev/full", None, {}, (2,)),
    ("stdout-full-help", ["--help"], ">/dev/full", None, {}, (2,)),
    ("stdin-closed", ["-"], "<&-", None, {}, (2,)),
    ("stderr-closed", ["x*"], "2>&-", None, {}, (2,)),
    ("invalid-utf8-stdin", ["-"], "", b"x*\xff + y", {}, (2,)),
    ("invalid-utf8-argv", [b"x*\xff"], "", None, {}, (2,)),
    ("invalid-utf8-at-name", ["x*y", "--at", b"\xff=1", "y=2"], "", None, {}, (2,)),
    ("ascii-io-report", ["\u03b8*y", "--at", "\u03b8=1", "y=2"], "", None,
     {"PYTHONIOENCODING": "ascii"}, (0,)),
    ("ascii-io-structure", ["\u03b8*y"], "", None, {"PYTHONIOENCODING": "ascii"}, (0,)),
    ("ascii-io-emit", ["\u03b8*y", "--emit", "python"], "", None,
     {"PYTHONIOENCODING": "ascii"}, (0,)),
    ("c-locale", ["\u03b8*y", "--at", "\u03b8=1", "y=2"], "", None,
     {"LC_ALL": "C", "LANG": "C"}, (0,)),
    ("escape-in-argparse-error", ["x", "--emit", "\x1b[2J"], "", None, {}, (2,)),
    ("self-as-variable", ["self*2", "--at", "self=3"], "", None, {}, (0,)),
]

# JSON output: valid JSON whatever the numbers and the text (`json.loads` with NaN refused).
JSON = [
    ("nonfinite-finite-difference", ["exp(x)", "--at", "x=709.7", "--json"]),
    ("invalid-utf8-in-comment", [b"x*y # \xff", "--json"]),
    ("ascii-io", ["\u03b8*y", "--at", "\u03b8=1", "y=2", "--json"]),
]

# `--at` values follow the literals' rule: a number a double holds, written as the grammar does.
AT_VALUES = [
    ("huge", "1e999", "too large"),
    ("tiny", "1e-400", "too small"),
    ("inf", "inf", "not a number"),
    ("nan", "nan", "not a number"),
    ("arabic-indic-digit", "\u0663", "not a number"),
    ("largest-double-long", "1.7976931348623158e308", None),
    ("negative-zero", "-0", None),
]

# ---- one numeric policy: issue 12's "Paths disagree" ----------------------------------------------
# Run through every path by tests/test_differential.py (README, "Numeric policy").

PATHS_DISAGREE = [
    # (text, point, what every path gives: value, partials; or "raise" on the scalar paths
    #  and what NumPy and C give instead)
    ("x^0", {"x": 0.0}, (1.0, (0.0,))),
    ("alpha^0", {"alpha": 0.0}, (1.0, (0.0,))),
    ("(x1 - x1)^0", {"x1": 2.0}, (1.0, (0.0,))),
    ("pow(x, 0) + 0^0*x", {"x": 0.0}, (1.0, (1.0,))),
    ("x^y", {"x": 0.0, "y": 0.0}, (1.0, (0.0, -math.inf))),
    ("m1 = e - e; m1^m1", {"e": 1.0}, (1.0, (math.nan,))),
    ("relu(x)", {"x": math.nan}, (math.nan, (math.nan,))),
    ("max(x, 0) + max(0, x) + min(x, 1) + min(1, x)", {"x": math.nan},
     (math.nan, (math.nan,))),
    ("asin(tanh(1E2)) + x", {"x": 0.0}, (math.pi / 2, (1.0,))),
    ("log(y*0 + x)", {"x": 5e-324, "y": 1.0}, (math.log(5e-324), (math.inf, math.nan))),
    ("x*x*x", {"x": 1e200}, (math.inf, (math.inf,))),
    ("x^2", {"x": 1e200}, (math.inf, (2e200,))),
    ("x^y", {"x": 1e200, "y": 2.0}, (math.inf, (2e200, math.inf))),     # found by the soak
    ("x^(y + 1)", {"x": 1e100, "y": 2.0}, (1e300, (3e200, 1e300 * math.log(1e100)))),
    ("x*1.7976931348623158e308", {"x": 1.0}, (1.7976931348623157e308,
                                              (1.7976931348623157e308,))),
    ("1/(x*-0)", {"x": 1.0}, ("raise", -math.inf, (math.nan,))),
    ("atan(0.5/(x*-0))", {"x": 1.0}, ("raise", -math.pi / 2, (math.nan,))),
    ("0.5/0 + x", {"x": 1.0}, ("raise", math.inf, (1.0,))),
    ("0/0 + x", {"x": 1.0}, ("raise", math.nan, (1.0,))),
    ("(-pi)^.5 + b", {"b": 1.0}, ("raise", math.nan, (1.0,))),
    ("v - (-0.5)**0.5", {"v": 1.0}, ("raise", math.nan, (1.0,))),
    ("relu(acos(2)) + x", {"x": 1.0}, ("raise", math.nan, (1.0,))),
    ("relu(acos(x))", {"x": 2.0}, ("raise", math.nan, (math.nan,))),
    ("x^3", {"x": 1e200}, ("raise", math.inf, (math.inf,))),
    ("exp(x)", {"x": 1000.0}, ("raise", math.inf, (math.inf,))),
    ("acos(b**0)", {"b": 0.5}, ("raise", 0.0, (math.nan,))),
    ("x^0.5", {"x": 0.0}, ("raise", 0.0, (math.inf,))),
    # a value computed on the way overflows: d/da a^b = b*a^(b-1) is about 1 at a = b = 5e-324,
    # but a^(b-1) is 2e323 (found by the soak; PyTorch's backward gives inf there, jax.grad nan)
    ("x^x", {"x": 5e-324}, ("raise", 1.0, (math.inf,))),
    ("pow(x, z)", {"x": 5e-324, "z": 5e-324}, ("raise", 1.0, (math.inf, math.log(5e-324)))),
    # an overflowed base to the power 0.5: C's pow(-inf, 0.5) is +inf, NumPy's arrays take
    # sqrt (nan) -- the "numpy functions" policy rule (found by the soak)
    ("pow(-(z ** y), 0.5)", {"y": 5092192290755737.0, "z": 5092192290755737.0},
     ("raise", math.inf, (math.nan, math.nan))),
]

# ---- safe output ---------------------------------------------------------------------------------
# C function names the C library owns (or reserves): each must be refused.

C_RESERVED_NAMES = ["malloc", "exit", "printf", "abs", "free", "memcpy", "strlen", "sin",
                    "isalpha", "isfoo", "tolerance", "strain", "memo", "E2BIG", "SIGFOO",
                    "int32_t", "_f", "main", "if"]
C_USABLE_NAMES = ["f", "loss", "my_func", "grad", "neuron", "Sigmoid"]

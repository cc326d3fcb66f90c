"""The language: precedence, associativity, numbers, names, statements, errors with carets."""
import math
import time

import pytest

import exprgrad as eg
from exprgrad.parse import parse
from exprgrad.syntax import dump


def value(text, **point):
    f = eg.compile(text)
    return f(**{k: v for k, v in point.items() if k in f.variables})


@pytest.mark.parametrize("text, expected", [
    ("2^3^2", 512.0), ("2**3**2", 512.0), ("(2^3)^2", 64.0), ("2^-1", 0.5),
    ("-2^2", -4.0), ("(-2)^2", 4.0), ("-2**2", -4.0), ("2*-3", -6.0), ("2^-1^2", 0.5),
    ("8/4/2", 1.0), ("8-4-2", 2.0), ("2+3*4", 14.0), ("(2+3)*4", 20.0), ("-3+5", 2.0),
    ("+3", 3.0), ("--3", 3.0), ("2*3^2", 18.0), ("-x^2 + 1", -8.0), ("10 - 2 * 3 / 4", 8.5),
    ("pow(2, 10)", 1024.0), ("pi", math.pi), ("log(8, 2)", 3.0), ("ln(exp(1))", 1.0),
    ("exp(1)", math.e), ("max(2, 3) + min(2, 3)", 5.0), ("1_000 + .5 + 1e-3", 1000.501),
    ("2.5e1", 25.0), ("abs(-3)", 3.0), ("relu(-1) + relu(2)", 2.0),
])
def test_precedence_and_values(text, expected):
    assert value(text, x=3.0) == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize("text, tree", [
    ("-x^2", "Program(Unary(neg, Binary(pow, Name(x), Num(2))))"),
    ("a/b/c", "Program(Binary(div, Binary(div, Name(a), Name(b)), Name(c)))"),
    ("a-b-c", "Program(Binary(sub, Binary(sub, Name(a), Name(b)), Name(c)))"),
    ("a^b^c", "Program(Binary(pow, Name(a), Binary(pow, Name(b), Name(c))))"),
    ("a**b^c", "Program(Binary(pow, Name(a), Binary(pow, Name(b), Name(c))))"),
    ("2*-x", "Program(Binary(mul, Num(2), Unary(neg, Name(x))))"),
    ("-a*b", "Program(Binary(mul, Unary(neg, Name(a)), Name(b)))"),
])
def test_tree_shapes(text, tree):
    assert dump(parse(text)) == tree


def test_names_unicode_and_e_is_a_name():
    f = eg.compile("θ*w_1 + e")
    assert f.variables == ("e", "w_1", "θ")
    assert f(θ=2, w_1=3, e=1) == 7


def test_statements_labels_comments_and_newlines():
    text = """
    # the seed neuron
    n = x1*w1 + x2*w2 + b   # pre-activation
    o = tanh(n)
    """
    f = eg.compile(text)
    assert f.output_name == "o"
    assert str(f) == "n = x1*w1 + x2*w2 + b\no = tanh(n)"
    assert f.ir.labels[f.ir.output.args[0]] == "n"


def test_newlines_inside_parentheses_continue_the_line():
    assert eg.compile("max(\n  a,\n  b\n)")(a=1, b=2) == 2


def test_user_functions_are_inlined():
    f = eg.compile("sig(z) = 1/(1+exp(-z)); sig(w*x + b)")
    assert f.variables == ("b", "w", "x")
    assert f(w=1, x=2, b=-2) == 0.5
    g = eg.compile("sq(a) = a*a; cube(a) = sq(a)*a; cube(sq(y))")
    assert g(y=2) == 64
    h = eg.compile("k = 3; scale(z) = k*z + c; scale(x)")
    assert h.variables == ("c", "x") and h(x=2, c=1) == 7


def test_a_name_used_twice_is_one_node():
    f = eg.compile("x*x")
    assert len([n for n in f.ir.order() if n.op == "var"]) == 1
    assert f.grad(x=3)[1]["x"] == 6
    g = eg.compile("x*w + x*w")
    assert sum(1 for n in g.ir.order() if n.op == "mul") == 1


def test_constants_folded_only_where_exact():
    assert [n.op for n in eg.compile("2^3^2*x").ir.order()] == ["const", "var", "mul"]
    ops = [n.op for n in eg.compile("0.1 + 0.2 + x").ir.order()]
    assert ops.count("add") == 2      # 0.1 + 0.2 is not 0.3 in floats: not folded
    assert eg.compile("0.1 + 0.2 + x")(x=0) == 0.1 + 0.2


def test_parse_print_round_trip():
    for text in ["-x^2", "(a + b)*c", "a - (b - c)", "a/(b*c)", "(-x)^2", "2^-x",
                 "log(x)/log(2)", "x - -y", "-(a + b)", "a^(b^c)", "(a^b)^c"]:
        printed = str(eg.compile(text))
        assert dump(parse(printed)) == dump(parse(str(eg.compile(printed))))
        pt = {"a": 1.5, "b": 0.7, "c": 1.3, "x": 1.1, "y": 0.9}
        f, g = eg.compile(text), eg.compile(printed)
        assert f(**{k: pt[k] for k in f.variables}) == g(**{k: pt[k] for k in g.variables})


# ---- errors: class, message, column ------------------------------------------------------------

ERRORS = [
    ("tanh(x1", eg.ExprSyntaxError, "not closed", 8),
    ("2 +* 3", eg.ExprSyntaxError, "unexpected '*'", 4),
    ("x $ 2", eg.ExprSyntaxError, "unexpected character '$'", 3),
    ("x y", eg.ExprSyntaxError, "unexpected 'y'", 3),
    ("(a+b) = 3", eg.ExprSyntaxError, "can only assign", 1),
    ("", eg.ExprSyntaxError, "empty", 1),
    ("# only a comment", eg.ExprSyntaxError, "empty", 1),
    ("x)", eg.ExprSyntaxError, "unexpected ')'", 2),
    ("tanx(x)", eg.UnknownFunctionError, "did you mean tan", 1),
    ("a + foo(x)", eg.UnknownFunctionError, "unknown function foo", 5),
    ("tanh(x, y)", eg.ArityError, "tanh takes 1 argument, got 2", 1),
    ("max(x)", eg.ArityError, "max takes 2 or more arguments, got 1", 1),
    ("log()", eg.ArityError, "log takes 1 or 2 arguments, got 0", 1),
    ("n = x; n = y; n", eg.ReassignmentError, "already assigned", 8),
    ("pi = 3; pi", eg.ReassignmentError, "constant pi", 1),
    ("exp(z) = z; exp(1)", eg.ReassignmentError, "built-in function exp", 1),
    ("y = n + 1; n = 2; y", eg.UseBeforeAssignmentError, "n is used before it is assigned", 5),
    ("x = x + 1; x", eg.UseBeforeAssignmentError, "x is used before", 5),
    ("f(x) = x; f(1, 2)", eg.ArityError, "f takes 1 argument, got 2", 11),
    ("f(x) = 2*x", eg.ExprSyntaxError, "ends with a function definition", 1),
    ("x + 1; y", eg.ExprSyntaxError, "only the last statement", 1),
    ("f(x, x) = x; f(1, 2)", eg.NameResolutionError, "parameter x appears twice", 6),
    ("f(x) = g(x); f(1)", eg.UnknownFunctionError, "unknown function g", 8),
    ("exp + 1", eg.NameResolutionError, "built-in function", 1),
    ("f(x) = x; f + 1", eg.NameResolutionError, "f is a function", 11),
]


@pytest.mark.parametrize("text, cls, message, column", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_name_the_problem_and_column(text, cls, message, column):
    with pytest.raises(cls) as info:
        eg.compile(text)
    err = info.value
    assert isinstance(err, eg.ExprError)
    assert message in err.message
    assert err.column == column
    rendered = str(err).splitlines()
    assert rendered[-1].lstrip(" ").startswith("^")
    assert len(rendered[-1]) - len(rendered[-1].lstrip(" ")) == column - 1


def test_unknown_function_has_a_suggestion_attribute():
    with pytest.raises(eg.UnknownFunctionError) as info:
        eg.compile("sigmod(x)")
    assert info.value.suggestion == "sigmoid"


def test_syntax_error_carries_line_for_multiline_programs():
    with pytest.raises(eg.ExprSyntaxError) as info:
        eg.compile("a = 1\nb = a +\nb")
    assert info.value.line == 2


@pytest.mark.parametrize("text, message", [
    ("log(x - 3)", r"log\(-1\) is undefined.*`log\(x - 3\)`"),
    ("1/(x - 2)", r"1 / 0 is undefined: division by zero"),
    ("asin(x)", r"asin\(2\) is undefined"),
    ("exp(1000*x)", r"overflows"),
])
def test_domain_errors_name_the_node(text, message):
    f = eg.compile(text)
    with pytest.raises(eg.DomainError, match=message):
        f(x=2)
    with pytest.raises(eg.DomainError, match=message):
        f.grad(x=2)


def test_variable_errors():
    f = eg.compile("x*y")
    with pytest.raises(eg.VariableError, match="missing value for y"):
        f(x=1)
    with pytest.raises(eg.VariableError, match="unknown variable z"):
        f(x=1, y=2, z=3)
    with pytest.raises(eg.VariableError, match="must be a number"):
        f(x=1, y="two")
    assert f(2, 3) == 6 and f(2, y=4) == 8


# ---- size and depth ---------------------------------------------------------------------------

def test_100k_nested_parentheses():
    text = "(" * 100_000 + "x" + ")" * 100_000
    f = eg.compile(text)
    assert f(x=2.0) == 2.0


def test_deep_chain_of_functions():
    depth = 20_000
    text = "tanh(" * depth + "x" + ")" * depth
    f = eg.compile(text)
    value, grads = f.grad(x=0.3)
    assert 0 < value < 0.3 and 0 < grads["x"] < 1
    assert str(f).count("tanh(") == depth


def test_one_megabyte_sum_parses_in_linear_time():
    def build(n):
        return " + ".join(f"x{i}" for i in range(n))

    small, big = build(12_000), build(120_000)
    assert len(big) > 1_000_000
    t0 = time.perf_counter(); eg.compile(small); t_small = time.perf_counter() - t0
    t0 = time.perf_counter(); f = eg.compile(big); t_big = time.perf_counter() - t0
    assert len(f.variables) == 120_000
    # Ten times the input should cost about ten times the time; 40x leaves room for noise.
    assert t_big < 40 * max(t_small, 0.01)


def test_output_name_is_the_last_assignment():
    assert eg.compile("o = x").output_name == "o"
    assert eg.compile("n = x*w; o = tanh(n)").output_name == "o"
    assert eg.compile("x*2").output_name == "f"


def test_error_in_a_huge_line_shows_a_window_not_the_whole_line():
    text = " + ".join(f"x{i}" for i in range(50_000)) + " + * 2"
    with pytest.raises(eg.ExprSyntaxError) as info:
        eg.compile(text)
    shown = str(info.value).splitlines()
    assert all(len(line) < 300 for line in shown)
    assert shown[-1].strip() == "^" and shown[-2][len(shown[-1]) - 1] == "*"


def test_superscripts_are_not_names():
    with pytest.raises(eg.ExprSyntaxError, match=r"'x²' is not a valid name: write powers as x\^2"):
        eg.compile("x² + 1")


def test_derivative_domain_errors_point_at_the_node():
    f = eg.compile("a = x + 1; b = sqrt(x) + sqrt(y); b*a")
    for call in (lambda: f.grad(x=0, y=1), lambda: f.graph(x=0, y=1)):
        with pytest.raises(eg.DomainError, match=r"derivative of sqrt\(0\)") as info:
            call()
        assert info.value.column == 16 and "`sqrt(x)`" in info.value.message


def test_negative_base_with_variable_exponent_reports_nan_for_the_exponent_only():
    # As PyTorch and JAX: the value and d/dx exist, d/dy = x^y*log(x) has no real value.
    import math
    value, grads = eg.compile("pow(x, y)").grad(x=-2, y=3)
    assert value == -8.0 and grads["x"] == 12.0 and math.isnan(grads["y"])
    value, grads = eg.compile("x^y").grad(x=0, y=2)
    assert (value, grads) == (0.0, {"x": 0.0, "y": 0.0})


def test_values_too_large_or_given_twice():
    f = eg.compile("x*y")
    with pytest.raises(eg.VariableError, match="too large"):
        f(x=10**400, y=1)
    with pytest.raises(eg.VariableError, match="given both by position and by name"):
        f.grad(1, x=2)


@pytest.mark.parametrize("text, hint, column", [
    ("2x", "multiplication needs '*'", 2),
    ("(a+b)(a-b)", "multiplication needs '*'", 6),
    ("sin x", "call functions with parentheses: sin(x)", 5),
    ("1.2.3", "at most one decimal point", 4),
])
def test_common_slips_get_a_hint(text, hint, column):
    with pytest.raises(eg.ExprSyntaxError) as info:
        eg.compile(text)
    assert hint in info.value.message and info.value.column == column


def test_numbers_beyond_float_range():
    with pytest.raises(eg.ExprSyntaxError, match="too large for a float"):
        eg.compile("1e400*x")
    # Out of range the other way: it would round to 0.0 (float('1e-400') is 0.0).
    with pytest.raises(eg.ExprSyntaxError, match="too small for a float"):
        eg.compile("1e-400*x")
    f = eg.compile("1e-320*x + 1e300*y")       # a subnormal double: in range
    assert f(x=1, y=1) == 1e300
    assert str(f) == "1e-320*x + 1e300*y"

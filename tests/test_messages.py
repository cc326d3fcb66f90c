"""Messages a new user meets: did-you-mean by an edit distance that counts swapped letters, what
to write for other libraries' spellings (exp2, math.exp, np.tanh), the list of functions, and
`err.expected` in the words the message uses."""
import pytest

import exprgrad as eg
from exprgrad.ops import FUNCTIONS
from exprgrad.suggest import REWRITES, close, distance


def error(text):
    with pytest.raises(eg.ExprError) as info:
        eg.compile(text)
    return info.value


def levenshtein(a, b):
    """Plain Levenshtein distance (no transpositions), the reference the OSA distance beats."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        row = [i]
        for j, cb in enumerate(b, 1):
            row.append(min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = row
    return prev[-1]


@pytest.mark.parametrize("a, b, swaps", [("tahn", "tanh", 1), ("ab", "ba", 1), ("sqtr", "sqrt", 1),
                                         ("abc", "abc", 0), ("kitten", "sitting", 0)])
def test_distance_counts_a_swap_as_one_edit(a, b, swaps):
    assert distance(a, b) == levenshtein(a, b) - swaps
    assert distance(a, b) == distance(b, a)


def test_tahn_suggests_tanh_first():
    err = error("tahn(x)")
    assert isinstance(err, eg.UnknownFunctionError)
    assert err.suggestion == "tanh" and err.suggestions[0] == "tanh"
    assert "did you mean tanh" in err.message


def test_at_most_three_candidates_nearest_first():
    names = ["abce", "abcf", "abdc", "abcx", "zzzz", "abcdef"]
    got = close("abcd", names)
    assert len(got) == 3 and set(got) <= {"abce", "abcf", "abdc", "abcx"}
    assert close("abcd", ["abdc", "abce"])[0] in ("abdc", "abce")        # both one edit
    err = error("sinhh(x)")
    assert 1 <= len(err.suggestions) <= 3 and err.suggestions[0] == "sinh"


def test_log10_and_log2_are_functions_of_the_language():
    f = eg.compile("log10(x) + log2(y)")
    assert f(x=1000.0, y=8.0) == 6.0                 # math.log10, math.log2: exact at powers
    _, grads = f.grad(x=1000.0, y=8.0)
    assert grads["x"] == pytest.approx(1 / (1000 * 2.302585092994046), rel=1e-15)
    assert grads["y"] == pytest.approx(1 / (8 * 0.6931471805599453), rel=1e-15)


def test_foreign_spellings_say_what_to_write():
    err = error("exp2(x + 1)")
    assert "write 2^(x + 1)" in err.message and err.suggestion == "2^(x + 1)"
    assert eg.compile(err.suggestion)(x=2.0) == 8.0
    err = error("arctan2(y, x)")
    assert err.suggestion == "atan2(y, x)"


@pytest.mark.parametrize("name", sorted(REWRITES))
def test_every_rewrite_compiles_to_the_same_value(name):
    import math
    import numpy as np
    assert name not in FUNCTIONS, f"{name} is a function of the language: drop its rewrite"
    arity = REWRITES[name].count("{")
    args = ["x", "y"][:arity]
    err = error(f"{name}({', '.join(args)})")
    f = eg.compile(err.suggestion)
    point = {"x": 0.3, "y": 0.7}
    reference = getattr(np, name, None) or getattr(math, name)
    assert f(**{a: point[a] for a in args}) == pytest.approx(
        float(reference(*(point[a] for a in args))), rel=1e-12)


@pytest.mark.parametrize("text, instead", [("math.exp(x)", "exp(x)"), ("np.tanh(x)", "tanh(x)"),
                                           ("2*np.tanh(w*x + b)", "tanh(w*x + b)"),
                                           ("math.log10(x)", "log10(x)"), ("math.pi*r^2", "pi")])
def test_module_prefixes_say_what_to_write(text, instead):
    err = error(text)
    assert isinstance(err, eg.ExprSyntaxError)
    assert f"write {instead}" in err.message
    assert err.column == text.index(".") + 1


@pytest.mark.parametrize("text", ["erfc(x)", "sum(x, y)", "g(3)", "sig(z) = z; gis(x)"])
def test_unknown_functions_list_the_functions(text):
    err = error(text)
    assert isinstance(err, eg.UnknownFunctionError)
    listed = err.message.split("the functions are ", 1)[1]
    for name in FUNCTIONS:
        assert name in listed
    if "sig(z)" in text:
        assert "defined here: sig" in err.message


@pytest.mark.parametrize("text", ["2 +* 3", "x y", "(", "x = ", "f(x,", "2 ^ ^ 3"])
def test_expected_holds_the_words_of_the_message(text):
    err = error(text)
    assert err.expected, text
    for word in err.expected:
        assert word in err.message, (word, err.message)
    assert not any(w.isupper() for w in err.expected)      # no grammar token names (SUB, LPAR)

"""Messages a new user meets: did-you-mean by an edit distance that counts swapped letters, what
to write for other libraries' spellings (log10, math.exp, np.tanh), the list of functions, and
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


def test_log10_says_what_to_write():
    if "log10" in FUNCTIONS:             # the language gained the op: it simply works
        assert eg.compile("log10(x)")(x=100.0) == pytest.approx(2.0)
        return
    err = error("log10(x + 1)")
    assert "write log(x + 1, 10)" in err.message and err.suggestion == "log(x + 1, 10)"
    f = eg.compile(err.suggestion)
    assert f(x=99.0) == pytest.approx(2.0)


@pytest.mark.parametrize("name", sorted(REWRITES))
def test_every_rewrite_compiles_to_the_same_value(name):
    import math
    import numpy as np
    if name in FUNCTIONS:
        return                            # defined by now: no rewrite needed
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
                                           ("math.log10(x)", "log(x, 10)"), ("math.pi*r^2", "pi")])
def test_module_prefixes_say_what_to_write(text, instead):
    err = error(text)
    assert isinstance(err, eg.ExprSyntaxError)
    assert f"write {instead}" in err.message
    assert err.column == text.index(".") + 1


@pytest.mark.parametrize("text", ["erf(x)", "sum(x, y)", "g(3)", "sig(z) = z; gis(x)"])
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

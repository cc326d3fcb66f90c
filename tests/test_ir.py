"""The graph IR: hash-consing, printing that round-trips through the grammar, the gradient pass.

The printer's precedence table (ops.PREC_*) and the grammar must agree; a property test builds
random graphs over every op the language can write, prints them, parses the text back and
requires the very same structure.
"""
from fractions import Fraction

from hypothesis import given, settings, strategies as st

import exprgrad as eg
from exprgrad.autodiff import grad_graph, op_count
from exprgrad.interpret import evaluate
from exprgrad.ir import Graph
from exprgrad.printer import pretty
from exprgrad.lower import lower
from exprgrad.ops import OPS
from exprgrad.parse import parse

WRITABLE = ["add", "sub", "mul", "div", "pow", "neg"] + [
    name for name, op in OPS.items() if op.public]


_TABLE: dict = {}


def structure(graph: Graph, node) -> int:
    """An id equal for structurally equal nodes of any two graphs (iterative)."""
    key_of: dict[int, int] = {}
    for n in graph.order([node]):
        key = (n.op, n.payload, tuple(key_of[a.index] for a in n.args))
        key_of[n.index] = _TABLE.setdefault(key, len(_TABLE))
    return key_of[node.index]


@st.composite
def graphs(draw):
    g = Graph()
    pool = [g.var(name) for name in ("x", "y", "z")]
    pool += [g.const(Fraction(c)) for c in (2, 3, Fraction(1, 2))]
    for _ in range(draw(st.integers(1, 12))):
        name = draw(st.sampled_from(WRITABLE))
        args = [draw(st.sampled_from(pool)) for _ in range(OPS[name].arity)]
        pool.append(g.apply(name, *args))
    g.outputs.append(pool[-1])
    g.output_names.append("f")
    return g


@settings(max_examples=300, deadline=None)
@given(graphs())
def test_printing_round_trips_through_the_grammar(g):
    text = pretty(g)
    again = lower(parse(text), text)
    assert structure(again, again.output) == structure(g, g.output), text


def test_hash_consing_shares_equal_subexpressions():
    f = eg.compile("a = x*w; b = x*w; a + b")
    muls = [n for n in f.ir.order() if n.op == "mul"]
    assert len(muls) == 1 and f.ir.labels[muls[0]] == "a"
    assert f.ir.const(Fraction(0)) is f.ir.const(0)


def test_gradient_program_is_cheap_and_correct():
    f = eg.compile("n = x1*w1 + x2*w2 + b; o = tanh(n)")
    g = grad_graph(f.ir)
    assert g.output_names == ["o", "d_b", "d_w1", "d_w2", "d_x1", "d_x2"]
    point = dict(x1=2, x2=0, w1=-3, w2=1, b=6.8813735870195432)
    vals = evaluate(g, point)
    value, grads = f.grad(**point)
    assert [vals[o.index] for o in g.outputs] == [value] + [grads[v] for v in f.variables]
    assert op_count(g) <= 3 * op_count(f.ir)


def test_gradient_of_a_shared_node_accumulates():
    f = eg.compile("y = x*x; y*y")
    g = grad_graph(f.ir)
    vals = evaluate(g, {"x": 3.0})
    assert vals[g.outputs[1].index] == 4 * 27.0


def test_gradient_pass_handles_100k_chain():
    depth = 100_000
    f = eg.compile("sin(" * depth + "x" + ")" * depth)
    g = grad_graph(f.ir)
    vals = evaluate(g, {"x": 0.5})
    value, grads = f.grad(x=0.5)
    assert vals[g.outputs[1].index] == grads["x"]

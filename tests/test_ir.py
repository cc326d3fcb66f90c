"""The graph IR: hash-consing, printing that round-trips through the grammar, the gradient pass.

The printer's precedence table (ops.PREC_*) and the grammar must agree; a property test builds
random graphs over every op the language can write, prints them, parses the text back and
requires the very same structure.
"""
from fractions import Fraction

import pytest
from hypothesis import given, settings, strategies as st

import exprgrad as eg
from exprgrad.autodiff import grad_program, op_count
from exprgrad.interpret import evaluate
from exprgrad.ir import Graph
from exprgrad.printer import pretty
from exprgrad.lower import lower
from exprgrad.ops import OPS
from exprgrad.parse import parse
from exprgrad import ir, program
from exprgrad.codegen.from_sympy import symbolic_program
from exprgrad.expand import expand
from exprgrad.trace import trace

from corpus import LANGUAGE

#: every op the language can write (the registry's functions, operators and constants)
WRITABLE = sorted(LANGUAGE)

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
    # one output, or several (any nodes: variables, constants, repeats), as `p, q` ends a program
    outputs = [pool[-1]] + draw(st.lists(st.sampled_from(pool), max_size=2))
    g.outputs.extend(outputs)
    g.output_names.extend(["f"] if len(outputs) == 1 else [f"f{i}" for i in range(len(outputs))])
    return g


@settings(max_examples=300, deadline=None)
@given(graphs())
def test_printing_round_trips_through_the_grammar(g):
    text = pretty(g)
    again = lower(parse(text), text)
    if len(g.outputs) > 1:         # (one bare output reads back named after itself: x, pi)
        assert again.output_names == g.output_names, text
    for out, back in zip(g.outputs, again.outputs, strict=True):
        assert structure(again, back) == structure(g, out), text


def test_hash_consing_shares_equal_subexpressions():
    f = eg.compile("a = x*w; b = x*w; a + b")
    muls = [n for n in f.ir.order() if n.op == "mul"]
    assert len(muls) == 1 and f.ir.labels[muls[0]] == "a"
    assert f.ir.const(Fraction(0)) is f.ir.const(0)


def test_gradient_program_is_cheap_and_correct(neuron, seed):
    f = neuron
    p = grad_program(f.ir)
    assert [label for r in p.results for label in r.labels] == \
        ["o", "d_b", "d_w1", "d_w2", "d_x1", "d_x2"]
    vals = evaluate(p.graph, seed, p.graph.order(p.roots))
    value, grads = f.grad(**seed)
    assert [vals[o.index] for o in p.roots] == [value] + [grads[v] for v in f.variables]
    assert op_count(p.graph, p.roots) <= 3 * op_count(f.ir)


def test_gradient_of_a_shared_node_accumulates():
    f = eg.compile("y = x*x; y*y")
    p = grad_program(f.ir)
    vals = evaluate(p.graph, {"x": 3.0}, p.graph.order(p.roots))
    assert vals[p.result("grad").nodes[0].index] == 4 * 27.0


def test_gradient_pass_handles_100k_chain():
    depth = 100_000
    f = eg.compile("sin(" * depth + "x" + ")" * depth)
    p = grad_program(f.ir)
    vals = evaluate(p.graph, {"x": 0.5}, p.graph.order(p.roots))
    value, grads = f.grad(x=0.5)
    assert vals[p.result("grad").nodes[0].index] == grads["x"]


# ---- the verifier, after every pass --------------------------------------------------------

def test_every_pass_leaves_a_valid_graph(corpus_case):
    """lower, the gradient pass, --expand, the symbolic strategy and tracing a Value DAG each
    produce a graph (or program) the verifier accepts."""
    f = eg.compile(corpus_case.text)
    ir.check(f.ir)
    program.check(grad_program(f.ir))
    ir.check(expand(f.ir))
    if f.variables:
        program.check(grad_program(f.ir, wrt=f.variables[:1]))
    try:
        program.check(symbolic_program(f.ir))
    except eg.CodegenError:
        pass                          # beyond sympy's budget or form: nothing was built
    point = {v: 0.7 for v in f.variables}
    root = f.graph(**point)
    leaves = {v.label: v for v in root.topo() if not v._args and v.label in point}
    ir.check(trace(root, leaves))


def _broken(mutate) -> Graph:
    g = lower(parse("n = x*w + b; o = tanh(n)"))
    mutate(g)
    return g


@pytest.mark.parametrize("mutate,message", [
    (lambda g: g.nodes.reverse(), "position"),
    (lambda g: setattr(g.nodes[-1], "args", (g.nodes[-1].args[0], g.nodes[0])),
     "not a registry op of arity 2"),
    (lambda g: setattr(g.nodes[4], "args", (g.nodes[5], g.nodes[3])), "not an earlier node"),
    (lambda g: g._table.pop(next(iter(g._table))), "hash-cons table"),
    (lambda g: g.outputs.append(lower(parse("y")).outputs[0]), "output names"),
    (lambda g: g.labels.__setitem__(lower(parse("z*z")).outputs[0], "z2"), "not a node of this"),
    (lambda g: setattr(g.nodes[0], "payload", "zz"), "variable"),
])
def test_the_verifier_names_a_broken_invariant(mutate, message):
    with pytest.raises(ir.IRError, match=message):
        ir.check(_broken(mutate))

"""Pictures: real SVG, checked against independently computed numbers.

Each SVG test runs twice: through Graphviz's `dot` (skipped, with the reason shown, where it is
not installed: CI installs it) and through exprgrad's own SVG writer (svg.py), which needs
nothing and writes the same structure (a node group per value and op, a text per field)."""
import math
import os
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import exprgrad as eg
from exprgrad.autodiff import grad_program
from exprgrad.draw import (LIMIT, NoGraphvizWarning, RenderError, TruncatedDrawingWarning,
                           dot_program, draw_dot, mimebundle, pipe, render)

from exprgrad.ops import OPS

from corpus import LANGUAGE, NEURON, SEED, SEED_ARGS, application
from helpers import run_cli, run_example, run_process

ROOT = Path(__file__).resolve().parent.parent
SVG = "{http://www.w3.org/2000/svg}"


def neuron_float(x1, x2, w1, w2, b):
    """The seed neuron in plain floats: every intermediate, for the reference numbers."""
    x1w1, x2w2 = x1 * w1, x2 * w2
    s = x1w1 + x2w2
    n = s + b
    return {"x1*w1": x1w1, "x2*w2": x2w2, "x1*w1 + x2*w2": s, "n": n, "o": math.tanh(n)}


def fd_grads(point, h=1e-6):
    """d o / d (every leaf and intermediate) by central differences, independently of exprgrad.
    Intermediates are perturbed by adding h to them inside the float computation."""
    def o_with(bump):
        x1, x2, w1, w2, b = (point[k] + bump.get(k, 0.0) for k in ("x1", "x2", "w1", "w2", "b"))
        x1w1 = x1 * w1 + bump.get("x1*w1", 0.0)
        x2w2 = x2 * w2 + bump.get("x2*w2", 0.0)
        s = x1w1 + x2w2 + bump.get("x1*w1 + x2*w2", 0.0)
        n = s + b + bump.get("n", 0.0)
        return math.tanh(n) + bump.get("o", 0.0)
    names = ["x1", "x2", "w1", "w2", "b", "x1*w1", "x2*w2", "x1*w1 + x2*w2", "n", "o"]
    return {k: (o_with({k: h}) - o_with({k: -h})) / (2 * h) for k in names}


def seed_neuron_values():
    v = {k: eg.Value(x, label=k) for k, x in SEED.items()}
    x1w1 = v["x1"] * v["w1"]; x1w1.label = "x1*w1"
    x2w2 = v["x2"] * v["w2"]; x2w2.label = "x2*w2"
    s = x1w1 + x2w2; s.label = "x1*w1 + x2*w2"
    n = s + v["b"]; n.label = "n"
    o = n.tanh(); o.label = "o"
    o.backward()
    return o


def svg_parts(svg: bytes):
    """(record texts by node title, op-node titles, number of edges) of a Graphviz SVG."""
    tree = ET.fromstring(svg)
    nodes, ops, edges = {}, [], 0
    for g in tree.iter(f"{SVG}g"):
        title = g.findtext(f"{SVG}title")
        if g.get("class") == "node":
            texts = [(t.text or "").strip() for t in g.iter(f"{SVG}text")]
            if title.endswith("op"):
                ops.append(title)
            else:
                nodes[title] = texts
        elif g.get("class") == "edge":
            edges += 1
    return nodes, ops, edges


def fmt(x):
    return f"{x:.4f}"


def assert_leaf_grads_are_the_seeds(shown: dict) -> None:
    """Each leaf of the seed neuron shows the grad finite differences give (`shown`: the texts
    under each label)."""
    grads = fd_grads(SEED)
    for leaf in SEED:
        assert shown[leaf][1] == f"grad {fmt(grads[leaf])}", leaf


NO_DOT = "Graphviz's `dot` is not installed here (CI installs it)"
needs_dot = pytest.mark.skipif(dot_program() is None, reason=NO_DOT)


@pytest.fixture(params=["graphviz", "exprgrad"])
def svg_of(request):
    """Renders a drawing to SVG bytes with Graphviz's `dot` or with exprgrad's own writer."""
    if request.param == "graphviz" and dot_program() is None:
        pytest.skip(NO_DOT)
    return lambda drawing, **kw: pipe(drawing, "svg", renderer=request.param, **kw)


def test_seed_neuron_svg_shows_every_label_data_and_grad(svg_of):
    svg = svg_of(draw_dot(seed_neuron_values()))
    nodes, ops, edges = svg_parts(svg)
    data = {**SEED, **neuron_float(**SEED)}
    grads = fd_grads(SEED)
    shown = {texts[0]: texts[1:] for texts in nodes.values()}
    assert set(shown) == set(data)
    for label, texts in shown.items():
        assert texts == [f"data {fmt(data[label])}", f"grad {fmt(grads[label])}"], label
    assert len(ops) == 5                       # *, *, +, +, tanh
    assert edges == 5 + 9                      # op → result, and one per argument


def test_cli_done_when_command_writes_the_neuron_svg(tmp_path):
    out = tmp_path / "neuron.svg"
    res = run_cli(NEURON, "--at", *SEED_ARGS, "--dot", str(out))
    assert res.returncode == 0, res.stderr
    nodes, ops, edges = svg_parts(out.read_bytes())
    shown = {texts[0]: texts[1:] for texts in nodes.values() if texts[0]}
    data, grads = {**SEED, **neuron_float(**SEED)}, fd_grads(SEED)
    for label in ("o", "n", "x1", "x2", "w1", "w2", "b"):
        assert shown[label] == [f"data {fmt(data[label])}", f"grad {fmt(grads[label])}"]
    assert len(nodes) == 10 and len(ops) == 5 and edges == 14


def test_dot_source_is_deterministic_across_processes(tmp_path):
    # Two real processes (the point: string hashing differs between them).
    sources = []
    for seed in ("1", "2"):
        out = tmp_path / f"n{seed}.dot"
        env = {**os.environ, "PYTHONHASHSEED": seed}
        res = run_process(NEURON, "--at", *SEED_ARGS, "--dot",
                      str(out), env=env)
        assert res.returncode == 0, res.stderr
        sources.append(out.read_bytes())
    assert sources[0] == sources[1]
    assert b"shape=record" in sources[0]
    # Built twice in one process, too: names are positions, never id().
    assert draw_dot(seed_neuron_values()).source == draw_dot(seed_neuron_values()).source


def test_without_graphviz_svg_is_drawn_by_exprgrad_and_png_says_how_to_install(tmp_path,
                                                                                 monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))         # a PATH with no `dot` on it
    res = run_cli(NEURON, "--at", *SEED_ARGS, "--dot",
                  str(tmp_path / "p.svg"))
    assert res.returncode == 0, res.stderr
    assert "Graphviz draws pictures better" in res.stderr
    assert "apt-get install graphviz" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1          # one line, not a warning dump
    nodes, ops, edges = svg_parts((tmp_path / "p.svg").read_bytes())
    assert len(nodes) == 10 and len(ops) == 5 and edges == 14
    res = run_cli("x*y", "--dot", str(tmp_path / "p.png"))
    assert res.returncode == 2
    assert "apt-get install graphviz" in res.stderr and "brew install graphviz" in res.stderr
    assert ".svg and .dot" in res.stderr
    assert not (tmp_path / "p.png").exists()
    res = run_cli("x*y", "--at", "x=2", "y=3", "--dot", str(tmp_path / "p.dot"))
    assert res.returncode == 0, res.stderr
    assert "data 6.0000" in (tmp_path / "p.dot").read_text()


def test_library_without_graphviz_draws_svg_itself_with_a_note(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RenderError, match="apt-get install graphviz"):
        render(seed_neuron_values(), tmp_path / "n.png")
    render(seed_neuron_values(), tmp_path / "n.dot")
    assert "grad -1.5000" in (tmp_path / "n.dot").read_text()
    with pytest.warns(NoGraphvizWarning, match="Graphviz draws pictures better"):
        render(seed_neuron_values(), tmp_path / "n.svg")
    nodes, ops, edges = svg_parts((tmp_path / "n.svg").read_bytes())
    assert ["x1", "data 2.0000", "grad -1.5000"] in nodes.values() and len(ops) == 5
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoGraphvizWarning)
        bundle = mimebundle(seed_neuron_values())          # notebooks still get the picture
    assert "grad -1.5000" in bundle["image/svg+xml"]
    # A Digraph that draw_dot did not make has no scene to draw without Graphviz.
    import graphviz
    with pytest.raises(RenderError, match="apt-get install graphviz"):
        pipe(graphviz.Digraph(), "svg")


def test_own_svg_nodes_do_not_overlap(neuron):
    for drawing in (draw_dot(seed_neuron_values()), draw_dot(grad_program(neuron.ir), at=SEED),
                    draw_dot(neuron)):
        tree = ET.fromstring(pipe(drawing, "svg", renderer="exprgrad"))
        boxes = []
        for g in tree.iter(f"{SVG}g"):
            if g.get("class") != "node":
                continue
            rect, ellipse = g.find(f"{SVG}rect"), g.find(f"{SVG}ellipse")
            if rect is not None:
                x, y = float(rect.get("x")), float(rect.get("y"))
                boxes.append((x, y, x + float(rect.get("width")), y + float(rect.get("height"))))
            else:
                cx, cy = float(ellipse.get("cx")), float(ellipse.get("cy"))
                rx, ry = float(ellipse.get("rx")), float(ellipse.get("ry"))
                boxes.append((cx - rx, cy - ry, cx + rx, cy + ry))
        for i, a in enumerate(boxes):
            for b in boxes[i + 1:]:
                apart = a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]
                assert apart, (a, b)


@pytest.mark.parametrize("ext", [".svg", pytest.param(".png", marks=needs_dot),
                                 pytest.param(".pdf", marks=needs_dot), ".dot"])
def test_render_by_extension(tmp_path, ext):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoGraphvizWarning)
        path = render(draw_dot(seed_neuron_values()), tmp_path / f"n{ext}")
    head = path.read_bytes()[:8]
    assert head.startswith({".svg": b"<?xml", ".png": b"\x89PNG", ".pdf": b"%PDF",
                            ".dot": b"digraph"}[ext])


def test_unknown_extension_is_a_clear_cli_error(tmp_path):
    res = run_cli("x*y", "--dot", str(tmp_path / "p.jpg"))
    assert res.returncode == 2
    assert ".svg" in res.stderr and ".dot" in res.stderr


def test_a_plus_a_draws_both_uses_and_accumulates(svg_of):
    a = eg.Value(3.0, label="a")
    b = a + a; b.label = "b"
    b.backward()
    nodes, ops, edges = svg_parts(svg_of(draw_dot(b)))
    shown = {t[0]: t[1:] for t in nodes.values()}
    h = 1e-6
    assert shown["a"] == ["data 3.0000", f"grad {fmt(((3 + h) * 2 - (3 - h) * 2) / (2 * h))}"]
    assert len(ops) == 1 and edges == 3          # a → + twice: one edge per argument


def test_diamond_grads_match_finite_differences(svg_of):
    def f(a, b):
        return (a * b) * (a + b)
    a, b = eg.Value(-2.0, label="a"), eg.Value(3.0, label="b")
    d = a * b; d.label = "d"
    e = a + b; e.label = "e"
    out = d * e; out.label = "f"
    out.backward()
    shown = {t[0]: t[1:] for t in svg_parts(svg_of(draw_dot(out)))[0].values()}
    h = 1e-6
    assert shown["a"][1] == f"grad {fmt((f(-2 + h, 3) - f(-2 - h, 3)) / (2 * h))}"
    assert shown["b"][1] == f"grad {fmt((f(-2, 3 + h) - f(-2, 3 - h)) / (2 * h))}"
    assert shown["f"] == ["data -6.0000", "grad 1.0000"]


def test_exp_expanded_tanh_picture_has_the_same_leaf_grads(svg_of):
    f = eg.compile("n = x1*w1 + x2*w2 + b; e = exp(2*n); o = (e - 1)/(e + 1)")
    nodes, ops, edges = svg_parts(svg_of(draw_dot(f, at=SEED)))
    shown = {t[0]: t[1:] for t in nodes.values() if t[0]}
    assert_leaf_grads_are_the_seeds(shown)
    assert shown["o"][0] == f"data {fmt(math.tanh(neuron_float(**SEED)['n']))}"
    assert "e" in shown and len(ops) == 9       # 2×*, 2×+, 2*n, exp, e-1, e+1, /


def test_structure_only_without_a_point(svg_of):
    f = eg.compile("n = x*w + 2; o = tanh(n)")
    source = draw_dot(f).source
    assert "data" not in source and "grad" not in source
    nodes, ops, edges = svg_parts(svg_of(draw_dot(f)))
    labels = sorted(t[0] for t in nodes.values())
    assert labels == sorted(["x", "w", "", "2", "n", "o"])
    assert len(ops) == 3 and edges == 3 + 5


def test_gradient_program_shows_adjoints_in_red_with_values(tmp_path, svg_of, neuron):
    g = grad_program(neuron.ir)
    drawing = draw_dot(g, at=SEED)
    nodes, ops, edges = svg_parts(svg_of(drawing))
    shown = {t[0]: t[1:] for t in nodes.values() if t[0]}
    grads = fd_grads(SEED)
    for leaf in SEED:
        assert shown[f"d_{leaf}"] == [f"data {fmt(grads[leaf])}"]
    red = [line for line in drawing.source.splitlines() if "#c0392b" in line]
    black = [line for line in drawing.source.splitlines()
             if "shape=record" in line and "#c0392b" not in line]
    assert red and black
    assert all("d_" not in line for line in black)
    out = tmp_path / "g.svg"
    res = run_cli(NEURON, "--at", *SEED_ARGS,
                  "--dot-grad", str(out))
    assert res.returncode == 0, res.stderr
    assert "d_x1" in out.read_text() and "#c0392b" in out.read_text()


def test_odd_labels_are_escaped_and_render(svg_of):
    a = eg.Value(1.0, label='a{b}|<c> "q" \\ x')
    out = a * 2; out.label = "out\nnext"
    out.backward()
    nodes, _, _ = svg_parts(svg_of(draw_dot(out)))
    texts = [t[0] for t in nodes.values()]
    assert 'a{b}|<c> "q" \\ x' in texts and "out next" in texts


def test_five_thousand_values_render_with_the_simple_layout(svg_of):
    n = 1250
    f = eg.compile(" + ".join(f"x{i}*w{i}" for i in range(n)))
    drawing = draw_dot(f)
    assert drawing.exprgrad_info.values == 4 * n - 1
    assert drawing.exprgrad_info.layout == "pinned" and not drawing.exprgrad_info.collapsed
    nodes, ops, edges = svg_parts(svg_of(drawing, timeout=120))
    assert len(nodes) == 4 * n - 1 and len(ops) == 2 * n - 1


def test_huge_chain_does_not_recurse_and_collapses_with_a_warning():
    x = eg.Value(0.5, label="x")
    y = x
    for _ in range(100_000):
        y = y.tanh()
    y.label = "y"
    with pytest.warns(TruncatedDrawingWarning, match="100,001 values"):
        drawing = draw_dot(y)
    info = drawing.exprgrad_info
    assert (info.values, info.drawn, info.collapsed) == (100_001, LIMIT, 100_001 - LIMIT)
    assert "more values" in drawing.source and '"{ y | data' in drawing.source


def test_collapsed_drawing_renders(svg_of):
    x = eg.Value(0.5, label="x")
    y = x
    for _ in range(300):
        y = y.tanh()
    with pytest.warns(TruncatedDrawingWarning):
        drawing = draw_dot(y, limit=40)
    nodes, ops, edges = svg_parts(svg_of(drawing))
    assert "more values" in " ".join(nodes["collapsed"])
    assert len(nodes) == 40 + 1 and len(ops) == 40
    with warnings.catch_warnings():
        warnings.simplefilter("error")                  # no cap asked: no warning
        assert draw_dot(y, limit=None).exprgrad_info.drawn == 301


# Without Graphviz the display says once that exprgrad drew the SVG itself (that note is
# test_library_without_graphviz_draws_svg_itself_with_a_note's subject, not this test's).
@pytest.mark.filterwarnings("ignore::exprgrad.draw.NoGraphvizWarning")
def test_notebook_reprs(neuron):
    bundle = seed_neuron_values()._repr_mimebundle_()
    assert "text/plain" in bundle
    nodes, ops, edges = svg_parts(bundle["image/svg+xml"].encode())
    assert ["x1", "data 2.0000", "grad -1.5000"] in nodes.values() and len(ops) == 5
    f = neuron
    assert "tanh" in f._repr_mimebundle_()["text/html"]
    latex = f._repr_latex_()
    if hasattr(f, "sympy") and hasattr(f, "derivatives"):
        assert latex.startswith("$$") and r"\partial" in latex and r"\tanh" in latex
    else:
        assert latex is None                  # the symbolic side is not there to ask


@pytest.mark.parametrize("text", ["-" * 5001 + "x",                  # over the size limit
                                  "sin(" * 100 + "x" + ")" * 100,     # over sympy's depth
                                  "x*2^20000"])                        # a number too long
def test_latex_repr_is_none_when_the_symbolic_side_is_skipped(text):
    # IPython calls _repr_latex_ on display: it must return None, not raise SymbolicError.
    assert eg.compile(text)._repr_latex_() is None


def test_seed_pictures_example_draws_every_seed_picture(tmp_path, capsys):
    status, out = run_example("seed_pictures.py", [str(tmp_path), "--format", "dot"], capsys)
    assert status == 0, out
    made = {p.stem for p in tmp_path.iterdir()}
    assert {"neuron", "a_plus_a", "diamond", "neuron_exp"} <= made
    assert "grad 2.0000" in (tmp_path / "a_plus_a.dot").read_text()


def test_committed_example_picture_is_the_seed_neuron():
    svg = (ROOT / "examples" / "neuron.svg").read_bytes()
    nodes, ops, edges = svg_parts(svg)
    shown = {t[0]: t[1:] for t in nodes.values() if t[0]}
    assert_leaf_grads_are_the_seeds(shown)
    assert (ROOT / "README.md").read_text().count("examples/neuron.svg") >= 1


def test_cli_expand_draws_the_exp_nodes(tmp_path):
    out = tmp_path / "exp.svg"
    res = run_cli(NEURON, "--at", *SEED_ARGS, "--expand",
                  "--no-check", "--dot", str(out))
    assert res.returncode == 0, res.stderr
    nodes, ops, edges = svg_parts(out.read_bytes())
    op_labels = [t[0] for t in svg_parts_ops(out.read_bytes())]
    assert "exp" in op_labels and "tanh" not in op_labels
    shown = {t[0]: t[1:] for t in nodes.values() if t[0]}
    assert_leaf_grads_are_the_seeds(shown)
    assert shown["o"][0] == f"data {fmt(math.tanh(neuron_float(**SEED)['n']))}"


def svg_parts_ops(svg: bytes):
    tree = ET.fromstring(svg)
    return [[(t.text or "").strip() for t in g.iter(f"{SVG}text")] for g in tree.iter(f"{SVG}g")
            if g.get("class") == "node" and g.findtext(f"{SVG}title").endswith("op")]


@pytest.mark.parametrize("name", sorted(LANGUAGE))
def test_every_op_is_drawn_with_its_symbol_value_and_grads(name):
    # Every op the language writes (read from the registry), in a Function's picture and in a
    # Value DAG's, with numbers from its float forward by central differences.
    op = OPS[name]
    xs = [lo + (0.3 + 0.25 * i) * (hi - lo) for i, (lo, hi) in enumerate(op.domain)]  # no tie
    f = eg.compile(application(name))
    point = dict(zip(f.variables, xs))
    h = 1e-6
    grads = [(op.fwd(*xs[:i], x + h, *xs[i + 1:]) - op.fwd(*xs[:i], x - h, *xs[i + 1:]))
             / (2 * h) for i, x in enumerate(xs)]
    values = [eg.Value(x, label=v) for v, x in point.items()]
    out = values[0]._apply(name, *values[1:]) if values else eg.Value(op.fwd(), label="pi")
    out.backward()
    for drawing in (draw_dot(f, at=point), draw_dot(out)):
        svg = pipe(drawing, "svg", renderer="exprgrad")
        assert [texts[0] for texts in svg_parts_ops(svg)] == ([op.symbol] if op.arity else [])
        shown = {t[0]: t[1:] for t in svg_parts(svg)[0].values()}
        assert [f"data {fmt(op.fwd(*xs))}", "grad 1.0000"] in shown.values(), shown
        for v, x, g in zip(f.variables, xs, grads):
            assert shown[v] == [f"data {fmt(x)}", f"grad {fmt(g)}"], (name, v)


def test_pictures_show_no_negative_zero_and_tell_negation_from_subtraction():
    a = eg.Value(-1e-9, label="a")
    b = eg.Value(2.0, label="b")
    c = (a * 1e-3) - b; c.label = "c"
    d = -c; d.label = "d"
    d.backward()
    source = draw_dot(d).source
    assert "data -0.0000" not in source and "{ a | data 0.0000 |" in source
    ops = [line for line in source.splitlines() if "op [label=" in line]
    assert any('label="-"' in line for line in ops) and any('label=neg' in line for line in ops)
    g = draw_dot(eg.compile("x - y + -x*0.00001"), at={"x": 1e-9, "y": 0.0}).source
    assert "-0.0000" not in g and "label=neg" in g and 'label="-"' in g

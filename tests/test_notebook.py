"""Notebook displays, through a real Jupyter kernel: a notebook is executed with nbclient and its
outputs are read as JupyterLab would receive them (MIME bundles).

The kernel tests need the `test` extra's nbclient, nbformat and ipykernel (skipped, saying so,
without them); the display methods are also called in-process, which needs nothing.
"""
import os
from pathlib import Path

import pytest

import exprgrad
import exprgrad as eg

from corpus import NEURON, SEED

MB = 1_000_000

CELLS = {
    "setup": "import exprgrad as eg",
    # micrograd's moons loss has ~15,000 values; this one has 20,002
    "big_value": ("xs = [eg.Value(i / 5000, label=f'x{i}') for i in range(5000)]\n"
                  "ws = [eg.Value(0.5, label=f'w{i}') for i in range(5000)]\n"
                  "loss = sum((x * w for x, w in zip(xs, ws)), eg.Value(0.0)).tanh()\n"
                  "loss.backward()\n"
                  "loss"),
    "full_picture": "eg.draw_dot(loss, limit=None).exprgrad_info.drawn",
    "drawing": "eg.draw_dot(eg.Value(2.0, label='a') * 3)",
    "function": f"f = eg.compile({NEURON!r})\nf",
    "big_function": "eg.compile(' + '.join(f'x{i}*w{i}' for i in range(3000)))",
    "report": f"f.check(**{SEED!r})",
    "graph": "f.ir",
    "ast": "eg.parse('x*y + 1')",
}


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    """Each cell's execute_result data (a MIME bundle), by cell name."""
    nbclient = pytest.importorskip("nbclient", reason="needs nbclient (pip install '.[test]')")
    nbformat = pytest.importorskip("nbformat", reason="needs nbformat (pip install '.[test]')")
    pytest.importorskip("ipykernel", reason="needs ipykernel (pip install '.[test]')")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(src)
                                         for src in CELLS.values()])
    here = str(Path(exprgrad.__file__).resolve().parent.parent)      # this exprgrad
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [here, *filter(None, [os.environ.get("PYTHONPATH")])])}
    client = nbclient.NotebookClient(nb, timeout=180, kernel_name="python3",
                                     resources={"metadata": {"path": str(
                                         tmp_path_factory.mktemp("nb"))}})
    client.execute(env=env)
    found = {}
    for name, cell in zip(CELLS, nb.cells):
        errors = [o for o in cell.outputs if o.output_type == "error"]
        assert not errors, (name, errors)
        results = [o for o in cell.outputs if o.output_type == "execute_result"]
        found[name] = results[0].data if results else {}
    return found


def test_a_big_value_displays_collapsed_and_small(outputs):
    data = outputs["big_value"]
    svg = data["image/svg+xml"]
    assert len(svg.encode()) < MB
    assert "20,002" not in svg and "more values" in svg and "limit=None" in svg
    assert outputs["full_picture"]["text/plain"] == "20002"        # all, one call away


def test_a_drawing_displays_itself(outputs):
    assert "<svg" in outputs["drawing"]["image/svg+xml"]


def test_a_function_shows_its_picture_and_closed_forms_in_one_html_output(outputs):
    data = outputs["function"]
    html = data["text/html"]
    assert "<svg" in html and "tanh" in html                # the picture
    assert "$$" in html and r"\partial" in html             # the closed forms, typeset
    # JupyterLab renders the richest type it knows first: text/html outranks text/latex and
    # image/svg+xml, so both parts are seen; no separate SVG duplicates the picture.
    assert "image/svg+xml" not in data
    assert len(outputs["big_function"]["text/html"].encode()) < MB


def test_report_displays_as_a_table_with_marks(outputs):
    data = outputs["report"]
    assert "<table" in data["text/html"] and "✓" in data["text/html"]
    assert "Report(" not in data["text/plain"] and "✓" in data["text/plain"]


def test_graph_and_ast_reprs_are_readable(outputs):
    assert outputs["graph"]["text/plain"].startswith("<Graph o(b, w1, w2, x1, x2)")
    assert "o = tanh(n)" in outputs["graph"]["text/plain"]
    assert outputs["ast"]["text/plain"] == (
        "Program(Binary(add, Binary(mul, Name(x), Name(y)), Num(1))) at 1:1")


def test_report_repr_and_html_in_process(neuron, seed):
    report = neuron.check(**seed)
    assert repr(report).startswith("<Report o = 0.707106781187, 5 variables: ✓ no disagreement")
    html = report._repr_html_()
    assert html.count("<tr>") == 1 + 5 and html.count("✓") >= 5
    bad = eg.compile("relu(x)").check(x=0.0)                  # a kink: marked ~
    assert "~" in bad._repr_html_() and "kink" in bad._repr_html_()

    class Printer:
        def __init__(self):
            self.out = ""

        def text(self, s):
            self.out += s
    p = Printer()
    report._repr_pretty_(p, False)
    assert p.out == str(report)


def test_ast_repr_is_cut_short_and_never_recurses():
    text = repr(eg.parse(" + ".join(["x"] * 100_000)))
    assert len(text) < 400 and "…" in text and text.endswith(" at 1:1")

"""Pictures: a `Value` DAG, an IR `Graph` or a compiled `Function` → a `graphviz.Digraph`.

The picture is the seeds' `draw_dot`: each value a record ``{ label | data 0.7071 | grad 1.0000 }``,
each operation a small node feeding it, edges child → op → result, left to right.  An IR graph
without a point shows its structure only (labels, ops, constants); a gradient program
(a `program.Program`, e.g. `autodiff.grad_program`'s) shows its derivative nodes in red.  `render` writes the drawing to a file
chosen by extension (.dot needs nothing; .svg/.png/.pdf run Graphviz's ``dot`` with a time
limit; without ``dot``, svg.py draws the SVG from the same scene with the pinned layout below,
and says once that Graphviz draws better) and `mimebundle` shows it in notebooks.

Nodes are named by their position in a topological order (``v0``, ``v0op``, ...), never by
``id()``, so the same graph gives byte-identical DOT source.  Every walk is a loop over that
order, so a 100,000-node chain draws without recursion.

Large graphs.  `dot`'s ranking and crossing passes grow much faster than linearly in the
number of nodes it lays out, counting one virtual node per column each edge crosses (measured
with Graphviz 2.43 here: a 2,000-value sum of products, layout size 3,000, took 1.8 s; a
750-value expression reusing five variables everywhere, layout size ~12,000, did not finish in
300 s).  So `draw_dot` estimates that layout size and above `DOT_LAYOUT_LIMIT` it computes a
simpler layout itself in linear time (columns by distance from the output, straight edges,
positions pinned for Graphviz's ``nop`` engine): 5,000 values then render in under a second of
Graphviz time.  Above ``limit`` values (default `LIMIT`) only the values nearest the output are
drawn and the rest collapse into one "… N more values" node; `draw_dot` then warns
(`TruncatedDrawingWarning`).  ``digraph.exprgrad_info`` (a `DrawInfo`) says what was done.

>>> from exprgrad.value import Value
>>> a = Value(3.0, label="a"); b = a + a; b.label = "b"; b.backward()
>>> print(draw_dot(b).source)  # doctest: +NORMALIZE_WHITESPACE
digraph {
    graph [rankdir=LR]
    v0 [label="{ a | data 3.0000 | grad 2.0000 }" shape=record]
    v1 [label="{ b | data 6.0000 | grad 1.0000 }" shape=record]
    v1op [label="+"]
    v1op -> v1
    v0 -> v1op
    v0 -> v1op
}
"""
from __future__ import annotations

import os
import shutil
import subprocess
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import graphviz

from .errors import RenderError, printable
from .files import write_atomic
from .interpret import check_values, evaluate
from .ir import Graph
from .printer import const_text
from .program import Program
from .ops import OPS
from .svg import Edge, Scene, Shape, size, stacked, to_svg

DOT_LAYOUT_LIMIT = 2_500    # layout size `dot` lays out itself (~1 s); above: pinned layout
LIMIT = 10_000              # values drawn at most by default; the rest are collapsed
NOTEBOOK_LIMIT = 400        # values a notebook display draws (well under 1 MB of SVG)
TIMEOUT = 60.0              # seconds Graphviz may take before rendering gives up
FORMATS = {".dot": None, ".gv": None, ".svg": "svg", ".png": "png", ".pdf": "pdf"}
INSTALL_HINT = ("install Graphviz, which provides the `dot` program: `apt-get install graphviz` "
                "(Debian/Ubuntu), `brew install graphviz` (macOS), or "
                "https://graphviz.org/download/; .dot output works without it")
ADJOINT_COLOR = "#c0392b"


class TruncatedDrawingWarning(UserWarning):
    """The graph had more values than the drawing limit; the farthest ones were collapsed."""


class NoGraphvizWarning(UserWarning):
    """Graphviz's `dot` is not installed: the SVG was drawn by exprgrad itself."""


NO_DOT_NOTE = ("Graphviz's `dot` is not installed, so exprgrad drew this SVG itself (straight "
               "edges); Graphviz draws pictures better: " + INSTALL_HINT.split("; ")[0])


@dataclass
class DrawInfo:
    """What a drawing shows: ``values`` in the graph, ``drawn`` of them, the ``layout`` used."""
    values: int
    drawn: int
    layout: str

    @property
    def collapsed(self) -> int:
        return self.values - self.drawn


ADJOINT_TITLE = "black: forward sweep    red: adjoint sweep (d_x = ∂output/∂x)"
#: the red part of a second-order or forward-mode program is not (only) an adjoint sweep
SWEEP_TITLES = {
    "jvp": "black: forward sweep    red: tangent sweep (the directional derivative)",
    "hvp": "black: forward sweep    red: adjoint sweep (d_x = ∂output/∂x), then its tangent "
           "along v (H·v)",
    "hessian": "black: forward sweep    red: adjoint sweep (d_x = ∂output/∂x), then one "
               "tangent sweep per variable (d2_a_b = ∂²output/∂a∂b)",
}


@dataclass
class _Picture:
    """The graph to draw, in topological order (arguments first): one entry per value."""
    fields: list = field(default_factory=list)    # record fields (label, data, grad)
    ops: list = field(default_factory=list)       # op symbol, or None for a leaf
    args: list = field(default_factory=list)      # argument positions, in argument order
    adjoint: list = field(default_factory=list)   # True for nodes of the adjoint sweep
    roots: list = field(default_factory=list)     # positions of the outputs
    markers: list = field(default_factory=list)   # (output name, position) drawn as extra nodes
    title: str = ADJOINT_TITLE                    # what black and red mean, if red is drawn

    def add(self, fields, op, args, adjoint=False) -> None:
        self.fields.append(tuple(fields))
        self.ops.append(op)
        self.args.append(tuple(args))
        self.adjoint.append(adjoint)


# ---- the public entry point --------------------------------------------------------------------

def draw_dot(root, rankdir: str = "LR", format: str = "svg", *, at: dict | None = None,
             limit: int | None = LIMIT, layout: str = "auto") -> "Drawing":
    """The picture of `root` (a `Value`, an IR `Graph` or a compiled `Function`).

    A `Value` shows data and grad in every record; call ``backward()`` first for the grads.
    A `Graph` or `Function` shows its structure, or with ``at={name: value}`` the values
    (a `Function` then draws its `Value` DAG after backward, grads included).  ``limit`` caps
    the values drawn (None: no cap); ``layout`` is "auto", "dot" or "pinned" (see module doc).
    """
    if layout not in ("auto", "dot", "pinned"):
        raise ValueError(f"layout must be 'auto', 'dot' or 'pinned', not {layout!r}")
    picture = _picture(root, at)
    kept = _nearest(picture, limit)
    keep = bytearray(len(picture.fields))
    for i in kept:
        keep[i] = 1
    if layout == "auto":
        small = _layout_cost(picture, kept, keep) <= DOT_LAYOUT_LIMIT
        layout = "dot" if small else "pinned"
    info = DrawInfo(len(picture.fields), len(kept), layout)
    scene, order = _scene(picture, kept, keep, rankdir, info)
    pos = _pin(picture, kept, keep, scene) if layout == "pinned" else {}
    digraph = _emit(scene, order, pos, format, info)
    digraph.exprgrad_info = info
    # Without Graphviz the same scene is drawn by svg.py, with the pinned layout.
    digraph._exprgrad_svg = lambda: to_svg(scene, pos or _pin(picture, kept, keep, scene))
    if info.collapsed:
        warnings.warn(f"the graph has {info.values:,} values; drew the {info.drawn:,} nearest "
                      f"the output and collapsed {info.collapsed:,} into one node "
                      f"(pass limit=None to draw all)", TruncatedDrawingWarning, stacklevel=2)
    return digraph


def _picture(root, at) -> _Picture:
    from .value import Value
    if isinstance(root, Value):
        return _from_value(root)
    if isinstance(root, Graph):
        return _from_graph(root, at, root.outputs, root.output_names)
    if isinstance(root, Program):
        picture = _from_graph(root.graph, at, root.roots,
                              [label for r in root.results for label in r.labels],
                              root.forward_nodes())
        picture.title = SWEEP_TITLES.get(root.kind, ADJOINT_TITLE)
        return picture
    if hasattr(root, "ir") and isinstance(root.ir, Graph):      # a compiled Function
        if at is not None:
            value = root.graph(**at)
            if not value.label:
                value.label = root.output_name
            return _from_value(value)
        return _from_graph(root.ir, None, root.ir.outputs, root.ir.output_names)
    raise TypeError(f"draw_dot draws a Value, a Graph, a Program or a Function, not "
                    f"{type(root).__name__}")


def _from_value(root) -> _Picture:
    picture = _Picture()
    order = root.topo()
    position = {id(v): i for i, v in enumerate(order)}    # lookup only; names are positions
    for v in order:
        fields = (v.label, f"data {_four(v.data)}", f"grad {_four(v.grad)}")
        picture.add(fields, (v._op or None) if v._args else None,
                    [position[id(a)] for a in v._args])
    picture.roots = [position[id(root)]]
    return picture


def _from_graph(graph: Graph, at, roots: list, names: list[str],
                forward: set | None = None) -> _Picture:
    """The nodes `roots` need; with `forward` (a program's forward sweep), the others are
    derivative nodes, drawn in red."""
    picture = _Picture()
    order = graph.order(roots)
    values = evaluate(graph, check_values(graph, at), order) if at is not None else None
    position = {n.index: i for i, n in enumerate(order)}
    own = _output_labels(graph, roots, names)
    for n in order:
        label = graph.label(n) or own.get(n.index, "")
        if n.op == "const":
            label = label or const_text(n.payload)
        elif not n.args and n.op != "var":
            label = label or n.op                 # nullary ops (pi) are leaves
        fields = [label] if values is None else [label, f"data {_four(values[n.index])}"]
        op = OPS[n.op].symbol if n.args else None
        picture.add(fields, op, [position[a.index] for a in n.args],
                    adjoint=forward is not None and n.index not in forward)
    picture.roots = [position[o.index] for o in roots]
    picture.markers = [(name, position[o.index]) for name, o in zip(names, roots)
                       if (graph.label(o) or own.get(o.index)) != name]
    return picture


def _four(x: float) -> str:
    """Four decimals, as the seeds print them; what rounds to zero is 0.0000, never -0.0000."""
    text = f"{x:.4f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def _output_labels(graph: Graph, roots: list, names: list[str]) -> dict[int, str]:
    """Output names that can go into the output's own record: an unlabelled op node that is
    the output of one name only.  Other outputs get a separate marker node."""
    count: dict[int, int] = {}
    for o in roots:
        count[o.index] = count.get(o.index, 0) + 1
    return {o.index: name for name, o in zip(names, roots)
            if o.args and count[o.index] == 1 and not graph.label(o)}


# ---- the large-graph policy ----------------------------------------------------------------------

def _nearest(picture: _Picture, limit: int | None) -> list[int]:
    """Positions of the values to draw, in topological order: all of them, or the `limit`
    nearest the outputs (breadth first from the outputs over arguments)."""
    total = len(picture.fields)
    if limit is None or total <= limit:
        return list(range(total))
    limit = max(1, limit)
    seen = bytearray(total)
    queue = list(dict.fromkeys(picture.roots))[:limit]
    for i in queue:
        seen[i] = 1
    head = 0
    while head < len(queue) and len(queue) < limit:
        for a in picture.args[queue[head]]:
            if not seen[a] and len(queue) < limit:
                seen[a] = 1
                queue.append(a)
        head += 1
    return sorted(queue)


def _columns(picture: _Picture, kept: list[int], keep: bytearray) -> list[int]:
    """Column of each value for the pinned layout: as far right as its users allow (outputs in
    the last column), so a leaf sits just before the op that uses it.  Op nodes sit in the odd
    column between a value and its result.  Returned per position (unkept: 0)."""
    depth = [0] * len(picture.fields)
    for i in reversed(kept):                       # users come after their arguments
        for a in picture.args[i]:
            if keep[a]:
                depth[a] = max(depth[a], depth[i] + 1)
    last = max((depth[i] for i in kept), default=0)
    return [2 * (last - d) for d in depth]


def _layout_cost(picture: _Picture, kept: list[int], keep: bytearray) -> int:
    """Nodes `dot` would lay out, counting the virtual node it adds for every column an edge
    crosses: its running time grows with this number, far faster than linearly."""
    column = _columns(picture, kept, keep)
    cost = 0
    for i in kept:
        if picture.ops[i] is not None:
            cost += 2 + sum(column[i] - 2 - column[a] for a in picture.args[i] if keep[a])
        else:
            cost += 1
    return cost


def _pin(picture: _Picture, kept: list[int], keep: bytearray, scene: Scene
         ) -> dict[str, tuple[float, float]]:
    """Pinned positions (points, y up) of every drawn node: value ``v{i}``, op ``v{i}op``, the
    collapsed node and the output markers."""
    rankdir = scene.rankdir
    flip = stacked(rankdir)
    shapes = {s.name: s for s in scene.shapes}

    def extent(name: str) -> float:         # along the layout direction
        w, h = size(shapes[name], rankdir)
        return h if flip else w

    column = _columns(picture, kept, keep)
    cells: dict[int, list[tuple[float, str, float]]] = {}   # column → [(sort key, name, width)]
    slot: dict[str, float] = {}
    # Right to left: each node goes near the mean slot of the users already placed.
    users: dict[int, list[str]] = {}
    for i in kept:
        for a in picture.args[i]:
            if keep[a]:
                users.setdefault(a, []).append(f"v{i}op")
    by_column: dict[int, list[int]] = {}
    for i in kept:
        by_column.setdefault(column[i], []).append(i)
    for c in sorted(by_column, reverse=True):
        placed = []
        for k, i in enumerate(by_column[c]):
            ys = [slot[u] for u in users.get(i, ()) if u in slot]
            placed.append((sum(ys) / len(ys) if ys else k, i))
        placed.sort()
        for k, (_, i) in enumerate(placed):
            slot[f"v{i}"] = k - (len(placed) - 1) / 2
            cells.setdefault(c, []).append((k, f"v{i}", extent(f"v{i}")))
            if picture.ops[i] is not None:
                slot[f"v{i}op"] = slot[f"v{i}"]
                cells.setdefault(c - 1, []).append((k, f"v{i}op", extent(f"v{i}op")))
    pos: dict[str, tuple[float, float]] = {}
    start = 0.0
    for c in sorted(cells):
        width = max(w for _, _, w in cells[c])
        across = start + width / 2
        for _, name, _ in cells[c]:
            along = -slot[name] * (70.0 if flip else 46.0)
            x, y = (along, -across) if flip else (across, along)
            if rankdir in ("RL", "BT"):
                x, y = (-x, y) if rankdir == "RL" else (x, -y)
            pos[name] = (x, y)
        start += width + (40.0 if not flip else 30.0)
    if "collapsed" in shapes:
        pos["collapsed"] = (-300.0, 0.0)
    for k, (_, i) in enumerate(picture.markers):
        if f"out{k}" in shapes:                  # an output's name, beside its value
            x, y = pos[f"v{i}"]
            pos[f"out{k}"] = (x + 120.0, y - 20.0 * (k % 2))
    return pos


# ---- the scene, and DOT emission -----------------------------------------------------------------

_RECORD_SPECIALS = str.maketrans({c: "\\" + c for c in "\\{}|<>\""} | {"\n": " ", "\r": " "})


def _field(text) -> str:
    """One record field: escape what the record-label syntax would otherwise interpret, and
    show characters no picture can hold (NUL, terminal escapes, lone surrogates) as escapes."""
    text = "" if text is None else str(text)
    return printable(text, keep="\n\r").translate(_RECORD_SPECIALS)


def _scene(picture: _Picture, kept: list[int], keep: bytearray, rankdir: str,
           info: DrawInfo) -> tuple[Scene, list]:
    """What the picture shows, whatever draws it (DOT here, svg.py without Graphviz), and the
    order in which DOT lists nodes and edges (``(kind, item)``, kind "node" or "edge")."""
    scene = Scene(rankdir)
    order: list = []

    def node(shape: Shape) -> None:
        scene.shapes.append(shape)
        order.append(("node", shape))

    def edge(e: Edge) -> None:
        scene.edges.append(e)
        order.append(("edge", e))

    if any(picture.adjoint[i] for i in kept):
        scene.title = picture.title
    for i in kept:
        red = ADJOINT_COLOR if picture.adjoint[i] else ""
        node(Shape(f"v{i}", tuple(picture.fields[i]), "record", red))
        if picture.ops[i] is not None:
            node(Shape(f"v{i}op", (picture.ops[i],), "ellipse", red))
            edge(Edge(f"v{i}op", f"v{i}", red))
            for a in picture.args[i]:
                edge(Edge(f"v{a}" if keep[a] else "collapsed", f"v{i}op", red))
    if info.collapsed:
        node(Shape("collapsed", (f"… {info.collapsed:,} more values (drawing limit "
                                 f"{info.drawn:,}; draw_dot(..., limit=None) draws all)",),
                   "box", style="dashed"))
    for k, (name, i) in enumerate(picture.markers):
        if keep[i]:
            node(Shape(f"out{k}", (name,), "box", style="rounded,bold"))
            edge(Edge(f"v{i}", f"out{k}", style="dashed"))
    return scene, order


def _emit(scene: Scene, order: list, pos: dict, format: str, info: DrawInfo) -> "Drawing":
    graph_attr = {"rankdir": scene.rankdir}
    if pos:
        # Graphviz's `nop` engine takes the positions as given; straight edges route in
        # linear time where `dot` would take minutes.
        graph_attr.update(layout="nop", splines="false", outputorder="edgesfirst")
    if scene.title:
        graph_attr.update(label=scene.title, labelloc="t")
    dot = Drawing(format=format, graph_attr=graph_attr)
    if info.collapsed:
        dot.comment = (f"exprgrad: {info.collapsed} of {info.values} values collapsed "
                       f"(drawing limit {info.drawn})")
    for kind, item in order:
        if kind == "edge":
            attrs = {"color": item.color} if item.color else {}
            dot.edge(item.tail, item.head, **attrs, **({"style": item.style} if item.style
                                                     else {}))
            continue
        where = {"pos": "%.1f,%.1f" % pos[item.name]} if pos else {}
        red = {"color": item.color} if item.color else {}
        font = {"fontcolor": item.color} if item.color else {}
        if item.kind == "record":
            label = "{ " + " | ".join(_field(f) for f in item.fields) + " }"
            dot.node(item.name, label=label, shape="record", **red, **font, **where)
        elif item.kind == "ellipse":
            dot.node(item.name, label=_field(item.fields[0]), **red, **font, **where)
        else:
            dot.node(item.name, label=_field(item.fields[0]), shape="box", style=item.style,
                     **where)
    return dot


class Drawing(graphviz.Digraph):
    """The `graphviz.Digraph` that `draw_dot` returns, plus what exprgrad knows about it:
    ``exprgrad_info`` (a `DrawInfo`) and the scene, so that it renders as SVG without
    Graphviz (`svg.py`) and displays itself in notebooks either way."""

    exprgrad_info: DrawInfo
    _exprgrad_svg = None        # () -> SVG text drawn by svg.py

    def _repr_mimebundle_(self, include=None, exclude=None, **_):
        wanted = (include is None or "image/svg+xml" in include) and not (
            exclude and "image/svg+xml" in exclude)
        return {"image/svg+xml": pipe(self, "svg").decode("utf-8")} if wanted else {}


# ---- rendering -----------------------------------------------------------------------------------

def dot_program() -> str | None:
    """The path of Graphviz's `dot`, or None when it is not installed."""
    return shutil.which("dot")


def render_format(path) -> str | None:
    """The Graphviz output format for a file name (None: write DOT source); RenderError if the
    extension is not one exprgrad draws."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise RenderError(f"cannot draw to {os.fspath(path)!r}: the file name must end in "
                          f"{', '.join(FORMATS)}")
    return FORMATS[suffix]


def check_renderable(path) -> None:
    """Fail early (RenderError) if `path` cannot be written: an unknown extension, or PNG/PDF
    without Graphviz's `dot` (SVG is drawn by exprgrad itself when `dot` is missing)."""
    fmt = render_format(path)
    if fmt not in (None, "svg") and dot_program() is None:
        raise RenderError(f"cannot render {os.fspath(path)!r}: Graphviz's `dot` program was not "
                          f"found on PATH (without it exprgrad draws .svg and .dot only); "
                          f"{INSTALL_HINT}")


def pipe(digraph: graphviz.Digraph, fmt: str, timeout: float | None = TIMEOUT,
         renderer: str = "auto") -> bytes:
    """The drawing rendered in format `fmt` (svg, png, pdf).

    ``renderer``: "graphviz" runs Graphviz's `dot`; "exprgrad" draws SVG with svg.py (a
    drawing made by `draw_dot` only); "auto" is Graphviz when `dot` is installed, else
    exprgrad's SVG with a `NoGraphvizWarning` (Graphviz draws better pictures).
    """
    if renderer not in ("auto", "graphviz", "exprgrad"):
        raise ValueError(f"renderer must be 'auto', 'graphviz' or 'exprgrad', not {renderer!r}")
    program = dot_program() if renderer != "exprgrad" else None
    own = getattr(digraph, "_exprgrad_svg", None)
    if program is None and fmt == "svg" and own is not None and renderer != "graphviz":
        if renderer == "auto":
            warnings.warn(NO_DOT_NOTE, NoGraphvizWarning, stacklevel=2)
        return own().encode("utf-8")
    if program is None:
        what = ("exprgrad draws SVG only, of a draw_dot drawing" if renderer == "exprgrad"
                else f"Graphviz's `dot` program was not found on PATH; {INSTALL_HINT}")
        raise RenderError(f"cannot render {fmt.upper()}: {what}")
    try:
        done = subprocess.run([program, f"-T{fmt}"], input=digraph.source.encode("utf-8"),
                              capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise RenderError(f"Graphviz's `dot` did not finish within {timeout:g} s; draw fewer "
                          f"values (draw_dot(..., limit=...)) or use layout='pinned'") from None
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
        raise RenderError(f"Graphviz's `dot` failed (exit {done.returncode}): {detail[0]}")
    return done.stdout


def render(drawing, path, timeout: float | None = TIMEOUT, renderer: str = "auto") -> Path:
    """Write `drawing` (a Digraph, or anything `draw_dot` draws) to `path`, by its extension;
    ``renderer`` as in `pipe`."""
    path = Path(path)
    fmt = render_format(path)
    digraph = drawing if isinstance(drawing, graphviz.Digraph) else draw_dot(drawing)
    data = (digraph.source.encode("utf-8") if fmt is None
            else pipe(digraph, fmt, timeout, renderer))
    try:
        write_atomic(path, data)            # a failed write leaves an existing file intact
    except OSError as exc:
        raise RenderError(f"cannot write {os.fspath(path)!r}: {exc.strerror or exc}") from None
    return path


def svg(obj, limit: int | None = LIMIT) -> str:
    """The SVG text of the picture of `obj` (anything `draw_dot` draws)."""
    with warnings.catch_warnings():
        if limit != LIMIT:          # the caller chose the cap: no warning about it
            warnings.simplefilter("ignore", TruncatedDrawingWarning)
        return pipe(draw_dot(obj, limit=limit), "svg").decode("utf-8")


def mimebundle(obj, include=None, exclude=None) -> dict:
    """IPython's rich display: the SVG picture of at most `NOTEBOOK_LIMIT` values (the rest
    collapsed into one node; ``eg.draw_dot(obj, limit=None)`` draws them all), or text saying
    why there is no picture."""
    bundle = {"text/plain": repr(obj)}
    wanted = (include is None or "image/svg+xml" in include) and not (
        exclude and "image/svg+xml" in exclude)
    if wanted:
        try:
            bundle["image/svg+xml"] = svg(obj, limit=NOTEBOOK_LIMIT)
        except RenderError as err:
            bundle["text/plain"] += f"\n(no picture: {err.message})"
    return bundle


def inline_svg(text: str) -> str:
    """An SVG document as an element to put inside HTML (no XML declaration or doctype)."""
    start = text.find("<svg")
    return text[start:] if start >= 0 else text

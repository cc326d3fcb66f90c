"""SVG without Graphviz: a drawing's scene and node positions → one SVG document.

Input: the `Scene` that draw.py builds (record, ellipse and box nodes and the edges between
them, in drawing order) and a position for every node in points, with Graphviz's convention
that y grows upwards (draw.py's pinned layout).  Output: standalone SVG text whose structure
follows Graphviz's own SVG (a ``<g class="node">`` per node holding its ``<title>`` and one
``<text>`` per record field, a ``<g class="edge">`` per edge), so whatever reads one reads the
other.  Edges are straight lines between node borders and text widths are estimated (Times
14), not measured: this is what lets pictures render where Graphviz's ``dot`` is not
installed.  Graphviz draws them better (curved edges routed around nodes, fewer crossings).

>>> scene = Scene("LR", [Shape("a", ("a", "data 1.0000"), "record"), Shape("b", ("exp",))],
...               [Edge("a", "b")])
>>> text = to_svg(scene, {"a": (0.0, 0.0), "b": (150.0, 0.0)})
>>> text.count('class="node"'), text.count('class="edge"')
(2, 1)
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

FONT_SIZE = 14.0
CHAR_WIDTH = 7.5          # average advance of Times at 14 pt
TEXT_PAD = 16.0           # left and right padding of a text field
HEIGHT = 36.0             # one line of text in a node
MARGIN = 8.0
ARROW = 10.0              # arrowhead length; half as wide


@dataclass
class Shape:
    """One node: ``fields`` are a record's cells (one text for other shapes)."""
    name: str
    fields: tuple
    kind: str = "ellipse"     # "record", "ellipse" or "box"
    color: str = ""           # "" is black
    style: str = ""           # Graphviz's words: "dashed", "rounded,bold"


@dataclass
class Edge:
    tail: str
    head: str
    color: str = ""
    style: str = ""


@dataclass
class Scene:
    """What a picture shows, whatever draws it: nodes and edges in drawing order, a title."""
    rankdir: str
    shapes: list = field(default_factory=list)
    edges: list = field(default_factory=list)
    title: str = ""


def text_width(text: str) -> float:
    return TEXT_PAD + CHAR_WIDTH * len(text)


def stacked(rankdir: str) -> bool:
    """Record fields stack vertically in a top-down picture (``{a|b}`` flips, as in Graphviz)."""
    return rankdir in ("TB", "BT")


def size(shape: Shape, rankdir: str) -> tuple[float, float]:
    """Width and height (points) of a node as this module draws it."""
    widths = [text_width(f) for f in shape.fields]
    if shape.kind == "record":
        if stacked(rankdir):
            return max(widths), HEIGHT * len(widths)
        return sum(widths), HEIGHT
    if shape.kind == "ellipse":
        return max(54.0, 14.0 + 8.0 * len(shape.fields[0])), HEIGHT
    return max(widths), HEIGHT


def to_svg(scene: Scene, pos: dict[str, tuple[float, float]]) -> str:
    """The SVG document of `scene` with every node centred at ``pos[name]``."""
    boxes = {s.name: (*pos[s.name], *size(s, scene.rankdir)) for s in scene.shapes}
    title_h = HEIGHT if scene.title else 0.0
    if boxes:
        left = min(x - w / 2 for x, _, w, _ in boxes.values())
        right = max(x + w / 2 for x, _, w, _ in boxes.values())
        bottom = min(y - h / 2 for _, y, _, h in boxes.values())
        top = max(y + h / 2 for _, y, _, h in boxes.values())
    else:
        left = right = bottom = top = 0.0
    if scene.title:
        right = max(right, left + text_width(scene.title))
    width = right - left + 2 * MARGIN
    height = top - bottom + 2 * MARGIN + title_h

    def at(x: float, y: float) -> tuple[float, float]:     # points, y up → SVG, y down
        return x - left + MARGIN, top - y + MARGIN + title_h

    out = ['<?xml version="1.0" encoding="UTF-8" standalone="no"?>',
           '<!-- Drawn by exprgrad without Graphviz; Graphviz draws it better -->',
           f'<svg width="{width:.0f}pt" height="{height:.0f}pt" '
           f'viewBox="0.00 0.00 {width:.2f} {height:.2f}" xmlns="http://www.w3.org/2000/svg">',
           f'<g id="graph0" class="graph" font-family="Times,serif" '
           f'font-size="{FONT_SIZE:.2f}" text-anchor="middle">',
           f'<rect fill="white" stroke="none" x="0" y="0" width="{width:.2f}" '
           f'height="{height:.2f}"/>']
    if scene.title:
        out.append(_text(width / 2, MARGIN + HEIGHT / 2, scene.title, ""))
    for k, edge in enumerate(scene.edges, 1):
        out.append(_edge(k, edge, boxes, scene, at))
    for k, shape in enumerate(scene.shapes, 1):
        out.append(_node(k, shape, boxes[shape.name], scene.rankdir, at))
    out += ["</g>", "</svg>", ""]
    return "\n".join(out)


def _paint(color: str, style: str = "", fill: str = "none") -> str:
    stroke = color or "black"
    dash = ' stroke-dasharray="5,2"' if "dashed" in style else ""
    bold = ' stroke-width="2"' if "bold" in style else ""
    return f'fill="{fill}" stroke="{stroke}"{dash}{bold}'


# XML 1.0 admits no C0 control characters but tab, newline and CR; a label shows them as spaces
# (as Graphviz shows a newline in a record field).
_CONTROLS = {c: " " for c in range(32)}


def _text(x: float, y: float, text: str, color: str) -> str:
    fill = f' fill="{color}"' if color else ""
    return (f'<text x="{x:.2f}" y="{y + 5:.2f}"{fill} xml:space="preserve">'
            f'{escape(text.translate(_CONTROLS))}</text>')


def _node(k: int, shape: Shape, box, rankdir: str, at) -> str:
    cx, cy, w, h = box
    x, y = at(cx, cy)
    paint = _paint(shape.color, shape.style, fill="white")   # hides straight edges behind
    parts = [f'<g id="node{k}" class="node">', f"<title>{escape(shape.name)}</title>"]
    if shape.kind == "ellipse":
        parts.append(f'<ellipse {paint} cx="{x:.2f}" cy="{y:.2f}" rx="{w / 2:.2f}" '
                     f'ry="{h / 2:.2f}"/>')
        parts.append(_text(x, y, shape.fields[0], shape.color))
    else:
        rounded = ' rx="6"' if "rounded" in shape.style else ""
        parts.append(f'<rect {paint} x="{x - w / 2:.2f}" y="{y - h / 2:.2f}" '
                     f'width="{w:.2f}" height="{h:.2f}"{rounded}/>')
        if shape.kind != "record":
            parts.append(_text(x, y, shape.fields[0], shape.color))
        elif stacked(rankdir):
            for i, text in enumerate(shape.fields):
                top = y - h / 2 + HEIGHT * i
                if i:
                    parts.append(f'<line {paint} x1="{x - w / 2:.2f}" y1="{top:.2f}" '
                                 f'x2="{x + w / 2:.2f}" y2="{top:.2f}"/>')
                parts.append(_text(x, top + HEIGHT / 2, text, shape.color))
        else:
            left = x - w / 2
            for i, text in enumerate(shape.fields):
                if i:
                    parts.append(f'<line {paint} x1="{left:.2f}" y1="{y - h / 2:.2f}" '
                                 f'x2="{left:.2f}" y2="{y + h / 2:.2f}"/>')
                fw = text_width(text)
                parts.append(_text(left + fw / 2, y, text, shape.color))
                left += fw
    parts.append("</g>")
    return "\n".join(parts)


def _border(box, dx: float, dy: float, kind: str) -> tuple[float, float]:
    """Where the ray from the centre of `box` along (dx, dy) leaves the node."""
    cx, cy, w, h = box
    if kind == "ellipse":
        t = 1.0 / math.hypot(dx / (w / 2), dy / (h / 2))
    else:
        t = min((w / 2) / abs(dx) if dx else math.inf, (h / 2) / abs(dy) if dy else math.inf)
    return cx + t * dx, cy + t * dy


def _edge(k: int, edge: Edge, boxes, scene: Scene, at) -> str:
    kinds = {s.name: s.kind for s in scene.shapes}
    a, b = boxes[edge.tail], boxes[edge.head]
    dx, dy = b[0] - a[0], b[1] - a[1]
    title = f"<title>{escape(edge.tail)}&#45;&gt;{escape(edge.head)}</title>"
    if not dx and not dy:
        return f'<g id="edge{k}" class="edge">{title}</g>'
    x0, y0 = at(*_border(a, dx, dy, kinds[edge.tail]))
    x1, y1 = at(*_border(b, -dx, -dy, kinds[edge.head]))
    length = math.hypot(x1 - x0, y1 - y0) or 1.0
    ux, uy = (x1 - x0) / length, (y1 - y0) / length
    bx, by = x1 - ARROW * ux, y1 - ARROW * uy          # the arrowhead's base
    nx, ny = -uy * ARROW / 2.8, ux * ARROW / 2.8
    color = edge.color or "black"
    return "\n".join([
        f'<g id="edge{k}" class="edge">', title,
        f'<path {_paint(edge.color, edge.style)} d="M{x0:.2f},{y0:.2f} L{bx:.2f},{by:.2f}"/>',
        f'<polygon fill="{color}" stroke="{color}" points="{x1:.2f},{y1:.2f} '
        f'{bx + nx:.2f},{by + ny:.2f} {bx - nx:.2f},{by - ny:.2f}"/>', "</g>"])


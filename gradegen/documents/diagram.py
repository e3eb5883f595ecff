"""The network diagram: units laid out by layer, every edge labelled with its weight, biases shown.

One layout, two renderings: SVG for the Markdown (written here, no external tools) and TikZ for
the LaTeX. Both are deterministic: fixed-precision coordinates, graph order throughout.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from gradegen.core.graph import Role

if TYPE_CHECKING:
    from gradegen.documents.numbers import Numbers
    from gradegen.documents.plan import DocumentPlan


@dataclass(frozen=True)
class Edge:
    source: str  # unit name (x1, h1, …)
    target: str
    weight: str  # weight id (w1, …)
    pos: float  # where its label goes along it


@dataclass(frozen=True)
class Bias:
    id: str
    units: tuple[str, ...]  # the units it feeds


@dataclass(frozen=True)
class Layout:
    """Unit positions in abstract grid units (column, row), edges and biases in graph order."""

    columns: tuple[tuple[str, ...], ...]
    position: dict[str, tuple[float, float]]
    edges: tuple[Edge, ...]
    biases: tuple[Bias, ...]
    outputs: dict[str, str]  # output unit → index of its prediction ŷ ("" for a single output)
    rows: int


def layout(plan: DocumentPlan) -> Layout:
    """Where each unit goes, read from the graph's weighted sums (parents: source, weight, …, bias)."""
    g = plan.graph
    columns = tuple(layer.units for layer in plan.layers)
    rows = max(len(c) for c in columns)
    position: dict[str, tuple[float, float]] = {}
    for i, column in enumerate(columns):
        offset = (rows - len(column)) / 2
        for k, unit in enumerate(column):
            position[unit] = (float(i), offset + k)
    edges: list[Edge] = []
    fed: dict[str, list[str]] = {}
    for i, column in enumerate(columns[1:]):
        for t, unit in enumerate(column):
            parents = g.node_of(Role.WEIGHTED_SUM, unit).parents
            for j in range(0, len(parents) - 1, 2):
                source = g[parents[j]].unit or ""
                pos = label_position(columns[i].index(source), t)
                edges.append(Edge(source, unit, parents[j + 1], pos))
            fed.setdefault(parents[-1], []).append(unit)
    biases = tuple(Bias(b, tuple(units)) for b, units in fed.items())
    last = columns[-1]
    outputs = {u: ("" if len(last) == 1 else str(k + 1)) for k, u in enumerate(last)}
    return Layout(columns, position, tuple(edges), biases, outputs, rows)


def _num(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


_SUBSCRIPTS = str.maketrans("0123456789,", "₀₁₂₃₄₅₆₇₈₉,")


def _sub_svg(name: str, value: str) -> str:
    """``w₅ = 0.4``: Unicode subscripts render the same in every SVG viewer (tspan shifts do not)."""
    return escape(f"{name.translate(_SUBSCRIPTS)} = {value}")


def label_position(source: int, target: int) -> float:
    """Where along an edge its weight's label goes (0 at the source, 1 at the target).

    Edges sharing a source or a target alternate between near-source and near-target spots,
    so their labels never sit side by side, and two crossing edges label away from the crossing.
    """
    return 0.25 if (source + target) % 2 == 0 else 0.72


# SVG geometry in pixels
_DX, _DY, _R, _MARGIN, _TOP = 210.0, 100.0, 22.0, 40.0, 70.0


class _Slots:
    """Stands in for :class:`Numbers` while a picture's fixed parts are laid out, once per plan."""

    def text(self, node_id: str) -> str:
        return f"\x00{node_id}\x00"


_PARTS: dict[tuple[int, str], tuple[DocumentPlan, list[str]]] = {}


def _filled(plan: DocumentPlan, numbers: Numbers, kind: str) -> str:
    """A picture with this variant's values in the slots of its cached layout."""
    hit = _PARTS.get((id(plan), kind))
    if hit is None or hit[0] is not plan:
        draw = _svg if kind == "svg" else _tikz
        hit = (plan, draw(plan, _Slots()).split("\x00"))  # type: ignore[arg-type]
        if len(_PARTS) >= 32:
            _PARTS.pop(next(iter(_PARTS)))
        _PARTS[(id(plan), kind)] = hit
    parts = list(hit[1])
    for k in range(1, len(parts), 2):
        value = numbers.text(parts[k])
        parts[k] = escape(value.replace("-", "−")) if kind == "svg" else value
    return "".join(parts)


def svg(plan: DocumentPlan, numbers: Numbers) -> str:
    """The diagram as a standalone SVG document (text, deterministic)."""
    return _filled(plan, numbers, "svg")


def tikz(plan: DocumentPlan, numbers: Numbers) -> str:
    """The diagram as a ``tikzpicture`` (needs only the tikz package)."""
    return _filled(plan, numbers, "tikz")


def _svg(plan: DocumentPlan, numbers: Numbers) -> str:
    lay = layout(plan)
    width = 2 * _MARGIN + (len(lay.columns) - 1) * _DX + 60
    height = _TOP + lay.rows * _DY + 10

    def xy(unit: str) -> tuple[float, float]:
        col, row = lay.position[unit]
        return _MARGIN + _R + col * _DX, _TOP + row * _DY + _DY / 2

    def value(node_id: str) -> str:
        return numbers.text(node_id)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_num(width)}" height="{_num(height)}" '
        f'viewBox="0 0 {_num(width)} {_num(height)}" font-family="serif" font-size="14">',
        "<title>Network diagram</title>",
        '<rect width="100%" height="100%" fill="white"/>',
    ]
    for edge in lay.edges:
        (x1, y1), (x2, y2) = xy(edge.source), xy(edge.target)
        out.append(
            f'<line x1="{_num(x1)}" y1="{_num(y1)}" x2="{_num(x2)}" y2="{_num(y2)}" '
            'stroke="#444" stroke-width="1.2"/>'
        )
    for bias in lay.biases:
        _add_bias(out, bias, [xy(u) for u in bias.units], value(bias.id))
    for edge in lay.edges:
        (x1, y1), (x2, y2) = xy(edge.source), xy(edge.target)
        t = edge.pos
        lx, ly = x1 + t * (x2 - x1), y1 + t * (y2 - y1)
        angle = math.degrees(math.atan2(y2 - y1, x2 - x1))
        out.append(
            f'<text transform="translate({_num(lx)},{_num(ly)}) rotate({_num(angle)})" y="-4" '
            f'text-anchor="middle" font-size="12" font-style="italic">'
            f"{_sub_svg(edge.weight, value(edge.weight))}</text>"
        )
    for unit, (col, _row) in lay.position.items():
        x, y = xy(unit)
        fill = "#eef4fb" if col == 0 else "#fdf3e7"
        out.append(f'<circle cx="{_num(x)}" cy="{_num(y)}" r="{_num(_R)}" fill="{fill}" stroke="#222"/>')
        out.append(
            f'<text x="{_num(x)}" y="{_num(y + 5)}" text-anchor="middle" '
            f'font-style="italic">{escape(unit.replace("_", ","))}</text>'
        )
    for unit, label in lay.outputs.items():
        x, y = xy(unit)
        out.append(
            f'<line x1="{_num(x + _R)}" y1="{_num(y)}" x2="{_num(x + _R + 28)}" y2="{_num(y)}" '
            'stroke="#222"/>'
        )
        text = escape("ŷ" + label.translate(_SUBSCRIPTS))
        out.append(f'<text x="{_num(x + _R + 32)}" y="{_num(y + 5)}" font-style="italic">{text}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _add_bias(out: list[str], bias: Bias, points: list[tuple[float, float]], value: str) -> None:
    if len(points) == 1:
        x, y = points[0]
        out.append(
            f'<text x="{_num(x)}" y="{_num(y - _R - 8)}" text-anchor="middle" font-size="12" '
            f'font-style="italic">{_sub_svg(bias.id, value)}</text>'
        )
        return
    x = points[0][0]
    top = min(p[1] for p in points) - _R - 34
    for px, py in points:
        out.append(
            f'<line x1="{_num(x)}" y1="{_num(top + 8)}" x2="{_num(px)}" y2="{_num(py - _R)}" '
            'stroke="#888" stroke-dasharray="4 3"/>'
        )
    out.append(
        f'<rect x="{_num(x - 42)}" y="{_num(top - 10)}" width="84" height="18" rx="4" '
        'fill="white" stroke="#888"/>'
    )
    out.append(
        f'<text x="{_num(x)}" y="{_num(top + 4)}" text-anchor="middle" font-size="12" '
        f'font-style="italic">{_sub_svg(bias.id, value)}</text>'
    )


# TikZ geometry in centimetres
_TX, _TY, _MAX_WIDTH = 3.8, 1.7, 15.0


def _tikz(plan: DocumentPlan, numbers: Numbers) -> str:
    lay = layout(plan)
    width = (len(lay.columns) - 1) * _TX + 2
    scale = min(1.0, _MAX_WIDTH / width)
    names = {unit: f"n{k}" for k, unit in enumerate(lay.position)}

    def at(unit: str) -> str:
        col, row = lay.position[unit]
        return f"({col * _TX:.2f},{-row * _TY:.2f})"

    lines = [
        rf"\begin{{tikzpicture}}[scale={scale:.3f}, every node/.style={{transform shape}},",
        r"  unit/.style={circle, draw, minimum size=9mm, inner sep=0pt, fill=black!4},",
        r"  weight/.style={sloped, above, font=\scriptsize, inner sep=1pt},",
        r"  bias/.style={draw, rounded corners, font=\scriptsize, inner sep=2pt, fill=white}]",
    ]
    for unit, name in names.items():
        lines.append(rf"\node[unit] ({name}) at {at(unit)} {{${_unit_math(unit)}$}};")
    for edge in lay.edges:
        w = edge.weight
        lines.append(
            rf"\draw ({names[edge.source]}) -- ({names[edge.target]}) "
            rf"node[weight, pos={edge.pos:g}] {{${plan.graph[w].symbol} = {numbers.text(w)}$}};"
        )
    for k, bias in enumerate(lay.biases):
        b = bias.id
        label = rf"${plan.graph[b].symbol} = {numbers.text(b)}$"
        first = names[bias.units[0]]
        if len(bias.units) == 1:
            lines.append(rf"\node[font=\scriptsize, above=1pt] at ({first}.north) {{{label}}};")
            continue
        col, _ = lay.position[bias.units[0]]
        top = -(min(lay.position[u][1] for u in bias.units) - 0.75) * _TY
        lines.append(rf"\node[bias] (bias{k}) at ({col * _TX:.2f},{top:.2f}) {{{label}}};")
        for unit in bias.units:
            lines.append(rf"\draw[dashed, gray] (bias{k}) -- ({names[unit]});")
    for unit, label in lay.outputs.items():
        y = _unit_label_math(label)
        lines.append(rf"\draw[->] ({names[unit]}) -- ++(1.1,0) node[right] {{${y}$}};")
    lines.append(r"\end{tikzpicture}")
    return "\n".join(lines)


def _unit_math(unit: str) -> str:
    return rf"\mathit{{{unit.replace('_', '{,}')}}}"


def _unit_label_math(label: str) -> str:
    return r"\hat{y}" if not label else rf"\hat{{y}}_{{{label}}}"

"""The network diagram: units laid out by layer, edges labelled with their weights, biases shown.

One layout (:mod:`gradegen.documents.diagram_layout`), two renderings: SVG for the Markdown
(written here, no external tools) and TikZ for the LaTeX, at the same coordinates. Both are
deterministic: fixed-precision coordinates, graph order throughout.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from gradegen.documents.diagram_layout import (
    SUB_SHIFT,
    SUB_SIZE,
    Label,
    Layout,
    R,
    layout,
    unit_runs,
)

if TYPE_CHECKING:
    from gradegen.documents.items import DocumentPlan
    from gradegen.documents.numbers import Numbers

__all__ = ["WeightTable", "layout", "svg", "tikz", "weight_tables"]


def _num(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


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


@dataclass(frozen=True)
class WeightTable:
    """The weights between two layers that the diagram leaves unlabelled (too many edges)."""

    gap: int  # 0: from the inputs into the first layer
    sources: tuple[str, ...]  # the feeding units: the table's columns
    rows: tuple[tuple[str, tuple[str, ...]], ...]  # each fed unit, its weights in column order


def weight_tables(plan: DocumentPlan) -> tuple[WeightTable, ...]:
    """A table for each pair of layers whose edges the diagram does not label."""
    lay = layout(plan)
    weight = {(e.source, e.target): e.weight for e in lay.edges}
    return tuple(
        WeightTable(
            k,
            lay.columns[k],
            tuple((t, tuple(weight[(s, t)] for s in lay.columns[k])) for t in lay.columns[k + 1]),
        )
        for k in lay.tabled
    )


def unit_math(unit: str) -> str:
    """A unit's name in LaTeX math, as the diagram writes it: h1_2 → h_{1,2}."""
    return _math(unit_runs(unit))


# --------------------------------------------------------------------------- SVG


def _svg_text(label: Label, numbers: Numbers, kind: str, **where: float) -> str:
    """A <text> of the label's runs, subscripts in smaller tspans shifted down by ``dy``."""
    pieces: list[str] = []
    shift = 0.0
    runs = [(escape(text), sub) for text, sub in label.runs]
    if label.value:  # the value's slot, filled per variant
        runs[-1] = (f" = \x00{label.value}\x00", False)
    for body, sub in runs:
        want = SUB_SHIFT * label.size if sub else 0.0
        if sub:
            pieces.append(
                f'<tspan dy="{_num(want - shift)}" font-size="{_num(label.size * SUB_SIZE)}">{body}</tspan>'
            )
        elif shift:
            pieces.append(f'<tspan dy="{_num(want - shift)}">{body}</tspan>')
        else:
            pieces.append(body)
        shift = want
    attrs = " ".join(f'{k}="{_num(v)}"' for k, v in where.items())
    return (
        f'<text class="{kind}" {attrs} text-anchor="middle" font-size="{_num(label.size)}" '
        f'font-style="italic">{"".join(pieces)}</text>'
    )


def _svg_label(label: Label, numbers: Numbers, kind: str) -> str:
    """A label at its box's centre, turned with its edge, on its white box (laid out for the
    widest value, so the same for every variant), so no edge strikes through it."""
    box = label.box
    turn = f" rotate({_num(box.angle)})" if round(box.angle, 1) else ""
    rect = (
        f'<rect x="{_num(-box.hw)}" y="{_num(-box.hh)}" width="{_num(2 * box.hw)}" '
        f'height="{_num(2 * box.hh)}" fill="white"/>'
    )
    return (
        f'<g transform="translate({_num(box.x)},{_num(box.y)}){turn}">'
        + rect
        + _svg_text(label, numbers, kind, y=label.baseline)
        + "</g>"
    )


def _svg(plan: DocumentPlan, numbers: Numbers) -> str:
    lay = layout(plan)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_num(lay.width)}" height="{_num(lay.height)}" '
        f'viewBox="0 0 {_num(lay.width)} {_num(lay.height)}" font-family="serif">',
        "<title>Network diagram</title>",
        '<rect width="100%" height="100%" fill="white"/>',
    ]
    for edge in lay.edges:
        (x1, y1), (x2, y2) = _ends(lay, edge.source, edge.target)
        out.append(
            f'<line x1="{_num(x1)}" y1="{_num(y1)}" x2="{_num(x2)}" y2="{_num(y2)}" '
            'stroke="#444" stroke-width="1.2"/>'
        )
    for unit in lay.outputs:
        x, y = lay.centre[unit]
        out.append(
            f'<line x1="{_num(x + R)}" y1="{_num(y)}" x2="{_num(x + R + _arrow(lay, unit))}" y2="{_num(y)}" '
            'stroke="#222"/>'
        )
    for edge in lay.edges:
        if edge.label is not None:
            out.append(_svg_label(edge.label, numbers, "weight"))
    for bias in lay.biases:
        out.extend(_svg_label(label, numbers, "bias") for label in bias.labels)
    out.extend(_svg_label(label, numbers, "output") for label in lay.outputs.values())
    for unit, (col, _row) in lay.position.items():
        x, y = lay.centre[unit]
        fill = "#eef4fb" if col == 0 else "#fdf3e7"
        out.append(f'<circle cx="{_num(x)}" cy="{_num(y)}" r="{_num(R)}" fill="{fill}" stroke="#222"/>')
        name = lay.names[unit]
        out.append(_svg_text(name, numbers, "unit", x=x, y=y + name.baseline))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _ends(lay: Layout, source: str, target: str) -> tuple[tuple[float, float], tuple[float, float]]:
    """An edge from circle to circle."""
    (x1, y1), (x2, y2) = lay.centre[source], lay.centre[target]
    length = ((x2 - x1) ** 2 + (y2 - y1) ** 2) ** 0.5
    ux, uy = (x2 - x1) / length * R, (y2 - y1) / length * R
    return (x1 + ux, y1 + uy), (x2 - ux, y2 - uy)


def _arrow(lay: Layout, unit: str) -> float:
    """An output's arrow runs from its circle to its prediction's label."""
    box = lay.outputs[unit].box
    return box.x - box.hw - lay.centre[unit][0] - R


# --------------------------------------------------------------------------- TikZ

PT = 2 / 3
"""TikZ points per layout pixel: labels at 12 px are 8 pt (\\scriptsize), unit names 9 pt."""

_MAX_WIDTH, _MAX_HEIGHT = 468.0, 430.0  # points: an A4 page with 2.2 cm margins is 472 by 718


def _tikz_label(label: Label, kind: str) -> str:
    box = label.box
    turn = f", rotate={_num(-box.angle)}" if round(box.angle, 1) else ""
    value = f" = \x00{label.value}\x00" if label.value else ""
    math = _math(label.runs[:-1] if label.value else label.runs) + value
    return rf"\node[{kind}{turn}] at ({_num(box.x)},{_num(box.y)}) {{${math}$}};"


def _math(runs: tuple[tuple[str, bool], ...]) -> str:
    """Runs as LaTeX math: a subscript run becomes _{…}; a name of several letters \\mathit."""
    out = []
    for text, sub in runs:
        if sub:
            out.append(f"_{{{text}}}")
        elif text == "ŷ":
            out.append(r"\hat{y}")
        else:
            out.append(rf"\mathit{{{text}}}" if len(text) > 1 else text)
    return "".join(out)


def _tikz(plan: DocumentPlan, numbers: Numbers) -> str:
    lay = layout(plan)
    scale = min(1.0, _MAX_WIDTH / (lay.width * PT), _MAX_HEIGHT / (lay.height * PT))
    lines = [
        rf"\begin{{tikzpicture}}[x={PT:.4f}pt, y=-{PT:.4f}pt, scale={scale:.3f}, "
        r"every node/.style={transform shape},",
        rf"  unit/.style={{circle, draw, minimum size={2 * R * PT:.2f}pt, inner sep=0pt, fill=black!4, "
        r"font=\footnotesize},",
        r"  label/.style={fill=white, inner sep=1pt, font=\scriptsize}]",
    ]
    for edge in lay.edges:
        (x1, y1), (x2, y2) = _ends(lay, edge.source, edge.target)
        lines.append(rf"\draw ({_num(x1)},{_num(y1)}) -- ({_num(x2)},{_num(y2)});")
    for unit in lay.outputs:
        x, y = lay.centre[unit]
        lines.append(rf"\draw[->] ({_num(x + R)},{_num(y)}) -- ++({_num(_arrow(lay, unit))},0);")
    for edge in lay.edges:
        if edge.label is not None:
            lines.append(_tikz_label(edge.label, "label"))
    for bias in lay.biases:
        lines.extend(_tikz_label(label, "label") for label in bias.labels)
    for label in lay.outputs.values():
        lines.append(_tikz_label(label, "label, font=\\footnotesize"))
    for unit in lay.position:
        x, y = lay.centre[unit]
        lines.append(rf"\node[unit] at ({_num(x)},{_num(y)}) {{${unit_math(unit)}$}};")
    lines.append(r"\end{tikzpicture}")
    return "\n".join(lines)

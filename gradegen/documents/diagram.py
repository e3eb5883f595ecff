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
from gradegen.documents.diagram_values import FORWARD, GRADIENT, LEGEND, Values
from gradegen.documents.numbers import diagram_number

if TYPE_CHECKING:
    from gradegen.documents.items import DocumentPlan
    from gradegen.documents.numbers import Numbers

__all__ = ["WeightTable", "layout", "svg", "svg_values", "tikz", "tikz_values", "weight_tables"]

TONES = {FORWARD: "#1a5fb4", GRADIENT: "#c01c28", LEGEND: "#555555"}
"""The values diagram's colours (SVG): forward values blue, gradients red, the note on dead units grey."""

TIKZ_TONES = {
    FORWARD: "{rgb,255:red,26;green,95;blue,180}",
    GRADIENT: "{rgb,255:red,192;green,28;blue,40}",
    LEGEND: "black!65",
}


def _num(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


_PARTS: dict[tuple[int, str, bool | None], tuple[DocumentPlan, list[str]]] = {}


def _filled(plan: DocumentPlan, numbers: Numbers, kind: str, values: bool = False) -> str:
    """A picture with this variant's values in the slots of its cached layout: a node's value
    where the layout holds its id, a number slot's text (``d:…``, a unit's look) where a key."""
    exact = numbers.exact if values else None
    hit = _PARTS.get((id(plan), kind, exact))
    if hit is None or hit[0] is not plan:
        lay = layout(plan, Values(plan, bool(exact))) if values else layout(plan)
        draw = _svg if kind == "svg" else _tikz
        hit = (plan, draw(lay, values).split("\x00"))
        if len(_PARTS) >= 32:
            _PARTS.pop(next(iter(_PARTS)))
        _PARTS[(id(plan), kind, exact)] = hit
    parts = list(hit[1])
    for k in range(1, len(parts), 2):
        if ":" in parts[k]:
            parts[k] = numbers.slot(parts[k])
            continue
        value = numbers.text(parts[k])
        parts[k] = escape(diagram_number(value)) if kind == "svg" else value
    return "".join(parts)


def svg(plan: DocumentPlan, numbers: Numbers) -> str:
    """The diagram as a standalone SVG document (text, deterministic)."""
    return _filled(plan, numbers, "svg")


def tikz(plan: DocumentPlan, numbers: Numbers) -> str:
    """The diagram as a ``tikzpicture`` (needs only the tikz package)."""
    return _filled(plan, numbers, "tikz")


def svg_values(plan: DocumentPlan, numbers: Numbers) -> str:
    """The values diagram (:mod:`gradegen.documents.diagram_values`) as an SVG document."""
    return _filled(plan, numbers, "svg", values=True)


def tikz_values(plan: DocumentPlan, numbers: Numbers) -> str:
    """The values diagram as a ``tikzpicture``."""
    return _filled(plan, numbers, "tikz", values=True)


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


def _svg_text(label: Label, kind: str, **where: float) -> str:
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
    tone = f' fill="{TONES[label.tone]}"' if label.tone else ""
    return (
        f'<text class="{kind}" {attrs} text-anchor="middle" font-size="{_num(label.size)}" '
        f'font-style="{"normal" if kind == "legend" else "italic"}"{tone}>'
        f"{''.join(pieces)}</text>"
    )


def _svg_label(label: Label, kind: str) -> str:
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
        + _svg_text(label, kind, y=label.baseline)
        + "</g>"
    )


def _svg(lay: Layout, values: bool) -> str:
    title = "The training step on the network: forward values and gradients" if values else "Network diagram"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_num(lay.width)}" height="{_num(lay.height)}" '
        f'viewBox="0 0 {_num(lay.width)} {_num(lay.height)}" font-family="serif">',
        f"<title>{title}</title>",
        '<rect width="100%" height="100%" fill="white"/>',
    ]
    for edge in lay.edges:
        (x1, y1), (x2, y2) = _ends(lay, edge.source, edge.target)
        look = 'stroke="#444" stroke-width="1.2"'
        if edge.target in lay.dead:
            look = f"\x00D:{lay.dead[edge.target]}\x00"
        out.append(f'<line x1="{_num(x1)}" y1="{_num(y1)}" x2="{_num(x2)}" y2="{_num(y2)}" {look}/>')
    for unit in lay.outputs:
        x, y = lay.centre[unit]
        out.append(
            f'<line x1="{_num(x + R)}" y1="{_num(y)}" x2="{_num(x + R + _arrow(lay, unit))}" y2="{_num(y)}" '
            'stroke="#222"/>'
        )
    for edge in lay.edges:
        if edge.label is not None:
            out.append(_svg_label(edge.label, "weight"))
    for bias in lay.biases:
        out.extend(_svg_label(label, "bias") for label in bias.labels)
    out.extend(_svg_label(label, "output") for label in lay.outputs.values())
    out.extend(_svg_label(label, "note") for labels in lay.notes.values() for label in labels)
    out.extend(_svg_label(label, "legend") for label in lay.legend)
    for unit, (col, _row) in lay.position.items():
        x, y = lay.centre[unit]
        look = f'fill="{"#eef4fb" if col == 0 else "#fdf3e7"}" stroke="#222"'
        if unit in lay.dead:  # a slot: dashed and grey where the unit is dead in this variant
            look = f"\x00d:{lay.dead[unit]}\x00"
        out.append(f'<circle cx="{_num(x)}" cy="{_num(y)}" r="{_num(R)}" {look}/>')
        name = lay.names[unit]
        out.append(_svg_text(name, "unit", x=x, y=y + name.baseline))
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
_MAX_VALUES = 640.0  # the values diagram's height: a page less its heading and caption


_VALUES_STYLES = (
    *(f"  {tone}/.style={{text={colour}}}," for tone, colour in TIKZ_TONES.items()),
    r"  dead/.style={dashed, draw=black!45, fill=black!10}, dead edge/.style={dashed, draw=black!40},",
)
"""The values diagram's own styles: its tones, a dead unit and the edges into it."""


def _tikz_label(label: Label, kind: str, text: bool = False, boxed: bool = False) -> str:
    """A label's node (``text``: a line of prose, the legend's; ``boxed``: on its whole laid-out box,
    as a unit's notes are, so that the box under a stack of them is one)."""
    box = label.box
    turn = f", rotate={_num(-box.angle)}" if round(box.angle, 1) else ""
    if boxed:
        turn += f", minimum width={_num(2 * box.hw * PT)}pt, minimum height={_num(2 * box.hh * PT)}pt"
    tone = f", {label.tone}" if label.tone else ""
    if text:
        return rf"\node[{kind}{tone}] at ({_num(box.x)},{_num(box.y)}) {{{_tex_text(label.runs[0][0])}}};"
    value = f" = \x00{label.value}\x00" if label.value else ""
    math = _math(label.runs[:-1] if label.value else label.runs) + value
    return rf"\node[{kind}{tone}{turn}] at ({_num(box.x)},{_num(box.y)}) {{${math}$}};"


_TEX = {"ŷ": r"\hat{y}", "∂": r"\partial ", "δ": r"\delta", "≤": r"\le "}
"""The characters of the values diagram's labels, in LaTeX math."""


def _tex_text(text: str) -> str:
    """A legend's line in LaTeX: its symbols in math."""
    return "".join(f"${_TEX[c]}$" if c in _TEX else c for c in text)


def _math(runs: tuple[tuple[str, bool], ...]) -> str:
    """Runs as LaTeX math: a subscript run becomes _{…}; a name of several letters \\mathit."""
    out = []
    for text, sub in runs:
        if sub:
            out.append(f"_{{{text}}}")
        elif any(c in _TEX for c in text):
            out.append("".join(_TEX.get(c, c) for c in text))
        else:
            out.append(rf"\mathit{{{text}}}" if len(text) > 1 else text)
    return "".join(out)


def _tikz(lay: Layout, values: bool) -> str:
    # the values diagram is a figure of its own: it may take most of a page's height
    scale = min(
        1.0, _MAX_WIDTH / (lay.width * PT), (_MAX_VALUES if values else _MAX_HEIGHT) / (lay.height * PT)
    )
    lines = [
        rf"\begin{{tikzpicture}}[x={PT:.4f}pt, y=-{PT:.4f}pt, scale={scale:.3f}, "
        r"every node/.style={transform shape},",
        rf"  unit/.style={{circle, draw, minimum size={2 * R * PT:.2f}pt, inner sep=0pt, fill=black!4, "
        r"font=\footnotesize},",
        *(_VALUES_STYLES if values else ()),
        r"  label/.style={fill=white, inner sep=1pt, font=\scriptsize}]",
    ]
    for edge in lay.edges:
        (x1, y1), (x2, y2) = _ends(lay, edge.source, edge.target)
        dead = f"\x00E:{lay.dead[edge.target]}\x00" if edge.target in lay.dead else ""
        lines.append(rf"\draw{dead} ({_num(x1)},{_num(y1)}) -- ({_num(x2)},{_num(y2)});")
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
    lines.extend(_tikz_label(label, "label", boxed=True) for labels in lay.notes.values() for label in labels)
    lines.extend(_tikz_label(label, "label", text=True) for label in lay.legend)
    for unit in lay.position:
        x, y = lay.centre[unit]
        dead = f"\x00e:{lay.dead[unit]}\x00" if unit in lay.dead else ""
        lines.append(rf"\node[unit{dead}] at ({_num(x)},{_num(y)}) {{${unit_math(unit)}$}};")
    lines.append(r"\end{tikzpicture}")
    return "\n".join(lines)

"""Where everything in the network diagram goes: one layout, drawn as SVG and as TikZ alike.

Coordinates are SVG pixels (y down); TikZ draws the same numbers at 2/3 pt a pixel. Every label
has a box (its text at a conservative width per character, see :func:`text_width`), and the boxes
are placed so that none meets another, a unit or the canvas edge. Each label is drawn on a white
box of that size, so no edge strikes through it. A unit's bias is printed just above it, so no
bias line crosses anything. Between two layers with more than :data:`MAX_LABELLED` edges the
weights are left unlabelled (the documents give them as a table instead).

What the labels say is a :class:`Content`'s: the plain diagram's (:class:`Plain`) or the values
diagram's (:mod:`gradegen.documents.diagram_values`), which also stacks notes under each unit and
puts a legend below; the rows are set apart far enough for a unit's notes and the biases under it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING, Protocol

from gradegen.core.graph import Role
from gradegen.core.rounding import shortest
from gradegen.documents.diagram_geometry import (
    Box,
    boxes_meet,
    circle_meets,
    inside,
    segment_meets,
    segments_near,
    to_segment,
)

if TYPE_CHECKING:
    from gradegen.documents.items import DocumentPlan

MAX_LABELLED = 12
"""The most edges between two layers that are labelled with their weights in the picture."""

_WIDTHS = {**dict.fromkeys("0123456789", 0.65), **dict.fromkeys(".,: ", 0.33), **dict.fromkeys("=−+-", 0.85)}
_WIDTHS.update(w=0.87, m=0.87, W=1.0, M=1.0)
_LETTER = 0.7
"""Widths of characters, in ems: at least those of DejaVu Serif Italic (what SVG viewers on
Linux take for serif; digits 0.636 em, = and − 0.838, w 0.856), which is wider than Times and
than TeX's Latin Modern."""

VALUE = "−0.00"
"""The narrowest value a label is laid out for; wider if the spec's own weights and biases are
(variants drawn to two places print no wider)."""

SUB_SIZE, SUB_SHIFT = 0.72, 0.3  # a subscript's size and how far it drops, in ems of its text
ASCENT, DESCENT = 0.95, 0.25  # of a line, in ems, above and below the baseline
PAD = 2.0  # white margin around a label's text, and the gap kept between labels

R = 20.0  # unit radius
LABEL_SIZE, UNIT_SIZE = 12.0, 13.5  # font sizes (in TikZ 8 pt and 9 pt)
DX_LABELLED, DX_PLAIN = 210.0, 150.0  # column gap, with labels and without
DY, DY_PLAIN = 100.0, 76.0  # row gap, with labels and with no gap labelled
MARGIN, ARROW = 12.0, 28.0  # around the picture; an output's arrow


Run = tuple[str, bool]  # a piece of a label's text, and whether it is a subscript


@dataclass(frozen=True)
class Label:
    """A text in the picture: its runs (ending in " = " and the widest value where ``value``
    names the node whose printed value is shown), its font size and its box."""

    runs: tuple[Run, ...]
    size: float
    box: Box
    value: str = ""  # the node whose printed value ends the label ("" for none)
    tone: str = ""  # what it shows, for its colour ("" plain; "forward", "gradient", "legend")

    @property
    def baseline(self) -> float:
        """The baseline's offset from the box centre, in the box's own frame (y down)."""
        top, bottom = -ASCENT * self.size, (SUB_SHIFT + DESCENT * SUB_SIZE) * self.size
        if not any(sub for _, sub in self.runs):
            bottom = DESCENT * self.size
        return -(top + bottom) / 2


@dataclass(frozen=True)
class Edge:
    source: str  # unit name (x1, h1, …)
    target: str
    weight: str  # weight id (w1, …)
    pos: float  # preferred spot of its label along it (0 at the source, 1 at the target)
    label: Label | None  # None: the layer pair is given as a table


@dataclass(frozen=True)
class Bias:
    id: str
    units: tuple[str, ...]  # the units it feeds
    labels: tuple[Label, ...]  # one above each unit it feeds


@dataclass(frozen=True)
class Layout:
    """The whole picture: units (centre of each circle), edges, biases, outputs and the canvas."""

    columns: tuple[tuple[str, ...], ...]
    position: dict[str, tuple[float, float]]  # abstract (column, row) of each unit
    centre: dict[str, tuple[float, float]]  # pixels
    names: dict[str, Label]  # each unit's name, in its circle
    edges: tuple[Edge, ...]
    biases: tuple[Bias, ...]
    outputs: dict[str, Label]  # output unit → its prediction's label (ŷ, ŷ₁, …)
    tabled: tuple[int, ...]  # gaps (0: inputs → first layer) whose weights are not labelled
    width: float
    height: float
    rows: int
    notes: dict[str, tuple[Label, ...]] = field(default_factory=dict)  # unit → labels under it
    legend: tuple[Label, ...] = ()  # lines below the picture
    dead: dict[str, str] = field(default_factory=dict)  # ReLU unit → its derivative's node


Text = tuple[tuple[Run, ...], str, str]  # a label's runs, the node whose value ends it, its tone


class Content(Protocol):
    """What a picture writes on the layout: the plain diagram's weights and biases, or the
    values diagram's (:mod:`gradegen.documents.diagram_values`)."""

    def edge(self, weight: str) -> Text: ...
    def bias(self, bias: str) -> Text: ...
    def output(self, k: int, n: int, unit: str) -> Text: ...
    def widest(self, node: str) -> str:
        """The widest text the node's value is laid out for."""
        ...

    def notes(self, unit: str) -> tuple[Text, ...]:
        """Labels stacked under a unit."""
        ...

    def legend(self, labelled: int, gaps: int) -> tuple[Text, ...]:
        """Lines under the picture, given how many of the gaps between layers are labelled."""
        ...

    def dead(self) -> dict[str, str]: ...
    @property
    def max_labelled(self) -> int:
        """The most edges between two layers that are labelled."""
        ...

    @property
    def dx_tabled(self) -> float:
        """The gap between two layers whose edges are not labelled."""
        ...

    @property
    def bias_once(self) -> bool:
        """Whether a bias is labelled above the first unit it feeds only (else above each)."""
        ...


@dataclass(frozen=True)
class Plain:
    """The plain diagram: each edge its weight, each unit's bias above it, the outputs named."""

    plan: DocumentPlan

    @cached_property
    def value(self) -> str:
        """The widest value of a weight or bias, as the spec gives it (at least :data:`VALUE`)."""
        g = self.plan.graph
        texts = [VALUE, *(shortest(g.defaults[p]) for p in g.parameters)]
        return widest_text(texts)

    def edge(self, weight: str) -> Text:
        return symbol_runs(self.plan.graph[weight].symbol), weight, ""

    def bias(self, bias: str) -> Text:
        return symbol_runs(self.plan.graph[bias].symbol), bias, ""

    def output(self, k: int, n: int, unit: str) -> Text:
        runs: tuple[Run, ...] = (("ŷ", False),) if n == 1 else (("ŷ", False), (str(k + 1), True))
        return runs, "", ""

    def widest(self, node: str) -> str:
        return self.value

    def notes(self, unit: str) -> tuple[Text, ...]:
        return ()

    def legend(self, labelled: int, gaps: int) -> tuple[Text, ...]:
        return ()

    def dead(self) -> dict[str, str]:
        return {}

    @property
    def max_labelled(self) -> int:
        return MAX_LABELLED

    dx_tabled = DX_PLAIN
    bias_once = False


def text_width(runs: tuple[Run, ...], size: float) -> float:
    """The width the text is laid out for: each character's em width at its size."""
    return sum(
        sum(_WIDTHS.get(c, _LETTER) for c in text) * size * (SUB_SIZE if sub else 1.0) for text, sub in runs
    )


def widest_text(texts: list[str]) -> str:
    """The widest of some values' texts, as laid out (the last in order of a tie)."""
    return max(texts, key=lambda t: (text_width(((t, False),), 1.0), t))


def symbol_runs(latex: str) -> tuple[Run, ...]:
    """``w_{12}`` → w with subscript 12; ``\\hat{y}_{2}`` → ŷ with subscript 2; else the text."""
    match = re.fullmatch(r"(\\hat\{y\}|[A-Za-z]+)(?:_\{(.+)\})?", latex)
    if match is None:
        return ((latex, False),)
    base = "ŷ" if match.group(1) == r"\hat{y}" else match.group(1)
    return ((base, False), (match.group(2), True)) if match.group(2) else ((base, False),)


def unit_runs(unit: str) -> tuple[Run, ...]:
    """A unit's name as the text writes it: x1 → x₁, h1_2 → h₁,₂, out → out."""
    match = re.fullmatch(r"(.*?[^\d_])(\d+(?:_\d+)*)", unit)
    if match is None:
        return ((unit, False),)
    return ((match.group(1), False), (match.group(2).replace("_", ","), True))


def _label(
    runs: tuple[Run, ...],
    size: float,
    x: float,
    y: float,
    angle: float = 0.0,
    value: str = "",
    tone: str = "",
) -> Label:
    height = (
        (ASCENT + SUB_SHIFT + DESCENT * SUB_SIZE) * size
        if any(s for _, s in runs)
        else (ASCENT + DESCENT) * size
    )
    box = Box(x, y, text_width(runs, size) / 2 + PAD, height / 2 + PAD, angle)
    return Label(runs, size, box, value, tone)


def _text(text: Text, content: Content, size: float = LABEL_SIZE) -> Label:
    """A label of ``text`` at the origin, its value laid out at its widest."""
    runs, value, tone = text
    if value:
        runs = (*runs, (" = " + content.widest(value), False))
    return _label(runs, size, 0, 0, value=value, tone=tone)


def label_position(source: int, target: int) -> float:
    """Where along an edge its weight's label is first tried (0 at the source, 1 at the target).

    Edges sharing a source or a target alternate between near-source and near-target spots,
    so their labels rarely sit side by side, and two crossing edges label away from the crossing.
    """
    return 0.25 if (source + target) % 2 == 0 else 0.72


_LAYOUTS: dict[tuple[int, object], tuple[DocumentPlan, Layout]] = {}


def layout(plan: DocumentPlan, content: Content | None = None) -> Layout:
    """Where each unit and label goes (computed once per plan and content, plain by default: the
    SVG, the TikZ and the weight tables all read it)."""
    key = (id(plan), content)
    hit = _LAYOUTS.get(key)
    if hit is None or hit[0] is not plan:
        if len(_LAYOUTS) >= 16:
            _LAYOUTS.pop(next(iter(_LAYOUTS)))
        drawn = _layout(plan, content or Plain(plan))
        hit = _LAYOUTS[key] = (plan, drawn)  # holding the plan keeps its id from reuse
    return hit[1]


def _layout(plan: DocumentPlan, content: Content) -> Layout:
    """The layout, read from the graph's weighted sums (parents: source, weight, …, bias); a gap
    whose labels cannot be placed even when widened is tabled."""
    g = plan.graph
    columns = tuple(layer.units for layer in plan.layers)
    rows = max(len(c) for c in columns)
    position = {
        unit: (float(i), (rows - len(column)) / 2 + k)
        for i, column in enumerate(columns)
        for k, unit in enumerate(column)
    }
    wiring: list[list[tuple[str, str, str]]] = []  # per gap: (source, target, weight)
    fed: dict[str, list[str]] = {}
    for column in columns[1:]:
        gap: list[tuple[str, str, str]] = []
        for unit in column:
            parents = g.node_of(Role.WEIGHTED_SUM, unit).parents
            gap.extend(
                (g[parents[j]].unit or "", unit, parents[j + 1]) for j in range(0, len(parents) - 1, 2)
            )
            fed.setdefault(parents[-1], []).append(unit)
        wiring.append(gap)
    tabled = {k for k, gap in enumerate(wiring) if len(gap) > content.max_labelled}
    gaps = [content.dx_tabled if k in tabled else DX_LABELLED for k in range(len(wiring))]
    symbols = {wid: _text(content.edge(wid), content) for gap in wiring for _, _, wid in gap}
    bias_texts = {b: _text(content.bias(b), content) for b in fed}
    stacks = {u: tuple(_text(t, content) for t in content.notes(u)) for u in position}
    # a unit's stack under it, and the next row's biases above it, fit between the rows
    stack = max(sum(2 * lab.box.hh for lab in labs) for labs in stacks.values())
    dy = DY_PLAIN if len(tabled) == len(wiring) else DY
    dy = base = max(dy, 2 * R + stack + 2 * max(lab.box.hh for lab in bias_texts.values()) + 5 * PAD)
    for _attempt in range(60):
        xs = [MARGIN + R + sum(gaps[:i]) for i in range(len(columns))]
        bias_hh = _label((("b", False), ("1", True)), LABEL_SIZE, 0, 0).box.hh
        top = MARGIN + 2 * max(bias_hh, *(lab.box.hh for lab in bias_texts.values())) + PAD  # a bias label
        centre = {u: (xs[int(c)], top + R + r * dy) for u, (c, r) in position.items()}
        biases = tuple(
            Bias(b, tuple(shown), tuple(_bias_label(bias_texts[b], centre[u]) for u in shown))
            for b, units in fed.items()
            for shown in [units[:1] if content.bias_once else units]
        )
        n = len(columns[-1])
        outputs = {u: _output_label(_text(content.output(k, n, u), content, UNIT_SIZE), centre[u])
                   for k, u in enumerate(columns[-1])}  # fmt: skip
        notes = {u: _stacked(stacks[u], centre[u]) for u in position if stacks[u]}
        fixed = [
            *(lab.box for b in biases for lab in b.labels),
            *(lab.box for lab in outputs.values()),
            *(lab.box for labs in notes.values() for lab in labs),
        ]
        width = max(lab.box.x + lab.box.hw for lab in outputs.values()) + MARGIN
        bottom = max([top + 2 * R + (rows - 1) * dy, *(box.y + box.hh for box in fixed)])
        legend, width = _legend(
            content.legend(len(wiring) - len(tabled), len(wiring)), content, bottom, width
        )
        height = (legend[-1].box.y + legend[-1].box.hh if legend else bottom) + MARGIN
        edges: list[Edge] = []
        failed = None
        for k, gap in enumerate(wiring):
            for source, target, wid in gap:
                pos = label_position(columns[k].index(source), columns[k + 1].index(target))
                label = None
                if k not in tabled:
                    label = _place(
                        symbols[wid],
                        centre[source],
                        centre[target],
                        pos,
                        fixed,
                        [(centre[s], centre[t]) for s, t, _ in gap if (s, t) != (source, target)],
                        centre,
                        width,
                        height,
                    )
                    if label is None:
                        failed = k
                        break
                    fixed.append(label.box)
                edges.append(Edge(source, target, wid, pos, label))
            if failed is not None:
                break
        if failed is None:
            names = {u: _unit_label(u, centre[u]) for u in position}
            return Layout(
                columns, position, centre, names, tuple(edges), biases, outputs, tuple(sorted(tabled)),
                width, height, rows, notes, legend, content.dead(),
            )  # fmt: skip
        # Crowded: rows apart first (the page has room for height, less for width), then columns.
        if dy < 1.5 * base:
            dy *= 1.1
            continue
        gaps[failed] *= 1.1
        if gaps[failed] > 3 * DX_LABELLED:
            tabled.add(failed)
            gaps[failed] = content.dx_tabled
    raise AssertionError("the diagram's layout did not settle")  # pragma: no cover - tabled at worst


def _unit_label(unit: str, at: tuple[float, float]) -> Label:
    runs = unit_runs(unit)
    size = min(UNIT_SIZE, (2 * R - 6) / (text_width(runs, 1.0) or 1.0))  # long names shrink to fit
    return _label(runs, size, *at)


def _moved(lab: Label, x: float, y: float) -> Label:
    return replace(lab, box=replace(lab.box, x=x, y=y))


def _bias_label(lab: Label, at: tuple[float, float]) -> Label:
    return _moved(lab, at[0], at[1] - R - PAD - lab.box.hh)


def _output_label(lab: Label, at: tuple[float, float]) -> Label:
    return _moved(lab, at[0] + R + ARROW + PAD + lab.box.hw, at[1])


def _stacked(labels: tuple[Label, ...], at: tuple[float, float]) -> tuple[Label, ...]:
    """Labels one under another just below the unit at ``at``."""
    out = []
    y = at[1] + R + PAD / 2
    for lab in labels:
        out.append(_moved(lab, at[0], y + lab.box.hh))
        y += 2 * lab.box.hh
    return tuple(out)


def _legend(
    texts: tuple[Text, ...], content: Content, bottom: float, width: float
) -> tuple[tuple[Label, ...], float]:
    """The legend's lines under the picture, centred (the canvas widened to the widest)."""
    lines = [_text(t, content) for t in texts]
    width = max([width, *(2 * lab.box.hw + 2 * MARGIN for lab in lines)])
    out = []
    y = bottom + 2 * PAD
    for lab in lines:
        out.append(_moved(lab, width / 2, y + lab.box.hh))
        y += 2 * lab.box.hh
    return tuple(out), width


def _place(
    probe: Label,
    a: tuple[float, float],
    b: tuple[float, float],
    pos: float,
    fixed: list[Box],
    others: list[tuple[tuple[float, float], tuple[float, float]]],
    centre: dict[str, tuple[float, float]],
    width: float,
    height: float,
) -> Label | None:
    """The label ``probe`` on the edge a → b, at its best free spot, or None; ``others`` are the
    other edges."""
    length = math.dist(a, b)
    angle = math.degrees(math.atan2(b[1] - a[1], b[0] - a[0]))
    lo, hi = (R + probe.box.hw + PAD) / length, 1 - (R + probe.box.hw + PAD) / length
    if lo > hi:
        return None
    # Spots along the edge, on the line or just beside it; of the free ones, the one covering
    # fewest other edges (a label on a crossing reads as either edge's), then nearest ``pos``.
    ux, uy = (b[0] - a[0]) / length, (b[1] - a[1]) / length
    side = probe.box.hh + 1.0
    near = probe.box.reach + side + PAD  # only what comes this close to the edge can meet a spot
    circles = [c for c in centre.values() if to_segment(c, a, b) < near + R + PAD]
    boxes = [f for f in fixed if to_segment((f.x, f.y), a, b) < near + f.reach + PAD]
    lines = [(p, q) for p, q in others if segments_near(p, q, a, b, near)]
    best: tuple[tuple[float, float, float], Box] | None = None
    for i in range(25):
        t = lo + (hi - lo) * i / 24
        for off in (0.0, -side, side):
            x, y = a[0] + t * (b[0] - a[0]) - off * uy, a[1] + t * (b[1] - a[1]) + off * ux
            box = Box(x, y, probe.box.hw, probe.box.hh, angle)
            if not inside(box, width, height):
                continue
            if any(circle_meets(box, c, R + PAD) for c in circles):
                continue
            if any(boxes_meet(box, other, PAD) for other in boxes):
                continue
            covered = sum(1 for p, q in lines if segment_meets(box, p, q))
            score = (covered + abs(t - pos) + (0.08 if off else 0.0), off, t)
            if best is None or score < best[0]:
                best = (score, box)
    return None if best is None else replace(probe, box=best[1])

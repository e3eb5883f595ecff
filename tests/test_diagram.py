"""The network diagram: every unit, weight and bias shown, in SVG and TikZ, deterministically;
no label meets another, a unit or the canvas edge; the TikZ draws the SVG's layout."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from itertools import combinations

import pytest
from conftest import deep_softmax_data
from shapes import shape

from gradegen.core.network import build_graph, unit_names
from gradegen.core.spec import Spec, parse_spec, preset
from gradegen.documents.diagram import layout, svg, svg_values, tikz, tikz_values
from gradegen.documents.diagram_layout import MAX_LABELLED, label_position
from gradegen.documents.diagram_values import Values
from gradegen.documents.numbers import Numbers
from gradegen.documents.render import plan_for, render_documents

NS = "{http://www.w3.org/2000/svg}"
SHAPES = ["handout", "2-3-2", "3-4-3-3", "4-8-8-3", "long-values"]

# Advance widths in ems of DejaVu Serif Italic, what Chromium on Linux draws "serif" with (measured
# with getComputedTextLength), the widest of the usual serif fonts; other characters count 0.7.
WIDTH = {**dict.fromkeys("0123456789", 0.636), ".": 0.318, ",": 0.318, " ": 0.318, "=": 0.838, "−": 0.838}
WIDTH.update(w=0.856, b=0.640, x=0.564, h=0.644, o=0.602, u=0.644, t=0.402, ŷ=0.565)
ASCENT, DESCENT = 0.93, 0.24  # DejaVu's, in ems


def _spec(name: str) -> Spec:
    return preset("handout") if name == "handout" else parse_spec(deep_softmax_data())


def _pictures(spec: Spec, values: bool = False, exact: bool = False) -> tuple[str, str, Numbers]:
    """The SVG and TikZ of the plain diagram, or of the values diagram (``values``); by hand, or
    in exact mode's figures (``exact``)."""
    graph = build_graph(spec)
    numbers = Numbers(graph.evaluate(hand=not exact), 0, exact)
    plan = plan_for(spec, graph)
    if values:
        return svg_values(plan, numbers), tikz_values(plan, numbers), numbers
    return svg(plan, numbers), tikz(plan, numbers), numbers


def _text(element: ET.Element) -> str:
    return "".join(element.itertext())


Poly = list[tuple[float, float]]


def _transform(g: ET.Element) -> tuple[float, float, float]:
    """translate(x,y) rotate(a) of a label's group."""
    text = g.get("transform", "")
    x, y = (float(v) for v in re.search(r"translate\(([-\d.]+),([-\d.]+)\)", text).groups())  # type: ignore[union-attr]
    turn = re.search(r"rotate\(([-\d.]+)\)", text)
    return x, y, float(turn.group(1)) if turn else 0.0


def _runs(text: ET.Element) -> list[tuple[str, float, float]]:
    """(characters, font size, baseline shift) of each piece of a <text>."""
    size = float(text.get("font-size", "16"))
    out = [(text.text or "", size, 0.0)]
    shift = 0.0
    for span in text:
        shift += float(span.get("dy", "0"))
        out.append((span.text or "", float(span.get("font-size", size)), shift))
        if span.tail:
            out.append((span.tail, size, shift))
    return out


def _extent(text: ET.Element) -> tuple[float, float, float, float]:
    """The text's box in its own frame (left, top, right, bottom), from its characters."""
    runs = _runs(text)
    width = sum(WIDTH.get(c, 0.7) * size for chars, size, _ in runs for c in chars)
    x, y = float(text.get("x", "0")), float(text.get("y", "0"))
    assert text.get("text-anchor") == "middle"
    top = min(y + shift - ASCENT * size for chars, size, shift in runs if chars)
    bottom = max(y + shift + DESCENT * size for chars, size, shift in runs if chars)
    return x - width / 2, top, x + width / 2, bottom


def _poly(box: tuple[float, float, float, float], x: float, y: float, angle: float) -> Poly:
    c, s = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    left, top, right, bottom = box
    return [
        (x + px * c - py * s, y + px * s + py * c)
        for px, py in ((left, top), (right, top), (right, bottom), (left, bottom))
    ]


def _overlap(a: Poly, b: Poly) -> bool:
    """Convex polygons intersect unless some edge normal separates them."""
    for poly in (a, b):
        for (x1, y1), (x2, y2) in zip(poly, poly[1:] + poly[:1], strict=True):
            n = (y2 - y1, x1 - x2)
            pa = [px * n[0] + py * n[1] for px, py in a]
            pb = [px * n[0] + py * n[1] for px, py in b]
            if max(pa) <= min(pb) or max(pb) <= min(pa):
                return False
    return True


def _meets_circle(poly: Poly, cx: float, cy: float, r: float) -> bool:
    """Whether a convex polygon comes within r of (cx, cy): the centre inside, or an edge near."""
    inside = all(
        (x2 - x1) * (cy - y1) - (y2 - y1) * (cx - x1) >= 0
        for (x1, y1), (x2, y2) in zip(poly, poly[1:] + poly[:1], strict=True)
    )
    if inside:
        return True
    for (x1, y1), (x2, y2) in zip(poly, poly[1:] + poly[:1], strict=True):
        dx, dy = x2 - x1, y2 - y1
        t = max(0.0, min(1.0, ((cx - x1) * dx + (cy - y1) * dy) / (dx * dx + dy * dy)))
        if math.dist((cx, cy), (x1 + t * dx, y1 + t * dy)) < r:
            return True
    return False


def _svg_of(name: str, values: bool = False, exact: bool = False) -> ET.Element:
    return ET.fromstring(_pictures(shape(name), values, exact)[0])


def _labels(root: ET.Element) -> list[tuple[ET.Element, ET.Element, Poly]]:
    """Each label's group, text and box on the canvas."""
    out = []
    for g in root.iter(f"{NS}g"):
        text = g.find(f"{NS}text")
        assert text is not None
        out.append((g, text, _poly(_extent(text), *_transform(g))))
    return out


@pytest.mark.parametrize(
    ("values", "exact"),
    [(False, False), (True, False), (True, True)],
    ids=["plain", "values", "values-exact"],
)
@pytest.mark.parametrize("name", SHAPES)
def test_no_label_meets_another_a_unit_or_the_edge(name: str, values: bool, exact: bool) -> None:
    """Every label's box, from the SVG's text at DejaVu Serif's widths, meets no other label's
    box and no unit's circle, and lies inside the canvas; every unit's name fits its circle (in
    the plain diagram and in the values diagram, its notes and legend too, its values by hand
    or to exact mode's ten figures)."""
    root = _svg_of(name, values, exact)
    width, height = float(root.get("width", "0")), float(root.get("height", "0"))
    circles = [
        (float(c.get("cx", "0")), float(c.get("cy", "0")), float(c.get("r", "0")))
        for c in root.iter(f"{NS}circle")
    ]
    labels = _labels(root)
    assert len(labels) >= len(circles) - 2  # a bias per unit beyond the inputs, at least
    for (_, ta, a), (_, tb, b) in combinations(labels, 2):
        assert not _overlap(a, b), (_text(ta), _text(tb))
    for _, text, poly in labels:
        assert all(0 <= x <= width and 0 <= y <= height for x, y in poly), _text(text)
        for cx, cy, r in circles:
            assert not _meets_circle(poly, cx, cy, r), (_text(text), cx, cy)
    names = [t for t in root.iter(f"{NS}text") if t.get("class") == "unit"]
    assert len(names) == len(circles)
    for text, (cx, cy, r) in zip(names, circles, strict=True):
        left, top, right, bottom = _extent(text)
        assert all(
            math.dist((cx, cy), p) < r for p in ((left, top), (right, top), (left, bottom), (right, bottom))
        )


@pytest.mark.parametrize("values", [False, True], ids=["plain", "values"])
@pytest.mark.parametrize("name", SHAPES)
def test_every_label_has_a_white_box_over_the_edges(name: str, values: bool) -> None:
    """Each label is drawn after every edge, on a white rectangle that covers its text: no edge
    strikes through a label."""
    root = _svg_of(name, values)
    order = list(root)
    last_line = max(i for i, e in enumerate(order) if e.tag == f"{NS}line")
    for g, text, _ in _labels(root):
        assert order.index(g) > last_line, _text(text)
        rect = g.find(f"{NS}rect")
        assert rect is not None and rect.get("fill") == "white", _text(text)
        left, top, right, bottom = _extent(text)
        x, y = float(rect.get("x", "0")), float(rect.get("y", "0"))
        assert x <= left and y <= top, _text(text)
        assert x + float(rect.get("width", "0")) >= right and y + float(rect.get("height", "0")) >= bottom


def test_units_are_named_with_subscripts() -> None:
    """x1 is drawn x with subscript 1, h1_2 h with subscript 1,2 (a smaller, lowered tspan); the
    TikZ writes $x_{1}$ and $h_{1,2}$; out stays one word."""
    root = _svg_of("3-4-3-3")
    names = {_text(t): t for t in root.iter(f"{NS}text") if t.get("class") == "unit"}
    for name, base, sub in (("x1", "x", "1"), ("h1,2", "h", "1,2"), ("o3", "o", "3")):
        text = names[name]
        span = text[0]
        assert text.text == base and span.text == sub
        assert float(span.get("dy", "0")) > 0 and float(span.get("font-size", "0")) < float(
            text.get("font-size", "0")
        )
    spec = shape("3-4-3-3")
    _, picture, _ = _pictures(spec)
    assert "{$x_{1}$}" in picture and "{$h_{1,2}$}" in picture and "{$o_{3}$}" in picture
    handout_svg = _svg_of("handout")
    assert "out" in [_text(t) for t in handout_svg.iter(f"{NS}text") if t.get("class") == "unit"]


@pytest.mark.parametrize("name", ["handout", "deep_softmax"])
def test_svg_labels_every_unit_weight_and_bias(name: str) -> None:
    """The SVG is well-formed and shows each unit, each weight with its value and each bias."""
    spec = _spec(name)
    picture, _, numbers = _pictures(spec)
    root = ET.fromstring(picture)
    texts = [_text(t) for t in root.iter(f"{NS}text")]
    graph = build_graph(spec)
    units = [u for layer in unit_names(spec) for u in layer]
    inputs = [g for g in graph.givens if g.startswith("x")]
    for unit in [*inputs, *units]:
        assert unit.replace("_", ",") in texts, unit
    for param in graph.parameters:
        label = f"{param} = {numbers.text(param).replace('-', '−')}"
        assert label in texts, label
    edges = [e for e in root.iter(f"{NS}line") if e.get("stroke") == "#444"]
    assert len(edges) == sum(1 for p in graph.parameters if p.startswith("w"))


@pytest.mark.parametrize("name", ["handout", "deep_softmax"])
def test_tikz_draws_every_unit_and_labels_every_edge(name: str) -> None:
    """The TikZ picture has a node per unit and an edge label per weight with its value."""
    spec = _spec(name)
    _, picture, numbers = _pictures(spec)
    graph = build_graph(spec)
    assert picture.startswith(r"\begin{tikzpicture}") and picture.endswith(r"\end{tikzpicture}")
    n_units = len(spec.inputs) + sum(layer.size for layer in spec.layers)
    assert picture.count(r"\node[unit]") == n_units
    for param in graph.parameters:
        assert f"${param[0]}_{{{param[1:]}}} = {numbers.text(param)}$" in picture


@pytest.mark.parametrize("values", [False, True], ids=["plain", "values"])
@pytest.mark.parametrize("name", SHAPES)
def test_tikz_draws_the_svgs_layout(name: str, values: bool) -> None:
    """Every TikZ node stands where the SVG puts the same thing (the same layout coordinates,
    TikZ's y pointing down like SVG's), turned by the same angle (TikZ turns counter-clockwise)."""
    spec = shape(name)
    root = _svg_of(name, values)
    _, picture, _ = _pictures(spec, values)
    nodes = re.findall(
        r"\\node\[(unit|label)[^\]]*?(?:, rotate=([-\d.]+))?\] at \(([-\d.]+),([-\d.]+)\)", picture
    )
    assert r"x=0.6667pt, y=-0.6667pt" in picture
    tikz_units = [(float(x), float(y)) for kind, _, x, y in nodes if kind == "unit"]
    svg_units = [(float(c.get("cx", "0")), float(c.get("cy", "0"))) for c in root.iter(f"{NS}circle")]
    assert tikz_units == svg_units
    tikz_labels = [(float(x), float(y), -float(a or 0)) for kind, a, x, y in nodes if kind == "label"]
    svg_labels = [_transform(g) for g, _, _ in _labels(root)]
    assert len(tikz_labels) == len(svg_labels)
    for t, s in zip(tikz_labels, svg_labels, strict=True):
        assert t == pytest.approx(s, abs=0.051)
    plan = plan_for(spec, build_graph(spec))
    lay = layout(plan, Values(plan) if values else None)
    assert svg_units == [pytest.approx(lay.centre[u], abs=0.051) for u in lay.position]


def test_a_layer_pair_of_many_edges_is_a_table_not_labels() -> None:
    """The 4-8-8-3 has more than 12 edges between each pair of layers: the diagram labels units and
    biases only, and both documents give each pair's weights as a table of every weight."""
    spec = shape("4-8-8-3")
    graph = build_graph(spec)
    plan = plan_for(spec, graph)
    assert all(
        len(a.units) * len(b.units) > MAX_LABELLED for a, b in zip(plan.layers, plan.layers[1:], strict=False)
    )
    root = _svg_of("4-8-8-3")
    assert not [t for t in root.iter(f"{NS}text") if t.get("class") == "weight"]
    _, picture, numbers = _pictures(spec)
    assert r"$w_{" not in picture
    docs = render_documents(spec, graph, graph.evaluate(), graph.evaluate(hand=True), 0, None)
    weights = [p for p in graph.parameters if p.startswith("w")]
    for name in ("worksheet.tex", "solution.tex"):
        text = docs[name]
        assert text.count(r"\begin{tabular}{lcccc}") == 1 and text.count(r"\begin{tabular}{lcccccccc}") == 2
        for w in weights:
            assert f"${graph[w].symbol}$\\\\$= {numbers.text(w)}$" in text, (name, w)
    md = docs["worksheet.md"]
    assert md.count("(a row per unit fed, a column per unit feeding it)") == 3
    row = next(line for line in md.splitlines() if line.startswith("| $h_{2,3}$ |"))
    assert row.count("|") == 10 and f"$w_{{49}} = {numbers.text('w49')}$" in row  # h1_1 → h2_3


def test_a_small_network_has_no_weight_table() -> None:
    """The handout labels every edge; its documents carry no weight table."""
    spec = preset("handout")
    graph = build_graph(spec)
    docs = render_documents(spec, graph, graph.evaluate(), graph.evaluate(hand=True), 0, None)
    assert "a row per unit fed" not in docs["solution.tex"] + docs["worksheet.md"]


def test_diagram_is_deterministic() -> None:
    """Two renderings of the same network are byte-identical."""
    assert _pictures(_spec("deep_softmax"))[:2] == _pictures(_spec("deep_softmax"))[:2]


def test_edge_labels_are_first_tried_apart() -> None:
    """Edges leaving one unit, or entering one, first try their labels at different places."""
    assert label_position(0, 1) != label_position(0, 0) != label_position(1, 0)
    assert label_position(1, 1) == label_position(0, 0)


def test_a_bias_is_printed_above_each_unit_it_feeds() -> None:
    """A shared bias labels every unit it feeds, a per-neuron bias its own; no bias line is drawn."""
    spec = _spec("deep_softmax")
    plan = plan_for(spec, build_graph(spec))
    lay = layout(plan)
    fed = {b.id: b.units for b in lay.biases}
    assert fed["b4"] == ("h2_1", "h2_2")
    assert fed["b1"] == ("h1_1",)
    for bias in lay.biases:
        for unit, label in zip(bias.units, bias.labels, strict=True):
            x, y = lay.centre[unit]
            assert label.box.x == x and label.box.y < y
    picture, tex, numbers = _pictures(spec)
    value = numbers.text("b4").replace("-", "−")
    assert [_text(t) for t in ET.fromstring(picture).iter(f"{NS}text")].count(f"b4 = {value}") == 2
    assert "dashed" not in tex and "dasharray" not in picture


def test_weight_tables_compile_to_what_the_reference_renders() -> None:
    """The 4-8-8-3's documents with their weight tables, filled from the compiled templates, are
    byte for byte what rendering the templates with the variant's own numbers gives."""
    spec = shape("4-8-8-3")
    graph = build_graph(spec)
    args = (spec, graph, graph.evaluate(), graph.evaluate(hand=True), 0, None)
    compiled = render_documents(*args)
    reference = render_documents(*args, compiled=False)
    for name in ("worksheet.md", "worksheet.tex", "solution.tex", "network.svg"):
        assert compiled[name] == reference[name], name

"""The network diagram: every unit, weight and bias shown, in SVG and TikZ, deterministically."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from itertools import combinations

import pytest
from conftest import deep_softmax_data

from gradegen.core.network import build_graph, unit_names
from gradegen.core.spec import Spec, parse_spec, preset
from gradegen.documents.diagram import label_position, layout, svg, tikz
from gradegen.documents.numbers import Numbers
from gradegen.documents.render import plan_for

SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def _spec(name: str) -> Spec:
    return preset("handout") if name == "handout" else parse_spec(deep_softmax_data())


def _pictures(spec: Spec) -> tuple[str, str, Numbers]:
    graph = build_graph(spec)
    numbers = Numbers(graph.evaluate(hand=True), 0, False)
    plan = plan_for(spec, graph)
    return svg(plan, numbers), tikz(plan, numbers), numbers


@pytest.mark.parametrize("name", ["handout", "deep_softmax"])
def test_svg_labels_every_unit_weight_and_bias(name: str) -> None:
    """The SVG is well-formed and shows each unit, each weight with its value and each bias."""
    spec = _spec(name)
    picture, _, numbers = _pictures(spec)
    root = ET.fromstring(picture)
    texts = ["".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")]
    graph = build_graph(spec)
    units = [u for layer in unit_names(spec) for u in layer]
    inputs = [g for g in graph.givens if g.startswith("x")]
    for unit in [*inputs, *units]:
        assert unit.replace("_", ",") in texts, unit
    for param in graph.parameters:
        label = f"{param[0]}{param[1:].translate(SUB)} = {numbers.text(param).replace('-', '−')}"
        assert label in texts, label
    edges = [e for e in root.iter("{http://www.w3.org/2000/svg}line") if e.get("stroke") == "#444"]
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


def test_diagram_is_deterministic() -> None:
    """Two renderings of the same network are byte-identical."""
    assert _pictures(_spec("deep_softmax"))[:2] == _pictures(_spec("deep_softmax"))[:2]


def test_edge_labels_sharing_a_unit_sit_apart() -> None:
    """Edges leaving one unit, or entering one, put their labels at different places along them."""
    plan = plan_for(_spec("deep_softmax"), build_graph(_spec("deep_softmax")))
    lay = layout(plan)
    for a, b in combinations(lay.edges, 2):
        if a.source == b.source or a.target == b.target:
            rows_apart = abs(lay.position[a.target][1] - lay.position[b.target][1])
            rows_apart += abs(lay.position[a.source][1] - lay.position[b.source][1])
            assert a.pos != b.pos or rows_apart >= 2, (a, b)
    assert label_position(0, 1) != label_position(0, 0) != label_position(1, 0)


def test_shared_and_separate_biases_are_drawn() -> None:
    """A shared bias is one box linked to every unit it feeds; a per-neuron bias labels its unit."""
    spec = _spec("deep_softmax")
    plan = plan_for(spec, build_graph(spec))
    lay = layout(plan)
    fed = {b.id: b.units for b in lay.biases}
    assert fed["b4"] == ("h2_1", "h2_2")
    assert fed["b1"] == ("h1_1",)
    _, picture, _ = _pictures(spec)
    assert picture.count(r"\draw[dashed, gray] (bias") == 2

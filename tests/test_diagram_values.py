"""The values diagram (``--diagram values``): the step's forward values and gradients on the network,
as the engine computes them by hand, in the colours its legend names; dead ReLU units marked; only
the solution shows it, and ``--diagram plain`` changes nothing."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from shapes import shape, two_three_two
from typer.testing import CliRunner

from gradegen.cli import app
from gradegen.core.graph import Kind
from gradegen.core.network import build_graph
from gradegen.core.options import with_documents
from gradegen.core.rounding import Rule
from gradegen.core.spec import Spec, parse_spec
from gradegen.documents.diagram import TIKZ_TONES, TONES, layout, svg, svg_values, tikz_values
from gradegen.documents.diagram_values import FORWARD, GRADIENT, Values
from gradegen.documents.formats import files_for
from gradegen.documents.numbers import Numbers
from gradegen.documents.render import plan_for, render_documents

NS = "{http://www.w3.org/2000/svg}"
runner = CliRunner()
_SUPERSCRIPTS = str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789")


def _values(spec: Spec) -> Spec:
    return with_documents(spec, diagram="values")


def _text(element: ET.Element) -> str:
    return "".join(element.itertext())


def _number(text: str) -> float:
    """A printed value as a number: 6.70×10⁻⁴, −0.0997, 0."""
    mantissa, _, power = text.replace("−", "-").partition("×10")
    return float(mantissa) * 10.0 ** int(power.translate(_SUPERSCRIPTS) or "0")


def _decimals(text: str) -> int:
    mantissa = text.partition("×10")[0]
    return len(mantissa.partition(".")[2])


DEAD_BIAS, ALIVE_BIAS = [0.1, -1.0, 0.5], [0.1, 0.2, 0.5]


def _relu_spec(bias: list[float]) -> Spec:
    """The 2-3-2 with ReLU hidden units and these biases."""
    data = two_three_two()
    data["layers"][0]["activation"] = "relu"
    data["layers"][0]["bias"] = bias
    return parse_spec(data)


def _dead_spec() -> Spec:
    """The 2-3-2 with ReLU hidden units, the second pushed below zero by its bias."""
    return _relu_spec(DEAD_BIAS)


def _dead_units(bias: list[float]) -> list[str]:
    """The hidden units whose weighted sum is at most 0, from the spec's numbers."""
    data = two_three_two()
    z = np.array(data["layers"][0]["weights"]) @ np.array(data["inputs"]) + np.array(bias)
    return [f"h{k + 1}" for k in range(3) if z[k] <= 0]


@pytest.mark.parametrize("name", ["handout", "3-4-3-3", "4-8-8-3"])
def test_every_printed_value_is_the_engines_hand_value(name: str) -> None:
    """Each note under a unit (x, z, a, δ), each edge's ∂L/∂w, each bias's ∂L/∂b and each ŷ is the
    engine's hand value of that quantity, to its own precision (decimals, or significant figures
    in scientific notation); the TikZ prints the same numbers as the documents' math."""
    spec = _values(shape(name))
    graph = build_graph(spec)
    hand = graph.evaluate(hand=True)
    plan = plan_for(spec, graph)
    lay = layout(plan, Values(plan))
    root = ET.fromstring(svg_values(plan, Numbers(hand, 0, False)))
    texts: dict[str, list[str]] = {}
    for text in root.iter(f"{NS}text"):
        texts.setdefault(text.get("class", ""), []).append(_text(text))
    labels = {
        "note": [lab for labs in lay.notes.values() for lab in labs],
        "weight": [e.label for e in lay.edges if e.label is not None],
        "bias": [lab for b in lay.biases for lab in b.labels],
        "output": list(lay.outputs.values()),
    }
    shown = set()
    for kind, laid in labels.items():
        assert len(texts.get(kind, [])) == len(laid), kind
        for label, printed in zip(laid, texts.get(kind, []), strict=True):
            node = label.value
            shown.add(node)
            value = printed.rsplit(" = ", 1)[1]
            assert _number(value) == pytest.approx(float(hand[node][0]), rel=1e-12, abs=1e-15), (
                node,
                printed,
            )
            precision = graph.precision_of(node)
            if graph[node].kind is Kind.GIVEN or _number(value) == 0:
                continue
            if precision.rule is Rule.FIGURES:
                assert "×10" in value and _decimals(value) == precision.digits - 1, printed
            else:
                assert "×10" not in value and _decimals(value) == precision.digits, printed
    units = [u for layer in plan.layers[1:] for u in layer.units]
    deltas = {f"dL_dz_{u}" for u in units}
    assert deltas <= shown  # every unit's δ
    assert {graph.gradients[b] for b in graph.parameters if b.startswith("b")} <= shown
    picture = tikz_values(plan, Numbers(hand, 0, False))
    numbers = Numbers(hand, 0, False)
    for node in shown:
        assert f"= {numbers.text(node)}$" in picture, node


def _rgb(colour: str) -> tuple[int, int, int]:
    if colour.startswith("#"):
        return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)
    red, green, blue = (int(v) for v in re.findall(r"(?:red|green|blue),(\d+)", colour))
    return red, green, blue


@pytest.mark.parametrize("name", ["handout", "3-4-3-3"])
def test_forward_values_are_blue_and_gradients_red_as_the_legend_says(name: str) -> None:
    """Every value showing a gradient (δ, ∂L/∂…) is drawn in the red the legend's "Red:" line is
    drawn in, every forward value (x, z, a, ŷ) in its "Blue:" line's blue, in SVG and TikZ alike."""
    spec = _values(shape(name))
    graph = build_graph(spec)
    plan = plan_for(spec, graph)
    numbers = Numbers(graph.evaluate(hand=True), 0, False)
    root = ET.fromstring(svg_values(plan, numbers))
    red, blue = _rgb(TONES[GRADIENT]), _rgb(TONES[FORWARD])
    assert red[0] > 2 * red[2] and blue[2] > 2 * blue[0]
    assert _rgb(TIKZ_TONES[GRADIENT]) == red and _rgb(TIKZ_TONES[FORWARD]) == blue
    legend = {
        _text(t).split(":", 1)[0]: t.get("fill") for t in root.iter(f"{NS}text") if t.get("class") == "legend"
    }
    assert legend["Blue"] == TONES[FORWARD] and legend["Red"] == TONES[GRADIENT]
    valued = [t for t in root.iter(f"{NS}text") if t.get("class") in ("note", "weight", "bias", "output")]
    assert valued
    for text in valued:
        gradient = "δ" in _text(text) or "∂" in _text(text)
        assert text.get("fill") == TONES[GRADIENT if gradient else FORWARD], _text(text)
    picture = tikz_values(plan, numbers)
    nodes = re.findall(r"\\node\[(label[^\]]*)\] at \([^)]*\) \{\$(.*)\$\};", picture)
    assert nodes
    for style, math_text in nodes:
        tone = GRADIENT if "\\partial" in math_text or "\\delta" in math_text else FORWARD
        assert f", {tone}" in style, math_text


def test_a_dead_relu_unit_is_marked_and_no_other() -> None:
    """A ReLU unit whose weighted sum is negative (worked out here from the spec's numbers) is the one
    circle drawn dashed and grey, the edges into it the only dashed edges, in SVG and TikZ; the
    legend says what it means; the plain diagram marks nothing."""
    spec = _values(_dead_spec())
    assert _dead_units(DEAD_BIAS) == ["h2"] and _dead_units(ALIVE_BIAS) == []
    graph = build_graph(spec)
    plan = plan_for(spec, graph)
    numbers = Numbers(graph.evaluate(hand=True), 0, False)
    lay = layout(plan, Values(plan))
    root = ET.fromstring(svg_values(plan, numbers))
    dashed = [c for c in root.iter(f"{NS}circle") if c.get("stroke-dasharray")]
    assert [(float(c.get("cx", "")), float(c.get("cy", ""))) for c in dashed] == [
        pytest.approx(lay.centre["h2"], abs=0.051)
    ]
    assert dashed[0].get("fill") != "#fdf3e7"
    lines = [ln for ln in root.iter(f"{NS}line") if ln.get("stroke-dasharray")]
    x, y = lay.centre["h2"]
    assert len(lines) == 2  # from x1 and x2
    for line in lines:
        end = (float(line.get("x2", "")), float(line.get("y2", "")))
        assert math.dist(end, (x, y)) == pytest.approx(20.0, abs=0.1)
    legend = " ".join(_text(t) for t in root.iter(f"{NS}text") if t.get("class") == "legend")
    assert "dead ReLU unit" in legend and "no gradient reaches the weights into" in legend
    picture = tikz_values(plan, numbers)
    assert re.findall(r"\\node\[unit, dead\] at \(([-\d.]+),([-\d.]+)\)", picture) == [
        (f"{x:.1f}".rstrip("0").rstrip("."), f"{y:.1f}".rstrip("0").rstrip("."))
    ]
    assert picture.count(r"\draw[dead edge]") == 2
    assert "dasharray" not in svg(plan, numbers)
    alive = _values(_relu_spec(ALIVE_BIAS))
    graph = build_graph(alive)
    assert "dasharray" not in svg_values(plan_for(alive, graph), Numbers(graph.evaluate(hand=True), 0, False))


def _documents(spec: Spec, *, exact: bool = False, compiled: bool = True) -> dict[str, str]:
    graph = build_graph(spec)
    files = files_for(["html", *(["values"] if spec.documents.diagram == "values" else [])])
    return render_documents(
        spec, graph, graph.evaluate(), graph.evaluate(hand=True), 0, None, exact_mode=exact,
        files=files, compiled=compiled,
    )  # fmt: skip


@pytest.mark.parametrize("name", ["handout", "3-4-3-3", "dead"])
def test_only_the_solutions_show_the_values_and_plain_is_unchanged(name: str) -> None:
    """With ``values``, the solutions gain the values diagram (network-values.svg beside solution.md,
    the TikZ in solution.tex, the SVG inline in solution.html) before the summary; every other file,
    the worksheets and network.svg among them, is byte for byte the plain run's (but key.json, which
    records the spec), and the plain run has neither the file nor the section."""
    spec = with_documents(_dead_spec() if name == "dead" else shape(name), style="full")  # its summary
    plain, values = _documents(spec), _documents(_values(spec))
    assert "network-values.svg" not in plain and "network-values.svg" in values
    assert set(values) - set(plain) == {"network-values.svg"}
    changed = {f for f in plain if plain[f] != values[f]}
    assert changed == {"solution.md", "solution.tex", "solution.html", "key.json"}  # the key keeps the spec
    assert '"diagram": "values"' in values["key.json"]
    for f in plain:
        assert "The step on the network" not in plain[f]
        assert "#c01c28" not in plain[f] and 'class="legend"' not in plain[f]  # no gradient labels
    assert "![The training step on the network" in values["solution.md"]
    assert "(network-values.svg)" in values["solution.md"]
    assert values["solution.tex"].count(r"\begin{tikzpicture}") == 2
    assert values["solution.html"].count("<svg ") == 2
    summary = values["solution.md"].index("## Summary")
    assert values["solution.md"].index("## The step on the network") < summary


@pytest.mark.parametrize("exact", [False, True], ids=["hand", "exact"])
@pytest.mark.parametrize("name", ["handout", "3-4-3-3", "dead"])
def test_the_values_documents_compile_to_what_the_reference_renders(name: str, exact: bool) -> None:
    """Every file with the values diagram, filled from the compiled templates (its values, and its
    dead units' looks, in slots), is byte for byte what rendering with the variant's numbers gives."""
    spec = _values(_dead_spec() if name == "dead" else shape(name))
    compiled, reference = _documents(spec, exact=exact), _documents(spec, exact=exact, compiled=False)
    assert compiled.keys() == reference.keys()
    for f in compiled:
        assert compiled[f] == reference[f], f


def test_generate_diagram_values_on_the_command_line(tmp_path: Path) -> None:
    """``generate --diagram values`` writes network-values.svg beside solution.md, which shows it; a
    class run puts each student's beside their solution, with their own numbers, and none by the keys."""
    out = tmp_path / "one"
    result = runner.invoke(app, ["generate", "--diagram", "values", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "(network-values.svg)" in (out / "solution.md").read_text("utf-8")
    assert "network-values" not in (out / "worksheet.md").read_text("utf-8")
    assert "δ = " in (out / "network-values.svg").read_text("utf-8")
    plain = tmp_path / "plain"
    assert runner.invoke(app, ["generate", "--out", str(plain)]).exit_code == 0
    assert not (plain / "network-values.svg").exists()
    assert (plain / "network.svg").read_bytes() == (out / "network.svg").read_bytes()
    group = tmp_path / "class"
    result = runner.invoke(app, ["generate", "--variants", "3", "--diagram", "values", "--out", str(group)])
    assert result.exit_code == 0, result.output
    folders = sorted(p for p in group.iterdir() if p.is_dir())
    assert len(folders) == 3
    pictures = set()
    for folder in folders:
        picture = (folder / "network-values.svg").read_text("utf-8")
        pictures.add(picture)
        solution = (folder / "solution.md").read_text("utf-8")
        z = re.search(r"z = ([^<]+)</text>", picture)
        assert z is not None and f"= {z.group(1).replace('−', '-')}$$" in solution
    assert len(pictures) == 3
    assert not list(group.glob("network-values*")) and not list(group.glob("*/*/network-values.svg"))

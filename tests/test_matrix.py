"""The ``matrix`` style: every vector and matrix printed is the engine's, and every line recomputes."""

from __future__ import annotations

import re
from functools import cache

import pytest
from conftest import deep_softmax_data
from shapes import shape
from test_render import _BMATRIX, COMBOS, _network, _pandoc, cells, check_lines, split_equals

from gradegen.core.graph import Graph, Kind, Role
from gradegen.core.key import asks_steps, resolve_ask
from gradegen.core.network import build_graph
from gradegen.core.options import Style, with_documents
from gradegen.core.spec import Spec, parse_spec, preset
from gradegen.documents.items import MatrixEq
from gradegen.documents.render import plan_for, render_documents

NETWORKS = ["handout", "mazur", "3-4-3-3", "4-8-8-3"]


def _spec(name: str) -> Spec:
    return with_documents(preset("mazur") if name == "mazur" else shape(name), style=Style.MATRIX)


@cache
def _solution(name: str) -> tuple[Graph, dict[str, float], str, str]:
    """The matrix-style solution of a network: its graph, hand values, Markdown and LaTeX."""
    spec = _spec(name)
    graph = build_graph(spec)
    hand = graph.evaluate(hand=True)
    files = render_documents(spec, graph, graph.evaluate(), hand, 0, resolve_ask(graph))
    return graph, hand.scalars(), files["solution.md"], files["solution.tex"]


_SLASHED = re.compile(r"\\frac\{(\\partial .*?)\}\{(\\partial .*)\}")
_GRADIENT = re.compile(r"(\\eta )?\\frac\{\\partial L\}\{\\partial ([Wb]\^\{\(\d+\)\})\}")
_NEW = re.compile(r"([Wb]\^\{\(\d+\)\})_\{\\text\{new\}\}")


def shown_matrices(graph: Graph, lines: list[str]) -> dict[str, list[str]]:
    """Each quantity a matrix line shows as its result, mapped to the printed entries.

    An entry is named by the line's column of symbols, by the line's own symbol (a single
    entry), or, for a gradient, step or update of W (or b), by its place in W as the forward
    pass wrote W's symbols out."""
    symbols = {n.symbol: n.id for n in graph.nodes}
    symbols |= {_SLASHED.sub(r"\1 / \2", s): i for s, i in symbols.items() if s.startswith(r"\frac")}
    placed: dict[str, list[list[str]]] = {}
    shown: dict[str, list[str]] = {}
    for line in lines:
        segments = split_equals(line[2:-2])
        last = _BMATRIX.fullmatch(segments[-1])
        if last is None:
            continue
        result = [entry for row in cells(last.group(1)) for entry in row]
        named = _BMATRIX.fullmatch(segments[1]) if len(segments) > 2 else None
        if named and all(entry in symbols for row in cells(named.group(1)) for entry in row):
            ids = [symbols[entry] for row in cells(named.group(1)) for entry in row]
            if segments[0] not in placed:
                placed[segments[0]] = [[symbols[e] for e in row] for row in cells(named.group(1))]
        elif segments[0] in symbols:
            ids = [symbols[segments[0]]]
        else:
            gradient, new = _GRADIENT.fullmatch(segments[0]), _NEW.fullmatch(segments[0])
            assert gradient or new, f"a matrix line whose entries are not named: {line}"
            params = [p for row in placed[(gradient or new).group(2 if gradient else 1)] for p in row]  # type: ignore[union-attr]
            role = Role.UPDATE if new else Role.STEP if gradient and gradient.group(1) else None
            ids = [graph.gradients[p] if role is None else graph.node_of(role, param=p).id for p in params]
        assert len(ids) == len(result), line
        for node, entry in zip(ids, result, strict=True):
            shown.setdefault(node, []).append(entry)
    return shown


def _number(text: str) -> float:
    m = re.fullmatch(r"(-?\d+(?:\.\d+)?)(?: \\times 10\^\{(-?\d+)\})?", text)
    assert m, text
    return float(f"{m.group(1)}e{m.group(2) or 0}")


def _check(graph: Graph, values: dict[str, float], markdown: str) -> None:
    """Every printed entry is the engine's, every line recomputes, every quantity is shown."""
    assert check_lines(markdown)
    lines = [line for line in markdown.splitlines() if line.startswith("$$") and "bmatrix" in line]
    shown = shown_matrices(graph, lines)
    for node, entries in shown.items():
        for entry in entries:
            assert _number(entry) == pytest.approx(values[node], rel=1e-12, abs=1e-15), (node, entry)
    scalar = {line.split(" = ", 1)[0][2:] for line in markdown.splitlines() if line.startswith("$$")}
    steps_apart = asks_steps(graph)
    for node in graph.nodes:
        if node.formula is None or (node.kind is Kind.STEP and not steps_apart):
            continue  # a step is in its update's line unless η is tiny
        if node.kind is Kind.AFTER and f"${node.symbol} = " in markdown:
            continue  # after the update: its value, worked as above (or said to be 0)
        assert node.id in shown or node.symbol in scalar, node.id


@pytest.mark.parametrize("name", NETWORKS)
def test_matrices_show_the_engines_values_and_every_line_recomputes(name: str) -> None:
    """Every entry of every printed matrix is the engine's hand value of the quantity in its
    place, every line (matrix or scalar) recomputes from its printed operands, and every
    computed quantity is shown in a matrix or on a line of its own."""
    graph, values, markdown, _ = _solution(name)
    _check(graph, values, markdown)


@pytest.mark.parametrize(
    ("activation", "loss", "outputs", "extra"), [*COMBOS, ("softmax", "half_mse", 3, {})]
)
def test_every_activation_and_loss_gives_checkable_matrices(
    activation: str, loss: str, outputs: int, extra: dict[str, object]
) -> None:
    """For every activation and loss (weight decay, fixed biases, a softmax under a squared loss
    too) the matrix style's lines recompute and show the engine's values, and pandoc reads them."""
    if activation == "softmax":
        data = deep_softmax_data()
        data["loss"] = loss
        spec = parse_spec(data)
    else:
        spec = _network(activation, loss, outputs, **extra)
    spec = with_documents(spec, style=Style.MATRIX)
    graph = build_graph(spec)
    hand = graph.evaluate(hand=True)
    markdown = render_documents(spec, graph, graph.evaluate(), hand, 0, None)["solution.md"]
    _check(graph, hand.scalars(), markdown)
    run = _pandoc(markdown)
    assert run.returncode == 0 and run.stderr == "", run.stderr


def test_the_4_8_8_3_tex_matrices_are_the_engines() -> None:
    """In the LaTeX of the 4-8-8-3 (rows broken, small type) the matrices are still the engine's:
    each result matrix read back from solution.tex, entry by entry."""
    graph, values, _, tex = _solution("4-8-8-3")
    rows = []
    for display in re.findall(r"\\\[ (.*?) \\\]|\\begin\{align\*\}\n(.*?)\n\\end\{align\*\}", tex, re.S):
        text = display[0] or display[1]
        text = re.sub(
            r"\\(setcounter\{MaxMatrixCols\}\{\d+\}|renewcommand\{\\arraystretch\}\{[\d.]+\}) ", "", text
        )
        text = re.sub(r"\\text\{\\\w+ [^$]*\$(.*?)\$\}", r"\1", text)  # a row set small
        text = text.replace(" \\\\\n&= ", " = ").replace(" &= ", " = ").replace(" \\\\\n&\\quad ", " ")
        if "bmatrix" in text:
            rows.append(f"$${text}$$")
    shown = shown_matrices(graph, rows)
    gradients = [n.id for n in graph.with_role(Role.WEIGHT_GRADIENT)]
    assert set(gradients) <= set(shown)
    for node, entries in shown.items():
        assert all(_number(e) == pytest.approx(values[node], rel=1e-12, abs=1e-15) for e in entries), node


def test_a_matrix_line_shows_what_it_computes() -> None:
    """Section.shows() yields every entry a matrix line computes (the worksheet's cross-references
    rely on it), and no given a line only writes out."""
    spec = _spec("3-4-3-3")
    graph = build_graph(spec)
    plan = plan_for(spec, graph, frozenset())
    shows = {node for section in plan.sections for node in section.shows()}
    computed = {n.id for n in graph.nodes if n.kind is not Kind.GIVEN and n.kind is not Kind.STEP}
    assert computed <= shows
    assert not shows & set(graph.givens)
    givens = [i for s in plan.sections for i in s.items if isinstance(i, MatrixEq) and not i.computes]
    assert givens and all(graph[n].kind is Kind.GIVEN for item in givens for n in item.results())

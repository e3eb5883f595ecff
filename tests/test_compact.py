"""The ``compact`` style: per-layer tables whose every row re-computes, values equal to the
engine's, one chain worked in full per layer (the deep network's page count: test_pdf_layout)."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import pytest
from conftest import deep_softmax_data
from shapes import shape
from test_plan import ONE_HOT, SIGMOID_ZERO
from test_plan import _spec as _plan_spec
from test_render import COMBOS, _network, _pandoc, check_lines, check_tables, split_equals, tables

from gradegen.core.graph import Kind, Role
from gradegen.core.key import asks_steps, resolve_ask
from gradegen.core.network import build_graph, fixed_quantities
from gradegen.core.options import Style, with_documents
from gradegen.core.spec import Spec, parse_spec, preset
from gradegen.documents.items import DocumentPlan, Table
from gradegen.documents.render import plan_for, render_documents

NETWORKS = ["handout", "mazur", "3-4-3-3"]
_NUMBER = re.compile(r"(-?\d+(?:\.\d+)?)(?: \\times 10\^\{(-?\d+)\})?")


def _spec(name: str) -> Spec:
    return with_documents(preset("mazur") if name == "mazur" else shape(name), style="compact")


@cache
def _solved(name: str) -> tuple[Spec, DocumentPlan, dict[str, float], str]:
    """The compact solution.md of a network, its plan and the engine's hand values."""
    return _solve(_spec(name))


def _solve(spec: Spec) -> tuple[Spec, DocumentPlan, dict[str, float], str]:
    spec = with_documents(spec, style="compact")
    graph = build_graph(spec)
    exact, hand = graph.evaluate(), graph.evaluate(hand=True)
    files = render_documents(spec, graph, exact, hand, 0, resolve_ask(graph))
    plan = plan_for(spec, graph, fixed_quantities(spec, graph, exact.arrays).zero)
    return spec, plan, hand.scalars(), files["solution.md"]


def _number(text: str) -> float:
    """A printed result as a float: 0.0822, -6.70 \\times 10^{-4}."""
    m = _NUMBER.fullmatch(text.strip())
    assert m, f"not a number: {text}"
    return float(f"{m.group(1)}e{m.group(2) or 0}")


@pytest.mark.parametrize("name", NETWORKS)
def test_every_line_and_table_row_recomputes(name: str) -> None:
    """Every display line and every table cell that computes gives, from its own printed
    numbers, the result it prints (the independent checker of test_render)."""
    *_, solution = _solved(name)
    assert check_lines(solution)
    assert len(check_tables(solution)) > 10


@pytest.mark.parametrize("name", NETWORKS)
def test_the_values_shown_are_the_engines(name: str) -> None:
    """Each table cell's value (matched to its quantity through the plan) and each line's result
    is the engine's hand value, and every computed quantity is shown, in a line or a cell (a
    step, when η is not tiny, as η·∂L/∂p in its update's cell)."""
    _check_shown(*_solved(name)[1:])


@pytest.mark.parametrize(("activation", "loss", "outputs", "extra"), COMBOS)
def test_every_activation_and_loss_gives_checkable_tables(
    activation: str, loss: str, outputs: int, extra: dict[str, object]
) -> None:
    """Every activation and loss (softmax, weight decay, fixed biases, other decimals too) in the
    compact style: each line and row re-computes and shows the engine's value; a softmax under a
    squared loss too (its deltas, a line each)."""
    for spec in (_network(activation, loss, outputs, **extra), _softmax_half_mse()):
        _, plan, values, solution = _solve(spec)
        check_lines(solution)
        check_tables(solution)
        _check_shown(plan, values, solution)


def _softmax_half_mse() -> Spec:
    data = deep_softmax_data()
    data["loss"] = "half_mse"
    return parse_spec(data)


def _check_shown(plan: DocumentPlan, values: dict[str, float], solution: str) -> None:
    graph = plan.graph
    shown: set[str] = set()
    planned = [item for section in plan.sections for item in section.items if isinstance(item, Table)]
    printed = tables(solution)[-len(planned) :] if planned else []  # the givens' tables come first
    assert len(printed) == len(planned)
    for table, rows in zip(planned, printed, strict=True):
        assert len(rows) == len(table.rows) + 1  # the heading, then a row each
        for cells, text in zip(table.rows, rows[1:], strict=True):
            for cell, written in zip(cells, text, strict=True):
                if cell.node:
                    value = _number(split_equals(written.strip("$"))[-1])
                    assert value == pytest.approx(values[cell.node], rel=1e-9, abs=1e-12), cell.node
                    shown.add(cell.node)
    symbols = {node.symbol: node.id for node in graph.nodes}
    for line in solution.splitlines():
        if line.startswith("$$"):
            segments = split_equals(line[2:-2])
            node = symbols.get(segments[0])
            if node is not None and len(segments) > 1 and _NUMBER.fullmatch(segments[-1]):
                assert _number(segments[-1]) == pytest.approx(values[node], rel=1e-9, abs=1e-12), line
                shown.add(node)
    said = {s for s in plan.zero if f"${graph[s].symbol} = " in solution}
    for node in graph.nodes:  # after the update: each layer's values listed in a sentence
        listed = re.search(rf"\${re.escape(node.symbol)} = ([^$]+)\$", solution)
        if node.kind is Kind.AFTER and node.id not in shown and listed and _NUMBER.fullmatch(listed[1]):
            assert _number(listed[1]) == pytest.approx(values[node.id], rel=1e-9, abs=1e-12), node.id
            shown.add(node.id)
    steps = set() if asks_steps(graph) else set(graph.ids_of(Role.STEP))  # inside p − η·g
    computed = {n.id for n in graph.nodes if n.kind is not Kind.GIVEN}
    assert computed - shown - said - steps == set()


@pytest.mark.parametrize("name", NETWORKS)
def test_one_path_per_layer_in_full_and_the_pattern_as_a_formula(name: str) -> None:
    """Each layer's backward section works its first weight's chain rule in full, states the
    pattern the other rows follow as a formula, and a shared bias's sum of paths appears once."""
    spec, plan, _, solution = _solved(name)
    graph = plan.graph
    for i in range(len(spec.layers)):
        first = graph.with_role(Role.WEIGHT_GRADIENT, layer=i)[0]
        assert f"$${first.symbol} = " in solution  # "By the chain rule:" its factors' product
    assert solution.count("By the chain rule:") == len(spec.layers)
    assert solution.count("follow the same pattern") == len(spec.layers)
    assert r"\frac{\partial L}{\partial w_{jk}} = \delta_j \cdot " in solution
    for bias in graph.with_role(Role.BIAS_GRADIENT):
        if len(bias.parents) > 1:
            assert solution.count(f"$${bias.symbol} = ") == 1


@pytest.mark.parametrize("name", NETWORKS)
def test_sections_show_what_their_tables_compute(name: str) -> None:
    """Section.shows() yields every quantity a table computes, so the worksheet's questions are
    cross-referenced to the section that works them out: every asked quantity of the network has
    its section."""
    _, plan, _, _ = _solved(name)
    shows = {node for section in plan.sections for node in section.shows()}
    fixed = set(plan.zero)
    asked = set(resolve_ask(plan.graph, None, frozenset(fixed)))
    assert asked - shows == set()
    cells = {
        c.node for s in plan.sections for i in s.items if isinstance(i, Table) for r in i.rows for c in r
    }
    assert {n for n in cells if n} & shows


def test_a_tiny_learning_rate_gives_each_step_its_column() -> None:
    """With the handout's η = 0.0001 the update table has a column of steps η·∂L/∂p (what the
    worksheet asks), then p minus the step; with Mazur's η = 0.5 each new value is p − η·∂L/∂p
    in one cell (his ∂L/∂w1 = 0.000438568 is 4.39 × 10⁻⁴ by hand)."""
    handout, mazur = _solved("handout")[3], _solved("mazur")[3]
    assert r"| $w_{1}$ | $0.0001 \times 6.70 \times 10^{-4} = 6.70 \times 10^{-8}$ | " in handout
    assert r"$0.15 - 6.70 \times 10^{-8} = 0.149999933$ |" in handout
    # 0.15 − 0.5 × 0.000439 = 0.15 − 0.0002195 = 0.1497805
    assert r"| $w_{1}$ | $0.15 - 0.5 \times 4.39 \times 10^{-4} = 0.1497805$ |" in mazur


def test_the_default_style_follows_the_size() -> None:
    """Up to 24 weights and biases a network is written in full; above, compactly."""
    assert preset("handout").style is Style.FULL
    assert shape("3-4-3-3").style is Style.COMPACT and shape("4-8-8-3").style is Style.COMPACT
    graph = build_graph(shape("3-4-3-3"))
    assert any(isinstance(i, Table) for s in plan_for(shape("3-4-3-3"), graph).sections for i in s.items)


@pytest.mark.parametrize("name", NETWORKS)
def test_the_tables_convert_with_pandoc_without_warnings(name: str) -> None:
    """pandoc reads the compact solution's pipe tables and converts every formula in them."""
    run = _pandoc(_solved(name)[3])
    assert run.returncode == 0 and run.stderr == "", run.stderr
    assert run.stdout.count("<table") == len(tables(_solved(name)[3]))


@pytest.mark.parametrize("extra", [{}, ONE_HOT, SIGMOID_ZERO], ids=["relu", "one-hot", "zero-target"])
def test_quantities_zero_by_the_givens_are_said_in_the_tables(extra: dict[str, Any]) -> None:
    """Quantities a zero target makes 0 whatever the numbers (a cross-entropy term, a delta, the
    gradients through it): their cells print 0, a parameter they leave as it is keeps its value,
    and every other row still re-computes and shows the engine's value."""
    _, plan, values, solution = _solve(_plan_spec(**extra))
    check_lines(solution)
    check_tables(solution)
    _check_shown(plan, values, solution)
    if extra is SIGMOID_ZERO:  # ∂L/∂w5 = 0 through the output whose target is 0: w5 stays 0.5
        assert "| $w_{5}$ | $o_{1}$ | $0$ |" in solution and "| $w_{5}$ | $0.5$ |" in solution
        assert "A gradient of 0 leaves its parameter as it is: $w_{5}$, $w_{6}$ and $b_{3}$." in solution

"""The graph engine: batches, overrides, local recomputation and variant graphs."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from gradegen.core.graph import Formula, Graph, Group, Kind, Node, Role
from gradegen.core.network import build_graph
from gradegen.core.spec import Spec
from gradegen.errors import GradegenError


def tiny() -> Graph:
    """c = a·b, d = c + a."""
    nodes = (
        Node("a", Kind.GIVEN, Group.GIVENS, "a", "a", "a"),
        Node("b", Kind.GIVEN, Group.GIVENS, "b", "b", "b"),
        Node("c", Kind.FORWARD, Group.FORWARD, "c", "c", "product", ("a", "b"),
             lambda a, b: a * b, Formula("{0}{mul}{1}", "{0}{mul}{1}")),
        Node("d", Kind.FORWARD, Group.FORWARD, "d", "d", "sum", ("c", "a"),
             lambda c, a: c + a, Formula("{0} + {1}", "{0} + {1}")),
    )  # fmt: skip
    return Graph(nodes, {"a": 2.0, "b": 3.0})


def test_evaluate_uses_defaults() -> None:
    """Without givens, the spec's values are used."""
    v = tiny().evaluate()
    assert (v["c"][0], v["d"][0], v.batch) == (6.0, 8.0, 1)


def test_batch_of_givens() -> None:
    """Arrays of givens evaluate every variant at once; scalars broadcast."""
    v = tiny().evaluate({"a": np.array([1.0, 2.0, 3.0])})
    assert v["d"].tolist() == [4.0, 8.0, 12.0]
    assert v["b"].tolist() == [3.0, 3.0, 3.0]


def test_overrides_propagate_downstream() -> None:
    """An overridden node keeps its value and everything after it follows from it."""
    v = tiny().evaluate(overrides={"c": np.array([10.0, 20.0])})
    assert v["c"].tolist() == [10.0, 20.0]
    assert v["d"].tolist() == [12.0, 22.0]


def test_recompute_has_no_propagation() -> None:
    """recompute gives each node from its parents as given, even if the node itself was given."""
    out = tiny().recompute({"a": 2.0, "b": 3.0, "c": 100.0})
    assert out["c"][0] == 6.0
    assert out["d"][0] == 102.0


def test_hand_built_graph_has_no_roles() -> None:
    """Nodes built without a role (scripts, tests) are found by id only, never by a role lookup."""
    graph = tiny()
    assert graph.with_role(Role.INPUT) == () and graph.ids_of(Role.WEIGHTED_SUM) == ()
    assert graph.find(Role.LOSS) is None and graph.find(Role.DELTA, unit="c") is None
    with pytest.raises(KeyError, match="no loss node"):
        graph.node_of(Role.LOSS)


def test_mismatched_batches_are_refused() -> None:
    """Two different batch sizes cannot be evaluated together."""
    with pytest.raises(GradegenError, match="batch sizes disagree"):
        tiny().evaluate({"a": np.ones(2), "b": np.ones(3)})


def test_unknown_given_is_refused() -> None:
    """Only givens can be passed as givens."""
    with pytest.raises(KeyError, match="not a given"):
        tiny().evaluate({"c": 1.0})


def test_nodes_must_come_after_their_parents() -> None:
    """A graph whose order is not topological is refused."""
    a, b, c, d = tiny().nodes
    with pytest.raises(GradegenError, match="depends on a later node"):
        Graph((a, b, d, c), {"a": 1.0, "b": 1.0})


def test_replace_reorders_a_variant(mazur: Spec) -> None:
    """A variant using an updated weight in a hidden gradient is re-sorted and evaluates."""
    graph = build_graph(mazur)
    node = graph["dL_da_h1"]
    variant = graph.replace(dataclasses.replace(node, parents=("dL_dz_o1", "w5_new", "dL_dz_o2", "w7_new")))
    order = variant.ids
    assert order.index("w5_new") < order.index("dL_da_h1")
    v = variant.evaluate()
    expected = v["dL_dz_o1"][0] * v["w5_new"][0] + v["dL_dz_o2"][0] * v["w7_new"][0]
    assert v["dL_da_h1"][0] == pytest.approx(expected, rel=1e-15)
    assert v["dL_da_h1"][0] != pytest.approx(graph.evaluate()["dL_da_h1"][0], rel=1e-6)


def test_replace_rejects_cycles(handout: Spec) -> None:
    """A variant that would depend on its own descendants is refused."""
    graph = build_graph(handout)
    with pytest.raises(GradegenError, match="cycle"):
        graph.replace(dataclasses.replace(graph["z_h1"], parents=("a_out",), fn=lambda a: a))


def test_downstream(handout: Spec) -> None:
    """downstream lists every node that depends on a quantity."""
    down = build_graph(handout).downstream(["a_h1"])
    assert {"z_out", "a_out", "loss", "dL_dw5", "dL_dw1", "w1_new"} <= down
    assert "a_h2" not in down and "z_h2" not in down and "x1" not in down


def test_formula_renders_symbols_and_numbers(handout: Spec) -> None:
    """One template renders symbolically and with numbers substituted."""
    graph = build_graph(handout)
    node = graph["z_h1"]
    symbols = [graph[p].symbol for p in node.parents]
    assert node.formula is not None
    assert node.formula.render(symbols) == r"x_{1} \cdot w_{1} + x_{2} \cdot w_{2} + b_{1}"
    assert node.formula.render(["0.05", "0.15", "0.10", "0.20", "0.35"], numbers=True) == (
        r"0.05 \times 0.15 + 0.10 \times 0.20 + 0.35"
    )
    assert node.formula.render(["x1", "w1", "x2", "w2", "b1"], latex=False) == "x1·w1 + x2·w2 + b1"


def test_every_formula_renders(deep_softmax: Spec, handout: Spec, mazur: Spec) -> None:
    """Every node's formula fills all its parents' places, in LaTeX and text."""
    for spec in (deep_softmax, handout, mazur):
        graph = build_graph(spec)
        for node in graph.nodes:
            if node.formula is None:
                continue
            names = [f"<{p}>" for p in node.parents]
            for latex in (True, False):
                text = node.formula.render(names, latex=latex)
                assert all(name in text for name in names), (node.id, text)

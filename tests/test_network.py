"""The graph of a training step: published values, and gradients against finite differences."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from tests_support import flat_parameters, reference_loss

from gradegen.core.graph import Group, Kind, Role
from gradegen.core.network import build_graph, unit_names
from gradegen.core.spec import Spec, parse_spec

# --------------------------------------------------------------------------- published values


@pytest.mark.parametrize(
    ("qid", "value"),
    [
        ("z_h1", 0.3775),
        ("z_h2", 0.3925),
        ("a_h1", 0.5933),
        ("a_h2", 0.5969),
        ("z_out", 1.1059),
        ("a_out", 0.7514),
        ("loss", 0.2748),
        ("dL_da_out", 0.7414),
        ("da_out_dz_out", 0.1868),
        ("dL_dz_out", 0.1385),
        ("dL_dw5", 0.0822),
        ("dL_dw6", 0.0827),
        ("dL_db2", 0.1385),
        ("da_h1_dz_h1", 0.2413),
        ("dL_db1", 0.0284),
    ],
)
def test_handout_values_at_four_places(handout: Spec, qid: str, value: float) -> None:
    """The handout's correct values: exact values round to them, and so do hand values."""
    graph = build_graph(handout)
    assert round(graph.evaluate()[qid][0], 4) == pytest.approx(value, abs=1e-12)
    assert graph.evaluate(hand=True)[qid][0] == pytest.approx(value, abs=1e-12)


@pytest.mark.parametrize(
    ("qid", "exact5", "hand"),
    [
        ("dL_dw1", 0.00067, "6.70 × 10⁻⁴"),
        ("dL_dw3", 0.00075, "7.50 × 10⁻⁴"),
        ("dL_dw4", 0.0015, "1.50 × 10⁻³"),
    ],
)
def test_handout_small_gradients_keep_three_figures(
    handout: Spec, qid: str, exact5: float, hand: str
) -> None:
    """∂L/∂w1, ∂L/∂w3 and ∂L/∂w4 (positive, unlike the handout's slip) keep 3 significant figures."""
    graph = build_graph(handout)
    exact = graph.evaluate()[qid][0]
    assert exact > 0
    assert round(exact, 5) == pytest.approx(exact5, abs=1e-12)
    values = graph.evaluate(hand=True)
    assert values[qid][0] == pytest.approx(exact5, abs=1e-15)
    assert values.text(qid) == hand


def test_handout_new_w5_shows_the_step(handout: Spec) -> None:
    """The right new w5 is 0.40 − 0.0001 × 0.0822 = 0.39999178, not the handout's 0.399927."""
    graph = build_graph(handout)
    hand = graph.evaluate(hand=True)
    assert hand.text("w5_new") == "0.39999178"
    assert graph.evaluate()["w5_new"][0] == pytest.approx(0.4 - 0.0001 * 0.08216704, abs=1e-11)


def test_handout_hand_chain_matches_the_handout_steps(handout: Spec) -> None:
    """Hand values follow the handout's own rounding steps: 0.7414 × 0.1868 = 0.1385, × 0.40 = 0.0554
    (behind the hidden layer in scientific notation, 3 figures: 5.54 × 10⁻², × 0.2413 = 1.34 × 10⁻²)."""
    hand = build_graph(handout).evaluate(hand=True)
    assert hand.text("dL_dz_out") == "0.1385"
    assert hand.text("dL_da_h1") == "5.54 × 10⁻²" and hand["dL_da_h1"][0] == 0.0554
    assert hand.text("dL_dz_h1") == "1.34 × 10⁻²" and hand["dL_dz_h1"][0] == 0.0134
    assert hand.text("dL_dw1") == "6.70 × 10⁻⁴" and hand["dL_dw1"][0] == 0.00067
    assert hand.text("step_w1") == "6.70 × 10⁻⁸" and hand["step_w1"][0] == 6.7e-8
    assert hand.text("w1_new") == "0.149999933" and hand["w1_new"][0] == 0.149999933


def test_mazur_published_values(mazur: Spec) -> None:
    """The classic 2-2-2 walkthrough's published loss and updated weights."""
    values = build_graph(mazur).evaluate()
    assert values["loss"][0] == pytest.approx(0.298371109, abs=5e-10)
    assert values["w5_new"][0] == pytest.approx(0.35891648, abs=5e-9)
    assert values["w6_new"][0] == pytest.approx(0.408666186, abs=5e-10)
    assert values["w1_new"][0] == pytest.approx(0.149780716, abs=5e-10)
    assert values["loss_o1"][0] == pytest.approx(0.274811083, abs=5e-10)
    assert values["loss_o2"][0] == pytest.approx(0.023560026, abs=5e-10)


def test_mazur_leaves_biases_alone(mazur: Spec) -> None:
    """With update_biases false there are bias gradients but no updated biases."""
    graph = build_graph(mazur)
    assert "dL_db1" in graph and "dL_db2" in graph
    assert "b1_new" not in graph and "b2_new" not in graph


# --------------------------------------------------------------------------- structure and ids


def test_handout_ids_in_graph_order(handout: Spec) -> None:
    """The public ids of the handout network, in the order a worksheet asks them; the forward
    pass after the update comes last."""
    graph = build_graph(handout)
    computed = [n.id for n in graph.nodes if n.kind is not Kind.GIVEN]
    assert computed[:7] == ["z_h1", "z_h2", "a_h1", "a_h2", "z_out", "a_out", "loss"]
    assert computed[7:10] == ["dL_da_out", "da_out_dz_out", "dL_dz_out"]
    assert [i for i in computed if i.startswith("dL_dw")] == [
        "dL_dw5", "dL_dw6", "dL_dw1", "dL_dw2", "dL_dw3", "dL_dw4",
    ]  # fmt: skip
    assert computed[-16:-8] == [f"w{k}_new" for k in range(1, 7)] + ["b1_new", "b2_new"]
    after = [f"{i}_after" for i in ("z_h1", "z_h2", "a_h1", "a_h2", "z_out", "a_out", "loss")]
    assert computed[-8:] == [*after, "loss_decrease"]
    assert graph.givens == (
        "x1", "x2", "y", "w1", "w2", "w3", "w4", "w5", "w6", "b1", "b2", "lr",
    )  # fmt: skip


def test_groups_cover_every_question(handout: Spec) -> None:
    """Output-layer factors and gradients are output_gradients; hidden ones hidden_gradients."""
    graph = build_graph(handout)
    assert graph["dL_dw5"].group is Group.OUTPUT_GRADIENTS
    assert graph["da_out_dz_out"].group is Group.OUTPUT_GRADIENTS
    assert graph["dL_dw1"].group is Group.HIDDEN_GRADIENTS
    assert graph["dL_db1"].group is Group.HIDDEN_GRADIENTS
    assert graph["w1_new"].group is Group.UPDATES
    assert graph["loss"].group is Group.LOSS


def test_unit_names_for_deep_and_named_layers(deep_softmax: Spec) -> None:
    """Several hidden layers are h1_1…, h2_1…; a layer's name replaces its prefix."""
    assert unit_names(deep_softmax) == [["h1_1", "h1_2", "h1_3"], ["h2_1", "h2_2"], ["o1", "o2", "o3"]]
    data = deep_softmax.to_data()
    data["layers"][0]["name"] = "g"
    assert unit_names(parse_spec(data))[0] == ["g1", "g2", "g3"]


# --------------------------------------------------------------------------- roles: nodes say what they are

# The handout's ids by role, in graph order, written out from the README's numbering.
HANDOUT_ROLES = {
    Role.INPUT: ["x1", "x2"],
    Role.TARGET: ["y"],
    Role.WEIGHT: ["w1", "w2", "w3", "w4", "w5", "w6"],
    Role.BIAS: ["b1", "b2"],
    Role.LEARNING_RATE: ["lr"],
    Role.WEIGHTED_SUM: ["z_h1", "z_h2", "z_out"],
    Role.ACTIVATION: ["a_h1", "a_h2", "a_out"],
    Role.LOSS_TERM: [],
    Role.LOSS: ["loss"],
    Role.DL_DA: ["dL_da_out", "dL_da_h1", "dL_da_h2"],
    Role.DA_DZ: ["da_out_dz_out", "da_h1_dz_h1", "da_h2_dz_h2"],
    Role.DELTA: ["dL_dz_out", "dL_dz_h1", "dL_dz_h2"],
    Role.WEIGHT_GRADIENT: ["dL_dw5", "dL_dw6", "dL_dw1", "dL_dw2", "dL_dw3", "dL_dw4"],
    Role.BIAS_GRADIENT: ["dL_db2", "dL_db1"],
    Role.STEP: ["step_w1", "step_w2", "step_w3", "step_w4", "step_w5", "step_w6", "step_b1", "step_b2"],
    Role.UPDATE: ["w1_new", "w2_new", "w3_new", "w4_new", "w5_new", "w6_new", "b1_new", "b2_new"],
    Role.AFTER_WEIGHTED_SUM: ["z_h1_after", "z_h2_after", "z_out_after"],
    Role.AFTER_ACTIVATION: ["a_h1_after", "a_h2_after", "a_out_after"],
    Role.AFTER_LOSS_TERM: [],
    Role.AFTER_LOSS: ["loss_after"],
    Role.LOSS_DECREASE: ["loss_decrease"],
    Role.STEP_LOSS: [],
    Role.FINAL_PARAMETER: [],
}


@pytest.mark.parametrize("role", list(Role))
def test_handout_nodes_by_role(handout: Spec, role: Role) -> None:
    """Each role's nodes of the handout network, in graph order; every node has exactly one role."""
    graph = build_graph(handout)
    assert list(graph.ids_of(role)) == HANDOUT_ROLES[role]
    assert sum(len(ids) for ids in HANDOUT_ROLES.values()) == len(graph)


def test_a_role_decides_the_kind(deep_softmax: Spec) -> None:
    """A node's kind (how it is rounded by hand) follows from its role."""
    graph = build_graph(deep_softmax)
    assert all(n.role is not None and n.kind is n.role.kind for n in graph)
    assert {r.kind for r in (Role.INPUT, Role.TARGET, Role.WEIGHT, Role.BIAS, Role.LEARNING_RATE)} == {
        Kind.GIVEN
    }
    assert (Role.DELTA.kind, Role.LOSS_TERM.kind, Role.BIAS_GRADIENT.kind) == (
        Kind.FACTOR,
        Kind.LOSS,
        Kind.GRADIENT,
    )


@pytest.mark.parametrize(
    ("qid", "role", "layer", "unit", "param"),
    [
        ("x2", Role.INPUT, None, "x2", None),
        ("y", Role.TARGET, 1, "out", None),
        ("w3", Role.WEIGHT, 0, "h2", "w3"),  # w3 is the first weight into h2
        ("w6", Role.WEIGHT, 1, "out", "w6"),
        ("b1", Role.BIAS, 0, None, "b1"),  # shared by h1 and h2: no one unit
        ("lr", Role.LEARNING_RATE, None, None, None),
        ("z_h2", Role.WEIGHTED_SUM, 0, "h2", None),
        ("a_out", Role.ACTIVATION, 1, "out", None),
        ("loss", Role.LOSS, None, None, None),
        ("dL_da_h1", Role.DL_DA, 0, "h1", None),
        ("da_out_dz_out", Role.DA_DZ, 1, "out", None),
        ("dL_dz_h2", Role.DELTA, 0, "h2", None),
        ("dL_dw4", Role.WEIGHT_GRADIENT, 0, "h2", "w4"),
        ("dL_db2", Role.BIAS_GRADIENT, 1, None, "b2"),
        ("w5_new", Role.UPDATE, 1, "out", "w5"),
        ("b1_new", Role.UPDATE, 0, None, "b1"),
    ],
)
def test_handout_node_knows_its_layer_unit_and_parameter(
    handout: Spec, qid: str, role: Role, layer: int | None, unit: str | None, param: str | None
) -> None:
    """Role, layer (index into the spec's layers), unit and parameter of one node of each role."""
    node = build_graph(handout)[qid]
    assert (node.role, node.layer, node.unit, node.param) == (role, layer, unit, param)


def test_deep_network_roles_by_layer(deep_softmax: Spec) -> None:
    """Two hidden layers and a softmax: per-output loss terms and targets, layers by index."""
    graph = build_graph(deep_softmax)
    assert graph.ids_of(Role.LOSS_TERM) == ("loss_o1", "loss_o2", "loss_o3")
    assert [graph[t].unit for t in graph.ids_of(Role.TARGET)] == ["o1", "o2", "o3"]
    assert graph.ids_of(Role.WEIGHTED_SUM, layer=1) == ("z_h2_1", "z_h2_2")
    assert graph.ids_of(Role.WEIGHT, layer=1) == tuple(f"w{k}" for k in range(7, 13))
    assert graph.ids_of(Role.BIAS, layer=1) == ("b4",)  # one bias shared by the layer
    assert graph.ids_of(Role.BIAS, layer=2) == ("b5", "b6", "b7")
    # softmax with cross-entropy: the output deltas are computed directly, no ∂L/∂ŷ or σ′
    assert graph.ids_of(Role.DL_DA) == ("dL_da_h2_1", "dL_da_h2_2", "dL_da_h1_1", "dL_da_h1_2", "dL_da_h1_3")
    assert graph.ids_of(Role.DA_DZ, layer=2) == ()
    assert graph["b6"].unit == "o2" and graph["dL_db6"].unit == "o2"  # per-neuron biases have a unit


def test_lookups_by_unit_and_parameter(handout: Spec, deep_softmax: Spec) -> None:
    """node_of and find answer by role and unit or parameter; a missing node is None or a KeyError."""
    graph = build_graph(handout)
    assert graph.node_of(Role.DELTA, "h1").id == "dL_dz_h1"
    assert graph.node_of(Role.WEIGHTED_SUM, "out").id == "z_out"
    assert graph.node_of(Role.LEARNING_RATE).id == "lr"
    assert graph.node_of(Role.LOSS).id == "loss"
    assert graph.node_of(Role.UPDATE, param="w2").id == "w2_new"
    assert graph.node_of(Role.WEIGHT_GRADIENT, "h2", param="w3").id == "dL_dw3"
    assert graph.find(Role.WEIGHT_GRADIENT, unit="h1", param="w3") is None  # w3 feeds h2
    assert graph.find(Role.WEIGHT, unit="h2") is graph["w3"]  # the first of the unit's weights
    assert graph.find(Role.DELTA, unit="o1") is None
    assert graph.find(Role.LOSS_TERM) is None
    assert graph.gradients == {p: f"dL_d{p}" for p in graph.parameters}
    with pytest.raises(KeyError, match="no delta node for unit o1"):
        graph.node_of(Role.DELTA, "o1")
    deep = build_graph(deep_softmax)
    assert deep.find(Role.DA_DZ, unit="o1") is None
    assert deep.node_of(Role.DA_DZ, "h2_2").id == "da_h2_2_dz_h2_2"
    assert deep.with_role(Role.BIAS_GRADIENT, Role.UPDATE, layer=1) == (
        deep["dL_db4"], *(deep[f"w{k}_new"] for k in range(7, 13)), deep["b4_new"],
    )  # fmt: skip


def test_softmax_cross_entropy_delta_is_prediction_minus_target(deep_softmax: Spec) -> None:
    """With softmax and cross-entropy ∂L/∂z = ŷ − y, and there is no per-unit σ′ node."""
    graph = build_graph(deep_softmax)
    v = graph.evaluate()
    for k in (1, 2, 3):
        assert v[f"dL_dz_o{k}"][0] == pytest.approx(v[f"a_o{k}"][0] - v[f"y{k}"][0], abs=1e-15)
        assert f"da_o{k}_dz_o{k}" not in graph
    assert sum(v[f"a_o{k}"][0] for k in (1, 2, 3)) == pytest.approx(1.0, abs=1e-15)


def test_shared_bias_gradient_sums_its_neurons(handout: Spec) -> None:
    """A shared bias's gradient is the sum of the deltas of the neurons it feeds (the handout's b1)."""
    v = build_graph(handout).evaluate()
    assert v["dL_db1"][0] == pytest.approx(v["dL_dz_h1"][0] + v["dL_dz_h2"][0], abs=1e-17)


def test_weight_decay_adds_lambda_w(handout: Spec) -> None:
    """Weight decay λ adds λ·w to each weight's gradient and leaves biases alone."""
    plain = build_graph(handout).evaluate()
    decayed = build_graph(handout.model_copy(update={"weight_decay": 0.01})).evaluate()
    assert decayed["dL_dw5"][0] == pytest.approx(plain["dL_dw5"][0] + 0.01 * 0.40, abs=1e-15)
    assert decayed["dL_db2"][0] == plain["dL_db2"][0]


# --------------------------------------------------------------------------- finite differences

ACTIVATIONS = ["sigmoid", "tanh", "relu", "leaky_relu", "linear"]
LOSSES = ["half_mse", "sse", "mse", "bce", "cross_entropy"]


@st.composite
def networks(draw: Any) -> dict[str, Any]:
    """Random valid specs: 0–3 hidden layers, widths 1–3, every activation, loss and bias mode."""
    number = st.floats(-1.0, 1.0, allow_nan=False).map(lambda v: round(v, 3))
    n_in = draw(st.integers(1, 3))
    hidden = draw(st.lists(st.integers(1, 3), min_size=0, max_size=3))
    loss = draw(st.sampled_from(LOSSES))
    n_out = draw(st.integers(2 if loss == "cross_entropy" else 1, 3))
    if loss in ("bce", "cross_entropy"):
        out_act = draw(st.sampled_from(["sigmoid", "softmax"] if n_out > 1 else ["sigmoid"]))
    else:
        out_act = draw(st.sampled_from([*ACTIVATIONS, *(["softmax"] if n_out > 1 else [])]))
    if loss == "cross_entropy":
        raw = draw(st.lists(st.floats(0.05, 1.0), min_size=n_out, max_size=n_out))
        targets = [r / sum(raw) for r in raw]
        targets[-1] = 1.0 - sum(targets[:-1])
    elif loss == "bce":
        targets = draw(st.lists(st.floats(0.0, 1.0), min_size=n_out, max_size=n_out))
    else:
        targets = draw(st.lists(number, min_size=n_out, max_size=n_out))
    layers = []
    fan_in = n_in
    for size, is_out in [*((h, False) for h in hidden), (n_out, True)]:
        act = out_act if is_out else draw(st.sampled_from(ACTIVATIONS))
        weights = [draw(st.lists(number, min_size=fan_in, max_size=fan_in)) for _ in range(size)]
        shared = draw(st.booleans())
        bias: Any = draw(number) if shared else draw(st.lists(number, min_size=size, max_size=size))
        layers.append({"activation": act, "weights": weights, "bias": bias, "slope": 0.05})
        fan_in = size
    return {
        "inputs": draw(st.lists(number, min_size=n_in, max_size=n_in)),
        "targets": targets,
        "layers": layers,
        "loss": loss,
        "learning_rate": draw(st.sampled_from([0.5, 0.1, 0.0001])),
        "update_biases": draw(st.booleans()),
        "weight_decay": draw(st.sampled_from([0.0, 0.0, 0.01])),
    }


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks())
def test_gradients_match_central_differences(data: dict[str, Any]) -> None:
    """Every dL_dw and dL_db agrees with central differences of an independent numpy forward pass."""
    spec = parse_spec(data)
    flat = flat_parameters(spec)
    _, zs = reference_loss(spec, flat)
    kinked = [layer.activation.value in ("relu", "leaky_relu") for layer in spec.layers]
    # ReLU has no derivative at 0: keep the differences away from the kink.
    assume(all(not k or np.min(np.abs(z)) > 1e-3 for k, z in zip(kinked, zs, strict=True)))
    graph = build_graph(spec)
    values = graph.evaluate()
    ids = list(graph.parameters)
    h = 1e-6
    lam = spec.weight_decay
    for k, pid in enumerate(ids):
        up, down = flat.copy(), flat.copy()
        up[k] += h
        down[k] -= h
        numeric = (reference_loss(spec, up)[0] - reference_loss(spec, down)[0]) / (2 * h)
        if pid.startswith("w"):
            numeric += lam * flat[k]
        analytic = values[f"dL_d{pid}"][0]
        assert math.isclose(analytic, numeric, rel_tol=1e-5, abs_tol=1e-7), (pid, analytic, numeric)
    assert values["loss"][0] == pytest.approx(reference_loss(spec, flat)[0], rel=1e-12, abs=1e-14)
    for pid, new in graph.updates.items():
        expected = values[pid][0] - spec.learning_rate * values[f"dL_d{pid}"][0]
        assert values[new][0] == pytest.approx(expected, rel=1e-15, abs=1e-15)


@settings(max_examples=40, deadline=None)
@given(networks())
def test_batched_evaluation_equals_one_at_a_time(data: dict[str, Any]) -> None:
    """Evaluating many variants in one batch gives each variant's values exactly."""
    spec = parse_spec(data)
    graph = build_graph(spec)
    rng = np.random.default_rng(7)
    batch = {pid: graph.defaults[pid] + rng.uniform(-0.2, 0.2, size=5) for pid in graph.parameters}
    together = graph.evaluate(batch)
    for i in range(5):
        alone = graph.evaluate({pid: v[i] for pid, v in batch.items()})
        for qid in graph.ids:
            assert np.array_equal(together[qid][i], alone[qid][0], equal_nan=True), qid

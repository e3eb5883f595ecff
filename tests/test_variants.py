"""Per-student variants: the randomize section, constraints, reproducibility and keys."""

from __future__ import annotations

import io
import json
import math
from typing import Any

import numpy as np
import pytest
from conftest import deep_softmax_data
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from gradegen.core.classkeys import ClassKeys
from gradegen.core.graph import Kind, Values
from gradegen.core.network import build_graph
from gradegen.core.spec import Draw, Loss, Spec, parse_spec
from gradegen.errors import GradegenError, SpecError
from gradegen.progress import progress
from gradegen.variants.defaults import default_randomize
from gradegen.variants.draw import VariantSet, keys_document, make_variants
from gradegen.variants.streams import fingerprint, indices, student_keys, uniforms

ROSTER = [f"student{k:03d}@uni.example" for k in range(200)]


def with_randomize(spec: Spec, randomize: dict[str, Any], **changes: Any) -> Spec:
    return parse_spec({**spec.to_data(), **changes, "randomize": randomize})


def numbers(vs: VariantSet, i: int) -> tuple[float, ...]:
    return tuple(vs.givens_for(i).values())


def has_decimals(x: float, places: int) -> bool:
    return math.isclose(round(x * 10**places), x * 10**places, abs_tol=1e-6)


def check_variant(spec: Spec, *, max_abs_z: float = 4.0, min_loss: float = 1e-3) -> tuple[Values, Values]:
    """Every constraint, checked on a fresh evaluation of the student's own spec (not the generator's)."""
    spec = parse_spec(spec.to_data())  # the student's spec is itself a valid spec
    graph = build_graph(spec)
    exact = graph.evaluate()
    hand = graph.evaluate(hand=True)
    floor = 10.0 ** -(spec.decimals + 2)
    # a bias shared by a softmax layer always has gradient 0: softmax ignores a common shift
    shift = set()
    number = 0
    for layer in spec.layers:
        number += len(layer.biases())
        if layer.shared_bias and layer.activation == "softmax":
            shift |= {f"dL_db{number}", f"b{number}_new"}
    for node in graph.nodes:
        value = float(exact[node.id][0])
        assert math.isfinite(value), node.id
        if node.id.startswith("z_"):
            assert abs(value) <= max_abs_z, (node.id, value)
        if node.id in shift:
            assert abs(value) < 1e-12 or node.kind is Kind.UPDATE
            continue
        if node.kind in (Kind.GRADIENT, Kind.FACTOR):
            assert abs(value) >= floor, (node.id, value)
            assert float(hand[node.id][0]) != 0, node.id
        if node.kind is Kind.UPDATE:
            assert float(hand[node.id][0]) != float(hand[node.param][0]), node.id
    assert float(exact["loss"][0]) >= min_loss
    for layer in spec.layers:
        weights = [w for row in layer.weights for w in row]
        assert len(set(weights)) == len(weights), weights
    if spec.loss is Loss.CROSS_ENTROPY:
        assert all(0 <= t <= 1 for t in spec.targets)
        assert math.isclose(sum(spec.targets), 1.0, abs_tol=1e-9)
    return exact, hand


# --------------------------------------------------------------------------- a class of 200


@pytest.mark.parametrize("fixture", ["handout", "mazur", "deep_softmax"])
def test_200_students_meet_every_constraint(fixture: str, request: pytest.FixtureRequest) -> None:
    """200 roster ids give 200 distinct variants, each meeting every constraint when re-solved alone."""
    spec: Spec = request.getfixturevalue(fixture)
    vs = make_variants(spec, ROSTER, seed="fall-2026")
    assert len(vs) == 200 and vs.ids == tuple(ROSTER)
    assert len({numbers(vs, i) for i in range(200)}) == 200
    for i in range(200):
        exact, hand = check_variant(vs.spec_for(i))
        # the batched key agrees with the student's spec solved on its own
        key = vs.key_for(i)
        for qid, answer in key.values.items():
            assert answer.exact == pytest.approx(float(exact[qid][0]), rel=1e-12, abs=1e-15)
            assert answer.hand == float(hand[qid][0]), qid


def wide_data() -> dict[str, Any]:
    """A 4-8-8-3 network, all weights positive, shared biases (also on the softmax layer)."""
    rows = [[round(0.1 + 0.01 * ((7 * r + 3 * c) % 80), 2) for c in range(4)] for r in range(8)]
    return {
        "inputs": [0.1, 0.2, 0.3, 0.4],
        "targets": [0, 1, 0],
        "loss": "cross_entropy",
        "learning_rate": 0.1,
        "layers": [
            {"activation": "sigmoid", "weights": rows, "bias": 0.3},
            {"activation": "sigmoid", "weights": [[0.5] * 8] * 8, "bias": 0.3},
            {"activation": "softmax", "weights": [[0.5] * 8] * 3, "bias": 0.3},
        ],
    }


def test_wide_network_defaults() -> None:
    """A layer fed by 8 units gets symmetric weights, all different within each layer, unsaturated."""
    spec = parse_spec(wide_data())
    assert default_randomize(spec).weights == Draw(low=-0.9, high=0.9, decimals=2)
    vs = make_variants(spec, ROSTER[:30], seed="s")
    for i in range(30):
        student = vs.spec_for(i)
        check_variant(student)
        assert sorted(student.targets) == [0.0, 0.0, 1.0]
    huge = parse_spec(
        {
            **wide_data(),
            "layers": [
                {"activation": "sigmoid", "weights": [[0.5] * 4] * 50, "bias": 0.3},
                {"activation": "softmax", "weights": [[0.5] * 50] * 3, "bias": [0.1, 0.2, 0.3]},
            ],
        }
    )
    assert default_randomize(huge).weights.decimals == 3  # 200 weights need more than 181 values


def test_handout_style_numbers(handout: Spec) -> None:
    """By default the handout's structure is kept and its numbers are drawn at 2 places in range."""
    vs = make_variants(handout, ROSTER[:100], seed="s")
    for i in range(100):
        s = vs.spec_for(i)
        assert [layer.activation for layer in s.layers] == [layer.activation for layer in handout.layers]
        assert s.loss == handout.loss and s.learning_rate == handout.learning_rate
        assert s.layers[0].shared_bias and s.randomize is None
        for x in s.inputs:
            assert 0.05 <= x <= 0.95 and has_decimals(x, 2)
        for layer in s.layers:
            for w in (w for row in layer.weights for w in row):
                assert 0.10 <= w <= 0.90 and has_decimals(w, 2)
            assert 0.10 <= layer.bias <= 0.90 and has_decimals(layer.bias, 2)  # type: ignore[operator]
        assert 0.01 <= s.targets[0] <= 0.99 and has_decimals(s.targets[0], 2)


# --------------------------------------------------------------------------- reproducibility


def test_same_seed_same_numbers(handout: Spec) -> None:
    """The same spec, seed and id always give the same numbers and keys."""
    a = make_variants(handout, ROSTER[:30], seed="abc")
    b = make_variants(handout, ROSTER[:30], seed="abc")
    assert keys_document(a) == keys_document(b)


def test_grown_roster_keeps_everyones_numbers(handout: Spec) -> None:
    """Adding (and reordering) students changes nobody else's numbers."""
    small = make_variants(handout, ROSTER[:40], seed="abc")
    grown = make_variants(handout, list(reversed(ROSTER[:40])) + ROSTER[40:90], seed="abc")
    for i, student in enumerate(small.ids):
        assert numbers(small, i) == numbers(grown, grown.index(student))
        assert small.key_for(i) == grown.key_for(grown.index(student))


def test_different_seed_changes_numbers(handout: Spec) -> None:
    """Another seed gives (almost) everyone other numbers."""
    a = make_variants(handout, ROSTER[:50], seed="abc")
    b = make_variants(handout, ROSTER[:50], seed="abd")
    assert sum(numbers(a, i) != numbers(b, i) for i in range(50)) >= 49


def test_only_reproduces_the_full_run(deep_softmax: Spec) -> None:
    """Generating one student (--only) gives exactly that student's numbers, key and folder."""
    ids = [*ROSTER[:60], "a/b", "Alice", "alice"]
    full = make_variants(deep_softmax, ids, seed=7)
    for student in ["a/b", "alice", ROSTER[13]]:
        one = make_variants(deep_softmax, ids, seed=7, only=[student])
        i = full.index(student)
        assert one.ids == (student,) and one.folders == (full.folders[i],)
        assert numbers(one, 0) == numbers(full, i)
        assert one.key_for(0).to_dict() == full.key_for(i).to_dict()
        assert one.draws[0] == full.draws[i]


@settings(max_examples=25, deadline=None)
@given(
    seed=st.text(min_size=1, max_size=12),
    ids=st.lists(st.text(min_size=1, max_size=8), min_size=2, max_size=8, unique=True),
)
def test_numbers_depend_only_on_seed_spec_and_id(seed: str, ids: list[str]) -> None:
    """Property: a student's numbers are the same alone as in any class."""
    spec = parse_spec(deep_softmax_data())
    everyone = make_variants(spec, ids, seed=seed)
    last = make_variants(spec, ids[-1:], seed=seed)
    assert numbers(last, 0) == numbers(everyone, len(ids) - 1)


def test_cosmetic_fields_do_not_change_numbers(handout: Spec) -> None:
    """Fixing the title or the tolerances changes nobody's numbers; changing the network does."""
    base = make_variants(handout, ROSTER[:10], seed="abc")
    retitled = parse_spec({**handout.to_data(), "title": "Quiz 3", "tolerance": {"mode": "abs", "value": 1}})
    assert fingerprint(retitled) == fingerprint(handout)
    other = make_variants(retitled, ROSTER[:10], seed="abc")
    assert all(numbers(base, i) == numbers(other, i) for i in range(10))
    relu = parse_spec({**handout.to_data(), "decimals": 3})
    assert fingerprint(relu) != fingerprint(handout)


def test_seed_is_drawn_and_recorded(handout: Spec) -> None:
    """Without a seed a fresh secret one is drawn and recorded; an int seed is used as text."""
    a = make_variants(handout, ["x"])
    b = make_variants(handout, ["x"])
    assert len(a.seed) == 32 and a.seed != b.seed
    assert make_variants(handout, ["x"], seed=42).seed == "42"
    assert keys_document(make_variants(handout, ["x"], seed=42)) == keys_document(
        make_variants(handout, ["x"], seed="42")
    )


def test_keys_are_keyed_by_seed() -> None:
    """The per-student generator keys are an HMAC under the seed: they change with it, per student."""
    spec = parse_spec(deep_softmax_data())
    k1 = student_keys("seed-1", spec, ["a", "b"])
    k2 = student_keys("seed-2", spec, ["a", "b"])
    assert not np.array_equal(k1, k2) and not np.array_equal(k1[0], k1[1])
    u = uniforms(k1, 0, 5)
    assert u.shape == (2, 5) and ((u >= 0) & (u < 1)).all()
    assert not np.array_equal(uniforms(k1, 1, 5), u)


@settings(max_examples=40, deadline=None)
@given(
    count=st.integers(1, 60),
    k=st.integers(1, 30),
    rows=st.integers(1, 20),
    seed=st.integers(0, 2**32 - 1),
)
def test_distinct_indices(count: int, k: int, rows: int, seed: int) -> None:
    """Property: one layer's weights are drawn without repeats whenever there are enough values."""
    u = np.random.default_rng(seed).random((rows, k))
    picks = indices(u, count, distinct=True)
    assert picks.shape == (rows, k) and picks.min() >= 0 and picks.max() < count
    if k <= count:
        assert all(len(set(row)) == k for row in picks.tolist())


def test_distinct_indices_are_uniform() -> None:
    """Every ordered pair of 2 out of 3 values is equally likely (no bias from avoiding repeats)."""
    u = np.random.default_rng(5).random((60_000, 2))
    _, counts = np.unique(indices(u, 3, distinct=True), axis=0, return_counts=True)
    assert len(counts) == 6 and counts.min() > 0.95 * 10_000 and counts.max() < 1.05 * 10_000


# --------------------------------------------------------------------------- randomize settings


def test_ranges_and_choices_are_respected(handout: Spec) -> None:
    """Given ranges, choices and decimals decide the numbers drawn."""
    spec = with_randomize(
        handout,
        {
            "inputs": {"low": 0.1, "high": 0.5, "decimals": 1},
            "weights": {"choices": [0.15, 0.2, 0.25, 0.3, 0.35, 0.4]},
            "biases": {"keep": True},
            "learning_rate": {"choices": [0.5, 0.1]},
        },
    )
    vs = make_variants(spec, ROSTER[:50], seed="s")
    rates = set()
    for i in range(50):
        s = vs.spec_for(i)
        assert all(x in (0.1, 0.2, 0.3, 0.4, 0.5) for x in s.inputs)
        assert all(
            w in (0.15, 0.2, 0.25, 0.3, 0.35, 0.4) for layer in s.layers for row in layer.weights for w in row
        )
        assert [layer.bias for layer in s.layers] == [0.35, 0.6]
        rates.add(s.learning_rate)
        check_variant(s)
    assert rates == {0.5, 0.1}


def test_softmax_targets_stay_a_distribution(deep_softmax: Spec) -> None:
    """Cross-entropy targets are drawn as distributions at the spec's places (here 1) summing to 1."""
    vs = make_variants(deep_softmax, ROSTER[:100], seed="s")
    seen = set()
    for i in range(100):
        targets = vs.spec_for(i).targets
        assert all(0 <= t <= 1 and has_decimals(t, 1) for t in targets)
        assert math.isclose(sum(targets), 1.0, abs_tol=1e-9)
        seen.add(targets)
    assert len(seen) > 10


def test_one_hot_targets(deep_softmax: Spec) -> None:
    """decimals 0 (or one-hot targets in the spec) gives one-hot targets with a random class."""
    spec = with_randomize(deep_softmax, {"targets": {"decimals": 0}})
    vs = make_variants(spec, ROSTER[:60], seed="s")
    classes = {vs.spec_for(i).targets.index(1.0) for i in range(60)}
    assert classes == {0, 1, 2}
    assert all(sorted(vs.spec_for(i).targets) == [0.0, 0.0, 1.0] for i in range(60))
    one_hot = parse_spec({**deep_softmax.to_data(), "targets": [0, 1, 0]})
    assert default_randomize(one_hot).targets == Draw(decimals=0)


def test_defaults_follow_the_spec(handout: Spec, deep_softmax: Spec) -> None:
    """Defaults: handout-style ranges, symmetric where the spec has negatives, bce labels and lr kept."""
    r = default_randomize(handout)
    assert r.weights == Draw(low=0.1, high=0.9, decimals=2)
    assert r.inputs == Draw(low=0.05, high=0.95, decimals=2)
    assert r.targets == Draw(low=0.01, high=0.99, decimals=2)
    assert r.learning_rate == Draw(keep=True)
    d = default_randomize(deep_softmax)
    assert d.weights == Draw(low=-0.9, high=0.9, decimals=2) and d.targets == Draw(decimals=1)
    bce = parse_spec({**handout.to_data(), "loss": "bce", "targets": [1]})
    assert default_randomize(bce).targets == Draw(keep=True)
    vs = make_variants(bce, ROSTER[:20], seed="s")
    assert all(vs.spec_for(i).targets == (1.0,) for i in range(20))
    unbiased = parse_spec(
        {
            **handout.to_data(),
            "layers": [{**layer.model_dump(mode="json"), "bias": 0} for layer in handout.layers],
        }
    )
    assert default_randomize(unbiased).biases == Draw(keep=True)
    own = with_randomize(handout, {"weights": {"low": 0.2, "high": 0.3}, "max_abs_z": 3})
    assert default_randomize(own).weights == Draw(low=0.2, high=0.3)
    assert default_randomize(own).max_abs_z == 3 and default_randomize(own).inputs == r.inputs


def test_asked_limits_the_visibility_check(handout: Spec) -> None:
    """Only asked quantities must be visible; keys hold just the asked ids, in graph order."""
    vs = make_variants(handout, ROSTER[:20], seed="s", asked="loss,dL_dw5")
    assert vs.asked == ("loss", "dL_dw5")
    assert vs.key_for(0).asked == ("loss", "dL_dw5")


# --------------------------------------------------------------------------- impossible constraints


@pytest.mark.parametrize(
    ("randomize", "fragment"),
    [
        ({"max_abs_z": 0.01}, "max_abs_z (no saturated unit: |z| ≤ 0.01) for 20"),
        ({"weights": {"low": 5, "high": 9}}, "max_abs_z"),
        ({"weights": {"choices": [0.5]}}, "distinct_weights (no two weights in a layer equal) for 20"),
        ({"min_loss": 5}, "min_loss (loss ≥ 5) for 20"),
        ({"min_magnitude": 10}, "min_magnitude"),
    ],
)
def test_impossible_constraints(handout: Spec, randomize: dict[str, Any], fragment: str) -> None:
    """A spec whose constraints can't be met gives a SpecError naming the constraint and the count."""
    spec = with_randomize(handout, randomize)
    with pytest.raises(SpecError, match="20 of 20 variants still break a constraint after 50 draws") as info:
        make_variants(spec, ROSTER[:20], seed="s")
    assert fragment in str(info.value)


def test_nothing_drawn_fails_at_once(handout: Spec) -> None:
    """With every group kept there is only one draw to try, so an unmet constraint fails after 1."""
    keep = {"keep": True}
    spec = with_randomize(
        handout,
        {g: keep for g in ("inputs", "targets", "weights", "biases", "learning_rate")} | {"max_abs_z": 0.1},
        update_biases=True,
    )
    with pytest.raises(SpecError, match="after 1 draws: max_abs_z"):
        make_variants(spec, ["a", "b"], seed="s")


def test_few_draws_setting(handout: Spec) -> None:
    """max_draws bounds the attempts."""
    spec = with_randomize(handout, {"max_abs_z": 0.01, "max_draws": 3})
    with pytest.raises(SpecError, match="after 3 draws"):
        make_variants(spec, ["a"], seed="s")


def test_bad_student_lists(handout: Spec) -> None:
    """Duplicate ids, no ids and an --only id not on the roster are clear errors."""
    with pytest.raises(GradegenError, match="duplicate student id 'a'"):
        make_variants(handout, ["a", "b", "a"])
    with pytest.raises(GradegenError, match="no students"):
        make_variants(handout, [])
    with pytest.raises(GradegenError, match="--only: 'z' is not a student of the roster"):
        make_variants(handout, ["a"], only=["z"])
    vs = make_variants(handout, ["a"], seed="s")
    with pytest.raises(GradegenError, match="unknown student id 'q'"):
        vs.index("q")


# --------------------------------------------------------------------------- keys.json


def test_keys_document(handout: Spec) -> None:
    """keys.json (version 2 since issue 10) lists each student's givens in roster order, from which
    their own key follows; the seed is a string."""
    ids = ["zed", "amy", "bo"]
    vs = make_variants(handout, ids, seed=99, asked="forward,loss,updates")
    doc = keys_document(vs)
    assert doc["seed"] == "99" and list(doc["students"]) == ids
    assert doc["asked"] == list(vs.asked) and doc["givens"] == list(vs.graph.givens)
    back = ClassKeys.from_data(json.loads(json.dumps(doc)))
    for i, student in enumerate(ids):
        assert doc["students"][student] == list(vs.givens_for(i).values())
        key = back.key_for(student)
        assert key.asked == vs.asked
        assert key.spec == vs.spec_for(i)
        assert key.values["loss"].exact == float(vs.exact["loss"][i])
    only_loss = keys_document(vs, asked=["loss"])
    assert only_loss["asked"] == ["loss"]


# --------------------------------------------------------------------------- spec validation


def _error(handout: Spec, randomize: Any, **changes: Any) -> str:
    with pytest.raises(SpecError) as info:
        parse_spec({**handout.to_data(), **changes, "randomize": randomize})
    return str(info.value)


@pytest.mark.parametrize(
    ("randomize", "message"),
    [
        ("x", "randomize: expected a mapping of fields, got 'x'"),
        ({"weights": 3}, "randomize.weights: expected a mapping of fields, got 3"),
        ({"weights": {"low": "x", "high": 1}}, "randomize.weights.low: expected a number, got 'x'"),
        ({"weights": {"low": 0.9, "high": 0.1}}, "randomize.weights: low 0.9 is greater than high 0.1"),
        ({"weights": {"low": 0.1}}, "randomize.weights.high: required field is missing"),
        ({"biases": {"high": 0.1}}, "randomize.biases.low: required field is missing"),
        ({"weights": {"lo": 0.1}}, "randomize.weights.lo: unknown key (did you mean 'low'?)"),
        ({"wieghts": {}}, "randomize.wieghts: unknown key (did you mean 'weights'?)"),
        ({"weights": {}}, "randomize.weights: expected low and high (and decimals), choices, or keep: true"),
        ({"weights": {"choices": []}}, "randomize.weights.choices: expected at least one number"),
        ({"weights": {"choices": [0.1], "low": 0}}, "randomize.weights: give either low and high"),
        ({"weights": {"keep": True, "low": 1}}, "randomize.weights: keep: true takes no other settings"),
        (
            {"weights": {"low": 0, "high": 1, "decimals": 1.5}},
            "randomize.weights.decimals: expected a whole number",
        ),
        (
            {"weights": {"low": 0, "high": 1, "decimals": 11}},
            "randomize.weights.decimals: expected a number ≤ 10",
        ),
        ({"inputs": {"low": 0.101, "high": 0.109}}, "randomize.inputs: no number with 2 decimal places lies"),
        ({"inputs": {"low": float("nan"), "high": 1}}, "randomize.inputs.low: expected a finite number"),
        ({"learning_rate": {"low": 0, "high": 1}}, "randomize.learning_rate.low: the learning rate must be"),
        ({"learning_rate": {"choices": [0.1, -1]}}, "randomize.learning_rate.choices[1]: the learning rate"),
        ({"max_abs_z": 0}, "randomize.max_abs_z: expected a number > 0"),
        ({"min_loss": -1}, "randomize.min_loss: expected a number ≥ 0"),
        ({"max_draws": 0}, "randomize.max_draws: expected a number ≥ 1"),
        ({"max_draws": "a"}, "randomize.max_draws: expected a whole number, got 'a'"),
        ({"distinct_weights": "yes"}, "randomize.distinct_weights: expected true or false, got 'yes'"),
    ],
)
def test_randomize_errors(handout: Spec, randomize: Any, message: str) -> None:
    """Each mistake in a randomize section gets one message naming the field."""
    assert message in _error(handout, randomize)


def test_randomize_bce_targets_in_unit_interval(handout: Spec) -> None:
    """bce targets must be drawn in [0, 1]."""
    message = _error(handout, {"targets": {"low": 0, "high": 1.5}}, loss="bce", targets=[1])
    assert "randomize.targets.high: bce needs targets in [0, 1], got 1.5" in message


def test_randomize_cross_entropy_targets_are_distributions(deep_softmax: Spec) -> None:
    """cross_entropy targets take decimals (or keep), never a range or choices."""
    message = _error(deep_softmax, {"targets": {"low": 0, "high": 1}})
    assert "randomize.targets: cross_entropy targets are drawn as a distribution" in message
    assert "randomize.targets.decimals: required" in _error(deep_softmax, {"targets": {}})


def test_randomize_round_trips(handout: Spec) -> None:
    """A spec with a randomize section survives to_data and parse_spec unchanged."""
    spec = with_randomize(handout, {"weights": {"low": 0.1, "high": 0.5, "decimals": 1}, "max_abs_z": 3})
    assert parse_spec(spec.to_data()) == spec
    assert spec.to_data()["randomize"]["weights"] == {"low": 0.1, "high": 0.5, "decimals": 1, "keep": False}


def test_specs_without_randomize_serialise_as_before(handout: Spec) -> None:
    """The normalised spec (what keys store) has no randomize entry unless the spec has the section."""
    assert "randomize" not in handout.to_data()


# --------------------------------------------------------------------------- progress


def test_progress_hidden_when_quick_or_quiet() -> None:
    """The bar appears only once a run has lasted `delay` seconds, and never when quiet."""
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True)
    with progress(10, "quick", console=console) as bar:
        bar.advance(10)
        assert not bar.shown
    with progress(10, "slow", delay=0, console=console) as bar:
        bar.advance(3)
        assert bar.shown
    with progress(10, "quiet", delay=0, quiet=True, console=console) as bar:
        bar.advance(3)
        assert not bar.shown
    assert "slow" in buffer.getvalue() and "quiet" not in buffer.getvalue()


def test_a_class_over_the_student_bound_is_refused_before_drawing(handout: Spec) -> None:
    """A roster of more than MAX_STUDENTS ids is refused before any number is drawn."""
    from gradegen.variants.roster import MAX_STUDENTS

    ids = [f"s{i}" for i in range(MAX_STUDENTS + 1)]
    with pytest.raises(GradegenError, match=r"^200,001 students: one class run makes at most 200,000$"):
        make_variants(handout, ids, seed="x")

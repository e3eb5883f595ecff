"""Keys: a hand-edited key.json is validated field by field; every problem is one line naming it."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gradegen.core.graph import Graph
from gradegen.core.key import Answer, Key, load_key, resolve_ask, solve_key
from gradegen.core.spec import Spec, Tolerance, preset
from gradegen.errors import GradegenError


@pytest.fixture
def key_data(handout: Spec) -> dict[str, Any]:
    return solve_key(handout).to_dict()


def _edited(data: dict[str, Any], **entry: Any) -> dict[str, Any]:
    out = copy.deepcopy(data)
    out["values"]["dL_dw5"].update(entry)
    return out


def _message(data: Any) -> str:
    with pytest.raises(GradegenError) as info:
        Key.from_dict(data, source="key.json")
    message = str(info.value)
    assert "\n" not in message and "pydantic" not in message and "http" not in message
    assert message.startswith("key.json: ")
    return message


@pytest.mark.parametrize(
    ("entry", "fragment"),
    [
        (
            {"tolerance": {"mode": "rel", "value": -0.01}},
            "values.dL_dw5.tolerance.value: expected a number > 0",
        ),
        (
            {"tolerance": {"mode": "sigfig", "value": 1e308}},
            "values.dL_dw5.tolerance.value: sigfig takes a whole",
        ),
        ({"tolerance": {"mode": "percent"}}, "values.dL_dw5.tolerance.mode: expected one of 'rel'"),
        ({"tolerance": "1%"}, "values.dL_dw5.tolerance: expected a mapping of fields"),
        ({"points": math.nan}, "values.dL_dw5.points: expected a finite number"),
        ({"points": math.inf}, "values.dL_dw5.points: expected a finite number"),
        ({"points": 1e308}, "values.dL_dw5.points: expected a number ≤ 1000000"),
        ({"points": -1}, "values.dL_dw5.points: expected a number ≥ 0"),
        ({"points": "2"}, "values.dL_dw5.points: expected a number, got '2'"),
        ({"exact": math.inf}, "values.dL_dw5.exact: expected a finite number"),
        ({"hand": math.nan}, "values.dL_dw5.hand: expected a finite number"),
        ({"exact": "0.5"}, "values.dL_dw5.exact: expected a number, got '0.5'"),
        ({"exact": True}, "values.dL_dw5.exact: expected a number, got true"),
        ({"places": -1}, "values.dL_dw5.places: expected a number ≥ 0"),
        ({"places": 10**9}, "values.dL_dw5.places: expected a number ≤ 15"),
        ({"places": 2.5}, "values.dL_dw5.places: expected a whole number"),
        ({"pionts": 2}, "values.dL_dw5.pionts: unknown key (did you mean 'points'?)"),
    ],
)
def test_a_hand_edited_entry_is_one_line_naming_its_field(
    key_data: dict[str, Any], entry: dict[str, Any], fragment: str
) -> None:
    """Negative or non-finite tolerances, NaN, infinite, negative or absurd points (over 10^6),
    non-finite values, places a float64 has not and unknown fields are refused, one line each."""
    assert fragment in _message(_edited(key_data, **entry))


def test_missing_places_default_to_the_specs_decimals(key_data: dict[str, Any], handout: Spec) -> None:
    """An entry without places, points or tolerance takes the spec's decimals, 1 point, 1 %."""
    data = copy.deepcopy(key_data)
    data["values"]["dL_dw5"] = {"exact": 0.1, "hand": 0.1}
    answer = Key.from_dict(data).values["dL_dw5"]
    assert answer == Answer(0.1, 0.1, handout.decimals, Tolerance(), 1.0)


@pytest.mark.parametrize(
    ("asked", "fragment"),
    [([5], "asked: expected quantity ids, got 5"), (["loss", "loss"], "asked: 'loss' is listed twice")],
)
def test_asked_ids_are_unique_text(key_data: dict[str, Any], asked: list[Any], fragment: str) -> None:
    """The asked list holds each id once, as text."""
    data = copy.deepcopy(key_data)
    data["asked"] = asked
    assert fragment in _message(data)


def test_a_bad_spec_inside_a_key_is_named(key_data: dict[str, Any]) -> None:
    """A key's spec with a bad tolerance names the spec and the field."""
    data = copy.deepcopy(key_data)
    data["spec"]["tolerance"] = {"mode": "rel", "value": -1}
    assert "key.json: spec: tolerance.value: expected a number > 0" in _message(data)


def test_a_key_written_and_read_back_is_the_same(handout: Spec, tmp_path: Path) -> None:
    """What to_json writes, load_key reads back to an equal key (the bounds refuse nothing real)."""
    key = solve_key(handout)
    path = tmp_path / "key.json"
    path.write_text(key.to_json(), "utf-8")
    assert load_key(path) == key


def test_load_key_refuses_a_duplicate_field(key_data: dict[str, Any], tmp_path: Path) -> None:
    """A key.json repeating a field (JSON would keep the last) is refused, naming it and where."""
    text = json.dumps(key_data).replace('"points": 1.0', '"points": 1.0, "points": 50.0', 1)
    path = tmp_path / "key.json"
    path.write_text(text, "utf-8")
    with pytest.raises(GradegenError, match=r"duplicate key 'points' in values\.\w+$"):
        load_key(path)


def test_json_never_holds_non_finite_numbers(key_data: dict[str, Any]) -> None:
    """A key holding inf (a slip past the checks) fails loudly when written, never writes Infinity."""
    key = Key.from_dict(key_data)
    broken = Key(key.spec, key.asked, {**key.values, "loss": Answer(math.inf, 1.0, 4, Tolerance())})
    with pytest.raises(ValueError, match="not JSON compliant"):
        broken.to_json()


def test_ask_is_bounded_by_what_the_network_has(handout: Spec) -> None:
    """--ask with more items than the network has quantities and groups is refused before any lookup."""
    from gradegen.core.network import build_graph

    graph: Graph = build_graph(handout)
    assert resolve_ask(graph, ",".join(["loss"] * 20)) == ("loss",)
    with pytest.raises(
        GradegenError, match=r"--ask: 1,000,000 items, more than this network's \d+ quantities"
    ):
        resolve_ask(graph, ",".join(["x"] * 1_000_000))


_HANDOUT_KEY = solve_key(preset("handout")).to_dict()
JSONISH = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)


@given(field=st.sampled_from(["exact", "hand", "places", "tolerance", "points", "extra"]), value=JSONISH)
def test_any_value_in_an_entry_is_accepted_or_one_line(field: str, value: Any) -> None:
    """Whatever a hand-edited entry's field holds, the key is read or refused with one line."""
    data = copy.deepcopy(_HANDOUT_KEY)
    data["values"]["loss"][field] = value
    try:
        key = Key.from_dict(data, source="key.json")
    except GradegenError as exc:
        assert "\n" not in str(exc) and str(exc).startswith("key.json: values.loss")
    else:
        answer = key.values["loss"]
        assert all(math.isfinite(x) for x in (answer.exact, answer.hand, answer.points))
        assert 0 <= answer.points <= 1e6 and 0 <= answer.places <= 15


def test_an_empty_asked_list_is_refused(key_data: dict[str, Any]) -> None:
    """A key asking nothing has nothing to grade: one line, not a crash later."""
    data = copy.deepcopy(key_data)
    data["asked"] = []
    assert "key.json: asked: expected at least one quantity id" in _message(data)


@pytest.mark.parametrize("qid", ["bogus", "x1", "dL_dw55"])
def test_an_asked_id_outside_the_network_is_refused_when_grading(
    key_data: dict[str, Any], tmp_path: Path, qid: str
) -> None:
    """An asked id that is no askable quantity of the key's network (unknown, or a given) is one
    line naming the file when the key is graded (where its graph is built), not a KeyError."""
    from gradegen.grading.grade import grade

    data = copy.deepcopy(key_data)
    data["asked"].append(qid)
    data["values"][qid] = data["values"]["loss"]
    path = tmp_path / "key.json"
    path.write_text(json.dumps(data), "utf-8")
    sheet = tmp_path / "ana.yaml"
    sheet.write_text("student: ana\nloss: 1\n", "utf-8")
    with pytest.raises(GradegenError, match=f"^{path}: asked: '{qid}' is not a quantity of this network"):
        grade(path, [sheet])

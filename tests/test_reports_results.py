"""results.json (version 2): the written file read back against the per-student records."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from gradegen.cli import app
from gradegen.core.network import build_graph
from gradegen.core.spec import Spec
from gradegen.grading.grade import grade
from gradegen.grading.keys import KeySet, key_from_spec
from gradegen.grading.results import GradingResults
from gradegen.grading.submissions import FileError, Submissions
from gradegen.reports.results import CONSTANTS, iter_results_json, results_json
from gradegen.reports.write import write_reports
from gradegen.variants.draw import make_variants

OUTCOME = ("raw", "value", "verdict", "diagnosis", "points")


def _written(results: GradingResults, tmp_path: Path) -> dict[str, Any]:
    out = write_reports(results, tmp_path / "grades", feedback="none")
    data: dict[str, Any] = json.loads((out / "results.json").read_text("utf-8"))
    return data


def _constants(results: GradingResults, i: int, q: str) -> dict[str, Any]:
    """What the records say about item q of student i's key."""
    item = results.student(i).items[q]
    assert item.rule is not None and item.rule.tolerance is not None
    return {
        "expected": {"exact": item.exact, "hand": item.hand},
        "accepted": list(item.accepted),
        "max": item.max_points,
        "tolerance": {"mode": item.rule.tolerance.mode.value, "value": item.rule.tolerance.value},
    }


def _check_against_records(results: GradingResults, data: dict[str, Any]) -> None:
    """Every student's line holds their record's outcome, and each constant sits either in `items`
    (then every student shares it) or in the student's own item."""
    assert [s["student"] for s in data["students"]] == list(results.ids)
    for i, line in enumerate(data["students"]):
        record = results.student(i)
        assert (line["score"], line["max"], line["errors"]) == (record.score, record.max, list(record.errors))
        assert list(line["items"]) == list(record.items)
        for q, item in record.items.items():
            written = line["items"][q]
            assert written["raw"] == item.raw and written["value"] == item.value
            assert written["verdict"] == item.verdict.value and written["points"] == item.points
            assert written["diagnosis"] == (item.diagnosis.value if item.diagnosis else None)
            for name, value in _constants(results, i, q).items():
                assert (data["items"][q] if name in data["items"][q] else written)[name] == value
                assert (name in data["items"][q]) != (name in written)


def _answers(spec: Spec, wrong: set[str]) -> dict[str, object]:
    """Every quantity answered with its exact value, except the `wrong` ones (sign flipped)."""
    graph = build_graph(spec)
    values = graph.evaluate()
    return {q: -float(values[q][0]) if q in wrong else float(values[q][0]) for q in key_from_spec(spec).asked}


def test_one_key_class(tmp_path: Path, handout: Spec) -> None:
    """With one key, every constant is stated once in `items`; a student's item is only its outcome."""
    table = Submissions()
    for i, wrong in enumerate([set(), {"dL_dw5"}, {"z_h1", "a_out"}, {"w5_new"}]):
        table.add_record(f"s{i}", f"s{i}.yaml", _answers(handout, wrong), [])
    table.add_record("blank", "blank.yaml", {}, [])
    results = grade(handout, table)
    data = _written(results, tmp_path)
    _check_against_records(results, data)
    assert all(set(item) == set(OUTCOME) for s in data["students"] for item in s["items"].values())
    assert all(set(item) == set(CONSTANTS) for item in data["items"].values())
    # ∂L/∂w5 by hand is 0.0822 (the handout); the exact value from the graph of the spec itself
    exact = build_graph(handout).evaluate()
    assert data["items"]["dL_dw5"]["expected"] == {"exact": float(exact["dL_dw5"][0]), "hand": 0.0822}
    assert data["students"][1]["items"]["dL_dw5"]["diagnosis"] == "sign_error"
    assert data["students"][0]["score"] == data["students"][0]["max"] == 32.0  # the worksheet's questions


def test_per_student_keys_class(tmp_path: Path, handout: Spec) -> None:
    """With per-student keys, each student's item carries their own expected value and interval,
    and `items` keeps what they share: points possible and tolerance."""
    ids = [f"st{i}" for i in range(6)]
    variants = make_variants(handout, ids, seed="lean")
    table = Submissions()
    for i, student in enumerate(ids):
        table.add_record(
            student, f"{student}.yaml", _answers(variants.spec_for(i), {"loss"} if i % 2 else set()), []
        )
    results = grade(KeySet({s: variants.key_for(i) for i, s in enumerate(ids)}), table)
    data = _written(results, tmp_path)
    _check_against_records(results, data)
    assert all(set(item) == {"max", "tolerance"} for item in data["items"].values())
    for i, line in enumerate(data["students"]):
        exact = build_graph(variants.spec_for(i)).evaluate()  # the student's own numbers, recomputed
        assert line["items"]["z_h1"]["expected"]["exact"] == float(exact["z_h1"][0])
        assert line["items"]["loss"]["verdict"] == ("incorrect" if i % 2 else "correct")
    assert len({line["items"]["z_h1"]["expected"]["exact"] for line in data["students"]}) == len(ids)


def test_networks_interleaved(tmp_path: Path, handout: Spec, mazur: Spec) -> None:
    """Students on two networks: an ID both ask has its expected value per student, a constant
    they share (points, tolerance) in `items`; an ID one network asks has its key's values in `items`."""
    table = Submissions()
    keys = {}
    for i in range(5):
        spec = mazur if i % 2 else handout
        table.add_record(f"s{i}", f"s{i}.yaml", _answers(spec, {"z_h1"}), [])
        keys[f"s{i}"] = key_from_spec(spec)
    results = grade(KeySet(keys), table)
    data = _written(results, tmp_path)
    _check_against_records(results, data)
    assert set(data["items"]["loss"]) == {"max", "tolerance"}  # the networks' losses differ
    assert set(data["items"]["z_h1"]) == set(CONSTANTS)  # the same first layer: the same z_h1
    assert set(data["items"]["z_o1"]) == set(CONSTANTS)  # mazur's outputs are o1, o2
    assert set(data["items"]["z_out"]) == set(CONSTANTS)  # the handout's one output


def test_points_differing_between_keys(tmp_path: Path, handout: Spec) -> None:
    """Keys that give an item different points: each student's item states its own `max`."""
    double = handout.model_copy(update={"points": {"z_h1": 2.0}})
    table = Submissions()
    for student in ("a", "b"):
        table.add_record(student, f"{student}.yaml", {"z_h1": 0.3775}, [])
    results = grade(KeySet({"a": key_from_spec(handout), "b": key_from_spec(double)}), table)
    data = _written(results, tmp_path)
    _check_against_records(results, data)
    assert "max" not in data["items"]["z_h1"] and "expected" in data["items"]["z_h1"]
    assert [s["items"]["z_h1"]["max"] for s in data["students"]] == [1.0, 2.0]
    assert [s["items"]["z_h1"]["points"] for s in data["students"]] == [1.0, 2.0]


def test_command_line_tolerance(tmp_path: Path, handout: Spec) -> None:
    """--rtol/--atol replace every rule; `items` states them as {rtol, atol}."""
    table = Submissions()
    table.add_record("ana", "ana.yaml", {"z_h1": 0.39}, [])
    data = _written(grade(handout, table, rtol=0.1), tmp_path)
    assert data["items"]["z_h1"]["tolerance"] == {"rtol": 0.1, "atol": 0.0}
    assert data["students"][0]["items"]["z_h1"]["verdict"] == "correct"  # |0.39 − 0.3775| ≤ 0.03775


def test_no_students(tmp_path: Path, handout: Spec) -> None:
    """A class with no gradable submission still gives a valid results.json, with its errors."""
    table = Submissions()
    table.errors.append(FileError("x.yaml", "invalid YAML"))
    data = _written(grade(handout, table), tmp_path)
    assert data["students"] == [] and data["items"] == {}
    assert data["errors"] == [{"file": "x.yaml", "message": "invalid YAML"}]


@pytest.mark.parametrize("student", ['quo"te', "back\\slash", "tab\tid", "zoë"])
def test_ids_needing_escapes(handout: Spec, student: str) -> None:
    """Ids with quotes, backslashes, control characters or non-ASCII letters stay valid JSON."""
    table = Submissions()
    table.add_record(student, "s.yaml", {"z_h1": 'say "hi"'}, [])
    results = grade(handout, table)
    text = b"".join(iter_results_json(results)).decode("utf-8")
    assert text == results_json(results)
    line = json.loads(text)["students"][0]
    assert line["student"] == student and line["items"]["z_h1"]["raw"] == 'say "hi"'


def test_json_option_prints_the_file(tmp_path: Path) -> None:
    """`gradegen grade --json` prints results.json exactly as written, version field first."""
    sheet = tmp_path / "ana.yaml"
    sheet.write_text("student: ana\nz_h1: 0.3775\n", "utf-8")
    out = tmp_path / "grades"
    result = CliRunner().invoke(app, ["grade", str(sheet), str(sheet), "--out", str(out), "--json"])
    assert result.exit_code == 2  # a submission is not a key: refused with one line
    handout = Path(__file__).resolve().parent.parent / "gradegen" / "presets" / "handout.yaml"
    result = CliRunner().invoke(app, ["grade", str(handout), str(sheet), "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    assert result.output == (out / "results.json").read_text("utf-8")
    assert result.output.startswith('{"format":"gradegen-results","version":2,\n')

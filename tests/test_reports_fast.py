"""The fast report paths against the reference ones: feedback pages, results.json, feedback.zip."""

from __future__ import annotations

import json
import random
import zipfile
from pathlib import Path

import numpy as np
import pytest

from gradegen.cli import FeedbackMode
from gradegen.core.key import askable
from gradegen.core.network import build_graph
from gradegen.core.spec import Spec, preset
from gradegen.grading.grade import grade
from gradegen.grading.keys import KeySet, key_from_spec
from gradegen.grading.results import GradingResults
from gradegen.grading.submissions import Submissions
from gradegen.reports.feedback import _Texts, feedback_markdown, iter_feedback
from gradegen.reports.write import FEEDBACK_MODES, feedback_names, write_reports

ODD_IDS = ["ana *bold*", "-minus", "=sum", "a/b", "CON", "tab\tid", "zoë", 'quote"d', "back\\slash"]


def _answers(spec: Spec, rng: random.Random) -> dict[str, object]:
    """One student's answers: right (in several forms), sign-flipped, ×10, blank, unreadable or absent."""
    graph = build_graph(spec)
    values = graph.evaluate()
    out: dict[str, object] = {}
    for q in askable(graph):
        x = float(np.asarray(values[q]).ravel()[0])
        pick = rng.random()
        if pick < 0.4:
            out[q] = rng.choice([f"{x:.4g}", f"{x:.6g}", x, f"{x:.3e}".replace("e", " × 10^")])
        elif pick < 0.55:
            out[q] = f"{-x:.5g}"
        elif pick < 0.7:
            out[q] = f"{10 * x:.5g}"
        elif pick < 0.8:
            out[q] = ""
        elif pick < 0.85:
            out[q] = rng.choice(["abc", "1/0", "`x`", "[1, 2]"])
        elif pick < 0.9:
            out[q] = round(x * (1 + rng.uniform(-0.3, 0.3)), 4)
    if rng.random() < 0.3:  # a wrong a_h1 carried forward: follow-through downstream
        out["a_h1"], out["z_out"] = 0.7, 1.1486
    return out


def _mixed(handout: Spec, mazur: Spec, n: int = 300) -> GradingResults:
    """A few hundred students with mixed verdicts and diagnoses, odd ids, problems and two keys."""
    rng = random.Random(7)
    table = Submissions()
    keys = {}
    for i in range(n):
        student = ODD_IDS[i] if i < len(ODD_IDS) else f"s{i:04d}"
        spec = mazur if i % 7 == 3 else handout
        answers = _answers(spec, rng)
        if i % 11 == 0:
            answers["no_such_id"] = "1"  # reported in the student's own errors
        table.add_record(student, f"{i}.yaml", answers, [])
        keys[student] = spec
    made = {"handout": key_from_spec(handout), "mazur": key_from_spec(mazur)}
    return grade(
        KeySet({s: made["mazur" if spec is mazur else "handout"] for s, spec in keys.items()}), table
    )


@pytest.fixture(scope="module")
def mixed() -> GradingResults:
    return _mixed(preset("handout"), preset("mazur"))


def test_mixed_data_covers_every_verdict(mixed: GradingResults) -> None:
    """The generated class really mixes verdicts, diagnoses, groups and per-student problems."""
    data = mixed.to_dict()
    verdicts = {item["verdict"] for s in data["students"] for item in s["items"].values()}
    diagnoses = {item["diagnosis"] for s in data["students"] for item in s["items"].values()}
    assert verdicts == {"correct", "follow_through", "incorrect", "missing", "unparseable"}
    assert {"sign_error", "decimal_slip", None} <= diagnoses
    assert len(mixed.groups) == 2 and mixed.student_errors


def test_fast_feedback_equals_reference(mixed: GradingResults) -> None:
    """iter_feedback gives, for every student, the bytes of feedback_markdown (the reference)."""
    texts = _Texts()
    reference = [feedback_markdown(mixed, i, texts).encode("utf-8") for i in range(len(mixed))]
    assert list(iter_feedback(mixed)) == reference


def test_fast_results_json_equals_reference(mixed: GradingResults) -> None:
    """results.json built from pieces parses to to_dict(), the reference, with the same structure."""
    text = mixed.to_json()
    assert json.loads(text) == mixed.to_dict()
    assert text.count("\n") == len(mixed) + 2  # one student per line, and the two ends


def test_single_group_results_json(handout: Spec) -> None:
    """The one-key path (one join per chunk) gives the same JSON as the reference, across chunks."""
    rng = random.Random(3)
    table = Submissions()
    for i in range(120):
        table.add_record(ODD_IDS[i] if i < len(ODD_IDS) else f"s{i}", f"{i}.yaml", _answers(handout, rng), [])
    results = grade(handout, table)
    assert json.loads("".join(results.iter_json(chunk=50))) == results.to_dict()


@pytest.mark.parametrize("parallel", [False, True])
def test_zip_holds_the_same_files(
    tmp_path: Path, mixed: GradingResults, monkeypatch: pytest.MonkeyPatch, parallel: bool
) -> None:
    """feedback.zip holds exactly feedback/<name>.md with the files' bytes, and is deterministic."""
    if parallel:  # also through the forked writer
        monkeypatch.setattr("gradegen.reports.write._PARALLEL_FROM", 1)
    write_reports(mixed, tmp_path / "files")
    write_reports(mixed, tmp_path / "zip", feedback="zip")
    write_reports(mixed, tmp_path / "zip2", feedback="zip")
    files = {
        p.relative_to(tmp_path / "files").as_posix(): p.read_bytes()
        for p in (tmp_path / "files" / "feedback").iterdir()
    }
    with zipfile.ZipFile(tmp_path / "zip" / "feedback.zip") as archive:
        assert archive.testzip() is None
        members = {info.filename: archive.read(info) for info in archive.infolist()}
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    assert members == files and len(files) == len(mixed)
    assert list(members) == [f"feedback/{name}" for name in feedback_names(mixed)]  # student order
    assert (tmp_path / "zip" / "feedback.zip").read_bytes() == (
        tmp_path / "zip2" / "feedback.zip"
    ).read_bytes()
    assert not (tmp_path / "zip" / "feedback").exists()
    for name in ("results.json", "gradebook.csv", "summary.md"):
        assert (tmp_path / "zip" / name).read_bytes() == (tmp_path / "files" / name).read_bytes()


def test_zip64_for_many_members(tmp_path: Path) -> None:
    """Past 65,535 members the zip carries Zip64 records, and zipfile reads every member back."""
    from gradegen.files import write_stored_zip

    path = tmp_path / "many.zip"
    write_stored_zip(path, ((f"f/{i}.md", str(i).encode()) for i in range(70_000)))
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        assert len(names) == 70_000 and archive.read("f/69999.md") == b"69999"


def test_no_feedback(tmp_path: Path, mixed: GradingResults) -> None:
    """feedback="none" writes the other reports only; an unknown mode is refused."""
    write_reports(mixed, tmp_path / "out", feedback="none")
    assert {p.name for p in (tmp_path / "out").iterdir()} == {"results.json", "gradebook.csv", "summary.md"}
    with pytest.raises(Exception, match="--feedback"):
        write_reports(mixed, tmp_path / "bad", feedback="tar")


def test_forked_writer_failure_is_reported(
    tmp_path: Path, mixed: GradingResults, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error in the forked feedback writer fails the run, and nothing is left behind."""
    from gradegen.errors import GradegenError

    def broken(*_: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("gradegen.reports.write._PARALLEL_FROM", 1)
    monkeypatch.setattr("gradegen.reports.write._write_feedback", broken)
    with pytest.raises(GradegenError, match="disk full"):
        write_reports(mixed, tmp_path / "out", feedback="zip")
    assert not list(tmp_path.iterdir())


def test_cli_modes_match_the_library() -> None:
    """The --feedback choices are the library's modes."""
    assert tuple(m.value for m in FeedbackMode) == FEEDBACK_MODES


def test_plain_ids_take_the_fast_path(handout: Spec) -> None:
    """Ids with nothing to escape (the common case) still get the reference's leading backslash."""
    rng = random.Random(5)
    table = Submissions()
    for i, student in enumerate(["-a", "+b", "=c", "plain", "x.y-z"]):
        table.add_record(student, f"{i}.yaml", _answers(handout, rng), [])
    results = grade(handout, table)
    texts = _Texts()
    assert list(iter_feedback(results)) == [
        feedback_markdown(results, i, texts).encode("utf-8") for i in range(len(results))
    ]

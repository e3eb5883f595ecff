"""The LMS round trip on the command line: an LMS export as the roster of generate and grade, and
grade's --gradebook, --assignment, --canvas-assignment-id and --missing-as-zero."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

from lms_class import FIXTURES, read_csv
from typer.testing import CliRunner

from gradegen.cli import app
from gradegen.core.classkeys import student_key
from gradegen.core.spec import preset
from gradegen.grading.keys import key_from_spec

runner = CliRunner()

ANSWERED = 5
"""Items the partly right student answers (with their own key's values): 5 of 32 points."""


def _key(tmp_path: Path) -> str:
    """The handout's key.json (every student asked the same 32 items)."""
    path = tmp_path / "key.json"
    path.write_text(key_from_spec(preset("handout")).to_json(), "utf-8")
    return str(path)


def _answers_csv(keys: Path, right: str, partly: str, unknown: str) -> str:
    """An answer table as a spreadsheet export: a student column, one column per asked id."""
    right_key, partly_key = student_key(keys, right), student_key(keys, partly)
    asked = list(right_key.asked)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["student", *asked])
    writer.writerow([right, *(repr(right_key.values[q].hand) for q in asked)])
    writer.writerow(
        [partly, *(repr(partly_key.values[q].hand) if i < ANSWERED else "" for i, q in enumerate(asked))]
    )
    writer.writerow([unknown, *["0.5"] * len(asked)])
    return buffer.getvalue()


def test_canvas_export_to_generate_to_grade_to_a_canvas_import(tmp_path: Path) -> None:
    """Canvas export → generate --roster → answers CSV → grade --gradebook canvas: one student
    folder per Canvas student, and a Canvas file whose rows are the export's students in order,
    with their Canvas ids and scores (32, 5, empty, empty); the submission of a student not in
    the class is reported, not dropped silently."""
    roster = tmp_path / "Grades-NN101.csv"
    shutil.copy(FIXTURES / "canvas" / "roster.csv", roster)
    made = runner.invoke(
        app, ["generate", "--roster", str(roster), "--out", str(tmp_path / "class"), "--quiet"]
    )
    assert made.exit_code == 0, made.output
    keys = tmp_path / "class" / "keys.json"
    assert keys.is_file()
    answers = tmp_path / "answers.csv"
    answers.write_text(_answers_csv(keys, "1001", "1002", "4242"), "utf-8")
    out = tmp_path / "grades"
    args = ["grade", str(keys), str(answers), "--roster", str(roster), "--out", str(out)]
    result = runner.invoke(
        app, [*args, "--gradebook", "canvas", "--gradebook", "plain", "--assignment", "Backprop homework"]
    )
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())  # as one line, whatever the terminal's width
    assert "2 students of the roster without a submission: an empty grade" in said
    assert "no key for student '4242'; not graded" in said
    rows = read_csv((out / "gradebook-canvas.csv").read_text("utf-8"))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Backprop homework (48213)"]
    assert rows[1] == ["    Points Possible", "", "", "", "", "32"]
    assert [(row[1], row[5]) for row in rows[2:]] == [
        ("1001", "32"),
        ("1002", str(ANSWERED)),
        ("1003", ""),
        ("1099", ""),
    ]
    plain = read_csv((out / "gradebook.csv").read_text("utf-8"))
    assert [row[:2] for row in plain[1:]] == [["1001", "32"], ["1002", "5"], ["1003", ""], ["1099", ""]]


def test_grade_writes_each_lms_gradebook_and_reports_students_not_in_the_roster(tmp_path: Path) -> None:
    """Given a spec (everyone asked the same) and a roster, a submission whose student is not in
    it is graded, reported on the terminal, and in no LMS file; --missing-as-zero gives 0."""
    roster = FIXTURES / "moodle" / "roster.csv"
    answers = tmp_path / "answers.csv"
    answers.write_text("student,z_h1\nada@uni.example,0.3775\nmallory@evil.example,0.3775\n", "utf-8")
    out = tmp_path / "g"
    kinds = [x for kind in ("moodle", "canvas", "brightspace", "blackboard") for x in ("--gradebook", kind)]
    args = ["grade", _key(tmp_path), str(answers), "--roster", str(roster), "--out", str(out)]
    result = runner.invoke(app, [*args, "--missing-as-zero", *kinds])
    assert result.exit_code == 0, result.output
    assert "'mallory@evil.example' is not in the roster" in " ".join(result.output.split())
    names = sorted(p.name for p in out.iterdir() if p.name.startswith("gradebook"))
    assert names == [f"gradebook-{k}.csv" for k in ("blackboard", "brightspace", "canvas", "moodle")]
    moodle = read_csv((out / "gradebook-moodle.csv").read_text("utf-8"))
    assert [row[:2] for row in moodle] == [
        ["Email address", "Backpropagation worked example"],
        ["ada@uni.example", "1"],
        ["alan@uni.example", "0"],
        ["grace@uni.example", "0"],
    ]
    assert all("mallory" not in (out / name).read_text("utf-8") for name in names)


def test_grade_refuses_bad_gradebook_options_in_one_line(tmp_path: Path) -> None:
    """An unknown --gradebook, a non-numeric --canvas-assignment-id and --missing-as-zero without
    a roster are each one line and exit 2, with nothing written."""
    answers = tmp_path / "a.csv"
    answers.write_text("student,z_h1\nana,0.3775\n", "utf-8")
    out, key = tmp_path / "g", _key(tmp_path)
    for extra, message in (
        (
            ["--gradebook", "sakai"],
            "--gradebook: expected one of plain, canvas, moodle, brightspace, blackboard",
        ),
        (
            ["--gradebook", "canvas", "--canvas-assignment-id", "x1"],
            "--canvas-assignment-id: expected the digits",
        ),
        (["--missing-as-zero"], "--missing-as-zero goes with --roster"),
    ):
        result = runner.invoke(app, ["grade", key, str(answers), "--out", str(out), *extra])
        assert result.exit_code == 2, result.output
        said = " ".join(result.output.split())
        assert message in said and "Traceback" not in said
        assert not out.exists()


def test_generate_reads_each_lms_roster(tmp_path: Path) -> None:
    """generate --roster takes each LMS's export as downloaded: one folder per student, named by
    the LMS's student id."""
    for lms, name, ids in (
        ("moodle", "roster.csv", ["ada@uni.example", "alan@uni.example", "grace@uni.example"]),
        ("brightspace", "roster.csv", ["0020067930", "0020067931", "0020067932"]),
        ("blackboard", "gc_NN101_fullgc_2026-12-01-10-00-00.xls", ["alovelace", "aturing", "ghopper"]),
    ):
        out = tmp_path / lms
        result = runner.invoke(
            app, ["generate", "--roster", str(FIXTURES / lms / name), "--out", str(out), "--quiet"]
        )
        assert result.exit_code == 0, result.output
        assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ids, lms

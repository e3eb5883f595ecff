"""Reports: results.json, gradebook.csv, feedback files and summary.md, written atomically."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from gradegen.core.spec import Spec
from gradegen.escape import md_inline, spreadsheet_safe
from gradegen.grading.grade import grade
from gradegen.grading.results import GradingResults
from gradegen.grading.submissions import FileError, Submissions
from gradegen.reports.formats import feedback_names
from gradegen.reports.gradebook import gradebook_csv
from gradegen.reports.results import iter_results_json, results_data
from gradegen.reports.sheet import Sheet
from gradegen.reports.write import write_reports


def _results(handout: Spec, students: dict[str, dict[str, object]]) -> GradingResults:
    table = Submissions()
    for student, answers in students.items():
        table.add_record(student, f"{student}.yaml", answers, [])
    return grade(handout, table)


def test_results_json_shape(tmp_path: Path, handout: Spec) -> None:
    """results.json has the version-2 shape: the key's constants once in `items`, per student only
    raw, value, verdict, diagnosis and points (changed: version 1 repeated expected and accepted in
    every student's items)."""
    results = _results(handout, {"ana": {"dL_dw5": "-0.0822", "z_h1": 0.3775}})
    write_reports(results, tmp_path / "out")
    data = json.loads((tmp_path / "out" / "results.json").read_text("utf-8"))
    assert list(data) == ["format", "version", "items", "errors", "students"]
    assert (data["format"], data["version"]) == ("gradegen-results", 2)
    # z_h1 = 0.05·0.15 + 0.10·0.20 + 0.35 and ∂L/∂w5 = 0.0822 by hand, as in the handout
    assert data["items"]["z_h1"]["expected"] == {"exact": 0.05 * 0.15 + 0.10 * 0.20 + 0.35, "hand": 0.3775}
    assert data["items"]["dL_dw5"]["expected"]["hand"] == 0.0822
    assert data["items"]["dL_dw5"]["max"] == 1.0
    assert data["items"]["dL_dw5"]["tolerance"] == {"mode": "rel", "value": 0.01}
    (student,) = data["students"]
    assert set(student) == {"student", "score", "max", "items", "errors"}
    item = student["items"]["dL_dw5"]
    assert item == {
        "raw": "-0.0822",
        "value": -0.0822,
        "verdict": "incorrect",
        "diagnosis": "sign_error",
        "points": 0.0,
    }
    assert student["score"] == 1.0 and student["max"] == 32.0
    assert student["items"]["z_h2"] == {
        "raw": None,
        "value": None,
        "verdict": "missing",
        "diagnosis": None,
        "points": 0.0,
    }
    assert data == results_data(results)


@pytest.mark.parametrize(
    ("cell", "safe"),
    [
        ('=HYPERLINK("x")', '\'=HYPERLINK("x")'),
        ("+cmd", "'+cmd"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("-0.5", "-0.5"),
        ("+3", "+3"),
        ("ana", "ana"),
    ],
)
def test_spreadsheet_safe(cell: str, safe: str) -> None:
    """A cell starting with = + - @ tab or CR that is not a number is neutralised with a quote."""
    assert spreadsheet_safe(cell) == safe


def test_gradebook_neutralises_formulas(handout: Spec) -> None:
    """The gradebook's student column cannot carry a formula into a spreadsheet."""
    results = _results(handout, {"=1+1": {"z_h1": 0.3775}, "@evil": {}, "bo": {"z_h1": 0.3775}})
    rows = list(csv.reader(io.StringIO(gradebook_csv(results))))
    assert rows[0] == ["student", "score", "max", "percent"]
    assert rows[1] == ["'=1+1", "1", "32", "3.1"]
    assert rows[2][0] == "'@evil" and rows[2][1] == "0"
    assert rows[3] == ["bo", "1", "32", "3.1"]


HOSTILE = ["../../x", "/etc/passwd", "", "..", ".", "CON", "con.txt", "a/b", "a\\b", "NUL", "Ana", "ana", "ü"]


def test_safe_filenames_are_unique_and_inside(handout: Spec) -> None:
    """Hostile ids become readable, unique file names with no path separators or reserved names."""
    results = _results(handout, {s: {} for s in HOSTILE if s})
    names = [name.removesuffix(".md") for name in feedback_names(results)]
    assert len({n.lower() for n in names}) == len(names)
    for name in names:
        assert name and "/" not in name and "\\" not in name and not name.startswith(".")
        assert name.split(".")[0].split("-")[0].lower() not in {"con", "nul"} or "-" in name
    assert names[results.ids.index("bo")] == "bo" if "bo" in results.ids else True
    assert names[results.ids.index("Ana")].startswith("Ana-")  # Ana and ana clash ignoring case


def test_hostile_ids_stay_inside_the_output_folder(tmp_path: Path, handout: Spec) -> None:
    """Every feedback file is written inside feedback/, whatever the student ids are (beside the
    reports, only the manifest, since issue 13)."""
    out = tmp_path / "deep" / "out"
    results = _results(handout, {s: {"z_h1": 0.3775} for s in HOSTILE if s})
    write_reports(results, out)
    files = sorted((out / "feedback").iterdir())
    assert len(files) == len([s for s in HOSTILE if s])
    for path in files:
        assert path.resolve().parent == (out / "feedback").resolve()
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file() and "feedback" not in p.parts) == [
        ".gradegen.json",
        "gradebook.csv",
        "results.json",
        "summary.md",
    ]


def test_grading_twice_gives_identical_bytes(tmp_path: Path, handout: Spec) -> None:
    """Grading the same input again writes byte-identical files (and replaces the old reports).
    Changed by issue 13: a file the instructor put into the folder stays; gradegen's are replaced."""
    students = {"ana": {"dL_dw5": "-0.0822"}, "bo": {"a_h1": 0.7, "z_out": 1.1486}}
    write_reports(_results(handout, students), tmp_path / "a")
    write_reports(_results(handout, {"cy": {"a_h1": 0.7}}), tmp_path / "b")
    (tmp_path / "b" / "notes.txt").write_text("mine", "utf-8")
    write_reports(_results(handout, students), tmp_path / "b")
    a = {p.relative_to(tmp_path / "a"): p.read_bytes() for p in (tmp_path / "a").rglob("*") if p.is_file()}
    b = {p.relative_to(tmp_path / "b"): p.read_bytes() for p in (tmp_path / "b").rglob("*") if p.is_file()}
    assert b.pop(Path("notes.txt")) == b"mine"
    assert a == b  # cy's feedback, gradegen's own, is gone
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging left behind


def test_feedback_content(tmp_path: Path, handout: Spec) -> None:
    """Feedback names what was right, each mistake with its diagnosis and working, and follow-through."""
    results = _results(
        handout, {"ana *bold*": {"z_h1": 0.3775, "dL_dw5": "-0.0822", "a_h1": 0.7, "z_out": 1.1486}}
    )
    write_reports(results, tmp_path)
    (path,) = (tmp_path / "feedback").iterdir()
    text = path.read_text("utf-8")
    assert "# Feedback for ana \\*bold\\*" in text
    assert "## Right" in text and "`z_h1`" in text
    assert "sign_error" in text and "The magnitude is right but the sign is wrong." in text
    assert "∂L/∂w5 = ∂L/∂z_out·a_h1 = 0.1385 × 0.5933 = 0.0822" in text
    assert "## Follow-through" in text and "`z_out`" in text


def test_summary(tmp_path: Path, handout: Spec) -> None:
    """summary.md has the mean, median, a distribution, per-item results and the broken files."""
    table = Submissions()
    table.add_record("ana", "ana.yaml", {"dL_dw5": "-0.0822"}, [])
    table.add_record("bo", "bo.yaml", {"dL_dw5": "0.0822", "z_h1": 0.3775}, [])
    table.add_record("cy", "cy.yaml", {"dL_dw5": "-0.0822", "z_h1": 0.3775, "zz": 1}, [])
    table.errors.append(FileError("x.yaml", "invalid YAML"))
    results = grade(handout, table)
    write_reports(results, tmp_path)
    text = (tmp_path / "summary.md").read_text("utf-8")
    # scores 0, 2 and 1 of 32: mean 1/32 = 3.125%, median 1/32
    assert "- Students graded: 3" in text
    assert "- Mean: 3.1%" in text and "- Median: 3.1%" in text
    assert "| 0–10 | 3 |" in text
    assert "| `dL_dw5` | 33.3% | 0.0% | 66.7% | 0.0% | 0.0% | sign_error (2) |" in text
    assert "x.yaml: invalid YAML" in text
    assert "unknown quantity id 'zz'" in text


def test_md_inline() -> None:
    """User text cannot inject Markdown structure, math or a list, and stays on one line."""
    assert md_inline("# *x* [a](b)\n<script>") == "\\# \\*x\\* \\[a\\](b) \\<script\\>"
    assert md_inline("-1") == "\\-1"
    assert md_inline("$x$ 1. two") == "\\$x\\$ 1. two"
    assert md_inline("1. item") == "1\\. item"


def test_json_of_interleaved_key_groups(mazur: Spec, handout: Spec) -> None:
    """With per-student keys of two networks interleaved, results.json keeps submission order and
    gives the reference's bytes, also when written in small chunks (changed: it was compared with
    to_dict(), the version-1 shape)."""
    from gradegen.grading.keys import KeySet, key_from_spec
    from gradegen.reports.results import results_json

    a, b = key_from_spec(handout), key_from_spec(mazur)
    table = Submissions()
    keys = {}
    for i in range(7):
        student = f"s{i}"
        keys[student] = a if i % 3 else b
        table.add_record(student, f"{student}.yaml", {"z_h1": "0.3775", "dL_dw5": f"{i / 10}"}, [])
    results = grade(KeySet(keys), table)
    assert results.ids == tuple(f"s{i}" for i in range(7))
    for chunk in (1, 2, 5000):
        assert b"".join(iter_results_json(results, chunk)).decode() == results_json(results)
    assert [s["student"] for s in results_data(results)["students"]] == list(results.ids)


def test_refuses_to_replace_a_folder_that_is_not_a_grades_folder(tmp_path: Path, handout: Spec) -> None:
    """The output folder is replaced whole, so a folder with other files (say `--out .`) is refused."""
    from gradegen.errors import GradegenError

    results = _results(handout, {"ana": {"z_h1": 0.3775}})
    course = tmp_path / "course"
    course.mkdir()
    (course / "answers.yaml").write_text("student: ana\n", "utf-8")
    with pytest.raises(GradegenError, match="not an earlier grades folder"):
        write_reports(results, course)
    assert (course / "answers.yaml").is_file()
    (tmp_path / "file").write_text("x", "utf-8")
    with pytest.raises(GradegenError, match="not a folder"):
        write_reports(results, tmp_path / "file")
    empty = tmp_path / "empty"
    empty.mkdir()
    write_reports(results, empty)
    write_reports(results, empty)  # now an earlier grades folder: replaced
    assert (empty / "results.json").is_file()


def test_a_registered_gradebook_kind_and_feedback_format(
    tmp_path: Path, handout: Spec, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A gradebook kind or feedback format registered in reports/formats.py is written by
    write_reports with nothing else changed; unregistered names are refused with one line."""
    from gradegen.errors import GradegenError
    from gradegen.reports import formats

    results = _results(handout, {"ana": {"z_h1": 0.3775}, "bo": {}})

    def scores(r: GradingResults, sheet: Sheet) -> str:
        return "".join(f"{s} {x:g} {sheet.assignment}\n" for s, x in zip(r.ids, r.scores, strict=True))

    def page(r: GradingResults, i: int) -> str:
        return f"{r.ids[i]}\n"

    kind = formats.Gradebook("scores.txt", scores)
    plain = formats.FeedbackFormat(".txt", page, lambda r: (page(r, i).encode() for i in range(len(r))))
    monkeypatch.setitem(formats.GRADEBOOKS, "scores", kind)
    monkeypatch.setitem(formats.FEEDBACK_FORMATS, "txt", plain)
    out = write_reports(results, tmp_path / "out", gradebook="scores", feedback_format="txt")
    assert (out / "scores.txt").read_text("utf-8") == f"ana 1 {handout.title}\nbo 0 {handout.title}\n"
    assert sorted(p.name for p in (out / "feedback").iterdir()) == ["ana.txt", "bo.txt"]
    assert (out / "feedback" / "bo.txt").read_text("utf-8") == "bo\n"
    assert not (out / "gradebook.csv").exists()
    refused = r"--gradebook: expected one of plain, canvas, .*, scores, got 'lms'"
    with pytest.raises(GradegenError, match=refused):
        write_reports(results, tmp_path / "bad", gradebook="lms")
    with pytest.raises(GradegenError, match="--feedback-format"):
        write_reports(results, tmp_path / "bad", feedback_format="pdf")
    assert not (tmp_path / "bad").exists()


def test_student_feedback_is_the_written_page(tmp_path: Path, handout: Spec) -> None:
    """student_feedback gives one student's page, the bytes written to their feedback file."""
    from gradegen.reports.write import student_feedback

    results = _results(handout, {"ana": {"z_h1": 0.3775, "dL_dw5": "-0.0822"}, "bo": {"a_h1": 0.7}})
    out = write_reports(results, tmp_path / "out")
    for student in ("ana", "bo"):
        assert student_feedback(results, student) == (out / "feedback" / f"{student}.md").read_text("utf-8")


def test_write_gradebook_keeps_an_existing_file_without_force(tmp_path: Path, handout: Spec) -> None:
    """write_gradebook writes one gradebook to a path and replaces an existing file only with
    force; the plain gradebook lists every graded student, then the roster's students without a
    submission with empty cells (0 with missing_as_zero)."""
    from gradegen.errors import GradegenError
    from gradegen.reports.write import write_gradebook
    from gradegen.variants.roster import parse_roster

    results = _results(handout, {"ana": {"z_h1": 0.3775}, "zed": {}})
    roster = parse_roster("id\nana\nbo\n")
    path = tmp_path / "grades.csv"
    path.write_text("mine\n", "utf-8")
    with pytest.raises(GradegenError, match="already exists"):
        write_gradebook(results, "plain", path, roster=roster)
    assert path.read_text("utf-8") == "mine\n"
    sheet = write_gradebook(results, "plain", path, roster=roster, force=True)
    assert path.read_text("utf-8").splitlines() == [
        "student,score,max,percent",
        "ana,1,32,3.1",
        "zed,0,32,0.0",
        "bo,,,",
    ]
    assert (sheet.missing, sheet.unknown) == (("bo",), ("zed",))
    write_gradebook(results, "plain", path, roster=roster, missing_as_zero=True, force=True)
    assert path.read_text("utf-8").splitlines()[-1] == "bo,0,,"

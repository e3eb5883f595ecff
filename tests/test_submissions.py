"""Reading submissions: answers files, folders, CSV exports, and every kind of broken file."""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gradegen.core.spec import Spec
from gradegen.grading.grade import grade
from gradegen.grading.results import Verdict
from gradegen.grading.submissions import read_submissions
from gradegen.reports.write import write_reports


def test_yaml_json_and_nested_answers(tmp_path: Path) -> None:
    """answers.yaml, the same as JSON, and an `answers:` mapping are all read."""
    (tmp_path / "a.yaml").write_text("student: ana\nz_h1: 0.3775\ndL_dw5: '8.22 × 10^-2'\n", "utf-8")
    (tmp_path / "b.json").write_text(json.dumps({"student": 42, "z_h1": "0,3775"}), "utf-8")
    (tmp_path / "c.yml").write_text("student: cy\nanswers:\n  z_h1: .3775\n", "utf-8")
    table = read_submissions([tmp_path])
    assert table.students == ["ana", "42", "cy"]
    assert table.columns["z_h1"] == [0.3775, "0,3775", 0.3775]  # YAML reads .3775 as a number
    assert table.columns["dL_dw5"] == ["8.22 × 10^-2", None, None]
    assert not table.errors


def test_folders_are_recursive_sorted_and_filtered(tmp_path: Path) -> None:
    """Folders are read recursively in sorted order; only .yaml/.yml/.json/.csv files count."""
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "z.yaml").write_text("student: zed\n", "utf-8")
    (tmp_path / "a.yaml").write_text("student: amy\n", "utf-8")
    (tmp_path / "notes.txt").write_text("not an answer", "utf-8")
    (tmp_path / ".hidden.yaml").write_text("student: ghost\n", "utf-8")
    table = read_submissions([tmp_path])
    assert table.students == ["amy", "zed"]


def test_csv_columns(tmp_path: Path) -> None:
    """A CSV has a student column and one column per id; blank rows are skipped."""
    path = tmp_path / "class.csv"
    path.write_text("Student,name,z_h1,a_h1\nana,Ana A,0.3775,0.5933\n,,,\nbo,Bo B,,x\n", "utf-8")
    table = read_submissions([path])
    assert table.students == ["ana", "bo"]
    assert {q: list(cells) for q, cells in table.columns.items()} == {
        "z_h1": ["0.3775", ""],
        "a_h1": ["0.5933", "x"],
    }


def test_csv_row_without_student(tmp_path: Path) -> None:
    """A CSV row without a student id is reported and not graded; the others are."""
    path = tmp_path / "class.csv"
    path.write_text("student,z_h1\nana,0.3775\n,0.4\n", "utf-8")
    table = read_submissions([path])
    assert table.students == ["ana"]
    assert any("row 3" in e.message and "no student id" in e.message for e in table.errors)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bad.yaml", "student: [unclosed\n", "invalid YAML"),
        ("bin.yaml", b"\x00\x01\x02binary", "binary"),
        ("nostudent.yaml", "z_h1: 0.3775\n", "no student field"),
        ("list.yaml", "- 1\n- 2\n", "expected a mapping"),
        ("empty.yaml", "", "expected a mapping"),
        (
            "bomb.yaml",
            "a: &a [1,1,1,1,1,1,1,1,1]\n"
            + "".join(
                f"{c}: &{c} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]\n"
                for p, c in zip("abcdefgh", "bcdefghi", strict=True)
            )
            + "student: x\n",
            "alias bomb",
        ),
        ("tag.yaml", "student: !!python/object/apply:os.system ['true']\n", "invalid YAML"),
        ("bad.json", "{", "invalid JSON"),
        ("nohead.csv", "name,z_h1\nana,1\n", "no student column"),
    ],
)
def test_broken_files_are_reported(tmp_path: Path, name: str, content: str | bytes, message: str) -> None:
    """Each broken file is reported with its reason and the other files are still read."""
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, "utf-8")
    (tmp_path / "zz_good.yaml").write_text("student: good\nz_h1: 0.3775\n", "utf-8")
    table = read_submissions([tmp_path])
    assert table.students == ["good"]
    assert [e.file for e in table.errors] == [str(path)]
    assert message in table.errors[0].message


def test_missing_path_is_reported(tmp_path: Path) -> None:
    """A submissions path that does not exist is reported, not raised."""
    table = read_submissions([tmp_path / "nope.yaml"])
    assert table.errors[0].message == "no such file or folder"


def _broken_folder(root: Path) -> Path:
    folder = root / "sheets"
    folder.mkdir()
    (folder / "01_invalid.yaml").write_text("student: x\nz_h1: [\n", "utf-8")
    (folder / "02_binary.yaml").write_bytes(b"\x89PNG\x00\x00")
    (folder / "03_unknown_id.yaml").write_text("student: uma\nz_h1: 0.3775\nw99_new: 1\n", "utf-8")
    (folder / "04_dupe_a.yaml").write_text("student: dupe\nz_h1: 0.3775\n", "utf-8")
    (folder / "05_dupe_b.yaml").write_text("student: dupe\nz_h1: 0.3\n", "utf-8")
    (folder / "06_nostudent.yaml").write_text("z_h1: 0.3775\n", "utf-8")
    return folder


def test_class_csv_and_broken_folder_in_one_run(tmp_path: Path, handout: Spec) -> None:
    """1,000 students in a CSV with mixed errors and a folder of broken files grade in one run."""
    rng = np.random.default_rng(7)
    n = 1000
    right = {"z_h1": 0.3775, "a_h1": 0.5933, "dL_dw5": 0.0822, "step_w5": 0.00000822}
    kind = rng.integers(0, 5, size=(n, len(right)))  # 0,1: right; 2: sign; 3: blank; 4: junk
    cells: dict[str, list[str]] = {}
    expected_correct = np.zeros(n)
    for j, (q, value) in enumerate(right.items()):
        column = []
        for i in range(n):
            k = kind[i, j]
            if k <= 1:
                column.append(f"{value:.8g}")
                expected_correct[i] += 1
            elif k == 2:
                column.append(f"{-value:.8g}")
            elif k == 3:
                column.append("")
            else:
                column.append("n/a")
        cells[q] = column
    # a_h1 and ∂L/∂w5 = δ_out · a_h1 both negated: the second follows from the first (follow-through)
    a, g = list(right).index("a_h1"), list(right).index("dL_dw5")
    expected_correct += (kind[:, a] == 2) & (kind[:, g] == 2)
    # and the step η·∂L/∂w5 of a negated gradient, negated too, follows from it
    st = list(right).index("step_w5")
    expected_correct += (kind[:, g] == 2) & (kind[:, st] == 2)
    lines = ["student," + ",".join(right)]
    lines += [f"s{i:04d}," + ",".join(cells[q][i] for q in right) for i in range(n)]
    csv_path = tmp_path / "class.csv"
    csv_path.write_text("\n".join(lines) + "\n", "utf-8")
    folder = _broken_folder(tmp_path)

    results = grade(handout, [csv_path, folder])
    asked = 32  # what the handout's worksheet asks: every quantity but its 12 givens, the steps
    # η·∂L/∂p rather than the new values (its η is tiny)
    assert len(results) == n + 2  # the CSV's students, uma and the first dupe
    by_id = {s: i for i, s in enumerate(results.ids)}
    scores = results.scores[[by_id[f"s{i:04d}"] for i in range(n)]]
    assert scores.tolist() == expected_correct.tolist()
    assert results.maxima.tolist() == [asked] * (n + 2)
    assert results.summary()["mean"] == pytest.approx(
        100 * (expected_correct.sum() + 1 + 1) / ((n + 2) * asked)
    )
    verdicts = [results.student(by_id["s0000"]).items[q].verdict for q in right]
    wanted = [
        [Verdict.CORRECT, Verdict.CORRECT, Verdict.INCORRECT, Verdict.MISSING, Verdict.UNPARSEABLE][k]
        for k in kind[0]
    ]
    assert verdicts == wanted
    messages = {Path(e.file).name: e.message for e in results.errors}
    assert set(messages) == {"01_invalid.yaml", "02_binary.yaml", "05_dupe_b.yaml", "06_nostudent.yaml"}
    assert "duplicate student 'dupe'" in messages["05_dupe_b.yaml"]
    uma = results.student(by_id["uma"])
    assert uma.items["z_h1"].verdict is Verdict.CORRECT
    assert any("w99_new" in e for e in uma.errors)

    write_reports(results, tmp_path / "grades")
    summary = (tmp_path / "grades" / "summary.md").read_text("utf-8")
    assert f"- Students graded: {n + 2}" in summary
    mean = 100 * (expected_correct.sum() + 2) / ((n + 2) * asked)
    assert f"- Mean: {mean:.1f}%" in summary
    correct_z_h1 = int((kind[:, 0] <= 1).sum()) + 2  # the CSV's right answers, uma and dupe
    assert f"| `z_h1` | {100 * correct_z_h1 / (n + 2):.1f}% |" in summary
    for name in messages:  # listed among the broken submissions (Markdown-escaped)
        assert name.replace("_", "\\_") in summary
    assert len(list((tmp_path / "grades" / "feedback").iterdir())) == n + 2


def test_quoted_and_ragged_csv(tmp_path: Path) -> None:
    """Quoted cells (a decimal comma, a comma in an id) and short rows go through the csv module.

    (Issue 10: the csv module's columns are numpy text arrays too, as the fast reader's are.)
    """
    path = tmp_path / "class.csv"
    path.write_text('student,z_h1,a_h1\r\n"Lee, Ana","0,3775",0.5933\r\nbo,0.3775\r\n', "utf-8")
    table = read_submissions([path])
    assert table.students == ["Lee, Ana", "bo"]
    assert {q: list(c) for q, c in table.columns.items()} == {
        "z_h1": ["0,3775", "0.3775"],
        "a_h1": ["0.5933", ""],
    }
    assert "row 3" in table.errors[0].message and "expected 3 cells" in table.errors[0].message


def test_duplicate_student_across_csv_and_yaml(tmp_path: Path, handout: Spec) -> None:
    """The first submission of a student counts; a later one (in any file) is reported and ignored."""
    (tmp_path / "a.csv").write_text("student,z_h1\nana,0.3775\n", "utf-8")
    (tmp_path / "b.yaml").write_text("student: ana\nz_h1: 0.1\n", "utf-8")
    results = grade(handout, [tmp_path])
    assert results.ids == ("ana",)
    assert results.student(0).items["z_h1"].verdict is Verdict.CORRECT
    assert "duplicate student 'ana'" in results.errors[0].message


# Unquoted cells: ASCII (read on the bytes), a Unicode minus (read as text), and sometimes longer
# than the 40 characters a numpy text column takes (read by the csv module).
_CELLS = st.text("0123456789.-e x/−", max_size=12) | st.text("9", min_size=38, max_size=42)


@given(
    st.integers(1, 4).flatmap(
        lambda width: st.lists(st.lists(_CELLS, min_size=width, max_size=width), max_size=12)
    ),
    st.sampled_from(["\n", "\r\n"]),
    st.booleans(),
)
def test_csv_cells_read_as_the_csv_module_reads_them(
    rows: list[list[str]], newline: str, final_newline: bool
) -> None:
    """Every cell of an unquoted CSV export is read exactly as the csv module reads it."""
    width = len(rows[0]) if rows else 1
    ids = [f"q{j}" for j in range(width)]
    lines = [",".join(["student", *ids])] + [",".join([f"s{i}", *row]) for i, row in enumerate(rows)]
    text = newline.join(lines) + (newline if final_newline else "")
    expected = list(csv.reader(io.StringIO(text, newline="")))[1:]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "class.csv"
        path.write_bytes(text.encode("utf-8"))
        table = read_submissions([path])
    assert not table.errors
    assert table.students == [row[0] for row in expected]
    for j, q in enumerate(ids):
        column = table.columns.get(q, [])
        cells = column.tolist() if isinstance(column, np.ndarray) else list(column)
        assert cells == [row[j + 1] for row in expected]


# --------------------------------------------------------------------------- hostile but real files


def test_a_bad_csv_row_costs_that_student_only(tmp_path: Path, handout: Spec) -> None:
    """A quote left open and a cell over the csv module's limit each cost their row, named; the
    students on every other row are graded."""
    huge = "9" * 140_000
    path = tmp_path / "class.csv"
    path.write_text(
        f'student,z_h1\nana,0.3775\nbo,"0.3775\ncy,0.3775\ndi,{huge}\neve,0.3775\nfay,"0.37\n', "utf-8"
    )
    results = grade(handout, [path])
    assert results.ids == ("ana", "cy", "eve")
    assert all(results.student(i).items["z_h1"].verdict is Verdict.CORRECT for i in range(3))
    assert [e.message for e in results.errors] == [
        "row 3: invalid CSV, a quote is left open (its cell runs past 131,072 characters); "
        "this row is not graded",
        "row 5: invalid CSV, a cell longer than 131,072 characters; this row is not graded",
        "row 7: invalid CSV, a quote is left open; this row is not graded",
    ]


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("big.yaml", "student: s\nz_h1: 0.3775\ndL_dw5: " + "9" * 400 + "\n"),
        ("huge.yaml", "student: s\nz_h1: 0.3775\ndL_dw5: " + "9" * 5000 + "\n"),
        ("big.json", '{"student": "s", "z_h1": 0.3775, "dL_dw5": ' + "9" * 400 + "}"),
        ("huge.json", '{"student": "s", "z_h1": 0.3775, "dL_dw5": [' + "9" * 5000 + "]}"),
        ("minus.yaml", "student: s\nz_h1: 0.3775\ndL_dw5: -" + "9" * 4400 + "\n"),
    ],
)
def test_very_long_integers_cost_that_answer(tmp_path: Path, handout: Spec, name: str, text: str) -> None:
    """An answer of 400 or 5,000 digits (YAML or JSON, alone or in a list) is unparseable; the
    student's other answers and the other students are graded."""
    (tmp_path / name).write_text(text, "utf-8")
    (tmp_path / "zz.yaml").write_text("student: zz\nz_h1: 0.3775\n", "utf-8")
    results = grade(handout, [tmp_path])
    assert results.ids == ("s", "zz") and not results.errors
    items = results.student(0).items
    assert items["z_h1"].verdict is Verdict.CORRECT
    assert items["dL_dw5"].verdict is Verdict.UNPARSEABLE
    assert results.student(1).items["z_h1"].verdict is Verdict.CORRECT


def test_a_self_holding_answer_costs_that_file(tmp_path: Path, handout: Spec) -> None:
    """`dL_dw5: &a [*a]` is that file's error (naming the line); the other students are graded."""
    (tmp_path / "a.yaml").write_text("student: a\nz_h1: 0.3775\ndL_dw5: &a [*a]\n", "utf-8")
    (tmp_path / "b.yaml").write_text("student: b\nz_h1: 0.3775\n", "utf-8")
    results = grade(handout, [tmp_path])
    assert results.ids == ("b",)
    assert results.errors[0].file.endswith("a.yaml")
    assert "line 3: a value that holds itself" in results.errors[0].message


def test_file_names_that_are_not_utf8_reach_the_reports(tmp_path: Path, handout: Spec) -> None:
    """A broken and a duplicate sheet whose names are not UTF-8 (zip downloads from Windows) are
    reported with the odd bytes escaped, and results.json and the summary are written."""
    folder = tmp_path / "subs"
    folder.mkdir()
    raw = os.fsencode(folder)
    (folder / "a.yaml").write_text("student: ana\nz_h1: 0.3775\n", "utf-8")
    Path(os.fsdecode(raw + b"/b\xe9.yaml")).write_text("student: ana\nz_h1: 0.1\n", "utf-8")
    Path(os.fsdecode(raw + b"/c\xff.yaml")).write_text("student: [\n", "utf-8")
    results = grade(handout, [folder])
    write_reports(results, tmp_path / "grades")
    data = json.loads((tmp_path / "grades" / "results.json").read_text("utf-8"))
    files = sorted(Path(e["file"]).name for e in data["errors"])
    assert files == ["b\\xe9.yaml", "c\\xff.yaml"]
    assert [s["student"] for s in data["students"]] == ["ana"]
    assert "c\\\\xff.yaml" in (tmp_path / "grades" / "summary.md").read_text("utf-8")


def test_links_inside_a_folder_are_reported_not_followed(tmp_path: Path) -> None:
    """A link to a sheet elsewhere, to /etc/passwd or to a folder is reported and never opened;
    a link named on the command line is the user's choice and is read."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "other.yaml").write_text("student: other\nz_h1: 1\n", "utf-8")
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "real.yaml").write_text("student: real\nz_h1: 1\n", "utf-8")
    (subs / "x.yaml").symlink_to(elsewhere / "other.yaml")
    (subs / "evil.yaml").symlink_to("/etc/passwd")
    (subs / "more").symlink_to(elsewhere, target_is_directory=True)
    (subs / "dangling.csv").symlink_to(tmp_path / "nothing.csv")
    (subs / "notes.md").symlink_to("/etc/passwd")  # not an answers file name: left alone
    table = read_submissions([subs])
    assert table.students == ["real"]
    reported = {Path(e.file).name: e.message for e in table.errors}
    assert set(reported) == {"x.yaml", "evil.yaml", "more", "dangling.csv"}
    assert all("symbolic link" in m and "not followed" in m for m in reported.values())
    assert read_submissions([subs / "x.yaml"]).students == ["other"]
    assert read_submissions([subs / "more"]).students == ["other"]


def test_an_unreadable_subfolder_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A subfolder that cannot be listed is reported (its files are not graded); the rest is read."""
    (tmp_path / "a.yaml").write_text("student: a\n", "utf-8")
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "b.yaml").write_text("student: b\n", "utf-8")
    scandir = os.scandir

    def refusing(path: Any) -> Any:
        if Path(path) == locked:  # the tests run as root, whom chmod does not stop
            raise PermissionError(13, "Permission denied", str(path))
        return scandir(path)

    monkeypatch.setattr(os, "scandir", refusing)
    table = read_submissions([tmp_path])
    assert table.students == ["a"]
    assert [(e.file, e.message) for e in table.errors] == [
        (str(locked), "cannot read this folder (Permission denied); its files are not graded")
    ]


def test_pipes_are_reported_in_a_folder_and_on_the_command_line(tmp_path: Path) -> None:
    """A named pipe, in a folder or named on the command line, is reported without waiting on it."""
    (tmp_path / "a.yaml").write_text("student: a\n", "utf-8")
    os.mkfifo(tmp_path / "pipe.yaml")
    os.mkfifo(tmp_path / "pipe.csv")
    table = read_submissions([tmp_path, tmp_path / "pipe.csv"])
    assert table.students == ["a"]
    assert len(table.errors) == 3 and all("not a regular file" in e.message for e in table.errors)


_TABLE = "{id}{d}z_h1{d}a_h1\r\nana{d}{z}{d}0.5933\r\nbo{d}{z}{d}\r\n"


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be"])
def test_tables_as_spreadsheets_save_them(tmp_path: Path, delimiter: str, encoding: str) -> None:
    """Comma, semicolon (with decimal commas) or tab separated; UTF-8 with or without a BOM or
    UTF-16 with one (LE or BE): the same students and cells."""
    z = "0,3775" if delimiter == ";" else "0.3775"
    text = _TABLE.format(id="Student", d=delimiter, z=z)
    bom = {"utf-16-le": codecs.BOM_UTF16_LE, "utf-16-be": codecs.BOM_UTF16_BE}.get(encoding, b"")
    path = tmp_path / "class.csv"
    path.write_bytes(bom + text.encode(encoding))
    table = read_submissions([path])
    assert not table.errors
    assert table.students == ["ana", "bo"]
    assert [str(c) for c in table.columns["z_h1"]] == [z, z]
    assert [str(c) for c in table.columns["a_h1"]] == ["0.5933", ""]


def test_excel_unicode_text_graded_from_a_txt_file(tmp_path: Path, handout: Spec) -> None:
    """Excel's "Unicode text" (UTF-16, tabs, .txt) named on the command line is graded; in a
    folder a .txt file is left alone and a .tsv file is read."""
    path = tmp_path / "export.txt"
    path.write_bytes(_TABLE.format(id="email", d="\t", z="0,3775").encode("utf-16"))
    results = grade(handout, [path])
    assert results.ids == ("ana", "bo") and not results.errors
    assert results.student(0).items["z_h1"].verdict is Verdict.CORRECT
    folder = tmp_path / "folder"
    folder.mkdir()
    path.rename(folder / "export.txt")
    (folder / "more.tsv").write_text(_TABLE.format(id="id", d="\t", z="0.3775").replace("ana", "cy"), "utf-8")
    assert read_submissions([folder]).students == ["cy", "bo"]


@pytest.mark.parametrize("header", ["student_id", "Student ID", "id", "EMAIL", "student"])
def test_submission_tables_take_the_roster_id_columns(tmp_path: Path, header: str) -> None:
    """The same id columns as a roster; the other id and name columns are not answers; the
    header is the first row with text."""
    path = tmp_path / "class.csv"
    path.write_text(f"\n\n{header},name,Full Name,z_h1\nana,Ana,Ana A,0.3775\n", "utf-8")
    table = read_submissions([path])
    assert table.students == ["ana"] and not table.errors
    assert list(table.columns) == ["z_h1"]


def test_the_preferred_id_column_wins_and_others_are_not_answers(tmp_path: Path) -> None:
    """With student and email columns, student is the id and email is not graded as an answer."""
    path = tmp_path / "class.csv"
    path.write_text("email,student,z_h1\na@x.org,ana,0.3775\n", "utf-8")
    table = read_submissions([path])
    assert table.students == ["ana"] and list(table.columns) == ["z_h1"]


@pytest.mark.parametrize(
    ("name", "text", "student"),
    [
        ("a.yaml", "student: 0123\n", "0123"),
        ("a.yaml", "student: 12:30\n", "12:30"),
        ("a.yaml", "student: 1e3\n", "1e3"),
        ("a.yaml", "student: no\n", "no"),
        ("a.yaml", "student: 007.50\n", "007.50"),
        ("a.json", '{"student": 1e3}', "1e3"),
        ("a.json", '{"student": 1.50}', "1.50"),
        ("a.json", '{"student": 42}', "42"),
    ],
)
def test_the_student_field_is_read_as_typed(tmp_path: Path, name: str, text: str, student: str) -> None:
    """A student id typed by hand is its text, whatever it looks like (no octal, base 60, floats
    or booleans)."""
    (tmp_path / name).write_text(text, "utf-8")
    assert read_submissions([tmp_path]).students == [student]


def test_a_student_field_that_is_not_one_value_is_named(tmp_path: Path) -> None:
    """`student: [a, b]` is that file's error, saying what the field holds."""
    (tmp_path / "a.yaml").write_text("student: [a, b]\n", "utf-8")
    table = read_submissions([tmp_path])
    assert table.students == [] and "the student field is a list" in table.errors[0].message

"""The Canvas roster and gradebook, checked against Canvas's own import rules.

:func:`canvas_import` re-reads a written file as canvas-lms's ``GradebookImporter`` does
(``app/models/gradebook_importer.rb``): the header checks, the Points Possible row, the skipped
posting-policy row, ``Assignment.title_and_id``, and student matching by ID, then SIS User ID,
then SIS Login ID, then name; a row matching nobody is a student Canvas would have to invent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from lms_class import (
    FIXTURES,
    PARTLY_SCORE,
    POINTS_POSSIBLE,
    RIGHT_SCORE,
    UNKNOWN,
    graded_class,
    number,
    read_csv,
)

from gradegen.errors import GradegenError
from gradegen.reports.write import write_gradebook
from gradegen.variants.exports import Lms
from gradegen.variants.roster import parse_roster, read_roster

NON_ASSIGNMENT = re.compile(
    "Current Score|Current Points|Current Grade|Final Score|Final Points|Final Grade|"
    "Override Score|Override Grade|Override Status"
)
MUTED = re.compile(r"^\s*(Muted|Manual Posting.*)?\s*$", re.IGNORECASE)
TITLE_AND_ID = re.compile(r"\A(.*)\s+\((\d+)\)\Z")


@dataclass(frozen=True)
class CanvasStudent:
    id: str
    sis_user_id: str
    sis_login_id: str
    name: str


@dataclass(frozen=True)
class CanvasImport:
    """What Canvas's importer makes of a file: assignments (title, id or None), their points
    possible, and each matched student's grades by Canvas user id."""

    assignments: list[tuple[str, str | None]]
    points: list[str]
    grades: dict[str, list[str]]


class InvalidHeaderRowError(Exception):
    pass


def canvas_import(text: str, course: list[CanvasStudent]) -> CanvasImport:
    """``text`` read by the rules of canvas-lms's GradebookImporter, against a course's students."""
    rows = read_csv(text)
    header = rows[0]
    if not (len(header) > 3 and "Student" in header[0] and "ID" in header[1]):
        raise InvalidHeaderRowError(header)
    columns, sis_user, sis_login = 3, None, None
    if re.search(r"SIS\s+Login\s+ID", header[2]):
        sis_login, columns = 2, columns + 1
    elif re.search(r"SIS\s+User\s+ID", header[2]) and re.search(r"SIS\s+Login\s+ID", header[3]):
        sis_user, sis_login, columns = 2, 3, columns + 2
    if "Section" not in header[columns - 1]:
        raise InvalidHeaderRowError(header)
    kept = [j for j in range(columns, len(header)) if not NON_ASSIGNMENT.search(header[j])]
    assignments = []
    for j in kept:
        found = TITLE_AND_ID.match(header[j])
        assignments.append((found.group(1), found.group(2)) if found else (header[j], None))
    points: list[str] = []
    grades: dict[str, list[str]] = {}
    for row in rows[1:]:
        if "Points Possible" in row[0]:
            points = [row[j] for j in kept]
            continue
        if all(MUTED.match(cell) for cell in row):
            continue
        student = next((s for s in course if row[1] and s.id == row[1]), None)
        if student is None and sis_user is not None and row[sis_user]:
            student = next((s for s in course if s.sis_user_id == row[sis_user]), None)
        if student is None and sis_login is not None and row[sis_login]:
            student = next((s for s in course if s.sis_login_id == row[sis_login]), None)
        if student is None:
            student = next((s for s in course if s.name == row[0]), None)
        assert student is not None, f"Canvas would have to invent a student for {row}"
        grades[student.id] = [row[j].strip() for j in kept]
    return CanvasImport(assignments, points, grades)


COURSE = [
    CanvasStudent("1001", "S0001", "ada@uni.example", "Lovelace, Ada"),
    CanvasStudent("1002", "S0002", "alan@uni.example", "Turing, Alan"),
    CanvasStudent("1003", "S0003", "grace@uni.example", "Hopper, Grace"),
    CanvasStudent("1099", "", "5e6f7a8b9c0d1e2f", "Student, Test"),
]
"""The Canvas course the fixture was exported from."""


def test_a_canvas_export_is_read_as_a_roster() -> None:
    """A Canvas gradebook export is recognised by its header: the ids are Canvas's user ids (the
    ID column), the names the Student column, and the Points Possible row is no student."""
    roster = read_roster(FIXTURES / "canvas" / "roster.csv")
    assert roster.lms is Lms.CANVAS and roster.key == "ID"
    assert roster.ids == ("1001", "1002", "1003", "1099")
    assert roster.names == ("Lovelace, Ada", "Turing, Alan", "Hopper, Grace", "Student, Test")
    ada = roster.students[0]
    assert (ada.field("SIS User ID"), ada.field("SIS Login ID"), ada.field("Section")) == (
        "S0001",
        "ada@uni.example",
        "NN 101 - 01",
    )
    assert "Backprop homework (48213)" in roster.columns


def test_the_canvas_gradebook_imports_by_canvas_rules(tmp_path: Path) -> None:
    """Written for the class, the file passes Canvas's header checks, updates the exported
    assignment by its id (its title matched in the roster's columns), carries the points
    possible, matches every row to a Canvas student by ID, and gives the right student 32, the
    partly right 2, the missing ones no grade (no change), and no row to the unknown student."""
    graded = graded_class("canvas")
    path = tmp_path / "canvas.csv"
    sheet = write_gradebook(graded.results, "canvas", path, assignment="Backprop homework")
    imported = canvas_import(path.read_text("utf-8"), COURSE)
    assert imported.assignments == [("Backprop homework", "48213")]
    assert [number(p) for p in imported.points] == [POINTS_POSSIBLE]
    assert list(imported.grades) == ["1001", "1002", "1003", "1099"]  # roster order, all matched by ID
    assert number(imported.grades[graded.right][0]) == RIGHT_SCORE
    assert number(imported.grades[graded.partly][0]) == PARTLY_SCORE
    assert [imported.grades[m] for m in graded.missing] == [[""], [""]]
    assert sheet.unknown == (UNKNOWN,) and sheet.missing == graded.missing
    rows = read_csv(path.read_text("utf-8"))
    assert rows[2][:5] == ["Lovelace, Ada", "1001", "S0001", "ada@uni.example", "NN 101 - 01"]


def test_the_canvas_column_is_the_title_or_the_given_id(tmp_path: Path) -> None:
    """Without --assignment the column is the spec's title alone (Canvas matches it by title or
    creates it with the Points Possible row's points); --canvas-assignment-id adds ``(<id>)``;
    --missing-as-zero gives the missing students 0; a non-numeric id is refused in one line."""
    graded = graded_class("canvas")
    write_gradebook(graded.results, "canvas", tmp_path / "a.csv")
    imported = canvas_import((tmp_path / "a.csv").read_text("utf-8"), COURSE)
    assert imported.assignments == [("Backpropagation worked example", None)]
    b = tmp_path / "b.csv"
    write_gradebook(graded.results, "canvas", b, canvas_assignment_id="777", missing_as_zero=True)
    imported = canvas_import((tmp_path / "b.csv").read_text("utf-8"), COURSE)
    assert imported.assignments == [("Backpropagation worked example", "777")]
    assert [number(imported.grades[m][0]) for m in graded.missing] == [0.0, 0.0]
    with pytest.raises(GradegenError, match=r"^--canvas-assignment-id: expected the digits .* got 'abc'$"):
        write_gradebook(graded.results, "canvas", tmp_path / "c.csv", canvas_assignment_id="abc")
    assert not (tmp_path / "c.csv").exists()


def test_a_plain_roster_goes_to_canvas_as_sis_user_ids(tmp_path: Path) -> None:
    """A plain roster's ids are the institution's: written as SIS User IDs (ID left empty),
    Canvas matches each row by SIS User ID."""
    from gradegen.core.spec import preset
    from gradegen.grading.grade import grade
    from gradegen.grading.submissions import Submissions

    roster = parse_roster("id,name\nS0001,Ada Lovelace\nS0002,Alan Turing\n")
    table = Submissions()
    table.add_record("S0002", "alan.yaml", {"z_h1": "0.3775"}, [])
    results = grade(preset("handout"), table, roster=roster)
    write_gradebook(results, "canvas", tmp_path / "g.csv")
    imported = canvas_import((tmp_path / "g.csv").read_text("utf-8"), COURSE)
    assert imported.grades == {"1001": [""], "1002": ["1"]}


def test_canvas_cells_cannot_run_as_formulas(tmp_path: Path) -> None:
    """A roster's name or section that a spreadsheet would run is neutralised with a quote."""
    from gradegen.core.spec import preset
    from gradegen.grading.grade import grade
    from gradegen.grading.submissions import Submissions

    text = (FIXTURES / "canvas" / "roster.csv").read_text("utf-8-sig").replace("NN 101 - 02", "=HYPERLINK(1)")
    roster = parse_roster(text)
    results = grade(preset("handout"), Submissions(), roster=roster)
    write_gradebook(results, "canvas", tmp_path / "g.csv")
    rows = read_csv((tmp_path / "g.csv").read_text("utf-8"))
    assert rows[4][4] == "'=HYPERLINK(1)"
    assert rows[1] == ["    Points Possible", "", "", "", "", ""]  # nobody graded: no points known

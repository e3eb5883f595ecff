"""The Moodle roster and gradebook, checked against Moodle's own CSV grade import rules.

:func:`moodle_import` re-reads a written file as ``gradeimport_csv_load_data`` does
(moodle/moodle ``grade/import/csv/classes/load_data.php``): the teacher maps one column to a user
field (email or ID number), one to the grade item and one to its feedback; each row's user must
exist in the course or the whole import stops (``usermappingerrorusernotfound``); ``''`` or
``-`` is no grade, anything else must read as a number (``unformat_float``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from lms_class import FIXTURES, PARTLY_SCORE, RIGHT_SCORE, UNKNOWN, graded_class, read_csv

from gradegen.core.spec import preset
from gradegen.grading.grade import grade
from gradegen.grading.submissions import Submissions
from gradegen.reports.write import write_gradebook
from gradegen.variants.exports import Lms
from gradegen.variants.roster import parse_roster, read_roster

MAP_TO = {"Email address": "email", "ID number": "idnumber"}
"""The columns the map-from list offers, as Moodle's user fields."""


@dataclass(frozen=True)
class MoodleUser:
    email: str
    idnumber: str


class UserNotFoundError(Exception):
    """Moodle's usermappingerrorusernotfound: the whole import is abandoned."""


def unformat_float(cell: str) -> float | None:
    """Moodle's reading of a grade: '' or '-' is no grade; a decimal point or comma is accepted."""
    if cell in ("", "-"):
        return None
    return float(cell.replace(",", "."))


def moodle_import(
    text: str, course: list[MoodleUser], *, map_from: str, grade_column: str, feedback_column: str
) -> dict[str, tuple[float | None, str]]:
    """Each user's (grade, feedback) as Moodle imports ``text`` with the teacher's mapping."""
    rows = read_csv(text)
    header = [h.strip() for h in rows[0]]
    field = MAP_TO[map_from]
    at, grade_at = header.index(map_from), header.index(grade_column)
    feedback_at = header.index(feedback_column)
    imported: dict[str, tuple[float | None, str]] = {}
    for row in rows[1:]:
        if len(row) <= 1:
            continue  # "There is no data on this line"
        value = row[at].strip()
        user = next((u for u in course if getattr(u, field) == value), None)
        if user is None:
            raise UserNotFoundError(value)
        imported[value] = (unformat_float(row[grade_at].strip()), row[feedback_at].strip())
    return imported


COURSE = [MoodleUser(f"{n}@uni.example", f"N{i}") for i, n in enumerate(("ada", "alan", "grace"), 1)]


def test_a_moodle_export_is_read_as_a_roster() -> None:
    """A Moodle grades export is recognised by its user fields: with ID numbers empty the ids are
    the email addresses, and the names are first name and surname."""
    roster = read_roster(FIXTURES / "moodle" / "roster.csv")
    assert roster.lms is Lms.MOODLE and roster.key == "Email address"
    assert roster.ids == ("ada@uni.example", "alan@uni.example", "grace@uni.example")
    assert roster.names == ("Ada Lovelace", "Alan Turing", "Grace Hopper")


def test_a_moodle_participants_download_with_id_numbers_uses_them() -> None:
    """When every student has an ID number (Moodle's participants download here), it is the id."""
    roster = parse_roster(
        '"First name","Last name","ID number","Email address",Roles,Groups\n'
        "Ada,Lovelace,N1,ada@uni.example,Student,A\nAlan,Turing,N2,alan@uni.example,Student,A\n"
    )
    assert roster.lms is Lms.MOODLE and roster.key == "ID number"
    assert roster.ids == ("N1", "N2") and roster.names == ("Ada Lovelace", "Alan Turing")


def test_the_moodle_gradebook_imports_by_moodle_rules(tmp_path: Path) -> None:
    """Mapped from the email column, every row finds its Moodle user (so the import is not
    abandoned): the right student 32, the partly right 2, the missing no grade, each graded one
    with a one-paragraph feedback summary; the unknown student has no row."""
    graded = graded_class("moodle")
    path = tmp_path / "moodle.csv"
    write_gradebook(graded.results, "moodle", path, assignment="Backprop homework")
    imported = moodle_import(
        path.read_text("utf-8"),
        COURSE,
        map_from="Email address",
        grade_column="Backprop homework",
        feedback_column="Feedback: Backprop homework",
    )
    assert list(imported) == list(graded.roster.ids)
    assert imported[graded.right] == (RIGHT_SCORE, "32 of 32 points (100.0%): 32 of 32 answers correct.")
    assert imported[graded.partly] == (
        PARTLY_SCORE,
        "2 of 32 points (6.2%): 2 of 32 answers correct; 30 not answered.",
    )
    assert imported[graded.missing[0]] == (None, "")
    assert UNKNOWN not in path.read_text("utf-8")


def test_an_unknown_user_would_stop_moodle_so_none_is_written(tmp_path: Path) -> None:
    """The checker refuses a file naming a user Moodle lacks (as Moodle does); the gradebook of a
    plain roster of ID numbers maps from the ID number column instead."""
    with pytest.raises(UserNotFoundError):
        moodle_import(
            "Email address,A,Feedback: A\nnobody@x,1,\n", COURSE, map_from="Email address",
            grade_column="A", feedback_column="Feedback: A",
        )  # fmt: skip
    roster = parse_roster("id\nN1\nN3\n")
    table = Submissions()
    table.add_record("N3", "grace.yaml", {"z_h1": "0.3775", "dL_dw5": "-0.0822"}, [])
    results = grade(preset("handout"), table, roster=roster)
    write_gradebook(results, "moodle", tmp_path / "m.csv", missing_as_zero=True)
    item = "Backpropagation worked example"
    imported = moodle_import(
        (tmp_path / "m.csv").read_text("utf-8"), COURSE, map_from="ID number",
        grade_column=item, feedback_column=f"Feedback: {item}",
    )  # fmt: skip
    assert imported["N1"] == (0.0, "")
    grace_grade, grace_feedback = imported["N3"]
    assert grace_grade == 1.0 and "1 wrong (dL_dw5)" in grace_feedback

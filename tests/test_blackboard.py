"""The Blackboard roster and gradebook, checked against Blackboard's documented upload rules.

:func:`blackboard_upload` re-reads a written file by Blackboard Learn's "Uploading External Grade
Center Items": a header row; each row's student by User Name (a row without one fails the
upload, a username not enrolled is not processed); each column by the Column ID after ``|`` in
its header, a column without one being new; in a comma-delimited file every cell in quotes.
"""

from __future__ import annotations

import re
from pathlib import Path

from lms_class import FIXTURES, PARTLY_SCORE, RIGHT_SCORE, UNKNOWN, graded_class, number, read_csv

from gradegen.core.spec import preset
from gradegen.grading.grade import grade
from gradegen.grading.submissions import Submissions
from gradegen.reports.write import write_gradebook
from gradegen.variants.exports import Lms
from gradegen.variants.roster import parse_roster, read_roster

ROSTER = "gc_NN101_fullgc_2026-12-01-10-00-00.xls"
COLUMN_ID = re.compile(r"\|\s*(\d+)\s*\Z")
QUOTED_LINE = re.compile(r'"(?:[^"]|"")*"(?:,"(?:[^"]|"")*")*')


def blackboard_upload(text: str, enrolled: set[str]) -> dict[tuple[str, str | None], dict[str, float | None]]:
    """Grades by (column name, column id or None for a new column), then by username."""
    for line in text.splitlines():  # comma-delimited: every cell inside quotes
        assert QUOTED_LINE.fullmatch(line), line
    rows = read_csv(text)
    header = rows[0]
    user_at = header.index("Username")
    columns = {}
    for j, cell in enumerate(header):
        if j != user_at:
            found = COLUMN_ID.search(cell)
            columns[j] = (cell[: found.start()].strip(), found.group(1)) if found else (cell, None)
    uploaded: dict[tuple[str, str | None], dict[str, float | None]] = {c: {} for c in columns.values()}
    for row in rows[1:]:
        user = row[user_at]
        assert user, f"a row without a user name fails the upload: {row}"
        assert user in enrolled, f"{user} is not enrolled: not processed"
        for j, column in columns.items():
            uploaded[column][user] = number(row[j])
    return uploaded


def test_a_blackboard_download_is_read_as_a_roster() -> None:
    """A Grade Center download (UTF-16 tab-separated text named .xls) is recognised by its
    Last Name, First Name and Username columns: the ids are the usernames."""
    roster = read_roster(FIXTURES / "blackboard" / ROSTER)
    assert roster.lms is Lms.BLACKBOARD and roster.key == "Username"
    assert roster.ids == ("alovelace", "aturing", "ghopper")
    assert roster.names == ("Ada Lovelace", "Alan Turing", "Grace Hopper")
    assert roster.students[0].field("Student ID") == "S0001"


def test_the_blackboard_gradebook_uploads_by_blackboard_rules(tmp_path: Path) -> None:
    """Every cell quoted, every row an enrolled username, and the grades going into the
    downloaded column of the assignment's name (its column id 4810): the right student 32, the
    partly right 2, the missing no grade; the unknown student has no row."""
    graded = graded_class("blackboard", ROSTER)
    path = tmp_path / "bb.csv"
    write_gradebook(graded.results, "blackboard", path, assignment="Backprop homework")
    uploaded = blackboard_upload(path.read_text("utf-8"), set(graded.roster.ids))
    assert uploaded == {
        ("Backprop homework [Total Pts: 32 Score]", "4810"): {
            graded.right: RIGHT_SCORE,
            graded.partly: PARTLY_SCORE,
            graded.missing[0]: None,
        }
    }
    assert UNKNOWN not in path.read_text("utf-8")


def test_a_new_blackboard_column_and_a_plain_roster(tmp_path: Path) -> None:
    """An assignment the download lacks is a new column (no id); a plain roster's ids are the
    usernames."""
    roster = parse_roster("student\nalovelace\nghopper\n")
    table = Submissions()
    table.add_record("ghopper", "g.yaml", {"z_h1": "0.3775"}, [])
    results = grade(preset("handout"), table, roster=roster)
    write_gradebook(results, "blackboard", tmp_path / "bb.csv", assignment="Lab 2")
    uploaded = blackboard_upload((tmp_path / "bb.csv").read_text("utf-8"), {"alovelace", "ghopper"})
    assert uploaded == {("Lab 2", None): {"alovelace": None, "ghopper": 1.0}}

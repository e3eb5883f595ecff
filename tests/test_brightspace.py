"""The Brightspace roster and gradebook, checked against Brightspace's documented import rules.

:func:`brightspace_import` re-reads a written file by the rules of D2L's "Importing grades"
(community.d2l.com, article 3538) and the Wisconsin KB 4330 on its ``#`` marks: users are matched
by OrgDefinedId and/or Username, the first and second columns; a numeric item's column is
``<item> Points Grade``; ``End-of-Line Indicator`` is the last column and every row ends with
``#``; a ``#`` before an id is not part of it; an empty grade is no grade.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lms_class import FIXTURES, PARTLY_SCORE, RIGHT_SCORE, UNKNOWN, graded_class, number, read_csv

from gradegen.core.spec import preset
from gradegen.grading.grade import grade
from gradegen.grading.submissions import Submissions
from gradegen.reports.write import write_gradebook
from gradegen.variants.exports import Lms
from gradegen.variants.roster import parse_roster, read_roster

ID_FIELDS = ("OrgDefinedId", "Username")


@dataclass(frozen=True)
class BrightspaceUser:
    org_defined_id: str
    username: str


def brightspace_import(text: str, course: list[BrightspaceUser]) -> dict[str, dict[str, float | None]]:
    """Each matched user's points grades by item name, as Brightspace imports ``text``."""
    rows = read_csv(text)
    header = rows[0]
    ids = [h for h in header if h in ID_FIELDS]
    assert ids and header[: len(ids)] == [f for f in ID_FIELDS if f in ids], header  # first columns
    assert header[-1] == "End-of-Line Indicator", header
    items = {j: h.removesuffix(" Points Grade") for j, h in enumerate(header) if h.endswith(" Points Grade")}
    assert items, header
    imported: dict[str, dict[str, float | None]] = {}
    for row in rows[1:]:
        assert len(row) == len(header) and row[-1] == "#", row
        values = {h: row[j].removeprefix("#") for j, h in enumerate(header[: len(ids)])}
        user = next(
            (
                u
                for u in course
                if values.get("OrgDefinedId") in (None, u.org_defined_id)
                and values.get("Username") in (None, u.username)
            ),
            None,
        )
        assert user is not None, f"no Brightspace user for {row}"
        imported[user.org_defined_id] = {item: number(row[j]) for j, item in items.items()}
    return imported


COURSE = [
    BrightspaceUser("0020067930", "ada.lovelace"),
    BrightspaceUser("0020067931", "alan.turing"),
    BrightspaceUser("0020067932", "grace.hopper"),
]


def test_a_brightspace_export_is_read_as_a_roster() -> None:
    """A Brightspace grades export is recognised by OrgDefinedId: the ids are the OrgDefinedIds
    without their ``#`` (leading zeros kept), the names first and last name."""
    roster = read_roster(FIXTURES / "brightspace" / "roster.csv")
    assert roster.lms is Lms.BRIGHTSPACE and roster.key == "OrgDefinedId"
    assert roster.ids == ("0020067930", "0020067931", "0020067932")
    assert roster.names == ("Ada Lovelace", "Alan Turing", "Grace Hopper")
    assert roster.students[0].field("Username") == "ada.lovelace"


def test_the_brightspace_gradebook_imports_by_brightspace_rules(tmp_path: Path) -> None:
    """Both key fields first (with their ``#``), the item's Points Grade column and the
    end-of-line mark: every row matches its user, the right student 32, the partly right 2, the
    missing no grade; the unknown student has no row."""
    graded = graded_class("brightspace")
    path = tmp_path / "d2l.csv"
    write_gradebook(graded.results, "brightspace", path, assignment="Backprop homework")
    text = path.read_text("utf-8")
    header = "OrgDefinedId,Username,Backprop homework Points Grade,End-of-Line Indicator"
    assert text.splitlines()[0] == header
    assert text.splitlines()[1].startswith("#0020067930,#ada.lovelace,")
    imported = brightspace_import(text, COURSE)
    assert imported == {
        graded.right: {"Backprop homework": RIGHT_SCORE},
        graded.partly: {"Backprop homework": PARTLY_SCORE},
        graded.missing[0]: {"Backprop homework": None},
    }
    assert UNKNOWN not in text


def test_a_plain_roster_goes_to_brightspace_as_org_defined_ids(tmp_path: Path) -> None:
    """A plain roster's ids are written as OrgDefinedIds, the only key column."""
    roster = parse_roster("student_id\n0020067931\n0020067932\n")
    table = Submissions()
    table.add_record("0020067931", "alan.yaml", {"z_h1": "0.3775"}, [])
    results = grade(preset("handout"), table, roster=roster)
    write_gradebook(results, "brightspace", tmp_path / "d2l.csv", missing_as_zero=True)
    imported = brightspace_import((tmp_path / "d2l.csv").read_text("utf-8"), COURSE)
    item = "Backpropagation worked example"
    assert imported == {"0020067931": {item: 1.0}, "0020067932": {item: 0.0}}

"""A class graded for the LMS gradebook tests: right, partly right, missing and unknown students.

Every student is graded against the handout spec (32 items of 1 point, everyone asked the same):
the right student gives every hand value of the key (32 of 32); the partly right one gives only
the two values the published Mazur example states, z_h1 = 0.3775 and ∂L/∂w5 = 0.0822 (2 of 32,
the other 30 unanswered); the missing student is in the roster with no submission; the unknown
one submits (the partly right answers) but is not in the roster.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from gradegen.core.spec import preset
from gradegen.grading.grade import grade
from gradegen.grading.keys import key_from_spec
from gradegen.grading.results import GradingResults
from gradegen.grading.submissions import Submissions
from gradegen.variants.roster import Roster, read_roster

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "lms"

POINTS_POSSIBLE = 32.0
RIGHT_SCORE = 32.0
PARTLY_SCORE = 2.0  # z_h1 and dL_dw5, one point each
UNKNOWN = "mallory"

PARTLY = {"z_h1": "0.3775", "dL_dw5": "0.0822"}


@dataclass(frozen=True)
class Class:
    """The graded class, and which roster ids are the right, partly right and missing students."""

    roster: Roster
    results: GradingResults
    right: str
    partly: str
    missing: tuple[str, ...]


def right_answers() -> dict[str, str]:
    """Every asked id's hand value, as a student who got everything right writes it."""
    key = key_from_spec(preset("handout"))
    return {q: repr(key.values[q].hand) for q in key.asked}


def graded_class(lms: str, roster_file: str = "roster.csv") -> Class:
    """The class against an LMS's roster fixture: its first student right, its second partly
    right, the others missing, and one unknown submission."""
    roster = read_roster(FIXTURES / lms / roster_file)
    right, partly, *missing = roster.ids
    table = Submissions()
    table.add_record(right, "right.yaml", dict(right_answers()), [])
    table.add_record(partly, "partly.yaml", dict(PARTLY), [])
    table.add_record(UNKNOWN, "unknown.yaml", dict(PARTLY), [])
    results = grade(preset("handout"), table, roster=roster)
    return Class(roster, results, right, partly, tuple(missing))


def read_csv(text: str, delimiter: str = ",") -> list[list[str]]:
    """A written gradebook's rows, as an LMS's CSV parser reads them."""
    return list(csv.reader(io.StringIO(text), delimiter=delimiter))


def number(cell: str) -> float | None:
    """A grade cell as an LMS reads a number: empty (or "-") is no grade."""
    cell = cell.strip()
    return None if cell in ("", "-") else float(cell)

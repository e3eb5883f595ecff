"""The Canvas gradebook: a CSV that Canvas's "Import" on the Gradebook page takes.

Canvas's importer (canvas-lms ``app/models/gradebook_importer.rb``) wants the header
``Student, ID, SIS User ID, SIS Login ID, Section`` then the assignment columns, a row whose first
cell holds "Points Possible", and matches each row's student by ``ID`` (Canvas's user id), then
by SIS User ID, SIS Login ID, then name. An assignment column titled ``<name> (<id>)`` updates that
assignment; a title alone matches an assignment of that title or creates one with the points
possible of the Points Possible row. An empty grade changes nothing.
"""

from __future__ import annotations

import re

from gradegen.errors import GradegenError
from gradegen.grading.results import GradingResults
from gradegen.reports.sheet import Sheet, csv_text
from gradegen.variants.exports import CANVAS_FIELDS, Lms

POINTS_POSSIBLE = "    Points Possible"
"""The points row's first cell, as Canvas's own export writes it."""

_TITLE_AND_ID = re.compile(r"\A(.*)\s+\((\d+)\)\Z", re.DOTALL)
"""How Canvas reads an assignment column's header (``Assignment.title_and_id``)."""


def canvas_id(given: str) -> str:
    """An assignment id as Canvas writes it (its digits), or an error naming the option."""
    if not given.strip().isascii() or not given.strip().isdigit():
        raise GradegenError(
            "--canvas-assignment-id: expected the digits at the end of the assignment's "
            f"address (…/assignments/<id>), got {given!r}"
        )
    return given.strip()


def assignment_column(sheet: Sheet) -> str:
    """The assignment's header: with ``(<id>)`` when an id is given, or when the roster's Canvas
    export has a column of that title (its id then); else the title alone."""
    given = sheet.options.canvas_assignment_id
    if given is not None:
        return f"{sheet.assignment} ({canvas_id(given)})"
    return sheet.export_column(Lms.CANVAS, _TITLE_AND_ID)


def canvas_csv(results: GradingResults, sheet: Sheet) -> str:
    """Canvas's import CSV: the student columns, the assignment and the Points Possible row."""
    from_canvas = bool(sheet.key(Lms.CANVAS))
    rows = [
        [*CANVAS_FIELDS, assignment_column(sheet)],
        [POINTS_POSSIBLE, "", "", "", "", sheet.points_text()],
    ]
    for row in sheet.rows:
        student = row.student
        if from_canvas:
            cells = [student.field(name) for name in CANVAS_FIELDS]
            cells[0] = cells[0] or (student.name or "")
        else:  # a plain roster's id is the institution's: Canvas's SIS User ID
            cells = [student.name or "", "", student.id, "", ""]
        rows.append([*cells, sheet.grade(results, row)])
    return csv_text(rows)

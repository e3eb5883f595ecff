"""The Brightspace gradebook: a CSV for Grades → Enter Grades → Import.

Brightspace matches users by ``OrgDefinedId`` and/or ``Username`` (the first columns), reads a
numeric item's points from a column named ``<item> Points Grade`` and wants an ``End-of-Line
Indicator`` column of ``#`` last; its exports put ``#`` before each id so that a spreadsheet keeps
leading zeros, and its import drops it. The item's maximum points are set in Brightspace (when
the import creates the item, it asks for them): the file has no points row.
"""

from __future__ import annotations

from gradegen.grading.results import GradingResults
from gradegen.reports.sheet import Sheet, csv_text
from gradegen.variants.exports import BRIGHTSPACE_FIELDS, Lms

END_OF_LINE = "End-of-Line Indicator"


def brightspace_csv(results: GradingResults, sheet: Sheet) -> str:
    """Brightspace's import CSV: ids (``#``-prefixed), the points grade and the end-of-line mark."""
    from_brightspace = bool(sheet.key(Lms.BRIGHTSPACE))
    ids = BRIGHTSPACE_FIELDS if from_brightspace else BRIGHTSPACE_FIELDS[:1]
    rows = [[*ids, f"{sheet.assignment} Points Grade", END_OF_LINE]]
    for row in sheet.rows:
        student = row.student
        values = [student.field(name) for name in ids] if from_brightspace else [student.id]
        rows.append([*(f"#{value}" if value else "" for value in values), sheet.grade(results, row), "#"])
    return csv_text(rows)

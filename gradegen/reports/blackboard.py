"""The Blackboard gradebook: a CSV for Grade Center → Work Offline → Upload.

Blackboard identifies each student by ``Username`` and each column by the column id after ``|``
in its header (``Quiz [Total Pts: 10 Score] |123456``): a header without one makes a new column
(a text column of 0 points possible, to be edited in Blackboard). In a comma-separated upload
every cell is quoted. When the roster is a Grade Center download with a column of the
assignment's name, its header (and so its id) is used, and the grades go into that column.
"""

from __future__ import annotations

import re

from gradegen.grading.results import GradingResults
from gradegen.reports.sheet import Sheet, csv_text
from gradegen.variants.exports import Lms

USERNAME = "Username"

_COLUMN = re.compile(r"\A(.*?)\s*\[Total Pts:[^\]]*\]\s*\|\s*\d+\s*\Z", re.DOTALL)
"""A Grade Center column header: name, points possible and column id."""


def assignment_column(sheet: Sheet) -> str:
    """The roster's Grade Center column of the assignment's name, else the name alone."""
    return sheet.export_column(Lms.BLACKBOARD, _COLUMN)


def blackboard_csv(results: GradingResults, sheet: Sheet) -> str:
    """Blackboard's upload CSV: Username and the assignment's column, every cell quoted."""
    from_blackboard = bool(sheet.key(Lms.BLACKBOARD))
    rows = [[USERNAME, assignment_column(sheet)]]
    for row in sheet.rows:
        user = row.student.field(USERNAME) if from_blackboard else row.student.id
        rows.append([user, sheet.grade(results, row)])
    return csv_text(rows, quote_all=True)

"""The Moodle gradebook: a CSV for Moodle's "Import → CSV file" (``grade/import/csv``).

Moodle maps users by one column the teacher picks ("Map from" → "Map to": email address or ID
number, as the roster gave them), a grade column onto the grade item and a feedback column onto
its feedback. An empty grade is no grade; a user Moodle cannot find aborts the whole import
(``usermappingerrorusernotfound``), so only the roster's students are written. Moodle's import
takes no points row: the grade item's maximum is set in Moodle.
"""

from __future__ import annotations

from gradegen.grading.results import GradingResults
from gradegen.reports.sheet import Sheet, csv_text, feedback_summary
from gradegen.variants.exports import Lms

EMAIL = "Email address"
ID_NUMBER = "ID number"


def identifier(sheet: Sheet) -> str:
    """The column users are mapped by: the Moodle export's own, else email address when every
    id looks like one, else ID number."""
    key = sheet.key(Lms.MOODLE)
    if key:
        return key
    ids = [row.student.id for row in sheet.rows]
    return EMAIL if ids and all("@" in student for student in ids) else ID_NUMBER


def moodle_csv(results: GradingResults, sheet: Sheet) -> str:
    """Moodle's import CSV: identifier, grade and feedback summary per roster student."""
    key = identifier(sheet)
    from_moodle = bool(sheet.key(Lms.MOODLE))
    rows = [[key, sheet.assignment, f"Feedback: {sheet.assignment}"]]
    for row in sheet.rows:
        user = row.student.field(key) if from_moodle else row.student.id
        rows.append([user, sheet.grade(results, row), feedback_summary(results, row)])
    return csv_text(rows)

"""What every gradebook is written from: the class's rows (in roster order when there is a roster),
the assignment's name, its points possible, and each student's grade and feedback summary.

A roster's student without a submission is a row with an empty grade (0 with ``missing_as_zero``);
a graded student not in the roster is no LMS row (an LMS import refuses or invents an unknown
student: Moodle's aborts the whole file) but is listed in :attr:`Sheet.unknown`, and grading with
the roster reports it among the results' problems.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

from gradegen.escape import spreadsheet_safe
from gradegen.grading.results import GradingResults, Verdict
from gradegen.reports.choices import GradebookOptions
from gradegen.reports.gradebook import number_text, percent
from gradegen.variants.roster import Roster, Student

DEFAULT_ASSIGNMENT = "gradegen"
"""The grade column's name when neither ``--assignment`` nor the spec gives one."""


@dataclass(frozen=True)
class Row:
    """One gradebook row: the student, and their place in the results (None: no submission)."""

    student: Student
    index: int | None


@dataclass(frozen=True)
class Sheet:
    """A class's gradebook rows and what the LMS files say around them; the rows are laid out
    when first asked for (the plain gradebook of a class without a roster never needs them)."""

    ids: tuple[str, ...]  # the graded students, in the results' order
    assignment: str
    points: float | None  # None when nobody was graded
    roster: Roster | None
    options: GradebookOptions

    @cached_property
    def rows(self) -> tuple[Row, ...]:
        """Roster order with each student's place in the results, or the results' order."""
        if self.roster is None:
            return tuple(Row(Student(student), i) for i, student in enumerate(self.ids))
        where = {student: i for i, student in enumerate(self.ids)}
        return tuple(Row(student, where.get(student.id)) for student in self.roster)

    @cached_property
    def unknown(self) -> tuple[str, ...]:
        """The graded students not in the roster: no LMS row."""
        if self.roster is None:
            return ()
        enrolled = set(self.roster.ids)
        return tuple(student for student in self.ids if student not in enrolled)

    @cached_property
    def missing(self) -> tuple[str, ...]:
        """The roster's students without a submission."""
        if self.roster is None:
            return ()
        return tuple(row.student.id for row in self.rows if row.index is None)

    @property
    def missing_grade(self) -> str:
        """The grade of a student without a submission: empty, or 0 with ``missing_as_zero``."""
        return "0" if self.options.missing_as_zero else ""

    def grade(self, results: GradingResults, row: Row) -> str:
        """The row's score as text (:attr:`missing_grade` without a submission)."""
        if row.index is None:
            return self.missing_grade
        return number_text(float(results.scores[row.index]))

    def points_text(self) -> str:
        return "" if self.points is None else number_text(self.points)

    def key(self, lms: str) -> str:
        """The roster's id header when it is this LMS's export, else ""."""
        roster = self.roster
        return roster.key if roster is not None and roster.lms == lms else ""

    def export_column(self, lms: str, header: re.Pattern[str]) -> str:
        """The header of the roster's column for this assignment when the roster is this LMS's
        export (``header``'s first group is a column's name), else the assignment's name."""
        if self.key(lms) and self.roster is not None:
            for column in self.roster.columns:
                found = header.match(column)
                if found and found.group(1).strip() == self.assignment:
                    return column
        return self.assignment


def make_sheet(results: GradingResults, options: GradebookOptions) -> Sheet:
    """The sheet of ``results`` against the options' roster (else the results' own)."""
    roster = options.roster if options.roster is not None else results.roster
    assignment = options.assignment.strip() or results.title.strip() or DEFAULT_ASSIGNMENT
    points = float(results.maxima.max()) if len(results) else None
    return Sheet(results.ids, assignment, points, roster, options)


def csv_text(rows: Iterable[Sequence[str]], *, quote_all: bool = False) -> str:
    """Rows as CSV (``\\n`` line ends), every cell neutralised for spreadsheets."""
    buffer = io.StringIO()
    writer = csv.writer(
        buffer, lineterminator="\n", quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL
    )
    writer.writerows([spreadsheet_safe(cell) for cell in row] for row in rows)
    return buffer.getvalue()


def feedback_summary(results: GradingResults, row: Row, *, shown: int = 5) -> str:
    """One paragraph on a student's result, for an LMS's feedback field: the score, how many
    answers were right, earned follow-through, wrong or unanswered, and which were wrong."""
    if row.index is None:
        return ""
    student = results.student(row.index)
    verdicts = Counter(item.verdict for item in student.items.values())
    wrong = [
        q for q, item in student.items.items() if item.verdict in (Verdict.INCORRECT, Verdict.UNPARSEABLE)
    ]
    share = percent(student.score, student.max)
    parts = [f"{verdicts[Verdict.CORRECT]} of {len(student.items)} answers correct"]
    if verdicts[Verdict.FOLLOW_THROUGH]:
        parts.append(f"{verdicts[Verdict.FOLLOW_THROUGH]} earned follow-through credit")
    if wrong:
        listed = ", ".join(wrong[:shown]) + (f" and {len(wrong) - shown} more" if len(wrong) > shown else "")
        parts.append(f"{len(wrong)} wrong ({listed})")
    if verdicts[Verdict.MISSING]:
        parts.append(f"{verdicts[Verdict.MISSING]} not answered")
    score = f"{number_text(student.score)} of {number_text(student.max)} points ({share:.1f}%)"
    return f"{score}: {'; '.join(parts)}."

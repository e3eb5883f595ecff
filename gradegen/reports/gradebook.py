"""gradebook.csv: one row per student (student, score, max, percent), safe for spreadsheets.

Every graded student has a row, in the results' order; with a roster, its students without a
submission follow, their cells empty (their score 0 with ``missing_as_zero``).
"""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING

from gradegen.core.rounding import shortest
from gradegen.escape import spreadsheet_safe
from gradegen.grading.results import GradingResults

if TYPE_CHECKING:
    from gradegen.reports.sheet import Sheet


def number_text(x: float) -> str:
    """A score as short text (6 decimals at most)."""
    return shortest(round(x, 6)).replace("−", "-")


def percent(score: float, possible: float) -> float:
    return 100.0 * score / possible if possible > 0 else 0.0


def gradebook_csv(results: GradingResults, sheet: Sheet | None = None) -> str:
    """student, score, max, percent per student; each distinct number formatted once."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", "score", "max", "percent"])
    numbers: dict[tuple[float, float], tuple[str, str, str]] = {}
    for score, possible in set(zip(results.scores.tolist(), results.maxima.tolist(), strict=True)):
        share = f"{percent(score, possible):.1f}"
        numbers[(score, possible)] = (number_text(score), number_text(possible), share)
    writer.writerows(
        (spreadsheet_safe(student), *numbers[(score, possible)])
        for student, score, possible in zip(
            results.ids, results.scores.tolist(), results.maxima.tolist(), strict=True
        )
    )
    if sheet is not None:
        empty = sheet.missing_grade
        writer.writerows([spreadsheet_safe(student), empty, "", ""] for student in sheet.missing)
    return buffer.getvalue()

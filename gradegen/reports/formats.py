"""The one place reports are registered: the reports a grading run writes, the gradebook kinds and
the feedback formats.

A new gradebook kind (say an LMS's CSV) is a module with a function from results and their
:class:`~gradegen.reports.sheet.Sheet` (rows, assignment, points) to text plus one line in
:data:`GRADEBOOKS`; a new feedback format (say HTML) is a module with a page function and a
class fast path plus one line in :data:`FEEDBACK_FORMATS`; a new report is one line in
:data:`REPORTS`. :func:`gradegen.reports.write.write_reports` writes what these tables say.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from gradegen.errors import GradegenError
from gradegen.files import write_new, write_stored_zip
from gradegen.grading.results import GradingResults
from gradegen.names import folder_names
from gradegen.reports.blackboard import blackboard_csv
from gradegen.reports.brightspace import brightspace_csv
from gradegen.reports.canvas import canvas_csv
from gradegen.reports.choices import Choices, FeedbackMode
from gradegen.reports.feedback import feedback_markdown
from gradegen.reports.feedback_html import feedback_html, iter_feedback_html
from gradegen.reports.feedback_pages import iter_feedback
from gradegen.reports.gradebook import gradebook_csv
from gradegen.reports.moodle import moodle_csv
from gradegen.reports.results import write_results
from gradegen.reports.sheet import Sheet, make_sheet
from gradegen.reports.summary import summary_markdown


@dataclass(frozen=True)
class Gradebook:
    """A gradebook kind: its file name and its text (UTF-8 when written)."""

    file: str
    text: Callable[[GradingResults, Sheet], str]


@dataclass(frozen=True)
class FeedbackFormat:
    """A feedback format: its file suffix, one student's page (the reference) and every page of a
    class in order as UTF-8 (the fast path, the same bytes)."""

    suffix: str
    page: Callable[[GradingResults, int], str]
    pages: Callable[[GradingResults], Iterable[bytes]]


GRADEBOOKS: dict[str, Gradebook] = {
    "plain": Gradebook("gradebook.csv", gradebook_csv),
    "canvas": Gradebook("gradebook-canvas.csv", canvas_csv),
    "moodle": Gradebook("gradebook-moodle.csv", moodle_csv),
    "brightspace": Gradebook("gradebook-brightspace.csv", brightspace_csv),
    "blackboard": Gradebook("gradebook-blackboard.csv", blackboard_csv),
}

FEEDBACK_FORMATS: dict[str, FeedbackFormat] = {
    "md": FeedbackFormat(".md", feedback_markdown, iter_feedback),
    "html": FeedbackFormat(".html", feedback_html, iter_feedback_html),
}


def check(choices: Choices) -> None:
    """Refuse a gradebook kind or feedback format that is not registered."""
    for option, names, table in (
        ("--gradebook", choices.gradebooks, GRADEBOOKS),
        ("--feedback-format", (choices.feedback_format,), FEEDBACK_FORMATS),
    ):
        for name in names:
            if name not in table:
                raise GradegenError(f"{option}: expected one of {', '.join(table)}, got {name!r}")


FEEDBACK_FOLDER = "feedback"
FEEDBACK_ZIP = "feedback.zip"
SUMMARY = "summary.md"


def feedback_names(results: GradingResults, suffix: str = ".md") -> list[str]:
    """Each student's feedback file name, in order: the same safe, unique names as class folders."""
    return [f"{name}{suffix}" for name in folder_names(results.ids)]


def write_feedback(results: GradingResults, folder: Path, choices: Choices) -> None:
    """feedback/<student>.md files, or the same files stored in feedback.zip, into ``folder``."""
    form = FEEDBACK_FORMATS[choices.feedback_format]
    names = feedback_names(results, form.suffix)
    if choices.feedback is FeedbackMode.FILES:
        (folder / FEEDBACK_FOLDER).mkdir()
        for name, page in zip(names, form.pages(results), strict=True):
            write_new(folder / FEEDBACK_FOLDER / name, page, 0o644)
    elif choices.feedback is FeedbackMode.ZIP:
        # Stored, not deflated: deflating the pages would cost more time than the smaller file saves.
        members = zip([f"{FEEDBACK_FOLDER}/{name}" for name in names], form.pages(results), strict=True)
        write_stored_zip(folder / FEEDBACK_ZIP, members)


def write_gradebooks(results: GradingResults, folder: Path, choices: Choices) -> None:
    """Each chosen gradebook, from one :class:`~gradegen.reports.sheet.Sheet` of the class."""
    sheet = make_sheet(results, choices.options)
    for name in dict.fromkeys(choices.gradebooks):
        kind = GRADEBOOKS[name]
        write_new(folder / kind.file, kind.text(results, sheet).encode("utf-8"))


def write_summary(results: GradingResults, folder: Path, choices: Choices) -> None:
    write_new(folder / SUMMARY, summary_markdown(results).encode("utf-8"))


@dataclass(frozen=True)
class Report:
    """One report: how it is written into the staging folder, and whether this run wants it."""

    name: str
    write: Callable[[GradingResults, Path, Choices], None]
    wanted: Callable[[Choices], bool] = lambda choices: True
    large: bool = False  # for a large class, written by a second process while the others are


REPORTS: tuple[Report, ...] = (
    Report("results.json", lambda results, folder, choices: write_results(results, folder)),
    Report("gradebook", write_gradebooks),
    Report("summary.md", write_summary),
    Report(
        "feedback",
        write_feedback,
        wanted=lambda choices: choices.feedback is not FeedbackMode.NONE,
        large=True,
    ),
)

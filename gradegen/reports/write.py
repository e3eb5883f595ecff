"""Writing graded results: every registered report, into a staging folder renamed into place.

A reader sees the old reports or the new ones, never a mix; the same results give the same bytes.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from gradegen.errors import GradegenError
from gradegen.files import in_second_process
from gradegen.grading.results import GradingResults
from gradegen.outputs import Layout, Output
from gradegen.reports.choices import Choices, FeedbackMode
from gradegen.reports.formats import (
    FEEDBACK_FOLDER,
    FEEDBACK_FORMATS,
    FEEDBACK_ZIP,
    GRADEBOOKS,
    REPORTS,
    SUMMARY,
    Report,
    check,
)
from gradegen.reports.results import FILE as RESULTS_FILE

DEFAULT_OUT = Path("output/grades")

PARALLEL_FROM = 20_000
"""From this many students the large reports (the feedback) are written by a second process
while this one writes the others (two cores; below this the fork costs more than it saves)."""


GRADES = Layout(
    "grades",
    RESULTS_FILE,
    frozenset({RESULTS_FILE, SUMMARY, FEEDBACK_ZIP, *(kind.file for kind in GRADEBOOKS.values())}),
    lambda folder, name: (
        folder == FEEDBACK_FOLDER and any(name.endswith(form.suffix) for form in FEEDBACK_FORMATS.values())
    ),
)
"""What a grading run writes (a folder of these from before the manifest is recognised by results.json)."""


def _choices(feedback: FeedbackMode | str, feedback_format: str, gradebook: str) -> Choices:
    try:
        mode = FeedbackMode(feedback)
    except ValueError:
        modes = ", ".join(m.value for m in FeedbackMode)
        raise GradegenError(f"--feedback: expected one of {modes}, got {feedback!r}") from None
    choices = Choices(mode, feedback_format, gradebook)
    check(choices)
    return choices


def write_reports(
    results: GradingResults,
    out_dir: str | Path = DEFAULT_OUT,
    *,
    feedback: FeedbackMode | str = FeedbackMode.FILES,
    feedback_format: str = "md",
    gradebook: str = "plain",
    force: bool = False,
) -> Path:
    """Write every report to ``out_dir`` atomically (staged beside it, then renamed into place).

    ``feedback`` is ``files`` (``feedback/<student>.md``), ``zip`` (the same files in ``feedback.zip``)
    or ``none``; ``feedback_format`` and ``gradebook`` name a registered format and kind. The
    folder must be new, empty or an earlier grades folder, unless ``force`` (then only gradegen's
    files in it are replaced: see :class:`~gradegen.outputs.Output`)."""
    choices = _choices(feedback, feedback_format, gradebook)
    target = Path(out_dir)
    output = Output(target, GRADES, force=force)
    reports = [r for r in REPORTS if r.wanted(choices)]
    later = [r for r in reports if r.large] if len(results) >= PARALLEL_FROM and hasattr(os, "fork") else []
    what = "writing " + ", ".join(r.name for r in later)
    with output.written() as build:

        def write(some: list[Report]) -> None:
            for report in some:
                report.write(results, build, choices)

        with in_second_process(lambda: write(later), what) if later else contextlib.nullcontext():
            write([r for r in reports if r not in later])
    return target


def student_feedback(results: GradingResults, student: str, feedback_format: str = "md") -> str:
    """One student's feedback page, by student id (for scripts and a TA answering one student)."""
    check(Choices(feedback_format=feedback_format))
    return FEEDBACK_FORMATS[feedback_format].page(results, results.ids.index(student))

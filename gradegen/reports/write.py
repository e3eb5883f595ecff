"""Writing graded results: every registered report, into a staging folder renamed into place.

A reader sees the old reports or the new ones, never a mix; the same results give the same bytes.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

from gradegen.errors import GradegenError
from gradegen.files import in_second_process, replace_dir, staging_dir
from gradegen.grading.results import GradingResults
from gradegen.reports.choices import Choices, FeedbackMode
from gradegen.reports.formats import FEEDBACK_FORMATS, REPORTS, Report, check

DEFAULT_OUT = Path("output/grades")

PARALLEL_FROM = 20_000
"""From this many students the large reports (the feedback) are written by a second process
while this one writes the others (two cores; below this the fork costs more than it saves)."""


def _check_target(target: Path) -> None:
    """The output folder is replaced as a whole: refuse anything but a new or empty folder or an
    earlier grades folder (one with results.json), so that ``--out .`` cannot delete a course."""
    if not target.exists():
        return
    if not target.is_dir():
        raise GradegenError(f"--out: {target} exists and is not a folder")
    if (target / "results.json").is_file() or not any(target.iterdir()):
        return
    raise GradegenError(
        f"--out: {target} is a folder with other files in it (it has no results.json, so it is not "
        "an earlier grades folder); choose a new or empty folder"
    )


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
) -> Path:
    """Write every report to ``out_dir`` atomically (staged beside it, then renamed into place).

    ``feedback`` is ``files`` (``feedback/<student>.md``), ``zip`` (the same files in ``feedback.zip``)
    or ``none``; ``feedback_format`` and ``gradebook`` name a registered format and kind."""
    choices = _choices(feedback, feedback_format, gradebook)
    target = Path(out_dir)
    _check_target(target)
    reports = [r for r in REPORTS if r.wanted(choices)]
    later = [r for r in reports if r.large] if len(results) >= PARALLEL_FROM and hasattr(os, "fork") else []
    build = staging_dir(target)
    build.chmod(0o755)  # mkdtemp makes it private; the reports are for the course staff

    def write(some: list[Report]) -> None:
        for report in some:
            report.write(results, build, choices)

    what = "writing " + ", ".join(r.name for r in later)
    try:
        with in_second_process(lambda: write(later), what) if later else contextlib.nullcontext():
            write([r for r in reports if r not in later])
        replace_dir(target, build)
    except BaseException:
        shutil.rmtree(build, ignore_errors=True)
        raise
    return target


def student_feedback(results: GradingResults, student: str, feedback_format: str = "md") -> str:
    """One student's feedback page, by student id (for scripts and a TA answering one student)."""
    check(Choices(feedback_format=feedback_format))
    return FEEDBACK_FORMATS[feedback_format].page(results, results.ids.index(student))

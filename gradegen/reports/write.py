"""Writing graded results: every registered report, into a staging folder renamed into place.

A reader sees the old reports or the new ones, never a mix; the same results give the same bytes.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from gradegen.errors import GradegenError
from gradegen.files import in_second_process, write_bytes_atomic
from gradegen.grading.results import GradingResults
from gradegen.outputs import Layout, Output
from gradegen.reports.canvas import canvas_id
from gradegen.reports.choices import Choices, FeedbackMode, GradebookOptions
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
from gradegen.reports.sheet import Sheet, make_sheet

if TYPE_CHECKING:
    from gradegen.variants.roster import Roster

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


def _choices(
    feedback: FeedbackMode | str,
    feedback_format: str,
    gradebook: str | Sequence[str],
    options: GradebookOptions,
) -> Choices:
    try:
        mode = FeedbackMode(feedback)
    except ValueError:
        modes = ", ".join(m.value for m in FeedbackMode)
        raise GradegenError(f"--feedback: expected one of {modes}, got {feedback!r}") from None
    kinds = (gradebook,) if isinstance(gradebook, str) else tuple(gradebook)
    choices = Choices(mode, feedback_format, kinds or ("plain",), options)
    check(choices)
    if options.canvas_assignment_id is not None:
        canvas_id(options.canvas_assignment_id)  # refused here, before anything is written
    return choices


def write_reports(
    results: GradingResults,
    out_dir: str | Path = DEFAULT_OUT,
    *,
    feedback: FeedbackMode | str = FeedbackMode.FILES,
    feedback_format: str = "md",
    gradebook: str | Sequence[str] = "plain",
    roster: Roster | None = None,
    assignment: str = "",
    canvas_assignment_id: str | None = None,
    missing_as_zero: bool = False,
    force: bool = False,
) -> Path:
    """Write every report to ``out_dir`` atomically (staged beside it, then renamed into place).

    ``feedback`` is ``files`` (``feedback/<student>.md``), ``zip`` (the same files in ``feedback.zip``)
    or ``none``; ``feedback_format`` names a registered format and ``gradebook`` one or more
    registered kinds (``plain``, ``canvas``, ``moodle``, ``brightspace``, ``blackboard``), whose
    rows, assignment name and missing grades the other options set (see :func:`write_gradebook`).
    The folder must be new, empty or an earlier grades folder, unless ``force`` (then only
    gradegen's files in it are replaced: see :class:`~gradegen.outputs.Output`)."""
    options = GradebookOptions(assignment, canvas_assignment_id, missing_as_zero, roster)
    choices = _choices(feedback, feedback_format, gradebook, options)
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


def write_gradebook(
    results: GradingResults,
    kind: str,
    path: str | Path,
    *,
    roster: Roster | None = None,
    assignment: str = "",
    canvas_assignment_id: str | None = None,
    missing_as_zero: bool = False,
    force: bool = False,
) -> Sheet:
    """Write one gradebook (``plain``, ``canvas``, ``moodle``, ``brightspace`` or ``blackboard``)
    to ``path``, atomically; an existing file is replaced only with ``force``.

    Rows follow ``roster`` (else the one the results were graded with; else the results): its
    students without a submission get an empty grade (0 with ``missing_as_zero``), and graded
    students not in it are left out of an LMS's file. The grade column is named ``assignment``
    (default: the spec's title); Canvas's gets ``(<canvas_assignment_id>)`` when given. Returns
    the sheet written, whose ``missing`` and ``unknown`` list those students."""
    options = GradebookOptions(assignment, canvas_assignment_id, missing_as_zero, roster)
    choices = _choices(FeedbackMode.NONE, "md", kind, options)
    target = Path(path)
    if target.exists() and not force:
        raise GradegenError(f"{target}: already exists; give force=True (--force) to replace it")
    sheet = make_sheet(results, choices.options)
    write_bytes_atomic(target, GRADEBOOKS[kind].text(results, sheet).encode("utf-8"))
    return sheet


def student_feedback(results: GradingResults, student: str, feedback_format: str = "md") -> str:
    """One student's feedback page, by student id (for scripts and a TA answering one student)."""
    check(Choices(feedback_format=feedback_format))
    return FEEDBACK_FORMATS[feedback_format].page(results, results.ids.index(student))

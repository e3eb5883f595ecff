"""Writing graded results: results.json, gradebook.csv, feedback/<student>.md and summary.md.

Everything is written to a staging folder beside the output folder and renamed into place, so a
reader sees the old reports or the new ones, never a mix; the same results give the same bytes.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
from pathlib import Path

from gradegen.errors import GradegenError
from gradegen.files import forked, replace_dir, staging_dir, write_chunks, write_new, write_stored_zip
from gradegen.grading.results import GradingResults
from gradegen.names import folder_names
from gradegen.reports.feedback import feedback_markdown, iter_feedback
from gradegen.reports.gradebook import gradebook_csv
from gradegen.reports.summary import summary_markdown

DEFAULT_OUT = Path("output/grades")


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


FEEDBACK_MODES = ("files", "zip", "none")
"""How feedback is written: ``feedback/<student>.md`` files, one ``feedback.zip`` of them, or not at all."""

_PARALLEL_FROM = 20_000
"""From this many students the feedback is written by a forked process while this one writes
results.json (two cores; below this the fork costs more than it saves)."""


def feedback_names(results: GradingResults) -> list[str]:
    """Each student's feedback file name, in order: the same safe, unique names as class folders."""
    return [f"{name}.md" for name in folder_names(results.ids)]


def _write_feedback(results: GradingResults, build: Path, feedback: str) -> None:
    """feedback/<student>.md files, or the same files stored in feedback.zip, in the staging folder."""
    names = feedback_names(results)
    if feedback == "files":
        folder = build / "feedback"
        folder.mkdir()
        for name, page in zip(names, iter_feedback(results), strict=True):
            write_new(folder / name, page, 0o644)
        return
    # Stored, not deflated: deflating the pages would cost more time than the smaller file saves.
    write_stored_zip(
        build / "feedback.zip",
        zip([f"feedback/{name}" for name in names], iter_feedback(results), strict=True),
    )


def _write_tables(results: GradingResults, build: Path) -> None:
    def small_files() -> None:  # made while the end of results.json, much the largest, is written
        (build / "gradebook.csv").write_text(gradebook_csv(results), encoding="utf-8", newline="")
        (build / "summary.md").write_text(summary_markdown(results), encoding="utf-8")

    write_chunks(build / "results.json", results.json_chunks(), meanwhile=small_files)


def write_reports(
    results: GradingResults, out_dir: str | Path = DEFAULT_OUT, *, feedback: str = "files"
) -> Path:
    """Write every report to ``out_dir`` atomically (staged beside it, then renamed into place).

    ``feedback`` is ``files`` (``feedback/<student>.md``), ``zip`` (the same files in ``feedback.zip``)
    or ``none``."""
    if feedback not in FEEDBACK_MODES:
        raise GradegenError(f"--feedback: expected one of {', '.join(FEEDBACK_MODES)}, got {feedback!r}")
    target = Path(out_dir)
    _check_target(target)
    build = staging_dir(target)
    build.chmod(0o755)  # mkdtemp makes it private; the reports are for the course staff
    write = functools.partial(_write_feedback, results, build, feedback)
    parallel = feedback != "none" and len(results) >= _PARALLEL_FROM and hasattr(os, "fork")
    try:
        with forked(write, "writing feedback") if parallel else contextlib.nullcontext():
            if feedback != "none" and not parallel:
                write()
            _write_tables(results, build)
        replace_dir(target, build)
    except BaseException:
        shutil.rmtree(build, ignore_errors=True)
        raise
    return target


def student_feedback(results: GradingResults, student: str) -> str:
    """The feedback Markdown for one student id (for scripts)."""
    return feedback_markdown(results, results.ids.index(student))

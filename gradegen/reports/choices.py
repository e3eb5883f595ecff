"""What a grading run writes: how feedback is delivered, in which format, which gradebooks, and
what the LMS gradebooks say beyond the scores.

Kept free of numpy so that the command line can offer these choices without importing it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gradegen.variants.roster import Roster


class FeedbackMode(StrEnum):
    """How feedback pages are delivered."""

    FILES = "files"  # feedback/<student>.md
    ZIP = "zip"  # the same files in one feedback.zip (what an LMS takes as one upload)
    NONE = "none"


@dataclass(frozen=True)
class GradebookOptions:
    """What the gradebooks say beyond each student's score.

    ``assignment`` names the grade column ("" for the spec's title); ``canvas_assignment_id``
    makes Canvas update that assignment rather than match one by title; ``missing_as_zero`` gives
    a roster's students without a submission 0 rather than an empty grade; ``roster`` (else the
    one the results were graded with) orders the rows and holds the LMS's identifying cells.
    """

    assignment: str = ""
    canvas_assignment_id: str | None = None
    missing_as_zero: bool = False
    roster: Roster | None = None


@dataclass(frozen=True)
class Choices:
    """The choices of one run; ``feedback_format`` and each of ``gradebooks`` name entries of the
    registries in :mod:`gradegen.reports.formats`."""

    feedback: FeedbackMode = FeedbackMode.FILES
    feedback_format: str = "md"
    gradebooks: tuple[str, ...] = ("plain",)
    options: GradebookOptions = GradebookOptions()

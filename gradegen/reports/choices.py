"""What a grading run writes: how feedback is delivered, in which format, and which gradebook.

Kept free of numpy so that the command line can offer these choices without importing it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class FeedbackMode(StrEnum):
    """How feedback pages are delivered."""

    FILES = "files"  # feedback/<student>.md
    ZIP = "zip"  # the same files in one feedback.zip (what an LMS takes as one upload)
    NONE = "none"


@dataclass(frozen=True)
class Choices:
    """The choices of one run; ``feedback_format`` and ``gradebook`` name entries of the registries
    in :mod:`gradegen.reports.formats`."""

    feedback: FeedbackMode = FeedbackMode.FILES
    feedback_format: str = "md"
    gradebook: str = "plain"

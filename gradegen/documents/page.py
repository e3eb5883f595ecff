"""What a format is given to write one variant (a :class:`Page`), and what a format is."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import jinja2

from gradegen.core.key import Key
from gradegen.core.spec import Spec
from gradegen.documents.items import DocumentPlan
from gradegen.documents.numbers import Numbers, Slots


@dataclass(frozen=True)
class Page:
    """One variant as the formats print it: its own texts, or slot markers while compiling."""

    spec: Spec
    plan: DocumentPlan
    asked: tuple[str, ...]
    exact_mode: bool
    env: jinja2.Environment
    numbers: Numbers | Slots  # the values, as printed
    precision: Mapping[str, str]  # asked id → "4 decimal places"
    students: Mapping[str, str]  # format name → the student as that format names them
    key: Callable[[], Key] | None = None  # the variant's key (none while compiling)
    practice: Callable[[], Mapping[str, Any]] | None = None  # answer intervals (--practice only)


PracticeFinder = Callable[..., Callable[[int], Mapping[str, Any]]]
"""Given (spec, graph, exact, hand, asked) of a batch, each variant's practice data by index: per
asked id, the interval of right answers and each mistake's (see gradegen.grading.practice). The
documents cannot diagnose mistakes themselves (grading does), so the caller passes it in."""


class Format(Protocol):
    """One kind of output: its files, and how a page is written in it.

    A format is registered in :mod:`gradegen.documents.formats`; the renderer knows nothing else.
    """

    @property
    def name(self) -> str: ...

    @property
    def files(self) -> tuple[str, ...]:
        """The files it writes, in order."""
        ...

    @property
    def compiles(self) -> bool:
        """Whether its files can be rendered once per graph with slots and filled per variant."""
        ...

    @property
    def secret(self) -> bool:
        """Whether it holds the answers (a class run keeps it out of the students' folders)."""
        ...

    @property
    def filters(self) -> Mapping[str, Callable[[str], str]]:
        """Jinja filters it offers templates (escaping for its format)."""
        ...

    def student(self, shown: str | None, student: str | None) -> str:
        """The student as its files name them (escaped; "" where they name nobody)."""
        ...

    def render(self, page: Page) -> dict[str, str]:
        """Its files for one page: file name → text."""
        ...

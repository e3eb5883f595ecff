"""Grading results as records: per group of students column-wise, per student on demand."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gradegen.core.graph import Array, Graph, Values
from gradegen.grading.compare import Rule
from gradegen.grading.diagnosis import Mistake
from gradegen.grading.submissions import FileError
from gradegen.variants.roster import Roster

DEFAULT_ECF_CREDIT = 1.0
"""Share of an item's points a follow-through answer earns."""


class Verdict(StrEnum):
    CORRECT = "correct"
    FOLLOW_THROUGH = "follow_through"
    INCORRECT = "incorrect"
    MISSING = "missing"
    UNPARSEABLE = "unparseable"


VERDICTS = tuple(Verdict)
MISTAKES = tuple(Mistake)


@dataclass(frozen=True)
class ItemResult:
    """One answer graded."""

    raw: str | None
    value: float | None
    exact: float
    hand: float
    accepted: tuple[float, float]
    verdict: Verdict
    diagnosis: Mistake | None
    points: float
    max_points: float
    follow: float | None = None  # what the student's own upstream answers give
    rule: Rule | None = None  # how close an answer must be (None: not known)

    def to_dict(self) -> dict[str, Any]:
        return {
            "raw": self.raw,
            "value": self.value,
            "expected": {"exact": self.exact, "hand": self.hand},
            "accepted": list(self.accepted),
            "verdict": self.verdict.value,
            "diagnosis": self.diagnosis.value if self.diagnosis else None,
            "points": self.points,
        }


@dataclass(frozen=True)
class StudentResult:
    """One student's graded submission."""

    student: str
    source: str
    score: float
    max: float
    items: Mapping[str, ItemResult]
    errors: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "student": self.student,
            "score": self.score,
            "max": self.max,
            "items": {q: item.to_dict() for q, item in self.items.items()},
            "errors": list(self.errors),
        }


@dataclass(frozen=True)
class _Column:
    """One asked quantity graded over a group's rows; expected values and intervals per key."""

    raw: Sequence[str | None]  # "" where a CSV cell was empty
    value: Array
    exact_k: Array
    hand_k: Array
    lo_k: Array
    hi_k: Array
    verdict: NDArray[np.int8]
    diagnosis: NDArray[np.int8]  # index into MISTAKES, −1 for none
    points: Array
    max_points: float
    follow: Array

    def raws(self, rows: NDArray[np.intp]) -> NDArray[Any]:
        """The raw texts of some rows, as an array."""
        if isinstance(self.raw, np.ndarray):
            return self.raw[rows]
        return np.array([self.raw[r] for r in rows.tolist()], dtype=object)


@dataclass(frozen=True)
class GroupResult:
    """Students graded against keys of one structure: the graph, the keys' values, the columns."""

    graph: Graph
    asked: tuple[str, ...]
    key_index: NDArray[np.intp]  # row → key
    hand: Values  # over the keys
    rule: Mapping[str, Rule]
    columns: Mapping[str, _Column]
    score: Array
    max: Array

    def item(self, q: str, row: int) -> ItemResult:
        c = self.columns[q]
        k = int(self.key_index[row])
        d = int(c.diagnosis[row])
        value = float(c.value[row])
        follow = float(c.follow[row])
        return ItemResult(
            raw=c.raw[row] or None,
            value=value if math.isfinite(value) else None,
            exact=float(c.exact_k[k]),
            hand=float(c.hand_k[k]),
            accepted=(float(c.lo_k[k]), float(c.hi_k[k])),
            verdict=VERDICTS[int(c.verdict[row])],
            diagnosis=MISTAKES[d] if d >= 0 else None,
            points=float(c.points[row]),
            max_points=c.max_points,
            follow=follow if math.isfinite(follow) else None,
            rule=self.rule[q],
        )


@dataclass(frozen=True)
class GradingResults:
    """Every student's results, in submission order, and the submissions that could not be graded.

    Results are kept column-wise per group of students (see :class:`GroupResult`); a student's
    :class:`StudentResult` is built on demand by :meth:`student`.
    """

    groups: tuple[GroupResult, ...]
    ids: tuple[str, ...]
    sources: tuple[str, ...]
    group_of: NDArray[np.intp]  # per student: its group
    row_of: NDArray[np.intp]  # per student: its row in that group
    student_errors: Mapping[int, tuple[str, ...]]  # only students with problems
    errors: tuple[FileError, ...]
    ecf_credit: float = DEFAULT_ECF_CREDIT
    title: str = ""  # the assignment's title (the key's spec's), the LMS gradebooks' default name
    roster: Roster | None = None  # the class list graded against, if one was given
    _cache: dict[int, StudentResult] = field(default_factory=dict, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.ids)

    def errors_of(self, index: int) -> tuple[str, ...]:
        return self.student_errors.get(index, ())

    def locate(self, index: int) -> tuple[GroupResult, int]:
        """The group of the ``index``-th student and its row there."""
        return self.groups[int(self.group_of[index])], int(self.row_of[index])

    def student(self, index: int) -> StudentResult:
        """The ``index``-th student's result, built on demand."""
        if index not in self._cache:
            group, row = self.locate(index)
            self._cache[index] = StudentResult(
                student=self.ids[index],
                source=self.sources[index],
                score=float(group.score[row]),
                max=float(group.max[row]),
                items={q: group.item(q, row) for q in group.asked},
                errors=self.errors_of(index),
            )
        return self._cache[index]

    @property
    def students(self) -> list[StudentResult]:
        return [self.student(i) for i in range(len(self))]

    def _gather(self, name: str) -> Array:
        out = np.zeros(len(self))
        for g, group in enumerate(self.groups):
            mask = self.group_of == g
            out[mask] = getattr(group, name)[self.row_of[mask]]
        return out

    @cached_property
    def scores(self) -> Array:
        return self._gather("score")

    @cached_property
    def maxima(self) -> Array:
        return self._gather("max")

    @property
    def total(self) -> float:
        return float(self.scores.sum())

    @property
    def possible(self) -> float:
        return float(self.maxima.sum())

    def to_dict(self) -> dict[str, Any]:
        """Every student's record as plain data, each item complete (for scripts; results.json, the
        file, states what students share once: :mod:`gradegen.reports.results`)."""
        return {
            "students": [self.student(i).to_dict() for i in range(len(self))],
            "errors": [e.to_dict() for e in self.errors],
        }

    def summary(self) -> dict[str, Any]:
        """Class statistics: count, mean and median percent, problems reported."""
        percent = np.divide(100 * self.scores, self.maxima, out=np.zeros(len(self)), where=self.maxima > 0)
        return {
            "students": len(self),
            "mean": float(percent.mean()) if len(self) else 0.0,
            "median": float(np.median(percent)) if len(self) else 0.0,
            "errors": len(self.errors) + len(self.student_errors),
        }

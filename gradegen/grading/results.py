"""Grading results as records: per group of students column-wise, per student on demand."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping, Sequence
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

    def distinct_items(
        self, rows: NDArray[np.intp], keys: NDArray[np.intp], key_of: NDArray[np.intp]
    ) -> tuple[list[tuple[str | None, float, int, int, int]], NDArray[np.intp]]:
        """All that an item's text depends on, for some rows: the distinct (raw text, value, key,
        verdict code, diagnosis code or −1), and each row's one. ``keys[key_of]`` are the rows' keys.

        Few occur in a column (most students write the right value the same way), so a text built
        per distinct item is built a few times, not once per row.
        """
        raws, values = self.raws(rows), self.value[rows]
        first, answer_of = _answer_codes(raws, values)
        distinct, inverse = _combinations(
            [answer_of, key_of, self.verdict[rows], self.diagnosis[rows] + 1],
            [first.size, keys.size, len(VERDICTS), len(MISTAKES) + 1],
        )
        texts, numbers, key_list = raws[first].tolist(), values[first].tolist(), keys.tolist()
        return [(texts[a], numbers[a], key_list[k], v, d - 1) for a, k, v, d in distinct], inverse


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
        """The results.json shape as plain data (for a large class :meth:`iter_json` is leaner)."""
        return {
            "students": [self.student(i).to_dict() for i in range(len(self))],
            "errors": [e.to_dict() for e in self.errors],
        }

    def json_chunks(self, chunk: int | None = None) -> Iterator[bytes]:
        """results.json as UTF-8, in pieces of whole students (one per line), built column by column:
        fast and lean for a large class; ``json.loads(b"".join(...)) == to_dict()``."""
        yield b'{"students": ['
        n = len(self)
        if chunk is None:
            items = max((len(g.asked) for g in self.groups), default=1)
            chunk = max(100, _CHUNK_BYTES // (_ITEM_BYTES * max(items, 1)))
        members = [np.flatnonzero(self.group_of == g) for g in range(len(self.groups))]
        block = chunk * _CHUNKS_A_BLOCK
        for start in range(0, n, block):
            stop = min(start + block, n)
            if len(self.groups) == 1:  # the usual case: rows of pieces, joined a chunk at a time
                pieces = _json_pieces(self, self.groups[0], self.row_of[start:stop], np.arange(start, stop))
                for at in range(0, stop - start, chunk):
                    yield b"".join(pieces[at : at + chunk].ravel().tolist())
                continue
            lines: list[bytes] = [b""] * (stop - start)
            for g, group in enumerate(self.groups):
                lo, hi = np.searchsorted(members[g], [start, stop]).tolist()
                if lo == hi:
                    continue
                students = members[g][lo:hi]
                pieces = _json_pieces(self, group, self.row_of[students], students)
                for i, line in zip(students.tolist(), map(b"".join, pieces.tolist()), strict=True):
                    lines[i - start] = line
            for at in range(0, stop - start, chunk):
                yield b"".join(lines[at : at + chunk])
        errors = ", ".join(json.dumps(e.to_dict(), ensure_ascii=False) for e in self.errors)
        yield (("\n" if n else "") + f'], "errors": [{errors}]}}\n').encode()

    def iter_json(self, chunk: int | None = None) -> Iterator[str]:
        """:meth:`json_chunks` as text."""
        return (piece.decode() for piece in self.json_chunks(chunk))

    def to_json(self) -> str:
        return b"".join(self.json_chunks()).decode()

    def summary(self) -> dict[str, Any]:
        """Class statistics: count, mean and median percent, problems reported."""
        percent = np.divide(100 * self.scores, self.maxima, out=np.zeros(len(self)), where=self.maxima > 0)
        return {
            "students": len(self),
            "mean": float(percent.mean()) if len(self) else 0.0,
            "median": float(np.median(percent)) if len(self) else 0.0,
            "errors": len(self.errors) + len(self.student_errors),
        }


_CHUNK_BYTES = 8 << 20
"""About this much of results.json is built at a time: less than glibc's largest threshold for
mapping memory afresh (32 MB), so each piece reuses the memory of the one before. Fresh pages cost a
fault each, which is slow on virtual machines (175,000 faults, 0.5 s, for 5,000 students a piece)."""

_CHUNKS_A_BLOCK = 5
"""Pieces are made for this many chunks at once: fewer, larger numpy passes per column."""

_ITEM_BYTES = 256
"""About the size of one item of one student in results.json."""

_JSON_UNSAFE = re.compile(r'["\\\x00-\x1f]')


def _json_string(text: str | None) -> str:
    """JSON for an answer's text ("" and None → null), quoted directly when it is plain."""
    if not text:
        return "null"
    return json.dumps(text, ensure_ascii=False) if _JSON_UNSAFE.search(text) else f'"{text}"'


def _json_float(x: float) -> str:
    return repr(x) if math.isfinite(x) else "null"


def _json_floats(values: Array) -> list[str]:
    """JSON for many floats, each distinct value formatted once (scores repeat a lot)."""
    distinct, inverse = np.unique(values, return_inverse=True)
    table = np.array([_json_float(v) for v in distinct.tolist()], dtype=object)
    texts: list[str] = table[inverse].tolist()
    return texts


def _answer_codes(raws: NDArray[Any], values: Array) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """A column's rows grouped by answer: each distinct answer's first row, and each row's answer.

    Rows given one number hold the same text and value. Answers repeat (most students write the
    right value the same way), so texts built per distinct answer are built a few times, not per row.
    """
    bits = values.view(np.int64)  # NaN matches NaN, and −0.0 stays apart from 0.0
    _, first, codes = np.unique(bits, return_index=True, return_inverse=True)
    odd = np.flatnonzero(raws != raws[first][codes])  # the same value written differently
    if odd.size:
        codes[odd] = np.arange(first.size, first.size + odd.size)
        first = np.concatenate([first, odd])
    return first, codes


def _combinations(
    codes: Sequence[NDArray[np.integer[Any]]], sizes: Sequence[int]
) -> tuple[list[tuple[int, ...]], NDArray[np.intp]]:
    """The distinct combinations of per-row codes (``codes[i] < sizes[i]``), and each row's one."""
    combined = np.zeros(len(codes[0]), dtype=np.int64)
    for code, size in zip(codes, sizes, strict=True):
        combined = combined * size + code
    distinct, inverse = np.unique(combined, return_inverse=True)
    parts: list[list[int]] = []
    for size in reversed(sizes):
        distinct, part = np.divmod(distinct, size)
        parts.append(part.tolist())
    return list(zip(*reversed(parts), strict=True)), inverse


def _json_pieces(
    results: GradingResults, group: GroupResult, rows: NDArray[np.intp], students: NDArray[np.intp]
) -> NDArray[np.object_]:
    """The pieces (UTF-8) of results.json for some students of a group: one row each, to be joined.

    A row is the student's start, one piece per item, and the end. An item's text depends on its
    answer, its key, its verdict and its diagnosis, and few of those combinations occur in a
    column: each is written once and looked up.
    """
    keys, key_of = np.unique(group.key_index[rows], return_inverse=True)  # the keys in play
    diagnoses = ["null"] + [json.dumps(m.value) for m in MISTAKES]  # by diagnosis code + 1
    pieces = np.empty((rows.size, len(group.asked) + 2), dtype=object)
    for j, q in enumerate(group.asked):
        c = group.columns[q]
        expected = {
            k: f', "expected": {{"exact": {e!r}, "hand": {h!r}}}, "accepted": [{a!r}, {b!r}], '
            for k, e, h, a, b in zip(
                keys.tolist(),
                c.exact_k[keys].tolist(),
                c.hand_k[keys].tolist(),
                c.lo_k[keys].tolist(),
                c.hi_k[keys].tolist(),
                strict=True,
            )
        }
        points = {
            Verdict.CORRECT: c.max_points,
            Verdict.FOLLOW_THROUGH: float(results.ecf_credit * c.max_points),
        }
        distinct, item_of = c.distinct_items(rows, keys, key_of)
        head = f'{", " if j else ""}{json.dumps(q, ensure_ascii=False)}: {{"raw": '
        table = np.array(
            [
                f'{head}{_json_string(t)}, "value": {_json_float(x)}{expected[k]}'
                f'"verdict": "{VERDICTS[v].value}", "diagnosis": {diagnoses[d + 1]}, '
                f'"points": {points.get(VERDICTS[v], 0.0)!r}}}'.encode()
                for t, x, k, v, d in distinct
            ],
            dtype=object,
        )
        pieces[:, j + 1] = table[item_of]
    ids = [results.ids[i] for i in students.tolist()]
    quoted = (
        [json.dumps(s, ensure_ascii=False) for s in ids]
        if _JSON_UNSAFE.search("".join(ids))
        else [f'"{s}"' for s in ids]
    )
    scores, maxima = _json_floats(group.score[rows]), _json_floats(group.max[rows])
    later, opening = ",\n", "\n"  # a line per student
    pieces[:, 0] = [
        f'{later if i else opening}{{"student": {s}, "score": {sc}, "max": {mx}, "items": {{'.encode()
        for i, s, sc, mx in zip(students.tolist(), quoted, scores, maxima, strict=True)
    ]
    problems = results.student_errors
    pieces[:, -1] = [
        b'}, "errors": '
        + (json.dumps(list(problems[i]), ensure_ascii=False).encode() if i in problems else b"[]")
        + b"}"
        for i in students.tolist()
    ]
    return pieces

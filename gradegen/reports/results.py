"""results.json: what every student shares stated once, per student only what differs.

The shape (``"format": "gradegen-results"``, ``"version": 2``)::

    {"format": "gradegen-results", "version": 2,
     "items": {ID: {"expected": {"exact", "hand"}, "accepted": [lo, hi], "max", "tolerance"}},
     "errors": [{"file", "message"}],
     "students": [{"student", "score", "max",
                   "items": {ID: {"raw", "value", "verdict", "diagnosis", "points"}}, "errors"}]}

Each of an item's constants (``expected``, ``accepted``, ``max`` points, ``tolerance``) is in
``items`` when it is the same for every student graded on that item, and otherwise in each
student's own item. One student per line. :func:`results_data` builds it from the per-student
records (the reference); :func:`iter_results_json` writes the same bytes column by column.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gradegen.grading.compare import Rule
from gradegen.grading.results import MISTAKES, VERDICTS, GradingResults, GroupResult, ItemResult, Verdict
from gradegen.reports.columns import distinct_items

FORMAT, VERSION = "gradegen-results", 2
FILE = "results.json"

CONSTANTS = ("expected", "accepted", "max", "tolerance")
"""An item's per-key constants, in the order a student's item lists those it does not share."""

_PER_KEY = ("expected", "accepted")
"""The constants that differ between per-student keys of one structure (the others are per structure)."""

_dumps = functools.partial(json.dumps, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
"""Compact JSON, as results.json is written (spaces would add a tenth to 300 MB at 100,000 students)."""


def rule_data(rule: Rule | None) -> dict[str, Any] | None:
    """A tolerance rule as plain data: the key's ``{mode, value}``, or ``--rtol``/``--atol``'s."""
    if rule is None:
        return None
    if rule.tolerance is None:
        return {"rtol": rule.rtol, "atol": rule.atol}
    return {"mode": rule.tolerance.mode.value, "value": rule.tolerance.value}


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


def _constants(item: ItemResult) -> dict[str, Any]:
    lo, hi = item.accepted
    return {
        "expected": {"exact": _finite(item.exact), "hand": _finite(item.hand)},
        "accepted": [_finite(lo), _finite(hi)],
        "max": item.max_points,
        "tolerance": rule_data(item.rule),
    }


def results_data(results: GradingResults) -> dict[str, Any]:
    """results.json as plain data, built student by student from the records (the reference)."""
    students = [results.student(i) for i in range(len(results))]
    seen: dict[str, dict[str, dict[str, Any]]] = {}  # ID → constant → its distinct values by JSON text
    for student in students:
        for q, item in student.items.items():
            fields = seen.setdefault(q, {})
            for name, value in _constants(item).items():
                fields.setdefault(name, {}).setdefault(_dumps(value), value)
    shared = {
        q: {name: next(iter(values.values())) for name, values in fields.items() if len(values) == 1}
        for q, fields in seen.items()
    }
    rows = []
    for student in students:
        items = {}
        for q, item in student.items.items():
            own = {name: value for name, value in _constants(item).items() if name not in shared[q]}
            items[q] = {
                "raw": item.raw,
                "value": item.value,
                "verdict": item.verdict.value,
                "diagnosis": item.diagnosis.value if item.diagnosis else None,
                "points": item.points,
                **own,
            }
        rows.append(
            {
                "student": student.student,
                "score": student.score,
                "max": student.max,
                "items": items,
                "errors": list(student.errors),
            }
        )
    return {
        "format": FORMAT,
        "version": VERSION,
        "items": shared,
        "errors": [e.to_dict() for e in results.errors],
        "students": rows,
    }


def _head(items: dict[str, Any], errors: list[dict[str, str]]) -> str:
    """Everything before the first student: format, version, the shared items and the file errors."""
    return (
        f'{{"format":{_dumps(FORMAT)},"version":{VERSION},\n"items":{_dumps(items)},\n'
        f'"errors":{_dumps(errors)},\n"students":['
    )


_TAIL = "\n]}\n"


def results_json(results: GradingResults) -> str:
    """results.json as text, from :func:`results_data` (the reference of :func:`iter_results_json`)."""
    data = results_data(results)
    lines = "".join(("," if i else "") + "\n" + _dumps(s) for i, s in enumerate(data["students"]))
    return _head(data["items"], data["errors"]) + lines + _TAIL


_CHUNK_BYTES = 8 << 20
"""About this much of results.json is built at a time: less than glibc's largest threshold for
mapping memory afresh (32 MB), so each piece reuses the memory of the one before. Fresh pages cost a
fault each, which is slow on virtual machines (175,000 faults, 0.5 s, for 5,000 students a piece)."""

_CHUNKS_A_BLOCK = 5
"""Pieces are made for this many chunks at once: fewer, larger numpy passes per column."""

_ITEM_BYTES = 100
"""About the size of one item of one student in results.json."""

_JSON_UNSAFE = re.compile(r'["\\\x00-\x1f]')


def _json_string(text: str | None) -> str:
    """JSON for an answer's text ("" and None → null), quoted directly when it is plain."""
    if not text:
        return "null"
    return _dumps(text) if _JSON_UNSAFE.search(text) else f'"{text}"'


def _json_float(x: float) -> str:
    return repr(x) if math.isfinite(x) else "null"


def _json_floats(values: NDArray[np.float64]) -> list[str]:
    """JSON for many floats, each distinct value formatted once (scores repeat a lot)."""
    distinct, inverse = np.unique(values, return_inverse=True)
    table = np.array([_json_float(v) for v in distinct.tolist()], dtype=object)
    texts: list[str] = table[inverse].tolist()
    return texts


def _constant_texts(group: GroupResult, q: str, keys: NDArray[np.intp]) -> dict[str, list[str]]:
    """The JSON of item ``q``'s constants for some keys of a group: per constant, one per key."""
    c = group.columns[q]
    e, h = c.exact_k[keys].tolist(), c.hand_k[keys].tolist()
    lo, hi = c.lo_k[keys].tolist(), c.hi_k[keys].tolist()
    n = keys.size
    return {
        "expected": [
            f'{{"exact":{_json_float(a)},"hand":{_json_float(b)}}}' for a, b in zip(e, h, strict=True)
        ],
        "accepted": [f"[{_json_float(a)},{_json_float(b)}]" for a, b in zip(lo, hi, strict=True)],
        "max": [_json_float(c.max_points)] * n,
        "tolerance": [_dumps(rule_data(group.rule[q]))] * n,
    }


def _group_order(results: GradingResults) -> list[int]:
    """The groups in the order of their first student."""
    groups, first = np.unique(results.group_of, return_index=True)
    return [int(g) for g in groups[np.argsort(first)].tolist()]


def _shared(results: GradingResults) -> dict[str, dict[str, str]]:
    """Per ID, the JSON of the constants every student graded on it shares (the ``items`` section)."""
    seen: dict[str, dict[str, set[str]]] = {}
    for g in _group_order(results):
        group = results.groups[g]
        keys = np.unique(group.key_index)  # the keys in play: every row is a graded student
        for q in group.asked:
            fields = seen.setdefault(q, {})
            for name, texts in _constant_texts(group, q, keys).items():
                fields.setdefault(name, set()).update(texts)
    return {
        q: {name: next(iter(texts)) for name, texts in fields.items() if len(texts) == 1}
        for q, fields in seen.items()
    }


def _pieces(
    results: GradingResults,
    group: GroupResult,
    rows: NDArray[np.intp],
    students: NDArray[np.intp],
    shared: dict[str, dict[str, str]],
) -> NDArray[np.object_]:
    """The pieces (UTF-8) of some students' lines of one group: per row the student's start, one
    piece per item and the end, to be joined. Each item's text is built once per distinct item."""
    keys, key_of = np.unique(group.key_index[rows], return_inverse=True)  # the keys in play
    diagnoses = ["null"] + [_dumps(m.value) for m in MISTAKES]  # by diagnosis code + 1
    pieces = np.empty((rows.size, len(group.asked) + 2), dtype=object)
    for j, q in enumerate(group.asked):
        c = group.columns[q]
        own = [name for name in CONSTANTS if name not in shared[q]]
        per_key = any(name in own for name in _PER_KEY)
        used = keys if per_key else keys[:1]  # the text depends on the key only through its own constants
        texts = _constant_texts(group, q, used)
        extra = {
            k: "".join(f',"{name}":{texts[name][i]}' for name in own) for i, k in enumerate(used.tolist())
        }
        points = {
            Verdict.CORRECT: c.max_points,
            Verdict.FOLLOW_THROUGH: float(results.ecf_credit * c.max_points),
        }
        distinct, item_of = distinct_items(c, rows, used, key_of if per_key else np.zeros_like(key_of))
        head = f'{"," if j else ""}{_dumps(q)}:{{"raw":'
        table = np.array(
            [
                f'{head}{_json_string(t)},"value":{_json_float(x)},"verdict":"{VERDICTS[v].value}",'
                f'"diagnosis":{diagnoses[d + 1]},"points":{points.get(VERDICTS[v], 0.0)!r}'
                f"{extra[k]}}}".encode()
                for t, x, k, v, d in distinct
            ],
            dtype=object,
        )
        pieces[:, j + 1] = table[item_of]
    ids = [results.ids[i] for i in students.tolist()]
    quoted = [_dumps(s) for s in ids] if _JSON_UNSAFE.search("".join(ids)) else [f'"{s}"' for s in ids]
    scores, maxima = _json_floats(group.score[rows]), _json_floats(group.max[rows])
    later, opening = ",\n", "\n"  # a line per student
    pieces[:, 0] = [
        f'{later if i else opening}{{"student":{s},"score":{sc},"max":{mx},"items":{{'.encode()
        for i, s, sc, mx in zip(students.tolist(), quoted, scores, maxima, strict=True)
    ]
    problems = results.student_errors
    pieces[:, -1] = [
        b'},"errors":' + (_dumps(list(problems[i])).encode() if i in problems else b"[]") + b"}"
        for i in students.tolist()
    ]
    return pieces


def iter_results_json(results: GradingResults, chunk: int | None = None) -> Iterator[bytes]:
    """results.json as UTF-8 in pieces of whole students (``chunk`` of them, about 8 MB by default),
    built column by column: the bytes of :func:`results_json`, fast and lean for a large class."""
    shared = _shared(results)
    items = {q: {name: json.loads(text) for name, text in fields.items()} for q, fields in shared.items()}
    yield _head(items, [e.to_dict() for e in results.errors]).encode()
    n = len(results)
    if chunk is None:
        width = max((len(g.asked) for g in results.groups), default=1)
        chunk = max(100, _CHUNK_BYTES // (_ITEM_BYTES * max(width, 1)))
    members = [np.flatnonzero(results.group_of == g) for g in range(len(results.groups))]
    block = chunk * _CHUNKS_A_BLOCK
    for start in range(0, n, block):
        stop = min(start + block, n)
        if len(results.groups) == 1:  # the usual case: the group's pieces are the block's
            students = np.arange(start, stop)
            pieces = _pieces(results, results.groups[0], results.row_of[students], students, shared)
        else:  # each group's rows of pieces where its students are; narrower groups padded
            width = max(len(group.asked) for group in results.groups) + 2
            pieces = np.full((stop - start, width), b"", dtype=object)
            for g, group in enumerate(results.groups):
                lo, hi = np.searchsorted(members[g], [start, stop]).tolist()
                if lo < hi:
                    students = members[g][lo:hi]
                    mine = _pieces(results, group, results.row_of[students], students, shared)
                    pieces[students - start, : mine.shape[1]] = mine
        for at in range(0, stop - start, chunk):
            yield b"".join(pieces[at : at + chunk].ravel().tolist())
    yield _TAIL.encode()


def write_results(results: GradingResults, folder: Path) -> None:
    """results.json into ``folder`` (a staging folder: the file is new)."""
    with (folder / FILE).open("xb") as handle:
        handle.writelines(iter_results_json(results))

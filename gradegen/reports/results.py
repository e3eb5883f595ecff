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
from typing import Any, cast

import numpy as np
import orjson
from numpy.typing import NDArray

from gradegen.grading.compare import Rule
from gradegen.grading.results import (
    MISTAKES,
    VERDICTS,
    GradingResults,
    GroupResult,
    ItemResult,
    Verdict,
    _Column,
)
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


_ORJSON_AS_REPR = (1e-4, 1e16)
"""orjson writes a float as repr does (the shortest text that reads back, in the same form) for 0
and magnitudes in this range; outside it orjson's exponents are written differently (1e-5 as
0.00001, 1e-7 as 1e-7 against repr's 1e-07; before orjson 3.9, 1e+16 as 1e16)."""


def _json_float_texts(values: NDArray[np.float64]) -> list[str]:
    """JSON for each float: what :func:`_json_float` gives, ``repr`` or ``null``.

    orjson writes a whole column at once, about seven times as fast as ``repr`` one value at a
    time (results.json for 100,000 students on per-student keys holds some 16 million floats); the
    few values outside :data:`_ORJSON_AS_REPR` are written by ``repr``."""
    v = np.ascontiguousarray(values, dtype=np.float64)
    if not v.size:
        return []
    texts: list[str] = orjson.dumps(v, option=orjson.OPT_SERIALIZE_NUMPY)[1:-1].decode().split(",")
    odd = np.flatnonzero(_orjson_odd(v))
    for i, x in zip(odd.tolist(), v[odd].tolist(), strict=True):
        texts[i] = _json_float(x)
    return texts


def _orjson_odd(v: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Where orjson's text of a float is not repr's (NaN and ±inf are ``null`` in both)."""
    a = np.abs(v)
    low, high = _ORJSON_AS_REPR
    with np.errstate(invalid="ignore"):
        odd: NDArray[np.bool_] = ((a < low) | (a >= high)) & (v != 0) & (a < np.inf)
    return odd


def _json_floats(values: NDArray[np.float64]) -> list[str]:
    """JSON for many floats, each distinct value formatted once (scores repeat a lot)."""
    distinct, inverse = np.unique(values, return_inverse=True)
    table = np.array(_json_float_texts(distinct), dtype=object)
    texts: list[str] = table[inverse].tolist()
    return texts


def _json_strings(texts: list[str | None]) -> list[str]:
    """:func:`_json_string` of many answers. When none needs escaping (no quote, backslash or
    control character, so none holds the separator or a quote), all are quoted in one pass over
    their joined text, where an empty one is the only ``""``."""
    plain = [t or "" for t in texts] if None in texts else cast(list[str], texts)
    if _JSON_UNSAFE.search("".join(plain)):
        return [_json_string(t) for t in texts]
    quoted = '"' + '"\x00"'.join(plain) + '"'
    return quoted.replace('""', "null").split("\x00")


def _constant_texts(group: GroupResult, q: str, keys: NDArray[np.intp]) -> dict[str, list[str]]:
    """The JSON of item ``q``'s constants for some keys of a group: per constant, one per key."""
    c = group.columns[q]
    e, h, lo, hi = (_json_float_texts(a[keys]) for a in (c.exact_k, c.hand_k, c.lo_k, c.hi_k))
    n = keys.size
    return {
        "expected": [f'{{"exact":{a},"hand":{b}}}' for a, b in zip(e, h, strict=True)],
        "accepted": [f"[{a},{b}]" for a, b in zip(lo, hi, strict=True)],
        "max": [_json_float(c.max_points)] * n,
        "tolerance": [_dumps(rule_data(group.rule[q]))] * n,
    }


def _group_order(results: GradingResults) -> list[int]:
    """The groups in the order of their first student."""
    groups, first = np.unique(results.group_of, return_index=True)
    return [int(g) for g in groups[np.argsort(first)].tolist()]


def _representatives(group: GroupResult, q: str, keys: NDArray[np.intp]) -> NDArray[np.intp]:
    """Some of ``keys`` whose texts of item ``q``'s constants tell what all of theirs would about
    sharing: the first key, and for each constant the first key whose value differs from it.

    Texts differ exactly where the bits do, but for non-finite values (all ``null``): a constant is
    shared when the representatives' texts of it are one."""
    if not keys.size:
        return keys
    c = group.columns[q]
    picked = [0]
    for pair in ((c.exact_k, c.hand_k), (c.lo_k, c.hi_k)):
        same = np.ones(keys.size, dtype=bool)
        for a in pair:
            column, first = a[keys], a[keys[:1]]
            same &= (column.view(np.int64) == first.view(np.int64)) | (
                ~np.isfinite(column) & ~np.isfinite(first)
            )
        if not same.all():
            picked.append(int(np.argmin(same)))
    return keys[np.unique(picked)]


def _shared(results: GradingResults) -> dict[str, dict[str, str]]:
    """Per ID, the JSON of the constants every student graded on it shares (the ``items`` section)."""
    seen: dict[str, dict[str, set[str]]] = {}
    for g in _group_order(results):
        group = results.groups[g]
        keys = np.unique(group.key_index)  # the keys in play: every row is a graded student
        for q in group.asked:
            fields = seen.setdefault(q, {})
            for name, texts in _constant_texts(group, q, _representatives(group, q, keys)).items():
                fields.setdefault(name, set()).update(texts)
    return {
        q: {name: next(iter(texts)) for name, texts in fields.items() if len(texts) == 1}
        for q, fields in seen.items()
    }


_OUTCOMES = [
    f'"verdict":"{verdict.value}","diagnosis":{_dumps(d.value) if d else "null"},"points":'
    for verdict in VERDICTS
    for d in (None, *MISTAKES)
]
"""An item's verdict, diagnosis and the start of its points, by verdict × (diagnosis code + 2)."""


def _outcomes(c: _Column, rows: NDArray[np.intp]) -> list[str]:
    """Per row, the JSON of its item's verdict, diagnosis and points earned (few combinations)."""
    outcome = c.verdict[rows].astype(np.intp) * (len(MISTAKES) + 1) + c.diagnosis[rows] + 1
    points, point_of = np.unique(c.points[rows], return_inverse=True)
    distinct, inverse = np.unique(outcome * points.size + point_of, return_inverse=True)
    texts = _json_float_texts(points)
    table = np.array(
        [_OUTCOMES[i // points.size] + texts[i % points.size] for i in distinct.tolist()], dtype=object
    )
    out: list[str] = table[inverse].tolist()
    return out


def _row_items(group: GroupResult, q: str, head: str, rows: NDArray[np.intp], own: list[str]) -> list[str]:
    """Item ``q`` of some rows, each written out: for per-student keys, where nearly every item is
    distinct (its key's expected value and interval in it), so that a table of distinct items
    would only add work. Each column's numbers are formatted in one pass."""
    c = group.columns[q]
    keys = group.key_index[rows]
    raws = _json_strings(c.raws(rows).tolist())
    values = _json_float_texts(c.value[rows])
    outcomes = _outcomes(c, rows)
    if own == list(_PER_KEY):  # the usual case: points and tolerance are the structure's
        e, h, lo, hi = (_json_float_texts(a[keys]) for a in (c.exact_k, c.hand_k, c.lo_k, c.hi_k))
        return [
            f'{head}{t},"value":{x},{o},"expected":{{"exact":{a},"hand":{b}}},"accepted":[{m},{n}]}}'
            for t, x, o, a, b, m, n in zip(raws, values, outcomes, e, h, lo, hi, strict=True)
        ]
    texts = _constant_texts(group, q, keys)
    extra = [""] * rows.size
    for name in own:
        label = f',"{name}":'
        extra = [f"{x}{label}{t}" for x, t in zip(extra, texts[name], strict=True)]
    return [
        f'{head}{t},"value":{x},{o}{e}}}' for t, x, o, e in zip(raws, values, outcomes, extra, strict=True)
    ]


def _pieces(
    results: GradingResults,
    group: GroupResult,
    rows: NDArray[np.intp],
    students: NDArray[np.intp],
    shared: dict[str, dict[str, str]],
) -> NDArray[np.object_]:
    """The pieces of some students' lines of one group: per row the student's start, one piece
    per item and the end, to be joined. Where students share keys, each item's text is built
    once per distinct item; with a key per student, once per row (:func:`_row_items`)."""
    keys, key_of = np.unique(group.key_index[rows], return_inverse=True)  # the keys in play
    diagnoses = ["null"] + [_dumps(m.value) for m in MISTAKES]  # by diagnosis code + 1
    pieces = np.empty((rows.size, len(group.asked) + 2), dtype=object)
    for j, q in enumerate(group.asked):
        c = group.columns[q]
        own = [name for name in CONSTANTS if name not in shared[q]]
        per_key = any(name in own for name in _PER_KEY)
        head = f'{"," if j else ""}{_dumps(q)}:{{"raw":'
        if per_key and 2 * keys.size > rows.size:  # fewer than two students a key
            pieces[:, j + 1] = _row_items(group, q, head, rows, own)
            continue
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
        table = np.array(
            [
                f'{head}{_json_string(t)},"value":{_json_float(x)},"verdict":"{VERDICTS[v].value}",'
                f'"diagnosis":{diagnoses[d + 1]},"points":{points.get(VERDICTS[v], 0.0)!r}'
                f"{extra[k]}}}"
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
        f'{later if i else opening}{{"student":{s},"score":{sc},"max":{mx},"items":{{'
        for i, s, sc, mx in zip(students.tolist(), quoted, scores, maxima, strict=True)
    ]
    problems = results.student_errors
    pieces[:, -1] = [
        '},"errors":' + (_dumps(list(problems[i])) if i in problems else "[]") + "}"
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
            pieces = np.full((stop - start, width), "", dtype=object)
            for g, group in enumerate(results.groups):
                lo, hi = np.searchsorted(members[g], [start, stop]).tolist()
                if lo < hi:
                    students = members[g][lo:hi]
                    mine = _pieces(results, group, results.row_of[students], students, shared)
                    pieces[students - start, : mine.shape[1]] = mine
        for at in range(0, stop - start, chunk):
            yield "".join(pieces[at : at + chunk].ravel().tolist()).encode()
    yield _TAIL.encode()


def write_results(results: GradingResults, folder: Path) -> None:
    """results.json into ``folder`` (a staging folder: the file is new)."""
    with (folder / FILE).open("xb") as handle:
        handle.writelines(iter_results_json(results))

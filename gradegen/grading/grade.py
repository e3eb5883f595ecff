"""Grading students' answers: parse → compare → follow-through → diagnose, column by column.

The three steps are separate, as in PrairieLearn: :func:`parse_answer` turns a cell into a number
or says why it cannot; the comparators (:func:`half_width`, :func:`is_close`) only compare; the
verdicts, follow-through and diagnoses are decided over whole columns of students at once.

* An answer is **correct** when it lies in the accepted interval: the hull of the intervals the
  rule gives around the exact value and around the hand value. An updated parameter is judged by
  the step it implies (``w − answer`` against ``η·∂L/∂w``); its accepted interval is the interval
  of answers whose step is accepted.
* It earns **follow-through** when it is wrong, but matches (under the same rule) what the graph
  gives from the student's own answers for the quantities it directly depends on, at least one of
  which is itself wrong and none of the wrong ones 0.
* A wrong answer is then compared with what common mistakes produce (:mod:`gradegen.grading.diagnosis`).
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gradegen.core.graph import Array, Graph, Kind, Values
from gradegen.core.key import Key, askable, make_key
from gradegen.core.network import build_graph
from gradegen.core.spec import Spec, Tolerance, ToleranceMode, format_of, parse_spec, parse_text, read_text
from gradegen.errors import GradegenError
from gradegen.grading.diagnosis import EXPLANATIONS, Mistake, in_space, references
from gradegen.grading.submissions import FileError, Submissions, read_submissions

DEFAULT_ECF_CREDIT = 1.0
"""Share of an item's points a follow-through answer earns."""

MAX_KEY_BYTES = 200_000_000
"""A keys.json for a large class is big; beyond this it is refused."""

# --------------------------------------------------------------------------- parsing answers


class Status(StrEnum):
    """What reading one answer gave."""

    OK = "ok"
    MISSING = "missing"
    UNPARSEABLE = "unparseable"


@dataclass(frozen=True)
class Parsed:
    """One answer read: a value, or missing, or unparseable with the raw text kept."""

    status: Status
    value: float | None
    raw: str | None


_DASHES = str.maketrans({"−": "-", "–": "-", "‒": "-", "—": "-", "﹣": "-", "－": "-"})
_NUM = r"(?:\d+(?:\.\d*)?|\.\d+)"
_FLOAT = rf"[+-]?{_NUM}(?:[eE][+-]?\d+)?"
_TIMES = r"(?:[x×X*·⋅∙]|\\times|\\cdot)"
_POWER = r"(?:\^|\*\*)\s*(?:\{\s*([+-]?\d+)\s*\}|\(\s*([+-]?\d+)\s*\)|([+-]?\d+))"
_SCIENTIFIC = re.compile(rf"({_FLOAT})\s*{_TIMES}\s*10\s*{_POWER}")
_FRACTION = re.compile(rf"({_FLOAT})\s*/\s*({_FLOAT})")
_DECIMAL_COMMA = re.compile(r"([+-]?\d*),(\d+)")
MAX_ANSWER_CHARS = 100


def _number(text: str) -> float | None:
    s = text.strip().translate(_DASHES).replace("\u2009", "").replace("\u00a0", " ")
    if not s or len(s) > MAX_ANSWER_CHARS:
        return None
    if "," in s and "." not in s:
        s = _DECIMAL_COMMA.sub(r"\1.\2", s, count=1) if s.count(",") == 1 else s
    value: float | None = None
    try:
        value = float(s)  # what the bulk path reads: plain decimals, 1e-3, 1_000
    except ValueError:
        value = None
    if value is not None:
        pass
    elif m := _SCIENTIFIC.fullmatch(s):
        exponent = int(next(g for g in m.groups()[1:] if g is not None))
        if abs(exponent) <= 400:
            value = float(m.group(1)) * 10.0**exponent if abs(exponent) <= 308 else math.inf
    elif m := _FRACTION.fullmatch(s):
        top, bottom = float(m.group(1)), float(m.group(2))
        value = top / bottom if bottom != 0 else None
    if value is None or not math.isfinite(value):
        return None
    return value


def parse_answer(cell: Any) -> Parsed:
    """Read one answer as submitted (YAML number, or text in any of the accepted forms).

    Accepted: ``0.0822``, ``.0822``, ``0,0822`` (one comma and no point: a decimal comma),
    ``−0.0015`` (Unicode minus or dash), ``8.22e-2``, ``8.22 × 10^-2`` (also ``x``, ``*``, ``·``,
    ``**``), ``1/2``, surrounding spaces. Empty or absent is missing; anything else (words, NaN,
    infinity, true/false, lists) is unparseable, with the raw text kept. Nothing is evaluated.
    """
    if cell is None:
        return Parsed(Status.MISSING, None, None)
    if isinstance(cell, bool):
        return Parsed(Status.UNPARSEABLE, None, str(cell).lower())
    if isinstance(cell, int | float):
        raw = repr(cell) if isinstance(cell, float) else str(cell)
        number = float(cell)
        if not math.isfinite(number):
            return Parsed(Status.UNPARSEABLE, None, raw)
        return Parsed(Status.OK, number, raw)
    if not isinstance(cell, str):
        return Parsed(Status.UNPARSEABLE, None, json.dumps(cell, default=str, ensure_ascii=False))
    if not cell.strip():
        return Parsed(Status.MISSING, None, None)
    value = _number(cell)
    if value is None:
        return Parsed(Status.UNPARSEABLE, None, cell)
    return Parsed(Status.OK, value, cell)


_STATUS_CODE = {Status.OK: 0, Status.MISSING: 1, Status.UNPARSEABLE: 2}


def parse_column(cells: Sequence[Any]) -> tuple[Array, NDArray[np.int8], Sequence[str | None]]:
    """A whole column of answers: values (NaN where none), status codes (0 ok, 1 missing,
    2 unparseable) and raw texts (for text cells, the cells themselves; "" reads as missing).

    Text cells that are plain decimals are read column-wise by :func:`_decimal_column`; the rest
    (exponents, fractions, words…) are tried together with numpy's float conversion, and what that
    cannot read goes through :func:`parse_answer` one by one (each distinct text once). Numbers
    from YAML and other objects go through :func:`parse_answer` directly.
    """
    n = len(cells)
    status = np.zeros(n, dtype=np.int8)
    raws: Sequence[Any] = cells
    slow: list[int]
    text: NDArray[np.str_] | None = None
    if isinstance(cells, np.ndarray) and cells.dtype.kind == "U" and cells.dtype.itemsize <= 4 * _MAX_CELL:
        text = cells  # a CSV column as read: already a numpy text array
    elif n and set(map(type, cells)) == {str}:
        if max(map(len, cells)) > _MAX_CELL:  # one huge cell must not widen the whole array
            text = np.array([c if len(c) <= _MAX_CELL else "?" for c in cells])
        else:
            text = np.array(cells)
    if n and text is not None:
        values, empty, simple = _decimal_column(text)
        status[empty] = _STATUS_CODE[Status.MISSING]
        slow = np.flatnonzero(~simple & ~empty).tolist()
        if slow:
            try:  # say a column of 1.5E-05: one numpy call instead of a loop
                bulk = text[np.array(slow, dtype=np.intp)].astype(np.float64)  # numpy's own parser
                if np.isfinite(bulk).all():
                    values[slow] = bulk
                    slow = []
            except ValueError:
                pass
    else:
        values = np.full(n, np.nan)
        slow = list(range(n))
    memo: dict[Any, Parsed] = {}
    for i in slow:
        cell = cells[i]
        hashable = isinstance(cell, str | int | float) and not isinstance(cell, bool)
        parsed = memo.get(cell) if hashable else None
        if parsed is None:
            parsed = parse_answer(cell)
            if hashable:
                memo[cell] = parsed
        if parsed.raw is None or parsed.raw != cell:
            if raws is cells:
                raws = list(cells)  # copied only when a raw text differs from its cell
            raws[i] = parsed.raw  # type: ignore[index]
        status[i] = _STATUS_CODE[parsed.status]
        values[i] = np.nan if parsed.value is None else parsed.value
    return values, status, raws


_MAX_CELL = 40
"""Cells longer than this skip the vectorised reader (a numpy string array is as wide as its
longest cell); they are read one by one, and beyond :data:`MAX_ANSWER_CHARS` are unparseable."""

_MAX_DIGITS = 15
"""A mantissa of at most this many digits is exact in float64, so m / 10^k is correctly rounded."""

_POWERS_OF_TEN = 10.0 ** np.arange(_MAX_DIGITS + 1)


def _decimal_column(text: NDArray[np.str_]) -> tuple[Array, NDArray[np.bool_], NDArray[np.bool_]]:
    """Read plain decimals (``-0.0822``, ``12``, ``.5``) from a text column, vectorised.

    The digits make an integer mantissa m and the digits after the point count k; the value is
    m / 10^k, the same correctly rounded float that ``float()`` gives. Returns the values, which
    cells are empty, and which were plain decimals (the others need :func:`parse_answer`).
    """
    n = text.size
    width = max(text.dtype.itemsize // 4, 1)
    codes = np.ascontiguousarray(text).view(np.uint32).reshape(n, width)
    # One row per character position, as bytes, so that each step below runs over whole rows.
    # A character beyond ASCII wraps to some byte here; its cell is ruled out further down.
    chars = codes.astype(np.uint8).T.copy()
    digit = chars - np.uint8(ord("0"))
    is_digit = digit < 10
    is_dot = chars == ord(".")
    pad = chars == 0
    first = chars[0]
    empty = pad[0]
    negative = first == ord("-")
    allowed = is_digit | is_dot | pad
    allowed[0] |= negative | (first == ord("+"))
    simple = np.logical_and.reduce(allowed, axis=0)
    simple &= ~np.logical_or.reduce(pad[:-1] & ~pad[1:], axis=0)  # nothing after the end
    if n and codes.max() > 127:
        simple[np.flatnonzero(codes > 127) // width] = False
    # Counts fit in 16 bits: a cell here is at most _MAX_CELL characters.
    digits = np.add.reduce(is_digit, axis=0, dtype=np.int16)
    dots = np.add.reduce(is_dot, axis=0, dtype=np.int16)
    simple &= (digits > 0) & (digits <= _MAX_DIGITS) & (dots <= 1)
    places = np.zeros(n, dtype=np.int16)  # digits after the point
    after_dot = np.zeros(n, dtype=bool)
    for digit_here, dot_here in zip(is_digit, is_dot, strict=True):
        places += digit_here & after_dot
        after_dot |= dot_here
    mantissa = _mantissa(digit * is_digit, is_digit)
    values = mantissa / _POWERS_OF_TEN[np.minimum(places, _MAX_DIGITS)]  # capped: longer cells are not simple
    values = np.where(negative, -values, values)
    np.putmask(values, ~simple, np.nan)
    return values, empty, simple


def _mantissa(digit: NDArray[np.uint8], is_digit: NDArray[np.bool_]) -> Array:
    """The integer each cell's digits spell, from one row per character position and one column per
    cell (``digit`` is 0 where ``is_digit`` is not). Exact up to 19 digits; longer cells wrap."""
    # Adjacent blocks of digits combine pairwise, (value, 10^digits) → (v₁·10^d₂ + v₂, 10^(d₁+d₂)),
    # in the narrowest integer type that holds the block: a handful of whole-array steps in place
    # of one multiply-add per position, and mostly on small integers.
    rows = 1 << (len(digit) - 1).bit_length()
    value = np.zeros((rows, digit.shape[1]), dtype=np.uint8)
    scale = np.ones_like(value)
    value[: len(digit)] = digit
    scale[: len(digit)] += is_digit * np.uint8(9)
    block = 1
    while len(value) > 1:
        block *= 2
        kind = np.min_scalar_type(10 ** min(block, 19))
        value, scale = value.astype(kind), scale.astype(kind)
        value = value[0::2] * scale[1::2] + value[1::2]
        scale = scale[0::2] * scale[1::2]
    mantissa: Array = value[0].astype(np.float64)
    return mantissa


# --------------------------------------------------------------------------- comparing

SLACK = 1e-12
"""Relative room added to every interval so that a boundary case is not lost to float rounding."""


def rel_half_width(expected: ArrayLike, value: float) -> Array:
    """``rel``: |x − e| ≤ value·|e|."""
    return value * np.abs(np.asarray(expected, dtype=np.float64))


def abs_half_width(expected: ArrayLike, value: float) -> Array:
    """``abs``: |x − e| ≤ value."""
    return np.full(np.shape(expected), float(value))


def sigfig_half_width(expected: ArrayLike, digits: float) -> Array:
    """``sigfig``: agrees with e to ``digits`` significant figures (PrairieLearn: 0.51 of a unit in
    the last significant place, so that e rounded to that many figures is accepted)."""
    e = np.abs(np.asarray(expected, dtype=np.float64))
    with np.errstate(divide="ignore"):
        magnitude = np.where(e > 0, np.floor(np.log10(np.where(e > 0, e, 1.0))), 0.0)
    out: Array = 0.51 * 10.0 ** (magnitude - round(digits) + 1)
    return out


def decimals_half_width(expected: ArrayLike, places: float) -> Array:
    """``decimals``: agrees with e to ``places`` decimal places (0.51 of a unit in the last place)."""
    return np.full(np.shape(expected), 0.51 * 10.0 ** -round(places))


_HALF_WIDTH = {
    ToleranceMode.REL: rel_half_width,
    ToleranceMode.ABS: abs_half_width,
    ToleranceMode.SIGFIG: sigfig_half_width,
    ToleranceMode.DECIMALS: decimals_half_width,
}


@dataclass(frozen=True)
class Rule:
    """How close an answer must be: a key's :class:`Tolerance`, or ``--rtol``/``--atol``.

    With command-line tolerances an answer passes when |x − e| ≤ atol + rtol·|e| (numpy's
    ``isclose``), for every item, whatever the key says.
    """

    tolerance: Tolerance | None = None
    rtol: float = 0.0
    atol: float = 0.0

    def half_width(self, expected: ArrayLike) -> Array:
        e = np.asarray(expected, dtype=np.float64)
        if self.tolerance is None:
            width: Array = self.atol + self.rtol * np.abs(e)
        else:
            width = _HALF_WIDTH[self.tolerance.mode](e, self.tolerance.value)
        return width + SLACK * (np.abs(e) + width)

    def describe(self) -> str:
        if self.tolerance is None:
            parts = [f"rtol {self.rtol:g}" if self.rtol else "", f"atol {self.atol:g}" if self.atol else ""]
            return " + ".join(p for p in parts if p) or "exact"
        mode, value = self.tolerance.mode, self.tolerance.value
        if mode is ToleranceMode.REL:
            return f"within {value * 100:g}%"
        if mode is ToleranceMode.ABS:
            return f"within ±{value:g}"
        if mode is ToleranceMode.SIGFIG:
            return f"to {round(value)} significant figures"
        return f"to {round(value)} decimal places"


def half_width(expected: ArrayLike, tolerance: Tolerance) -> Array:
    """How far from ``expected`` an answer may be under ``tolerance`` (element-wise)."""
    return Rule(tolerance).half_width(expected)


def is_close(answer: ArrayLike, expected: ArrayLike, tolerance: Tolerance) -> NDArray[np.bool_]:
    """Whether ``answer`` matches ``expected`` under ``tolerance`` (element-wise)."""
    x = np.asarray(answer, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    result: NDArray[np.bool_] = np.abs(x - e) <= half_width(e, tolerance)
    return result


def _match(x: Array, ref: Array, rule: Rule, keys: NDArray[np.intp] | None = None) -> NDArray[np.bool_]:
    """Whether each x is within the rule's half-width of its reference; with ``keys``, ``ref`` is
    per key and ``keys`` gives each x's key (the half-widths are then worked out once per key)."""
    with np.errstate(invalid="ignore"):
        if keys is None:
            out: NDArray[np.bool_] = np.abs(x - ref) <= rule.half_width(ref)
        else:
            out = np.abs(x - ref[keys]) <= rule.half_width(ref)[keys]
    return out


# --------------------------------------------------------------------------- keys


@dataclass(frozen=True)
class KeySet:
    """Per-student keys (``keys.json`` of the variants issue): student id → that student's key."""

    keys: Mapping[str, Key]
    seed: Any = None


KeyLike = Key | KeySet | Spec | str | Path


def key_from_spec(spec: Spec) -> Key:
    """A key asking every quantity but the givens."""
    graph = build_graph(spec)
    return make_key(spec, graph, graph.evaluate(), graph.evaluate(hand=True), askable(graph))


def load_answer_key(path: str | Path) -> Key | KeySet:
    """Read KEY: a ``key.json``, a ``keys.json`` of per-student keys, or a spec (YAML/JSON/TOML)."""
    path = Path(path)
    text = read_text(path, what="key", limit=MAX_KEY_BYTES)
    fmt = format_of(path)
    data = parse_text(text, fmt=fmt, source=str(path))
    if isinstance(data, dict) and "keys" in data:
        keys = data["keys"]
        if not isinstance(keys, dict) or not keys:
            raise GradegenError(f"{path}: keys must map student ids to keys, got {type(keys).__name__}")
        parsed = {
            str(student): Key.from_dict(entry, source=f"{path}: keys.{student}")
            for student, entry in keys.items()
        }
        return KeySet(parsed, data.get("seed"))
    if isinstance(data, dict) and {"asked", "values"} <= set(data):
        return Key.from_dict(data, source=str(path))
    if isinstance(data, dict) and "title" not in data:
        data = {"title": path.stem, **data}
    return key_from_spec(parse_spec(data, source=str(path)))


def _resolve_key(key: KeyLike) -> Key | KeySet:
    if isinstance(key, str | Path):
        return load_answer_key(key)
    if isinstance(key, Spec):
        return key_from_spec(key)
    return key


def _spec_values(spec: Spec) -> list[float]:
    """The givens of ``spec`` in graph order: inputs, targets, weights, biases, learning rate."""
    weights = [w for layer in spec.layers for row in layer.weights for w in row]
    biases = [b for layer in spec.layers for b in layer.biases()]
    return [*spec.inputs, *spec.targets, *weights, *biases, spec.learning_rate]


def _structure(key: Key) -> str:
    """What keys must share to be graded in one batch: everything but the given numbers."""
    data = key.spec.to_data()
    for name in ("title", "course", "instructions", "inputs", "targets", "learning_rate"):
        data.pop(name, None)
    for layer in data["layers"]:
        layer["weights"] = [len(row) for row in layer["weights"]]
        layer["bias"] = len(layer["bias"]) if isinstance(layer["bias"], list) else None
    answers = {q: (a.tolerance.model_dump(mode="json"), a.points) for q, a in key.values.items()}
    return json.dumps([data, key.asked, answers], sort_keys=True)


# --------------------------------------------------------------------------- result records


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
    keys: tuple[Key, ...]
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


# --------------------------------------------------------------------------- grading


def grade(
    key: KeyLike,
    submissions: Submissions | Iterable[str | Path],
    *,
    rtol: float | None = None,
    atol: float | None = None,
    ecf_credit: float = DEFAULT_ECF_CREDIT,
) -> GradingResults:
    """Grade submissions against a key (or per-student keys, or a spec asking everything).

    ``rtol``/``atol`` replace every item's rule; ``ecf_credit`` is the share of an item's points a
    follow-through answer earns. Broken submissions are reported in the results, never raised.
    """
    for name, value in (("rtol", rtol), ("atol", atol)):
        if value is not None and (not math.isfinite(value) or value < 0):
            raise GradegenError(f"--{name}: expected a number ≥ 0, got {value:g}")
    if not math.isfinite(ecf_credit) or not 0 <= ecf_credit <= 1:
        raise GradegenError(f"--ecf-credit: expected a number between 0 and 1, got {ecf_credit:g}")
    override = Rule(None, rtol or 0.0, atol or 0.0) if rtol is not None or atol is not None else None
    resolved = _resolve_key(key)
    table = submissions if isinstance(submissions, Submissions) else read_submissions(submissions)
    errors = list(table.errors)

    # Which key each submission is graded against, and the groups of keys sharing a structure.
    n = len(table)
    if isinstance(resolved, Key):
        key_of: list[Key | None] = [resolved] * n
    else:
        key_of = [resolved.keys.get(s) for s in table.students]
        for i, k in enumerate(key_of):
            if k is None:
                errors.append(
                    FileError(table.sources[i], f"no key for student {table.students[i]!r}; not graded")
                )
    members: list[list[int]] = []  # per group: submission rows
    group_keys: list[list[Key]] = []  # per group: its distinct keys
    row_key: list[list[int]] = []  # per group: each row's position in group_keys
    if isinstance(resolved, Key):
        if n:
            members, group_keys, row_key = [list(range(n))], [[resolved]], [[0] * n]
    else:
        by_structure: dict[str, int] = {}
        key_pos: dict[int, tuple[int, int]] = {}  # id(key) → (group, position)
        for i, k in enumerate(key_of):
            if k is None:
                continue
            if id(k) not in key_pos:
                g = by_structure.setdefault(_structure(k), len(by_structure))
                if g == len(members):
                    members.append([])
                    group_keys.append([])
                    row_key.append([])
                key_pos[id(k)] = (g, len(group_keys[g]))
                group_keys[g].append(k)
            g, pos = key_pos[id(k)]
            members[g].append(i)
            row_key[g].append(pos)

    groups: list[GroupResult] = []
    group_of = np.full(n, -1, dtype=np.intp)
    row_of = np.full(n, -1, dtype=np.intp)
    student_errors: dict[int, list[str]] = {}
    for g, rows in enumerate(members):
        keys = group_keys[g]
        asked = set(keys[0].asked)
        index = np.array(rows, dtype=np.intp)
        # Unknown ids: once per CSV file, else in the student's own errors.
        for qid, column in table.columns.items():
            if qid in asked:
                continue
            hits = [i for i in rows if column[i] is not None and column[i] != ""]
            for source in dict.fromkeys(table.sources[i] for i in hits if table.from_csv[i]):
                record = FileError(
                    source, f"unknown quantity id {qid!r}{_hint(qid, keys[0].asked)} (column ignored)"
                )
                if record not in errors:
                    errors.append(record)
            hint = _hint(qid, keys[0].asked)
            for i in hits:
                if not table.from_csv[i]:
                    student_errors.setdefault(i, []).append(f"unknown quantity id {qid!r}{hint} (ignored)")
        everyone = len(rows) == n  # then the rows are 0…n−1 in order: use the columns as they are
        cells = {
            q: (
                (table.columns[q] if everyone else [table.columns[q][i] for i in rows])
                if q in table.columns
                else [None] * len(rows)
            )
            for q in keys[0].asked
        }
        result = grade_group(keys, np.array(row_key[g], dtype=np.intp), cells, override, ecf_credit)
        groups.append(result)
        group_of[index] = g
        row_of[index] = np.arange(len(rows))

    graded = np.flatnonzero(group_of >= 0)
    position = {int(i): p for p, i in enumerate(graded.tolist())} if graded.size < n else None
    problems = {i: list(e) for i, e in table.row_errors.items()}
    for i, extra in student_errors.items():
        problems.setdefault(i, []).extend(extra)
    if position is not None:
        problems = {position[i]: e for i, e in problems.items() if i in position}
    everyone = graded.size == n
    return GradingResults(
        groups=tuple(groups),
        ids=tuple(table.students) if everyone else tuple(table.students[i] for i in graded.tolist()),
        sources=tuple(table.sources) if everyone else tuple(table.sources[i] for i in graded.tolist()),
        group_of=group_of[graded],
        row_of=row_of[graded],
        student_errors={i: tuple(e) for i, e in sorted(problems.items()) if e},
        errors=tuple(errors),
        ecf_credit=ecf_credit,
    )


def _hint(qid: str, ids: Sequence[str]) -> str:
    close = difflib.get_close_matches(qid, ids, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def grade_group(
    keys: Sequence[Key],
    key_index: NDArray[np.intp],
    cells: Mapping[str, Sequence[Any]],
    override: Rule | None = None,
    ecf_credit: float = DEFAULT_ECF_CREDIT,
) -> GroupResult:
    """Grade rows against keys that share one structure; ``key_index[row]`` picks each row's key.

    Everything is column-wise: each key is evaluated once (exactly, by hand and in every mistake
    variant) over the batch of keys, and each quantity is compared for all rows at once.
    """
    first = keys[0]
    graph = build_graph(first.spec)
    if _spec_values(first.spec) != [graph.defaults[g] for g in graph.givens]:  # pragma: no cover
        raise GradegenError("internal: the givens of a spec are not in graph order")
    givens_k = {
        gid: np.array(vals, dtype=np.float64)
        for gid, vals in zip(
            graph.givens, zip(*(_spec_values(k.spec) for k in keys), strict=True), strict=True
        )
    }
    batch = len(keys)
    exact = graph.evaluate(givens_k, batch=batch)
    hand = graph.evaluate(givens_k, hand=True, batch=batch)
    asked = first.asked
    refs = references(graph, first.spec, exact, hand, asked)
    kx = key_index
    n = len(kx)

    rule = {q: override or Rule(first.values[q].tolerance) for q in asked}
    parsed = {q: parse_column(cells[q]) for q in asked}

    # The student's own answers over the key's values: the basis of follow-through. Only what the
    # asked quantities are computed from (a column per node of a large network would take gigabytes).
    overlay: dict[str, Array] = {}
    for p in dict.fromkeys(p for q in asked for p in graph[q].parents):
        column = exact[p][kx]
        if p in parsed:
            values, status, _ = parsed[p]
            column = np.where(status == 0, values, column)
        overlay[p] = column
    recomputed = graph.recompute(overlay)

    correct_of: dict[str, NDArray[np.bool_]] = {}
    columns: dict[str, _Column] = {}
    score = np.zeros(n)
    total = np.zeros(n)
    with np.errstate(invalid="ignore", over="ignore"):
        for node in graph.nodes:
            q = node.id
            if q not in parsed:
                continue
            values, status, raws = parsed[q]
            ok = status == 0
            r = rule[q]
            e_key = np.array([k.values[q].exact for k in keys])
            h_key = np.array([k.values[q].hand for k in keys])
            e_s = in_space(graph, q, e_key, exact.arrays)
            h_s = in_space(graph, q, h_key, exact.arrays)
            lo_s = np.minimum(e_s - r.half_width(e_s), h_s - r.half_width(h_s))
            hi_s = np.maximum(e_s + r.half_width(e_s), h_s + r.half_width(h_s))
            if node.kind is Kind.UPDATE and node.param:
                w = exact[node.param]
                lo_k, hi_k = w - hi_s, w - lo_s
                xs = exact[node.param][kx] - values
            else:
                lo_k, hi_k = lo_s, hi_s
                xs = values
            correct = ok & (xs >= lo_s[kx]) & (xs <= hi_s[kx])
            correct_of[q] = correct

            # follow-through: from the student's own (wrong, non-zero) answers for direct parents
            follow = np.full(n, np.nan)
            ft = np.zeros(n, dtype=bool)
            used = [p for p in node.parents if p in parsed]
            if used and q in recomputed:
                upstream_wrong = np.zeros(n, dtype=bool)
                zero = np.zeros(n, dtype=bool)
                for p in used:
                    wrong = (parsed[p][1] == 0) & ~correct_of[p]
                    upstream_wrong |= wrong
                    zero |= wrong & (parsed[p][0] == 0)
                candidates = ok & ~correct & upstream_wrong & ~zero
                if candidates.any():
                    follow = np.where(upstream_wrong, recomputed[q], np.nan)
                    rec_s = (
                        (exact[node.param][kx] - follow)
                        if node.kind is Kind.UPDATE and node.param
                        else follow
                    )
                    ft = candidates & np.isfinite(rec_s) & _match(xs, rec_s, r)

            # diagnosis of what is still wrong
            diagnosis = np.full(n, -1, dtype=np.int8)
            wrong_rows = np.flatnonzero(ok & ~correct & ~ft)
            if wrong_rows.size:
                x_w = xs[wrong_rows]
                k_w = kx[wrong_rows]
                found = np.full(wrong_rows.size, -1, dtype=np.int8)
                for code, ref, swapped in refs.get(q, []):
                    open_ = found < 0
                    if not open_.any():
                        break
                    usable = np.isfinite(ref) & (ref != 0)  # per key
                    hit = open_ & usable[k_w] & _match(x_w, ref, r, k_w)
                    for s in swapped:  # the mistake cannot be upstream where the student was right
                        if s != q and s in correct_of:
                            hit &= ~correct_of[s][wrong_rows]
                    found[hit] = MISTAKES.index(code)
                diagnosis[wrong_rows] = found

            verdict = np.full(n, VERDICTS.index(Verdict.INCORRECT), dtype=np.int8)
            verdict[status == 1] = VERDICTS.index(Verdict.MISSING)
            verdict[status == 2] = VERDICTS.index(Verdict.UNPARSEABLE)
            verdict[ft] = VERDICTS.index(Verdict.FOLLOW_THROUGH)
            verdict[correct] = VERDICTS.index(Verdict.CORRECT)
            pts_k = np.array([k.values[q].points for k in keys])
            max_points = pts_k[kx]
            points = np.where(correct, max_points, np.where(ft, ecf_credit * max_points, 0.0))
            score += points
            total += max_points
            columns[q] = _Column(
                raw=raws,
                value=values,
                exact_k=e_key,
                hand_k=h_key,
                lo_k=lo_k,
                hi_k=hi_k,
                verdict=verdict,
                diagnosis=diagnosis,
                points=points,
                max_points=float(pts_k[0]),
                follow=follow,
            )
    return GroupResult(
        graph=graph,
        asked=tuple(asked),
        keys=tuple(keys),
        key_index=kx,
        hand=hand,
        rule=rule,
        columns={q: columns[q] for q in asked},
        score=score,
        max=total,
    )


def explain(code: Mistake | str) -> str:
    """The one-sentence explanation of a diagnosis code."""
    return EXPLANATIONS[Mistake(code)]

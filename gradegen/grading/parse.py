"""Parsing answers: one cell, or a whole column at once, into a number, missing or unparseable."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gradegen.core.graph import Array
from gradegen.tables import TEXT_CELL_CHARS


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


_DASHES = str.maketrans(dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2212\ufe63\uff0d", "-"))
"""Hyphens, dashes and minus signs read as a minus: U+2010 hyphen, U+2011 non-breaking hyphen,
figure dash, en and em dash, minus sign, small and full-width hyphen-minus."""
_NUM = r"(?:\d+(?:\.\d*)?|\.\d+)"
_FLOAT = rf"[+-]?{_NUM}(?:[eE][+-]?\d+)?"
_TIMES = r"(?:[x×X*·⋅∙]|\\times|\\cdot)"
_POWER = r"(?:\^|\*\*)\s*(?:\{\s*([+-]?\d+)\s*\}|\(\s*([+-]?\d+)\s*\)|([+-]?\d+))"
_SCIENTIFIC = re.compile(rf"({_FLOAT})\s*{_TIMES}\s*10\s*{_POWER}")
_SUPERSCRIPTS = str.maketrans("⁻⁺⁰¹²³⁴⁵⁶⁷⁸⁹", "-+0123456789")
_SUPERSCRIPT_POWER = re.compile("10([⁻⁺]?[⁰¹²³⁴⁵⁶⁷⁸⁹]+)$")
"""A power of ten written as the worksheet prints it: 6.70 × 10⁻⁴."""
_FRACTION = re.compile(rf"({_FLOAT})\s*/\s*({_FLOAT})")
_DECIMAL_COMMA = re.compile(r"([+-]?\d*),(\d+)")
MAX_ANSWER_CHARS = 100


def _number(text: str) -> float | None:
    s = text.strip()
    if power := _SUPERSCRIPT_POWER.search(s):
        s = s[: power.start()] + "10^" + power.group(1).translate(_SUPERSCRIPTS)
    s = s.translate(_DASHES).replace("\u2009", "").replace("\u00a0", " ")
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
            mantissa = m.group(1)
            if "e" in mantissa.lower():
                value = float(mantissa) * 10.0**exponent if abs(exponent) <= 308 else math.inf
            else:  # read as one decimal, correctly rounded: 1.385 × 10^-5 is 1.385e-5
                value = float(f"{mantissa}e{exponent}") if abs(exponent) <= 308 else math.inf
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
    ``**``, and ``8.22 × 10⁻²`` as the worksheets print it), ``1/2``, surrounding spaces. Empty
    or absent is missing; anything else (words, NaN, infinity, true/false, lists) is unparseable,
    with the raw text kept. Nothing is evaluated.
    """
    if cell is None:
        return Parsed(Status.MISSING, None, None)
    if isinstance(cell, bool):
        return Parsed(Status.UNPARSEABLE, None, str(cell).lower())
    if isinstance(cell, int | float):
        raw = repr(cell) if isinstance(cell, float) else _integer_text(cell)
        try:
            number = float(cell)
        except OverflowError:  # an integer beyond float64: no answer to anything
            return Parsed(Status.UNPARSEABLE, None, raw)
        if not math.isfinite(number):
            return Parsed(Status.UNPARSEABLE, None, raw)
        return Parsed(Status.OK, number, raw)
    if not isinstance(cell, str):
        return Parsed(Status.UNPARSEABLE, None, _structure_text(cell))
    if not cell.strip():
        return Parsed(Status.MISSING, None, None)
    value = _number(cell)
    if value is None:
        return Parsed(Status.UNPARSEABLE, None, cell)
    return Parsed(Status.OK, value, cell)


def _integer_text(number: int) -> str:
    """An integer's digits, or a note of its size when Python will not convert that many digits."""
    try:
        return str(number)
    except ValueError:
        return f"<an integer of about {int(number.bit_length() * math.log10(2)):,} digits>"


def _structure_text(cell: object) -> str:
    """A list or mapping answer as JSON text (kept raw), or a note when it cannot be written so
    (a value holding itself, an integer of thousands of digits, nesting too deep)."""
    try:
        return json.dumps(cell, default=str, ensure_ascii=False)
    except (ValueError, TypeError, RecursionError):
        return f"<a {type(cell).__name__} that cannot be written as text>"


_STATUS_CODE = {Status.OK: 0, Status.MISSING: 1, Status.UNPARSEABLE: 2}


def parse_column(cells: Sequence[Any]) -> tuple[Array, NDArray[np.int8], Sequence[str | None]]:
    """A whole column of answers: values (NaN where none), status codes (0 ok, 1 missing,
    2 unparseable) and raw texts (for text cells, the cells themselves; "" reads as missing).

    Text cells that are plain decimals are read column-wise by :func:`_decimal_column` (five times
    quicker than numpy's own text-to-float conversion at 100,000 rows; tests hold it to
    :func:`parse_answer`, that is to ``float()``); the rest
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


_MAX_CELL = TEXT_CELL_CHARS
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

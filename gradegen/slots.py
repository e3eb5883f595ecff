"""Text with named slots for numbers: rendered once per graph, filled per variant.

A slot is written ``\\x00key\\x00`` in the text. Keys name what goes there for a node ``n``:
``t:n`` its printed value, ``o:n`` the same as an operand (negatives in parentheses), ``s:n`` an
update's step as an operand, ``v:n`` a given as the SVG diagram prints it, ``p:n`` the precision
an answer is asked to, and ``student`` the (escaped) student. Filling formats each number once
per variant, for a block of variants at a time, straight from the evaluated arrays.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gradegen.graph import Array, Values
from gradegen.rounding import MAX_PLACES, round_to, shortest

MARK = "\x00"
_SLOT = re.compile("\x00([^\x00]*)\x00")


def slot(key: str) -> str:
    """The marker for ``key`` in a compiled text."""
    return f"{MARK}{key}{MARK}"


def fill(text: str, value: Callable[[str], str]) -> str:
    """``text`` with every slot replaced by ``value(key)`` (the plain, one-variant way)."""
    return _SLOT.sub(lambda m: value(m.group(1)), text)


class Template:
    """A text whose number slots are filled from a sequence of slot texts, in the order of ``keys``.

    Filling gives the UTF-8 bytes written to a file. The ``student`` slot is not a number: its
    text comes with each fill.
    """

    __slots__ = ("_parts", "_students", "keys")

    def __init__(self, text: str) -> None:
        parts = text.split(MARK)
        if len(parts) % 2 == 0:
            raise ValueError("a slot marker without its pair")
        names = parts[1::2]
        self.keys = tuple(key for key in names if key != "student")
        self._students = tuple(k for k, key in enumerate(names) if key == "student")  # among all slots
        # static pieces at even positions; a fill drops the values into the odd ones and joins
        self._parts = [part.encode() for part in parts]

    def fill(self, values: Sequence[bytes], student: bytes = b"") -> bytes:
        parts = self._parts.copy()
        if self._students:
            values = list(values)
            for k in self._students:
                values.insert(k, student)
        parts[1::2] = values
        return b"".join(parts)


# --------------------------------------------------------------------------- numbers, batched

SEP = b"\x01"
"""Ends each number of a formatted column (never part of a number's text)."""


def format_each(formats: bytes, values: list[Any]) -> list[bytes]:
    """The text of each value, ``formats`` holding a %-format per value, each ending in SEP.

    One bytes % formats a whole column: far cheaper than a call per number.
    """
    return (formats % tuple(values)).split(SEP)[:-1]


_OPEN, _CLOSE = b"\x02", b"\x03"  # around a negative number's text in a formatted column
_PLAIN = _OPEN + _CLOSE  # deleted for the number's text
_OPERAND = bytes.maketrans(_PLAIN, b"()")  # an operand: negatives in parentheses

_SHORTEST = (b"%r\x01", b"\x02%r\x03\x01")  # repr; a negative one marked
_FIXED = [b"%%.%df\x01" % p for p in range(MAX_PLACES + 1)]
_FIXED += [_OPEN + f[:-1] + _CLOSE + SEP for f in _FIXED]  # negatives: at places + MAX_PLACES + 1


def _formatted(xs: Array, places: NDArray[np.int64] | None) -> bytes:
    """Each value's text ending in SEP, a negative one between _OPEN and _CLOSE: without
    ``places``, ``math_number(shortest(x))`` (repr without a trailing ``.0``); with them,
    ``math_number(format_number(x, p))`` of hand values rounded to ``places``.

    One bytes % formats the whole column, far cheaper than a call per number, and its operands
    come from the same text.
    """
    table: Sequence[bytes]
    if places is None:
        table, codes = _SHORTEST, np.signbit(xs) & ~np.isnan(xs)  # repr prints "-" for these
    else:
        xs = xs + 0.0  # -0.0 becomes 0.0: a rounded value prints as 0.00…, as format_number writes it
        table, codes = _FIXED, places + (MAX_PLACES + 1) * (xs < 0)
    first = int(codes[0]) if len(codes) else 0
    if (codes == first).all():
        formats = table[first] * len(xs)
    else:
        formats = b"".join(map(table.__getitem__, codes.tolist()))
    values = xs.tolist()
    text = formats % tuple(values)
    if places is not None:
        return text
    if b"e" in text:  # rare: tiny or huge values, written out positionally
        texts = [shortest(x).replace("−", "-").encode() for x in values]
        return b"".join(_OPEN + t + _CLOSE + SEP if t[:1] == b"-" else t + SEP for t in texts)
    return text.replace(b".0" + SEP, SEP).replace(b".0" + _CLOSE, _CLOSE)


@lru_cache(maxsize=64)
def precision_text(places: int | None) -> str:
    """How an answer's precision is asked for: "4 decimal places", or "full precision"."""
    if places is None:
        return "full precision"
    return f"{places} decimal place" + ("" if places == 1 else "s")


@lru_cache(maxsize=64)
def _precision_bytes(places: int | None) -> bytes:
    return precision_text(places).encode()


_MINUS = "−".encode()


class Columns:
    """Every slot's text (UTF-8) for variants ``lo … hi − 1`` of an evaluated batch (one list per key)."""

    def __init__(self, keys: Iterable[str], exact: Values, hand: Values, exact_mode: bool, lo: int, hi: int):
        self.exact_mode = exact_mode
        self.values = exact if exact_mode else hand
        self.hand = hand
        self.lo, self.hi = lo, hi
        self._formatted: dict[str, bytes] = {}  # "t:" or "s:" key → the column as _formatted writes it
        self.texts = {key: self._column(key) for key in keys}

    def _column(self, key: str) -> list[bytes]:
        kind, node = key.split(":", 1)
        if kind == "p":
            if self.exact_mode:
                return [_precision_bytes(None)] * (self.hi - self.lo)
            hand_places = self.hand.places
            if hand_places is None or node not in hand_places:  # not computed: as the key says, 0
                return [_precision_bytes(0)] * (self.hi - self.lo)
            return list(map(_precision_bytes, hand_places[node][self.lo : self.hi].tolist()))
        if kind not in ("t", "o", "v", "s"):
            raise KeyError(key)
        text = self._text("s" if kind == "s" else "t", node)
        if kind == "o" or kind == "s":
            text = text.translate(_OPERAND)
        else:
            text = text.translate(None, _PLAIN)
            if kind == "v":
                text = text.replace(b"-", _MINUS)
        return text.split(SEP)[:-1]

    def _text(self, kind: str, node: str) -> bytes:
        """The formatted column of a node's values ("t") or of an update's steps ("s")."""
        key = f"{kind}:{node}"
        text = self._formatted.get(key)
        if text is None:
            text = self._formatted[key] = self._steps(node) if kind == "s" else self._numbers(node)
        return text

    def _numbers(self, node: str) -> bytes:
        span = slice(self.lo, self.hi)
        places = self.values.places
        if self.exact_mode or places is None or node not in places:
            return _formatted(self.values[node][span], None)
        return _formatted(self.values[node][span], places[node][span])

    def _steps(self, update: str) -> bytes:
        """η·∂L/∂p of each variant's update, as the hand rounding computes it (or exactly)."""
        _, lr, grad = self.values.graph[update].parents
        span = slice(self.lo, self.hi)
        step = self.values[lr][span] * self.values[grad][span]
        places = self.values.places
        if self.exact_mode or places is None:
            return _formatted(step, None)
        return _formatted(round_to(step, places[update][span]), places[update][span])

    def rows(self, keys: Sequence[str]) -> list[tuple[bytes, ...]]:
        """For each variant of the block, the texts of ``keys`` in order."""
        if not keys:
            return [()] * (self.hi - self.lo)
        return list(zip(*(self.texts[k] for k in keys), strict=True))

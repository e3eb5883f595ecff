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
    """A text whose number slots are filled from a tuple of slot texts, in the order of ``keys``.

    The ``student`` slot stays a marker in the text, replaced per call: it is not a number.
    """

    __slots__ = ("_parts", "_student", "keys")

    def __init__(self, text: str) -> None:
        parts = text.split(MARK)
        keys: list[str] = []
        pieces = [parts[0]]
        for key, static in zip(parts[1::2], parts[2::2], strict=True):
            if key == "student":
                pieces[-1] += slot(key) + static
            else:
                keys.append(key)
                pieces.append(static)
        self.keys = tuple(keys)
        # static pieces at even positions; a fill drops the values into the odd ones and joins
        self._parts: list[str] = [""] * (2 * len(keys) + 1)
        self._parts[0::2] = pieces
        self._student = any(slot("student") in p for p in pieces)

    def fill(self, values: Sequence[str], student: str = "") -> str:
        parts = self._parts.copy()
        parts[1::2] = values
        text = "".join(parts)
        return text.replace(slot("student"), student) if self._student else text


# --------------------------------------------------------------------------- numbers, batched


def _givens(xs: Array) -> list[str]:
    """``math_number(shortest(x))`` of each value: repr, without a trailing ``.0``."""
    texts: list[str] = list(map(repr, xs.tolist()))
    if any("e" in t for t in texts):  # rare: tiny or huge values, written out positionally
        return [shortest(x).replace("−", "-") for x in xs.tolist()]
    return [t[:-2] if t.endswith(".0") else t for t in texts]


def _fixed(xs: Array, places: NDArray[np.int64]) -> list[str]:
    """``math_number(format_number(x, p))`` of hand values ``xs`` rounded to ``places``."""
    first = int(places[0])
    if (places == first).all():  # usual: one format for the whole column, applied in C
        texts = list(map(f"{{:.{first}f}}".format, xs.tolist()))
    else:
        texts = list(map(format, xs.tolist(), map(_SPECS.__getitem__, places.tolist())))
    # A rounded value prints as -0.00… only when it is -0.0; like format_number, drop the minus.
    for k in np.flatnonzero((xs == 0) & np.signbit(xs)).tolist():
        texts[k] = texts[k][1:]
    return texts


_SPECS = {p: f".{p}f" for p in range(MAX_PLACES + 1)}


def _operands(texts: list[str], xs: Array) -> list[str]:
    """Each text as an operand: negatives in parentheses."""
    if not np.signbit(xs).any():
        return texts
    return [f"({t})" if t[:1] == "-" else t for t in texts]


@lru_cache(maxsize=64)
def precision_text(places: int | None) -> str:
    """How an answer's precision is asked for: "4 decimal places", or "full precision"."""
    if places is None:
        return "full precision"
    return f"{places} decimal place" + ("" if places == 1 else "s")


class Columns:
    """Every slot's text for variants ``lo … hi − 1`` of an evaluated batch (one list per key)."""

    def __init__(self, keys: Iterable[str], exact: Values, hand: Values, exact_mode: bool, lo: int, hi: int):
        self.exact_mode = exact_mode
        self.values = exact if exact_mode else hand
        self.hand = hand
        self.lo, self.hi = lo, hi
        self.texts: dict[str, list[str]] = {}
        for key in keys:
            self.text(key)

    def _column(self, key: str) -> list[str]:
        kind, node = key.split(":", 1)
        span = slice(self.lo, self.hi)
        if kind == "t":
            places = self.values.places
            if self.exact_mode or places is None or node not in places:
                return _givens(self.values[node][span])
            return _fixed(self.values[node][span], places[node][span])
        if kind == "o":
            return _operands(self.text(f"t:{node}"), self.values[node][span])
        if kind == "v":
            texts = self.text(f"t:{node}")
            return (
                [t.replace("-", "−") for t in texts] if np.signbit(self.values[node][span]).any() else texts
            )
        if kind == "p":
            if self.exact_mode:
                return ["full precision"] * (self.hi - self.lo)
            hand_places = self.hand.places
            if hand_places is None or node not in hand_places:  # not computed: as the key says, 0
                return [precision_text(0)] * (self.hi - self.lo)
            return [precision_text(p) for p in hand_places[node][span].tolist()]
        if kind == "s":
            steps, texts = self._steps(node)
            return _operands(texts, steps)
        raise KeyError(key)

    def text(self, key: str) -> list[str]:
        column = self.texts.get(key)
        if column is None:
            column = self.texts[key] = self._column(key)
        return column

    def _steps(self, update: str) -> tuple[Array, list[str]]:
        """η·∂L/∂p of each variant's update, as the hand rounding computes it (or exactly)."""
        _, lr, grad = self.values.graph[update].parents
        span = slice(self.lo, self.hi)
        step = self.values[lr][span] * self.values[grad][span]
        places = self.values.places
        if self.exact_mode or places is None:
            return step, _givens(step)
        rounded = round_to(step, places[update][span])
        return rounded, _fixed(rounded, places[update][span])

    def rows(self, keys: Sequence[str]) -> list[tuple[str, ...]]:
        """For each variant of the block, the texts of ``keys`` in order."""
        if not keys:
            return [()] * (self.hi - self.lo)
        return list(zip(*(self.texts[k] for k in keys), strict=True))

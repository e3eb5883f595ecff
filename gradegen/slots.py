"""Text with named slots for numbers: rendered once per graph, filled per variant.

A slot is written ``\\x00key\\x00`` in the text. Keys name what goes there for a node ``n``:
``t:n`` its printed value, ``o:n`` the same as an operand (negatives in parentheses), ``s:n`` an
update's step as an operand, ``v:n`` a given as the SVG diagram prints it, ``p:n`` the precision
an answer is asked to, and ``student`` the (escaped) student. Filling formats each number once
per variant, for a block of variants at a time, straight from the evaluated arrays.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence

import numpy as np

from gradegen.graph import Values
from gradegen.rounding import round_to, shortest

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


def _given(x: float) -> str:
    """``math_number(shortest(x))`` with repr's fast path (a value printed as given)."""
    text = repr(x)
    if "e" in text:
        return shortest(x).replace("−", "-")
    return text[:-2] if text.endswith(".0") else text


def _fixed(x: float, places: int) -> str:
    """``math_number(format_number(x, places))``: no minus on a value that rounds to zero."""
    text = f"{x:.{places}f}"
    if text[:1] == "-" and float(text[1:]) == 0:
        return text[1:]
    return text


def _operand(text: str) -> str:
    return f"({text})" if text[:1] == "-" else text


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

    def _arrays(self, node: str) -> list[float]:
        column: list[float] = self.values[node][self.lo : self.hi].tolist()
        return column

    def _places(self, node: str) -> list[int] | None:
        places = self.values.places
        if self.exact_mode or places is None or node not in places:
            return None
        column: list[int] = places[node][self.lo : self.hi].tolist()
        return column

    def _column(self, key: str) -> list[str]:
        kind, node = key.split(":", 1)
        if kind == "t":
            places = self._places(node)
            xs = self._arrays(node)
            if places is None:
                return [_given(x) for x in xs]
            return [_fixed(x, p) for x, p in zip(xs, places, strict=True)]
        if kind == "o":
            return [_operand(t) for t in self.text(f"t:{node}")]
        if kind == "v":
            return [t.replace("-", "−") for t in self.text(f"t:{node}")]
        if kind == "p":
            if self.exact_mode:
                return ["full precision"] * (self.hi - self.lo)
            hand_places = self.hand.places
            if hand_places is None or node not in hand_places:  # not computed: as the key says, 0
                return [_precision(0)] * (self.hi - self.lo)
            return [_precision(p) for p in hand_places[node][self.lo : self.hi].tolist()]
        if kind == "s":
            return [_operand(t) for t in self._steps(node)]
        raise KeyError(key)

    def text(self, key: str) -> list[str]:
        column = self.texts.get(key)
        if column is None:
            column = self.texts[key] = self._column(key)
        return column

    def _steps(self, update: str) -> list[str]:
        """η·∂L/∂p of each variant's update, as the hand rounding computes it (or exactly)."""
        _, lr, grad = self.values.graph[update].parents
        span = slice(self.lo, self.hi)
        step = self.values[lr][span] * self.values[grad][span]
        places = self._places(update)
        if places is None:
            return [_given(x) for x in step.tolist()]
        rounded = round_to(step, np.asarray(places)).tolist()
        return [_fixed(x, p) for x, p in zip(rounded, places, strict=True)]

    def rows(self, keys: Sequence[str]) -> list[tuple[str, ...]]:
        """For each variant of the block, the texts of ``keys`` in order."""
        if not keys:
            return [()] * (self.hi - self.lo)
        return list(zip(*(self.texts[k] for k in keys), strict=True))


_PRECISIONS: dict[int, str] = {}


def _precision(places: int) -> str:
    text = _PRECISIONS.get(places)
    if text is None:
        text = _PRECISIONS[places] = precision_text(places)
    return text


def nominal(text: str, widths: Mapping[str, str]) -> str:
    """``text`` with each slot replaced by its nominal text (for line-breaking decisions)."""
    return fill(text, widths.__getitem__)

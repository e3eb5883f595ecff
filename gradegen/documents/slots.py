"""Text with named slots for numbers: rendered once per graph, filled per variant.

A slot is written ``\\x00key\\x00`` in the text. Keys name what goes there for a node ``n``:
``t:n`` its printed value, ``o:n`` the same as an operand (negatives in parentheses), ``s:n`` an
update's step as an operand, ``v:n`` a given as the SVG diagram prints it, ``p:n`` the precision
an answer is asked to, and ``student`` the (escaped) student. Filling formats each number once
per variant, for a block of variants at a time, straight from the evaluated arrays.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import lru_cache
from itertools import islice, repeat
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gradegen.core.graph import Array, Values
from gradegen.core.rounding import MAX_PLACES, round_to, shortest

MARK = "\x00"
_SLOT = re.compile("\x00([^\x00]*)\x00")


def slot(key: str) -> str:
    """The marker for ``key`` in a compiled text."""
    return f"{MARK}{key}{MARK}"


def fill(text: str, value: Callable[[str], str]) -> str:
    """``text`` with every slot replaced by ``value(key)`` (the plain, one-variant way)."""
    return _SLOT.sub(lambda m: value(m.group(1)), text)


class Template:
    """A text whose number slots are filled from columns of slot texts, in the order of ``keys``.

    Filling gives the UTF-8 bytes written to a file. The ``student`` slot is not a number: its
    text comes with each fill.
    """

    __slots__ = ("_parts", "_pieces", "_student", "_students", "keys")

    def __init__(self, text: str) -> None:
        parts = text.split(MARK)
        if len(parts) % 2 == 0:
            raise ValueError("a slot marker without its pair")
        names = parts[1::2]
        self.keys = tuple(key for key in names if key != "student")
        self._students = tuple(k for k, key in enumerate(names) if key == "student")  # among all slots
        # static pieces at even positions, slots at odd ones
        self._parts = [part.encode() for part in parts]
        # what rows zips: each static piece repeated, endlessly (so one repeat serves every block)
        self._pieces: list[Iterable[bytes]] = [repeat(p) for p in self._parts]
        self._student = [b""]  # the text fill sets for the student slots of the row it takes

    def rows(
        self, columns: Mapping[str, Sequence[bytes]], start: int, count: int
    ) -> Iterator[tuple[bytes, ...]]:
        """The parts of ``count`` variants, from position ``start`` of ``columns`` (one per key):
        the static pieces and each slot's text in order, for fill.
        """
        values: list[Iterable[bytes]] = list(map(columns.__getitem__, self.keys))
        if start:
            values = list(map(islice, values, repeat(start), repeat(None)))
        for k in self._students:
            values.insert(k, map(self._student.__getitem__, repeat(0)))  # the text set by fill
        pieces = self._pieces.copy()
        pieces[1::2] = values
        return islice(zip(*pieces, strict=False), count)  # the columns end it, or count

    def fill(self, rows: Iterator[tuple[bytes, ...]], student: bytes = b"") -> bytes:
        """The next variant's text from ``rows``, with its student's text."""
        self._student[0] = student
        return b"".join(next(rows))


# --------------------------------------------------------------------------- numbers, batched

SEP = b"\x01"
"""Ends each number of a formatted column (never part of a number's text)."""


def format_each(formats: bytes, values: list[Any]) -> list[bytes]:
    """The text of each value, ``formats`` holding a %-format per value, each ending in SEP.

    One bytes % formats a whole column: far cheaper than a call per number.
    """
    return (formats % tuple(values)).split(SEP)[:-1]


# A block of numbers is formatted as operands, each followed by SEP: negatives in parentheses.
# Every format has the same width (flags 00 and two-digit precisions pad the short ones without
# changing what they print), so a numpy array of them is one format string, without padding.
_SHORTEST = np.array([b"%00r\x01", b"(%r)\x01"])  # repr; a negative one in parentheses
_FIXED = np.array(
    [b"%%00.%02df\x01" % p for p in range(MAX_PLACES + 1)]
    + [b"(%%.%02df)\x01" % p for p in range(MAX_PLACES + 1)]  # negatives: at places + MAX_PLACES + 1
)


def _operands(xs: Array, places: NDArray[np.int64] | None) -> bytes:
    """Each value's text as an operand, in order: without ``places``, ``math_number(shortest(x))``
    (repr without a trailing ``.0``); with them, ``math_number(format_number(x, p))`` of hand
    values rounded to ``places``. Deleting the parentheses gives the plain texts.

    One bytes % formats a whole block of columns: far cheaper than a call per number.
    """
    if places is None:
        codes = (np.signbit(xs) & ~np.isnan(xs)).astype(np.intp)  # repr prints "-" for these
        table = _SHORTEST
    else:
        xs = xs + 0.0  # -0.0 becomes 0.0: a rounded value prints as 0.00…, as format_number writes it
        codes = places + (MAX_PLACES + 1) * (xs < 0)
        table = _FIXED
    values = xs.ravel().tolist()
    text = table[codes].tobytes() % tuple(values)
    if places is not None:
        return text
    if b"e" in text:  # rare: tiny or huge values, written out positionally
        texts = [shortest(x).replace("−", "-").encode() for x in values]
        return b"".join(b"(%s)\x01" % t if t[:1] == b"-" else t + SEP for t in texts)
    return text.replace(b".0" + SEP, SEP).replace(b".0)", b")")


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


_FORMS = {"t": "plain", "o": "operand", "s": "operand", "v": "diagram"}  # slot kind → form


def _in_form(operands: bytes, form: str) -> bytes:
    """Formatted numbers (see _operands) as a form shows them: operands, plain, or as the SVG
    diagram prints them (a real minus sign)."""
    if form == "operand":
        return operands
    plain = operands.translate(None, b"()")
    return plain.replace(b"-", _MINUS) if form == "diagram" else plain


class Columns:
    """The texts (UTF-8) of slots ``keys`` for any block of variants of an evaluated batch.

    The numbers are formatted a block at a time, in groups alike in format and in the forms their
    slots show them in; each group's values are stacked once, for the whole batch.
    """

    def __init__(self, keys: Iterable[str], exact: Values, hand: Values, exact_mode: bool) -> None:
        values = exact if exact_mode else hand
        places = None if exact_mode else values.places
        self._exact_mode = exact_mode
        self._hand_places = hand.places
        # each slot's source: (form, number), a number being "t:n" (node n's value) or "s:u"
        # (update u's step); or ("precision", node)
        self._sources: dict[str, tuple[str, str]] = {}
        forms: dict[str, set[str]] = {}
        for key in keys:
            kind, node = key.split(":", 1)
            if kind == "p":
                self._sources[key] = ("precision", node)
            elif kind in _FORMS:
                number = key if kind == "s" else f"t:{node}"
                self._sources[key] = (_FORMS[kind], number)
                forms.setdefault(number, set()).add(_FORMS[kind])
            else:
                raise KeyError(key)
        groups: dict[tuple[bool, frozenset[str]], list[str]] = {}
        for number, wanted in forms.items():
            fixed = places is not None and (number[0] == "s" or number[2:] in places)
            groups.setdefault((fixed, frozenset(wanted)), []).append(number)
        self._groups = [_Group(numbers, values, fixed, wanted) for (fixed, wanted), numbers in groups.items()]

    def block(self, lo: int, hi: int) -> dict[str, list[bytes]]:
        """Each slot's texts for variants ``lo … hi − 1``."""
        texts: dict[tuple[str, str], list[bytes]] = {}
        width = hi - lo
        for group in self._groups:
            operands = group.operands(lo, hi)
            for form in group.forms:
                column = _in_form(operands, form).split(SEP)
                for k, number in enumerate(group.numbers):
                    texts[form, number] = column[k * width : (k + 1) * width]
        for form, node in self._sources.values():
            if form == "precision":
                texts[form, node] = self._precisions(node, lo, hi)
        return {key: texts[source] for key, source in self._sources.items()}

    def _precisions(self, node: str, lo: int, hi: int) -> list[bytes]:
        if self._exact_mode:
            return [_precision_bytes(None)] * (hi - lo)
        if self._hand_places is None or node not in self._hand_places:  # not computed: as the key says, 0
            return [_precision_bytes(0)] * (hi - lo)
        return list(map(_precision_bytes, self._hand_places[node][lo:hi].tolist()))


class _Group:
    """Numbers formatted together: their values (and places) stacked, one row each."""

    def __init__(self, numbers: list[str], values: Values, fixed: bool, forms: frozenset[str]) -> None:
        self.numbers = sorted(numbers, key=lambda k: k[0] == "s")  # the nodes' values, then the steps
        self.forms = forms
        steps = slice(sum(k[0] == "t" for k in self.numbers), None)
        self.xs = np.stack([values[k[2:]] if k[0] == "t" else _step(values, k[2:]) for k in self.numbers])
        self.places = None
        if fixed:
            assert values.places is not None
            self.places = np.stack([values.places[k[2:]] for k in self.numbers])
            self.xs[steps] = round_to(self.xs[steps], self.places[steps])

    def operands(self, lo: int, hi: int) -> bytes:
        """The numbers of variants ``lo … hi − 1`` as operands, number by number (see _operands)."""
        return _operands(self.xs[:, lo:hi], None if self.places is None else self.places[:, lo:hi])


def _step(values: Values, update: str) -> Array:
    """η·∂L/∂p of each variant's update (before any rounding)."""
    _, lr, grad = values.graph[update].parents
    step: Array = values[lr] * values[grad]
    return step

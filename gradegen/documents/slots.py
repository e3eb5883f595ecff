"""The byte templates of variants/draw.py's keys.json writer, and nothing else.

The documents no longer use this module (see :mod:`gradegen.documents.compiled`). The compact
keys.json of issue 10 (keys branch) writes its file without it: delete this module then.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import islice, repeat
from typing import Any

from gradegen.documents.numbers import MARK, slot


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


SEP = b"\x01"
"""Ends each number of a formatted column (never part of a number's text)."""


def format_each(formats: bytes, values: list[Any]) -> list[bytes]:
    """The text of each value, ``formats`` holding a %-format per value, each ending in SEP.

    One bytes % formats a whole column: far cheaper than a call per number.
    """
    return (formats % tuple(values)).split(SEP)[:-1]


__all__ = ["MARK", "SEP", "Template", "format_each", "slot"]

"""Compiled documents: the package's templates rendered once per graph, filled per variant.

The formats render a page whose numbers, precisions and student are slot markers
(:class:`~gradegen.documents.numbers.Slots`); each text is split at its markers once, and a
variant's files are its slot texts joined between the pieces. This is valid only for the
package's own templates, which print numbers and never compute with them: tests/test_compiled.py
holds every file byte-identical to the reference renderer. User templates are always rendered
with each variant's real numbers.

Everything here is plain data (strings, lists, small numpy arrays), so a :class:`Block` of
variants pickles cheaply to a worker process.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import islice
from operator import itemgetter

from gradegen.core.graph import Values
from gradegen.documents.numbers import FORMS, MARK, Column, column, number_of, printed

BLOCK = 128
"""Variants whose numbers are formatted together (one worker's task in a class run)."""


class Template:
    """A compiled text as UTF-8: the pieces between its slots, and each slot's key."""

    __slots__ = ("_texts", "keys", "parts")

    def __init__(self, text: str) -> None:
        parts = text.split(MARK)  # text at even positions, a slot's key at each odd one
        if len(parts) % 2 == 0:
            raise ValueError("a slot marker without its pair")
        self.keys = tuple(parts[1::2])
        self.parts = [part.encode() for part in parts]
        # the slots' texts in order, taken from a mapping in one call (an itemgetter pickles)
        self._texts = itemgetter(*self.keys) if len(self.keys) > 1 else None

    def fill(self, texts: Mapping[str, bytes]) -> bytes:
        """The text with ``texts[key]`` in each slot."""
        parts = self.parts.copy()
        parts[1::2] = self._texts(texts) if self._texts else [texts[key] for key in self.keys]
        return b"".join(parts)


@dataclass(frozen=True)
class Compiled:
    """One graph's files (for one mode, set of questions and way of naming the student)."""

    templates: dict[str, Template]  # file name → its compiled text

    @classmethod
    def of(cls, texts: Mapping[str, str]) -> Compiled:
        return cls({name: Template(text) for name, text in texts.items()})

    def slot_keys(self) -> dict[str, None]:
        """Every slot key the files use (an ordered set)."""
        return dict.fromkeys(key for template in self.templates.values() for key in template.keys)

    def fill(self, texts: Mapping[str, bytes]) -> dict[str, bytes]:
        """Each file with ``texts`` (slot key → UTF-8 text) in its slots."""
        return {name: template.fill(texts) for name, template in self.templates.items()}


@dataclass(frozen=True)
class BlockNumbers:
    """The numbers slots show, for a block of variants, before formatting."""

    columns: dict[str, Column]  # number ("t:n") → its values, places and notation
    count: int
    given: dict[str, list[str]] = field(default_factory=dict)  # other slots' texts, made by the caller

    @classmethod
    def of(
        cls,
        keys: Iterable[str],
        values: Values,
        exact_mode: bool,
        lo: int,
        hi: int,
        given: Mapping[str, list[str]] | None = None,
    ) -> BlockNumbers:
        """The block lo … hi − 1 of an evaluated batch (``values`` are the ones printed;
        ``given``: the texts of slots that are no number's, such as a key's intervals)."""
        columns: dict[str, Column] = {}
        for key in keys:
            form = key.split(":", 1)[0]
            if form in FORMS and number_of(key) not in columns:
                columns[number_of(key)] = column(values, number_of(key), lo, hi, exact_mode)
        return cls(columns, hi - lo, dict(given or {}))

    def texts(self, keys: Iterable[str]) -> list[dict[str, bytes]]:
        """Each variant's UTF-8 text for every slot of ``keys`` (students' slots excepted)."""
        texts = {number: printed(*values) for number, values in self.columns.items()}
        slots: dict[str, list[str]] = {}
        for key in keys:
            form = key.split(":", 1)[0]
            if key in self.given:
                slots[key] = self.given[key]
            elif form == "t":  # as printed
                slots[key] = texts[key]
            elif form in FORMS:
                shape = FORMS[form]
                slots[key] = [shape(text) for text in texts[number_of(key)]]
        if not slots:
            return [{} for _ in range(self.count)]
        # encoded all at once, far cheaper than a call per text (no text holds a NUL)
        encoded = iter(MARK.join(text for column in slots.values() for text in column).encode().split(b"\0"))
        columns = [list(islice(encoded, self.count)) for _ in slots]
        return [dict(zip(slots, row, strict=True)) for row in zip(*columns, strict=True)]


@dataclass(frozen=True)
class Block:
    """Variants of a class run ready to be filled in: plain data, so a worker process can take it."""

    documents: dict[tuple[str, ...], Compiled]  # by the formats that name the student
    numbers: BlockNumbers
    students: tuple[tuple[tuple[str, ...], dict[str, str]], ...]  # each: its documents, student slots

    def render(self) -> Iterator[dict[str, bytes]]:
        """Each variant's files, in order."""
        keys = dict.fromkeys(k for doc in self.documents.values() for k in doc.slot_keys())
        for texts, (which, students) in zip(self.numbers.texts(keys), self.students, strict=True):
            texts.update((key, text.encode()) for key, text in students.items())
            yield self.documents[which].fill(texts)

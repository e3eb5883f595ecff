"""Text with inline math, as the plan holds it and every format prints it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass


class M(str):
    """A piece of inline math (LaTeX) among the pieces of a phrase."""

    __slots__ = ()


@dataclass(frozen=True)
class Prose:
    """Text with inline math: ``parts`` alternate plain text (even indexes) and LaTeX math (odd)."""

    parts: tuple[str, ...]

    @classmethod
    def of(cls, *parts: str) -> Prose:
        return cls(tuple(parts))

    def pieces(self) -> Iterator[str]:
        """The parts as pieces for :func:`prose`: text as it is, math marked :class:`M`."""
        for i, part in enumerate(self.parts):
            if part:
                yield M(part) if i % 2 else part


def prose(*pieces: str) -> Prose:
    """Prose from pieces in reading order: plain strings are text, :class:`M` pieces math."""
    parts: list[str] = []
    for piece in pieces:
        if not piece:
            continue
        math = isinstance(piece, M)
        if parts and (len(parts) % 2 == 0) == math:  # same kind as the last part: join them
            parts[-1] += piece
            continue
        if not parts and math:
            parts.append("")
        parts.append(str(piece))
    return Prose(tuple(parts))

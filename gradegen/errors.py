"""Exceptions gradegen raises on purpose; kept apart so every module can import them."""

from __future__ import annotations


class GradegenError(Exception):
    """A problem the user can fix; its message is one line naming what is wrong and where."""


class SpecError(GradegenError):
    """A spec that cannot be read or does not describe a valid network."""

    def __init__(self, message: str, *, source: str | None = None) -> None:
        self.source = source
        super().__init__(f"{source}: {message}" if source else message)


def quoted(value: object, limit: int = 40) -> str:
    """A value as a message quotes it: its repr (one line), cut to ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."

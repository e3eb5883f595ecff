"""Markdown documents: one display equation per line."""

from __future__ import annotations

from collections.abc import Sequence


def md_equation(segments: Sequence[str]) -> str:
    """One display equation per line: easy to read and to check mechanically."""
    return "$$" + " = ".join(segments) + "$$"

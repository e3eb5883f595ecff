"""Markdown documents: ``$…$`` and ``$$…$$`` math (GitHub, Jupyter and pandoc render it), one
display equation per line, and the diagram as ``network.svg`` beside them."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import ClassVar

from gradegen.documents.context import DocumentFormat
from gradegen.documents.items import DocumentPlan
from gradegen.documents.numbers import Numbers, Slots
from gradegen.escape import md_escape


class Markdown(DocumentFormat):
    """solution.md and worksheet.md, from templates/*.md.j2."""

    name = "markdown"
    suffix = "md"
    filters: ClassVar[Mapping[str, Callable[[str], str]]] = {"md_escape": md_escape}

    def escape(self, text: str) -> str:
        return md_escape(text)

    def equation(self, segments: Sequence[str], slots: Slots) -> str:
        """One display equation per line: easy to read and to check mechanically."""
        return "$$" + " = ".join(segments) + "$$"

    def diagram(self, plan: DocumentPlan, numbers: Numbers | Slots) -> str:
        return "network.svg"

    def values_diagram(self, plan: DocumentPlan, numbers: Numbers | Slots) -> str:
        return "network-values.svg"

    def table(
        self, header: Sequence[str], rows: Sequence[Sequence[str]], slots: Slots, intro: str = ""
    ) -> str:
        """A pipe table, the first column left-aligned, the numbers right."""
        lines = [intro, ""] if intro else []
        lines += ["| " + " | ".join(header) + " |", "| :-- |" + " --: |" * (len(header) - 1)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines)


MARKDOWN = Markdown()

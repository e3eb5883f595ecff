"""Compiled documents: a graph's documents rendered once with slots, then filled for each variant."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from gradegen.core.graph import Values
from gradegen.core.spec import Spec
from gradegen.documents.context import _body, _context, _static
from gradegen.documents.diagram import svg
from gradegen.documents.environment import _render, environment
from gradegen.documents.numbers import Slots
from gradegen.documents.plain import _answers
from gradegen.documents.plan import DocumentPlan
from gradegen.documents.slots import Columns, Template, slot
from gradegen.escape import latex_escape, md_escape


class _Compiled:
    """One graph's documents rendered once with slots, then filled for each variant."""

    def __init__(
        self,
        spec: Spec,
        plan: DocumentPlan,
        templates: Path | str | None,
        exact_mode: bool,
        asked: Sequence[str],
        has_student: bool,
    ) -> None:
        self.exact_mode = exact_mode
        env = environment(templates)
        slots = Slots(plan.graph, exact_mode)
        precision = {q: slot(f"p:{q}") for q in asked}
        student = slot("student") if has_student else ""
        texts: dict[str, str] = {}
        for fmt in ("md", "tex"):
            sections = _body(plan, _static(plan, fmt), slots)
            context = _context(spec, plan, fmt, slots, sections, asked, precision, student, exact_mode)
            for doc in ("solution", "worksheet"):
                texts[f"{doc}.{fmt}"] = _render(env, f"{doc}.{fmt}", context)
        texts["answers.yaml"] = _answers(spec, asked, precision, slot("student"))
        texts["network.svg"] = svg(plan, Slots(plan.graph, exact_mode, "v"))  # type: ignore[arg-type]
        self.templates = {name: Template(text) for name, text in texts.items()}
        self._columns: tuple[Values, Values, Columns] | None = None
        self._block: tuple[Columns, int, int, dict[str, list[bytes]]] | None = None
        self._rows: dict[str, tuple[int, Iterator[tuple[bytes, ...]]]] = {}  # file → next index, parts

    def columns(self, exact: Values, hand: Values) -> Columns:
        """The slots' numbers for this batch (stacked on first use)."""
        if self._columns is None or self._columns[0] is not exact or self._columns[1] is not hand:
            keys = dict.fromkeys(k for t in self.templates.values() for k in t.keys)
            self._columns = (exact, hand, Columns(keys, exact, hand, self.exact_mode))
        return self._columns[2]

    def render(
        self,
        exact: Values,
        hand: Values,
        index: int,
        shown: str | None,
        student: str | None,
        files: Sequence[str],
    ) -> dict[str, bytes]:
        columns = self.columns(exact, hand)
        block = self._block
        if block is None or block[0] is not columns or not block[1] <= index < block[2]:
            # numbers are formatted for a block of variants at once: a class run asks in order
            lo = index - index % BLOCK
            hi = min(lo + BLOCK, exact.batch)
            block = self._block = (columns, lo, hi, columns.block(lo, hi))
            self._rows = {}
        lo, hi, texts = block[1], block[2], block[3]
        student_text = {
            "md": md_escape(shown).encode() if shown else b"",
            "tex": latex_escape(shown).encode() if shown else b"",
            "yaml": json.dumps(student or "", ensure_ascii=False).encode(),
            "svg": b"",
        }
        out: dict[str, bytes] = {}
        for name in files:
            template = self.templates[name]
            rows = self._rows.get(name)
            if rows is None or rows[0] != index:  # a class run asks in order: this is the first
                rows = (index, template.rows(texts, index - lo, hi - index))
            self._rows[name] = (index + 1, rows[1])
            out[name] = template.fill(rows[1], student_text[name.rsplit(".", 1)[1]])
        return out


BLOCK = 128
"""Variants whose numbers are formatted together (in one bytes % a kind of number)."""


_COMPILED: dict[tuple[Any, ...], tuple[DocumentPlan, _Compiled]] = {}


def _compiled(
    spec: Spec,
    plan: DocumentPlan,
    templates: Path | str | None,
    exact_mode: bool,
    asked: tuple[str, ...],
    has_student: bool,
) -> _Compiled:
    """The compiled documents for this graph, templates, mode and questions (built once)."""
    folder = None if templates is None else str(Path(templates).resolve())
    text = (spec.title, spec.course, spec.instructions, spec.decimals)  # the spec's, as printed
    key: tuple[Any, ...] = (id(plan), folder, exact_mode, asked, has_student, *text)
    hit = _COMPILED.get(key)
    if hit is not None and hit[0] is plan:
        return hit[1]
    compiled = _Compiled(spec, plan, templates, exact_mode, asked, has_student)
    if len(_COMPILED) >= 16:
        _COMPILED.pop(next(iter(_COMPILED)))
    _COMPILED[key] = (plan, compiled)  # holding the plan keeps its id from being reused
    return compiled

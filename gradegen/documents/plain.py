"""The plain files beside the documents: the blank answer sheet, the key and the diagram."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import ClassVar

from gradegen.core.graph import Graph
from gradegen.core.key import Key
from gradegen.core.levels import points_of, points_text
from gradegen.core.spec import Spec
from gradegen.documents.diagram import svg, svg_values
from gradegen.documents.page import Page


class PlainFormat:
    """A format of one plain file, compiled like the documents, naming no student, public;
    a subclass says otherwise where it differs."""

    name = ""
    files: tuple[str, ...] = ()
    compiles = True
    secret = False
    filters: ClassVar[Mapping[str, Callable[[str], str]]] = {}

    def student(self, shown: str | None, student: str | None) -> str:
        return ""


class AnswerSheet(PlainFormat):
    """answers.yaml: ``student:`` then one key per asked id, commented with its question."""

    name = "answers"
    files = ("answers.yaml",)

    def student(self, shown: str | None, student: str | None) -> str:
        return json.dumps(student or "", ensure_ascii=False)  # a YAML string, whatever the id

    def render(self, page: Page) -> dict[str, str]:
        spec, graph = page.spec, page.plan.graph
        return {"answers.yaml": _answers(spec, graph, page.asked, page.precision, page.students[self.name])}


class KeyFile(PlainFormat):
    """key.json: the variant's key (:mod:`gradegen.core.key`), everything grading needs."""

    name = "key"
    files = ("key.json",)
    compiles = False  # its numbers are JSON's, not the documents'
    secret = True

    def render(self, page: Page) -> dict[str, str]:
        assert page.key is not None  # a page that is not compiled has its key
        return {"key.json": key_json(page.key())}


class Diagram(PlainFormat):
    """network.svg: the network diagram the Markdown shows (:mod:`gradegen.documents.diagram`)."""

    name = "diagram"
    files = ("network.svg",)

    def render(self, page: Page) -> dict[str, str]:
        return {"network.svg": svg(page.plan, page.numbers.for_svg())}  # type: ignore[arg-type]


class ValuesDiagram(Diagram):
    """network-values.svg: the diagram with the step's values (``--diagram values``), which
    solution.md shows; beside it in a student's folder, as it holds that student's numbers."""

    name = "diagram_values"
    files = ("network-values.svg",)
    option = "values"

    def render(self, page: Page) -> dict[str, str]:
        return {"network-values.svg": svg_values(page.plan, page.numbers.for_svg())}  # type: ignore[arg-type]


def key_json(key: Key) -> str:
    """key.json's text: the key as JSON, indented, with a final newline."""
    return key.to_json()


def _answers(
    spec: Spec, graph: Graph, asked: Sequence[str], precision: Mapping[str, str], student: str
) -> str:
    title = " ".join(spec.title.split())
    lines = [
        f"# Answer sheet: {title}",
        "# Write each answer after its colon, as a number. Keep the IDs as they are.",
        "# Scientific notation: 1.23e-4 or 1.23 × 10^-4 (10⁻⁴ too).",
        f"student: {student}",
    ]
    width = max((len(q) for q in asked), default=0) + 2
    for number, qid in enumerate(asked, start=1):
        worth = points_text(points_of(spec, graph, qid))
        lines.append(f"{qid + ':':<{width}}# question {number}, {precision[qid]}, {worth}")
    return "\n".join(lines) + "\n"


ANSWER_SHEET = AnswerSheet()
KEY = KeyFile()
DIAGRAM = Diagram()
VALUES_DIAGRAM = ValuesDiagram()

"""The export targets, registered in one place: each a module with one entry function."""

from __future__ import annotations

import html
from enum import StrEnum

from gradegen.core.graph import Graph
from gradegen.core.spec import Spec
from gradegen.documents.numbers import precision_text
from gradegen.documents.phrases import noun
from gradegen.documents.prose import Prose


class Target(StrEnum):
    """Where an assignment is exported to."""

    MOODLE = "moodle"
    GRADESCOPE = "gradescope"
    CANVAS = "canvas"


MODULES: dict[Target, str] = {
    Target.MOODLE: "gradegen.exports.moodle",
    Target.GRADESCOPE: "gradegen.exports.gradescope",
    Target.CANVAS: "gradegen.exports.canvas",
}
"""Each target's module (imported on use: an export pulls in only what it needs)."""


def prose_html(text: Prose) -> str:
    """Document prose as an LMS page shows it: HTML, math between ``\\(`` and ``\\)`` (its MathJax)."""
    return "".join(
        html.escape(p) if i % 2 == 0 else f"\\({html.escape(p)}\\)" for i, p in enumerate(text.parts)
    )


def quantity_html(spec: Spec, graph: Graph, qid: str) -> str:
    """A question as an LMS page asks it: what the quantity is, its symbol, and the precision the
    worksheet asks for it."""
    what = prose_html(noun(spec, graph, graph[qid]))
    how = html.escape(precision_text(graph, qid, exact=False))
    return f"{what}, \\({html.escape(graph[qid].symbol)}\\) ({how})"

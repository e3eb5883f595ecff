"""HTML pages: one self-contained file each (inline CSS, the SVG diagram inline, math as MathML).

The math is the LaTeX the other formats write, converted to MathML by latex2mathml, so a page
needs no script, font or request to show it and renders offline in any current browser. The
worksheet carries an answer form whose checker accepts exactly what the grader reads
(templates/answers.js.j2, held to :mod:`gradegen.grading.parse` by tests/test_html_browser.py);
the key, the solution and practice pages hold answers and are secret.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any, ClassVar

import orjson
from latex2mathml.converter import convert

from gradegen.core.levels import points_of
from gradegen.documents.context import Ctx, DocumentFormat
from gradegen.documents.diagram import svg, svg_values
from gradegen.documents.items import DocumentPlan
from gradegen.documents.latex import BMATRIX, LATEX, matrix_display, matrix_visible
from gradegen.documents.numbers import FORMS, MARK, Numbers, Slots, fill
from gradegen.documents.page import Page
from gradegen.errors import GradegenError

_SLOT = re.compile(f"{MARK}([^{MARK}]*){MARK}")
_HELD = re.compile(r"<mtext>QQSLOT(\d+)QQ</mtext>")
_ENTITY = re.compile(r"&#x([0-9A-Fa-f]+);")
_MARKUP = frozenset("<>&\"'")


def escape(text: str) -> str:
    """User text made literal in HTML, in text and in attribute values."""
    return html.escape(text, quote=True)


def _character(match: re.Match[str]) -> str:
    char = chr(int(match.group(1), 16))
    return match.group(0) if char in _MARKUP else char


@lru_cache(maxsize=65536)
def mathml(latex: str, display: bool = False) -> str:
    """LaTeX math as a MathML ``<math>`` element; slot markers become ``<mn>`` numbers.

    The numbers of a compiled page are markers filled later: each is held as a text token while
    converting, so every variant (and the reference renderer) gets the same elements around it.
    """
    held: list[str] = []

    def hold(match: re.Match[str]) -> str:
        held.append(match.group(0))
        return rf"\text{{QQSLOT{len(held) - 1}QQ}}"

    converted = convert(_SLOT.sub(hold, latex), display="block" if display else "inline")
    converted = _HELD.sub(lambda m: _number_slot(held[int(m.group(1))]), converted)
    # latex2mathml writes every operator as a character reference: the characters are smaller
    return _ENTITY.sub(_character, converted)


_AS_MATHML = {"t": "m", "o": "n", "i": "k"}
"""The number forms of the LaTeX math, and the MathML forms that write the same numbers."""


def _number_slot(marker: str) -> str:
    """A number slot in MathML: its MathML form (the value, scientific notation included), or
    as text in an ``<mn>`` for slots of other forms."""
    form, _, rest = marker.strip(MARK).partition(":")
    if form in _AS_MATHML:
        return f"{MARK}{_AS_MATHML[form]}:{rest}{MARK}"
    return f"<mn>{marker}</mn>"


def number(text: str) -> str:
    """A printed value (or its slot) as inline MathML."""
    inner = _number_slot(text) if _SLOT.fullmatch(text) else FORMS["m"](text)
    return f'<math xmlns="http://www.w3.org/1998/Math/MathML" display="inline">{inner}</math>'


def script_json(data: Any) -> str:
    """JSON safe inside a ``<script>`` element (no ``</script>`` or comment opener can form)."""
    text = orjson.dumps(data, option=orjson.OPT_SORT_KEYS).decode()
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _figure(picture: str, label: str) -> str:
    """An SVG picture inline, named for screen readers."""
    return picture.replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1)


class HtmlPage(DocumentFormat):
    """A page from templates/<document>.html.j2; the subclasses say which document and whether secret."""

    suffix = "html"
    option: str | None = "html"
    filters: ClassVar[Mapping[str, Callable[[str], str]]] = {"html_escape": escape, "mathml": mathml}

    def escape(self, text: str) -> str:
        return escape(text)

    def math(self, latex: str) -> str:
        return mathml(latex)

    def equation(self, segments: Sequence[str], slots: Slots) -> str:
        """A display equation, broken where the LaTeX breaks it (one step a row, as a MathML
        table); what is still too wide scrolls inside its own box, never the page."""
        return _display(LATEX.equation(segments, slots))

    def matrix_equation(self, segments: Sequence[str], slots: Slots) -> str:
        """Rows as the LaTeX breaks them (at the text's size: a wide row scrolls in its box); each
        matrix in braces, so its brackets stretch to it alone, not to the tallest in the row."""
        latex = matrix_display(segments, lambda text: matrix_visible(fill(text, slots.nominal)), sized=False)
        # at its own width: a table of matrices wider than the page would be squeezed, its
        # columns overlapping, rather than scrolled
        block = _display(BMATRIX.sub(lambda m: "{" + m.group(0) + "}", latex))
        return block.replace("<math ", '<math style="min-width: max-content" ', 1)

    def diagram(self, plan: DocumentPlan, numbers: Numbers | Slots) -> str:
        label = "Network diagram: units by layer, each edge labelled with its weight, biases shown"
        return _figure(svg(plan, numbers.for_svg()), label)  # type: ignore[arg-type]

    def values_diagram(self, plan: DocumentPlan, numbers: Numbers | Slots) -> str:
        label = "The training step on the network: forward values in blue, gradients in red"
        return _figure(svg_values(plan, numbers.for_svg()), label)  # type: ignore[arg-type]

    def table(
        self, header: Sequence[str], rows: Sequence[Sequence[str]], slots: Slots, intro: str = ""
    ) -> str:
        """A table in a box of its own that scrolls when too wide (the summary's markup)."""
        head = "".join(f'<th scope="col">{h}</th>' for h in header)
        body = "".join(
            f"<tr><td>{row[0]}</td>" + "".join(f'<td class="num">{c}</td>' for c in row[1:]) + "</tr>\n"
            for row in rows
        )
        table = f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}</tbody>\n</table>"
        wide = f'<div class="wide">\n{table}\n</div>'
        return f'<div class="table">\n<p>{intro}</p>\n{wide}\n</div>' if intro else wide

    def student(self, shown: str | None, student: str | None) -> str:
        """The student's name, carrying their id for the answer form (the same slot for both)."""
        if not shown:
            return ""
        return f'<span class="student" data-student="{escape(student or shown)}">{escape(shown)}</span>'

    def extra(self, page: Page) -> dict[str, Any]:
        graph = page.plan.graph
        return {
            "number": number,
            "assignment": escape(" ".join(page.spec.title.split())),
        } | self.answers(page, graph)

    def answers(self, page: Page, graph: Any) -> dict[str, Any]:
        """What only the pages holding answers get (nothing on the worksheet)."""
        return {}


def _display(latex: str) -> str:
    """A LaTeX display (``\\[ … \\]`` or ``align*``) as a MathML block."""
    if latex.startswith("\\["):
        body = latex[2:-2].strip()
    else:  # latex2mathml has no align*: the same rows as an array of two columns
        body = latex.replace("\\begin{align*}", "\\begin{array}{rl}").replace("\\end{align*}", "\\end{array}")
    return f'<div class="eq">{mathml(body, display=True)}</div>'


class Worksheet(HtmlPage):
    """worksheet.html: the questions and an answer form; no value of an asked quantity."""

    name = "html"
    documents = ("worksheet",)


class Solution(HtmlPage):
    """solution.html: the worked solution (secret: it holds every answer)."""

    name = "html_solution"
    documents = ("solution",)
    secret = True


class KeyPage(HtmlPage):
    """key.html: each asked quantity's value, precision and tolerance."""

    name = "html_key"
    documents = ("key",)
    secret = True

    def answers(self, page: Page, graph: Any) -> dict[str, Any]:
        spec = page.spec
        rows = []
        total = 0.0
        for k, qid in enumerate(page.asked, start=1):
            tolerance = spec.tolerances.get(qid, spec.tolerance)
            points = points_of(spec, graph, qid)
            total += points
            rows.append(
                Ctx(
                    number=k,
                    id=qid,
                    symbol=graph[qid].symbol,
                    value=page.numbers.text(qid),
                    precision=page.precision[qid],
                    tolerance=f"{tolerance.mode} {tolerance.value:g}",
                    points=f"{points:g}",
                )
            )
        return {"answers": rows, "total": f"{total:g}"}


class Practice(HtmlPage):
    """practice.html: the worksheet with its key embedded, each answer checked on the spot."""

    name = "practice"
    documents = ("practice",)
    secret = True
    compiles = False  # the intervals are the grader's, per variant
    option = "practice"

    def answers(self, page: Page, graph: Any) -> dict[str, Any]:
        if page.practice is None:
            raise GradegenError("practice.html needs the grader's intervals: pass practice=practice_key")
        return {"practice": script_json(page.practice())}


HTML = Worksheet()
HTML_SOLUTION = Solution()
HTML_KEY = KeyPage()
PRACTICE = Practice()

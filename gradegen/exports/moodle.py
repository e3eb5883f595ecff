"""A Moodle quiz: Moodle XML with one Cloze (multianswer) question per variant, and its keys.json.

Every question is one variant's worksheet: its givens, the network diagram (an SVG file embedded
in the question), and one ``{points:NUMERICAL:=value:margin#feedback}`` blank per asked quantity.
``value:margin`` is the interval gradegen accepts (the hull of the tolerance around the exact and
the hand value; an update's from the interval of its step), so Moodle's own marking agrees with
gradegen's. Each diagnosed mistake adds a ``~%0%value:margin#explanation`` alternative: Moodle
then names the mistake itself. The syntax is Moodle's ``question/type/multianswer/questiontype.php``
(``ANSWER_REGEX``); the file layout its ``question/format/xml``.

The text names its variant (``[variant v001]``) and tags each blank with its quantity id
(``[z_h1]``): Moodle's Responses report shows both, which is how a regrade knows what an attempt
was asked (:mod:`gradegen.grading.responses`).
"""

from __future__ import annotations

import base64
import html
import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from gradegen.core.graph import Graph, Kind, Role
from gradegen.core.levels import points_of
from gradegen.core.spec import Spec
from gradegen.documents.diagram import svg
from gradegen.documents.numbers import Numbers
from gradegen.documents.phrases import description
from gradegen.documents.render import plan_for
from gradegen.errors import GradegenError
from gradegen.exports.formats import prose_html, quantity_html
from gradegen.grading.compare import Rule
from gradegen.grading.diagnosis import EXPLANATIONS, Mistake, references
from gradegen.grading.grade import accepted_interval
from gradegen.grading.keys import class_columns
from gradegen.outputs import Layout, Output
from gradegen.variants.draw import VariantSet, make_variants
from gradegen.variants.roster import Roster

QUIZ = "quiz.xml"
KEYS = "keys.json"
MOODLE = Layout("moodle quiz", QUIZ, frozenset([QUIZ, KEYS]))

PENALTY = "0.3333333"
"""Moodle's default penalty for a wrong try (as its own exports write it)."""

_CLOZE_SPECIAL = {"}": "&#125;", "{": "&#123;", "#": "&#35;", "~": "&#126;", ":": "&#58;", "\\": "&#92;"}
_SPECIAL = re.compile("|".join(re.escape(c) for c in _CLOZE_SPECIAL))


def cloze_escape(text: str) -> str:
    """Text for a Cloze blank's feedback: HTML-escaped, and Cloze's own characters as numeric
    entities (Moodle html-decodes feedback after splitting the blank, so they stay text)."""
    return _SPECIAL.sub(lambda m: _CLOZE_SPECIAL[m.group(0)], html.escape(text, quote=True))


def number(x: float) -> str:
    """A number as Cloze's ``NUMBER_REGEX`` reads it: the shortest text that round-trips."""
    if not math.isfinite(x):  # pragma: no cover - keys are checked finite
        raise GradegenError(f"internal: {x} cannot be a Moodle answer")
    return repr(float(x))


@dataclass(frozen=True)
class Answer:
    """One answer of a blank: the interval it covers (``value ± margin``), its grade and feedback."""

    value: float
    margin: float
    fraction: int  # percent of the blank's points
    feedback: str

    def cloze(self) -> str:
        grade = "=" if self.fraction == 100 else f"%{self.fraction}%"
        return f"{grade}{number(self.value)}:{number(self.margin)}#{cloze_escape(self.feedback)}"


@dataclass(frozen=True)
class Blank:
    """A blank of the Cloze text: its quantity id, points and answers (the right one first)."""

    qid: str
    points: int
    answers: tuple[Answer, ...]

    def cloze(self) -> str:
        return "{" + f"{self.points}:NUMERICAL:" + "~".join(a.cloze() for a in self.answers) + "}"


def _points(spec: Spec, graph: Graph, asked: tuple[str, ...]) -> dict[str, int]:
    """Each blank's weight: Cloze weights are whole numbers (``{2:NUMERICAL:…}``)."""
    weights = {}
    for q in asked:
        p = points_of(spec, graph, q)
        if not p.is_integer() or p < 0:
            raise GradegenError(
                f"points: {q}: {p:g}; a Moodle Cloze blank's weight is a whole number (scale the points)"
            )
        weights[q] = int(p)
    return weights


def blanks(variants: VariantSet) -> list[list[Blank]]:
    """Every variant's blanks, in asked order: the accepted interval, then one alternative per
    diagnosed mistake whose value lies outside it (and outside the alternatives before it)."""
    keys = class_columns(variants.class_keys())
    graph, asked = keys.graph, keys.asked
    refs = references(graph, keys.spec, keys.exact, keys.hand, asked)
    weights = _points(keys.spec, graph, asked)
    out: list[list[Blank]] = [[] for _ in range(len(keys))]
    for q in asked:
        rule = Rule(keys.tolerance[q])
        _, _, lo, hi = accepted_interval(keys, q, rule)
        node = graph[q]
        update = node.kind is Kind.UPDATE and node.param
        w = keys.exact[node.param] if update and node.param else None
        mistakes = []
        for code, value_s, _ in refs.get(q, []):
            centre = w - value_s if w is not None else value_s
            mistakes.append((code, centre, rule.half_width(value_s)))
        for i in range(len(keys)):
            right = Answer(float((lo[i] + hi[i]) / 2), float((hi[i] - lo[i]) / 2), 100, "Correct.")
            answers = [right]
            for code, centre, margin in mistakes:
                c, m = float(centre[i]), float(margin[i])
                if not (math.isfinite(c) and math.isfinite(m)) or any(
                    abs(c - a.value) <= a.margin for a in answers
                ):
                    continue
                answers.append(Answer(c, m, 0, _explanation(code)))
            out[i].append(Blank(q, weights[q], tuple(answers)))
    return out


def _explanation(code: Mistake) -> str:
    return EXPLANATIONS[code]


VARIANT_MARK = "[variant {}]"
"""How the text names its variant; :data:`gradegen.grading.responses.VARIANT` reads it back."""


def question_html(variants: VariantSet, i: int, its_blanks: list[Blank]) -> str:
    """Variant ``i``'s worksheet as Cloze HTML: marker, givens, diagram, one tagged blank per question."""
    spec, graph = variants.spec, variants.graph
    numbers = Numbers(variants.hand, i, exact=False)
    esc = html.escape
    parts = [f"<p>{esc(VARIANT_MARK.format(variants.ids[i]))}</p>", f"<h4>{esc(spec.title)}</h4>"]
    if spec.instructions:
        parts.append(f"<p>{esc(spec.instructions)}</p>")
    parts.append('<p><img src="@@PLUGINFILE@@/diagram.svg" alt="The network, with its weights" /></p>')
    givens = "".join(
        f"<li>\\({esc(graph[g].symbol)} = {esc(numbers.text(g))}\\): "
        f"{prose_html(description(spec, graph, graph[g]))}</li>"
        for g in graph.givens
        if graph[g].role is not Role.LEARNING_RATE
    )
    lr = graph.node_of(Role.LEARNING_RATE).id
    parts.append(f"<p>Given:</p><ul>{givens}</ul>")
    parts.append(f"<p>Learning rate \\({esc(graph[lr].symbol)} = {esc(numbers.text(lr))}\\).</p>")
    parts.append(
        "<p>Work by hand, rounding every computed value to the precision its question asks before "
        "using it; type each answer as a number.</p>"
    )
    items = "".join(
        f"<li>[{b.qid}] {quantity_html(spec, graph, b.qid)} = {b.cloze()}</li>" for b in its_blanks
    )
    parts.append(f"<ol>{items}</ol>")
    return "\n".join(parts)


def _category_path(title: str) -> str:
    """A category path under the course's top category; Moodle splits paths at ``/``, ``//`` is one."""
    return "$course$/top/" + title.replace("/", "//")


def _text(parent: ET.Element, tag: str, text: str, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrs)
    ET.SubElement(element, "text").text = text
    return element


def quiz_xml(variants: VariantSet) -> bytes:
    """The Moodle XML file: the category named after the assignment, then a Cloze question per variant."""
    plan = plan_for(variants.spec, variants.graph)
    root = ET.Element("quiz")
    category = ET.SubElement(root, "question", {"type": "category"})
    _text(category, "category", _category_path(variants.spec.title))
    _text(category, "info", "", format="html")
    for i, its_blanks in enumerate(blanks(variants)):
        question = ET.SubElement(root, "question", {"type": "cloze"})
        _text(question, "name", variants.ids[i])
        text = _text(question, "questiontext", question_html(variants, i, its_blanks), format="html")
        diagram = svg(plan, Numbers(variants.hand, i, exact=False)).encode("utf-8")
        file = ET.SubElement(text, "file", {"name": "diagram.svg", "encoding": "base64"})
        file.text = base64.b64encode(diagram).decode("ascii")
        _text(question, "generalfeedback", "", format="html")
        ET.SubElement(question, "penalty").text = PENALTY
        ET.SubElement(question, "hidden").text = "0"
    ET.indent(root)
    data: bytes = ET.tostring(root, encoding="UTF-8", xml_declaration=True)
    return data + b"\n"


def export_moodle(
    spec: Spec,
    out_dir: str | Path,
    students: Roster,
    *,
    seed: str | None = None,
    ask: str | None = None,
    force: bool = False,
) -> VariantSet:
    """Write ``out_dir/quiz.xml`` (a Cloze question per variant of ``students``) and
    ``out_dir/keys.json`` (their keys, by variant id), atomically; returns the variants."""
    output = Output(out_dir, MOODLE, force=force)
    variants = make_variants(spec, students.ids, seed=seed, asked=ask)
    _points(spec, variants.graph, variants.asked)
    xml = quiz_xml(variants)
    keys = variants.class_keys().to_json().encode("utf-8")
    with output.written() as build:
        (build / QUIZ).write_bytes(xml)
        (build / KEYS).write_bytes(keys)
    return variants


__all__ = ["Answer", "Blank", "blanks", "cloze_escape", "export_moodle", "quiz_xml"]

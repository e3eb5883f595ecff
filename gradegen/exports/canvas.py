"""A Canvas answer-entry quiz: a Classic Quizzes QTI 1.2 package with one fill-in item per question.

Canvas cannot hold every student's own numbers, and rounds numeric entries below 1e-4, so the
quiz only collects answers: each item is a Fill In the Blank (``short_answer_question``) worth 0
points whose text is tagged with its quantity id (``[z_h1] …``), and the quiz is an ungraded
survey (not anonymous). Students type the values from their own worksheet (``generate
--roster``); Canvas's Student Analysis report then carries them to ``gradegen grade``
(:mod:`gradegen.grading.responses`), which grades each against the student's own key.

The XML keeps to what Canvas's own exports contain (instructure/qti
``spec/fixtures/test_qti_1.2_canvas/``: ``imsmanifest.xml``, the assessment and its
``assessment_meta.xml``; items shaped as ``spec/fixtures/items_1.2/essay.xml``).
"""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from pathlib import Path

from gradegen.core.graph import Graph
from gradegen.core.key import resolve_ask
from gradegen.core.network import build_graph, fixed_quantities
from gradegen.core.spec import Spec
from gradegen.errors import GradegenError
from gradegen.exports.formats import quantity_html
from gradegen.files import write_bytes_atomic, zip_bytes

QTI = "http://www.imsglobal.org/xsd/ims_qtiasiv1p2"
QTI_SCHEMA = f"{QTI} http://www.imsglobal.org/xsd/ims_qtiasiv1p2p1.xsd"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
CP = "http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1"
CANVAS = "http://canvas.instructure.com/xsd/cccv1p0"

QUESTION_TYPE = "short_answer_question"
"""Canvas's Fill In the Blank: the answer is kept as typed (a Numerical Answer would be rounded)."""


def ident(*parts: str) -> str:
    """A stable QTI identifier (``i`` and 32 hex digits, as Canvas writes them) from its parts."""
    return "i" + hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:32]


def _xml(root: ET.Element) -> bytes:
    ET.indent(root)
    data: bytes = ET.tostring(root, encoding="UTF-8", xml_declaration=True)
    return data + b"\n"


def _field(parent: ET.Element, label: str, entry: str) -> None:
    field = ET.SubElement(parent, "qtimetadatafield")
    ET.SubElement(field, "fieldlabel").text = label
    ET.SubElement(field, "fieldentry").text = entry


def item_text(spec: Spec, graph: Graph, qid: str) -> str:
    """An item's HTML: the quantity id as a tag (what the regrade reads back), then the question."""
    return f"<p>[{qid}] {quantity_html(spec, graph, qid)} = ?</p>"


def assessment_xml(spec: Spec, asked: tuple[str, ...], quiz: str) -> bytes:
    """The assessment: one fill-in item per asked quantity, in question order, scoring nothing."""
    graph = build_graph(spec)
    root = ET.Element("questestinterop", {"xmlns": QTI, "xmlns:xsi": XSI, "xsi:schemaLocation": QTI_SCHEMA})
    assessment = ET.SubElement(root, "assessment", {"ident": quiz, "title": spec.title})
    meta = ET.SubElement(assessment, "qtimetadata")
    _field(meta, "cc_maxattempts", "1")
    section = ET.SubElement(assessment, "section", {"ident": "root_section"})
    for number, qid in enumerate(asked, start=1):
        item = ET.SubElement(section, "item", {"ident": ident(quiz, qid), "title": f"Question {number}"})
        fields = ET.SubElement(ET.SubElement(item, "itemmetadata"), "qtimetadata")
        _field(fields, "question_type", QUESTION_TYPE)
        _field(fields, "points_possible", "0.0")
        _field(fields, "assessment_question_identifierref", ident(quiz, qid, "bank"))
        presentation = ET.SubElement(item, "presentation")
        material = ET.SubElement(presentation, "material")
        ET.SubElement(material, "mattext", {"texttype": "text/html"}).text = item_text(spec, graph, qid)
        response = ET.SubElement(
            presentation, "response_str", {"ident": "response1", "rcardinality": "Single"}
        )
        ET.SubElement(
            ET.SubElement(response, "render_fib"), "response_label", {"ident": "answer1", "rshuffle": "No"}
        )
        processing = ET.SubElement(item, "resprocessing")
        ET.SubElement(
            ET.SubElement(processing, "outcomes"),
            "decvar",
            {"maxvalue": "100", "minvalue": "0", "varname": "SCORE", "vartype": "Decimal"},
        )
        condition = ET.SubElement(processing, "respcondition", {"continue": "No"})
        ET.SubElement(ET.SubElement(condition, "conditionvar"), "other")
    return _xml(root)


def meta_xml(spec: Spec, quiz: str) -> bytes:
    """Canvas's quiz settings: an ungraded survey, not anonymous (the Student Analysis report then
    names each student), one attempt."""
    root = ET.Element(
        "quiz", {"xmlns": CANVAS, "xmlns:xsi": XSI, "identifier": quiz,
                 "xsi:schemaLocation": f"{CANVAS} http://canvas.instructure.com/xsd/cccv1p0.xsd"},
    )  # fmt: skip
    description = (
        "<p>Type each value from your own worksheet, as a number, to the precision it asks for. "
        "gradegen grades your answers against your own numbers.</p>"
    )
    for tag, text in (
        ("title", spec.title),
        ("description", description),
        ("shuffle_answers", "false"),
        ("scoring_policy", "keep_latest"),
        ("quiz_type", "survey"),
        ("points_possible", "0.0"),
        ("show_correct_answers", "false"),
        ("anonymous_submissions", "false"),
        ("allowed_attempts", "1"),
        ("one_question_at_a_time", "false"),
        ("cant_go_back", "false"),
        ("available", "true"),
    ):
        ET.SubElement(root, tag).text = text
    return _xml(root)


def manifest_xml(spec: Spec, quiz: str) -> bytes:
    """The package manifest: the assessment as an imsqti_xmlv1p2 resource with its meta file."""
    root = ET.Element("manifest", {"identifier": ident(quiz, "manifest"), "xmlns": CP})
    metadata = ET.SubElement(root, "metadata")
    ET.SubElement(metadata, "schema").text = "IMS Content"
    ET.SubElement(metadata, "schemaversion").text = "1.1.3"
    ET.SubElement(root, "organizations")
    resources = ET.SubElement(root, "resources")
    meta = ident(quiz, "meta")
    resource = ET.SubElement(resources, "resource", {"identifier": quiz, "type": "imsqti_xmlv1p2"})
    ET.SubElement(resource, "file", {"href": f"{quiz}/{quiz}.xml"})
    ET.SubElement(resource, "dependency", {"identifierref": meta})
    extra = ET.SubElement(
        resources, "resource",
        {"identifier": meta, "type": "associatedcontent/imscc_xmlv1p1/learning-application-resource",
         "href": f"{quiz}/assessment_meta.xml"},
    )  # fmt: skip
    ET.SubElement(extra, "file", {"href": f"{quiz}/assessment_meta.xml"})
    return _xml(root)


def export_canvas(spec: Spec, out: str | Path, *, ask: str | None = None, force: bool = False) -> Path:
    """Write the QTI package ``out`` (a zip for Canvas's "QTI .zip file" import), atomically; an
    existing file is replaced only with ``force``."""
    target = Path(out)
    if target.exists() and not force:
        raise GradegenError(f"{target}: already exists; pass --force to replace it")
    graph = build_graph(spec)  # the questions the worksheet asks
    asked = resolve_ask(graph, ask, fixed_quantities(spec, graph, graph.defaults).all, spec.documents.level)
    quiz = ident(spec.title, *asked)
    members = [
        ("imsmanifest.xml", manifest_xml(spec, quiz), 0o644),
        (f"{quiz}/{quiz}.xml", assessment_xml(spec, asked, quiz), 0o644),
        (f"{quiz}/assessment_meta.xml", meta_xml(spec, quiz), 0o644),
    ]
    write_bytes_atomic(target, zip_bytes(members))
    return target

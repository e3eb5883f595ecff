"""The Canvas answer-entry quiz and the regrade of its Student Analysis report.

The package is compared with Canvas's own QTI exports in instructure/qti (MIT):
``spec/fixtures/test_qti_1.2_canvas/`` (``imsmanifest.xml``, the assessment, ``assessment_meta.xml``)
and ``spec/fixtures/items_1.2/essay.xml`` (an item whose answer is collected, not scored). The
report's shape is cited in ``tests/fixtures/canvas_quiz/SOURCE.md``.
"""

from __future__ import annotations

import io
import json
import math
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

from tests_support import verdicts
from typer.testing import CliRunner

from gradegen.cli import app
from gradegen.core.spec import preset
from gradegen.exports.canvas import export_canvas
from gradegen.grading.grade import grade
from gradegen.presets import Preset

FIXTURE = Path(__file__).parent / "fixtures" / "canvas_quiz"
QTI = "{http://www.imsglobal.org/xsd/ims_qtiasiv1p2}"
ASKED = ["z_h1", "a_h1", "z_out"]

ITEM_PATHS = {
    # Every element path below <item> in Canvas's essay_question export (test_qti_1.2_canvas) and
    # items_1.2/essay.xml: the item's metadata, its text, a free-text response, no scoring.
    "itemmetadata", "itemmetadata/qtimetadata", "itemmetadata/qtimetadata/qtimetadatafield",
    "itemmetadata/qtimetadata/qtimetadatafield/fieldlabel",
    "itemmetadata/qtimetadata/qtimetadatafield/fieldentry",
    "presentation", "presentation/material", "presentation/material/mattext", "presentation/response_str",
    "presentation/response_str/render_fib", "presentation/response_str/render_fib/response_label",
    "resprocessing", "resprocessing/outcomes", "resprocessing/outcomes/decvar", "resprocessing/respcondition",
    "resprocessing/respcondition/conditionvar", "resprocessing/respcondition/conditionvar/other",
}  # fmt: skip


def _paths(element: ET.Element, prefix: str = "") -> set[str]:
    found = set()
    for child in element:
        path = prefix + child.tag.replace(QTI, "")
        found |= {path} | _paths(child, path + "/")
    return found


def _package(tmp_path: Path) -> dict[str, bytes]:
    out = export_canvas(preset(Preset.HANDOUT), tmp_path / "quiz.zip", ask=",".join(ASKED))
    with zipfile.ZipFile(out) as z:
        return {name: z.read(name) for name in z.namelist()}


def test_package_is_laid_out_as_canvas_exports_it(tmp_path: Path) -> None:
    """imsmanifest.xml names the assessment (imsqti_xmlv1p2) and its assessment_meta.xml
    dependency, both in a folder named by the quiz's identifier, as Canvas's own export does."""
    files = _package(tmp_path)
    names = list(files)
    assert names[0] == "imsmanifest.xml"
    quiz = names[1].split("/")[0]
    assert names[1:] == [f"{quiz}/{quiz}.xml", f"{quiz}/assessment_meta.xml"]
    manifest = ET.fromstring(files["imsmanifest.xml"])
    ns = "{http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1}"
    qti, meta = manifest.findall(f"{ns}resources/{ns}resource")
    assert (qti.get("identifier"), qti.get("type")) == (quiz, "imsqti_xmlv1p2")
    assert qti.find(f"{ns}file").get("href") == names[1]  # type: ignore[union-attr]
    assert qti.find(f"{ns}dependency").get("identifierref") == meta.get("identifier")  # type: ignore[union-attr]
    assert meta.get("href") == names[2]


def test_items_are_untagged_scoring_free_fill_ins_in_question_order(tmp_path: Path) -> None:
    """One item per asked quantity, in question order: a short_answer_question worth 0 points whose
    text begins with ``[<quantity id>]``, holding only elements Canvas's essay export holds, and a
    response condition that sets no score; the quiz is an ungraded survey that names students."""
    files = _package(tmp_path)
    quiz = list(files)[1].split("/")[0]
    root = ET.fromstring(files[f"{quiz}/{quiz}.xml"])
    items = root.findall(f"{QTI}assessment/{QTI}section/{QTI}item")
    assert len(items) == len(ASKED)
    for qid, item in zip(ASKED, items, strict=True):
        assert _paths(item) <= ITEM_PATHS
        fields = {
            f.findtext(f"{QTI}fieldlabel"): f.findtext(f"{QTI}fieldentry")
            for f in item.iter(f"{QTI}qtimetadatafield")
        }
        assert fields["question_type"] == "short_answer_question" and fields["points_possible"] == "0.0"
        text = item.findtext(f"{QTI}presentation/{QTI}material/{QTI}mattext") or ""
        assert text.startswith(f"<p>[{qid}] ")
        assert item.find(f".//{QTI}setvar") is None
    meta = ET.fromstring(files[f"{quiz}/assessment_meta.xml"])
    ns = "{http://canvas.instructure.com/xsd/cccv1p0}"
    assert meta.findtext(f"{ns}quiz_type") == "survey"
    assert meta.findtext(f"{ns}anonymous_submissions") == "false"


def test_package_is_deterministic(tmp_path: Path) -> None:
    """The same spec and questions give the same bytes."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert _package(tmp_path / "a") == _package(tmp_path / "b")


def _values(givens: list[float]) -> tuple[float, float, float]:
    """z_h1, a_h1, z_out by hand (4 places, each rounded before use) from a student's givens."""
    x1, x2, _, w1, w2, w3, w4, w5, w6, b1, b2, _ = givens
    z1, z2 = round(w1 * x1 + w2 * x2 + b1, 4), round(w3 * x1 + w4 * x2 + b1, 4)
    a1, a2 = round(1 / (1 + math.exp(-z1)), 4), round(1 / (1 + math.exp(-z2)), 4)
    return z1, a1, round(w5 * a1 + w6 * a2 + b2, 4)


def test_student_analysis_regrades_to_hand_derived_verdicts() -> None:
    """Ana (Canvas id 2001) is graded on her second attempt, all right; Ben's key is filed under his
    SIS id S-102: −z_h1 is a sign error, σ(−z_h1) follow-through, z_out empty; Cara has no key."""
    students = json.loads((FIXTURE / "keys.json").read_text())["students"]
    report = (FIXTURE / "student_analysis.csv").read_text()
    assert ",".join(map(str, _values(students["2001"]))) in report.replace(",0.0,", ",")
    ben = _values(students["S-102"])[0]
    assert f",{-ben},0.0,{round(1 / (1 + math.exp(ben)), 4)}," in report
    results = grade(FIXTURE / "keys.json", [FIXTURE / "student_analysis.csv"])
    assert verdicts(results) == {
        "S-102": {
            "z_h1": ("incorrect", "sign_error"),
            "a_h1": ("follow_through", None),
            "z_out": ("missing", None),
        },
        "2001": {"z_h1": ("correct", None), "a_h1": ("correct", None), "z_out": ("correct", None)},
    }
    assert any("'2003'" in e.message for e in results.errors)


def test_cli_round_trip(tmp_path: Path) -> None:
    """``export canvas`` writes the zip (refusing to overwrite without --force); ``grade`` reads the
    report and writes the Canvas gradebook."""
    runner = CliRunner()
    args = ["export", "canvas", "--ask", ",".join(ASKED), "--out", str(tmp_path / "quiz.zip")]
    assert runner.invoke(app, args).exit_code == 0
    assert zipfile.is_zipfile(io.BytesIO((tmp_path / "quiz.zip").read_bytes()))
    assert runner.invoke(app, args).exit_code == 2
    graded = runner.invoke(
        app,
        ["grade", str(FIXTURE / "keys.json"), str(FIXTURE / "student_analysis.csv"), "--gradebook", "canvas",
         "--out", str(tmp_path / "g"), "--quiet"],
    )  # fmt: skip
    assert graded.exit_code == 0, graded.output
    assert (tmp_path / "g" / "gradebook-canvas.csv").is_file()

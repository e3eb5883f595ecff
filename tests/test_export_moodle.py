"""The Moodle quiz export and its regrade, checked against Moodle's own rules.

The blanks are parsed with Moodle's Cloze pattern, ``ANSWER_REGEX`` of moodle/moodle
``question/type/multianswer/questiontype.php`` (transcribed below; PCRE's one variable-width
look-behind ``(?<!\\\\|&|&amp;)`` written as three fixed-width ones, which Python's ``re`` needs and
which match the same), and decoded as ``qtype_multianswer_extract_question`` decodes them
(``html_entity_decode`` of the feedback, then ``\\}`` and ``\\#``). The XML's element structure is
compared with Moodle's fixtures ``question/format/xml/tests/fixtures/multianswer.xml`` and
``category_with_description.xml``. The Responses report fixture's shape is cited in
``tests/fixtures/moodle_quiz/SOURCE.md``.
"""

from __future__ import annotations

import html
import json
import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from tests_support import verdicts
from typer.testing import CliRunner

from gradegen.cli import app
from gradegen.core.classkeys import load_keys
from gradegen.core.spec import preset
from gradegen.exports.moodle import cloze_escape, export_moodle
from gradegen.grading.diagnosis import EXPLANATIONS, Mistake
from gradegen.grading.grade import grade
from gradegen.grading.responses import cloze_parts
from gradegen.presets import Preset
from gradegen.variants.roster import Roster

FIXTURE = Path(__file__).parent / "fixtures" / "moodle_quiz"

# Moodle's ANSWER_ALTERNATIVE_* and ANSWER_REGEX, as questiontype.php defines them.
FRACTION = r"=|%(-?[0-9]+(?:[.,][0-9]*)?)%"
ANSWER = r".+?(?<!\\)(?<!&)(?<!&amp;)(?=[~#}]|$)"
FEEDBACK = r".*?(?<!\\)(?=[~}]|$)"
ALTERNATIVE = f"({FRACTION})?({ANSWER})(#({FEEDBACK}))?"
NUMBER = r"-?(([0-9]+[.,]?[0-9]*|[.,][0-9]+)([eE][-+]?[0-9]+)?)"
NUMERICAL_ALTERNATIVE = re.compile(f"^({NUMBER})(:{NUMBER})?$", re.S)
TYPES = (
    r"(NUMERICAL|NM)|(MULTICHOICE|MC)|(MULTICHOICE_V|MCV)|(MULTICHOICE_H|MCH)|"
    r"(SHORTANSWER|SA|MW)|(SHORTANSWER_C|SAC|MWC)|"
    r"(MULTICHOICE_S|MCS)|(MULTICHOICE_VS|MCVS)|(MULTICHOICE_HS|MCHS)|"
    r"(MULTIRESPONSE|MR)|(MULTIRESPONSE_H|MRH)|(MULTIRESPONSE_S|MRS)|(MULTIRESPONSE_HS|MRHS)"
)
ANSWER_REGEX = re.compile(r"\{([0-9]*):(" + TYPES + "):(" + ALTERNATIVE + "(~" + ALTERNATIVE + ")*)\\}", re.S)
ALTERNATIVE_REGEX = re.compile("~?" + ALTERNATIVE, re.S)


def moodle_blanks(text: str) -> list[dict[str, object]]:
    """The subquestions Moodle extracts from a Cloze text, as qtype_multianswer_extract_question
    builds them: default mark, type, and per answer its fraction, answer, tolerance and feedback."""
    found = []
    while (m := ANSWER_REGEX.search(text)) is not None:
        assert m.group(3), "not a NUMERICAL blank"
        answers = []
        remaining = m.group(16)
        while (alt := ALTERNATIVE_REGEX.search(remaining)) is not None and alt.group(0):
            fraction = 1.0 if alt.group(1) == "=" else (0.01 * float(alt.group(2)) if alt.group(2) else 0.0)
            feedback = html.unescape(alt.group(5) or "").replace("\\}", "}").replace("\\#", "#")
            number = NUMERICAL_ALTERNATIVE.match(alt.group(3))
            assert number is not None, f"not a number: {alt.group(3)!r}"
            tolerance = float(number.group(6)[1:]) if number.group(6) else 0.0
            answers.append((fraction, float(number.group(1)), tolerance, feedback))
            remaining = remaining.split(alt.group(0), 1)[1]
        found.append({"mark": int(m.group(1) or 1), "answers": answers})
        text = text.replace(m.group(0), f"{{#{len(found)}}}", 1)
    return found


@pytest.fixture(scope="module")
def quiz(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A quiz of three variants of the handout network, everything asked."""
    out = tmp_path_factory.mktemp("moodle") / "quiz"
    export_moodle(preset(Preset.HANDOUT), out, Roster.anonymous(3), seed="test-seed")
    return out


def _questions(folder: Path) -> list[ET.Element]:
    return ET.parse(folder / "quiz.xml").getroot().findall("question[@type='cloze']")


def test_every_blank_parses_with_moodles_regex_and_spans_the_accepted_interval(quiz: Path) -> None:
    """Each question's text has one NUMERICAL blank per asked quantity, in asked order; the right
    answer (fraction 1) covers exactly the interval gradegen accepts: for a forward quantity under the
    handout's 1 % relative tolerance, [min(e−1%|e|, h−1%|h|), max(e+1%|e|, h+1%|h|)]."""
    keys = load_keys(quiz / "keys.json")
    for question, student in zip(_questions(quiz), keys.students, strict=True):
        assert question.findtext("name/text") == student
        key = keys.key_for(student)
        blanks = moodle_blanks(question.findtext("questiontext/text") or "")
        assert len(blanks) == len(keys.asked)
        for qid, blank in zip(keys.asked, blanks, strict=True):
            assert blank["mark"] == 1
            fraction, value, margin, feedback = blank["answers"][0]  # type: ignore[index]
            assert (fraction, feedback) == (1.0, "Correct.")
            if qid.startswith(("z_", "a_")):
                e, h = key.values[qid].exact, key.values[qid].hand
                lo = min(e - 0.01 * abs(e), h - 0.01 * abs(h))
                hi = max(e + 0.01 * abs(e), h + 0.01 * abs(h))
                assert value - margin == pytest.approx(lo, rel=1e-9, abs=1e-12)
                assert value + margin == pytest.approx(hi, rel=1e-9, abs=1e-12)


def test_mistakes_are_zero_credit_alternatives_that_name_the_mistake(quiz: Path) -> None:
    """Every other answer is %0% with a catalogue explanation as feedback; a computed quantity's sign
    error is −(its value) and a power-of-ten slip is ×10ᵏ of it, as the mistakes' definitions give."""
    keys = load_keys(quiz / "keys.json")
    student = keys.students[0]
    key = keys.key_for(student)
    blanks = moodle_blanks(_questions(quiz)[0].findtext("questiontext/text") or "")
    explanations = set(EXPLANATIONS.values())
    z_h1 = blanks[keys.asked.index("z_h1")]["answers"]
    for fraction, _, _, feedback in z_h1[1:]:  # type: ignore[index]
        assert fraction == 0.0
        assert feedback in explanations
    by_feedback = {(fb, round(v, 12)) for _, v, _, fb in z_h1}  # type: ignore[misc]
    e = key.values["z_h1"].exact
    assert (EXPLANATIONS[Mistake.SIGN_ERROR], round(-e, 12)) in by_feedback
    assert (EXPLANATIONS[Mistake.DECIMAL_SLIP], round(e * 10, 12)) in by_feedback


def test_structure_matches_moodles_own_fixtures(quiz: Path) -> None:
    """The file holds only elements Moodle's fixtures have, in their places: a category question
    (multianswer.xml, category_with_description.xml) then cloze questions with name/text,
    questiontext[@format=html]/text and file[@name,@encoding=base64], generalfeedback, penalty,
    hidden; the category is named after the assignment under $course$/top."""
    moodle_paths = {
        "quiz/question[category]/category/text",
        "quiz/question[category]/info/text",
        "quiz/question[cloze]/name/text",
        "quiz/question[cloze]/questiontext/text",
        "quiz/question[cloze]/questiontext/file",
        "quiz/question[cloze]/generalfeedback/text",
        "quiz/question[cloze]/penalty",
        "quiz/question[cloze]/hidden",
    }
    root = ET.parse(quiz / "quiz.xml").getroot()
    seen = set()
    for question in root:
        assert question.tag == "question"
        for element in question.iter():
            if element is question:
                continue
            path = [e.tag for e in _ancestry(question, element)]
            seen.add(f"quiz/question[{question.get('type')}]/" + "/".join(path))
    assert {p.rsplit("/", 1)[0] for p in seen} - {"quiz/question[cloze]", "quiz/question[category]"} <= {
        p.rsplit("/", 1)[0] for p in moodle_paths
    }
    assert seen <= moodle_paths | {p.rsplit("/", 1)[0] for p in moodle_paths}
    assert root[0].findtext("category/text") == "$course$/top/Backpropagation worked example"
    for question in _questions(quiz):
        assert question.find("questiontext").get("format") == "html"  # type: ignore[union-attr]
        file = question.find("questiontext/file")
        assert file is not None and file.attrib == {"name": "diagram.svg", "encoding": "base64"}
        assert '<img src="@@PLUGINFILE@@/diagram.svg"' in (question.findtext("questiontext/text") or "")


def _ancestry(top: ET.Element, element: ET.Element) -> list[ET.Element]:
    def walk(node: ET.Element, trail: list[ET.Element]) -> list[ET.Element] | None:
        for child in node:
            if child is element:
                return [*trail, child]
            found = walk(child, [*trail, child])
            if found:
                return found
        return None

    return walk(top, []) or []


def test_export_is_deterministic(tmp_path: Path) -> None:
    """The same spec, variants and seed give the same bytes."""
    for name in ("a", "b"):
        export_moodle(preset(Preset.HANDOUT), tmp_path / name, Roster.anonymous(2), seed="same")
    for file in ("quiz.xml", "keys.json"):
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes()


@pytest.mark.parametrize("text", ["a}b", "x#y", "p~q", "r:s", "a{1:NM:=1}b", "back\\slash", "<b>&"])
def test_feedback_escaping_survives_moodles_parser(text: str) -> None:
    """Feedback with Cloze's special characters comes back from Moodle's parser as written."""
    blank = "{1:NUMERICAL:=1.5:0.1#" + cloze_escape(text) + "~%0%-1.5:0.1#" + cloze_escape(text) + "}"
    (parsed,) = moodle_blanks(f"<p>{blank}</p>")
    assert [a[3] for a in parsed["answers"]] == [text, text]  # type: ignore[index]
    assert [a[1] for a in parsed["answers"]] == [1.5, -1.5]  # type: ignore[index]


def test_cloze_parts_read_moodles_response_summary() -> None:
    """``part 1: …; part 2: …`` (qtype_multianswer summarise_response) splits by part; an empty
    part is "", and ``-`` (no response) is nothing."""
    assert cloze_parts("part 1: 0.37; part 2: ; part 3: -1e-3") == {1: "0.37", 2: "", 3: "-1e-3"}
    assert cloze_parts("partie 1 : 2; partie 2 : 3") == {1: "2", 2: "3"}
    assert cloze_parts("-") == {}


def _sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z))


def test_responses_fixture_regrades_to_hand_derived_verdicts() -> None:
    """The fixture report (two variants): Ana (v001) all right; Ben (v002) gives −z_h1 (a sign
    error) and σ(−z_h1) for a_h1 (follow-through) and leaves z_out empty; Cara's attempt is in
    progress (not graded); Dan's second attempt (v001) is graded, not his first. The right values
    are worked out here from the givens in keys.json: z_h1 = w1·x1 + w2·x2 + b1, a_h1 = σ(z_h1)."""
    data = json.loads((FIXTURE / "keys.json").read_text())
    x1, x2, _, w1, w2, *_rest = data["students"]["v001"]
    b1 = data["students"]["v001"][9]
    z_h1 = w1 * x1 + w2 * x2 + b1
    assert round(z_h1, 4) == 1.2632 and round(_sigmoid(z_h1), 4) == 0.7796
    v2 = data["students"]["v002"]
    assert round(v2[3] * v2[0] + v2[4] * v2[1] + v2[9], 4) == 0.868
    assert abs(_sigmoid(-0.868) - 0.2957) < 0.003  # Ben's follow-through value, within 1 %

    results = grade(FIXTURE / "keys.json", [FIXTURE / "responses.csv"])
    assert verdicts(results) == {
        "ana@example.edu": {"z_h1": ("correct", None), "a_h1": ("correct", None), "z_out": ("correct", None)},
        "ben@example.edu": {
            "z_h1": ("incorrect", "sign_error"),
            "a_h1": ("follow_through", None),
            "z_out": ("missing", None),
        },
        "dan@example.edu": {"z_h1": ("correct", None), "a_h1": ("missing", None), "z_out": ("correct", None)},
    }
    messages = [e.message for e in results.errors]
    assert any("cara@example.edu" in m and "In progress" in m for m in messages)
    assert any("dan@example.edu" in m and "attempted again" in m for m in messages)


def test_cli_exports_then_regrades(tmp_path: Path) -> None:
    """``export moodle`` writes quiz.xml and keys.json; ``grade keys.json responses.csv`` grades the
    fixture report against the fixture's keys and writes a Moodle gradebook keyed by email."""
    runner = CliRunner()
    made = runner.invoke(
        app, ["export", "moodle", "--variants", "2", "--seed", "s", "--out", str(tmp_path / "q")]
    )
    assert made.exit_code == 0, made.output
    assert {p.name for p in (tmp_path / "q").iterdir()} >= {"quiz.xml", "keys.json"}
    graded = runner.invoke(
        app,
        ["grade", str(FIXTURE / "keys.json"), str(FIXTURE / "responses.csv"), "--out", str(tmp_path / "g"),
         "--gradebook", "moodle", "--quiet"],
    )  # fmt: skip
    assert graded.exit_code == 0, graded.output
    gradebook = next((tmp_path / "g").glob("*moodle*")).read_text("utf-8-sig")
    assert gradebook.splitlines()[0].startswith("Email address,")
    assert "ana@example.edu,3" in gradebook


def test_cli_needs_variants_or_roster(tmp_path: Path) -> None:
    """Neither --variants nor --roster (or both) is one line on stderr and exit code 2."""
    result = CliRunner().invoke(app, ["export", "moodle", "--out", str(tmp_path / "q")])
    assert result.exit_code == 2
    assert "--variants" in result.output


def test_responses_report_downloaded_as_excel_regrades_the_same(tmp_path: Path) -> None:
    """Moodle's "Download table data as Microsoft Excel (.xlsx)" of the same report: the same
    verdicts as the CSV (the workbook is read by the one table reader)."""
    import csv

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    with (FIXTURE / "responses.csv").open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.reader(handle):
            sheet.append([None if c == "" else c for c in row])
    book.save(tmp_path / "responses.xlsx")
    from_csv = grade(FIXTURE / "keys.json", [FIXTURE / "responses.csv"])
    from_xlsx = grade(FIXTURE / "keys.json", [tmp_path / "responses.xlsx"])
    assert verdicts(from_xlsx) == verdicts(from_csv)
    assert len(verdicts(from_xlsx)) == 3

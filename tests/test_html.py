"""The HTML pages without a browser: what generate writes and where, that the pages are
deterministic, small, free of asked values (the worksheet) and made from the same plan as the
Markdown, that practice data is the grader's, and HTML feedback and answers-<student>.json."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gradegen.cli import app
from gradegen.core.network import build_graph
from gradegen.core.options import Style, with_documents
from gradegen.core.spec import Spec, preset
from gradegen.documents.html import mathml, script_json
from gradegen.documents.numbers import FORMS
from gradegen.documents.render import render_documents

HTML_FILES = ("solution.html", "worksheet.html", "key.html")


def _run(*args: str) -> None:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output


def _text(page: str) -> str:
    """What a reader sees: the page without its style, script and tags."""
    page = re.sub(r"<(style|script)\b.*?</\1>", "", page, flags=re.DOTALL)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


_NUMBER = re.compile(r"(?<![\w.])-?\d+\.\d+")


def _numbers(text: str) -> set[str]:
    return set(_NUMBER.findall(text.replace("−", "-")))


def test_html_writes_the_three_pages_and_practice_the_fourth(tmp_path: Path) -> None:
    """--html adds solution.html, worksheet.html and key.html to the usual files; --practice adds
    practice.html; without them no HTML is written."""
    _run("generate", "--out", str(tmp_path / "plain"), "--quiet")
    assert not list((tmp_path / "plain").glob("*.html"))
    _run("generate", "--out", str(tmp_path / "web"), "--html", "--quiet")
    assert sorted(p.name for p in (tmp_path / "web").glob("*.html")) == sorted(HTML_FILES)
    _run("generate", "--out", str(tmp_path / "web"), "--html", "--practice", "--quiet")
    assert (tmp_path / "web" / "practice.html").is_file() and (tmp_path / "web" / "solution.md").is_file()


def test_pages_are_deterministic_and_under_300_kb(tmp_path: Path) -> None:
    """Two runs write the same bytes; each page of the built-in network is under 300 KB."""
    for run in ("a", "b"):
        _run("generate", "--out", str(tmp_path / run), "--html", "--practice", "--quiet")
    for name in (*HTML_FILES, "practice.html"):
        data = (tmp_path / "a" / name).read_bytes()
        assert data == (tmp_path / "b" / name).read_bytes(), name
        assert len(data) < 300_000, (name, len(data))


def test_pages_fetch_nothing_and_inline_their_diagram(tmp_path: Path) -> None:
    """A page names no URL to fetch (no src, href or url()), forbids requests in its CSP and
    carries the SVG diagram inline (all but the key, a table of answers)."""
    _run("generate", "--out", str(tmp_path), "--html", "--practice", "--quiet")
    for name in (*HTML_FILES, "practice.html"):
        page = (tmp_path / name).read_text("utf-8")
        markup = re.sub(r"<script>.*?</script>", "", page, flags=re.DOTALL)
        assert not re.search(r"\b(src|href)\s*=|url\(|@import", markup), name
        scripts = "".join(re.findall(r"<script>(.*?)</script>", page, flags=re.DOTALL))
        assert not re.search(r"https?:|fetch\(|XMLHttpRequest|import\(|\.src\b", scripts), name
        assert "default-src 'none'" in page, name
        assert page.count("<svg ") == (name != "key.html") and ('role="img"' in page) == (name != "key.html")


def _worksheet_values(spec: Spec, tmp_path: Path) -> tuple[str, dict[str, str], set[str]]:
    """The worksheet page, each asked value as printed, and the givens' printed values."""
    folder = tmp_path / "ws"
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(json.dumps(spec.to_data()), "utf-8")
    _run("generate", str(spec_file), "--out", str(folder), "--html", "--quiet")
    key = json.loads((folder / "key.json").read_text("utf-8"))
    asked = {q: "%.*f" % (v["places"], v["hand"]) for q, v in key["values"].items()}  # noqa: UP031
    givens = _numbers((folder / "worksheet.md").read_text("utf-8"))
    return (folder / "worksheet.html").read_text("utf-8"), asked, givens


@pytest.mark.parametrize("name", ["handout", "deep_softmax"])
def test_the_worksheet_holds_no_value_of_an_asked_quantity(
    name: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """No asked quantity's value (as printed, or in full) is anywhere in the worksheet page, text,
    attributes or script, unless it is also a given's value; every number there is the
    Markdown worksheet's (the givens)."""
    spec = preset("handout") if name == "handout" else request.getfixturevalue("deep_softmax")
    page, asked, givens = _worksheet_values(spec, tmp_path)
    key = json.loads((tmp_path / "ws" / "key.json").read_text("utf-8"))
    for qid, text in asked.items():
        exact = repr(key["values"][qid]["exact"])
        if text.lstrip("-") not in {g.lstrip("-") for g in givens}:
            assert not re.search(rf"(?<![\d.]){re.escape(text.lstrip('-'))}(?!\d)", page), (qid, text)
        if not float(exact).is_integer():  # 0 and 1 (a ReLU's slope) are also just digits of the page
            assert not re.search(rf"(?<![\d.]){re.escape(exact.lstrip('-'))}(?!\d)", page), qid
    assert _numbers(_text(page)) <= givens


def test_html_and_markdown_come_from_the_same_plan(tmp_path: Path, deep_softmax: Spec) -> None:
    """The solution page shows the numbers the Markdown solution and its diagram show, no more and
    no fewer; the same for the worksheet; the key page shows each asked value as printed."""
    # the compact style writes a step that is not asked (η not tiny) inside p − η·g: the key
    # asks every quantity here, so the two-hidden-layer network is written in full
    compact = with_documents(preset("handout"), style="compact")
    for spec in (preset("handout"), compact, with_documents(deep_softmax, style="full")):
        graph = build_graph(spec)
        files = render_documents(
            spec, graph, graph.evaluate(), graph.evaluate(hand=True), 0,
            files=["solution.md", "worksheet.md", "network.svg", *HTML_FILES],
        )  # fmt: skip
        svg = _numbers(_text(files["network.svg"]))
        for doc in ("solution", "worksheet"):
            assert _numbers(_text(files[f"{doc}.html"])) == _numbers(files[f"{doc}.md"]) | svg, doc
        # the key's values are the solution's (an exact ReLU derivative "1" is asked as "1.0000")
        key_numbers = {float(x) for x in _numbers(_text(files["key.html"]))}
        shown = {float(x) for x in re.findall(r"(?<![\w.])-?\d+(?:\.\d+)?", files["solution.md"])}
        assert shown >= key_numbers - {0.01}  # the tolerance "rel 0.01"


@pytest.mark.parametrize("style", [Style.FULL, Style.MATRIX])
def test_compiled_pages_are_byte_identical_to_the_reference(deep_softmax: Spec, style: Style) -> None:
    """The compiled HTML pages (slots filled per variant) equal the pages rendered with the
    variant's numbers, in each style, for a student whose name needs escaping too."""
    spec = with_documents(deep_softmax, style=style)
    graph = build_graph(spec)
    args = (spec, graph, graph.evaluate(), graph.evaluate(hand=True), 0)
    kwargs = {"files": list(HTML_FILES), "student": "b<o>&1", "name": 'Bo "B" <Chen>'}
    fast = render_documents(*args, **kwargs)  # type: ignore[arg-type]
    slow = render_documents(*args, compiled=False, **kwargs)  # type: ignore[arg-type]
    assert fast == slow
    assert 'data-student="b&lt;o&gt;&amp;1"' in fast["worksheet.html"]
    assert "<Chen>" not in fast["worksheet.html"] and "&lt;Chen&gt;" in fast["worksheet.html"]


def test_mathml_converts_the_documents_latex_and_keeps_number_slots_as_numbers() -> None:
    """A fraction becomes <mfrac>, operators plain characters, and a number's slot its MathML form
    (filled with <mn>0.0822</mn>, or mantissa × 10 to a power for a value in scientific notation)."""
    out = mathml(r"\frac{\partial L}{\partial w_{5}} = \x00t:w5\x00".replace(r"\x00", "\x00"), display=True)
    assert out.startswith('<math xmlns="http://www.w3.org/1998/Math/MathML" display="block">')
    assert "<mfrac>" in out and "∂" in out and "&#x" not in out
    assert "\x00m:w5\x00" in out
    assert FORMS["m"]("-0.0822") == "<mn>−0.0822</mn>"
    assert (
        FORMS["m"](r"6.70 \times 10^{-4}")
        == "<mrow><mn>6.70</mn><mo>×</mo><msup><mn>10</mn><mn>−4</mn></msup></mrow>"
    )
    assert FORMS["n"]("-0.3") == "<mrow><mo>(</mo><mn>−0.3</mn><mo>)</mo></mrow>"


def test_script_json_cannot_close_its_script() -> None:
    """Embedded JSON has no "<", ">" or "&": a "</script>" in any text cannot end the element."""
    text = script_json({"a": "</script><!--&"})
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == {"a": "</script><!--&"}


def test_a_class_keeps_answers_out_of_the_student_folders(tmp_path: Path) -> None:
    """With --html each student's folder gets worksheet.html and nothing holding answers; their
    solution, key and practice pages go to solutions/, keys/ and practices/ beside keys.json."""
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name\nana,Ana\nkeys,Kim\n", "utf-8")
    out = tmp_path / "class"
    _run(
        "generate",
        "--roster",
        str(roster),
        "--seed",
        "1",
        "--out",
        str(out),
        "--html",
        "--practice",
        "--quiet",
    )
    folders = sorted(p.name for p in out.iterdir() if p.is_dir())
    assert "ana" in folders and {"keys", "solutions", "practices"} <= set(folders)
    kim = next(
        f for f in folders if f.startswith("keys-")
    )  # a student named "keys" gets a folder of their own
    for student in ("ana", kim):
        names = {p.name for p in (out / student).iterdir()}
        assert "worksheet.html" in names and not names & {"key.html", "solution.html", "practice.html"}
        for section in ("keys", "solutions", "practices"):
            assert (out / section / f"{student}.html").is_file()
    from gradegen.core.classkeys import student_key

    key = json.loads(student_key(out / "keys.json", "ana").to_json())
    page = (out / "ana" / "worksheet.html").read_text("utf-8")
    for qid, value in key["values"].items():
        assert repr(value["exact"]) not in page, qid
    assert '<span class="student" data-student="ana">Ana (ana)</span>' in page
    assert "%.*f" % (key["values"]["z_h1"]["places"], key["values"]["z_h1"]["hand"]) in (  # noqa: UP031
        out / "keys" / "ana.html"
    ).read_text("utf-8")


def test_practice_data_is_the_grader_s_intervals(deep_softmax: Spec) -> None:
    """The practice data holds, for each asked quantity, an interval around its hand value within
    the 1% tolerance, and a sign error's interval around the negated value."""
    from gradegen.core.key import askable
    from gradegen.grading.practice import practice_key

    spec = preset("handout")
    graph = build_graph(spec)
    exact, hand = graph.evaluate(), graph.evaluate(hand=True)
    data = practice_key(spec, graph, exact, hand, askable(graph))(0)
    a_h1 = data["answers"]["a_h1"]  # 0.5932699921 exactly, 0.5933 by hand
    assert a_h1["param"] is None and a_h1["right"][0] <= 0.5933 <= a_h1["right"][1]
    assert a_h1["right"][0] > 0.58 and a_h1["right"][1] < 0.6
    signs = [m for m in a_h1["mistakes"] if m[0] == "sign_error"]
    assert any(lo <= -0.5933 <= hi for _, lo, hi in signs)
    assert "sign is wrong" in data["explanations"]["sign_error"]
    w5 = data["answers"]["w5_new"]  # judged by the step w5 − w5_new = 0.0001 × 0.0822
    assert w5["param"] == 0.4 and w5["right"][0] <= 0.4 - 0.39999178 <= w5["right"][1]


def test_html_feedback_says_what_the_markdown_says(tmp_path: Path, write: object) -> None:
    """--feedback-format html writes feedback/<student>.html with the Markdown page's words, the
    student's text escaped, and nothing else in feedback/."""
    _run("generate", "--out", str(tmp_path / "doc"), "--quiet")
    answers = tmp_path / "ana.yaml"
    answers.write_text('student: "<b>ana</b>"\nz_h1: 0.3775\na_h1: "-0.5933"\ndL_dw5: "<i>x"\n', "utf-8")
    for fmt in ("md", "html"):
        _run("grade", str(tmp_path / "doc" / "key.json"), str(answers), "--out", str(tmp_path / fmt),
             "--feedback-format", fmt, "--quiet")  # fmt: skip
    (md,) = (tmp_path / "md" / "feedback").iterdir()
    (page,) = (tmp_path / "html" / "feedback").iterdir()
    assert page.suffix == ".html" and page.stem == md.stem
    text = page.read_text("utf-8")
    assert "<b>ana</b>" not in text and "<i>x" not in text
    seen = "".join(_text(text).split())  # compared without spaces: tags end words in HTML
    for line in md.read_text("utf-8").splitlines():
        words = re.sub(r"[#*`\\]|^- ", "", line).strip()
        if words:
            assert "".join(words.split()) in seen, line


def test_a_downloaded_answers_file_is_graded_like_answers_yaml(tmp_path: Path) -> None:
    """answers-<student>.json as the page saves it (student, assignment, answers as typed) is read
    by grade: the assignment field is not taken for an answer, the typed forms are parsed."""
    _run("generate", "--out", str(tmp_path / "doc"), "--quiet")
    saved = tmp_path / "answers-ana.json"
    saved.write_text(
        json.dumps({"student": "ana", "assignment": "Backpropagation worked example",
                    "answers": {"z_h1": "0,3775", "z_h2": "3.925e-1", "a_h1": "abc"}}),
        "utf-8",
    )  # fmt: skip
    _run("grade", str(tmp_path / "doc" / "key.json"), str(saved), "--out", str(tmp_path / "g"), "--quiet")
    results = json.loads((tmp_path / "g" / "results.json").read_text("utf-8"))
    assert results["errors"] == []
    (student,) = results["students"]
    assert student["student"] == "ana" and student["score"] == 2.0 and student["errors"] == []


def test_the_commands_offer_the_html_options() -> None:
    """generate --help lists --html and --practice; grade --help lists --feedback-format."""
    runner = CliRunner()
    generate = runner.invoke(app, ["generate", "--help"], terminal_width=200).output
    assert "--html" in generate and "--practice" in generate
    assert "--feedback-format" in runner.invoke(app, ["grade", "--help"], terminal_width=200).output
    bad = runner.invoke(app, ["grade", "x.json", "y.yaml", "--feedback-format", "pdf"])
    assert bad.exit_code == 2


def test_hostile_spec_text_is_escaped_everywhere_on_the_pages(tmp_path: Path) -> None:
    """A title, course and instructions full of markup stay text on every page: no element,
    attribute or script they could open, and the answer form's assignment attribute holds them."""
    data = preset("handout").to_data()
    hostile = '</script><script>alert(1)</script> & "q" <b>'
    data.update(title="T " + hostile, course="C " + hostile, instructions="I " + hostile)
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(json.dumps(data), "utf-8")
    _run("generate", str(spec_file), "--out", str(tmp_path / "out"), "--html", "--practice", "--quiet")
    for name in (*HTML_FILES, "practice.html"):
        page = (tmp_path / "out" / name).read_text("utf-8")
        assert "<script>alert" not in page and "<b>" not in page, name
        assert html.escape(hostile, quote=True).replace("&#x27;", "'") in page, name
    worksheet = (tmp_path / "out" / "worksheet.html").read_text("utf-8")
    assert 'data-assignment="T &lt;/script&gt;' in worksheet

"""The printable answer key and the paper worksheet: each answer with the interval grading
accepts, question numbers in the solution, keys kept out of students' folders, room to work, a
name box, instructions for paper and electronic hand-in."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from gradegen.core.key import load_key
from gradegen.core.spec import parse_spec, preset
from gradegen.documents.answerkey import interval_text
from gradegen.documents.generate import CLASS_FILES, generate, generate_class
from gradegen.grading.grade import grade
from gradegen.grading.results import Verdict
from gradegen.variants.roster import Roster, Student

_ANSWER = re.compile(
    r"\*\*(\d+)\.\*\* .*? \(ID `(\w+)`; .*?\)\.\n\nAnswer: \$\\mathbf\{(.+?)\}\$ "
    r"\(accepted from \$(.+?)\$ to \$(.+?)\$, (.*?)\)"
)
_NUMBER = re.compile(r"(-?\d+(?:\.(\d+))?)(?: \\times 10\^\{(-?\d+)\})?")


def _number(tex: str) -> float:
    """A number as the key prints it: fixed-point, or LaTeX scientific notation (6.70 \\times 10^{-4})."""
    m = _NUMBER.fullmatch(tex)
    assert m is not None, tex
    return float(f"{m.group(1)}e{m.group(3) or 0}")


def _unit(tex: str) -> float:
    """One unit in the last place a printed number shows."""
    m = _NUMBER.fullmatch(tex)
    assert m is not None, tex
    return 10.0 ** (int(m.group(3) or 0) - len(m.group(2) or ""))


@pytest.fixture(scope="module")
def handout_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate(preset("handout"), tmp_path_factory.mktemp("key") / "out")


def _answers(key_md: str) -> list[tuple[str, ...]]:
    return [m.groups() for m in _ANSWER.finditer(key_md)]


def test_the_key_fills_in_the_worksheets_questions(handout_out: Path) -> None:
    """key.md asks what worksheet.md asks, in the same order and words, each with its answer (the
    hand value key.json holds, as the worksheet asks it) and the accepted interval."""
    key_md = (handout_out / "key.md").read_text()
    worksheet = (handout_out / "worksheet.md").read_text()
    key = load_key(handout_out / "key.json")
    answers = _answers(key_md)
    assert [a[1] for a in answers] == list(key.asked) and [a[0] for a in answers] == [
        str(k) for k in range(1, len(key.asked) + 1)
    ]
    for number, qid, answer, _, _, rule in answers:
        assert _number(answer) == pytest.approx(key.values[qid].hand, rel=1e-15)
        assert rule == "within 1%"
        question = re.search(rf"\*\*{number}\.\*\* (.*?) \(ID `{qid}`", worksheet)
        assert question is not None and f"**{number}.** {question.group(1)} (ID `{qid}`" in key_md


def test_hand_worked_intervals(handout_out: Path) -> None:
    """The handout's z_h1 = 0.3775 (exact and by hand) within 1%: 0.373725 to 0.381275, printed
    inwards at one place more than asked; the step of w5 (η·∂L/∂w5 = 0.0001 × 0.0822 by hand) in
    scientific notation as asked; and w5_new, when asked, around its step."""
    answers = {a[1]: a for a in _answers((handout_out / "key.md").read_text())}
    assert answers["z_h1"][2:5] == ("0.3775", "0.37373", "0.38127")
    assert interval_text(0.373725, 0.381275, 4) == ("0.37373", "0.38127")
    # strictly inside, widened until the two ends differ
    assert interval_text(0.1, 0.1000001, 1) == ("0.10000001", "0.10000009")
    # step_w5: hand 0.0001 × 0.0822 = 8.22e-6, exact 0.0001 × 0.08216…; the hull within 1 % is
    # 0.99 × 8.2167e-6 = 8.1345e-6 to 1.01 × 8.22e-6 = 8.3022e-6, printed inwards
    assert answers["step_w5"][2:5] == (
        r"8.22 \times 10^{-6}",
        r"8.135 \times 10^{-6}",
        r"8.302 \times 10^{-6}",
    )
    # w5_new (asked by its ID): hand 0.4 − 0.00000822; 1 % of a step is ~8e-8
    out = generate(preset("handout"), handout_out.parent / "updates", ask="step_w5,w5_new")
    _, _, answer, low, high, _ = {a[1]: a for a in _answers((out / "key.md").read_text())}["w5_new"]
    assert answer == "0.39999178" and float(low) < 0.39999178 < float(high)
    assert float(high) - float(low) == pytest.approx(2 * 0.01 * 0.0000082, rel=0.05)


def test_grading_accepts_exactly_what_the_key_prints(handout_out: Path, tmp_path: Path) -> None:
    """For every question, the real grader accepts the key's two ends and rejects two units in the
    last printed place beyond either: the ends are inside, and within a unit of the true ends (the
    other answers exact, so no follow-through)."""
    key = load_key(handout_out / "key.json")
    answers = _answers((handout_out / "key.md").read_text())
    exact = {q: repr(key.values[q].exact) for q in key.asked}
    rows, expected = [], []
    for _, qid, _, low, high, _ in answers:
        unit = _unit(low)
        for value, ok in (
            (_number(low), True),
            (_number(high), True),
            (_number(low) - 2 * unit, False),
            (_number(high) + 2 * unit, False),
        ):
            rows.append([f"r{len(rows)}", *(str(value) if q == qid else exact[q] for q in key.asked)])
            expected.append((qid, ok))
    path = tmp_path / "answers.csv"
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows([["student", *key.asked], *rows])
    results = grade(handout_out / "key.json", [path])
    for i, (qid, ok) in enumerate(expected):
        verdict = results.student(i).items[qid].verdict
        assert (verdict is Verdict.CORRECT) == ok, (qid, rows[i], verdict)


def test_solution_sections_name_their_questions(handout_out: Path) -> None:
    """Each section of the solution names the questions it works out (the worksheet's numbers)."""
    solution = (handout_out / "solution.md").read_text()
    assert "### Hidden layer 1: $h_{1}$, $h_{2}$ (sigmoid) — questions 1–4" in solution
    assert "## Loss — question 7" in solution
    assert "### Weight $w_{5}$ — questions 8–11" in solution
    assert "### Weight $w_{1}$ — questions 14–16, 20" in solution
    assert "## Update — questions 25–32" in solution
    tex = (handout_out / "solution.tex").read_text()
    assert r"\subsection*{Weight $w_{5}$ --- questions 8--11 }" in tex
    assert r"\section*{Loss --- question 7 }" in tex and r"\section*{Update --- questions 25--32 }" in tex


def test_a_class_keeps_its_printable_keys_beside_the_folders(tmp_path: Path) -> None:
    """A class run: no student's folder holds a key; keys.md and keys.tex hold every student's,
    in roster order, each with that student's own numbers, each LaTeX key on a page of its own."""
    roster = Roster((Student("ann", "Ann Lee"), Student("ben")))
    out = tmp_path / "cls"
    generate_class(preset("handout"), roster, out, seed="k")
    for folder in ("ann", "ben"):
        files = {p.name for p in (out / folder).iterdir()}
        assert files == set(CLASS_FILES) and not {"key.md", "key.tex", "key.json"} & files
    keys_md = (out / "keys.md").read_text()
    parts = keys_md.split("\n---\n\n")
    assert len(parts) == 2
    assert "Variant: Ann Lee (ann)" in parts[0] and "Variant: ben" in parts[1]
    data = json.loads((out / "keys.json").read_text())
    for part, student in zip(parts, ("ann", "ben"), strict=True):
        x1 = data["students"][student]["givens"][0] if "givens" in data["students"][student] else None
        answers = {a[1]: a for a in _answers(part)}
        assert set(answers) == set(data["asked"])
        if x1 is not None:
            assert f"| $x_{{1}}$ | ${x1:g}$ |" in part
    keys_tex = (out / "keys.tex").read_text()
    assert keys_tex.count(r"\begin{document}") == 1 and keys_tex.count(r"\clearpage\setcounter{page}{1}") == 1


def test_working_space_follows_the_work(tmp_path: Path) -> None:
    """On paper a question gets room for its own work: ∂L/∂w1 (a chain of five factors) more
    than z_h1; a gradient asked with nothing before it, room for the forward pass too."""
    out = generate(preset("handout"), tmp_path / "all")
    tex = (out / "worksheet.tex").read_text()
    space = dict(
        re.findall(r"\\texttt\{(\w+)\}; give [^)]*\)\.\n  \\workspace\{(\d+)\}", tex.replace(r"\_", "_"))
    )
    assert int(space["dL_dw1"]) > int(space["z_h1"]) >= 2
    assert int(space["dL_dw1"]) > int(space["dL_dw5"]) > int(space["z_h1"])
    only = generate(preset("handout"), tmp_path / "few", ask="dL_dw1,dL_dw2")
    tex = (only / "worksheet.tex").read_text().replace(r"\_", "_")
    few = dict(re.findall(r"\\texttt\{(\w+)\}; give [^)]*\)\.\n  \\workspace\{(\d+)\}", tex))
    assert int(few["dL_dw1"]) > int(space["dL_dw1"]) and int(few["dL_dw2"]) <= int(space["dL_dw1"])


def test_an_anonymous_variant_has_a_name_box_not_its_id_as_a_name(tmp_path: Path) -> None:
    """v001's worksheet says which variant it is and leaves a name and a student ID to fill in."""
    out = tmp_path / "cls"
    generate_class(preset("handout"), Roster.anonymous(1), out, seed="k")
    md = (out / "v001" / "worksheet.md").read_text()
    tex = (out / "v001" / "worksheet.tex").read_text()
    assert "Variant: v001" in md and "Name: v001" not in md and "Student ID: \\_\\_" in md
    assert "Variant: v001" in tex and "\\namebox" in tex and "Name: v001" not in tex


def test_paper_instructions_do_not_send_students_to_answers_yaml(tmp_path: Path) -> None:
    """The LaTeX (paper) worksheet asks for working and an answer on the line, and mentions
    answers.yaml only for electronic hand-in; the Markdown says both ways."""
    out = generate(parse_spec(preset("handout").to_data()), tmp_path / "out")
    tex = " ".join((out / "worksheet.tex").read_text().split())
    md = " ".join((out / "worksheet.md").read_text().split())
    assert "Write your answers in" not in tex and "write the answer on its line" in tex
    assert "Handing in electronically instead? Put the same numbers in \\texttt{answers.yaml}" in tex
    assert "To hand in electronically, write each answer after its ID in `answers.yaml`; on paper" in md

"""Sheets for every level: what a scaffolded worksheet gives, what an exam asks, and the points."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from shapes import shape
from typer.testing import CliRunner

from gradegen.cli import app
from gradegen.core.graph import Graph, Kind, Role
from gradegen.core.key import load_key, resolve_ask, solve_key
from gradegen.core.network import build_graph
from gradegen.core.options import Level, with_documents
from gradegen.core.spec import Spec, preset
from gradegen.core.training import evaluate_spec
from gradegen.documents.generate import generate, generate_class
from gradegen.documents.render import render_documents
from gradegen.grading.grade import grade
from gradegen.grading.keys import class_columns, key_from_spec
from gradegen.variants.draw import make_variants
from gradegen.variants.roster import Roster

NETWORKS = ["handout", "3-4-3-3", "4-8-8-3"]
runner = CliRunner()


def _at(name: str, level: str, **data: object) -> Spec:
    spec = with_documents(shape(name), level=level)
    return spec.model_copy(update=data) if data else spec


def _worked(markdown: str) -> dict[str, float]:
    """The scaffolded worksheet's "worked out for you" table: symbol → value printed."""
    part = markdown.split("## Worked out for you", 1)[1].split("## Questions", 1)[0]
    rows = re.findall(r"^\| \$(.+?)\$ \| \$(.+?)\$ \|", part, re.M)
    return {symbol: float(value) for symbol, value in rows}


def _ancestors(graph: Graph, qid: str) -> set[str]:
    seen: set[str] = set()
    todo = list(graph[qid].parents)
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo.extend(graph[node].parents)
    return seen


@pytest.mark.parametrize("name", NETWORKS)
def test_a_scaffolded_worksheet_gives_the_forward_pass_by_hand_and_asks_the_rest(name: str) -> None:
    """By default a scaffolded worksheet prints every weighted sum, activation and the loss with the
    engine's hand value, and asks the backward pass and the updates, none of what it gives."""
    spec = _at(name, "scaffolded")
    graph, exact, hand = evaluate_spec(spec)
    key = solve_key(spec)
    files = render_documents(spec, graph, exact, hand, 0, key.asked, files=["worksheet.md"])
    worked = _worked(files["worksheet.md"])
    forward = [n for n in graph.nodes if n.kind in (Kind.FORWARD, Kind.LOSS)]
    assert len(worked) == len(forward)
    for node in forward:
        assert worked[node.symbol] == float(hand[node.id][0]), node.id
        assert node.id not in key.asked
    assert all(graph[q].kind not in (Kind.FORWARD, Kind.LOSS, Kind.GIVEN) for q in key.asked)
    standard = solve_key(_at(name, "standard"))
    assert set(key.asked) == set(standard.asked) - {n.id for n in forward}


def test_a_scaffolded_worksheet_with_ask_gives_nothing_that_is_asked_or_follows_from_it() -> None:
    """With --ask, the given values are the forward values and loss neither asked nor computed
    from an asked quantity; each is printed as the engine's hand value."""
    spec = _at("3-4-3-3", "scaffolded")
    graph, exact, hand = evaluate_spec(spec)
    asked = ("a_h1_1", "dL_dw1", "loss")
    text = render_documents(spec, graph, exact, hand, 0, asked, files=["worksheet.md"])["worksheet.md"]
    worked = _worked(text)
    given = {n.id for n in graph.nodes if n.symbol in worked and n.kind is not Kind.GIVEN}
    assert given and not given.intersection(asked)
    for qid in given:
        assert not _ancestors(graph, qid).intersection(asked), qid
        assert worked[graph[qid].symbol] == float(hand[qid][0])
    # everything before h1_1's activation is given; the output, which needs it, is not
    assert "z_h1_1" in given and "z_h1_2" in given
    assert not any(graph[q].role is Role.ACTIVATION and graph[q].layer == 2 for q in given)


def _exam_roles(graph: Graph, asked: tuple[str, ...]) -> dict[str, str]:
    """Each exam question by what it is: forward, loss, output, hidden, bias, update."""
    last = max(n.layer for n in graph.nodes if n.layer is not None)
    kinds: dict[str, str] = {}
    for qid in asked:
        node = graph[qid]
        if node.kind is Kind.FORWARD:
            what = "forward"
        elif node.role is Role.LOSS:
            what = "loss"
        elif node.role is Role.WEIGHT_GRADIENT:
            what = "output" if node.layer == last else "hidden"
        elif node.role is Role.BIAS_GRADIENT:
            what = "bias"
        else:
            assert node.kind in (Kind.STEP, Kind.UPDATE), qid
            what = "update"
        assert what not in kinds, f"two {what} questions"
        kinds[what] = qid
    return kinds


@pytest.mark.parametrize("name", NETWORKS)
def test_an_exam_asks_one_quantity_of_each_kind_along_one_path(name: str) -> None:
    """The exam asks a forward value, the loss, an output and a hidden weight gradient, the shared
    bias gradient and the hidden weight's update, all on one path from an input to the output."""
    spec = _at(name, "exam")
    graph = build_graph(spec)
    asked = solve_key(spec).asked
    kinds = _exam_roles(graph, asked)
    assert set(kinds) == {"forward", "loss", "output", "hidden", "bias", "update"}
    out, hidden = graph[kinds["output"]], graph[kinds["hidden"]]
    # the hidden weight comes from an input into the unit whose activation is asked
    assert any(graph[p].role is Role.INPUT for p in hidden.parents)
    assert graph[kinds["forward"]].role is Role.ACTIVATION
    assert graph[kinds["forward"]].unit == hidden.unit
    # the output weight carries an activation computed from that unit's, through the layers between
    source = next(p for p in out.parents if graph[p].role is Role.ACTIVATION)
    assert kinds["forward"] == source or kinds["forward"] in _ancestors(graph, source)
    # and the hidden gradient's delta is the output delta carried back along that path
    assert next(p for p in out.parents if graph[p].role is Role.DELTA) in _ancestors(graph, hidden.id)
    assert graph[kinds["update"]].param == hidden.param
    bias = graph[kinds["bias"]]
    assert bias.unit is None  # a shared bias
    assert set(bias.parents) & ({source} | _ancestors(graph, hidden.id)) or any(
        graph[p].unit == graph[source].unit for p in bias.parents
    )


def test_an_exam_without_shared_bias_asks_no_bias_gradient() -> None:
    """A network with a bias per unit has no shared-bias gradient to ask."""
    spec = _at("2-3-2", "exam")
    kinds = _exam_roles(build_graph(spec), solve_key(spec).asked)
    assert set(kinds) == {"forward", "loss", "output", "hidden", "update"}


def _points(text: str) -> list[float]:
    return [float(p) for p in re.findall(r"; (?:\\textbf\{)?([0-9.]+) points?\}?\)", text)]


@pytest.mark.parametrize("name", NETWORKS)
def test_the_points_shown_are_the_keys_and_a_perfect_exam_scores_the_total(name: str, tmp_path: Path) -> None:
    """Every format shows each question's points as the key has them (a hidden gradient 3, an
    output or bias gradient 2, the rest 1, unless the spec says), with their total; answering
    every question with the key's value scores that total."""
    spec = _at(name, "exam", points={"loss": 1.5})
    out = generate(spec, tmp_path / "exam", html=True)
    key = load_key(out / "key.json")
    points = [key.values[q].points for q in key.asked]
    graph = build_graph(spec)
    kinds = _exam_roles(graph, key.asked)
    expected = {"forward": 1.0, "loss": 1.5, "output": 2.0, "hidden": 3.0, "bias": 2.0, "update": 1.0}
    assert {what: key.values[q].points for what, q in kinds.items()} == expected
    total = sum(points)
    for file in ("worksheet.md", "worksheet.tex", "key.md", "key.tex"):
        text = (out / file).read_text(encoding="utf-8")
        assert _points(text) == points, file
        assert f"{len(points)} questions, {total:g} points in all." in text, file
    html = (out / "worksheet.html").read_text(encoding="utf-8")
    assert re.findall(r"<strong>([0-9.]+) points?</strong>", html) == [f"{p:g}" for p in points]
    assert f'<td class="num">{total:g}</td></tr></tfoot>' in (out / "key.html").read_text(encoding="utf-8")
    sheet = (out / "answers.yaml").read_text(encoding="utf-8")
    assert [float(p) for p in re.findall(r", ([0-9.]+) points?$", sheet, re.M)] == points
    answers = {"student": "ana", **{q: key.values[q].hand for q in key.asked}}
    (tmp_path / "ana.yaml").write_text(yaml.safe_dump(answers), encoding="utf-8")
    for source in (out / "key.json", spec):  # the key written, and the spec used as a key
        results = grade(source, [tmp_path / "ana.yaml"])
        assert results.total == results.possible == total


def test_outside_an_exam_each_question_is_worth_one_point_or_the_specs() -> None:
    """Standard and scaffolded keys give 1 point a question unless the spec's points say."""
    for level in ("standard", "scaffolded"):
        key = solve_key(_at("handout", level, points={"dL_dw1": 4.0}))
        assert {q: a.points for q, a in key.values.items() if a.points != 1.0} == {"dL_dw1": 4.0}


def test_a_class_at_exam_level_asks_the_exam_and_grades_to_full_marks(tmp_path: Path) -> None:
    """A class run's keys.json asks the exam's questions with its points; each student answering
    their own numbers scores the total, and key_from_spec asks what the sheet asks."""
    spec = _at("handout", "exam")
    exam = solve_key(spec)
    assert key_from_spec(spec).asked == exam.asked
    made = generate_class(spec, Roster.anonymous(3), tmp_path / "class", seed="levels")
    assert made.asked == exam.asked
    data = json.loads((tmp_path / "class" / "keys.json").read_text(encoding="utf-8"))
    assert data["asked"] == list(exam.asked)
    variants = make_variants(spec, list(made.ids), seed="levels")
    columns = class_columns(variants.class_keys())
    assert {q: float(columns.points[q][0]) for q in exam.asked} == {
        q: a.points for q, a in exam.values.items()
    }
    files = []
    for i, student in enumerate(made.ids):
        path = tmp_path / f"{student}.yaml"
        path.write_text(
            yaml.safe_dump({"student": student, **{q: float(variants.hand[q][i]) for q in exam.asked}}),
            encoding="utf-8",
        )
        files.append(path)
    results = grade(tmp_path / "class" / "keys.json", files)
    assert results.total == results.possible == 3 * 10.0


@pytest.mark.parametrize("level", ["scaffolded", "exam"])
def test_compiled_sheets_at_each_level_equal_the_reference_render(level: str) -> None:
    """A class's compiled documents at each level are byte-identical to the reference render."""
    spec = _at("handout", level, points={"dL_dw5": 2.5})
    variants = make_variants(spec, ["a", "b"], seed="levels")
    for i in range(2):
        args = (variants.spec_for(i), variants.graph, variants.exact, variants.hand, i, variants.asked)
        compiled = render_documents(*args, student=variants.ids[i])
        assert compiled == render_documents(*args, student=variants.ids[i], compiled=False)


def test_generate_level_on_the_command_line(tmp_path: Path) -> None:
    """``generate --level exam`` writes the exam; ``--level scaffolded --ask`` asks what --ask
    says and gives the forward pass not asked."""
    result = runner.invoke(app, ["generate", "--level", "exam", "--out", str(tmp_path / "e"), "--quiet"])
    assert result.exit_code == 0, result.output
    key = load_key(tmp_path / "e" / "key.json")
    assert key.asked == solve_key(with_documents(preset("handout"), level=Level.EXAM)).asked
    assert "10 points in all" in (tmp_path / "e" / "worksheet.md").read_text(encoding="utf-8")
    args = ["generate", "--level", "scaffolded", "--ask", "hidden_gradients,loss"]
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "s"), "--quiet"])
    assert result.exit_code == 0, result.output
    key = load_key(tmp_path / "s" / "key.json")
    assert "loss" in key.asked and "dL_dw1" in key.asked and "a_h1" not in key.asked
    text = (tmp_path / "s" / "worksheet.md").read_text(encoding="utf-8")
    worked = _worked(text)
    assert "a_{h1}" in worked and "L" not in worked  # the loss is asked, so not given


def test_exports_ask_what_the_exam_sheet_asks(tmp_path: Path) -> None:
    """Canvas's quiz and Moodle's blanks ask the exam's questions, Moodle's weighted by its points;
    ``gradegen key`` prints a student's exam key with those points."""
    import zipfile

    from gradegen.core.classkeys import student_key
    from gradegen.exports.canvas import export_canvas
    from gradegen.exports.moodle import blanks

    spec = _at("handout", "exam")
    exam = solve_key(spec)
    with zipfile.ZipFile(export_canvas(spec, tmp_path / "quiz.zip")) as package:
        text = "".join(package.read(n).decode() for n in package.namelist())
    tagged = re.findall(r"\[([A-Za-z0-9_]+)\]", text)
    assert tuple(dict.fromkeys(tagged)) == exam.asked
    variants = make_variants(spec, ["a"], seed="levels")
    assert [(b.qid, b.points) for b in blanks(variants)[0]] == [
        (q, int(a.points)) for q, a in exam.values.items()
    ]
    generate_class(spec, Roster.anonymous(2), tmp_path / "class", seed="levels")
    key = student_key(tmp_path / "class" / "keys.json", "v001")
    assert {q: a.points for q, a in key.values.items()} == {q: a.points for q, a in exam.values.items()}


def test_ask_at_exam_level_keeps_the_points_by_kind() -> None:
    """--ask chooses an exam's questions; each is still worth its kind's points."""
    spec = _at("handout", "exam")
    graph = build_graph(spec)
    asked = resolve_ask(graph, "dL_dz_out,dL_dw6,dL_dw3,dL_db2,z_h2", level=Level.EXAM)
    key = solve_key(spec, asked)
    assert {q: a.points for q, a in key.values.items()} == {
        "z_h2": 1.0, "dL_dz_out": 1.0, "dL_dw6": 2.0, "dL_db2": 2.0, "dL_dw3": 3.0,
    }  # fmt: skip

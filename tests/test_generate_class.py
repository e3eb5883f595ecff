"""`gradegen generate --roster/--variants`: a folder per student, keys.json, reproducible, safe."""

from __future__ import annotations

import csv
import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from gradegen.cli import app
from gradegen.core.network import build_graph
from gradegen.core.spec import Spec, parse_spec
from gradegen.documents.generate import CLASS_FILES, combine_tex, generate_class
from gradegen.errors import GradegenError
from gradegen.variants.roster import Roster, Student

runner = CliRunner()


def roster_csv(tmp_path: Path, ids: list[str], name: str = "roster.csv") -> Path:
    path = tmp_path / name
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "name"])
        writer.writerows([i, f"Name {k}"] for k, i in enumerate(ids))
    return path


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def class_of_200(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("class")
    roster = roster_csv(tmp, [f"s{k:03d}" for k in range(200)])
    out = tmp / "out"
    result = runner.invoke(app, ["generate", "--roster", str(roster), "--seed", "week3", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_two_hundred_students_get_folders_and_keys(class_of_200: Path) -> None:
    """A 200-student roster gives 200 folders of documents and 200 keys (keys.json version 2: a
    row of givens per student, in roster order; the shape changed with issue 10)."""
    folders = sorted(p for p in class_of_200.iterdir() if p.is_dir())
    assert len(folders) == 200
    for folder in folders[:5]:
        assert sorted(p.name for p in folder.iterdir()) == sorted(CLASS_FILES)
    keys = json.loads((class_of_200 / "keys.json").read_text())
    assert keys["seed"] == "week3" and keys["format"] == "gradegen-keys" and keys["version"] == 2
    assert list(keys["students"]) == [f"s{k:03d}" for k in range(200)]


def test_each_key_matches_its_students_own_numbers(class_of_200: Path) -> None:
    """Every student's key (`gradegen key`, from the compact keys.json of issue 10) holds their own
    spec's values, solved afresh; the answer sheet names the student."""
    from gradegen.core.classkeys import student_key

    weights = set()
    for student in ("s000", "s101", "s199"):
        key = student_key(class_of_200 / "keys.json", student).to_dict()
        spec = parse_spec(key["spec"])
        values = build_graph(spec).evaluate()
        for qid, entry in key["values"].items():
            assert entry["exact"] == pytest.approx(values[qid][0], rel=1e-12, abs=1e-15)
        sheet = yaml.safe_load((class_of_200 / student / "answers.yaml").read_text())
        assert sheet["student"] == student
        weights.add(tuple(w for layer in spec.layers for row in layer.weights for w in row))
        assert "Name " in (class_of_200 / student / "worksheet.md").read_text()
    assert len(weights) == 3  # everybody has different numbers


def test_rerun_and_only_are_byte_identical(class_of_200: Path, tmp_path: Path) -> None:
    """The same roster and seed give identical bytes; --only rewrites one folder identically."""
    roster = roster_csv(tmp_path, [f"s{k:03d}" for k in range(200)])
    again = tmp_path / "again"
    result = runner.invoke(
        app, ["generate", "--roster", str(roster), "--seed", "week3", "--out", str(again), "--quiet"]
    )
    assert result.exit_code == 0 and result.output == ""
    assert tree(again) == tree(class_of_200)
    (again / "s042" / "worksheet.md").write_text("scribbled on")
    keys_before = (again / "keys.json").read_bytes()
    result = runner.invoke(app, ["generate", "--roster", str(roster), "--only", "s042", "--out", str(again)])
    assert result.exit_code == 0, result.output
    assert tree(again / "s042") == tree(class_of_200 / "s042")
    assert (again / "keys.json").read_bytes() == keys_before


def test_grown_roster_keeps_everyones_numbers(tmp_path: Path, handout: Spec) -> None:
    """Adding students changes nobody else's numbers."""
    small = generate_class(handout, _roster(["ann", "ben"]), tmp_path / "a", seed="s")
    grown = generate_class(handout, _roster(["zoe", "ann", "cat", "ben"]), tmp_path / "b", seed="s")
    for student in ("ann", "ben"):
        assert small.spec_for(small.ids.index(student)) == grown.spec_for(grown.ids.index(student))
        assert tree(tmp_path / "a" / student) == tree(tmp_path / "b" / student)


def test_seed_changes_numbers_and_is_recorded(tmp_path: Path, handout: Spec) -> None:
    """Another seed gives other numbers; without --seed a fresh one is drawn and recorded."""
    one = generate_class(handout, _roster(["ann"]), tmp_path / "a", seed="s")
    two = generate_class(handout, _roster(["ann"]), tmp_path / "b", seed="t")
    assert one.spec_for(0) != two.spec_for(0)
    drawn = generate_class(handout, _roster(["ann"]), tmp_path / "c")
    assert json.loads((tmp_path / "c" / "keys.json").read_text())["seed"] == drawn.seed
    assert len(drawn.seed) >= 16


def test_only_reads_the_seed_from_keys_json(tmp_path: Path, handout: Spec) -> None:
    """--only without --seed reuses the full run's seed; without keys.json it says what it needs."""
    roster = _roster(["ann", "ben"])
    full = generate_class(handout, roster, tmp_path / "out")
    before = tree(tmp_path / "out" / "ben")
    generate_class(handout, roster, tmp_path / "out", only=["ben"])
    assert tree(tmp_path / "out" / "ben") == before
    assert full.seed in (tmp_path / "out" / "keys.json").read_text()
    result = runner.invoke(
        app, ["generate", "--variants", "2", "--only", "v001", "--out", str(tmp_path / "x")]
    )
    assert result.exit_code == 2
    assert "--only needs the assignment's --seed" in result.stderr


def test_hostile_ids_stay_inside_the_output_folder(tmp_path: Path) -> None:
    """Ids like ../x, /abs, a/b or CON become safe, distinct folders inside DIR."""
    hostile = ["../escape", "/abs/path", "a/b", "..", ".", "CON", "con.txt", "x" * 300, "ünï", "a\\b"]
    roster = roster_csv(tmp_path, hostile)
    out = tmp_path / "out"
    result = runner.invoke(app, ["generate", "--roster", str(roster), "--seed", "x", "--out", str(out)])
    assert result.exit_code == 0, result.output
    folders = [p for p in out.iterdir() if p.is_dir()]
    assert len(folders) == len(hostile)
    for folder in folders:
        assert folder.resolve().parent == out.resolve()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "roster.csv"]
    assert not Path("/abs").exists()
    students = {yaml.safe_load((f / "answers.yaml").read_text())["student"] for f in folders}
    assert students == set(hostile)


def test_anonymous_variants(tmp_path: Path) -> None:
    """--variants N makes v001 … vN (and, since issue 13, the manifest listing them)."""
    out = tmp_path / "out"
    result = runner.invoke(app, ["generate", "--variants", "3", "--seed", "k", "--out", str(out), "--quiet"])
    assert result.exit_code == 0
    assert sorted(p.name for p in out.iterdir()) == [
        ".gradegen.json", "keys.json", "keys.md", "keys.tex", "v001", "v002", "v003",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--variants", "2", "--roster", "r.csv"], "give one or the other"),
        (["--seed", "s"], "--seed and --only go with --roster or --variants"),
        (["--roster", "missing.csv"], "no such"),
    ],
)
def test_bad_variant_arguments(tmp_path: Path, args: list[str], message: str) -> None:
    """Conflicting or missing variant options give one line and exit code 2."""
    result = runner.invoke(app, ["generate", "--out", str(tmp_path / "o"), *args])
    assert result.exit_code == 2
    assert message in result.stderr
    assert not (tmp_path / "o").exists()


def test_combined_pdfs_one_student_per_section(tmp_path: Path) -> None:
    """--pdf writes worksheets.pdf, solutions.pdf and keys.pdf with every student in them."""
    roster = roster_csv(tmp_path, ["ann", "ben"])
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["generate", "--roster", str(roster), "--seed", "p", "--pdf", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    for name in ("worksheets.pdf", "solutions.pdf", "keys.pdf"):
        data = (out / name).read_bytes()
        assert data.startswith(b"%PDF")
    # keys.pdf: each student's key starts on a page of its own, headed by its title
    text = subprocess.run(
        ["pdftotext", "-layout", str(out / "keys.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    pages = [page for page in text.split("\f") if "answer key" in page]
    assert [page.lstrip().splitlines()[0].strip() for page in pages] == [
        "Backpropagation worked example: answer key"
    ] * 2
    assert "Variant: Name 0 (ann)" in pages[0] and "Variant: Name 1 (ben)" in pages[1]


def test_combine_tex_keeps_one_preamble() -> None:
    """Combined LaTeX has one preamble and every body, each from page 1."""
    doc = "\\documentclass{article}\n\\begin{document}\nBODY{}\n\\end{document}\n"
    combined = combine_tex([doc.replace("{}", "1"), doc.replace("{}", "2")])
    assert combined.count("\\documentclass") == 1 and combined.count("\\begin{document}") == 1
    assert "BODY1" in combined and "BODY2" in combined
    assert combined.count("\\setcounter{page}{1}") == 1


def _roster(ids: list[str]) -> Roster:
    return Roster(tuple(Student(i) for i in ids))


def test_class_csv_is_graded_against_each_students_own_key(tmp_path: Path, handout: Spec) -> None:
    """Each CSV row is graded with its own key; a student handing in a neighbour's answers scores low.
    (Each student's spec is read with `student_key`: keys.json is version 2 since issue 10.)"""
    from gradegen.core.classkeys import load_keys
    from gradegen.grading.grade import grade

    ids = [f"s{k:02d}" for k in range(12)]
    generate_class(handout, _roster(ids), tmp_path / "cls", seed="csv")
    keys = load_keys(tmp_path / "cls" / "keys.json")
    asked = keys.asked
    rows = []
    for student in ids:
        source = "s05" if student == "s04" else student  # s04 copies s05
        values = build_graph(keys.spec_for(source)).evaluate()
        rows.append([student, *(repr(float(values[q][0])) for q in asked)])
    path = tmp_path / "answers.csv"
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows([["student", *asked], *rows])
    # With follow-through, the 8 steps η·∂L/∂p of 32 questions follow from the shared η and the
    # copied gradients (right for those gradients), so they earn credit: at most 0.5 + 8/32.
    for credit, ceiling in ((1.0, 0.75), (0.0, 0.1)):
        results = grade(tmp_path / "cls" / "keys.json", [path], ecf_credit=credit).to_dict()
        scores = {s["student"]: s["score"] / s["max"] for s in results["students"]}
        assert set(scores) == set(ids)
        assert all(scores[s] == 1.0 for s in ids if s != "s04")
        # Every step computed from the copier's own givens is wrong; only steps that follow
        # consistently from those wrong values can earn follow-through credit.
        assert scores["s04"] < ceiling, (credit, scores["s04"])


def test_user_templates_get_each_students_real_numbers(tmp_path: Path, handout: Spec) -> None:
    """In a class run a user template computes with each student's own numbers, as its key has
    them: ``{{ lr | float * 2 }}`` and ``values.w5 * 10``."""
    folder = tmp_path / "tpl"
    folder.mkdir()
    (folder / "network.md.j2").write_text("LR2 {{ lr | float * 2 }}; W5 {{ values.w5 * 10 }}\n")
    ids = ["ann", "ben", "cat"]
    generate_class(handout, _roster(ids), tmp_path / "cls", seed="t", templates=folder)
    from gradegen.core.classkeys import student_key

    printed = set()
    for student in ids:
        spec = student_key(tmp_path / "cls" / "keys.json", student).to_dict()["spec"]
        w5 = spec["layers"][1]["weights"][0][0]
        line = f"LR2 {spec['learning_rate'] * 2}; W5 {w5 * 10}\n"
        assert line in (tmp_path / "cls" / student / "worksheet.md").read_text(), student
        printed.add(line)
    assert len(printed) == 3  # everybody's own numbers


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_worker_processes_write_the_same_class(
    tmp_path: Path, handout: Spec, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A class rendered by forked workers, chunk by chunk, is byte-identical to one written in turn."""
    import gradegen.documents.generate as documents

    roster = Roster.anonymous(40)
    monkeypatch.setattr(documents, "_forkable", lambda count: False)
    generate_class(handout, roster, tmp_path / "serial", seed="w")
    monkeypatch.setattr(documents, "_forkable", lambda count: True)
    monkeypatch.setattr(documents, "_CHUNK", 7)  # uneven chunks over two workers
    generate_class(handout, roster, tmp_path / "forked", seed="w")
    assert _tree(tmp_path / "forked") == _tree(tmp_path / "serial")
    # keys.json, keys.md, keys.tex, .gradegen.json
    assert len(_tree(tmp_path / "serial")) == 40 * len(CLASS_FILES) + 4


def test_a_keys_writer_failure_leaves_nothing_behind(
    tmp_path: Path, handout: Spec, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If writing keys.json fails while the workers write folders, the error reaches the caller
    and no output folder appears. (Changed by issue 10: keys.json is written by the parent, so
    the caller gets its own error, not a child's report of it; by issue 13: as one line naming
    the user's output folder, not the staging folder.)"""
    import gradegen.documents.generate as documents

    def broken(variants: object) -> str:
        raise OSError("disk full")

    monkeypatch.setattr(documents, "_forkable", lambda count: True)
    monkeypatch.setattr(documents, "_CHUNK", 7)
    monkeypatch.setattr(documents, "keys_json", broken)
    with pytest.raises(GradegenError, match=r"out: cannot write here: disk full"):
        generate_class(handout, Roster.anonymous(20), tmp_path / "out", seed="w")
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_while_workers_write_leaves_nothing_behind(
    tmp_path: Path, handout: Spec, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A KeyboardInterrupt in the parent while workers write stops them before the staging folder
    is removed: nothing is left, not even folders a worker was still writing."""
    import time

    import gradegen.documents.generate as documents

    real = documents._write_folder

    def slow(folder: Path, files: dict[str, bytes]) -> None:
        time.sleep(0.01)  # the workers are still busy when the interrupt comes
        real(folder, files)

    def interrupted(variants: object) -> str:
        time.sleep(0.05)
        raise KeyboardInterrupt

    monkeypatch.setattr(documents, "_forkable", lambda count: True)
    monkeypatch.setattr(documents, "_CHUNK", 5)
    monkeypatch.setattr(documents, "_write_folder", slow)
    monkeypatch.setattr(documents, "keys_json", interrupted)
    with pytest.raises(KeyboardInterrupt):
        generate_class(handout, Roster.anonymous(60), tmp_path / "out", seed="w")
    time.sleep(0.2)  # a worker still writing would recreate files by now
    assert list(tmp_path.iterdir()) == []


def test_a_worker_failure_leaves_nothing_behind(
    tmp_path: Path, handout: Spec, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If a worker fails, the error reaches the caller (since issue 13 as one line naming the
    user's output folder) and no output folder appears."""
    import gradegen.documents.generate as documents

    def broken(folder: Path, files: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(documents, "_forkable", lambda count: True)
    monkeypatch.setattr(documents, "_CHUNK", 7)
    monkeypatch.setattr(documents, "_write_folder", broken)
    with pytest.raises(GradegenError, match=r"out: cannot write here: disk full"):
        generate_class(handout, Roster.anonymous(20), tmp_path / "out", seed="w")
    assert not (tmp_path / "out").exists()
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- precision (issue 11)

# a number: with its sign and a power of ten (2.50 has none); a negative operand's parentheses go
# with it, so "(#)" is read as "#" once the numbers are blanked
_NUMBER = re.compile(r"[-−]?\d+(?:\.\d+)?(?: \\times 10\^\{-?\d+\})?")


@pytest.mark.parametrize("network", ["handout", "deep_softmax"])
def test_every_variant_of_a_class_is_asked_the_same_way(
    tmp_path: Path, network: str, request: pytest.FixtureRequest
) -> None:
    """A 30-student class: every worksheet and answer sheet reads the same once its numbers are
    blanked (the precision asked depends on the question, never on a student's values), while the
    numbers themselves differ (the solution's lines too, signs being part of a number)."""
    spec: Spec = request.getfixturevalue(network)
    ids = [f"s{k:02d}" for k in range(30)]
    generate_class(spec, _roster(ids), tmp_path / "cls", seed="precision")
    for name in ("worksheet.md", "worksheet.tex", "answers.yaml", "solution.md"):
        texts = [(tmp_path / "cls" / student / name).read_text("utf-8") for student in ids]
        blanked = {_NUMBER.sub("#", text).replace("(#)", "#") for text in texts}
        assert len(blanked) == 1, name
        if name != "answers.yaml":
            assert len(set(texts)) == 30, name  # each student has their own numbers
    worksheet = (tmp_path / "cls" / "s00" / "worksheet.md").read_text("utf-8")
    assert "significant figures, in scientific notation" in worksheet and "decimal places" in worksheet


def test_each_hand_value_follows_the_rule_its_question_states(handout: Spec) -> None:
    """For 30 variants of the handout, every asked value is what the worksheet's rule gives from
    the student's own (hand) values: 4 places (within half a unit of 10⁻⁴), 3 significant figures,
    the exact product η × ∂L/∂p, the exact difference p − step (checked with decimal arithmetic)."""
    from decimal import Decimal

    from gradegen.core.rounding import shortest
    from gradegen.documents.numbers import precision_text
    from gradegen.variants.draw import make_variants

    variants = make_variants(handout, [f"s{k:02d}" for k in range(30)], seed="rule")
    graph, hand = variants.graph, variants.hand
    recomputed = graph.recompute(hand.arrays)

    def text(qid: str, i: int) -> Decimal:
        return Decimal(hand.text(qid, i).replace("−", "-").replace(" × 10", "e").translate(_UNSUPER))

    for qid in [*variants.asked, *graph.updates.values()]:
        rule = precision_text(graph, qid, False)
        for i in range(len(variants)):
            value, printed = float(hand[qid][i]), text(qid, i)
            assert float(printed) == value, (qid, i)
            if rule == "4 decimal places":
                assert printed.as_tuple().exponent == -4
                assert abs(recomputed[qid][i] - value) <= 0.5e-4 * (1 + 1e-9)
            elif rule.startswith("3 significant figures"):
                assert len(printed.as_tuple().digits) == 3 or value == 0
                half = 0.5 * 10.0 ** (printed.adjusted() - 2)
                assert abs(recomputed[qid][i] - value) <= half * (1 + 1e-9)
            elif qid.startswith("step_"):
                lr, grad = graph[qid].parents
                assert printed == Decimal(shortest(float(hand[lr][i]))) * text(grad, i)
            else:
                param = graph[qid].param or ""
                step = text(f"step_{param}", i)
                assert printed == Decimal(shortest(float(hand[param][i]))) - step


_UNSUPER = str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789")

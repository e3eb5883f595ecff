"""A class's keys.json (version 2): compact, rebuilt exactly, graded as one key, old files still read."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import deep_softmax_data
from typer.testing import CliRunner

import gradegen.grading.grade as grading
from gradegen.cli import app
from gradegen.core.classkeys import ClassKeys, KeySet, load_keys, spec_givens, student_key, with_givens
from gradegen.core.graph import Kind
from gradegen.core.key import Key
from gradegen.core.spec import Spec, parse_spec, preset
from gradegen.documents.generate import generate
from gradegen.documents.plain import key_json
from gradegen.errors import GradegenError
from gradegen.grading.grade import grade
from gradegen.grading.keys import class_columns, key_columns, key_from_spec, load_answer_key
from gradegen.grading.results import Verdict
from gradegen.variants.draw import VariantSet, keys_document, keys_json, make_variants
from gradegen.variants.roster import Roster

runner = CliRunner()


def _spec(name: str) -> Spec:
    return parse_spec(deep_softmax_data()) if name == "deep_softmax" else preset(name)


def _class(name: str = "handout", n: int = 24, ask: str | None = None) -> VariantSet:
    return make_variants(_spec(name), Roster.anonymous(n).ids, seed="classkeys", asked=ask)


def _write_v1(variants: VariantSet, path: Path) -> Path:
    """keys.json as the previous version wrote it: every student's full key."""
    doc = {
        "seed": variants.seed,
        "keys": {s: variants.key_for(i).to_dict() for i, s in enumerate(variants.ids)},
    }
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", "utf-8")
    return path


def _answers_csv(variants: VariantSet, path: Path) -> Path:
    """Every asked id answered from each student's own hand values: right, sign-flipped, off by ten,
    a hidden unit's answer carried wrongly into its update (follow-through), missing, unreadable."""
    rng = np.random.default_rng(10)
    columns = []
    for qid in variants.asked:
        value = variants.hand[qid]
        draw = rng.random(len(variants))
        value = np.where(draw < 0.15, -value, np.where(draw < 0.3, value * 10, value))
        text = np.char.mod("%.10g", value).astype(object)
        text[draw >= 0.9] = ""
        text[(draw >= 0.85) & (draw < 0.9)] = "n/a"
        columns.append(text)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", *variants.asked])
        writer.writerows(zip(variants.ids, *columns, strict=True))
    return path


# --------------------------------------------------------------------------- the format


def test_keys_json_is_version_2_with_a_row_of_givens_per_student() -> None:
    """keys.json states the format and version, the shared spec once, and per student, in roster
    order, just their givens in graph order (the numbers the student's own spec has)."""
    variants = _class(n=5)
    doc = json.loads(keys_json(variants))
    assert doc["format"] == "gradegen-keys" and doc["version"] == 2 and doc["seed"] == "classkeys"
    assert doc["asked"] == list(variants.asked)
    assert doc["givens"] == ["x1", "x2", "y", "w1", "w2", "w3", "w4", "w5", "w6", "b1", "b2", "lr"]
    assert list(doc["students"]) == ["v001", "v002", "v003", "v004", "v005"]
    for i, student in enumerate(variants.ids):
        own = variants.spec_for(i)
        weights = [w for layer in own.layers for row in layer.weights for w in row]
        biases = [layer.bias for layer in own.layers]
        assert doc["students"][student] == [*own.inputs, *own.targets, *weights, *biases, own.learning_rate]
    assert "randomize" not in doc["spec"]
    assert doc == keys_document(variants)


def test_keys_json_round_trips_byte_for_byte() -> None:
    """Reading keys.json and writing it again gives the same bytes; one line per student."""
    variants = _class("deep_softmax", n=7, ask="loss,output_gradients")
    text = keys_json(variants)
    again = ClassKeys.from_data(json.loads(text), source="keys.json")
    assert again.to_json() == text
    assert again.asked == variants.asked and again.seed == variants.seed
    lines = text.splitlines()
    start = lines.index('  "students": {')
    assert len(lines) - start - 3 == 7  # the students' lines, then "  }" and "}"


def test_keys_json_is_about_90_bytes_a_student_on_the_handout() -> None:
    """On the handout network (12 givens of 2 places), a student costs well under 200 bytes."""
    variants = _class(n=1000)
    size = len(keys_json(variants).encode())
    assert size / 1000 < 200
    assert size < 1000 * 200  # 100,000 students: under 20 MB


def test_with_givens_is_the_inverse_of_spec_givens() -> None:
    """A spec's givens put back into the spec give the spec; other numbers give a spec with those."""
    spec = _spec("deep_softmax")
    assert with_givens(spec, spec_givens(spec)) == spec
    numbers = [float(k) / 100 + 0.01 for k in range(len(spec_givens(spec)))]
    assert spec_givens(with_givens(spec, numbers)) == numbers


# --------------------------------------------------------------------------- rebuilding values


@pytest.mark.parametrize("name", ["handout", "mazur", "deep_softmax"])
def test_rebuilt_values_equal_each_students_own_key_json(name: str, tmp_path: Path) -> None:
    """The values grading rebuilds from keys.json in one batched evaluation are, bit for bit, those
    of the key.json `generate` writes for that student's own spec alone; so is `student_key`."""
    variants = _class(name, n=9)
    keys = ClassKeys.from_data(json.loads(keys_json(variants)))
    columns = class_columns(keys)
    for i in (0, 4, 8):
        out = generate(variants.spec_for(i), tmp_path / f"s{i}")
        stored = json.loads((out / "key.json").read_text("utf-8"))
        for qid in variants.asked:
            entry = stored["values"][qid]
            assert columns.expected_exact[qid][i] == entry["exact"], qid
            assert columns.expected_hand[qid][i] == entry["hand"], qid
            assert columns.hand.places is not None
            assert columns.hand.places[qid][i] == entry["places"], qid
        assert student_key(keys, variants.ids[i]).to_json() == (out / "key.json").read_text("utf-8")


def test_student_key_is_the_variants_own_key() -> None:
    """One student's key from keys.json equals the key the class run made for them, and its text
    is what render's key_json writes for it."""
    variants = _class(n=6)
    keys = ClassKeys.from_data(keys_document(variants))
    for i, student in enumerate(variants.ids):
        key = student_key(keys, student)
        assert key.to_dict() == variants.key_for(i).to_dict()
        assert key.to_json() == key_json(variants.key_for(i))
    with pytest.raises(GradegenError, match=r"no student 'v007' in these keys"):
        student_key(keys, "v007")


# --------------------------------------------------------------------------- grading


def test_old_and_new_keys_json_grade_the_same(tmp_path: Path) -> None:
    """The same class graded from a version-1 keys.json and from a version-2 one gives the same
    verdicts, diagnoses and scores, and the same results as a whole."""
    variants = _class(n=60)
    answers = _answers_csv(variants, tmp_path / "answers.csv")
    old = grade(_write_v1(variants, tmp_path / "old.json"), [answers])
    new_path = tmp_path / "new.json"
    new_path.write_text(keys_json(variants), "utf-8")
    new = grade(new_path, [answers])
    assert isinstance(load_answer_key(new_path), ClassKeys)
    assert isinstance(load_answer_key(tmp_path / "old.json"), KeySet)
    assert [s.score for s in new.students] == [s.score for s in old.students]
    seen = set()
    for a, b in zip(old.students, new.students, strict=True):
        for qid, item in a.items.items():
            assert (item.verdict, item.diagnosis, item.points) == (
                b.items[qid].verdict,
                b.items[qid].diagnosis,
                b.items[qid].points,
            )
            seen.add(item.verdict)
    assert seen == set(Verdict)  # the class exercises every verdict
    assert new.to_dict() == old.to_dict()


def test_a_class_is_graded_in_one_batch() -> None:
    """All of a version-2 class is one group, its keys rebuilt once for the students who handed in."""
    variants = _class(n=30)
    keys = ClassKeys.from_data(keys_document(variants))
    table = grading.Submissions()
    for student in ("v003", "v030", "v007"):
        i = variants.index(student)
        table.add_record(student, f"{student}.yaml", {"loss": float(variants.hand["loss"][i])}, [])
    table.add_record("zed", "zed.yaml", {"loss": 0.1}, [])
    results = grade(keys, table)
    assert len(results.groups) == 1 and results.groups[0].hand.batch == 3
    assert [s.items["loss"].verdict for s in results.students] == [Verdict.CORRECT] * 3
    assert [e.message for e in results.errors] == ["no key for student 'zed'; not graded"]


def test_diagnosis_in_blocks_of_keys_equals_all_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Working out mistake references a few keys at a time (as a large class is), half of the
    blocks in a second process (changed: as a class of 24,576 keys or more is), diagnoses exactly
    what one pass over all keys does."""
    variants = _class(n=40)
    answers = _answers_csv(variants, tmp_path / "answers.csv")
    keys = ClassKeys.from_data(keys_document(variants))
    whole = grade(keys, [answers]).to_dict()
    monkeypatch.setattr(grading, "_DIAGNOSIS_KEYS", 7)
    assert grade(keys, [answers]).to_dict() == whole
    monkeypatch.setattr(grading, "_PARALLEL_FROM", 1)  # half of the blocks in a second process
    assert grade(keys, [answers]).to_dict() == whole
    diagnoses = {i["diagnosis"] for s in whole["students"] for i in s["items"].values()}
    assert {"sign_error", "decimal_slip"} <= diagnoses


def test_grade_group_takes_key_columns_or_keys(handout: Spec) -> None:
    """grade_group grades rows against columns of keys, or (as before) a list of Key objects of one
    structure, with the same outcome; each row is compared with its own key."""
    other = handout.model_copy(update={"inputs": (0.10, 0.20)})
    keys = [key_from_spec(handout), key_from_spec(other)]
    cells = {q: [None, None, None] for q in keys[0].asked}
    cells["z_h1"] = ["0.3775", "0.405", "0.405"]  # 0.3775 for the handout, 0.405 for the other
    index = np.array([0, 1, 0], dtype=np.intp)
    from_keys = grading.grade_group(keys, index, cells)
    from_columns = grading.grade_group(key_columns(keys), index, cells)
    verdicts = [Verdict.CORRECT, Verdict.CORRECT, Verdict.INCORRECT]
    for group in (from_keys, from_columns):
        assert [group.item("z_h1", row).verdict for row in range(3)] == verdicts
        assert group.item("z_h1", 1).hand == 0.405 and group.item("z_h1", 0).hand == 0.3775
    assert from_keys.score.tolist() == from_columns.score.tolist() == [1.0, 1.0, 0.0]


def test_a_version_1_file_with_two_networks_still_grades(tmp_path: Path, handout: Spec, mazur: Spec) -> None:
    """A hand-made version-1 keys.json mixing two networks grades each student with their own
    network; a stored value edited by hand is what the answer is graded against."""
    ana = key_from_spec(handout).to_dict()
    ana["values"]["z_h1"]["exact"] = ana["values"]["z_h1"]["hand"] = 0.5  # edited: 0.3775 before
    path = tmp_path / "keys.json"
    path.write_text(json.dumps({"seed": "x", "keys": {"ana": ana, "bo": key_from_spec(mazur).to_dict()}}))
    sheets = tmp_path / "sheets"
    sheets.mkdir()
    (sheets / "ana.yaml").write_text("student: ana\nz_h1: 0.5\nz_out: 1.1059\n", "utf-8")
    (sheets / "bo.yaml").write_text("student: bo\nz_o2: 1.2249214\n", "utf-8")
    results = grade(path, [sheets])
    assert len(results.groups) == 2
    by_student = {s.student: s for s in results.students}
    assert by_student["ana"].items["z_h1"].verdict is Verdict.CORRECT
    assert by_student["ana"].items["z_out"].verdict is Verdict.CORRECT
    assert by_student["bo"].items["z_o2"].verdict is Verdict.CORRECT
    assert student_key(path, "bo").spec == mazur


# --------------------------------------------------------------------------- bad files


def _doc(**changes: Any) -> dict[str, Any]:
    doc = keys_document(_class(n=3))
    doc.update(changes)
    return doc


def _rows(**rows: Any) -> dict[str, Any]:
    doc = _doc()
    doc["students"].update(rows)
    return doc


GOOD = [0.1] * 11 + [0.5]


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (_rows(bo=GOOD[:-1]), "keys.json: students.bo: expected 12 numbers (x1, x2, y, w1,"),
        (_rows(bo=None), "keys.json: students.bo: expected 12 numbers (x1, x2, y, w1, w2, w3, w4, w5"),
        (
            _rows(bo=[*GOOD[:3], "0.3", *GOOD[4:]]),
            "keys.json: students.bo: w1: expected a finite number, got '0.3'",
        ),
        (_rows(bo=[True, *GOOD[1:]]), "keys.json: students.bo: x1: expected a finite number, got True"),
        (
            _rows(bo=[*GOOD[:5], float("nan"), *GOOD[6:]]),
            "keys.json: students.bo: w3: expected a finite number",
        ),
        (_rows(bo=[*GOOD[:5], 10**400, *GOOD[6:]]), "keys.json: students.bo: w3: expected a finite number"),
        (_rows(bo=[*GOOD[:-1], 0]), "keys.json: students.bo: lr: the learning rate must be greater than 0"),
        (_doc(version=3), "keys.json: version 3 of the gradegen-keys format is not one this gradegen reads"),
        (_doc(givens=["x1"]), "keys.json: givens: expected ['x1', 'x2', 'y'"),
        (_doc(asked=["loss", "dL_dw9"]), "keys.json: asked: 'dL_dw9' is not a quantity of this network"),
        (_doc(asked=["loss", {"a": 1}]), "keys.json: asked: {'a': 1} is not a quantity of this network"),
        (_doc(students={}), "keys.json: students: expected a mapping of student ids to their givens"),
        (_doc(seed=5), "keys.json: seed: expected a string, got 5"),
    ],
)
def test_a_malformed_file_is_one_line_naming_where(doc: dict[str, Any], message: str, tmp_path: Path) -> None:
    """A bad row names its student and the given; a bad shared part names its field; `grade` and
    `key` both exit 2 with that one line."""
    path = tmp_path / "keys.json"
    path.write_text(json.dumps(doc), "utf-8")
    with pytest.raises(GradegenError) as info:
        load_answer_key(path)
    assert str(info.value).startswith(f"{path.parent}/{message}") and "\n" not in str(info.value)
    sheet = tmp_path / "ana.yaml"
    sheet.write_text("student: v001\nloss: 0.1\n", "utf-8")
    for args in (
        ["grade", str(path), str(sheet), "--out", str(tmp_path / "g")],
        ["key", str(path), "--student", "v001"],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 2 and "Traceback" not in result.output
        assert result.stderr.strip().startswith(f"error: {path.parent}/{message}")
        assert len(result.stderr.strip().splitlines()) == 1


def test_unknown_version_1_entries_are_still_reported() -> None:
    """A version-1 file whose entry is not a key says which student's."""
    from gradegen.core.classkeys import keys_from_data

    with pytest.raises(GradegenError, match=r"keys: keys\.ana: not a gradegen key"):
        keys_from_data({"seed": "s", "keys": {"ana": {"spec": {}}}})


# --------------------------------------------------------------------------- gradegen key


@pytest.fixture
def class_dir(tmp_path: Path) -> Path:
    out = tmp_path / "cls"
    result = runner.invoke(app, ["generate", "--variants", "4", "--seed", "k", "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    return out


def test_key_help() -> None:
    """`gradegen key --help` says what it prints and names its options."""
    result = runner.invoke(app, ["key", "--help"])
    assert result.exit_code == 0
    assert "--student" in result.output and "--out" in result.output and "key.json" in result.output


def test_key_prints_one_students_full_key(class_dir: Path, tmp_path: Path) -> None:
    """`gradegen key KEYS --student ID` prints exactly the key.json `generate` writes for that
    student's own spec."""
    result = runner.invoke(app, ["key", str(class_dir / "keys.json"), "--student", "v003"])
    assert result.exit_code == 0, result.output
    spec = load_keys(class_dir / "keys.json").spec_for("v003")
    alone = generate(spec, tmp_path / "alone", ask=None)
    assert result.stdout == (alone / "key.json").read_text("utf-8")
    key = Key.from_dict(json.loads(result.stdout))
    assert key.spec == spec and key.spec.inputs != preset("handout").inputs


def test_key_out_writes_the_file(class_dir: Path, tmp_path: Path) -> None:
    """--out writes the key (nothing on stdout, no temporary file left) and the file grades."""
    target = tmp_path / "keys" / "v002.json"
    result = runner.invoke(
        app, ["key", str(class_dir / "keys.json"), "--student", "v002", "--out", str(target)]
    )
    assert result.exit_code == 0 and result.stdout == ""
    assert sorted(p.name for p in target.parent.iterdir()) == ["v002.json"]
    printed = runner.invoke(app, ["key", str(class_dir / "keys.json"), "--student", "v002"]).stdout
    assert target.read_text("utf-8") == printed
    assert isinstance(load_answer_key(target), Key)


def test_key_unknown_student_or_unusable_file_exits_2(class_dir: Path, tmp_path: Path) -> None:
    """An unknown student, a missing file, a file that is not JSON, or a single key.json: one line, exit 2."""
    single = generate(preset("handout"), tmp_path / "one") / "key.json"
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", "utf-8")
    cases = [
        (class_dir / "keys.json", "v009", "no student 'v009' in these keys"),
        (tmp_path / "missing.json", "v1", "no such keys file"),
        (broken, "v1", "invalid JSON at line 1"),
        (single, "v1", "not a class's keys.json"),
    ]
    for path, student, message in cases:
        result = runner.invoke(app, ["key", str(path), "--student", student])
        assert result.exit_code == 2, (path, result.output)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and message in lines[0] and lines[0].startswith("error: ")
    missing = runner.invoke(app, ["key", str(class_dir / "keys.json")])
    assert missing.exit_code == 2 and "--student" in missing.output


def test_a_students_numbers_that_overflow_are_refused_naming_them(tmp_path: Path) -> None:
    """A hand-edited row whose step overflows float64 (x1 = w1 = 1e200: z_h1 = 1e400) is refused
    when grading and by `key`, naming the student and the first quantity that overflows."""
    doc = _rows(bo=[1e200, *GOOD[1:3], 1e200, *GOOD[4:]])
    assert doc["givens"][:4] == ["x1", "x2", "y", "w1"]
    path = tmp_path / "keys.json"
    path.write_text(json.dumps(doc), "utf-8")
    sheet = tmp_path / "bo.yaml"
    sheet.write_text("student: bo\nloss: 0.1\n", "utf-8")
    expected = f"error: {path}: students.bo: z_h1 (weighted sum into h1) overflows to +inf"
    for args in (
        ["grade", str(path), str(sheet), "--out", str(tmp_path / "g")],
        ["key", str(path), "--student", "bo"],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, result.output
        assert result.stderr.startswith(expected) and result.stderr.count("\n") == 1
    assert not (tmp_path / "g").exists()
    other = tmp_path / "v001.yaml"
    other.write_text("student: v001\nloss: 0.1\n", "utf-8")
    assert grade(path, [other]).summary()["students"] == 1  # bo's key is only built when bo is graded


def test_a_version_1_entry_with_nan_points_is_named(tmp_path: Path) -> None:
    """A version-1 keys.json whose key has `points: NaN` names the student and the field."""
    from gradegen.core.classkeys import keys_from_data

    key = key_from_spec(preset("handout")).to_dict()
    key["values"]["loss"]["points"] = float("nan")
    with pytest.raises(
        GradegenError, match=r"^keys: keys\.ana: values\.loss\.points: expected a finite number"
    ):
        keys_from_data({"seed": "s", "keys": {"ana": key}})


def _plain_first_matches(
    q: str,
    refs: list[tuple[Any, np.ndarray, tuple[str, ...]]],
    rows: np.ndarray,
    xs: np.ndarray,
    k_w: np.ndarray,
    correct_of: dict[str, np.ndarray],
    rule: Any,
) -> np.ndarray:
    """The first matching mistake one reference at a time, as grading first did (the reference)."""
    found = np.full(rows.size, -1, dtype=np.int8)
    with np.errstate(invalid="ignore", over="ignore"):
        for code, ref, swapped in refs:
            open_ = found < 0
            usable = np.isfinite(ref) & (ref != 0)
            hit = open_ & usable[k_w] & (np.abs(xs - ref[k_w]) <= rule.half_width(ref)[k_w])
            for s in swapped:
                if s != q and s in correct_of:
                    hit &= ~correct_of[s][rows]
            found[hit] = grading.MISTAKES.index(code)
    return found


def _mistaken_answers(variants: VariantSet, path: Path) -> Path:
    """Each student's answers drawn from their own mistake references (so that every kind of
    mistake, precedence and upstream rule is exercised), from the key, or from noise."""
    from gradegen.grading.diagnosis import references

    (batch,), _ = grading.key_groups(ClassKeys.from_data(keys_document(variants)), list(variants.ids))
    keys = batch.keys
    refs = references(keys.graph, keys.spec, keys.exact, keys.hand, keys.asked)
    rng = np.random.default_rng(3)
    n = len(variants)
    columns = []
    for q in variants.asked:
        node = keys.graph[q]
        value = keys.hand[q][batch.key_index].copy()
        for i, k in enumerate(batch.key_index.tolist()):
            pick = rng.random()
            if pick < 0.6 and refs.get(q):
                step = refs[q][rng.integers(len(refs[q]))][1][k]
                update = node.kind is Kind.UPDATE and node.param
                value[i] = keys.exact[node.param][k] - step if update else step
            elif pick < 0.75:
                value[i] *= 1 + rng.uniform(-0.5, 0.5)
        columns.append(np.char.mod("%.17g", value))
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", *variants.asked])
        writer.writerows(zip(np.asarray(variants.ids)[batch.rows], *columns, strict=True))
    assert n == len(batch.rows)
    return path


@pytest.mark.parametrize("network", ["handout", "mazur", "deep_softmax"])
def test_references_compared_a_few_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, network: str
) -> None:
    """Comparing several mistake references at once over the rows still unexplained (per key, or
    per row with a key each) diagnoses exactly what one reference at a time over every wrong row
    does, for per-student keys and for one key shared by every student (changed: faster)."""
    variants = _class(network, n=60)
    answers = _mistaken_answers(variants, tmp_path / "answers.csv")
    keys = ClassKeys.from_data(keys_document(variants))
    spec = _spec(network)
    fast = []
    for at_once in (1, 3, grading._REFERENCES_AT_ONCE, 1000):  # 1000: all a quantity's references
        monkeypatch.setattr(grading, "_REFERENCES_AT_ONCE", at_once)
        fast.append([grade(keys, [answers]).to_dict(), grade(spec, [answers]).to_dict()])
    monkeypatch.setattr(grading, "_first_matches", _plain_first_matches)
    assert [[grade(keys, [answers]).to_dict(), grade(spec, [answers]).to_dict()]] * 4 == fast
    fast = fast[0]
    found = {i["diagnosis"] for s in fast[0]["students"] for i in s["items"].values()}
    assert len(found) >= 8

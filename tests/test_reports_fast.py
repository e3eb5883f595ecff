"""The fast report paths against the reference ones: feedback pages, results.json, feedback.zip;
and the parallel writer."""

from __future__ import annotations

import json
import math
import random
import zipfile
from pathlib import Path

import numpy as np
import pytest

from gradegen.core.classkeys import ClassKeys
from gradegen.core.key import askable
from gradegen.core.network import build_graph
from gradegen.core.rounding import format_number, format_numbers
from gradegen.core.spec import Spec, Tolerance, preset
from gradegen.errors import GradegenError
from gradegen.grading.grade import grade
from gradegen.grading.keys import KeySet, key_from_spec
from gradegen.grading.results import GradingResults
from gradegen.grading.submissions import Submissions
from gradegen.reports.choices import FeedbackMode
from gradegen.reports.feedback import _fmts, _intervals, feedback_markdown, shown, shown_many
from gradegen.reports.feedback_pages import iter_feedback
from gradegen.reports.formats import feedback_names
from gradegen.reports.results import _json_float_texts, iter_results_json, results_data, results_json
from gradegen.reports.write import write_reports
from gradegen.variants.draw import VariantSet, keys_document, make_variants

ODD_IDS = ["ana *bold*", "-minus", "=sum", "a/b", "CON", "tab\tid", "zoë", 'quote"d', "back\\slash"]


def _answers(spec: Spec, rng: random.Random) -> dict[str, object]:
    """One student's answers: right (in several forms), sign-flipped, ×10, blank, unreadable or absent."""
    graph = build_graph(spec)
    values = graph.evaluate()
    out: dict[str, object] = {}
    for q in askable(graph):
        x = float(np.asarray(values[q]).ravel()[0])
        pick = rng.random()
        if pick < 0.4:
            out[q] = rng.choice([f"{x:.4g}", f"{x:.6g}", x, f"{x:.3e}".replace("e", " × 10^")])
        elif pick < 0.55:
            out[q] = f"{-x:.5g}"
        elif pick < 0.7:
            out[q] = f"{10 * x:.5g}"
        elif pick < 0.8:
            out[q] = ""
        elif pick < 0.85:
            out[q] = rng.choice(["abc", "1/0", "`x`", "[1, 2]"])
        elif pick < 0.9:
            out[q] = round(x * (1 + rng.uniform(-0.3, 0.3)), 4)
    if rng.random() < 0.3:  # a wrong a_h1 carried forward: follow-through downstream
        out["a_h1"], out["z_out"] = 0.7, 1.1486
    return out


def _mixed(handout: Spec, mazur: Spec, n: int = 300) -> GradingResults:
    """A few hundred students with mixed verdicts and diagnoses, odd ids, problems and two keys."""
    rng = random.Random(7)
    table = Submissions()
    keys = {}
    for i in range(n):
        student = ODD_IDS[i] if i < len(ODD_IDS) else f"s{i:04d}"
        spec = mazur if i % 7 == 3 else handout
        answers = _answers(spec, rng)
        if i % 11 == 0:
            answers["no_such_id"] = "1"  # reported in the student's own errors
        table.add_record(student, f"{i}.yaml", answers, [])
        keys[student] = spec
    made = {"handout": key_from_spec(handout), "mazur": key_from_spec(mazur)}
    return grade(
        KeySet({s: made["mazur" if spec is mazur else "handout"] for s, spec in keys.items()}), table
    )


@pytest.fixture(scope="module")
def mixed() -> GradingResults:
    return _mixed(preset("handout"), preset("mazur"))


def test_mixed_data_covers_every_verdict(mixed: GradingResults) -> None:
    """The generated class really mixes verdicts, diagnoses, groups and per-student problems."""
    data = mixed.to_dict()
    verdicts = {item["verdict"] for s in data["students"] for item in s["items"].values()}
    diagnoses = {item["diagnosis"] for s in data["students"] for item in s["items"].values()}
    assert verdicts == {"correct", "follow_through", "incorrect", "missing", "unparseable"}
    assert {"sign_error", "decimal_slip", None} <= diagnoses
    assert len(mixed.groups) == 2 and mixed.student_errors


def test_fast_feedback_equals_reference(mixed: GradingResults) -> None:
    """iter_feedback gives, for every student, the bytes of feedback_markdown (the reference, now
    built from the student's records and without a shared cache argument)."""
    reference = [feedback_markdown(mixed, i).encode("utf-8") for i in range(len(mixed))]
    assert list(iter_feedback(mixed)) == reference


def test_fast_results_json_equals_reference(mixed: GradingResults) -> None:
    """results.json built column by column has the bytes of the reference built from the records,
    in any chunk size, one student per line (changed for version 2: three header lines, then the
    students; it was compared with to_dict(), the version-1 shape)."""
    text = results_json(mixed)
    for chunk in (None, 1, 7, 5000):
        assert b"".join(iter_results_json(mixed, chunk)).decode("utf-8") == text
    assert json.loads(text) == results_data(mixed)
    lines = text.splitlines()
    assert len(lines) == 4 + len(mixed) + 1  # format, items, errors, "students":[, a line each, the end
    assert [json.loads(line.rstrip(","))["student"] for line in lines[4:-1]] == list(mixed.ids)


def test_single_group_results_json(handout: Spec) -> None:
    """With one key, results.json's fast path gives the reference's bytes across chunks."""
    rng = random.Random(3)
    table = Submissions()
    for i in range(120):
        table.add_record(ODD_IDS[i] if i < len(ODD_IDS) else f"s{i}", f"{i}.yaml", _answers(handout, rng), [])
    results = grade(handout, table, ecf_credit=0.5)
    for chunk in (None, 50):
        assert b"".join(iter_results_json(results, chunk)).decode("utf-8") == results_json(results)


@pytest.mark.parametrize("parallel", [False, True])
def test_zip_holds_the_same_files(
    tmp_path: Path, mixed: GradingResults, monkeypatch: pytest.MonkeyPatch, parallel: bool
) -> None:
    """feedback.zip holds exactly feedback/<name>.md with the files' bytes, and is deterministic."""
    if parallel:  # also through the forked writer
        monkeypatch.setattr("gradegen.reports.write.PARALLEL_FROM", 1)
    write_reports(mixed, tmp_path / "files")
    write_reports(mixed, tmp_path / "zip", feedback="zip")
    write_reports(mixed, tmp_path / "zip2", feedback="zip")
    files = {
        p.relative_to(tmp_path / "files").as_posix(): p.read_bytes()
        for p in (tmp_path / "files" / "feedback").iterdir()
    }
    with zipfile.ZipFile(tmp_path / "zip" / "feedback.zip") as archive:
        assert archive.testzip() is None
        members = {info.filename: archive.read(info) for info in archive.infolist()}
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert {info.external_attr >> 16 for info in archive.infolist()} == {0o100644}
        assert {info.compress_type for info in archive.infolist()} == {zipfile.ZIP_STORED}
    assert members == files and len(files) == len(mixed)
    assert list(members) == [f"feedback/{name}" for name in feedback_names(mixed)]  # student order
    assert (tmp_path / "zip" / "feedback.zip").read_bytes() == (
        tmp_path / "zip2" / "feedback.zip"
    ).read_bytes()
    assert not (tmp_path / "zip" / "feedback").exists()
    for name in ("results.json", "gradebook.csv", "summary.md"):
        assert (tmp_path / "zip" / name).read_bytes() == (tmp_path / "files" / name).read_bytes()


def _zipfile_reference(path: Path, members: list[tuple[str, bytes]]) -> bytes:
    """What zipfile writes for stored members dated 1980-01-01 with mode rw-r--r-- made on Unix."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for name, data in members:
            info = zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0))
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            archive.writestr(info, data)
    return path.read_bytes()


@pytest.mark.parametrize("count", [0, 3, 70_000])
def test_zip_writer_gives_zipfiles_bytes(tmp_path: Path, count: int) -> None:
    """write_stored_zip writes exactly the bytes zipfile writes for the same members: names with
    non-ASCII letters, an empty member, and past 65,535 members the Zip64 records."""
    from gradegen.files import write_stored_zip

    members = [(f"f/{i}.md", str(i).encode()) for i in range(count)]
    if count:
        members += [("f/zoë.md", "ü".encode()), ("f/empty.md", b"")]
    write_stored_zip(tmp_path / "fast.zip", iter(members))
    assert (tmp_path / "fast.zip").read_bytes() == _zipfile_reference(tmp_path / "ref.zip", members)
    with zipfile.ZipFile(tmp_path / "fast.zip") as archive:
        assert archive.testzip() is None and len(archive.namelist()) == len(members)


def test_no_feedback(tmp_path: Path, mixed: GradingResults) -> None:
    """feedback="none" writes the other reports only (and the manifest, since issue 13); an
    unknown mode is refused."""
    write_reports(mixed, tmp_path / "out", feedback="none")
    names = {p.name for p in (tmp_path / "out").iterdir()}
    assert names == {"results.json", "gradebook.csv", "summary.md", ".gradegen.json"}
    with pytest.raises(Exception, match="--feedback"):
        write_reports(mixed, tmp_path / "bad", feedback="tar")


@pytest.mark.parametrize("parallel", [False, True])
def test_writer_failure_is_reported(
    tmp_path: Path, mixed: GradingResults, monkeypatch: pytest.MonkeyPatch, parallel: bool
) -> None:
    """An error while writing the feedback, in this process or the second one, reaches the caller
    as one line naming the output folder (changed by issue 13: it named no path, or the staging
    folder's), and nothing is left behind."""

    def broken(*_: object) -> None:
        raise OSError("disk full")

    if parallel:
        monkeypatch.setattr("gradegen.reports.write.PARALLEL_FROM", 1)
    monkeypatch.setattr("gradegen.reports.formats.write_stored_zip", broken)
    with pytest.raises(GradegenError, match=r"out: cannot write here: disk full"):
        write_reports(mixed, tmp_path / "out", feedback="zip")
    assert not list(tmp_path.iterdir())


def test_cli_modes_are_the_librarys() -> None:
    """The --feedback choices are the library's FeedbackMode, offered by `gradegen grade --help`
    (changed: the command line no longer keeps its own copy of the modes to compare)."""
    from typer.testing import CliRunner

    from gradegen.cli import app

    result = CliRunner().invoke(app, ["grade", "--help"])
    assert result.exit_code == 0
    assert all(mode.value in result.output for mode in FeedbackMode)


def test_plain_ids_take_the_fast_path(handout: Spec) -> None:
    """Ids with nothing to escape (the common case) still get the reference's leading backslash."""
    rng = random.Random(5)
    table = Submissions()
    for i, student in enumerate(["-a", "+b", "=c", "plain", "x.y-z"]):
        table.add_record(student, f"{i}.yaml", _answers(handout, rng), [])
    results = grade(handout, table)
    assert list(iter_feedback(results)) == [
        feedback_markdown(results, i).encode("utf-8") for i in range(len(results))
    ]


# --- per-student keys: every wrong item its own, written column by column ---------------------------


def _own_answers(variants: VariantSet, i: int, rng: random.Random) -> dict[str, object]:
    """Student i's answers from their own values: right (several forms), sign-flipped, ×10, tiny,
    huge, blank, unreadable (quotes, backslashes, non-ASCII), "1." style; sometimes a wrong a_h1
    carried into z_out (follow-through)."""
    out: dict[str, object] = {}
    for q in variants.asked:
        x = float(variants.hand[q][i])
        pick = rng.random()
        if pick < 0.35:
            out[q] = rng.choice([f"{x:.4g}", repr(x), x, f"{x:.3e}".replace("e", " × 10^"), f"{x:.10g}"])
        elif pick < 0.5:
            out[q] = rng.choice([f"{-x:.5g}", f"{-x:.10g}", f"+{x:.10g}"])
        elif pick < 0.62:
            out[q] = rng.choice([f"{10 * x:.5g}", f"{x / 100:.5g}", f"{x:.0f}.", "1.", "12e.5"])
        elif pick < 0.67:
            out[q] = rng.choice(["1e-07", "-3.5e-05", "0.00001", "1e+20", "-0", "0"])
        elif pick < 0.75:
            out[q] = ""
        elif pick < 0.82:
            out[q] = rng.choice(['say "0.5"', "a\\b", "zoë ½", "`x`", "1/0", "[1, 2]", "x" * 100, " 1 2 "])
        elif pick < 0.9:
            out[q] = round(x * (1 + rng.uniform(-0.3, 0.3)), 4)
    if rng.random() < 0.3:  # a wrong a_h1 carried forward: z_out follows from it
        spec = variants.spec_for(i)
        w5, w6 = spec.layers[1].weights[0]
        out["a_h1"] = 0.7
        out["z_out"] = w5 * 0.7 + w6 * float(variants.hand["a_h2"][i]) + float(variants.hand["b2"][i])
    return out


def _per_student(handout: Spec, n: int = 240) -> GradingResults:
    """A class on per-student keys: half with the handout's rules, half with their own tolerance
    and points for some items (so that those constants, too, are per student), odd ids, problems."""
    other = handout.model_copy(
        update={"tolerances": {"z_h1": Tolerance(mode="abs", value=0.01)}, "points": {"loss": 2.0}}
    )
    ids = [ODD_IDS[i] if i < len(ODD_IDS) else f"p{i:04d}" for i in range(n)]
    half = n // 2
    first, second = (
        make_variants(handout, ids[:half], seed="fast"),
        make_variants(other, ids[half:], seed="f"),
    )
    rng = random.Random(12)
    table = Submissions()
    keys = {}
    for variants in (first, second):
        for i, student in enumerate(variants.ids):
            answers = _own_answers(variants, i, rng)
            if i % 13 == 5:
                answers["no_such_id"] = "1"  # reported in the student's own errors
            table.add_record(student, f"{student}.yaml", answers, [])
            keys[student] = variants.key_for(i)
    return grade(KeySet(keys), table)


@pytest.fixture(scope="module")
def per_student() -> GradingResults:
    return _per_student(preset("handout"))


def test_per_student_data_covers_every_case(per_student: GradingResults) -> None:
    """The class really has a key per student, every verdict, many diagnoses, two structures and
    per-student constants beyond the expected value and interval."""
    data = results_data(per_student)
    verdicts = {item["verdict"] for s in data["students"] for item in s["items"].values()}
    assert verdicts == {"correct", "follow_through", "incorrect", "missing", "unparseable"}
    assert len({item["diagnosis"] for s in data["students"] for item in s["items"].values()}) >= 4
    assert len(per_student.groups) == 2 and per_student.student_errors
    assert all(np.unique(g.key_index).size == g.key_index.size for g in per_student.groups)
    own = {name for s in data["students"] for item in s["items"].values() for name in item}
    assert {"expected", "accepted", "max", "tolerance"} <= own


def test_per_student_results_json_equals_reference(per_student: GradingResults) -> None:
    """With a key per student each item is written out row by row, each column's floats in one
    orjson pass: the bytes of the reference built from the records, in any chunk size."""
    text = results_json(per_student)
    for chunk in (None, 1, 7, 5000):
        assert b"".join(iter_results_json(per_student, chunk)).decode("utf-8") == text
    assert json.loads(text) == results_data(per_student)


def test_per_student_feedback_equals_reference(per_student: GradingResults) -> None:
    """With a key per student each wrong item's block is written from its column's numbers at once
    (hand values, exact values, intervals, the working's parents): the bytes of feedback_markdown."""
    reference = [feedback_markdown(per_student, i).encode("utf-8") for i in range(len(per_student))]
    assert list(iter_feedback(per_student)) == reference


def test_one_group_of_per_student_keys(handout: Spec) -> None:
    """A version-2 class (one group, a key per student, rebuilt from givens) with CSV answers: both
    fast paths give the references' bytes."""
    variants = make_variants(handout, [f"v{i}" for i in range(150)], seed="one")
    rng = random.Random(4)
    table = Submissions()
    for i, student in enumerate(variants.ids):
        table.add_record(student, f"{student}.yaml", _own_answers(variants, i, rng), [])
    results = grade(ClassKeys.from_data(keys_document(variants)), table)
    assert len(results.groups) == 1
    assert b"".join(iter_results_json(results)).decode("utf-8") == results_json(results)
    assert list(iter_feedback(results)) == [
        feedback_markdown(results, i).encode("utf-8") for i in range(len(results))
    ]


def test_json_floats_are_reprs() -> None:
    """Floats written by orjson a column at once are repr's texts (null where not finite), across
    magnitudes where orjson's own form differs (below 1e-4, from 1e16), zeros and random bits."""
    rng = np.random.default_rng(5)
    bits = rng.integers(0, 2**63, 200_000, dtype=np.int64) * rng.choice([1, -1], 200_000)
    x = np.concatenate(
        [
            bits.view(np.float64),
            rng.uniform(-1, 1, 100_000) * 10.0 ** rng.integers(-12, 20, 100_000),
            np.round(rng.uniform(-1, 1, 50_000), 4),
            10.0 ** np.arange(-20, 21),
            [0.0, -0.0, np.nan, np.inf, -np.inf, 1e-4, 1e16, np.nextafter(1e-4, 0), np.nextafter(1e16, 0)],
        ]
    )
    assert _json_float_texts(x) == [repr(v) if np.isfinite(v) else "null" for v in x.tolist()]
    assert _json_float_texts(np.array([])) == []


_RAWS = [
    "0.0822", "-0.0822", "+0.5", ".5", "5.", "1.", "12.5e-3", "1e5", "-1e-05", "12e.5", "1.2.3", "--1",
    "e", ".", "-", "0", "1" * 80, "1" * 81, "", None, " 0.5", "0.5 ", "1,5", "½", "x", "1. 2", "2\n\n3",
    "`1`", "*", "10^-2", "1\n2", "١.٥",
]  # fmt: skip


@pytest.mark.parametrize("raw", _RAWS)
def test_shown_many_is_shown(raw: str | None) -> None:
    """A column of answers escaped at once reads as each escaped alone (the reference md_inline),
    among plain numbers (escaped together) or not."""
    assert shown_many([raw, "0.1", raw]) == [shown(raw), shown("0.1"), shown(raw)]
    plain = [r for r in _RAWS if r is None or (len(r) <= 80 and set(r) <= set("0123456789.eE+-"))]
    assert shown_many([*plain, raw]) == [shown(r) for r in [*plain, raw]]
    assert shown_many([]) == []


def test_intervals_and_numbers_at_once() -> None:
    """Intervals' ends, exact values and hand values written many at once are the texts each
    alone gets (the plain loop for intervals: 6 to 15 significant figures until the ends differ)."""

    def plain_interval(lo: float, hi: float) -> str:
        for digits in range(6, 16):
            a, b = f"{lo:.{digits}g}", f"{hi:.{digits}g}"
            if a != b:
                break
        return f"[{a}, {b}]".replace("-", "−")

    rng = np.random.default_rng(8)
    e = rng.uniform(-1, 1, 3000) * 10.0 ** rng.integers(-8, 4, 3000)
    lo = np.concatenate([e * 0.99, e, e, [np.nan, 1.0, -np.inf]])
    hi = np.concatenate([e * 1.01, e, np.nextafter(e, np.inf), [1.0, np.nan, 0.0]])
    a, b = _intervals(lo.tolist(), hi.tolist())
    assert [f"[{x}, {y}]" for x, y in zip(a, b, strict=True)] == [
        plain_interval(x, y) for x, y in zip(lo.tolist(), hi.tolist(), strict=True)
    ]
    values = [*e.tolist(), math.nan, math.inf, -0.0]
    assert _fmts(values, 10) == [f"{x:.10g}".replace("-", "−") if math.isfinite(x) else "—" for x in values]
    places = rng.integers(0, 16, len(values)).tolist()
    assert format_numbers(values, places) == [
        format_number(x, p) for x, p in zip(values, places, strict=True)
    ]


def test_hand_texts_are_values_text(per_student: GradingResults) -> None:
    """A group's hand values as written for many keys at once are Values.text's, node by node."""
    from gradegen.reports.feedback_pages import _HandTexts

    for group in per_student.groups:
        texts = _HandTexts(group.hand)
        keys = np.arange(group.hand.batch)[::-1].copy()
        for node in group.graph.ids:
            assert texts.of(node, keys) == [group.hand.text(node, k) for k in keys.tolist()]

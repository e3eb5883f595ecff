"""The `gradegen grade` command: a thin wrapper over grade() and write_reports()."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from gradegen.cli import app
from gradegen.core.spec import Spec
from gradegen.grading.keys import key_from_spec

runner = CliRunner()
HANDOUT = str(Path(__file__).resolve().parent.parent / "gradegen" / "presets" / "handout.yaml")


def _sheet(tmp_path: Path) -> Path:
    path = tmp_path / "ana.yaml"
    path.write_text("student: ana\nz_h1: 0.3775\ndL_dw5: −0.0822\n", "utf-8")
    return path


def test_help() -> None:
    """`gradegen grade --help` describes the command and its options."""
    result = runner.invoke(app, ["grade", "--help"])
    assert result.exit_code == 0
    for option in ("--out", "--json", "--rtol", "--atol", "--ecf-credit", "--feedback", "--quiet"):
        assert option in result.output


def test_grade_with_a_spec(tmp_path: Path) -> None:
    """A spec as KEY asks every quantity; reports are written (with the manifest, since issue 13)
    and a summary printed."""
    spec = tmp_path / "net.yaml"
    spec.write_text(Path(HANDOUT).read_text("utf-8"), "utf-8")
    out = tmp_path / "grades"
    result = runner.invoke(app, ["grade", str(spec), str(_sheet(tmp_path)), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "mean" in result.output
    assert {p.name for p in out.iterdir()} == {
        "results.json",
        "gradebook.csv",
        "summary.md",
        "feedback",
        ".gradegen.json",
    }


def test_grade_with_key_json_prints_json(tmp_path: Path, handout: Spec) -> None:
    """With a key.json and --json, results.json is printed on stdout, identical to the file."""
    key = tmp_path / "key.json"
    key.write_text(json.dumps(key_from_spec(handout).to_dict()), "utf-8")
    out = tmp_path / "grades"
    result = runner.invoke(app, ["grade", str(key), str(_sheet(tmp_path)), "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    assert result.output == (out / "results.json").read_text("utf-8")
    data = json.loads(result.output)
    assert data["students"][0]["items"]["dL_dw5"]["diagnosis"] == "sign_error"


def test_grade_with_keys_json(tmp_path: Path, handout: Spec) -> None:
    """A keys.json grades each student against their own key; an unknown student is reported."""
    other = handout.model_copy(update={"inputs": (0.10, 0.20)})  # z_h1 = 0.015 + 0.04 + 0.35 = 0.405
    keys = {
        "seed": 1,
        "keys": {"ana": key_from_spec(handout).to_dict(), "bo": key_from_spec(other).to_dict()},
    }
    path = tmp_path / "keys.json"
    path.write_text(json.dumps(keys), "utf-8")
    sheets = tmp_path / "sheets"
    sheets.mkdir()
    (sheets / "ana.yaml").write_text("student: ana\nz_h1: 0.3775\n", "utf-8")
    (sheets / "bo.yaml").write_text("student: bo\nz_h1: 0.405\n", "utf-8")
    (sheets / "zed.yaml").write_text("student: zed\nz_h1: 0.405\n", "utf-8")
    result = runner.invoke(app, ["grade", str(path), str(sheets), "--out", str(tmp_path / "o"), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [(s["student"], s["items"]["z_h1"]["verdict"]) for s in data["students"]] == [
        ("ana", "correct"),
        ("bo", "correct"),
    ]
    assert "zed" in data["errors"][0]["message"]


def test_options_reach_the_grader(tmp_path: Path, handout: Spec) -> None:
    """--rtol, --ecf-credit and --quiet are passed through."""
    key = tmp_path / "key.json"
    key.write_text(json.dumps(key_from_spec(handout).to_dict()), "utf-8")
    sheet = tmp_path / "s.yaml"
    sheet.write_text("student: s\ndL_dw5: 0.09\n", "utf-8")
    result = runner.invoke(app, ["grade", str(key), str(sheet), "--out", str(tmp_path / "o"), "--quiet"])
    assert result.exit_code == 0 and result.output == ""
    data = json.loads((tmp_path / "o" / "results.json").read_text("utf-8"))
    assert data["students"][0]["items"]["dL_dw5"]["verdict"] == "incorrect"
    result = runner.invoke(
        app, ["grade", str(key), str(sheet), "--out", str(tmp_path / "o"), "--rtol", "0.1", "--quiet"]
    )
    data = json.loads((tmp_path / "o" / "results.json").read_text("utf-8"))
    assert data["students"][0]["items"]["dL_dw5"]["verdict"] == "correct"


def test_broken_submissions_still_exit_0(tmp_path: Path) -> None:
    """Broken submissions are reported, and grading still succeeds."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("student: [\n", "utf-8")
    result = runner.invoke(
        app,
        [
            "grade",
            HANDOUT,
            str(bad),
            str(_sheet(tmp_path)),
            "--out",
            str(tmp_path / "o"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "bad.yaml" in result.output


def test_unusable_key_exits_2(tmp_path: Path) -> None:
    """An unusable key is one line on stderr and exit code 2, without a traceback."""
    key = tmp_path / "key.json"
    key.write_text('{"asked": [], "values": {}}', "utf-8")
    result = runner.invoke(app, ["grade", str(key), str(_sheet(tmp_path)), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "error:" in result.output and "Traceback" not in result.output
    missing = runner.invoke(app, ["grade", str(tmp_path / "nope.json"), str(_sheet(tmp_path))])
    assert missing.exit_code == 2 and "no such key file" in missing.output


def test_bad_option_exits_2(tmp_path: Path) -> None:
    """A negative tolerance or a credit above 1 is refused with exit code 2."""
    for args in (["--rtol", "-1"], ["--ecf-credit", "1.5"]):
        result = runner.invoke(
            app,
            [
                "grade",
                HANDOUT,
                str(_sheet(tmp_path)),
                "--out",
                str(tmp_path / "o"),
                *args,
            ],
        )
        assert result.exit_code == 2, result.output
        assert "error:" in result.output


def test_feedback_zip_and_none(tmp_path: Path) -> None:
    """--feedback zip writes feedback.zip instead of the folder; none writes no feedback; others fail.
    (Since issue 13 each folder also holds the manifest.)"""
    import zipfile

    sheet = str(_sheet(tmp_path))
    result = runner.invoke(app, ["grade", HANDOUT, sheet, "--out", str(tmp_path / "z"), "--feedback", "zip"])
    assert result.exit_code == 0, result.output
    assert {p.name for p in (tmp_path / "z").iterdir()} == {
        "results.json",
        "gradebook.csv",
        "summary.md",
        "feedback.zip",
        ".gradegen.json",
    }
    with zipfile.ZipFile(tmp_path / "z" / "feedback.zip") as archive:
        assert archive.namelist() == ["feedback/ana.md"]
    result = runner.invoke(app, ["grade", HANDOUT, sheet, "--out", str(tmp_path / "n"), "--feedback", "none"])
    assert result.exit_code == 0, result.output
    names = {p.name for p in (tmp_path / "n").iterdir()}
    assert names == {"results.json", "gradebook.csv", "summary.md", ".gradegen.json"}
    result = runner.invoke(app, ["grade", HANDOUT, sheet, "--out", str(tmp_path / "t"), "--feedback", "tar"])
    assert result.exit_code == 2


def test_the_worksheets_forms_and_typed_student_ids_are_graded(tmp_path: Path) -> None:
    """Issue 11: `student: 0123` is graded as 0123 (not YAML's octal 83) and `student: no` as no
    (not false); the answers in each form the worksheet asks (6.70e-4, 6.70 × 10^-4, 6.70 × 10⁻⁴
    for ∂L/∂w1 = 0.0134 × 0.05 = 0.00067; the step 0.0001 × 0.1385 = 1.385 × 10⁻⁵) are right."""
    docs = tmp_path / "docs"
    assert runner.invoke(app, ["generate", "--out", str(docs)]).exit_code == 0
    sheets = tmp_path / "sheets"
    sheets.mkdir()
    (sheets / "a.yaml").write_text(
        "student: 0123\ndL_dw1: 6.70e-4\ndL_dw2: 1.34 × 10^-3\nstep_b2: 1.385 × 10⁻⁵\n", "utf-8"
    )
    (sheets / "b.yaml").write_text("student: no\ndL_dw1: 6.70 × 10⁻⁴\nstep_w1: 6.70e-8\n", "utf-8")
    result = runner.invoke(app, ["grade", str(docs / "key.json"), str(sheets), "--json", "--quiet",
                                 "--out", str(tmp_path / "grades")])  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["errors"] == []
    students = {s["student"]: s for s in data["students"]}
    assert set(students) == {"0123", "no"}
    for student, answered in (("0123", ["dL_dw1", "dL_dw2", "step_b2"]), ("no", ["dL_dw1", "step_w1"])):
        items = students[student]["items"]
        assert [q for q in answered if items[q]["verdict"] == "correct"] == answered
        assert students[student]["score"] == len(answered)

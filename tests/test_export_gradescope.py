"""The Gradescope autograder bundle, run as Gradescope runs it, against a simulated /autograder.

What Gradescope expects is its autograder specification
(https://gradescope-autograders.readthedocs.io/en/latest/specs/): the zip holds ``setup.sh`` and
``run_autograder`` at its root; the harness unpacks it into ``/autograder/source``, puts the upload
in ``/autograder/submission`` and ``/autograder/submission_metadata.json`` (its ``users``, each with
``email``, ``id``, ``name``, ``sid``: .../submission_metadata/), runs ``run_autograder`` in
``/autograder`` and reads ``/autograder/results/results.json``: ``score`` (the total, optional when
every test has one), ``output``, ``output_format``, ``visibility``… and ``tests``, each with
``score``, ``max_score``, ``status`` (``passed``/``failed``), ``name``, ``number``, ``output``,
``output_format`` (``text``, ``html``, ``simple_format``, ``md``, ``ansi``), ``tags``,
``visibility`` (``hidden``, ``after_due_date``, ``after_published``, ``visible``), ``extra_data``.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from gradegen.core.spec import preset
from gradegen.exports.gradescope import build_wheel, export_gradescope
from gradegen.presets import Preset
from gradegen.variants.draw import keys_json, make_variants

TOP_FIELDS = {
    "score", "execution_time", "output", "output_format", "test_output_format", "test_name_format",
    "visibility", "stdout_visibility", "extra_data", "tests", "leaderboard",
}  # fmt: skip
TEST_FIELDS = {
    "score", "max_score", "status", "name", "name_format", "number", "output", "output_format",
    "tags", "visibility", "extra_data",
}  # fmt: skip
FORMATS = {"text", "html", "simple_format", "md", "ansi"}
VISIBILITIES = {"hidden", "after_due_date", "after_published", "visible"}
ASKED = ("z_h1", "a_h1", "z_out")
STUDENTS = ("ana@example.edu", "ben@example.edu")


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """gradegen's wheel, built once for the session from this checkout (the suite may run against
    an installed gradegen, as CI's does)."""
    return build_wheel(tmp_path_factory.mktemp("wheel"), Path(__file__).resolve().parent.parent)


@pytest.fixture(scope="session")
def bundle(tmp_path_factory: pytest.TempPathFactory, wheel: Path) -> tuple[Path, dict[str, list[float]]]:
    """An autograder zip for two students (their emails are their ids), three questions asked."""
    folder = tmp_path_factory.mktemp("bundle")
    variants = make_variants(preset(Preset.HANDOUT), STUDENTS, seed="gs", asked=ASKED)
    keys = folder / "keys.json"
    keys.write_text(keys_json(variants), encoding="utf-8")
    out = export_gradescope(keys, folder / "autograder.zip", wheel=wheel)
    return out, json.loads(keys.read_text())["students"]


def _run(
    tmp_path: Path, bundle: Path, answers: tuple[str, str] | None, users: list[dict[str, Any]]
) -> dict[str, Any]:
    """Lay out /autograder as the harness does, install the bundle's wheel where its python finds
    it, run run_autograder from /autograder, and read results/results.json."""
    root = tmp_path / "autograder"
    (root / "source").mkdir(parents=True)
    with zipfile.ZipFile(bundle) as z:
        z.extractall(root / "source")
    (root / "submission").mkdir()
    if answers is not None:
        (root / "submission" / answers[0]).write_text(answers[1], encoding="utf-8")
    metadata = {"id": 1, "created_at": "2026-12-01T10:00:00.0-08:00", "assignment": {"title": "Week 3"}}
    (root / "submission_metadata.json").write_text(json.dumps({**metadata, "users": users}))
    (root / "results").mkdir()
    site = _installed(root / "source")
    env = {**os.environ, "GRADESCOPE_ROOT": str(root), "GRADEGEN_PYTHON": sys.executable}
    env["PYTHONPATH"] = str(site)
    done = subprocess.run(
        ["bash", str(root / "source" / "run_autograder")], cwd=root, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    data: dict[str, Any] = json.loads((root / "results" / "results.json").read_text("utf-8"))
    _check_spec(data)
    return data


_SITES: dict[bytes, Path] = {}


def _installed(source: Path) -> Path:
    """The bundle's wheel installed (``pip install --target``) once per session, where
    run_autograder's python is pointed (PYTHONPATH)."""
    wheel = next(source.glob("*.whl"))
    data = wheel.read_bytes()
    if data not in _SITES:
        site = source.parent.parent / "site"
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(wheel)],
            check=True, capture_output=True,
        )  # fmt: skip
        _SITES[data] = site
    return _SITES[data]


def _check_spec(data: dict[str, Any]) -> None:
    """Field by field against Gradescope's results.json specification."""
    assert set(data) <= TOP_FIELDS
    assert isinstance(data["score"], float | int)
    assert isinstance(data["output"], str) and data.get("output_format", "text") in FORMATS
    for test in data["tests"]:
        assert set(test) <= TEST_FIELDS
        assert isinstance(test["score"], float | int) and isinstance(test["max_score"], float | int)
        assert 0 <= test["score"] <= test["max_score"]
        assert test["status"] in ("passed", "failed")
        assert test["status"] == ("passed" if test["score"] == test["max_score"] else "failed")
        assert isinstance(test["name"], str) and isinstance(test["number"], str)
        assert isinstance(test["output"], str) and test["output_format"] in FORMATS
        assert test["visibility"] in VISIBILITIES
    if data["tests"]:
        assert math.isclose(data["score"], sum(t["score"] for t in data["tests"]))


def _values(givens: list[float]) -> dict[str, float]:
    """The handout network's forward values from a student's givens, by hand (4 decimal places,
    each rounded before use): z_h1 = w1·x1 + w2·x2 + b1, a = σ(z), z_out = w5·a_h1 + w6·a_h2 + b2."""
    x1, x2, _, w1, w2, w3, w4, w5, w6, b1, b2, _ = givens

    def sigma(z: float) -> float:
        return 1 / (1 + math.exp(-z))

    z1 = round(w1 * x1 + w2 * x2 + b1, 4)
    z2 = round(w3 * x1 + w4 * x2 + b1, 4)
    a1, a2 = round(sigma(z1), 4), round(sigma(z2), 4)
    return {"z_h1": z1, "a_h1": a1, "z_out": round(w5 * a1 + w6 * a2 + b2, 4)}


def test_bundle_has_gradescopes_files_at_its_root(bundle: tuple[Path, Any]) -> None:
    """setup.sh and run_autograder at the zip's root (executable), the keys, the wheel setup.sh installs."""
    with zipfile.ZipFile(bundle[0]) as z:
        names = z.namelist()
        assert names[:3] == ["setup.sh", "run_autograder", "keys.json"]
        wheel_name = names[3]
        assert wheel_name.startswith("gradegen-") and wheel_name.endswith(".whl")
        for name in ("setup.sh", "run_autograder"):
            assert (z.getinfo(name).external_attr >> 16) & 0o111
        assert f"/autograder/source/{wheel_name}" in z.read("setup.sh").decode()


def test_right_submission_scores_everything(tmp_path: Path, bundle: tuple[Path, Any]) -> None:
    """Ana's own hand-worked values (found by her email) score 3 of 3, each test passed."""
    values = _values(bundle[1]["ana@example.edu"])
    users = [{"email": "ana@example.edu", "id": 101, "name": "Ana Alves", "sid": "A1"}]
    data = _run(tmp_path, bundle[0], ("answers.yaml", yaml.safe_dump(values)), users)
    assert data["score"] == 3
    assert [t["name"].split(":")[0] for t in data["tests"]] == list(ASKED)
    assert all(t["status"] == "passed" and t["output"] == "Correct." for t in data["tests"])


def test_partly_right_submission_names_follow_through_and_the_mistake(
    tmp_path: Path, bundle: tuple[Path, Any]
) -> None:
    """Ben (found by his email among a group's users) gives −z_h1, σ(−z_h1) for a_h1 and the right
    z_out, in the HTML worksheet's JSON download: the first fails naming the sign error, the second
    earns its point by follow-through, the third passes; 2 of 3."""
    values = _values(bundle[1]["ben@example.edu"])
    wrong = -values["z_h1"]
    answers = {"z_h1": wrong, "a_h1": round(1 / (1 + math.exp(-wrong)), 4), "z_out": values["z_out"]}
    users = [{"email": "stranger@example.edu", "id": 7, "name": "X"}, {"email": "ben@example.edu", "id": 102}]
    data = _run(tmp_path, bundle[0], ("answers-ben.json", json.dumps(answers)), users)
    z_h1, a_h1, z_out = data["tests"]
    assert (z_h1["score"], z_h1["status"]) == (0.0, "failed")
    assert (
        "sign_error" in z_h1["output"] and "The magnitude is right but the sign is wrong." in z_h1["output"]
    )
    assert (a_h1["score"], a_h1["status"]) == (1.0, "passed") and "follows correctly" in a_h1["output"]
    assert z_out["score"] == 1.0
    assert data["score"] == 2


def test_broken_submission_scores_zero_and_says_why(tmp_path: Path, bundle: tuple[Path, Any]) -> None:
    """An answers.yaml that is not YAML: score 0, every question listed at 0 of its points, and the
    top-level output names the problem."""
    users = [{"email": "ana@example.edu", "id": 101}]
    data = _run(tmp_path, bundle[0], ("answers.yaml", "z_h1: [1, 2\n: :"), users)
    assert data["score"] == 0
    assert "could not be read" in data["output"]
    assert [(t["score"], t["max_score"]) for t in data["tests"]] == [(0.0, 1.0)] * 3


def test_unknown_submitter_and_missing_file(tmp_path: Path, bundle: tuple[Path, Any]) -> None:
    """A submitter without a key, or a submission without an answers file, scores 0 with a reason."""
    stranger = _run(tmp_path / "a", bundle[0], ("answers.yaml", "z_h1: 1\n"), [{"email": "x@example.edu"}])
    assert stranger["score"] == 0 and "no answer key for x@example.edu" in stranger["output"]
    empty = _run(tmp_path / "b", bundle[0], None, [{"email": "ana@example.edu"}])
    assert empty["score"] == 0 and "No answers file" in empty["output"]


def test_cli_writes_the_bundle_and_refuses_to_overwrite(tmp_path: Path, wheel: Path) -> None:
    """``export gradescope KEYS --out zip --wheel W`` writes the zip; a second run without --force
    is one line on stderr and exit code 2; a file that is not a class's keys is refused the same way."""
    from typer.testing import CliRunner

    from gradegen.cli import app

    keys = tmp_path / "keys.json"
    keys.write_text(keys_json(make_variants(preset(Preset.HANDOUT), STUDENTS, seed="gs")), encoding="utf-8")
    args = ["export", "gradescope", str(keys), "--out", str(tmp_path / "ag.zip"), "--wheel", str(wheel)]
    runner = CliRunner()
    assert runner.invoke(app, args).exit_code == 0
    assert zipfile.ZipFile(tmp_path / "ag.zip").namelist()[:2] == ["setup.sh", "run_autograder"]
    again = runner.invoke(app, args)
    assert again.exit_code == 2 and "--force" in again.output
    (tmp_path / "spec.json").write_text("{}")
    bad = runner.invoke(
        app, ["export", "gradescope", str(tmp_path / "spec.json"), "--out", str(tmp_path / "x.zip")]
    )
    assert bad.exit_code == 2

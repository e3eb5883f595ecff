"""A Gradescope autograder: a bundle that grades each submission against the submitter's own key.

The zip holds what Gradescope's autograder specification asks for at its root (``setup.sh``,
``run_autograder``) plus the class's ``keys.json`` and gradegen itself as a wheel, which
``setup.sh`` installs. ``run_autograder`` runs :func:`run_autograder` in the autograder's root
(``/autograder``; ``GRADESCOPE_ROOT`` points it elsewhere, for a local test): it finds the
submitter's key by the email, student id or user id in ``submission_metadata.json``, grades the
answers file in ``submission/`` and writes ``results/results.json`` — one test per question with its
score, max score and feedback (follow-through and the mistake named), and the total. Format:
https://gradescope-autograders.readthedocs.io/en/latest/specs/ and
https://gradescope-autograders.readthedocs.io/en/latest/submission_metadata/.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gradegen.core.classkeys import ClassKeys, KeySet, load_keys
from gradegen.core.network import build_graph
from gradegen.errors import GradegenError
from gradegen.files import write_bytes_atomic, write_text_atomic, zip_bytes
from gradegen.grading.grade import grade
from gradegen.grading.keys import has_key
from gradegen.grading.results import Verdict
from gradegen.grading.submissions import Submissions, read_answers_as
from gradegen.reports.feedback import follow_line, review_item

KEYS = "keys.json"

ANSWER_FILES = ("answers.yaml", "answers.yml", "answers.json", "answers-*.json", "*.yaml", "*.yml", "*.json")
"""Where a submission's answers are looked for, in order: the answer sheet (answers.yaml), then the
JSON the HTML worksheet downloads (``answers-<student>.json``), then any YAML or JSON file."""

SETUP = """#!/usr/bin/env bash
# Gradescope runs this once, when it builds the autograder's image: install gradegen (its wheel is
# in this bundle; its dependencies come from PyPI).
set -euo pipefail
apt-get update -q && apt-get install -y -q python3 python3-pip
python3 -m pip install --break-system-packages /autograder/source/{wheel} \\
  || python3 -m pip install /autograder/source/{wheel}
"""

RUN = """#!/usr/bin/env bash
# Gradescope runs this for every submission, in /autograder; GRADESCOPE_ROOT points it at another
# folder laid out the same way (source/, submission/, submission_metadata.json, results/).
root="${GRADESCOPE_ROOT:-/autograder}"
exec "${GRADEGEN_PYTHON:-python3}" -m gradegen.exports.gradescope "$root"
"""


def build_wheel(into: Path, checkout: Path | None = None) -> Path:
    """Build gradegen's wheel (``pip wheel --no-deps``) from ``checkout``, by default the one it
    runs from, dated by SOURCE_DATE_EPOCH so that the same source gives the same bytes."""
    root = checkout if checkout is not None else Path(__file__).resolve().parents[2]
    if not (root / "pyproject.toml").is_file():
        raise GradegenError("gradegen is not running from a checkout; give --wheel (gradegen's wheel file)")
    env = {**os.environ, "SOURCE_DATE_EPOCH": "315532800"}
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q"]
    command += ["-w", str(into), str(root)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    wheels = sorted(into.glob("gradegen-*.whl"))
    if done.returncode != 0 or not wheels:
        raise GradegenError(f"building gradegen's wheel failed: {done.stderr.strip().splitlines()[-1:]}")
    return wheels[-1]


def export_gradescope(
    keys: str | Path, out: str | Path, *, wheel: str | Path | None = None, force: bool = False
) -> Path:
    """Write the autograder zip ``out`` for a class's ``keys`` (a keys.json), with gradegen's
    ``wheel`` (built from the checkout when not given); an existing file is replaced only with ``force``."""
    keys_path, target = Path(keys), Path(out)
    load_keys(keys_path)  # refused here, not on Gradescope, if it is not a class's keys
    if target.exists() and not force:
        raise GradegenError(f"{target}: already exists; pass --force to replace it")
    with tempfile.TemporaryDirectory() as scratch:
        wheel_path = Path(wheel) if wheel is not None else build_wheel(Path(scratch))
        if not wheel_path.is_file() or wheel_path.suffix != ".whl":
            raise GradegenError(f"--wheel: {wheel_path} is not a wheel file")
        members = [
            ("setup.sh", SETUP.format(wheel=wheel_path.name).encode(), 0o755),
            ("run_autograder", RUN.encode(), 0o755),
            (KEYS, keys_path.read_bytes(), 0o644),
            (wheel_path.name, wheel_path.read_bytes(), 0o644),
        ]
        write_bytes_atomic(target, zip_bytes(members))
    return target


# --- on Gradescope ------------------------------------------------------------------------------


def submitter_ids(metadata: Any) -> list[str]:
    """Who submitted, as ids a key may be filed under: each user's email, student id (``sid``) and
    Gradescope user id, in that order."""
    users = metadata.get("users") if isinstance(metadata, dict) else None
    found: list[str] = []
    for user in users if isinstance(users, list) else []:
        if isinstance(user, dict):
            for field in ("email", "sid", "id"):
                value = user.get(field)
                if isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip():
                    found.append(str(value).strip())
    return found


def answers_file(submission: Path) -> Path | None:
    """The submission's answers file: the first of :data:`ANSWER_FILES` found in the folder."""
    for pattern in ANSWER_FILES:
        found = sorted(p for p in submission.glob(pattern) if p.is_file())
        if found:
            return found[0]
    return None


def results_for(root: Path) -> dict[str, Any]:
    """The results.json object for the submission in ``root`` (never raises on a bad submission)."""
    keys = load_keys(root / "source" / KEYS)
    try:
        metadata = json.loads((root / "submission_metadata.json").read_text("utf-8"))
    except (OSError, ValueError):
        metadata = {}
    ids = submitter_ids(metadata)
    student = next((s for s in ids if has_key(keys, s)), None)
    if student is None:
        shown = ", ".join(ids) or "no one"
        return _failed(f"There is no answer key for {shown}: ask your instructor to check the class list.")
    found = answers_file(root / "submission")
    if found is None:
        return _failed("No answers file was found: upload your answers.yaml (or the worksheet's JSON).")
    table = read_answers_as(found, student)
    if not len(table):
        return _failed(f"Your answers file could not be read: {table.errors[0].message}", keys, student)
    return _graded(keys, table, found.name)


def _failed(
    message: str, keys: ClassKeys | KeySet | None = None, student: str | None = None
) -> dict[str, Any]:
    """A submission that could not be graded: score 0, and each question at 0 when the key is known."""
    tests = []
    if keys is not None and student is not None:
        key = keys.key_for(student)
        graph = build_graph(key.spec)
        tests = [
            _test(k, q, f"{q}: {graph[q].meaning}", 0.0, key.values[q].points, "Not graded.")
            for k, q in enumerate(key.asked, start=1)
        ]
    return {"score": 0.0, "output": message, "output_format": "md", "tests": tests}


def _test(number: int, q: str, name: str, score: float, max_score: float, output: str) -> dict[str, Any]:
    return {
        "name": name,
        "number": str(number),
        "score": score,
        "max_score": max_score,
        "status": "passed" if score >= max_score else "failed",
        "output": output,
        "output_format": "md",
        "visibility": "visible",
    }


def _graded(keys: ClassKeys | KeySet, table: Submissions, file: str) -> dict[str, Any]:
    results = grade(keys, table)
    record = results.student(0)
    group, row = results.locate(0)
    k = int(group.key_index[row])
    tests = []
    for number, (q, item) in enumerate(record.items.items(), start=1):
        node = group.graph[q]
        if item.verdict is Verdict.CORRECT:
            text = "Correct."
        elif item.verdict is Verdict.FOLLOW_THROUGH:
            share = item.points / item.max_points if item.max_points else 0.0
            text = follow_line(q, node.label, item.raw, group.hand.text(q, k), item.follow, share).strip()
            text = text.removeprefix("- ")
        else:
            text = review_item(group, k, q, item).strip()
        tests.append(_test(number, q, f"{q}: {node.meaning}", item.points, item.max_points, text))
    notes = [f"Graded {file} against your own numbers: {record.score:g} of {record.max:g} points."]
    notes += [f"- {e}" for e in record.errors]
    return {"score": record.score, "output": "\n".join(notes), "output_format": "md", "tests": tests}


def run_autograder(root: str | Path) -> Path:
    """Grade the submission in ``root`` (Gradescope's /autograder layout) into results/results.json."""
    root = Path(root)
    try:
        data = results_for(root)
    except GradegenError as exc:  # the bundle's own keys are broken: say so, score nothing
        data = _failed(f"The autograder could not run: {exc}")
    target = root / "results" / "results.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(target, json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n")
    return target


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m gradegen.exports.gradescope ROOT``: what run_autograder runs."""
    args = list(sys.argv[1:] if argv is None else argv)
    run_autograder(args[0] if args else "/autograder")


if __name__ == "__main__":
    main()

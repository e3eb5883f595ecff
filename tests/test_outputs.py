"""Output folders: nothing an instructor owns is destroyed (refused without --force, kept with it),
earlier output folders are replaced, and gradegen never grades its own reports. Staging, kills
and Ctrl-C are in test_outputs_staging.py."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from gradegen.cli import app
from gradegen.core.spec import Spec, preset
from gradegen.documents.generate import generate, generate_class
from gradegen.errors import GradegenError
from gradegen.grading.grade import grade
from gradegen.grading.submissions import Submissions, expand
from gradegen.outputs import MANIFEST, Layout, Output, read_manifest
from gradegen.reports.write import write_reports
from gradegen.variants.roster import Roster

runner = CliRunner()
ROOT = Path(__file__).resolve().parent.parent

Writer = Callable[[Path, bool], object]


def _results(spec: Spec, students: list[str]) -> object:
    table = Submissions()
    for student in students:
        table.add_record(student, f"{student}.yaml", {"z_h1": 0.3775}, [])
    return grade(spec, table)


def _documents(out: Path, force: bool) -> object:
    return generate(preset("handout"), out, force=force)


def _class(out: Path, force: bool) -> object:
    return generate_class(preset("handout"), Roster.anonymous(3), out, seed="s", force=force)


def _grades(out: Path, force: bool) -> object:
    return write_reports(_results(preset("handout"), ["ana", "bo"]), out, force=force)  # type: ignore[arg-type]


WRITERS: dict[str, Writer] = {"documents": _documents, "class": _class, "grades": _grades}


def _files(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` by relative path (an independent view: no manifest involved)."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def _course(tmp_path: Path) -> Path:
    """An instructor's folder: their own files, one of them hidden, one in a subfolder."""
    course = tmp_path / "course"
    (course / "lectures").mkdir(parents=True)
    (course / "lecture.tex").write_text("precious\n", "utf-8")
    (course / ".git").write_text("gitdir: elsewhere\n", "utf-8")
    (course / "lectures" / "week1.md").write_text("notes\n", "utf-8")
    return course


@pytest.mark.parametrize("kind", WRITERS)
def test_a_folder_gradegen_did_not_write_is_refused(tmp_path: Path, kind: str) -> None:
    """Each kind of run refuses a non-empty folder it did not write, naming it, and changes nothing."""
    course = _course(tmp_path)
    before = _files(course)
    with pytest.raises(GradegenError, match=rf"--out: {course} has other files in it and is not an earlier"):
        WRITERS[kind](course, False)
    assert _files(course) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["course"]  # no staging folder left


@pytest.mark.parametrize("kind", WRITERS)
def test_force_replaces_only_gradegens_files(tmp_path: Path, kind: str) -> None:
    """With force, gradegen's files are written into the folder and everything else stays byte for
    byte; a second forced run replaces its own files again and still keeps the rest."""
    course = _course(tmp_path)
    before = _files(course)
    WRITERS[kind](course, True)
    WRITERS[kind](course, True)
    fresh = tmp_path / "fresh"
    WRITERS[kind](fresh, False)
    after = _files(course)
    for name, data in before.items():
        assert after.pop(name) == data
    assert after == _files(fresh)  # exactly what the run writes into a new folder


@pytest.mark.parametrize("kind", WRITERS)
@pytest.mark.parametrize("force", [False, True])
def test_an_existing_file_is_never_replaced_by_a_folder(tmp_path: Path, kind: str, force: bool) -> None:
    """--out naming a file (or a link to one, or a broken link) is refused, with or without force."""
    notes = tmp_path / "notes.txt"
    notes.write_text("mine\n", "utf-8")
    (tmp_path / "link").symlink_to(notes)
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    for target in ("notes.txt", "link", "dangling"):
        with pytest.raises(GradegenError, match="exists and is not a folder"):
            WRITERS[kind](tmp_path / target, force)
    assert notes.read_text("utf-8") == "mine\n"
    assert not (tmp_path / "nowhere").exists()


def test_the_command_line_refuses_and_forces(tmp_path: Path) -> None:
    """`generate --out course` (also with --variants 3) and `grade --out course` exit 2 with one line
    and keep lecture.tex; with --force they succeed and keep it too."""
    course = _course(tmp_path)
    sheet = tmp_path / "ana.yaml"
    sheet.write_text("student: ana\nz_h1: 0.3775\n", "utf-8")
    handout = str(ROOT / "gradegen" / "presets" / "handout.yaml")
    commands = [
        ["generate", "--out", str(course)],
        ["generate", "--variants", "3", "--out", str(course), "--quiet"],
        ["grade", handout, str(sheet), "--out", str(course), "--quiet"],
    ]
    for command in commands:
        result = runner.invoke(app, command)
        assert result.exit_code == 2, result.output
        assert result.stderr.count("\n") == 1 and str(course) in result.stderr and "--force" in result.stderr
    for command in commands:
        result = runner.invoke(app, [*command, "--force"])
        assert result.exit_code == 0, result.output
        assert (course / "lecture.tex").read_text("utf-8") == "precious\n"
    (tmp_path / "notes.txt").write_text("x", "utf-8")
    result = runner.invoke(app, ["generate", "--out", str(tmp_path / "notes.txt"), "--force"])
    assert result.exit_code == 2 and "exists and is not a folder" in result.stderr


@pytest.mark.parametrize("kind", WRITERS)
def test_an_earlier_folder_of_the_kind_is_replaced_and_the_instructors_additions_stay(
    tmp_path: Path, kind: str
) -> None:
    """An earlier output folder is replaced without --force; files the instructor added to it,
    at the top or inside one of gradegen's folders, stay."""
    out = tmp_path / "out"
    WRITERS[kind](out, False)
    (out / "marks.xlsx").write_bytes(b"PK\x03\x04 mine")
    inner = next((p for p in sorted(out.iterdir()) if p.is_dir()), None)
    if inner is not None:
        (inner / "graded.pdf").write_bytes(b"%PDF mine")
    WRITERS[kind](out, False)
    assert (out / "marks.xlsx").read_bytes() == b"PK\x03\x04 mine"
    if inner is not None:
        assert (inner / "graded.pdf").read_bytes() == b"%PDF mine"
    fresh = tmp_path / "fresh"
    WRITERS[kind](fresh, False)
    mine = {"marks.xlsx"} | ({f"{inner.name}/graded.pdf"} if inner is not None else set())
    assert {k: v for k, v in _files(out).items() if k not in mine} == _files(fresh)


def test_stale_files_of_gradegens_own_go(tmp_path: Path, handout: Spec) -> None:
    """A student who left the roster loses their folder on the next full run (it was gradegen's),
    as do feedback files of students no longer graded."""
    generate_class(handout, Roster.anonymous(3), tmp_path / "cls", seed="s")
    generate_class(handout, Roster.anonymous(2), tmp_path / "cls", seed="s")
    assert sorted(p.name for p in (tmp_path / "cls").iterdir()) == [
        MANIFEST, "keys.json", "keys.md", "keys.tex", "v001", "v002",
    ]  # fmt: skip
    write_reports(_results(handout, ["ana", "bo"]), tmp_path / "g")  # type: ignore[arg-type]
    write_reports(_results(handout, ["ana"]), tmp_path / "g")  # type: ignore[arg-type]
    assert sorted(p.name for p in (tmp_path / "g" / "feedback").iterdir()) == ["ana.md"]


@pytest.mark.parametrize(
    ("first", "second"), [("documents", "class"), ("class", "grades"), ("grades", "documents")]
)
def test_a_folder_of_another_kind_needs_force(tmp_path: Path, first: str, second: str) -> None:
    """An earlier folder of another kind is refused, naming its kind; forced, its gradegen files are
    replaced by the new kind's (they were gradegen's own) and the instructor's stay."""
    out = tmp_path / "out"
    WRITERS[first](out, False)
    (out / "mine.txt").write_text("mine", "utf-8")
    with pytest.raises(GradegenError, match=f"is an earlier gradegen {first} folder, not a {second} folder"):
        WRITERS[second](out, False)
    WRITERS[second](out, True)
    fresh = tmp_path / "fresh"
    WRITERS[second](fresh, False)
    after = _files(out)
    assert after.pop("mine.txt") == b"mine"
    assert after == _files(fresh)


@pytest.mark.parametrize(
    ("kind", "marker", "kept"),
    [("documents", "key.json", "solution.md"), ("class", "keys.json", "v001/worksheet.md"),
     ("grades", "results.json", "feedback/ana.md")],
)  # fmt: skip
def test_folders_from_before_the_manifest(tmp_path: Path, kind: str, marker: str, kept: str) -> None:
    """A folder an earlier version wrote (no manifest, the kind's marker file) is replaced without
    force: gradegen's file names are replaced, other files stay, and it gets a manifest."""
    out = tmp_path / "out"
    WRITERS[kind](out, False)
    (out / MANIFEST).unlink()
    (out / kept).write_text("old gradegen text", "utf-8")
    (out / "notes.txt").write_text("mine", "utf-8")
    (out / kept).parent.joinpath("extra.txt").write_text("mine too", "utf-8")
    WRITERS[kind](out, False)
    assert (out / marker).is_file() and read_manifest(out) is not None
    assert (out / kept).read_text("utf-8") != "old gradegen text"
    assert (out / "notes.txt").read_text("utf-8") == "mine"
    assert (out / kept).parent.joinpath("extra.txt").read_text("utf-8") == "mine too"


def test_a_manifest_cannot_claim_files_outside_or_be_faked(tmp_path: Path) -> None:
    """A manifest naming ../ paths, or not gradegen's format, is no manifest: the folder is refused,
    and forced, the file outside it is not touched."""
    (tmp_path / "victim").write_text("mine", "utf-8")
    for manifest in (
        "not json",
        {"format": "other", "kind": "documents", "files": [], "folders": []},
        {
            "format": "gradegen-output",
            "version": 1,
            "kind": "documents",
            "files": ["../victim"],
            "folders": [],
        },
    ):
        out = tmp_path / "out"
        out.mkdir(exist_ok=True)
        (out / MANIFEST).write_text(manifest if isinstance(manifest, str) else json.dumps(manifest), "utf-8")
        (out / "lecture.tex").write_text("mine", "utf-8")
        assert read_manifest(out) is None
        with pytest.raises(GradegenError, match="has other files in it"):
            _documents(out, False)
    _documents(tmp_path / "out", True)
    assert (tmp_path / "victim").read_text("utf-8") == "mine"
    assert (tmp_path / "out" / "lecture.tex").read_text("utf-8") == "mine"


def test_a_file_where_gradegen_would_write_is_not_replaced_without_force(
    tmp_path: Path, handout: Spec
) -> None:
    """In an earlier class folder, an instructor's own v003/worksheet.md (no v003 was generated) is
    not replaced when v003 joins: the run fails naming it, and nothing changes; forced, it is."""
    out = tmp_path / "cls"
    generate_class(handout, Roster.anonymous(2), out, seed="s")
    (out / "v003").mkdir()
    (out / "v003" / "worksheet.md").write_text("mine", "utf-8")
    before = _files(out)
    with pytest.raises(GradegenError, match=rf"{out}/v003/worksheet.md: gradegen did not write this"):
        generate_class(handout, Roster.anonymous(3), out, seed="s")
    assert _files(out) == before
    generate_class(handout, Roster.anonymous(3), out, seed="s", force=True)
    assert (out / "v003" / "worksheet.md").read_text("utf-8") != "mine"


def test_only_replaces_its_students_folder(tmp_path: Path, handout: Spec) -> None:
    """--only rewrites that student's folder and keeps everything else, the manifest still listing
    every student."""
    out = tmp_path / "cls"
    generate_class(handout, Roster.anonymous(3), out, seed="s")
    (out / "v002" / "worksheet.md").write_text("spoiled", "utf-8")
    (out / "notes.txt").write_text("mine", "utf-8")
    before = _files(out)
    generate_class(handout, Roster.anonymous(3), out, only=["v002"])
    after = _files(out)
    assert after.pop("v002/worksheet.md") != b"spoiled"
    before.pop("v002/worksheet.md")
    assert after == before
    manifest = read_manifest(out)
    assert manifest is not None and {"v001", "v002", "v003", "keys.json"} <= set(manifest[1])


@pytest.mark.parametrize("where", [".", "sub"])
def test_the_current_folder_is_updated_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """`--out .` (or a folder the user is inside) works: the folder is updated in place, twice,
    nothing appears beside it, and an instructor's folder is refused there as anywhere."""
    out = tmp_path / "here"
    (out / where).mkdir(parents=True, exist_ok=True)
    monkeypatch.chdir(out / where)
    target = Path() if where == "." else Path("..")
    if where == "sub":  # the user's folder is in it: not an empty folder
        with pytest.raises(GradegenError, match="has other files in it"):
            _documents(target, False)
    _documents(target, where == "sub")
    _documents(target, False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["here"]
    assert (out / "solution.md").is_file() and (out / "key.json").is_file()
    assert Path.cwd() == out / where if where == "sub" else Path.cwd() == out
    assert not [p for p in out.iterdir() if p.name.startswith(".gradegen-")]


def test_grading_inside_the_submissions_folder_never_reads_its_own_reports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`cd subs && gradegen grade key.json .` twice grades the same two students, once each: the
    reports (output/grades), the key beside the sheets and a copy of an old gradebook are not read."""
    subs = tmp_path / "subs"
    subs.mkdir()
    generate(preset("handout"), tmp_path / "doc")
    (subs / "key.json").write_bytes((tmp_path / "doc" / "key.json").read_bytes())
    (subs / "ana.yaml").write_text("student: ana\nz_h1: 0.3775\n", "utf-8")
    (subs / "bo.yaml").write_text("student: bo\nz_h1: 0.3\n", "utf-8")
    monkeypatch.chdir(subs)
    for _ in range(3):
        result = runner.invoke(app, ["grade", "key.json", ".", "--quiet"])
        assert result.exit_code == 0, result.output
        data = json.loads((subs / "output" / "grades" / "results.json").read_text("utf-8"))
        assert [s["student"] for s in data["students"]] == ["ana", "bo"]
        assert data["errors"] == []
        (subs / "old").mkdir(exist_ok=True)
        (subs / "old" / "gradebook.csv").write_bytes((subs / "output/grades/gradebook.csv").read_bytes())


def test_reports_of_any_version_are_not_submissions(tmp_path: Path, handout: Spec) -> None:
    """Inside a folder, output folders (with the manifest, or an old grades folder without one) and
    gradegen's results, keys and gradebooks are passed over; named directly, they are reported."""
    subs = tmp_path / "subs"
    (subs / "ana").mkdir(parents=True)
    (subs / "ana" / "answers.yaml").write_text("student: ana\n", "utf-8")
    write_reports(_results(handout, ["ana"]), subs / "new")  # type: ignore[arg-type]
    write_reports(_results(handout, ["ana"]), subs / "legacy")  # type: ignore[arg-type]
    (subs / "legacy" / MANIFEST).unlink()
    generate_class(handout, Roster.anonymous(2), subs / "cls", seed="s")
    (subs / "results.json").write_bytes((subs / "new" / "results.json").read_bytes())
    (subs / "keys.json").write_bytes((subs / "cls" / "keys.json").read_bytes())
    (subs / "keys_mine.json").write_text('{"student": "bo"}', "utf-8")
    files, errors = expand([subs])
    assert [p.relative_to(subs).as_posix() for p in files] == ["ana/answers.yaml", "keys_mine.json"]
    assert errors == []
    files, errors = expand([subs / "new", subs / "results.json"])
    assert files == [] and [e.file for e in errors] == [str(subs / "new"), str(subs / "results.json")]


_NAME = st.text(st.sampled_from("abvw0135._-"), min_size=1, max_size=6).filter(lambda n: n not in (".", ".."))
_OURS = st.text(st.sampled_from("abvw0135_-"), min_size=1, max_size=6)  # gradegen writes no hidden names


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    mine=st.dictionaries(st.tuples(_NAME, st.none() | _NAME), st.binary(max_size=8), max_size=6),
    names=st.lists(_OURS, min_size=1, max_size=4, unique=True),
    force=st.booleans(),
)
def test_whatever_is_in_the_folder_only_gradegens_files_change(
    tmp_path_factory: pytest.TempPathFactory,
    mine: dict[tuple[str, str | None], bytes],
    names: list[str],
    force: bool,
) -> None:
    """Random instructor files (at the top, inside folders, hidden, clashing with gradegen's names)
    in an earlier output folder: a run either refuses without changing anything, or replaces
    exactly gradegen's files and leaves every other file byte for byte."""
    out = tmp_path_factory.mktemp("prop") / "out"
    layout = Layout("documents", "key.json", frozenset())

    def run(files: list[str]) -> None:
        with Output(out, layout, force=force).written() as build:
            for name in files:
                (build / name).mkdir()
                (build / name / "f.txt").write_text(name, "utf-8")

    run(names[:1])
    for (top, inner), data in mine.items():
        path = out / top if inner is None else out / top / inner
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        except OSError:
            continue  # the name is taken by a folder or file already
    before = _files(out)
    theirs = {
        k: v
        for k, v in before.items()
        if k != MANIFEST and not (k.endswith("/f.txt") and k[:-6] in names[:1])
    }
    try:
        run(names)
    except GradegenError as exc:
        assert "gradegen did not write this" in str(exc)
        assert _files(out) == before
        return
    after = _files(out)
    for name in names:
        assert after.pop(f"{name}/f.txt") == name.encode()
    after.pop(MANIFEST)
    if force:
        theirs = {k: v for k, v in theirs.items() if not (k.endswith("/f.txt") and k[:-6] in names)}
    assert after == theirs


@pytest.mark.parametrize("command", ["generate", "grade"])
def test_help_offers_force(command: str) -> None:
    """`generate --help` and `grade --help` offer --force and say what it keeps."""
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert "--force" in result.output and "nothing else is touched" in " ".join(result.output.split())

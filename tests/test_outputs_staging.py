"""Staging and interrupts: a killed run's staging folder is removed by the next run (a live one's
never), write errors name the user's path, workers leave Ctrl-C to their parent and end with it,
and Ctrl-C during a large run is one line that leaves nothing behind."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

import gradegen.documents.generate as documents
from gradegen.cli import app
from gradegen.core.spec import preset
from gradegen.documents.generate import generate, generate_class
from gradegen.errors import GradegenError
from gradegen.files import held_interrupts, worker_pool
from gradegen.outputs import Layout, Output
from gradegen.variants.roster import Roster

runner = CliRunner()


def _stage_script(out: Path, end: str) -> str:
    """A run that stages some files for ``out``, then ends as ``end`` says (killed, or kept alive)."""
    return textwrap.dedent(f"""
        import os, signal, sys, time
        from pathlib import Path
        from gradegen.outputs import Layout, Output
        output = Output({str(out)!r}, Layout("documents", "key.json", frozenset({{"a.txt"}})))
        with output.written() as build:
            (build / "a.txt").write_text("new")
            print("staged", flush=True)
            {end}
        """)


def test_a_killed_runs_staging_is_removed_by_the_next_run(tmp_path: Path) -> None:
    """A run killed with SIGKILL leaves its staging folder; the next run for that target removes it."""
    out = tmp_path / "out"
    script = _stage_script(out, "os.kill(os.getpid(), signal.SIGKILL)")
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert run.returncode == -signal.SIGKILL and "staged" in run.stdout
    left = [p.name for p in tmp_path.iterdir()]
    assert len(left) == 1 and left[0].startswith(".out.gradegen-") and left[0].endswith(".tmp")
    generate(preset("handout"), out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_live_runs_staging_is_left_alone(tmp_path: Path) -> None:
    """A staging folder whose process is still running is not removed by another run."""
    out = tmp_path / "out"
    script = _stage_script(out, "time.sleep(60)")
    with subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None and process.stdout.readline() == "staged\n"
            generate(preset("handout"), out)
            stages = [p for p in tmp_path.iterdir() if p.name.startswith(".out.gradegen-")]
            assert len(stages) == 1 and (stages[0] / "build" / "a.txt").read_text() == "new"
        finally:
            process.kill()


def test_a_run_killed_while_swapping_gives_the_earlier_folder_back(tmp_path: Path) -> None:
    """Killed between moving the earlier folder out and the new one in, the next run first puts the
    earlier folder back (and then replaces it as usual)."""
    out = tmp_path / "out"
    generate(preset("handout"), out)
    stage = tmp_path / ".out.gradegen-abcd1234.tmp"
    stage.mkdir()
    (stage / "lock").write_text("12345\n")  # a pid, and no process holding the lock
    out.rename(stage / "old")
    Output(out, Layout("documents", "key.json", frozenset()))
    assert (out / "key.json").is_file() and not stage.exists()


def test_write_errors_name_the_users_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A failed write names the user's path (the output folder and the file in it), never a
    staging or temporary file; `init --force <folder>` names the folder."""

    def full(path: str | os.PathLike[str], data: bytes, mode: int = 0o666) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", os.fspath(path))

    monkeypatch.setattr(documents, "write_new", full)
    out = tmp_path / "out"
    with pytest.raises(GradegenError) as caught:
        generate(preset("handout"), out)
    assert str(caught.value).startswith(f"{out}/") and "No space left on device" in str(caught.value)
    assert ".tmp" not in str(caught.value) and list(tmp_path.iterdir()) == []
    monkeypatch.undo()
    generate_class(preset("handout"), Roster.anonymous(1), tmp_path / "cls", seed="s")
    folder = tmp_path / "folder"
    folder.mkdir()
    keys = str(tmp_path / "cls" / "keys.json")
    for command in (
        ["init", "--force", str(folder)],
        ["key", keys, "--student", "v001", "--out", str(folder)],
    ):
        result = runner.invoke(app, command)
        assert result.exit_code == 2
        assert result.stderr == f"error: {folder}: cannot write here: is a folder\n"
    assert list(folder.iterdir()) == []


def test_held_interrupts_hold_ctrl_c_and_give_it_back() -> None:
    """Ctrl-C during the block is ignored; afterwards Python's handler is back."""
    with held_interrupts():
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    with pytest.raises(KeyboardInterrupt):
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(1)


def test_workers_end_when_their_parent_is_killed(tmp_path: Path) -> None:
    """A worker whose parent is killed ends by itself (it held the staging folder's lock forever)."""
    script = textwrap.dedent("""
        import os, signal, time
        from gradegen.files import worker_pool
        with worker_pool(1) as pool:
            print(pool.submit(os.getpid).result(), flush=True)
            pool.submit(time.sleep, 60)
            os.kill(os.getpid(), signal.SIGKILL)
        """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    worker = int(run.stdout)
    for _ in range(100):
        try:
            os.kill(worker, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    os.kill(worker, signal.SIGKILL)
    pytest.fail("the orphaned worker was still running 5 s after its parent was killed")


def test_workers_ignore_ctrl_c() -> None:
    """A pool's workers are started ignoring SIGINT (the parent alone handles Ctrl-C)."""
    with worker_pool(2) as pool:
        handlers = {pool.submit(signal.getsignal, signal.SIGINT).result() for _ in range(4)}
    assert handlers == {signal.SIG_IGN}


def _interrupt(command: list[str], cwd: Path, ready: Callable[[], bool]) -> subprocess.CompletedProcess[str]:
    """Run a gradegen command, and send its whole process group SIGINT (as a terminal's Ctrl-C
    does) once ``ready()``."""
    process = subprocess.Popen(
        [sys.executable, "-m", "gradegen", *command],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while not ready() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert process.poll() is None, "the command ended before it could be interrupted"
    os.killpg(process.pid, signal.SIGINT)
    out, err = process.communicate(timeout=120)
    return subprocess.CompletedProcess(command, process.returncode, out, err)


def _staged(folder: Path, name: str) -> Callable[[], bool]:
    """Whether a run has written into its staging folder for ``folder/name``."""
    return lambda: any(
        (stage / "build").is_dir() and any((stage / "build").iterdir())
        for stage in folder.glob(f".{name}.gradegen-*.tmp")
    )


def test_ctrl_c_during_a_large_generate_is_one_line_and_leaves_nothing(tmp_path: Path) -> None:
    """Ctrl-C while the workers write a class prints one line, exits 130 and leaves no folder."""
    run = _interrupt(["generate", "--variants", "3000", "--out", "cls"], tmp_path, _staged(tmp_path, "cls"))
    assert (run.returncode, run.stderr.strip()) == (130, "interrupted; nothing was written")
    time.sleep(0.3)  # a worker still writing would recreate files by now
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_during_a_large_grade_is_one_line_and_leaves_nothing(tmp_path: Path) -> None:
    """Ctrl-C while the second process writes a large class's feedback prints one line, exits 130
    and leaves nothing beside the inputs."""
    generate(preset("handout"), tmp_path / "doc")
    rows = ["student,z_h1,dL_dw5", *(f"s{i},0.3775,-0.0822" for i in range(20_000))]
    (tmp_path / "big.csv").write_text("\n".join(rows) + "\n", "utf-8")
    before = sorted(p.name for p in tmp_path.iterdir())
    run = _interrupt(
        ["grade", "doc/key.json", "big.csv", "--out", "g", "--feedback", "zip"],
        tmp_path,
        _staged(tmp_path, "g"),
    )
    assert (run.returncode, run.stderr.strip()) == (130, "interrupted; nothing was written")
    assert sorted(p.name for p in tmp_path.iterdir()) == before

"""Shared file helpers: work in a second process (the writer of a large class's feedback)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gradegen.errors import GradegenError
from gradegen.files import in_second_process


def test_second_process_runs_while_the_block_does(tmp_path: Path) -> None:
    """The task runs in another process, and leaving the block waits for it to finish."""
    mark = tmp_path / "pid"

    def task() -> None:
        mark.write_text(str(os.getpid()), "utf-8")

    with in_second_process(task, "writing"):
        pass
    assert int(mark.read_text("utf-8")) != os.getpid()


def test_second_process_error_reaches_the_caller() -> None:
    """An exception in the task is raised by the block's end, as it was raised."""

    def task() -> None:
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"), in_second_process(task, "writing"):
        pass


def test_a_dead_worker_is_one_line() -> None:
    """A worker that ends without finishing (killed, or out of memory) is a GradegenError naming the work."""
    with (
        pytest.raises(GradegenError, match="writing feedback failed"),
        in_second_process(lambda: os._exit(3), "writing feedback"),
    ):
        pass


def test_the_blocks_error_wins(tmp_path: Path) -> None:
    """When the block fails, the worker is waited for and the block's own error is raised."""
    mark = tmp_path / "done"

    def task() -> None:
        mark.write_text("yes", "utf-8")
        raise OSError("the worker's error")

    with pytest.raises(ValueError, match="the block's"), in_second_process(task, "writing"):
        raise ValueError("the block's error")
    assert mark.read_text("utf-8") == "yes"

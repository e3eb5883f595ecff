"""A progress bar for long runs: shown only once a run has taken about a second, never when quiet."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

DELAY = 1.0
"""Seconds a run may take before its progress bar appears."""


class Tracker:
    """Counts finished items; draws a rich bar on stderr once ``delay`` seconds have passed."""

    def __init__(
        self,
        total: int,
        description: str,
        *,
        quiet: bool = False,
        delay: float = DELAY,
        console: Console | None = None,
    ) -> None:
        self.total = total
        self.description = description
        self.quiet = quiet
        self.delay = delay
        self.console = console
        self.done = 0
        self._start = time.monotonic()
        self._bar: Progress | None = None
        self._task: TaskID | None = None

    @property
    def shown(self) -> bool:
        """Whether the bar has been drawn."""
        return self._bar is not None

    def advance(self, count: int = 1) -> None:
        """Record ``count`` more finished items."""
        self.done += count
        if self._bar is None:
            if self.quiet or time.monotonic() - self._start < self.delay:
                return
            self._open()
        assert self._bar is not None and self._task is not None
        self._bar.update(self._task, completed=self.done)

    def _open(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self._bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=self.console or Console(stderr=True),
            transient=True,
        )
        self._bar.start()
        self._task = self._bar.add_task(self.description, total=self.total, completed=self.done)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


@contextmanager
def progress(
    total: int,
    description: str = "working",
    *,
    quiet: bool = False,
    delay: float = DELAY,
    console: Console | None = None,
) -> Iterator[Tracker]:
    """``with progress(n, "writing folders", quiet=quiet) as bar: … bar.advance()``."""
    tracker = Tracker(total, description, quiet=quiet, delay=delay, console=console)
    try:
        yield tracker
    finally:
        tracker.close()

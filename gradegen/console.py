"""What the ``gradegen`` commands share: the consoles, the one-line error rule, common arguments."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gradegen.errors import GradegenError
from gradegen.escape import terminal_safe

if TYPE_CHECKING:
    from rich.console import Console


@cache
def out() -> Console:
    """The console for normal output (made on first use: rich is slow to import)."""
    from rich.console import Console

    return Console(highlight=False)


@cache
def err() -> Console:
    """The console for errors."""
    from rich.console import Console

    return Console(stderr=True, highlight=False)


SpecArg = Annotated[
    Path | None,
    typer.Argument(help="Spec file (YAML, JSON or TOML). Default: the handout network.", show_default=False),
]


ForceOpt = Annotated[
    bool,
    typer.Option(
        "--force",
        help="Write into a folder gradegen did not make (or one of another kind); only gradegen's "
        "own files in it are replaced, nothing else is touched.",
    ),
]


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn a GradegenError (or an OSError on the user's paths) into one line on stderr and exit 2."""
    try:
        yield
    except GradegenError as exc:
        # messages quote file names, ids and answers: made inert before they reach the terminal
        err().print(terminal_safe(f"error: {exc}"), markup=False, soft_wrap=True)
        raise typer.Exit(2) from None
    except OSError as exc:
        # A folder we cannot create or a file we cannot write: the user's to fix, not a crash.
        where = f"{exc.filename}: " if exc.filename else ""
        err().print(terminal_safe(f"error: {where}{exc.strerror or exc}"), markup=False, soft_wrap=True)
        raise typer.Exit(2) from None

"""Compiling LaTeX to PDF with LuaLaTeX (driven by latexmk when it is there).

LuaLaTeX, so that every student's name prints whatever its script: the preamble sets fonts for
Latin, Greek, Cyrillic, CJK and emoji, and a visible U+FFFD where no installed font has a glyph.
Never with shell escape, always non-interactive, in a private temporary folder, time-limited.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from gradegen.errors import GradegenError

PACKAGES = (
    "texlive-luatex texlive-latex-base texlive-latex-recommended texlive-pictures latexmk "
    "fonts-cmu fonts-dejavu-core fonts-wqy-microhei fonts-symbola"
)
"""Debian's packages for --pdf: LuaLaTeX with fontspec and TikZ, and the fonts of other scripts."""

INSTALL_HINT = f"install LuaLaTeX, e.g. on Debian/Ubuntu: apt-get install --no-install-recommends {PACKAGES}"

TIMEOUT = 120.0
"""Seconds one compilation may take before it is stopped, plus :data:`TIMEOUT_PER_MB`."""

TIMEOUT_PER_MB = 60.0
"""Further seconds per MB of LaTeX: a class's combined documents take about 15 s per MB (two
LuaLaTeX runs, 100 students' solutions are 1.6 MB), so a large class is not stopped half-way."""

_NEEDS = ("lualatex.fmt", "fontspec.sty", "luaotfload.sty")
"""What LuaLaTeX needs beyond its binary (which texlive-binaries installs without any of these)."""

_FLAGS = ("-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error", "-file-line-error")


@dataclass(frozen=True)
class Engine:
    """A TeX command line: latexmk driving ``tex`` (lualatex), or ``tex`` alone, run twice.

    ``tex`` may also be pdflatex, for LaTeX that needs no Unicode fonts.
    """

    latexmk: str | None
    tex: str

    def commands(self, file: str) -> list[list[str]]:
        if self.latexmk:
            mode = "pdflatex" if Path(self.tex).name.startswith("pdflatex") else "lualatex"
            flag = "-pdf" if mode == "pdflatex" else "-pdflua"
            # -norc: no user or system latexmkrc may change the command (or turn shell escape on)
            driver = f"-{mode}={shlex.quote(self.tex)} {' '.join(_FLAGS)} %O %S"
            return [[self.latexmk, "-norc", flag, "-quiet", "-no-shell-escape", driver, file]]
        once = [self.tex, *_FLAGS, file]
        return [once, once]  # a second run settles longtable column widths


def find_engine() -> Engine:
    """LuaLaTeX on PATH with its format, fontspec and luaotfload, or a GradegenError saying what
    to install."""
    lualatex = shutil.which("lualatex")
    kpsewhich = shutil.which("kpsewhich")
    if lualatex is None or kpsewhich is None:
        raise GradegenError(f"--pdf: no TeX engine found (lualatex is not on PATH); {INSTALL_HINT}")
    missing = _missing(kpsewhich)
    if missing:
        raise GradegenError(f"--pdf: LuaLaTeX is incomplete (no {', '.join(missing)}); {INSTALL_HINT}")
    return Engine(shutil.which("latexmk"), lualatex)


def _missing(kpsewhich: str) -> list[str]:
    """Which of LuaLaTeX's files TeX's own search does not find."""
    try:
        run = subprocess.run(
            [kpsewhich, "-engine=luahbtex", *_NEEDS],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return list(_NEEDS)
    found = {Path(line).name for line in run.stdout.decode("utf-8", "replace").splitlines()}
    return [name for name in _NEEDS if name not in found]


def compile_pdf(
    tex: str | Path,
    out: Path | None = None,
    *,
    engine: Engine | None = None,
    timeout: float | None = None,
    name: str = "document",
    log: Path | None = None,
) -> bytes:
    """Compile LaTeX source (text, or a .tex file) to PDF; returns the bytes, also written to ``out``.

    Runs in a fresh temporary folder, so nothing but the PDF (and, to ``log``, the last run's
    log: its overfull boxes, its warnings) leaves it. ``timeout`` is in seconds (default
    :data:`TIMEOUT` and :data:`TIMEOUT_PER_MB` of source).
    """
    if isinstance(tex, Path):
        name = tex.stem
        try:
            source = tex.read_text("utf-8")
        except OSError as exc:
            raise GradegenError(f"{tex}: cannot read: {exc.strerror}") from None
    else:
        source = tex
    engine = engine or find_engine()
    if timeout is None:
        timeout = TIMEOUT + TIMEOUT_PER_MB * len(source) / 1e6
    env = {
        **os.environ,
        "openout_any": "p",  # TeX may write only inside the working folder
        "openin_any": "a",
        "shell_escape": "f",
        "TEXMFOUTPUT": "",
        # Same source, same bytes: fixed dates (the preamble fixes LuaTeX's /ID).
        "SOURCE_DATE_EPOCH": "0",
        "FORCE_SOURCE_DATE": "1",
    }
    with tempfile.TemporaryDirectory(prefix="gradegen-tex-") as work:
        folder = Path(work)
        (folder / f"{name}.tex").write_text(source, encoding="utf-8")
        for command in engine.commands(f"{name}.tex"):
            returncode, output = _run(command, folder, env, timeout, name)
            if returncode != 0:
                raise GradegenError(
                    f"{name}.tex: LaTeX failed: {_first_error(folder / f'{name}.log', output, returncode)}"
                )
        pdf = folder / f"{name}.pdf"
        data = pdf.read_bytes() if pdf.is_file() else b""
        if log is not None:
            shutil.copyfile(folder / f"{name}.log", log)
        if not data:  # LuaTeX leaves an empty file for a document without pages
            raise GradegenError(f"{name}.tex: LaTeX produced no PDF")
    if out is not None:
        from gradegen.files import write_bytes_atomic

        write_bytes_atomic(out, data)
    return data


def _run(
    command: list[str], folder: Path, env: dict[str, str], timeout: float, name: str
) -> tuple[int, bytes]:
    """Run one TeX command; on a timeout or an interrupt its whole process group is stopped
    (latexmk's lualatex too, which killing latexmk alone would leave running)."""
    try:
        process = subprocess.Popen(
            command,
            cwd=folder,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    except OSError as exc:
        raise GradegenError(f"{name}.tex: cannot run {command[0]}: {exc.strerror}") from None
    with process:
        try:
            output, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _stop(process)
            raise GradegenError(f"{name}.tex: LaTeX took longer than {timeout:g} s; stopped") from None
        except BaseException:
            _stop(process)
            raise
    return process.returncode, output


def _stop(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):  # it may have ended on its own meanwhile
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _first_error(log: Path, output: bytes, returncode: int) -> str:
    """The first error line of a TeX log (``file:line: message``), for a one-line report."""
    text = log.read_text("utf-8", errors="replace") if log.is_file() else ""
    text += output.decode("utf-8", errors="replace")
    for line in text.splitlines():
        if line.startswith("!") or (".tex:" in line and ": " in line):
            return line.strip()
    return f"exit code {returncode}"

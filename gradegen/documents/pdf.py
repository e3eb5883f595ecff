"""Compiling LaTeX to PDF with a real TeX engine: latexmk if present, else pdflatex.

Never with shell escape, always non-interactive, in a private temporary folder, time-limited.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from gradegen.errors import GradegenError

INSTALL_HINT = (
    "install a TeX engine, e.g. on Debian/Ubuntu: apt-get install --no-install-recommends "
    "texlive-latex-base texlive-latex-recommended texlive-pictures latexmk"
)

TIMEOUT = 120.0
"""Seconds one compilation may take before it is stopped."""


@dataclass(frozen=True)
class Engine:
    """A TeX command line: latexmk driving pdflatex, or pdflatex alone (run twice)."""

    latexmk: str | None
    pdflatex: str

    def commands(self, tex: str) -> list[list[str]]:
        flags = ["-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error", "-file-line-error"]
        if self.latexmk:
            # -norc: no user or system latexmkrc may change the command (or turn shell escape on)
            driver = f"-pdflatex=pdflatex {' '.join(flags)} %O %S"
            return [[self.latexmk, "-norc", "-pdf", "-quiet", "-no-shell-escape", driver, tex]]
        once = [self.pdflatex, *flags, tex]
        return [once, once]  # a second run settles longtable column widths


def find_engine() -> Engine:
    """The TeX engine on PATH, or a GradegenError saying what to install."""
    pdflatex = shutil.which("pdflatex")
    if pdflatex is None:
        raise GradegenError(f"--pdf: no TeX engine found (pdflatex is not on PATH); {INSTALL_HINT}")
    return Engine(shutil.which("latexmk"), pdflatex)


def compile_pdf(
    tex: str | Path,
    out: Path | None = None,
    *,
    engine: Engine | None = None,
    timeout: float = TIMEOUT,
    name: str = "document",
) -> bytes:
    """Compile LaTeX source (text, or a .tex file) to PDF; returns the bytes, also written to ``out``.

    Runs in a fresh temporary folder, so nothing but the PDF leaves it.
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
    env = {
        **os.environ,
        "openout_any": "p",  # TeX may write only inside the working folder
        "openin_any": "a",
        "shell_escape": "f",
        "TEXMFOUTPUT": "",
        # Same source, same bytes: pdfTeX stamps dates and an /ID unless told the time is fixed.
        "SOURCE_DATE_EPOCH": "0",
        "FORCE_SOURCE_DATE": "1",
    }
    with tempfile.TemporaryDirectory(prefix="gradegen-tex-") as work:
        folder = Path(work)
        (folder / f"{name}.tex").write_text(source, encoding="utf-8")
        for command in engine.commands(f"{name}.tex"):
            try:
                run = subprocess.run(
                    command,
                    cwd=folder,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    capture_output=True,
                    timeout=timeout,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                raise GradegenError(f"{name}.tex: LaTeX took longer than {timeout:g} s; stopped") from None
            except OSError as exc:
                raise GradegenError(f"{name}.tex: cannot run {command[0]}: {exc.strerror}") from None
            if run.returncode != 0:
                raise GradegenError(f"{name}.tex: LaTeX failed: {_first_error(folder / f'{name}.log', run)}")
        pdf = folder / f"{name}.pdf"
        if not pdf.is_file():
            raise GradegenError(f"{name}.tex: LaTeX produced no PDF")
        data = pdf.read_bytes()
    if out is not None:
        from gradegen.files import write_bytes_atomic

        write_bytes_atomic(out, data)
    return data


def _first_error(log: Path, run: subprocess.CompletedProcess[bytes]) -> str:
    """The first error line of a TeX log (``file:line: message``), for a one-line report."""
    text = log.read_text("utf-8", errors="replace") if log.is_file() else ""
    text += run.stdout.decode("utf-8", errors="replace")
    for line in text.splitlines():
        if line.startswith("!") or (".tex:" in line and ": " in line):
            return line.strip()
    return f"exit code {run.returncode}"

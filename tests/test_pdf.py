"""PDFs for every name: LuaLaTeX with fallback fonts, a visible replacement for a glyph no font
has, same bytes on a rerun, the engine check, and the text latex_escape hands to TeX."""

from __future__ import annotations

import shutil
import subprocess
import time
import unicodedata
import uuid
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from gradegen.cli import app
from gradegen.core.network import build_graph
from gradegen.core.spec import preset
from gradegen.documents.pdf import INSTALL_HINT, PACKAGES, Engine, compile_pdf, find_engine
from gradegen.documents.render import render_documents
from gradegen.errors import GradegenError
from gradegen.escape import latex_escape

runner = CliRunner()

# The names of the issue, two students to keep the test short: Polish letters pdflatex's OT1
# cannot set, Cyrillic, Chinese, Japanese, Korean, Greek, an emoji, and José typed decomposed
# (e + U+0301) as macOS file names and some keyboards give it.
NAMES = {
    "s1": "Łukasz Ąę Żółć Иван Петров 王小明",
    "s2": "Σωκράτης 山田さくら 김민준 " + unicodedata.normalize("NFD", "José Núñez") + " Zoë 😀",
}
MISSING = "\u0378\ue000"  # unassigned, and private: no font has a glyph for either


def _preamble() -> str:
    """The preamble of the documents gradegen writes (the template, rendered)."""
    spec = preset("handout")
    graph = build_graph(spec)
    tex = render_documents(spec, graph, graph.evaluate(), graph.evaluate(hand=True), 0, None)["solution.tex"]
    return tex.split("\\begin{document}")[0]


def _page(body: str) -> str:
    return f"{_preamble()}\\begin{{document}}\\thispagestyle{{empty}}{body}\\end{{document}}\n"


def _text(pdf: Path) -> str:
    exe = shutil.which("pdftotext")
    assert exe, "pdftotext is required (Debian: poppler-utils, see .ci/run)"
    run = subprocess.run([exe, str(pdf), "-"], capture_output=True, timeout=60, check=True)
    return unicodedata.normalize("NFC", run.stdout.decode())


def _ink(pdf: Path, tmp_path: Path) -> int:
    """How many pixels of the PDF's first page are dark, rendered at 30 dpi."""
    exe = shutil.which("pdftoppm")
    assert exe, "pdftoppm is required (Debian: poppler-utils, see .ci/run)"
    stem = tmp_path / "page"
    subprocess.run([exe, "-gray", "-r", "30", "-singlefile", str(pdf), str(stem)], timeout=60, check=True)
    data = stem.with_suffix(".pgm").read_bytes()
    magic, width, height, _maxval, pixels = data.split(maxsplit=4)
    assert magic == b"P5"
    return sum(1 for value in pixels[: int(width) * int(height)] if value < 128)


# --------------------------------------------------------------------------- a class of names


def test_a_class_with_names_in_every_script_compiles_and_every_name_is_in_the_pdf(tmp_path: Path) -> None:
    """--pdf for a roster of Polish, Cyrillic, Chinese, Japanese, Korean, Greek, emoji and
    decomposed names: both PDFs compile, and pdftotext finds every name, composed (NFC)."""
    roster = tmp_path / "roster.csv"
    rows = [f"{sid},{name}" for sid, name in NAMES.items()]
    roster.write_text("student_id,name\n" + "\n".join(rows) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["generate", "--roster", str(roster), "--seed", "u", "--pdf", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    for document in ("worksheets.pdf", "solutions.pdf"):
        text = _text(out / document)
        for name in NAMES.values():
            assert unicodedata.normalize("NFC", name) in text, (document, name)
        assert "\ufffd" not in text  # every character had a glyph in some font
    assert "José Núñez" in (out / "s2" / "worksheet.tex").read_text(encoding="utf-8")


# --------------------------------------------------------------------------- missing glyphs


def test_a_character_no_font_has_prints_a_visible_replacement(tmp_path: Path) -> None:
    """A character with no glyph anywhere prints as U+FFFD, with ink on the page (luaotfload
    alone would leave a blank .notdef), and the document compiles."""
    pdf = tmp_path / "missing.pdf"
    compile_pdf(_page(latex_escape(MISSING)), pdf, name="missing")
    assert _text(pdf).strip() == "\ufffd\ufffd"
    assert _ink(pdf, tmp_path) > 0
    blank = tmp_path / "blank.pdf"
    compile_pdf(_page("\\mbox{}"), blank, name="blank")
    assert _ink(blank, tmp_path) == 0  # the ink is the replacement's, not the page's


def test_a_replacement_character_in_the_text_prints_as_one(tmp_path: Path) -> None:
    """U+FFFD typed in a name (a broken export's mojibake), which LuaTeX reads as broken UTF-8
    and stops at, prints as U+FFFD, the spaces around it kept."""
    pdf = tmp_path / "fffd.pdf"
    compile_pdf(_page(latex_escape("Jos\ufffd M\ufffd ller \ufffd")), pdf, name="fffd")
    assert _text(pdf).strip() == "Jos\ufffd M\ufffd ller \ufffd"


def test_hostile_text_still_compiles(tmp_path: Path) -> None:
    """Control characters, bidi overrides, joiners, lone combining marks, unassigned and private
    characters, in a heading, in italics and in running text: the page compiles, the text around
    them prints, unknown ones as U+FFFD."""
    nasty = latex_escape(
        "x\x1b[31m\x07 \u202eevil\u202c \u200d\ufe0f\ufeff \u0301 \u0378 \ue000 \uffff 𝕏 \U000e0041 end"
    )
    pdf = tmp_path / "nasty.pdf"
    compile_pdf(_page(f"\\section*{{{nasty}}}{{\\itshape {nasty}\\par}}{nasty}"), pdf, name="nasty")
    text = _text(pdf)
    assert text.count("evil") == 3 and text.count("end") == 3 and "\ufffd" in text and "𝕏" in text


# --------------------------------------------------------------------------- bytes, engine, safety


def test_the_same_source_gives_the_same_pdf_bytes() -> None:
    """Two compilations (in two temporary folders) give identical bytes: fixed dates, and an /ID
    from the source rather than LuaTeX's hash of the folder's path."""
    source = _page("Иван 王小明 Łukasz")
    first = compile_pdf(source, name="same")
    assert compile_pdf(source, name="same") == first
    assert compile_pdf(source.replace("Иван", "Ivan"), name="same") != first


@pytest.mark.parametrize("latexmk", [True, False])
def test_a_document_without_pages_is_an_error(latexmk: bool) -> None:
    """LaTeX that sets no page is a one-line error (LuaTeX alone leaves an empty file), not an
    empty PDF."""
    engine = find_engine()
    engine = engine if latexmk else Engine(None, engine.tex)
    with pytest.raises(GradegenError, match=r"^empty\.tex: LaTeX (failed|produced no PDF)[^\n]*$"):
        compile_pdf("\\documentclass{article}\\begin{document}\\end{document}\n", engine=engine, name="empty")


def test_find_engine_finds_lualatex() -> None:
    """The engine --pdf uses is LuaLaTeX (required: CI installs it), with latexmk to drive it."""
    engine = find_engine()
    assert Path(engine.tex).name == "lualatex"
    assert engine.latexmk and "-pdflua" in engine.commands("a.tex")[0]


def test_lualatex_without_its_format_is_reported_with_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lualatex binary without its format, fontspec or luaotfload (texlive-binaries alone):
    one line naming what is missing and the packages to install."""
    for tool in ("lualatex", "kpsewhich"):
        script = tmp_path / tool
        script.write_text("#!/bin/sh\nexit 1\n")  # kpsewhich finds nothing
        script.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(GradegenError) as info:
        find_engine()
    message = str(info.value)
    assert "lualatex.fmt, fontspec.sty, luaotfload.sty" in message and "texlive-luatex" in message
    assert "\n" not in message and INSTALL_HINT in message


def test_missing_engine_hint_names_lualatex_and_the_fonts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without any TeX, generate --pdf says to install LuaLaTeX and the fonts; exit 2."""
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    result = runner.invoke(app, ["generate", "--pdf", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    for package in ("texlive-luatex", "fonts-cmu", "fonts-wqy-microhei", "fonts-symbola"):
        assert package in result.stderr


def test_ci_installs_what_the_hint_names() -> None:
    """.ci/run installs every package the install hint names (the PDF tests need them all)."""
    ci = (Path(__file__).parents[1] / ".ci" / "run").read_text(encoding="utf-8").split()
    assert [package for package in PACKAGES.split() if package not in ci] == []


def test_lua_cannot_run_commands(tmp_path: Path) -> None:
    """Without shell escape LuaTeX's os.execute and io.popen run nothing."""
    marker = tmp_path / "ran"
    source = (
        "\\documentclass{article}\\begin{document}"
        f'\\directlua{{os.execute("touch {marker}") if io.popen then pcall(io.popen, "touch {marker}") end}}'
        "x\\end{document}\n"
    )
    compile_pdf(source, tmp_path / "x.pdf", timeout=60)
    assert (tmp_path / "x.pdf").read_bytes().startswith(b"%PDF-")
    assert not marker.exists()


def test_a_timeout_stops_latexmk_and_lualatex(tmp_path: Path) -> None:
    """A document that loops forever is stopped at the timeout, latexmk's lualatex with it (a
    killed process may take a moment to go: it is looked for during five seconds)."""
    name = f"loop-{uuid.uuid4().hex[:8]}"
    source = "\\documentclass{article}\\def\\a{\\a}\\begin{document}\\a\\end{document}\n"
    with pytest.raises(GradegenError, match="longer than 2 s"):
        compile_pdf(source, name=name, timeout=2)
    deadline = time.monotonic() + 5
    while _running(name) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _running(name) == []


def _running(name: str) -> list[str]:
    """The live (not zombie) processes whose command line holds ``name``."""
    found = []
    for process in Path("/proc").glob("[0-9]*"):
        try:
            if name.encode() in (process / "cmdline").read_bytes():
                state = (process / "stat").read_text().rsplit(")", 1)[1].split()[0]
                if state != "Z":
                    found.append(process.name)
        except OSError:
            continue  # it ended while we looked
    return found


def test_pdflatex_engine_under_latexmk_uses_pdf_mode() -> None:
    """An Engine given pdflatex drives latexmk in -pdf mode (LaTeX without Unicode fonts)."""
    commands = Engine("/usr/bin/latexmk", "/usr/bin/pdflatex").commands("a.tex")
    assert "-pdf" in commands[0] and any(
        arg.startswith("-pdflatex=/usr/bin/pdflatex ") for arg in commands[0]
    )


# --------------------------------------------------------------------------- what latex_escape hands TeX


def test_latex_escape_composes_decomposed_text() -> None:
    """Decomposed accents (NFD) are composed (NFC): one letter per accented letter."""
    assert latex_escape(unicodedata.normalize("NFD", "José Łódź")) == "José Łódź"


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("σ(z) and η = 0.5", r"\ensuremath{\sigma}(z) and \ensuremath{\eta} = 0.5"),
        ("Σ_j ŷ_j", r"\ensuremath{\Sigma}\_j \ensuremath{\hat{y}}\_j"),
        ("λ2", r"\ensuremath{\lambda}2"),
        ("Σωκράτης Ελένη Νικόλαος", "Σωκράτης Ελένη Νικόλαος"),
        ("tŷ bach", "tŷ bach"),
    ],
)
def test_greek_letters_are_math_alone_and_text_in_words(text: str, escaped: str) -> None:
    """σ, η, λ, Σ and ŷ standing alone are math symbols; inside a word they are letters."""
    assert latex_escape(text) == escaped


def test_control_characters_and_lone_surrogates_become_replacements() -> None:
    """Characters TeX refuses, UTF-8 cannot hold, or luaotfload uses for unnamed glyphs (planes
    15 and 16) print as U+FFFD, typed as a character code; whitespace stays whitespace."""
    fffd = r'{\ifdefined\directlua\char"FFFD\else?\fi}'
    assert latex_escape("a\x1b[2Jb\x07c\x7f\x9b") == f"a{fffd}[2Jb{fffd}c{fffd}{fffd}"
    assert latex_escape("bad\udcff name \U000f0001") == latex_escape("bad\ufffd name \ufffd")
    assert latex_escape("a\tb\x0bc\x1fd") == "a b c d"


@given(st.text())
def test_latex_escape_output_is_printable_composed_utf8(text: str) -> None:
    """Whatever the text, the escaped form is NFC, encodes as UTF-8, and holds no control
    character but the paragraph breaks."""
    escaped = latex_escape(text)
    escaped.encode("utf-8")
    assert unicodedata.is_normalized("NFC", escaped)
    assert not [c for c in escaped if unicodedata.category(c) in ("Cc", "Cs") and c != "\n"]

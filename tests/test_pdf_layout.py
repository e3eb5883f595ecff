"""Page layout of the LaTeX documents: no overfull box over 1 pt, no page that ends on a
sentence whose equation is on the next, and no display set apart from its sentence."""

from __future__ import annotations

import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from shapes import shape

from gradegen.core.network import build_graph
from gradegen.core.options import Style, with_documents
from gradegen.documents.pdf import compile_pdf
from gradegen.documents.render import render_documents

NETWORKS = ["handout", "3-4-3-3", "4-8-8-3"]
DOCUMENTS = ["solution", "worksheet", "solution-matrix"]  # the last: the solution in matrix style
CASES = [(n, d) for n in NETWORKS for d in DOCUMENTS]


def _tex(name: str) -> dict[str, str]:
    texts = {}
    for style in (Style.FULL, Style.MATRIX):
        spec = shape(name) if style is Style.FULL else with_documents(shape(name), style=style)
        graph = build_graph(spec)
        files = render_documents(spec, graph, graph.evaluate(), graph.evaluate(hand=True), 0, None)
        for document in ("solution", "worksheet"):
            texts[document if style is Style.FULL else f"{document}-{style}"] = files[f"{document}.tex"]
    return {d: texts[d] for d in DOCUMENTS}


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], tuple[Path, Path]]:
    """Each network's solution and worksheet compiled once (two at a time: the machine's two
    cores), as (PDF, log)."""
    folder = tmp_path_factory.mktemp("layout")
    sources = {name: _tex(name) for name in NETWORKS}

    def run(case: tuple[str, str]) -> tuple[Path, Path]:
        name, document = case
        pdf, log = folder / f"{name}-{document}.pdf", folder / f"{name}-{document}.log"
        compile_pdf(sources[name][document], pdf, name=document, log=log)
        return pdf, log

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(CASES, pool.map(run, CASES), strict=True))


@pytest.mark.parametrize(("name", "document"), CASES)
def test_no_overfull_box_over_a_point(
    compiled: dict[tuple[str, str], tuple[Path, Path]], name: str, document: str
) -> None:
    """LaTeX's log reports no box more than 1 pt too wide or too high: the 4-8-8-3's givens table,
    its weight tables, the diagrams and the matrix style's matrices stay inside the margins."""
    log = compiled[(name, document)][1].read_text("utf-8", errors="replace")
    assert "Output written" in log or "pages" in log
    over = [
        line
        for line in log.splitlines()
        if (m := re.match(r"Overfull \\[hv]box \(([\d.]+)pt too", line)) and float(m.group(1)) > 1.0
    ]
    assert not over, over


def test_the_deep_network_in_the_compact_style_fits_in_twelve_pages(
    compiled: dict[tuple[str, str], tuple[Path, Path]],
) -> None:
    """The 4-8-8-3 benchmark network (compact by its size: per-layer tables) takes at most 12
    pages of solution (77 written in full)."""
    assert shape("4-8-8-3").style is Style.COMPACT
    exe = shutil.which("pdfinfo")
    assert exe, "pdfinfo is required (Debian: poppler-utils)"
    info = subprocess.run(
        [exe, str(compiled[("4-8-8-3", "solution")][0])], capture_output=True, text=True, check=True
    )
    pages = re.search(r"^Pages:\s+(\d+)$", info.stdout, re.MULTILINE)
    assert pages and int(pages.group(1)) <= 12


def _pages(pdf: Path) -> list[list[str]]:
    exe = shutil.which("pdftotext")
    assert exe, "pdftotext is required (Debian: poppler-utils, see .ci/run)"
    run = subprocess.run([exe, "-layout", str(pdf), "-"], capture_output=True, timeout=60, check=True)
    pages = run.stdout.decode("utf-8", errors="replace").split("\f")
    return [[line.strip() for line in page.splitlines() if line.strip()] for page in pages if page.strip()]


@pytest.mark.parametrize("document", ["solution", "solution-matrix"])
@pytest.mark.parametrize("name", NETWORKS)
def test_no_page_ends_on_a_sentence_that_introduces_an_equation(
    compiled: dict[tuple[str, str], tuple[Path, Path]], name: str, document: str
) -> None:
    """No page of a solution (in either style) ends with a line ending in ":" (its equation
    would be overleaf); the page number at the foot is not counted."""
    pages = _pages(compiled[(name, document)][0])
    assert len(pages) > 2
    for number, lines in enumerate(pages[:-1], start=1):
        body = lines[:-1] if lines[-1].isdigit() else lines
        assert not body[-1].endswith(":"), (number, body[-3:])


@pytest.mark.parametrize("document", ["solution", "solution-matrix"])
@pytest.mark.parametrize("name", NETWORKS)
def test_a_display_follows_its_sentence_without_a_paragraph_break(name: str, document: str) -> None:
    """In the solution's LaTeX (either style) a display never opens a paragraph of its own after
    text: it joins the sentence before it (TeX then never breaks a page between them, and adds no
    empty line); only right after a heading does one start a paragraph."""
    lines = _tex(name)[document].splitlines()
    displays = 0
    for k, line in enumerate(lines):
        if not line.startswith((r"\[", r"\begin{align")):
            continue
        displays += 1
        before = lines[k - 1]
        if before == "":
            previous = next(text for text in reversed(lines[:k]) if text)
            assert previous.startswith((r"\section", r"\subsection")), (k, previous, line)
    assert displays > 10

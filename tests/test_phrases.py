"""What a reader of the documents sees: math notation in running text (IDs only where a student
types them), and nothing escaped twice, in pandoc's HTML of the Markdown and in the compiled PDF."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from gradegen.core.key import resolve_ask
from gradegen.core.network import build_graph, unit_symbol
from gradegen.core.spec import Spec, parse_spec, preset
from gradegen.documents.generate import generate
from gradegen.documents.render import render_documents

DEEP_LEAKY = {
    "title": "Two hidden layers, leaky ReLU",
    "inputs": [0.5, -0.2],
    "targets": [0.2, 0.7],
    "layers": [
        {"activation": "leaky_relu", "weights": [[0.1, -0.3], [0.4, 0.2]], "bias": [0.1, -0.1]},
        {"activation": "relu", "weights": [[0.3, -0.2], [0.6, 0.1]], "bias": 0.2},
        {"activation": "sigmoid", "weights": [[0.2, -0.1], [0.4, 0.3]], "bias": [0.05, 0.1]},
    ],
    "loss": "mse",
    "learning_rate": 0.1,
}


def _files(spec: Spec) -> dict[str, str]:
    graph = build_graph(spec)
    exact, hand = graph.evaluate(), graph.evaluate(hand=True)
    return render_documents(spec, graph, exact, hand, 0, resolve_ask(graph))


def _prose(markdown: str) -> str:
    """The Markdown's running text: no display equations, inline math, code or table math."""
    text = "\n".join(line for line in markdown.splitlines() if not line.startswith("$$"))
    text = re.sub(r"`[^`]*`", "", text)  # IDs in code, where the student types them
    return re.sub(r"\$[^$]*\$", "", text)


@pytest.mark.parametrize(
    ("unit", "latex"),
    [
        ("x1", "x_{1}"),
        ("h2", "h_{2}"),
        ("h1_3", "h_{1,3}"),
        ("o2", "o_{2}"),
        ("g4", "g_{4}"),
        ("out", r"\mathrm{out}"),
    ],
)
def test_units_are_written_as_subscripted_symbols(unit: str, latex: str) -> None:
    """A unit's math is its letters with the numbers as a subscript (h1_3 is h_{1,3})."""
    assert unit_symbol(unit) == latex


def test_running_text_names_no_quantity_by_its_id() -> None:
    """Outside math and code the documents never spell an ID (z_out, a_h1_1, leaky_relu, w5, h1_1):
    units, weights and quantities are math, the activation is named as a textbook names it."""
    spec = parse_spec(DEEP_LEAKY)
    graph = build_graph(spec)
    raw = {n.id for n in graph.nodes} | {n.unit for n in graph.nodes if n.unit} | {"leaky_relu"}
    raw.discard("loss")  # the ID that is also the word
    files = _files(spec)
    for name in ("solution.md", "worksheet.md", "key.md"):
        words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_\\]*", _prose(files[name]).replace("\\_", "_")))
        assert not words & raw, (name, sorted(words & raw))
    solution = files["solution.md"]
    assert "### Hidden layer 1: $h_{1,1}$, $h_{1,2}$ (leaky ReLU)" in solution
    assert "### Weight $w_{5}$" in solution
    assert "the derivative of the sigmoid at $z_{o1}$" in solution
    assert "how the loss changes with $a_{h1,1}$, through every unit it feeds" in solution
    assert "| $w_{5}$ | $0.3$ | weight from $h_{1,1}$ into $h_{2,1}$ |" in solution


def test_handout_text_reads_as_the_equations_do() -> None:
    """The handout's worksheet says "the weighted sum into $h_{1}$" and "the step of $w_{1}$" (its
    η is tiny, so the steps are asked), with the ID only in the code the student types."""
    worksheet = _files(preset("handout"))["worksheet.md"]
    assert "$z_{h1}$, the weighted sum into $h_{1}$ (ID `z_h1`; give 4 decimal places; 1 point)" in worksheet
    assert "the step of $w_{1}$, the learning rate $\\eta$ times its gradient (ID `step_w1`" in worksheet
    assert "the derivative of the sigmoid at $z_{out}$" in worksheet


_MATH = re.compile(r'<span\s+class="math (?:inline|display)">.*?</span>', re.S)


def _visible_html(markdown: str) -> str:
    """What a reader sees of pandoc's HTML of ``markdown`` (math for MathJax): the text outside tags
    and math."""
    out = subprocess.run(
        ["pandoc", "-f", "markdown", "-t", "html", "--mathjax"],
        input=markdown,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return html.unescape(re.sub(r"<[^>]+>", "", _MATH.sub("", out)))


@pytest.mark.skipif(shutil.which("pandoc") is None, reason="pandoc is installed by .ci/run")
def test_pandoc_html_shows_no_backslash() -> None:
    """Several hidden layers and a leaky ReLU: pandoc's HTML of every Markdown document has no
    visible backslash (no "h1\\_1", no "(leaky\\_relu)")."""
    files = _files(parse_spec(DEEP_LEAKY))
    for name in ("solution.md", "worksheet.md", "key.md"):
        text = _visible_html(files[name])
        assert "\\" not in text, (name, text[max(0, text.find("\\") - 60) : text.find("\\") + 60])
        assert "leaky ReLU" in text


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils is installed by .ci/run")
def test_pdf_text_shows_no_backslash(tmp_path: Path) -> None:
    """The same network's PDFs, read back with pdftotext: no backslash, no "textbackslash", and
    underscores only inside the IDs the student types."""
    out = generate(parse_spec(DEEP_LEAKY), tmp_path / "out", pdf=True)
    ids = {n.id for n in build_graph(parse_spec(DEEP_LEAKY)).nodes}
    for name in ("solution", "worksheet", "key"):
        text = subprocess.run(
            ["pdftotext", "-layout", str(out / f"{name}.pdf"), "-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert "\\" not in text and "textbackslash" not in text, name
        for word in re.findall(r"\S*_\S*", text):
            assert word.strip("();.,") in ids, (name, word)
        assert "leaky ReLU" in text, name

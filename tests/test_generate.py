"""``gradegen generate``: the files it writes, golden copies, PDFs, atomic writes and bad input."""

from __future__ import annotations

import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml
from conftest import deep_softmax_data
from typer.testing import CliRunner

from gradegen.cli import app
from gradegen.core.options import Style, with_documents
from gradegen.core.spec import Spec, parse_spec, preset
from gradegen.documents.generate import default_out, generate, slug
from gradegen.documents.pdf import compile_pdf, find_engine
from gradegen.documents.render import FILES
from gradegen.errors import GradegenError

runner = CliRunner()
GOLDEN = Path(__file__).parent / "golden" / "handout"
UPDATE = os.environ.get("GRADEGEN_UPDATE_GOLDEN") == "1"


def _nasty() -> Spec:
    """The handout network with every TeX and Markdown special in its user-provided text."""
    data = preset("handout").to_data()
    data["title"] = r"Week #3: 50% of $x_1 & y^2 \ {b} ~ <tags> | *bold* _u_"
    data["course"] = "CS_101 & AI {2026}"
    data["instructions"] = "Line one with 100% effort.\n\n1. not a list ~ ^ \\ done"
    return parse_spec(data)


@pytest.fixture(scope="session")
def pdf_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Generate with --pdf once per session: the handout, the two-hidden-layer softmax net, and
    the handout with hostile text (two at a time: the PDF builds are the slow part)."""
    root = tmp_path_factory.mktemp("pdf")
    specs = {"handout": preset("handout"), "deep_softmax": parse_spec(deep_softmax_data()), "nasty": _nasty()}
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {name: pool.submit(generate, spec, root / name, pdf=True) for name, spec in specs.items()}
        return {name: future.result() for name, future in futures.items()}


# --------------------------------------------------------------------------- files


def test_generate_writes_every_file(tmp_path: Path) -> None:
    """generate writes the solution, worksheet, answer sheet, key and diagram, nothing else (but,
    since issue 13, the manifest .gradegen.json that lists them)."""
    out = generate(preset("handout"), tmp_path / "out")
    assert sorted(p.name for p in out.iterdir()) == sorted([*FILES, ".gradegen.json"])
    assert "![Network diagram" in (out / "solution.md").read_text()
    assert r"\begin{tikzpicture}" in (out / "solution.tex").read_text()


def test_generating_twice_gives_identical_bytes(tmp_path: Path) -> None:
    """Two runs on the same spec write byte-identical files (no timestamps, fixed order)."""
    spec = parse_spec(deep_softmax_data())
    a, b = generate(spec, tmp_path / "a"), generate(spec, tmp_path / "b")
    for name in FILES:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


@pytest.mark.parametrize("style", [Style.FULL, Style.COMPACT, Style.MATRIX])
@pytest.mark.parametrize("name", sorted(FILES))
def test_golden_files_of_the_handout_network(tmp_path: Path, name: str, style: Style) -> None:
    """The handout network's files in each style match the committed copies byte for byte
    (tests/golden/handout, handout-matrix; GRADEGEN_UPDATE_GOLDEN=1 rewrites them)."""
    spec = preset("handout") if style is Style.FULL else with_documents(preset("handout"), style=style)
    out = generate(spec, tmp_path / "out")
    produced = (out / name).read_bytes()
    folder = GOLDEN if style is Style.FULL else GOLDEN.with_name(f"handout-{style}")
    golden = folder / name
    if UPDATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_bytes(produced)
    assert golden.read_bytes() == produced, f"{name} differs from tests/golden/{folder.name}/{name}"


def test_failed_generation_leaves_the_old_folder(tmp_path: Path) -> None:
    """When rendering fails, the existing output folder is untouched and no temporary is left."""
    target = tmp_path / "out"
    generate(preset("handout"), target)
    before = {p.name: p.read_bytes() for p in target.iterdir()}
    bad = tmp_path / "templates"
    bad.mkdir()
    (bad / "worksheet.tex.j2").write_text("{{ no_such_variable }}")
    with pytest.raises(GradegenError, match=r"worksheet\.tex\.j2"):
        generate(preset("handout"), target, templates=bad)
    assert {p.name: p.read_bytes() for p in target.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "templates"]


def test_slug_and_default_folder() -> None:
    """The default folder is output/<slug of the title>."""
    assert slug("Backpropagation worked example") == "backpropagation-worked-example"
    assert slug("Ünïcode: week #3!") == "unicode-week-3"
    assert slug("???") == "gradegen"
    assert default_out(preset("handout")) == Path("output/backpropagation-worked-example")


# --------------------------------------------------------------------------- templates


def test_user_template_overrides_by_file_name(tmp_path: Path) -> None:
    """A template in --templates replaces the packaged one of the same name; others stay."""
    folder = tmp_path / "tpl"
    folder.mkdir()
    (folder / "network.md.j2").write_text("CUSTOM HEADER {{ meta.course }}\n")
    spec = parse_spec({**preset("handout").to_data(), "course": "AI_101"})
    out = generate(spec, tmp_path / "out", templates=folder)
    assert "CUSTOM HEADER AI\\_101" in (out / "worksheet.md").read_text()
    assert "CUSTOM HEADER" in (out / "solution.md").read_text()
    assert "CUSTOM HEADER" not in (out / "solution.tex").read_text()


def test_user_templates_compute_with_the_real_numbers(tmp_path: Path) -> None:
    """A user template gets real numbers: ``{{ lr | float * 2 }}`` is 2η, ``values`` holds every
    quantity as a float (the hand value in hand mode), and texts read back as numbers."""
    folder = tmp_path / "tpl"
    folder.mkdir()
    (folder / "network.md.j2").write_text(
        "LR2 {{ lr | float * 2 }}; W5 {{ values.w5 * 10 }}; LOSS {{ '%.6f' | format(values['loss']) }};"
        " X1 {{ network.givens[0].value | float + 1 }}\n"
    )
    out = generate(preset("handout"), tmp_path / "out", templates=folder)
    # the handout: η = 0.0001, w5 = 0.40, x1 = 0.05 and, by hand, L = 0.2748
    for name in ("worksheet.md", "solution.md"):
        assert "LR2 0.0002; W5 4.0; LOSS 0.274800; X1 1.05\n" in (out / name).read_text(), name


def test_template_syntax_error_names_the_template(tmp_path: Path) -> None:
    """A broken user template is a one-line error naming the template, exit code 2."""
    folder = tmp_path / "tpl"
    folder.mkdir()
    (folder / "solution.md.j2").write_text("{% for x in %}\n")
    result = runner.invoke(app, ["generate", "--templates", str(folder), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "solution.md.j2" in result.stderr and "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1


def test_unreadable_templates_folder_is_a_user_error(tmp_path: Path) -> None:
    """--templates naming no folder exits 2 with one line."""
    result = runner.invoke(app, ["generate", "--templates", str(tmp_path / "nope"), "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "--templates" in result.stderr and len(result.stderr.strip().splitlines()) == 1


# --------------------------------------------------------------------------- command line


def test_generate_help() -> None:
    """generate --help lists its options."""
    result = runner.invoke(app, ["generate", "--help"])
    assert result.exit_code == 0
    for option in ("--out", "--ask", "--exact", "--pdf", "--templates"):
        assert option in result.output


def test_generate_default_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With no spec and no --out, the handout network goes to output/<slug>/."""
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["generate"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "output" / "backpropagation-worked-example" / "solution.md").is_file()


def test_generate_ask_chooses_the_questions(tmp_path: Path) -> None:
    """--ask with ids and groups sets the questions, in graph order, in every file."""
    out = tmp_path / "o"
    result = runner.invoke(app, ["generate", "--ask", "w1_new,loss,dL_dw1,dL_dw5", "--out", str(out)])
    assert result.exit_code == 0, result.output
    answers = yaml.safe_load((out / "answers.yaml").read_text())
    assert list(answers) == ["student", "loss", "dL_dw5", "dL_dw1", "w1_new"]
    assert (out / "worksheet.md").read_text().count("Answer:") == 4
    result = runner.invoke(app, ["generate", "--ask", "output_gradients", "--out", str(out)])
    assert result.exit_code == 0
    answers = yaml.safe_load((out / "answers.yaml").read_text())
    assert "dL_dw5" in answers and "dL_dw1" not in answers


def test_unknown_ask_is_a_user_error(tmp_path: Path) -> None:
    """An unknown --ask id exits 2 with a did-you-mean, and writes nothing."""
    result = runner.invoke(app, ["generate", "--ask", "dL_dw55", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "dL_dw5" in result.stderr and "Traceback" not in result.output
    assert not (tmp_path / "o").exists()


def test_exact_flag(tmp_path: Path) -> None:
    """--exact prints 10 significant figures in the solution (∂L/∂w5 = 0.08216704056423078 in
    float64) and asks for them in the worksheet and answer sheet."""
    result = runner.invoke(app, ["generate", "--exact", "--out", str(tmp_path / "o")])
    assert result.exit_code == 0
    solution = (tmp_path / "o" / "solution.md").read_text()
    assert "= 0.08216704056$$" in solution and "0.08216704056423078" not in solution
    assert "10 significant figures" in (tmp_path / "o" / "answers.yaml").read_text()


def test_missing_tex_engine_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--pdf without a TeX engine: one line naming what to install, exit 2, nothing written."""
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    result = runner.invoke(app, ["generate", "--pdf", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "texlive-latex-base" in lines[0]
    assert not (tmp_path / "o").exists()


# --------------------------------------------------------------------------- PDF


@pytest.mark.parametrize("name", ["handout", "deep_softmax", "nasty"])
def test_latex_compiles_to_pdf(pdf_runs: dict[str, Path], name: str) -> None:
    """The solution and worksheet compile with a real TeX engine (required: CI installs TeX)."""
    out = pdf_runs[name]
    for doc in ("solution", "worksheet"):
        data = (out / f"{doc}.pdf").read_bytes()
        assert data.startswith(b"%PDF-") and len(data) > 5_000
    assert not any(p.suffix in (".log", ".aux") for p in out.iterdir())


def test_compile_pdf_reports_latex_errors_in_one_line() -> None:
    """Broken LaTeX is a GradegenError quoting TeX's first error, not a hang or a traceback."""
    source = "\\documentclass{article}\\begin{document}\\undefinedmacro\\end{document}\n"
    with pytest.raises(GradegenError, match="Undefined control sequence"):
        compile_pdf(source, engine=find_engine(), timeout=60)


def test_compile_pdf_never_runs_shell_escape(tmp_path: Path) -> None:
    """\\write18 does not run: the marker file it would create never appears."""
    marker = tmp_path / "ran"
    source = (
        "\\documentclass{article}\\begin{document}"
        f"\\immediate\\write18{{touch {marker}}}x\\end{{document}}\n"
    )
    compile_pdf(source, tmp_path / "x.pdf", timeout=60)
    assert (tmp_path / "x.pdf").read_bytes().startswith(b"%PDF-")
    assert not marker.exists()


def test_engine_is_present() -> None:
    """A TeX engine is installed (the PDF tests are required, not skipped)."""
    assert shutil.which("pdflatex"), "install texlive-latex-base (see .ci/run)"


def test_long_exact_numbers_do_not_overflow_the_page(tmp_path: Path) -> None:
    """The widest case (two hidden layers, softmax, full precision) sets no overfull line."""
    import subprocess

    from gradegen.core.network import build_graph
    from gradegen.documents.render import render_documents

    spec = parse_spec(deep_softmax_data())
    graph = build_graph(spec)
    files = render_documents(
        spec, graph, graph.evaluate(), graph.evaluate(hand=True), 0, None, exact_mode=True
    )
    (tmp_path / "s.tex").write_text(files["solution.tex"])
    run = subprocess.run(
        ["pdflatex", "-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error", "s.tex"],
        cwd=tmp_path,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0
    assert "Overfull \\hbox" not in (tmp_path / "s.log").read_text(errors="replace")


def test_pdflatex_alone_compiles_a_tex_file(tmp_path: Path) -> None:
    """Without latexmk, pdflatex alone (run twice) builds the PDF; a .tex path is accepted too."""
    from gradegen.documents.pdf import Engine

    pdflatex = shutil.which("pdflatex")
    assert pdflatex
    tex = tmp_path / "note.tex"
    tex.write_text("\\documentclass{article}\\begin{document}Hello.\\end{document}\n")
    data = compile_pdf(tex, tmp_path / "note.pdf", engine=Engine(None, pdflatex), timeout=60)
    assert data.startswith(b"%PDF-") and (tmp_path / "note.pdf").read_bytes() == data


def test_a_spec_made_in_python_that_overflows_is_refused_and_nothing_written(tmp_path: Path) -> None:
    """generate() checks the spec it is given (not only load_spec): a step that overflows is a
    SpecError naming the quantity, and the target folder is not created; key.json never holds inf."""
    from gradegen.errors import SpecError

    spec = preset("handout")
    layers = (spec.layers[0], spec.layers[1].model_copy(update={"weights": ((1.7e308, 1.7e308),)}))
    with pytest.raises(SpecError, match=r"^spec: z_out \(weighted sum into out\) overflows to \+inf"):
        generate(spec.model_copy(update={"layers": layers}), tmp_path / "out")
    assert not (tmp_path / "out").exists()

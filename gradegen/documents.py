"""``gradegen generate``: evaluate a spec, render its documents, write them all or nothing."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from gradegen.files import replace_dir, staging_dir
from gradegen.key import resolve_ask
from gradegen.network import build_graph
from gradegen.render import render_documents
from gradegen.spec import Spec

OUTPUT = Path("output")
"""Default parent folder for generated documents."""


def slug(title: str) -> str:
    """A folder name from a title: lower case ASCII words joined by hyphens."""
    ascii_text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    return "-".join(words)[:60].strip("-") or "gradegen"


def default_out(spec: Spec) -> Path:
    """``output/<slug of the spec's title>``."""
    return OUTPUT / slug(spec.title)


def generate(
    spec: Spec,
    out_dir: Path | str | None = None,
    *,
    ask: str | Iterable[str] | None = None,
    exact: bool = False,
    pdf: bool = False,
    templates: Path | str | None = None,
) -> Path:
    """Write the solution, worksheet, answer sheet, key and diagram (and PDFs) into ``out_dir``.

    Everything is built in a staging folder first; the target is replaced only when all succeeded.
    """
    target = Path(out_dir) if out_dir is not None else default_out(spec)
    graph = build_graph(spec)
    asked = resolve_ask(graph, ask)
    exact_values = graph.evaluate()
    hand_values = graph.evaluate(hand=True)
    files = render_documents(
        spec, graph, exact_values, hand_values, 0, asked, exact_mode=exact, templates=templates
    )
    engine = None
    if pdf:
        from gradegen.pdf import find_engine

        engine = find_engine()  # fail before writing anything when there is no TeX
    stage = staging_dir(target)
    try:
        stage.chmod(0o755)  # mkdtemp makes it private; the documents are meant to be shared
        for name, text in files.items():
            (stage / name).write_text(text, encoding="utf-8", newline="\n")
        if engine is not None:
            from gradegen.pdf import compile_pdf

            for name in ("solution", "worksheet"):
                compile_pdf(files[f"{name}.tex"], stage / f"{name}.pdf", engine=engine, name=name)
        replace_dir(target, stage)
    except BaseException:
        import shutil

        shutil.rmtree(stage, ignore_errors=True)
        raise
    return target

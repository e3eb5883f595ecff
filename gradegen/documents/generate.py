"""``gradegen generate``: evaluate a spec (or a class of variants), render, write all or nothing."""

from __future__ import annotations

import json
import multiprocessing
import os
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import as_completed
from pathlib import Path

from gradegen.core.key import resolve_ask
from gradegen.core.network import fixed_quantities
from gradegen.core.spec import Spec
from gradegen.core.training import evaluate_spec
from gradegen.documents.compiled import BLOCK, Block
from gradegen.documents.formats import (
    ALL_FILES,
    FILES,
    PRINTED_KEYS,
    PUBLIC_FILES,
    SECRET_FILES,
    files_for,
    spec_options,
)
from gradegen.documents.page import PracticeFinder
from gradegen.documents.render import Renderer
from gradegen.errors import GradegenError
from gradegen.files import held_interrupts, worker_pool, write_new, write_text_atomic
from gradegen.names import RESERVED_FILES
from gradegen.outputs import Layout, Output
from gradegen.progress import progress
from gradegen.variants.draw import VariantSet, keys_json, make_variants
from gradegen.variants.roster import Roster

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


PDFS = ("solution", "worksheet", "key")
"""The documents ``--pdf`` compiles."""

DOCUMENTS = Layout("documents", "key.json", frozenset([*ALL_FILES, *(f"{name}.pdf" for name in PDFS)]))
"""What ``generate`` writes (a folder of these from before the manifest is recognised by key.json)."""


def generate(
    spec: Spec,
    out_dir: Path | str | None = None,
    *,
    ask: str | Iterable[str] | None = None,
    exact: bool = False,
    pdf: bool = False,
    templates: Path | str | None = None,
    force: bool = False,
    html: bool = False,
    practice: PracticeFinder | None = None,
) -> Path:
    """Write the solution, worksheet, answer sheet, key and diagram (and PDFs) into ``out_dir``.

    ``html`` adds solution.html, worksheet.html and key.html; ``practice`` (the grader's
    :func:`~gradegen.grading.practice.practice_key`) adds practice.html.

    Everything is built in a staging folder first; gradegen's files in the target are replaced
    only when all succeeded. The target must be new, empty or an earlier documents folder, unless
    ``force`` (see :class:`~gradegen.outputs.Output`).
    """
    target = Path(out_dir) if out_dir is not None else default_out(spec)
    output = Output(target, DOCUMENTS, force=force)  # before any work: a refusal costs nothing
    graph, exact_values, hand_values = evaluate_spec(spec)  # refused when a value overflows
    fixed = fixed_quantities(spec, graph, exact_values.arrays).all
    asked = resolve_ask(graph, ask, fixed, spec.documents.level)
    files = Renderer(
        spec, graph, exact_values, hand_values, asked, exact_mode=exact, templates=templates,
        files=files_for(_options(spec, html, practice)), practice=practice,
    )(0)  # fmt: skip
    engine = None
    if pdf:
        from gradegen.documents.pdf import find_engine

        engine = find_engine()  # fail before writing anything when there is no TeX
    with output.written() as stage:
        _write_files(stage, files)
        if engine is not None:
            from gradegen.documents.pdf import compile_pdf

            for name in PDFS:
                tex = files[f"{name}.tex"].decode()
                compile_pdf(tex, stage / f"{name}.pdf", engine=engine, name=name)
    return target


def _write_files(folder: Path, files: Mapping[str, bytes]) -> None:
    base = f"{folder}{os.sep}"  # plain strings, not a Path per file: a class run writes thousands
    for name, data in files.items():
        write_new(base + name, data)


CLASS_FILES = tuple(file for file in PUBLIC_FILES if file in FILES)
"""What each student's folder holds (with ``--html`` also worksheet.html, and with ``--diagram
values`` network-values.svg: the diagram solution.md shows, of the student's own numbers). The
keys stay beside the folders, away from the handouts: keys.json, every student's printable key
in keys.md and keys.tex (keys.pdf), and the HTML pages that hold answers."""


def _options(spec: Spec, html: bool, practice: PracticeFinder | None) -> list[str]:
    """The optional formats asked for (see :func:`~gradegen.documents.formats.files_for`): by
    ``generate``'s options, and by the spec's documents (the values diagram)."""
    chosen = [name for name, wanted in (("html", html), ("practice", practice is not None)) if wanted]
    return [*chosen, *spec_options(spec)]


def secret_folder(file: str) -> str:
    """Where a class run puts each student's copy of a page that holds answers (key.html →
    keys/<student>.html): beside keys.json, outside the students' folders."""
    return f"{file.rsplit('.', 1)[0]}s"


CLASS = Layout("class", "keys.json", RESERVED_FILES, lambda folder, name: name in PUBLIC_FILES)
"""What a class run writes: keys.json and the PDFs beside one folder of CLASS_FILES per student."""


def generate_class(
    spec: Spec,
    roster: Roster,
    out_dir: Path | str | None = None,
    *,
    seed: str | int | None = None,
    only: Iterable[str] | None = None,
    ask: str | Iterable[str] | None = None,
    exact: bool = False,
    pdf: bool = False,
    templates: Path | str | None = None,
    quiet: bool = True,
    force: bool = False,
    html: bool = False,
    practice: PracticeFinder | None = None,
) -> VariantSet:
    """One folder per student with their own numbers, plus ``keys.json`` (and combined PDFs).

    All variants are drawn and solved in one batched pass. With ``only``, just those students'
    folders are rewritten (identical to the full run's), using the seed of ``DIR/keys.json`` when
    no ``seed`` is given; nothing else in DIR changes. The target must be new, empty or an
    earlier class folder, unless ``force`` (see :class:`~gradegen.outputs.Output`).

    With ``html`` each folder also gets worksheet.html, and the pages that hold answers
    (solution, key and, with ``practice``, practice pages) go to solutions/, keys/ and practices/
    beside keys.json, one <student>.html each (not rewritten by ``only``: its numbers are the same).
    """
    target = Path(out_dir) if out_dir is not None else default_out(spec)
    output = Output(target, CLASS, force=force, partial=only is not None)
    chosen = files_for(_options(spec, html, practice))
    if only is not None and seed is None:
        seed = _recorded_seed(target)
    variants = make_variants(spec, roster.ids, seed=seed, asked=ask, only=only)
    engine = None
    if pdf and only is None:
        from gradegen.documents.pdf import find_engine

        engine = find_engine()
    names = dict(zip(roster.ids, roster.names, strict=True))
    students = [(student, names[student]) for student in variants.ids]
    # the documents show no spec numbers (those are in keys.json): the base spec will do
    renderer = Renderer(
        variants.spec, variants.graph, variants.exact, variants.hand, variants.asked,
        exact_mode=exact, templates=templates, files=[f for f in PUBLIC_FILES if f in chosen],
    )  # fmt: skip
    secret = [f for f in SECRET_FILES if f in chosen]
    if only is not None:
        with output.written() as stage:
            for i, folder in enumerate(variants.folders):
                _write_folder(stage / folder, renderer(i, *students[i]))
        return variants
    with output.written() as stage:
        if secret:
            pages = Renderer(
                variants.spec, variants.graph, variants.exact, variants.hand, variants.asked,
                exact_mode=exact, templates=templates, files=secret, practice=practice,
            )  # fmt: skip
            _write_secret(stage, variants, pages, students, secret)
        if engine is None and renderer.compiles and _forkable(len(variants)):
            _write_in_workers(stage, variants, renderer, students, quiet, exact, templates)
            return variants
        texs = _write_in_turn(stage, variants, renderer, students, quiet, keep_tex=engine is not None)
        write_text_atomic(stage / "keys.json", keys_json(variants))
        texs["key"] = _write_keys(stage, variants, students, exact, templates)
        if engine is not None:
            from gradegen.documents.pdf import compile_pdf

            for name, kept in texs.items():
                compile_pdf(combine_tex(kept), stage / f"{name}s.pdf", engine=engine, name=f"{name}s")
    return variants


Students = Sequence[tuple[str, str | None]]  # each student's id and name, in roster order

_PROCESSES = 2  # worker processes for a large class (this is a 2-core target)
_FORK_ABOVE = 256  # students: a smaller class renders in turn in about the time forking takes
_CHUNK = BLOCK  # students per worker task: one block of numbers formatted together


def _forkable(count: int) -> bool:
    """Whether to render in worker processes: a large class, several cores, and fork."""
    cores = os.cpu_count() or 1
    return count > _FORK_ABOVE and cores > 1 and "fork" in multiprocessing.get_all_start_methods()


def _chunks(count: int) -> list[tuple[int, int]]:
    return [(lo, min(lo + _CHUNK, count)) for lo in range(0, count, _CHUNK)]


def _rendered(renderer: Renderer, students: Students) -> Iterator[dict[str, bytes]]:
    """Every student's files in roster order (compiled ones a block at a time)."""
    if not renderer.compiles:
        for i, student in enumerate(students):
            yield renderer(i, *student)
        return
    for lo, hi in _chunks(len(students)):
        yield from renderer.block(lo, students[lo:hi]).render()


def _write_in_turn(
    stage: Path, variants: VariantSet, renderer: Renderer, students: Students, quiet: bool, *, keep_tex: bool
) -> dict[str, list[str]]:
    """Render each student's folder in turn and write it (returns the .tex when kept)."""
    texs: dict[str, list[str]] = {"worksheet": [], "solution": []}
    with progress(len(students), "rendering documents", quiet=quiet) as bar:
        for folder, files in zip(variants.folders, _rendered(renderer, students), strict=True):
            _write_folder(stage / folder, files)
            if keep_tex:
                for name, kept in texs.items():
                    kept.append(files[f"{name}.tex"].decode())
            bar.advance()
    return texs


def _write_in_workers(
    stage: Path,
    variants: VariantSet,
    renderer: Renderer,
    students: Students,
    quiet: bool,
    exact: bool,
    templates: Path | str | None,
) -> None:
    """Worker processes render and write blocks of students while this one writes the keys.

    A task is a :class:`~gradegen.documents.compiled.Block`: plain data (the compiled files and
    the block's numbers), so it pickles cheaply. Each student's files depend on their index alone.
    """
    with worker_pool(_PROCESSES) as pool:  # forked: they start at once, importing nothing
        try:
            tasks = []
            for lo, hi in _chunks(len(students)):
                block = renderer.block(lo, students[lo:hi])
                tasks.append(pool.submit(_write_block, stage, variants.folders[lo:hi], block))
            write_text_atomic(stage / "keys.json", keys_json(variants))
            _write_keys(stage, variants, students, exact, templates)
            with progress(len(students), "rendering documents", quiet=quiet) as bar:
                for task in as_completed(tasks):
                    bar.advance(task.result())  # a worker's error is raised here
        except BaseException:
            # Ctrl-C or a failure: no new tasks, and the running ones finish before the stage is
            # removed, so nothing is written into a folder that is gone
            with held_interrupts():
                pool.shutdown(wait=True, cancel_futures=True)
            raise


def _write_keys(
    stage: Path, variants: VariantSet, students: Students, exact: bool, templates: Path | str | None
) -> list[str]:
    """Every student's printable key, one after another in keys.md and keys.tex (each student's
    LaTeX starting on a new page at page 1); returns each student's key.tex for keys.pdf."""
    renderer = Renderer(
        variants.spec, variants.graph, variants.exact, variants.hand, variants.asked,
        exact_mode=exact, templates=templates, files=PRINTED_KEYS,
    )  # fmt: skip
    markdown: list[str] = []
    latex: list[str] = []
    for files in _rendered(renderer, students):
        markdown.append(files["key.md"].decode())
        latex.append(files["key.tex"].decode())
    write_text_atomic(stage / "keys.md", "\n---\n\n".join(markdown))
    write_text_atomic(stage / "keys.tex", combine_tex(latex))
    return latex


def _write_block(stage: Path, folders: Sequence[str], block: Block) -> int:
    """Write a block of students' folders (in a worker); returns how many."""
    for folder, files in zip(folders, block.render(), strict=True):
        _write_folder(stage / folder, files)
    return len(folders)


def _write_secret(
    stage: Path, variants: VariantSet, renderer: Renderer, students: Students, files: Sequence[str]
) -> None:
    """Each student's pages that hold answers, as <folder>/<student>.html beside keys.json."""
    folders = {file: f"{stage}{os.sep}{secret_folder(file)}{os.sep}" for file in files}
    for base in folders.values():
        Path(base).mkdir()
    for folder, pages in zip(variants.folders, _rendered(renderer, students), strict=True):
        for file, data in pages.items():
            write_new(f"{folders[file]}{folder}.html", data)


def _write_folder(folder: Path, files: Mapping[str, bytes]) -> None:
    folder.mkdir()
    _write_files(folder, files)


def _recorded_seed(target: Path) -> str:
    """The seed of an earlier full run in ``target`` (``--only`` must reproduce its numbers)."""
    path = target / "keys.json"
    try:
        seed = json.loads(path.read_text("utf-8"))["seed"]
    except (OSError, ValueError, KeyError, TypeError):
        raise GradegenError(
            f"--only needs the assignment's --seed, or {path} from the full run to read it from"
        ) from None
    return str(seed)


def combine_tex(documents: Sequence[str]) -> str:
    """One LaTeX document holding several complete ones, each starting on a fresh page at page 1."""
    begin, end = r"\begin{document}", r"\end{document}"
    preamble = documents[0].split(begin, 1)[0]
    bodies = [doc.split(begin, 1)[1].rsplit(end, 1)[0] for doc in documents]
    pages = "\n\\clearpage\\setcounter{page}{1}\n".join(bodies)
    return f"{preamble}{begin}{pages}{end}\n"

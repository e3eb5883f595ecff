"""``gradegen generate``: evaluate a spec (or a class of variants), render, write all or nothing."""

from __future__ import annotations

import gc
import json
import multiprocessing
import os
import re
import shutil
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from gradegen.core.key import resolve_ask
from gradegen.core.network import build_graph
from gradegen.core.spec import Spec
from gradegen.documents.compiled import BLOCK
from gradegen.documents.render import Renderer
from gradegen.errors import GradegenError
from gradegen.files import forked, replace_dir, staging_dir, write_new, write_text_atomic
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
    files = Renderer(spec, graph, exact_values, hand_values, asked, exact_mode=exact, templates=templates)(0)
    engine = None
    if pdf:
        from gradegen.documents.pdf import find_engine

        engine = find_engine()  # fail before writing anything when there is no TeX
    with staged(target) as stage:
        _write_files(stage, files)
        if engine is not None:
            from gradegen.documents.pdf import compile_pdf

            for name in ("solution", "worksheet"):
                tex = files[f"{name}.tex"].decode()
                compile_pdf(tex, stage / f"{name}.pdf", engine=engine, name=name)
    return target


@contextmanager
def staged(target: Path) -> Iterator[Path]:
    """A staging folder that replaces ``target`` when the block succeeds, and vanishes if not."""
    stage = staging_dir(target)
    try:
        stage.chmod(0o755)  # mkdtemp makes it private; the documents are meant to be shared
        yield stage
        replace_dir(target, stage)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise


def _write_files(folder: Path, files: Mapping[str, bytes]) -> None:
    base = f"{folder}{os.sep}"  # plain strings, not a Path per file: a class run writes thousands
    for name, data in files.items():
        write_new(base + name, data)


CLASS_FILES = ("solution.md", "solution.tex", "worksheet.md", "worksheet.tex", "answers.yaml", "network.svg")
"""What each student's folder holds; the keys stay together in keys.json, away from the handouts."""


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
) -> VariantSet:
    """One folder per student with their own numbers, plus ``keys.json`` (and combined PDFs).

    All variants are drawn and solved in one batched pass. With ``only``, just those students'
    folders are rewritten (identical to the full run's), using the seed of ``DIR/keys.json`` when
    no ``seed`` is given; nothing else in DIR changes.
    """
    target = Path(out_dir) if out_dir is not None else default_out(spec)
    if only is not None and seed is None:
        seed = _recorded_seed(target)
    variants = make_variants(spec, roster.ids, seed=seed, asked=ask, only=only)
    engine = None
    if pdf and only is None:
        from gradegen.documents.pdf import find_engine

        engine = find_engine()
    names = dict(zip(roster.ids, roster.names, strict=True))
    # the documents show no spec numbers (those are in keys.json): the base spec will do
    renderer = Renderer(
        variants.spec, variants.graph, variants.exact, variants.hand, variants.asked,
        exact_mode=exact, templates=templates, files=CLASS_FILES,
    )  # fmt: skip

    def render(i: int) -> dict[str, bytes]:
        student = variants.ids[i]
        return renderer(i, student, names[student])

    if only is not None:
        for i, folder in enumerate(variants.folders):
            with staged(target / folder) as stage:
                _write_files(stage, render(i))
        return variants
    with staged(target) as stage:
        if engine is None and _forkable(len(variants)):
            first = variants.ids[0]

            def prepare() -> None:  # compile the documents once, for every worker to inherit
                renderer(0, first, names[first])

            _write_forked(stage, variants, prepare, render, quiet)
            return variants
        texs = _write_threaded(stage, variants, render, quiet, keep_tex=engine is not None)
        write_text_atomic(stage / "keys.json", keys_json(variants))
        if engine is not None:
            from gradegen.documents.pdf import compile_pdf

            for name, kept in texs.items():
                compile_pdf(combine_tex(kept), stage / f"{name}s.pdf", engine=engine, name=f"{name}s")
    return variants


Render = Callable[[int], dict[str, bytes]]

_WRITERS = 2  # threads writing students' folders (more contend on the file system's journal)


def _write_threaded(
    stage: Path, variants: VariantSet, render: Render, quiet: bool, *, keep_tex: bool
) -> dict[str, list[str]]:
    """Render each student's folder in turn; threads write them (returns the .tex when kept)."""
    texs: dict[str, list[str]] = {"worksheet": [], "solution": []}
    with (
        progress(len(variants.ids), "rendering documents", quiet=quiet) as bar,
        ThreadPoolExecutor(max_workers=_WRITERS) as pool,
    ):
        # writing is mostly waiting on the file system, which other threads can do while the
        # next student renders; the pool finishes every write before the stage is renamed
        writes = []
        for i, folder in enumerate(variants.folders):
            files = render(i)
            writes.append(pool.submit(_write_folder, stage / folder, files))
            if keep_tex:
                for name, kept in texs.items():
                    kept.append(files[f"{name}.tex"].decode())
            bar.advance()
        for write in writes:
            write.result()  # raises the first failed write, so the stage is discarded
    return texs


_PROCESSES = 2  # worker processes for a large class (this is a 2-core target)
_FORK_ABOVE = 256  # students: a smaller class renders in turn in about the time forking takes
# Students per task: one block of the renderer's (its numbers formatted once), and small enough
# that both workers finish together.
_CHUNK = BLOCK
_JOB: Callable[[int, int], int] | None = None  # what a forked worker runs, inherited from the parent


def _forkable(count: int) -> bool:
    """Whether to render in worker processes: a large class, several cores, and fork."""
    cores = os.cpu_count() or 1
    return count > _FORK_ABOVE and cores > 1 and "fork" in multiprocessing.get_all_start_methods()


def _write_forked(
    stage: Path, variants: VariantSet, prepare: Callable[[], None], render: Render, quiet: bool
) -> None:
    """A child writes keys.json while this process compiles the documents (``prepare``, on the
    core that would otherwise wait); then workers forked from it render and write chunks of
    students. Each student's files depend on their index alone."""
    global _JOB

    def job(lo: int, hi: int) -> int:
        for i in range(lo, hi):
            _write_folder(stage / variants.folders[i], render(i))
        return hi - lo

    count = len(variants.ids)
    try:
        with forked(lambda: write_text_atomic(stage / "keys.json", keys_json(variants)), "writing keys.json"):
            prepare()  # compiled here, once, for every worker to inherit
            _JOB = job
            # Rendering makes no reference cycles, so workers skip garbage collection: it would only
            # re-scan what they inherited and each block's lists of texts, again and again.
            with multiprocessing.get_context("fork").Pool(_PROCESSES, initializer=gc.disable) as pool:
                chunks = [(lo, min(lo + _CHUNK, count)) for lo in range(0, count, _CHUNK)]
                done = pool.imap_unordered(_run_job, chunks)
                with progress(count, "rendering documents", quiet=quiet) as bar:
                    for written in done:  # re-raises a worker's error, so the stage is discarded
                        bar.advance(written)
    finally:
        _JOB = None


def _run_job(bounds: tuple[int, int]) -> int:
    assert _JOB is not None
    return _JOB(*bounds)


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

"""The ``gradegen`` command: parses arguments, calls the library, prints. Nothing else."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from gradegen.console import ForceOpt, SpecArg, err, out, user_errors
from gradegen.core.options import Diagram, Level, Style
from gradegen.errors import GradegenError
from gradegen.escape import json_terminal_safe, terminal_safe
from gradegen.presets import Preset
from gradegen.reports.choices import FeedbackMode

if TYPE_CHECKING:
    pass

app = typer.Typer(
    help="Exact backpropagation exercises: solve, generate documents, make variants, grade.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


INTERRUPTED = 130
"""The exit code after Ctrl-C (128 + SIGINT, as shells report it); typer exits with it on a
KeyboardInterrupt wherever it comes."""


def main() -> None:
    """Entry point of the console script."""
    try:
        app()
    except SystemExit as exc:
        if exc.code == INTERRUPTED:
            # every write is staged and the staging removed on the way out: nothing was written
            err().print("interrupted; nothing was written", markup=False)
        raise


@app.command()
def init(
    path: Annotated[Path, typer.Argument(help="Where to write the starter spec.")] = Path("spec.yaml"),
    preset: Annotated[Preset, typer.Option(help="Built-in network to start from.")] = Preset.HANDOUT,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented starter spec."""
    from gradegen.core.spec import preset_text
    from gradegen.files import write_text_atomic

    with user_errors():
        if path.exists() and not force:
            raise GradegenError(f"{path}: already exists; pass --force to overwrite it")
        write_text_atomic(path, preset_text(preset))
    out().print(terminal_safe(f"wrote {path} (the {preset} network)"), markup=False)


@app.command()
def solve(
    spec: SpecArg = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    steps: Annotated[
        int | None, typer.Option(help="Training steps, 1 to 10,000 (default: the spec's steps).")
    ] = None,
    exact: Annotated[bool, typer.Option("--exact", help="Full precision, not hand values.")] = False,
) -> None:
    """Print every quantity of a training step: the forward pass, loss, chain rule and updates."""
    from gradegen.core.spec import load_spec
    from gradegen.core.training import solve as solve_spec

    with user_errors():
        solution = solve_spec(load_spec(spec), steps, source=str(spec or "spec"))
    if as_json:
        sys.stdout.write(json.dumps(solution.to_dict(), indent=2, allow_nan=False) + "\n")
        return
    # Plain aligned text rather than a rich table: importing and laying out rich took a sixth of
    # this command's time.
    table = _aligned([("ID", "symbol", "formula", "value"), *solution.rows(exact=exact)])
    typer.echo(f"{terminal_safe(solution.spec.title)}\n\n{table}")
    if len(solution.history) > 1:
        losses = ", ".join(f"{loss:.6g}" for loss in solution.history)
        typer.echo(f"loss at each step: {losses}")


def _aligned(rows: list[tuple[str, ...]]) -> str:
    """Rows as columns padded to their widest cell (the last one right-aligned), a rule under the first."""
    widths = [max(len(row[j]) for row in rows) for j in range(len(rows[0]))]
    rule = tuple("-" * w for w in widths)
    lines = [
        "  ".join([*(c.ljust(w) for c, w in zip(row[:-1], widths, strict=False)), row[-1].rjust(widths[-1])])
        for row in (rows[0], rule, *rows[1:])
    ]
    return "\n".join(lines)


@app.command()
def generate(
    spec: SpecArg = None,
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Folder to write into: new, empty or an earlier one of gradegen's (see --force). "
            "Default: output/<slug of the spec's title>.",
        ),
    ] = None,
    ask: Annotated[
        str | None,
        typer.Option(
            help="Questions to ask: groups (forward, loss, output_gradients, hidden_gradients, updates; "
            "after_update and steps, not asked by default) and/or quantity IDs, comma-separated. "
            "Default: what --level asks (standard: everything); with --ask the level still decides "
            "what is given and the points."
        ),
    ] = None,
    exact: Annotated[bool, typer.Option("--exact", help="Full precision, not hand values.")] = False,
    pdf: Annotated[bool, typer.Option("--pdf", help="Also compile the PDFs (needs a TeX engine).")] = False,
    templates: Annotated[
        Path | None,
        typer.Option(help="Folder of templates overriding the built-in ones by file name."),
    ] = None,
    roster: Annotated[
        Path | None,
        typer.Option(
            help="The class list: an LMS export (Canvas, Moodle, Brightspace, Blackboard) or a CSV/xlsx/ods "
            "with an id column (optionally name): one variant each.",
            rich_help_panel="Variants",
        ),
    ] = None,
    variants: Annotated[
        int | None,
        typer.Option(help="N anonymous variants v001, v002, … (at most 200,000)", rich_help_panel="Variants"),
    ] = None,
    seed: Annotated[
        str | None,
        typer.Option(
            help="The assignment's secret seed. Default: a new one, recorded in keys.json.",
            rich_help_panel="Variants",
        ),
    ] = None,
    only: Annotated[
        str | None,
        typer.Option(
            help="Regenerate just this student's folder (same numbers as the full run).",
            rich_help_panel="Variants",
        ),
    ] = None,
    html: Annotated[
        bool,
        typer.Option(
            "--html",
            help="Also write self-contained HTML pages: worksheet.html with an answer form, "
            "solution.html and key.html (in class runs: worksheet.html per student folder, the others "
            "under solutions/ and keys/).",
        ),
    ] = False,
    practice: Annotated[
        bool,
        typer.Option(
            "--practice",
            help="Also write practice.html: the worksheet with its key built in, checking each answer "
            "as it is typed (in class runs: under practices/, outside the student folders).",
        ),
    ] = False,
    style: Annotated[
        Style | None,
        typer.Option(
            help="How the solution is written: full (every chain rule in full), compact (per-layer "
            "tables, one chain worked per layer) or matrix (vectors and matrices). Default: the "
            "spec's, else full up to 24 weights and biases and compact above.",
            rich_help_panel="Documents",
        ),
    ] = None,
    notes: Annotated[
        bool | None,
        typer.Option(
            "--notes/--no-notes",
            help="The short derivations and remarks where each idea is first needed. Default: on.",
            rich_help_panel="Documents",
        ),
    ] = None,
    diagram: Annotated[
        Diagram | None,
        typer.Option(
            help="plain: the network and its given numbers; values: also every forward value and "
            "gradient on it, dead units marked. Default: plain.",
            rich_help_panel="Documents",
        ),
    ] = None,
    level: Annotated[
        Level | None,
        typer.Option(
            help="The worksheet: scaffolded (part of the work filled in), standard (everything) or "
            "exam (one quantity of each kind along one path, with points). Default: standard. "
            "scaffolded gives the forward pass not asked and by default asks the rest; exam points: "
            "3 a hidden gradient, 2 an output or bias gradient, 1 the rest (the spec's points: win).",
            rich_help_panel="Documents",
        ),
    ] = None,
    steps: Annotated[
        int | None,
        typer.Option(
            help="Training steps shown in the solution's appendix, 1 to 10,000 (default: the spec's).",
            rich_help_panel="Documents",
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar or summary.")] = False,
    force: ForceOpt = False,
) -> None:
    """Write the worked solution, worksheet, answer sheet, keys and diagram for a spec.

    With --roster or --variants: one folder per student with their own numbers, plus keys.json
    and every student's printable key in keys.md and keys.tex, never in a student's folder (and
    with --pdf, worksheets.pdf, solutions.pdf and keys.pdf for printing).
    """
    from gradegen.core.options import with_documents
    from gradegen.core.spec import load_spec
    from gradegen.documents.generate import generate as generate_documents
    from gradegen.documents.generate import generate_class
    from gradegen.outputs import written_names
    from gradegen.variants.roster import Roster, read_roster

    finder: Callable[..., Any] | None = None
    if practice:
        from gradegen.grading.practice import practice_key

        finder = practice_key

    with user_errors():
        if roster is not None and variants is not None:
            raise GradegenError("--roster and --variants: give one or the other")
        if (only or seed) and roster is None and variants is None:
            raise GradegenError("--seed and --only go with --roster or --variants")
        loaded = with_documents(
            load_spec(spec), style=style, notes=notes, diagram=diagram, level=level, steps=steps
        )
        if roster is None and variants is None:
            target = generate_documents(
                loaded, out_dir, ask=ask, exact=exact, pdf=pdf, templates=templates, force=force,
                html=html, practice=finder,
            )  # fmt: skip
            if not quiet:
                names = written_names(target)
                text = f"wrote {target}: {', '.join(names)}"
                out().print(terminal_safe(text), markup=False, soft_wrap=True)
            return
        students = read_roster(roster) if roster is not None else Roster.anonymous(variants or 0)
        made = generate_class(
            loaded, students, out_dir, seed=seed, only=None if only is None else [only], ask=ask,
            exact=exact, pdf=pdf, templates=templates, quiet=quiet, force=force, html=html,
            practice=finder,
        )  # fmt: skip
    if not quiet:
        where = out_dir if out_dir is not None else "output/"
        what = f"{len(made.ids)} student folder" + ("s" if len(made.ids) != 1 else "")
        text = f"wrote {what} under {where} (seed {made.seed})"
        out().print(terminal_safe(text), markup=False, soft_wrap=True)


@app.command()
def key(
    keys: Annotated[
        Path,
        typer.Argument(help="A class's keys.json (from generate --roster/--variants).", show_default=False),
    ],
    student: Annotated[str, typer.Option("--student", help="The student id.", show_default=False)],
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Write the key to this file instead of printing it.")
    ] = None,
) -> None:
    """Print one student's full key: their spec with their numbers, the asked IDs and every value,
    exactly as a single key.json holds it."""
    from gradegen.core.classkeys import student_key
    from gradegen.files import write_text_atomic

    with user_errors():
        text = student_key(keys, student).to_json()
        if out_file is not None:
            write_text_atomic(out_file, text)
    if out_file is None:
        sys.stdout.write(text)


@app.command()
def grade(
    key: Annotated[
        Path,
        typer.Argument(
            help="key.json, keys.json (per-student keys) or a spec (then everything is asked).",
            show_default=False,
        ),
    ],
    submissions: Annotated[
        list[Path],
        typer.Argument(
            help="answers.yaml/.json files, folders of them, CSV/xlsx/ods tables (student column + one "
            "per ID).",
            show_default=False,
        ),
    ],
    out_dir: Annotated[
        Path,
        typer.Option(
            "--out", help="Folder for the reports: new, empty or an earlier grades folder (see --force)."
        ),
    ] = Path("output/grades"),
    as_json: Annotated[bool, typer.Option("--json", help="Also print results.json on stdout.")] = False,
    rtol: Annotated[
        float | None,
        typer.Option(
            help="Relative tolerance for every item (overrides the key).", rich_help_panel="Tolerance"
        ),
    ] = None,
    atol: Annotated[
        float | None,
        typer.Option(
            help="Absolute tolerance for every item (overrides the key).", rich_help_panel="Tolerance"
        ),
    ] = None,
    ecf_credit: Annotated[
        float,
        typer.Option(
            help="Share of an item's points earned by follow-through (0 to 1).", rich_help_panel="Tolerance"
        ),
    ] = 1.0,
    feedback: Annotated[
        FeedbackMode,
        typer.Option(
            help="Feedback as feedback/<student>.md files (.html with --feedback-format html), one "
            "feedback.zip of them (fast for a large class), or none."
        ),
    ] = FeedbackMode.FILES,
    gradebook: Annotated[
        list[str] | None,
        typer.Option(
            metavar="<plain|canvas|moodle|brightspace|blackboard>",
            help="Gradebook to write: plain (gradebook.csv), canvas, moodle, brightspace or blackboard "
            "(the file that LMS's grade import takes). Repeat for several. Default: plain.",
            rich_help_panel="Gradebook",
        ),
    ] = None,
    roster: Annotated[
        Path | None,
        typer.Option(
            help="The class list (an LMS export or a CSV/xlsx/ods with an id column): gradebook rows in "
            "its order, empty grades for its students without a submission; submissions by students "
            "not in it are reported.",
            rich_help_panel="Gradebook",
        ),
    ] = None,
    assignment: Annotated[
        str | None,
        typer.Option(
            help="The grade column's name in the LMS gradebooks. Default: the spec's title.",
            rich_help_panel="Gradebook",
        ),
    ] = None,
    canvas_assignment_id: Annotated[
        str | None,
        typer.Option(
            help="The Canvas assignment's id (the digits ending its address): its column is updated "
            "rather than one matched or made by title.",
            rich_help_panel="Gradebook",
        ),
    ] = None,
    missing_as_zero: Annotated[
        bool,
        typer.Option(
            "--missing-as-zero",
            help="A roster's student without a submission gets 0, not an empty grade.",
            rich_help_panel="Gradebook",
        ),
    ] = False,
    feedback_format: Annotated[
        str,
        typer.Option(
            "--feedback-format",
            help="Feedback pages as md (feedback/<student>.md) or html (feedback/<student>.html, "
            "self-contained pages).",
        ),
    ] = "md",
    quiet: Annotated[bool, typer.Option("--quiet", help="No summary on stdout.")] = False,
    force: ForceOpt = False,
) -> None:
    """Grade students' answers: tolerances, follow-through credit, mistake diagnosis, feedback, gradebooks."""
    from gradegen.grading.grade import grade as grade_answers
    from gradegen.reports.results import iter_results_json
    from gradegen.reports.write import write_reports
    from gradegen.variants.roster import read_roster

    with user_errors():
        if missing_as_zero and roster is None:
            raise GradegenError("--missing-as-zero goes with --roster (who is missing is the roster's)")
        students = read_roster(roster) if roster is not None else None
        results = grade_answers(
            key, submissions, rtol=rtol, atol=atol, ecf_credit=ecf_credit, roster=students
        )
        try:
            write_reports(
                results, out_dir, feedback=feedback, feedback_format=feedback_format,
                gradebook=gradebook or ["plain"], assignment=assignment or "",
                canvas_assignment_id=canvas_assignment_id, missing_as_zero=missing_as_zero, force=force,
            )  # fmt: skip
        except OSError as exc:
            raise GradegenError(f"--out: cannot write {out_dir}: {exc.strerror or exc}") from None
    if as_json:
        sys.stdout.writelines(json_terminal_safe(chunk.decode()) for chunk in iter_results_json(results))
        return
    if quiet:
        return
    from rich.table import Table
    from rich.text import Text

    summary = results.summary()
    title = Text(terminal_safe(f"Graded {summary['students']} students → {out_dir}"))  # not markup
    table = Table(title=title, title_justify="left")
    for column in ("students", "mean %", "median %", "problems"):
        table.add_column(column, justify="right")
    table.add_row(
        str(summary["students"]), f"{summary['mean']:.1f}", f"{summary['median']:.1f}", str(summary["errors"])
    )
    out().print(table)
    if results.roster is not None:
        missing = len(set(results.roster.ids) - set(results.ids))
        if missing:
            given = "0" if missing_as_zero else "an empty grade"
            who = f"{missing} student{'s' if missing != 1 else ''} of the roster"
            out().print(f"  {who} without a submission: {given}", markup=False)
    for error in results.errors[:10]:
        out().print(terminal_safe(f"  {error.file}: {error.message}"), markup=False)
    if len(results.errors) > 10:
        out().print(f"  … and {len(results.errors) - 10} more (see summary.md)", markup=False)


# the export command group (its own module: cli.py would pass 500 lines)
from gradegen.cli_export import export_app  # noqa: E402

app.add_typer(export_app, name="export")

"""``gradegen export``: an assignment inside an LMS or an autograder (parses, calls the library, prints)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gradegen.console import ForceOpt, SpecArg, out, user_errors
from gradegen.errors import GradegenError
from gradegen.escape import terminal_safe

ReplaceOpt = Annotated[bool, typer.Option("--force", help="Replace an existing zip.")]

export_app = typer.Typer(
    help="Put an assignment inside an LMS or an autograder: a Moodle or Canvas quiz, a Gradescope "
    "autograder.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


@export_app.command("moodle")
def export_moodle(
    spec: SpecArg = None,
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder for quiz.xml and keys.json: new, empty or an earlier one.")
    ] = Path("output/moodle"),
    variants: Annotated[
        int | None, typer.Option(help="N variants v001, v002, … (one question each).")
    ] = None,
    roster: Annotated[
        Path | None, typer.Option(help="A class list: one variant per student, named by their id.")
    ] = None,
    seed: Annotated[
        str | None, typer.Option(help="The assignment's secret seed. Default: a new one.")
    ] = None,
    ask: Annotated[
        str | None, typer.Option(help="Questions to ask (as generate --ask). Default: everything.")
    ] = None,
    force: ForceOpt = False,
) -> None:
    """Write a Moodle quiz (quiz.xml: a Cloze question per variant in one category) and its keys.json.

    Import quiz.xml into the question bank, add "a random question from this category" to a quiz:
    every attempt then gets one variant. Regrade with: gradegen grade DIR/keys.json responses.csv
    """
    from gradegen.core.spec import load_spec
    from gradegen.exports.moodle import export_moodle as write_quiz
    from gradegen.variants.roster import Roster, read_roster

    with user_errors():
        if (roster is None) == (variants is None):
            raise GradegenError("give --variants N or --roster FILE (one of them)")
        students = read_roster(roster) if roster is not None else Roster.anonymous(variants or 0)
        made = write_quiz(load_spec(spec), out_dir, students, seed=seed, ask=ask, force=force)
    text = f"wrote {out_dir}: quiz.xml ({len(made)} Cloze questions), keys.json (seed {made.seed})"
    out().print(terminal_safe(text), markup=False, soft_wrap=True)


@export_app.command("gradescope")
def export_gradescope(
    keys: Annotated[Path, typer.Argument(help="The class's keys.json.", show_default=False)],
    out_file: Annotated[Path, typer.Option("--out", help="The zip to write.")] = Path("autograder.zip"),
    wheel: Annotated[
        Path | None, typer.Option(help="gradegen's wheel (default: built from this checkout).")
    ] = None,
    force: ReplaceOpt = False,
) -> None:
    """Write a Gradescope autograder (setup.sh, run_autograder, the keys, gradegen's wheel).

    Each submission is graded against the submitter's own key, found by the email or student id
    in Gradescope's submission metadata; the class list's ids must be those emails or ids.
    """
    from gradegen.exports.gradescope import export_gradescope as write_bundle

    with user_errors():
        target = write_bundle(keys, out_file, wheel=wheel, force=force)
    out().print(terminal_safe(f"wrote {target}"), markup=False, soft_wrap=True)


@export_app.command("canvas")
def export_canvas(
    spec: SpecArg = None,
    out_file: Annotated[Path, typer.Option("--out", help="The QTI zip to write.")] = Path("quiz.zip"),
    ask: Annotated[
        str | None, typer.Option(help="Questions to ask (as generate --ask). Default: everything.")
    ] = None,
    force: ReplaceOpt = False,
) -> None:
    """Write a Canvas answer-entry quiz (Classic Quizzes, QTI 1.2): a fill-in item per question.

    Canvas collects the answers only; students type them from their own worksheet. Regrade with:
    gradegen grade keys.json student_analysis.csv --gradebook canvas
    """
    from gradegen.core.spec import load_spec
    from gradegen.exports.canvas import export_canvas as write_quiz

    with user_errors():
        target = write_quiz(load_spec(spec), out_file, ask=ask, force=force)
    out().print(terminal_safe(f"wrote {target}"), markup=False, soft_wrap=True)

"""Writing graded results: results.json, gradebook.csv, feedback/<student>.md and summary.md.

Everything is written to a staging folder beside the output folder and renamed into place, so a
reader sees the old reports or the new ones, never a mix; the same results give the same bytes.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import re
import shutil
from collections import Counter
from pathlib import Path

import numpy as np

from gradegen.diagnosis import EXPLANATIONS, Mistake
from gradegen.files import replace_dir, staging_dir
from gradegen.grading import GradingResults, Verdict
from gradegen.graph import Kind
from gradegen.rounding import shortest

DEFAULT_OUT = Path("output/grades")

_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#!|~&])")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def safe_filename(student: str, taken: set[str]) -> str:
    """A readable file name for a student id that stays inside its folder and is unique.

    Letters, digits, ``.``, ``_`` and ``-`` are kept; anything else (``/``, ``..``, spaces…)
    becomes ``_``. When that changed the id, left it empty, gives a reserved device name (CON,
    NUL, COM1…) or a name already taken (compared without case), a short hash of the id is added.
    """
    slug = _UNSAFE.sub("_", student).strip("._")[:60] or "student"
    needs_hash = slug != student or slug.split(".")[0].lower() in _RESERVED or slug.lower() in taken
    name = f"{slug}-{hashlib.sha256(student.encode('utf-8')).hexdigest()[:8]}" if needs_hash else slug
    base, count = name, 1
    while name.lower() in taken:
        count += 1
        name = f"{base}-{count}"
    taken.add(name.lower())
    return name


def md_escape(text: str) -> str:
    """A user's text made inert in Markdown (one line, special characters escaped)."""
    escaped = _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))
    return "\\" + escaped if escaped.startswith(("-", "+", "=")) else escaped


def spreadsheet_safe(cell: str) -> str:
    """A CSV cell that a spreadsheet will not run as a formula: prefixed with ``'`` when it starts
    with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return and is not a number."""
    if cell.startswith(_FORMULA_START) and not _NUMBER.fullmatch(cell):
        return "'" + cell
    return cell


def _num(x: float) -> str:
    """A score as short text (6 decimals at most)."""
    return shortest(round(x, 6)).replace("−", "-")


def _percent(score: float, possible: float) -> float:
    return 100.0 * score / possible if possible > 0 else 0.0


def gradebook_csv(results: GradingResults) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", "score", "max", "percent"])
    for student, score, possible in zip(results.ids, results.scores, results.maxima, strict=True):
        writer.writerow(
            [spreadsheet_safe(student), _num(score), _num(possible), f"{_percent(score, possible):.1f}"]
        )
    return buffer.getvalue()


def _fmt(x: float | None, digits: int = 6) -> str:
    if x is None or not math.isfinite(x):
        return "—"
    return f"{x:.{digits}g}".replace("-", "−")


def _interval(lo: float, hi: float) -> str:
    """[lo, hi] with just enough significant figures to tell the ends apart."""
    for digits in range(6, 16):
        a, b = f"{lo:.{digits}g}", f"{hi:.{digits}g}"
        if a != b:
            break
    return f"[{a}, {b}]".replace("-", "−")


def feedback_markdown(results: GradingResults, index: int) -> str:
    """One student's feedback: what was right, each mistake with its diagnosis and the working."""
    student = results.student(index)
    g, _ = results.rows[index]
    group = results.groups[g]
    graph = group.graph
    k = int(group.key_index[results.rows[index][1]])
    hand = group.hand
    lines = [
        f"# Feedback for {md_escape(student.student)}",
        "",
        f"Score: **{_num(student.score)} / {_num(student.max)}** "
        f"({_percent(student.score, student.max):.1f}%)",
        "",
    ]
    right = [q for q, it in student.items.items() if it.verdict is Verdict.CORRECT]
    follow = [q for q, it in student.items.items() if it.verdict is Verdict.FOLLOW_THROUGH]
    wrong = [
        q for q, it in student.items.items() if it.verdict not in (Verdict.CORRECT, Verdict.FOLLOW_THROUGH)
    ]
    if right:
        lines += ["## Right", "", ", ".join(f"`{q}`" for q in right), ""]
    if follow:
        lines += ["## Follow-through", ""]
        for q in follow:
            it = student.items[q]
            share = it.points / it.max_points if it.max_points else 0.0
            lines.append(
                f"- `{q}` ({graph[q].label}): your {md_escape(it.raw or '')} is not the key's "
                f"{hand.text(q, k)}, but it follows correctly from your own earlier answers "
                f"(they give {_fmt(it.follow)}); credited {share:.0%} of its points."
            )
        lines.append("")
    if wrong:
        lines += ["## To review", ""]
        for q in wrong:
            it = student.items[q]
            node = graph[q]
            lines.append(f"### `{q}`: {node.label}, {node.meaning}")
            lines.append("")
            step = "the step w − w_new " if node.kind is Kind.UPDATE else ""
            if it.verdict is Verdict.MISSING:
                lines.append("- Your answer: missing.")
            elif it.verdict is Verdict.UNPARSEABLE:
                lines.append(f"- Your answer {md_escape(it.raw or '')} could not be read as a number.")
            else:
                lines.append(f"- Your answer: {md_escape(it.raw or '')}.")
            lines.append(
                f"- Expected {hand.text(q, k)} (exactly {_fmt(it.exact, 10)}); accepted "
                f"{_interval(*it.accepted)} ({step}{group.rule[q].describe()})."
            )
            if it.diagnosis is not None:
                lines.append(f"- Likely mistake (`{it.diagnosis.value}`): {EXPLANATIONS[it.diagnosis]}")
            if node.formula is not None:
                symbolic = node.formula.render([graph[p].label for p in node.parents], latex=False)
                numbers = node.formula.render(
                    [hand.text(p, k) for p in node.parents], latex=False, numbers=True
                )
                lines.append(f"- Working: {node.label} = {symbolic} = {numbers} = {hand.text(q, k)}")
            lines.append("")
    if student.errors:
        lines += ["## Problems with your submission", ""]
        lines += [f"- {md_escape(e)}" for e in student.errors]
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def summary_markdown(results: GradingResults) -> str:
    """Class statistics: mean, median, a histogram, per-item results and the broken submissions."""
    n = len(results)
    percent = np.array([_percent(s, m) for s, m in zip(results.scores, results.maxima, strict=True)])
    lines = ["# Grading summary", "", f"- Students graded: {n}"]
    if n:
        lines += [
            f"- Mean: {percent.mean():.1f}%",
            f"- Median: {float(np.median(percent)):.1f}%",
            f"- Mean score: {_num(float(results.scores.mean()))} of {_num(float(results.maxima.mean()))}",
        ]
    lines += ["", "## Distribution", "", "| percent | students | |", "|---|---:|---|"]
    bins = np.minimum((percent // 10).astype(int), 9) if n else np.zeros(0, dtype=int)
    counts = np.bincount(bins, minlength=10)
    top = max(int(counts.max()), 1) if n else 1
    for b in range(10):
        label = f"{b * 10}–{b * 10 + 10}" + ("" if b < 9 else " (incl. 100)")
        bar = "█" * round(30 * int(counts[b]) / top)
        lines.append(f"| {label} | {int(counts[b])} | {bar} |")
    lines += [
        "",
        "## Items",
        "",
        "| item | correct | follow-through | incorrect | missing | unparseable | most common diagnoses |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    order: list[str] = []
    tallies: dict[str, Counter[str]] = {}
    diagnoses: dict[str, Counter[str]] = {}
    for group in results.groups:
        rows = np.array([r for g, r in results.rows if results.groups[g] is group], dtype=np.intp)
        for q in group.asked:
            if q not in tallies:
                order.append(q)
                tallies[q], diagnoses[q] = Counter(), Counter()
            column = group.columns[q]
            verdicts = column.verdict[rows]
            for code, count in zip(*np.unique(verdicts, return_counts=True), strict=True):
                tallies[q][list(Verdict)[int(code)].value] += int(count)
            codes = column.diagnosis[rows]
            codes = codes[codes >= 0]
            for code, count in zip(*np.unique(codes, return_counts=True), strict=True):
                diagnoses[q][list(Mistake)[int(code)].value] += int(count)
    for q in order:
        total = sum(tallies[q].values()) or 1
        cells = [f"{100 * tallies[q][v.value] / total:.1f}%" for v in Verdict]
        common = ", ".join(
            f"{code} ({count})"
            for code, count in sorted(diagnoses[q].items(), key=lambda kv: (-kv[1], kv[0]))[:3]
        )
        lines.append(f"| `{q}` | " + " | ".join(cells) + f" | {common or '—'} |")
    lines += ["", "## Diagnoses", ""]
    lines += [f"- `{code.value}`: {text}" for code, text in EXPLANATIONS.items()]
    broken = [(e.file, e.message) for e in results.errors]
    broken += [
        (results.sources[i], f"{results.ids[i]}: {msg}")
        for i, errors in enumerate(results.student_errors)
        for msg in errors
    ]
    lines += ["", "## Broken submissions", ""]
    lines += [f"- {md_escape(f)}: {md_escape(m)}" for f, m in broken] or ["None."]
    return "\n".join(lines) + "\n"


def write_reports(results: GradingResults, out_dir: str | Path = DEFAULT_OUT) -> Path:
    """Write every report to ``out_dir`` atomically (staged beside it, then renamed into place)."""
    target = Path(out_dir)
    build = staging_dir(target)
    build.chmod(0o755)  # mkdtemp makes it private; the reports are for the course staff
    try:
        (build / "results.json").write_text(results.to_json(), encoding="utf-8")
        (build / "gradebook.csv").write_text(gradebook_csv(results), encoding="utf-8", newline="")
        (build / "summary.md").write_text(summary_markdown(results), encoding="utf-8")
        feedback = build / "feedback"
        feedback.mkdir()
        taken: set[str] = set()
        for i, student in enumerate(results.ids):
            name = safe_filename(student, taken)
            (feedback / f"{name}.md").write_text(feedback_markdown(results, i), encoding="utf-8")
        replace_dir(target, build)
    except BaseException:
        shutil.rmtree(build, ignore_errors=True)
        raise
    return target


def student_feedback(results: GradingResults, student: str) -> str:
    """The feedback Markdown for one student id (for scripts)."""
    return feedback_markdown(results, results.ids.index(student))

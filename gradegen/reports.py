"""Writing graded results: results.json, gradebook.csv, feedback/<student>.md and summary.md.

Everything is written to a staging folder beside the output folder and renamed into place, so a
reader sees the old reports or the new ones, never a mix; the same results give the same bytes.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import os
import re
import shutil
from collections import Counter
from functools import lru_cache
from pathlib import Path

import numpy as np

from gradegen.diagnosis import EXPLANATIONS, Mistake
from gradegen.errors import GradegenError
from gradegen.files import replace_dir, staging_dir
from gradegen.grading import GradingResults, GroupResult, Verdict
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


@lru_cache(maxsize=1 << 16)
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


def _short(text: str, limit: int = 80) -> str:
    """A student's text as shown in feedback: at most ``limit`` characters."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _num(x: float) -> str:
    """A score as short text (6 decimals at most)."""
    return shortest(round(x, 6)).replace("−", "-")


def _percent(score: float, possible: float) -> float:
    return 100.0 * score / possible if possible > 0 else 0.0


def gradebook_csv(results: GradingResults) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", "score", "max", "percent"])
    for student, score, possible in zip(
        results.ids, results.scores.tolist(), results.maxima.tolist(), strict=True
    ):
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


class _Texts:
    """Feedback text that depends only on the key, not on the student: built once per key and item."""

    def __init__(self) -> None:
        self.cache: dict[tuple[int, int, str], tuple[str, str, list[str]]] = {}
        self.verdicts: dict[int, list[list[int]]] = {}

    def verdict_rows(self, group: GroupResult) -> list[list[int]]:
        """Each row's verdict codes, in asked order (one numpy pass per group, not per student)."""
        rows = self.verdicts.get(id(group))
        if rows is None:
            stacked = np.stack([group.columns[q].verdict for q in group.asked], axis=1)
            rows = self.verdicts[id(group)] = stacked.tolist()
        return rows

    def get(self, group: GroupResult, k: int, q: str) -> tuple[str, str, list[str]]:
        """The key's hand value, the heading, and the expected/working lines for item ``q``."""
        entry = self.cache.get((id(group), k, q))
        if entry is None:
            graph, hand, c = group.graph, group.hand, group.columns[q]
            node = graph[q]
            step = "the step w − w_new " if node.kind is Kind.UPDATE else ""
            value = hand.text(q, k)
            lines = [
                f"- Expected {value} (exactly {_fmt(float(c.exact_k[k]), 10)}); accepted "
                f"{_interval(float(c.lo_k[k]), float(c.hi_k[k]))} ({step}{group.rule[q].describe()})."
            ]
            if node.formula is not None:
                symbolic = node.formula.render([graph[p].label for p in node.parents], latex=False)
                numbers = node.formula.render(
                    [hand.text(p, k) for p in node.parents], latex=False, numbers=True
                )
                lines.append(f"- Working: {node.label} = {symbolic} = {numbers} = {value}")
            entry = (value, f"### `{q}`: {node.label}, {node.meaning}", lines)
            self.cache[(id(group), k, q)] = entry
        return entry


_CORRECT = list(Verdict).index(Verdict.CORRECT)
_FOLLOW = list(Verdict).index(Verdict.FOLLOW_THROUGH)
_MISSING = list(Verdict).index(Verdict.MISSING)
_UNPARSEABLE = list(Verdict).index(Verdict.UNPARSEABLE)
_MISTAKES = list(Mistake)


def feedback_markdown(results: GradingResults, index: int, texts: _Texts | None = None) -> str:
    """One student's feedback: what was right, each mistake with its diagnosis and the working."""
    texts = texts or _Texts()
    group, row = results.locate(index)
    k = int(group.key_index[row])
    score, possible = float(group.score[row]), float(group.max[row])
    lines = [
        f"# Feedback for {md_escape(results.ids[index])}",
        "",
        f"Score: **{_num(score)} / {_num(possible)}** ({_percent(score, possible):.1f}%)",
        "",
    ]
    verdict = dict(zip(group.asked, texts.verdict_rows(group)[row], strict=True))
    right = [q for q, v in verdict.items() if v == _CORRECT]
    follow = [q for q, v in verdict.items() if v == _FOLLOW]
    wrong = [q for q, v in verdict.items() if v not in (_CORRECT, _FOLLOW)]
    if right:
        lines += ["## Right", "", ", ".join(f"`{q}`" for q in right), ""]
    if follow:
        lines += ["## Follow-through", ""]
        for q in follow:
            c = group.columns[q]
            share = float(c.points[row]) / c.max_points if c.max_points else 0.0
            answer = md_escape(_short(c.raw[row] or ""))
            lines.append(
                f"- `{q}` ({group.graph[q].label}): your {answer} is not the key's "
                f"{texts.get(group, k, q)[0]}, but it follows correctly from your own earlier answers "
                f"(they give {_fmt(float(c.follow[row]))}); credited {share:.0%} of its points."
            )
        lines.append("")
    if wrong:
        lines += ["## To review", ""]
        for q in wrong:
            c = group.columns[q]
            _, heading, expected = texts.get(group, k, q)
            lines += [heading, ""]
            raw = md_escape(_short(c.raw[row] or ""))
            if verdict[q] == _MISSING:
                lines.append("- Your answer: missing.")
            elif verdict[q] == _UNPARSEABLE:
                lines.append(f"- Your answer {raw} could not be read as a number.")
            else:
                lines.append(f"- Your answer: {raw}.")
            lines.append(expected[0])
            d = int(c.diagnosis[row])
            if d >= 0:
                lines.append(f"- Likely mistake (`{_MISTAKES[d].value}`): {EXPLANATIONS[_MISTAKES[d]]}")
            lines += [*expected[1:], ""]
    problems = results.errors_of(index)
    if problems:
        lines += ["## Problems with your submission", ""]
        lines += [f"- {md_escape(e)}" for e in problems]
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
    for g, group in enumerate(results.groups):
        rows = results.row_of[results.group_of == g]
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
        for i, errors in results.student_errors.items()
        for msg in errors
    ]
    lines += ["", "## Broken submissions", ""]
    lines += [f"- {md_escape(f)}: {md_escape(m)}" for f, m in broken] or ["None."]
    return "\n".join(lines) + "\n"


def _write_new(path: Path, data: bytes) -> None:
    """Write a new file in the staging folder (plain os calls: thousands of them add up)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


def _check_target(target: Path) -> None:
    """The output folder is replaced as a whole: refuse anything but a new or empty folder or an
    earlier grades folder (one with results.json), so that ``--out .`` cannot delete a course."""
    if not target.exists():
        return
    if not target.is_dir():
        raise GradegenError(f"--out: {target} exists and is not a folder")
    if (target / "results.json").is_file() or not any(target.iterdir()):
        return
    raise GradegenError(
        f"--out: {target} is a folder with other files in it (it has no results.json, so it is not "
        "an earlier grades folder); choose a new or empty folder"
    )


def write_reports(results: GradingResults, out_dir: str | Path = DEFAULT_OUT) -> Path:
    """Write every report to ``out_dir`` atomically (staged beside it, then renamed into place)."""
    target = Path(out_dir)
    _check_target(target)
    build = staging_dir(target)
    build.chmod(0o755)  # mkdtemp makes it private; the reports are for the course staff
    try:
        with (build / "results.json").open("w", encoding="utf-8") as handle:
            handle.writelines(results.iter_json())
        (build / "gradebook.csv").write_text(gradebook_csv(results), encoding="utf-8", newline="")
        (build / "summary.md").write_text(summary_markdown(results), encoding="utf-8")
        feedback = build / "feedback"
        feedback.mkdir()
        taken: set[str] = set()
        texts = _Texts()
        for i, student in enumerate(results.ids):
            name = safe_filename(student, taken)
            _write_new(feedback / f"{name}.md", feedback_markdown(results, i, texts).encode("utf-8"))
        replace_dir(target, build)
    except BaseException:
        shutil.rmtree(build, ignore_errors=True)
        raise
    return target


def student_feedback(results: GradingResults, student: str) -> str:
    """The feedback Markdown for one student id (for scripts)."""
    return feedback_markdown(results, results.ids.index(student))

"""summary.md: class statistics, a histogram, per-item results and the broken submissions."""

from __future__ import annotations

from collections import Counter

import numpy as np

from gradegen.escape import md_inline
from gradegen.grading.diagnosis import EXPLANATIONS, Mistake
from gradegen.grading.results import GradingResults, Verdict
from gradegen.reports.gradebook import number_text


def summary_markdown(results: GradingResults) -> str:
    """Class statistics: mean, median, a histogram, per-item results and the broken submissions."""
    n = len(results)
    scores, maxima = results.scores, results.maxima
    shares = np.divide(100.0 * scores, maxima, out=np.zeros(n), where=maxima > 0)  # as percent() gives
    lines = ["# Grading summary", "", f"- Students graded: {n}"]
    if n:
        lines += [
            f"- Mean: {shares.mean():.1f}%",
            f"- Median: {float(np.median(shares)):.1f}%",
            f"- Mean score: {number_text(float(scores.mean()))} of {number_text(float(maxima.mean()))}",
        ]
    lines += ["", "## Distribution", "", "| percent | students | |", "|---|---:|---|"]
    bins = np.minimum((shares // 10).astype(int), 9) if n else np.zeros(0, dtype=int)
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
    lines += [f"- {md_inline(f)}: {md_inline(m)}" for f, m in broken] or ["None."]
    return "\n".join(lines) + "\n"

"""Grading at scale: 100,000 submissions of every asked ID of the handout network, from one CSV.

Run ``python benchmarks/grade_scale.py [N]``: it makes a seeded class (right answers in 4–8
significant figures, 10% sign-flipped, 10% ×10, 10% blank), then measures, each in a fresh
process, ``grade()`` alone and ``gradegen grade … --quiet`` with ``--feedback zip``, ``none`` and
``files``: wall time and peak memory (the largest process's maximum resident set size).
"""

from __future__ import annotations

import csv
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from gradegen import build_graph, preset
from gradegen.key import askable

GRADE_ONLY = """
import sys
from gradegen.grading import grade
grade(sys.argv[1], [sys.argv[2]])
"""


def make_class(folder: Path, n: int, seed: int = 0) -> tuple[Path, Path]:
    """key.json and a CSV of ``n`` students' answers, the same for the same seed."""
    subprocess.run(
        [sys.executable, "-m", "gradegen", "generate", "--out", str(folder / "key"), "--quiet"], check=True
    )
    graph = build_graph(preset("handout"))
    values = graph.evaluate()
    ids = askable(graph)
    rng = np.random.default_rng(seed)
    columns = []
    for q in ids:
        x = float(np.asarray(values[q]).ravel()[0])
        pick = rng.random(n)
        answers = np.where(pick < 0.1, -x, np.where(pick < 0.2, 10 * x, x))
        digits = rng.choice([4, 5, 6, 8], n)
        texts = [f"{a:.{d}g}" for a, d in zip(answers.tolist(), digits.tolist(), strict=True)]
        columns.append([t if p >= 0.3 or p < 0.2 else "" for t, p in zip(texts, pick.tolist(), strict=True)])
    path = folder / "class.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", *ids])
        writer.writerows([f"s{i:06d}", *(c[i] for c in columns)] for i in range(n))
    return folder / "key" / "key.json", path


def measure(command: list[str]) -> tuple[float, float]:
    """Wall seconds and peak resident memory (MB: the largest process's) of a command in its own
    process; the memory from GNU time where it is installed, else from this process's children."""
    timed = Path("/usr/bin/time").exists()
    start = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-v", *command] if timed else command, check=True, capture_output=True, text=True
    )
    wall = time.perf_counter() - start
    if timed:
        line = next(x for x in done.stderr.splitlines() if "Maximum resident" in x)
        return wall, int(line.split()[-1]) / 1024
    return wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # a running maximum


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    folder = Path(tempfile.mkdtemp(prefix="gradegen-grade-scale-"))
    try:
        key, table = make_class(folder, n)
        runs = {"grade() alone": [sys.executable, "-c", GRADE_ONLY, str(key), str(table)]}
        for mode in ("zip", "none", "files"):
            out = folder / f"out-{mode}"
            runs[f"gradegen grade --feedback {mode}"] = [
                *(sys.executable, "-m", "gradegen", "grade", str(key), str(table)),
                *("--out", str(out), "--feedback", mode, "--quiet"),
            ]
        figures = {}
        print(f"{'run':<34} {'wall s':>7} {'peak MB':>8} {'subs/s':>9}")
        for name, command in runs.items():
            wall, peak = measure(command)
            figures[name] = {"wall_s": round(wall, 2), "peak_mb": round(peak), "per_s": round(n / wall)}
            print(f"{name:<34} {wall:>7.2f} {peak:>8.0f} {n / wall:>9.0f}", flush=True)
        print(json.dumps({"students": n, "runs": figures}))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()

"""Benchmarks: class generation, grading at scale, batched evaluation, start-up.

    python benchmarks/run.py            # the full run (N = 1,000 variants, 100,000 submissions)
    python benchmarks/run.py --quick    # a smoke run (N = 20), as the test suite does

Prints a table, then one JSON line with every figure. Runs on the built-in handout network and
on benchmarks/deep.yaml (a 4-8-8-3 network with two hidden layers and a softmax output).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from gradegen.core.key import resolve_ask
from gradegen.core.network import build_graph
from gradegen.core.spec import Spec, load_spec
from gradegen.documents.compiled import BLOCK
from gradegen.documents.generate import CLASS_FILES, generate_class
from gradegen.documents.render import Renderer
from gradegen.variants.draw import VariantSet, keys_json, make_variants
from gradegen.variants.roster import Roster

HERE = Path(__file__).resolve().parent
GRADEGEN = [sys.executable, "-m", "gradegen"]
# Child processes run in a scratch folder: `python -m` puts the working folder first on sys.path,
# and a source checkout there would shadow the installed package.
SCRATCH = Path(tempfile.gettempdir())

# The 4-8-8-3 network has 476 quantities; a worksheet on it asks a realistic subset, and grading
# asks the same questions (every asked id is graded).
ASK = {"handout": None, "4-8-8-3": "loss,output_gradients"}


def networks() -> dict[str, Spec]:
    return {"handout": load_spec(), "4-8-8-3": load_spec(HERE / "deep.yaml")}


def timed(fn: Callable[[], object], repeat: int = 1, clock: Callable[[], float] = time.perf_counter) -> float:
    """Best time of ``repeat`` runs: wall time, or ``clock=time.process_time`` for this process's CPU."""
    best = float("inf")
    for _ in range(repeat):
        started = clock()
        fn()
        best = min(best, clock() - started)
    return best


def run_measured(args: list[str]) -> dict[str, float]:
    """A command's wall seconds, CPU seconds (user + system, itself and its children) and peak
    resident memory (MB, the largest process's).

    Memory comes from GNU time where it is installed, else from this process's children (a running
    maximum over every child so far).
    """
    gnu_time = Path("/usr/bin/time")
    before = os.times()
    started = time.perf_counter()
    done = subprocess.run(
        [str(gnu_time), "-v", *args] if gnu_time.exists() else args,
        cwd=SCRATCH,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    wall = time.perf_counter() - started
    after = os.times()
    cpu = after.children_user + after.children_system - before.children_user - before.children_system
    if gnu_time.exists():
        line = next(x for x in done.stderr.splitlines() if "Maximum resident" in x)
        peak = int(line.split()[-1]) / 1024
    else:
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"wall": wall, "cpu": cpu, "peak_mb": peak}


def run_command(args: list[str]) -> tuple[float, float]:
    """Wall seconds and peak resident memory (MB) of a command."""
    measured = run_measured(args)
    return measured["wall"], measured["peak_mb"]


def cpu_seconds() -> float:
    """CPU seconds (user + system) of this process and of its children that have ended (a class
    run's worker processes): on a shared machine a steadier measure than wall time."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def bench_generate(spec: Spec, name: str, n: int, work: Path) -> dict[str, float]:
    """1. A class of n roster variants: every student's documents, answer sheet, diagram and key."""
    roster = Roster.anonymous(n)
    out = work / f"class-{name}"
    cpu = cpu_seconds()
    wall = timed(lambda: generate_class(spec, roster, out, seed="bench", ask=ASK[name]))
    cpu = cpu_seconds() - cpu
    return {"variants": n, "seconds": wall, "per_second": n / wall, "cpu_ms_per_variant": cpu / n * 1e3}


def submissions_csv(spec: Spec, name: str, n: int, path: Path) -> list[str]:
    """A CSV of n submissions: 70% right, 10% sign-flipped, 10% off by ten, 10% missing."""
    graph = build_graph(spec)
    asked = list(resolve_ask(graph, ASK[name]))
    values = graph.evaluate(hand=True)
    rng = np.random.default_rng(2026)
    columns = []
    for qid in asked:
        value = np.full(n, values[qid][0])
        draw = rng.random(n)
        value = np.where(draw < 0.1, -value, value)
        value = np.where((draw >= 0.1) & (draw < 0.2), value * 10, value)
        text = np.char.mod("%.10g", value).astype(object)
        text[draw >= 0.9] = ""
        columns.append(text)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", *asked])
        writer.writerows(zip((f"s{i:06d}" for i in range(n)), *columns, strict=True))
    return asked


FEEDBACK_MODES = ("zip", "none", "files")
"""`gradegen grade --feedback` modes timed; the first (one feedback.zip, what a large course uploads
to its LMS) is the headline figure."""


def bench_grade(spec: Spec, name: str, n: int, work: Path) -> dict[str, float]:
    """2. Grading n submissions from one CSV against one key, follow-through and diagnosis on, as
    the CLI runs it: grade() alone, then the command with each feedback mode."""
    key_dir = work / f"key-{name}"
    spec_path = work / f"{name}.json"
    spec_path.write_text(json.dumps(spec.to_data()))
    ask = ["--ask", ASK[name]] if ASK[name] else []
    command = [*GRADEGEN, "generate", str(spec_path), "--out", str(key_dir), "--quiet", *ask]
    subprocess.run(command, check=True, cwd=SCRATCH)
    answers = work / f"answers-{name}.csv"
    asked = submissions_csv(spec, name, n, answers)
    command = [*GRADEGEN, "grade", str(key_dir / "key.json"), str(answers), "--quiet"]
    figures: dict[str, float] = {"submissions": n, "items": n * len(asked)}
    alone = f"from gradegen import grade; grade({str(key_dir / 'key.json')!r}, [{str(answers)!r}])"
    measured = run_measured([sys.executable, "-c", alone])
    figures["seconds_grade_only"], figures["peak_mb_grade_only"] = measured["wall"], measured["peak_mb"]
    figures["cpu_grade_only"] = measured["cpu"]
    for mode in FEEDBACK_MODES:
        out = work / f"grades-{name}-{mode}"
        measured = run_measured([*command, "--out", str(out), "--feedback", mode])
        figures[f"seconds_{mode}"] = measured["wall"]
        figures[f"cpu_{mode}"] = measured["cpu"]
        figures[f"per_second_{mode}"] = n / measured["wall"]
        figures[f"peak_mb_{mode}"] = measured["peak_mb"]
    figures["results_json_mb"] = (work / f"grades-{name}-zip" / "results.json").stat().st_size / 1e6
    figures["feedback_zip_mb"] = (work / f"grades-{name}-zip" / "feedback.zip").stat().st_size / 1e6
    return figures


def class_answers_csv(variants: VariantSet, path: Path) -> None:
    """A CSV with a row per student of a class, every asked id answered from that student's own
    hand values: 70% right, 10% sign-flipped, 10% off by ten, 10% missing."""
    rng = np.random.default_rng(2026)
    columns = []
    for qid in variants.asked:
        value = variants.hand[qid]
        draw = rng.random(len(variants))
        value = np.where(draw < 0.1, -value, np.where(draw < 0.2, value * 10, value))
        text = np.char.mod("%.10g", value).astype(object)
        text[draw >= 0.9] = ""
        columns.append(text)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", *variants.asked])
        writer.writerows(zip(variants.ids, *columns, strict=True))


# Run in a child: where `gradegen grade` spends its time on a class's keys.json (wall seconds;
# grade() rebuilds the values again, so the rebuild measured alone is taken off its figure).
_PHASES = """
import json, sys, tempfile, time
from gradegen import grade, write_reports
from gradegen.grading.keys import key_groups, load_answer_key
from gradegen.grading.submissions import read_submissions
keys_path, answers, out = sys.argv[1:4]
t0 = time.perf_counter()
keys = load_answer_key(keys_path)
table = read_submissions([answers])
t1 = time.perf_counter()
key_groups(keys, table.students)
t2 = time.perf_counter()
results = grade(keys, table)
t3 = time.perf_counter()
write_reports(results, out, feedback="zip")
t4 = time.perf_counter()
rebuild = t2 - t1
print(json.dumps({"read": t1 - t0, "rebuild": rebuild, "grade": t3 - t2 - rebuild, "write": t4 - t3}))
"""


def bench_class_grade(spec: Spec, n: int, work: Path) -> dict[str, float]:
    """1. Grading n submissions against a keys.json of n per-student variants (every id asked,
    follow-through and diagnosis on, --feedback zip), as the CLI runs it; and where the time goes."""
    variants = make_variants(spec, Roster.anonymous(n).ids, seed="bench")
    keys = work / "class-keys.json"
    keys.write_text(keys_json(variants), "utf-8")
    answers = work / "class-answers.csv"
    class_answers_csv(variants, answers)
    out = work / "class-grades"
    command = [*GRADEGEN, "grade", str(keys), str(answers), "--out", str(out), "--feedback", "zip", "--quiet"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall, peak = run_command(command)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    script = [sys.executable, "-c", _PHASES, str(keys), str(answers), str(work / "class-grades-phases")]
    phases = json.loads(
        subprocess.run(script, cwd=SCRATCH, check=True, capture_output=True, text=True).stdout
    )
    return {
        "students": n,
        "items": n * len(variants.asked),
        "keys_mb": keys.stat().st_size / 1e6,
        "keys_bytes_per_student": keys.stat().st_size / n,
        "seconds": wall,
        "cpu_seconds": cpu,
        "per_second": n / wall,
        "peak_mb": peak,
        **{f"seconds_{name}": value for name, value in phases.items()},
    }


def bench_batch(spec: Spec, n: int, loop_sample: int) -> dict[str, float]:
    """3. One batched evaluation of n variants against a per-variant Python loop over the graph."""
    graph = build_graph(spec)
    rng = np.random.default_rng(7)
    givens = {p: graph.defaults[p] + rng.uniform(-0.05, 0.05, n) for p in graph.parameters}
    batched = timed(lambda: graph.evaluate(givens), repeat=3)
    sample = min(n, loop_sample)

    def loop() -> None:
        for i in range(sample):
            graph.evaluate({p: v[i] for p, v in givens.items()})

    looped = timed(loop) * n / sample
    return {
        "variants": n,
        "batched_seconds": batched,
        "loop_seconds": looped,
        "loop_sampled": sample,
        "ratio": looped / batched,
    }


def bench_render(spec: Spec, name: str, n: int) -> dict[str, float]:
    """Rendering alone (CPU, bytes, no disk): the compiled documents as a class run fills them, a
    block of students at a time, against the reference renderer (each variant's templates with
    its own numbers, as user templates are rendered)."""
    roster = Roster.anonymous(max(5, min(n, 1_000)))
    variants = make_variants(spec, roster.ids, seed="bench", asked=ASK[name])
    students: list[tuple[str, str | None]] = [(s, None) for s in roster.ids]
    args = (variants.spec, variants.graph, variants.exact, variants.hand, variants.asked)
    compiled = Renderer(*args, files=CLASS_FILES)
    reference = Renderer(*args, files=CLASS_FILES, compiled=False)
    compiled(0, roster.ids[0])  # compile once, as a class run does before its workers start
    reference(0, roster.ids[0])

    def blocks() -> None:
        for lo in range(0, len(students), BLOCK):
            for _ in compiled.block(lo, students[lo : lo + BLOCK]).render():
                pass

    sample = students[:100]  # the reference is the slow one
    fast = timed(blocks, 3, time.process_time) / len(students)
    slow = timed(lambda: [reference(i, *s) for i, s in enumerate(sample)], 3, time.process_time) / len(sample)
    return {"ms_per_variant": fast * 1e3, "reference_ms_per_variant": slow * 1e3, "ratio": slow / fast}


def bench_disk(work: Path, blocks: int) -> dict[str, float]:
    """How fast the output folder takes ``blocks`` × 36 MB (20: a little more than results.json and
    feedback.zip at 100,000 × 32): the machine's share of the figures above, which varies between
    runs on a shared virtual disk."""
    block = b"x" * (36 << 20)
    started = time.perf_counter()
    with (work / "write-test.bin").open("wb") as handle:
        for _ in range(blocks):
            handle.write(block)
    wall = time.perf_counter() - started
    return {
        "megabytes": blocks * len(block) / 1e6,
        "seconds": wall,
        "mb_per_second": blocks * len(block) / 1e6 / wall,
    }


def bench_startup(repeat: int) -> dict[str, float]:
    """4. Start-up of `gradegen --help` and `gradegen solve` (best of ``repeat``)."""
    best = {}
    for label, args in (("help", ["--help"]), ("solve", ["solve"])):
        best[label] = min(run_command([*GRADEGEN, *args])[0] for _ in range(repeat))
    return {"help_seconds": best["help"], "solve_seconds": best["solve"]}


def bench_host(repeat: int) -> dict[str, float]:
    """How fast this host is today, to compare runs across hosts: a fixed pure-Python loop, and the
    start-up floor `gradegen solve` cannot go below (Python importing the libraries it needs)."""
    loop = timed(lambda: sum(range(10**6)), repeat=5)
    floor = [sys.executable, "-c", "import typer, pydantic, numpy, yaml"]
    imports = min(run_command(floor)[0] for _ in range(repeat))
    return {"python_loop_ms": loop * 1e3, "imports_seconds": imports}


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "processor": platform.processor() or platform.machine(),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: N = 20 everywhere")
    parser.add_argument("--variants", type=int, default=1_000)
    parser.add_argument("--submissions", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=100_000)
    parser.add_argument(
        "--class-size", type=int, default=100_000, help="per-student variants graded (figure 1)"
    )
    parser.add_argument(
        "--dir",
        type=Path,
        default=None,
        help="where to write (default: the system's temporary folder); e.g. /dev/shm to leave the disk out",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.variants = args.submissions = args.batch = args.class_size = 20
    report: dict[str, Any] = {"machine": machine(), "networks": {}, "disk": {}}
    # Nothing is deleted until the end: on ext4 without a journal, creating files soon after
    # deleting many is slow (the allocator skips recently freed inodes), which would time the cleanup.
    with tempfile.TemporaryDirectory(prefix="gradegen-bench-", dir=args.dir) as tmp:
        work = Path(tmp)
        report["machine"]["folder"] = str(work.parent)
        for name, spec in networks().items():
            report["networks"][name] = {
                "generate": bench_generate(spec, name, args.variants, work),
                "render": bench_render(spec, name, args.variants),
                "grade": bench_grade(spec, name, args.submissions, work),
                "batch": bench_batch(spec, args.batch, loop_sample=2_000),
            }
        report["class"] = bench_class_grade(networks()["handout"], args.class_size, work)
        report["disk"] = bench_disk(work, blocks=1 if args.quick else 20)
    report["startup"] = bench_startup(repeat=1 if args.quick else 5)
    report["host"] = bench_host(repeat=1 if args.quick else 5)
    print_table(report)
    print(json.dumps(report, sort_keys=True))
    return report


def print_table(report: dict[str, Any]) -> None:
    rows = [("measure", *report["networks"])]
    nets = list(report["networks"].values())

    def row(label: str, fn: Callable[[dict[str, Any]], str]) -> None:
        rows.append((label, *(fn(n) for n in nets)))

    row("1. generate: variants", lambda n: f"{n['generate']['variants']:,}")
    row("   wall (s)", lambda n: f"{n['generate']['seconds']:.2f}")
    row("   variants/s", lambda n: f"{n['generate']['per_second']:,.0f}")
    row("   CPU per variant, all processes (ms)", lambda n: f"{n['generate']['cpu_ms_per_variant']:.2f}")
    row("   render only, compiled (CPU ms/variant)", lambda n: f"{n['render']['ms_per_variant']:.2f}")
    row(
        "   render only, reference (CPU ms/variant)",
        lambda n: f"{n['render']['reference_ms_per_variant']:.2f}",
    )
    row("   compiled vs reference", lambda n: f"{n['render']['ratio']:,.0f}×")
    row(
        "2. grade: submissions × items",
        lambda n: (
            f"{n['grade']['submissions']:,} × {n['grade']['items'] // max(n['grade']['submissions'], 1)}"
        ),
    )
    row("   grade() alone: wall (s)", lambda n: f"{n['grade']['seconds_grade_only']:.2f}")
    row("   grade() alone: peak (MB)", lambda n: f"{n['grade']['peak_mb_grade_only']:,.0f}")
    row("   grade() alone: CPU (s)", lambda n: f"{n['grade']['cpu_grade_only']:.2f}")
    for mode in FEEDBACK_MODES:
        row(f"   --feedback {mode}: wall (s)", lambda n, m=mode: f"{n['grade'][f'seconds_{m}']:.2f}")
        row(f"   --feedback {mode}: CPU (s)", lambda n, m=mode: f"{n['grade'][f'cpu_{m}']:.2f}")
        row(f"   --feedback {mode}: submissions/s", lambda n, m=mode: f"{n['grade'][f'per_second_{m}']:,.0f}")
        row(f"   --feedback {mode}: peak (MB)", lambda n, m=mode: f"{n['grade'][f'peak_mb_{m}']:,.0f}")
    row("   results.json (MB)", lambda n: f"{n['grade']['results_json_mb']:,.0f}")
    row("   feedback.zip (MB)", lambda n: f"{n['grade']['feedback_zip_mb']:,.0f}")
    row("3. batched evaluation (s)", lambda n: f"{n['batch']['batched_seconds']:.3f}")
    row("   per-variant loop (s)", lambda n: f"{n['batch']['loop_seconds']:.1f}")
    row("   ratio", lambda n: f"{n['batch']['ratio']:,.0f}×")
    c = report["class"]
    rows.append(("1. grade a class's keys.json: students", f"{c['students']:,}", ""))
    rows.append(
        ("   keys.json (MB, bytes/student)", f"{c['keys_mb']:.1f}, {c['keys_bytes_per_student']:.0f}", "")
    )
    rows.append(("   --feedback zip: wall (s)", f"{c['seconds']:.2f}", ""))
    rows.append(("   CPU (s), students/s", f"{c['cpu_seconds']:.2f}, {c['per_second']:,.0f}", ""))
    rows.append(("   peak (MB)", f"{c['peak_mb']:,.0f}", ""))
    split = ", ".join(f"{p} {c[f'seconds_{p}']:.2f}" for p in ("read", "rebuild", "grade", "write"))
    rows.append(("   time split (s)", split, ""))
    start = report["startup"]
    rows.append(("4. gradegen --help (s)", f"{start['help_seconds']:.3f}", ""))
    rows.append(("   gradegen solve (s)", f"{start['solve_seconds']:.3f}", ""))
    host = report["host"]
    rows.append(("   import typer, pydantic, numpy, yaml (s)", f"{host['imports_seconds']:.3f}", ""))
    rows.append(("host: sum(range(10**6)) (ms)", f"{host['python_loop_ms']:.1f}", ""))
    rows.append(("output folder: writes MB/s", f"{report['disk']['mb_per_second']:,.0f}", ""))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print(
            "  ".join(cell.ljust(widths[0]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(r))
        )


if __name__ == "__main__":
    main()

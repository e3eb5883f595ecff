"""The benchmark script runs end to end (a tiny N = 20 version; real timings are not asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_benchmark_smoke_run() -> None:
    """`benchmarks/run.py --quick` measures every figure for both networks and prints one JSON line."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick"],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(report["networks"]) == {"handout", "4-8-8-3"}
    for figures in report["networks"].values():
        assert figures["generate"]["variants"] == 20 and figures["generate"]["per_second"] > 0
        assert figures["grade"]["submissions"] == 20
        assert figures["grade"]["peak_mb_zip"] > 0 and figures["grade"]["per_second_files"] > 0
        assert figures["batch"]["ratio"] > 0
    grading_a_class = report["class"]  # figure 1: a keys.json of per-student variants
    assert grading_a_class["students"] == 20 and grading_a_class["peak_mb"] > 0
    assert 0 < grading_a_class["keys_bytes_per_student"] < 1000 and grading_a_class["seconds_rebuild"] > 0
    assert 0 < report["startup"]["help_seconds"] < 60
    assert report["host"]["python_loop_ms"] > 0 and report["host"]["imports_seconds"] > 0
    assert "1. generate" in result.stdout

"""The command line: solve and init, their output, errors and help."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from gradegen.cli import app
from gradegen.core.spec import load_spec, preset, preset_text

runner = CliRunner()


def test_solve_prints_every_quantity_of_the_handout() -> None:
    """`gradegen solve` lists every id with its hand value."""
    result = runner.invoke(app, ["solve"])
    assert result.exit_code == 0, result.output
    for text in (
        "z_h1",
        "0.3775",
        "dL_dw4",
        "1.50 × 10⁻³",
        "w5_new",
        "0.39999178",
        "dL_db1",
        "2.84 × 10⁻²",
        "step_b2",
        "1.385 × 10⁻⁵",
    ):
        assert text in result.output


def test_solve_exact_prints_full_precision() -> None:
    """`--exact` prints float64 values in full."""
    result = runner.invoke(app, ["solve", "--exact"])
    assert result.exit_code == 0
    assert "0.3999917832959" in result.output


def test_solve_json_shape() -> None:
    """`--json` prints quantities, hand values, the loss history and the final parameters."""
    result = runner.invoke(app, ["solve", "--json", "--steps", "2"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert set(data) == {"quantities", "hand", "history", "final"}
    assert data["quantities"]["loss"] == pytest.approx(0.2748110832, abs=1e-10)
    assert data["hand"]["dL_dw1"] == 0.00067
    assert len(data["history"]) == 2 and data["history"][1] < data["history"][0]
    assert set(data["final"]) == {"w1", "w2", "w3", "w4", "w5", "w6", "b1", "b2"}


def test_solve_several_steps_prints_the_loss_history() -> None:
    """With several steps the table is followed by the loss at each step."""
    result = runner.invoke(app, ["solve", "--steps", "3"])
    assert result.exit_code == 0
    assert "loss at each step:" in result.output


def test_solve_a_spec_file(write: Any) -> None:
    """A spec path is solved instead of the built-in network."""
    path = write("mazur.yaml", preset_text("mazur"))
    result = runner.invoke(app, ["solve", str(path), "--json"])
    assert json.loads(result.stdout)["quantities"]["w5_new"] == pytest.approx(0.35891648, abs=5e-9)


def test_bad_spec_is_one_line_and_exit_2(write: Any) -> None:
    """A broken spec gives one line naming the field, exit code 2 and no traceback."""
    path = write("bad.yaml", "inputs: [0.1]\ntargets: [0.5]\nlayers: []\nlearning_rate: 0.1\n")
    result = runner.invoke(app, ["solve", str(path)])
    assert result.exit_code == 2
    assert result.stderr.strip().count("\n") == 0
    assert "layers: expected at least one layer" in result.stderr
    assert "Traceback" not in result.output + result.stderr


def test_brackets_in_messages_are_not_markup(write: Any) -> None:
    """Field paths like layers[1] reach the terminal intact (not eaten as rich markup)."""
    text = preset("handout").to_data()
    text["layers"][1]["weights"] = [[0.4]]
    path = write("bad.json", json.dumps(text))
    result = runner.invoke(app, ["solve", str(path)])
    assert "layers[1].weights[0]" in result.stderr


def test_init_writes_a_loadable_starter(tmp_path: Path) -> None:
    """`gradegen init` writes a commented spec that loads as the handout network."""
    path = tmp_path / "spec.yaml"
    result = runner.invoke(app, ["init", str(path)])
    assert result.exit_code == 0
    assert "#" in path.read_text()
    assert load_spec(path).model_copy(update={"title": "x"}) == preset("handout").model_copy(
        update={"title": "x"}
    )


def test_init_mazur_preset(tmp_path: Path) -> None:
    """`--preset mazur` writes the 2-2-2 walkthrough."""
    path = tmp_path / "m.yaml"
    assert runner.invoke(app, ["init", "--preset", "mazur", str(path)]).exit_code == 0
    assert load_spec(path).targets == (0.01, 0.99)


def test_init_refuses_to_overwrite(tmp_path: Path) -> None:
    """An existing file is kept unless --force is given."""
    path = tmp_path / "spec.yaml"
    path.write_text("mine")
    result = runner.invoke(app, ["init", str(path)])
    assert result.exit_code == 2 and path.read_text() == "mine"
    assert "already exists" in result.stderr
    assert runner.invoke(app, ["init", "--force", str(path)]).exit_code == 0
    assert path.read_text() != "mine"


@pytest.mark.parametrize("command", [[], ["solve"], ["init"]])
def test_help(command: list[str]) -> None:
    """Every command has --help."""
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output


def test_python_dash_m_runs() -> None:
    """`python -m gradegen` is the same command."""
    result = subprocess.run(
        [sys.executable, "-m", "gradegen", "solve", "--json"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "quantities" in json.loads(result.stdout)


@pytest.mark.parametrize(
    ("command", "absent"),
    [
        (["--help"], {"numpy", "pydantic", "rich", "jinja2", "yaml"}),
        (["solve"], {"rich", "jinja2", "tomllib"}),
        (["solve", "--json"], {"rich", "jinja2", "tomllib"}),
    ],
)
def test_a_command_imports_only_what_it_needs(command: list[str], absent: set[str]) -> None:
    """Start-up time is mostly imports: --help loads no numpy or pydantic, solve no rich or Jinja2."""
    script = (
        "import sys\nfrom gradegen.cli import app\n"
        f"try:\n    app({command!r})\nexcept SystemExit:\n    pass\n"
        "print(sorted({m.split('.')[0] for m in sys.modules}))"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    loaded = set(json.loads(result.stdout.splitlines()[-1].replace("'", '"')))
    assert "typer" in loaded and not loaded & absent


@pytest.mark.parametrize(
    "command",
    [
        ["generate", "--out", "{blocked}/docs"],
        ["generate", "--variants", "2", "--out", "{blocked}/class"],
        ["init", "{blocked}/spec.yaml"],
    ],
)
def test_unwritable_output_is_one_line_and_exit_2(tmp_path: Path, command: list[str]) -> None:
    """An output path that cannot be created (under a file) gives one line naming it, exit code 2."""
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    args = [part.replace("{blocked}", str(blocked)) for part in command]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert result.stderr.strip().count("\n") == 0
    assert str(blocked) in result.stderr and "cannot write here" in result.stderr
    assert "Traceback" not in result.output + result.stderr
    assert blocked.read_text() == "not a folder"


def test_solve_table_is_not_read_as_markup(tmp_path: Path) -> None:
    """Brackets in titles and the ReLU's case distinction in formulas print as written."""
    data = preset("handout").to_data()
    data["layers"][0]["activation"] = "relu"
    data["title"] = "[bold]Week 3[/bold]"
    path = tmp_path / "relu.json"
    path.write_text(json.dumps(data))
    result = runner.invoke(app, ["solve", str(path)])
    assert result.exit_code == 0
    assert "(1 if z_h1 > 0, else 0)" in result.output
    assert "[bold]Week 3[/bold]" in result.output


ESC_NAME = "x\x1b]0;TITLE\x07\x1b[2J\x1b[31m"
SHOWN = "x\\x1b]0;TITLE\\x07\\x1b[2J\\x1b[31m"


def _inert(text: str) -> bool:
    """Whether text holds nothing a terminal would act on (C0 but newline, DEL, C1, bidi controls)."""
    unsafe = {*range(0x20), *range(0x7F, 0xA0), *range(0x202A, 0x202F), *range(0x2066, 0x206A)} - {0x0A}
    return not any(ord(c) in unsafe for c in text)


def test_a_file_name_with_escapes_is_inert_in_the_errors_table(tmp_path: Path) -> None:
    """A sheet whose name sets the title, clears the screen and colours (the issue's example)
    reaches the summary's errors table as visible escapes, never as raw ESC sequences."""
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / f"{ESC_NAME}.yaml").write_text("student: [\n", "utf-8")
    (subs / "ana.yaml").write_text("student: ana\nloss: 0.0\n", "utf-8")
    handout = str(Path(__file__).parent.parent / "gradegen" / "presets" / "handout.yaml")
    result = runner.invoke(app, ["grade", handout, str(subs), "--out", str(tmp_path / "grades")])
    assert result.exit_code == 0, result.output
    assert f"{SHOWN}.yaml" in result.output.replace("\n", "")
    assert _inert(result.output)


def test_an_error_message_quoting_user_text_is_inert(tmp_path: Path) -> None:
    """An error naming a path with control and bidi characters prints them as escapes, on one line."""
    result = runner.invoke(app, ["solve", str(tmp_path / f"{ESC_NAME}\u202e\n.yaml")])
    assert result.exit_code == 2
    assert SHOWN in result.stderr and "\\u202e\\x0a.yaml: no such spec file" in result.stderr
    assert _inert(result.stderr) and result.stderr.strip().count("\n") == 0


def test_a_spec_title_with_escapes_is_inert(tmp_path: Path) -> None:
    """The spec's title, printed above solve's table, is made inert too; the --json is plain JSON."""
    data = preset("handout").to_data()
    data["title"] = f"Week 3 {ESC_NAME}\u2066"
    path = tmp_path / "net.json"
    path.write_text(json.dumps(data))
    result = runner.invoke(app, ["solve", str(path)])
    assert result.exit_code == 0 and result.output.startswith(f"Week 3 {SHOWN}\\u2066\n")
    assert _inert(result.output)


def _strict_json(text: str) -> Any:
    """JSON as the standard has it: NaN and Infinity are not numbers."""

    def refuse(constant: str) -> None:
        raise ValueError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


@pytest.mark.parametrize("command", [["solve", "--json", "--steps", "3"], ["solve", "--json"]])
def test_solve_json_is_standard_json(command: list[str]) -> None:
    """solve --json is standard JSON: no NaN or Infinity (a non-finite value fails before printing)."""
    result = runner.invoke(app, command)
    assert result.exit_code == 0
    assert _strict_json(result.stdout)["quantities"]["loss"] > 0


def _overflowing_spec(tmp_path: Path) -> Path:
    data = preset("handout").to_data()
    data["inputs"] = [10, 10]
    data["layers"][0]["weights"] = [[1e308, 1e308], [0.25, 0.3]]
    path = tmp_path / "over.json"
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize(
    "command",
    [
        ["solve", "{spec}", "--json"],
        ["generate", "{spec}", "--out", "{tmp}/out"],
        ["generate", "{spec}", "--variants", "3", "--out", "{tmp}/out"],
        ["grade", "{spec}", "{tmp}/ana.yaml", "--out", "{tmp}/out"],
    ],
)
def test_a_spec_that_overflows_is_one_line_and_exit_2(tmp_path: Path, command: list[str]) -> None:
    """Inputs [10, 10] with w1 = w2 = 1e308: z_h1 overflows; solve, generate (alone or a class) and
    grade from that spec refuse it naming z_h1, on one line, and write nothing."""
    spec = _overflowing_spec(tmp_path)
    (tmp_path / "ana.yaml").write_text("student: ana\nloss: 1\n")
    args = [a.replace("{spec}", str(spec)).replace("{tmp}", str(tmp_path)) for a in command]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    why = "overflows to +inf: the numbers are too large for float64"
    assert result.stderr == f"error: {spec}: z_h1 (weighted sum into h1) {why}\n"
    assert result.stdout == "" and not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("command", "fragment"),
    [
        (
            ["solve", "--steps", "10000000000000000000000"],
            "--steps: expected a whole number from 1 to 10,000",
        ),
        (["solve", "--steps", "0"], "--steps: expected a whole number from 1 to 10,000, got 0"),
        (["generate", "--variants", "100000000", "--out", "{tmp}/o"], "--variants: at most 200,000 variants"),
        (["generate", "--variants", "0", "--out", "{tmp}/o"], "--variants: expected at least 1 variant"),
        (["generate", "--ask", ",".join(["loss"] * 100), "--out", "{tmp}/o"], "--ask: 100 items, more than"),
    ],
)
def test_counts_are_bounded_before_work_starts(tmp_path: Path, command: list[str], fragment: str) -> None:
    """A step, variant or question count past its documented bound is one line and exit 2, at once
    (10^22 steps or 10^8 variants would otherwise run for ever or fill the memory)."""
    import time

    started = time.process_time()
    result = runner.invoke(app, [a.replace("{tmp}", str(tmp_path)) for a in command])
    assert time.process_time() - started < 5
    assert result.exit_code == 2, result.output
    assert fragment in result.stderr and result.stderr.strip().count("\n") == 0
    assert not (tmp_path / "o").exists()


def test_a_hand_edited_key_is_one_line_and_exit_2(tmp_path: Path) -> None:
    """A key.json with a negative tolerance, NaN points or points of 1e308 is one line naming the
    field (never pydantic's dump), exit 2; nothing is graded or written."""
    from gradegen.core.key import solve_key

    key = solve_key(preset("handout")).to_dict()
    (tmp_path / "ana.yaml").write_text("student: ana\nloss: 1\n")
    cases = {
        "tolerance.value: expected a number > 0": {"tolerance": {"mode": "rel", "value": -0.01}},
        "points: expected a finite number": {"points": float("nan")},
        "points: expected a number ≤ 1000000": {"points": 1e308},
    }
    for fragment, entry in cases.items():
        edited = json.loads(json.dumps(key))
        edited["values"]["dL_dw5"].update(entry)
        path = tmp_path / "key.json"
        path.write_text(json.dumps(edited))  # json writes NaN, as a careless editor might
        result = runner.invoke(
            app, ["grade", str(path), str(tmp_path / "ana.yaml"), "--out", str(tmp_path / "o")]
        )
        assert result.exit_code == 2
        assert result.stderr == f"error: {path}: values.dL_dw5.{fragment}" + result.stderr.split(fragment)[1]
        assert result.stderr.count("\n") == 1 and "http" not in result.stderr
        assert not (tmp_path / "o").exists()

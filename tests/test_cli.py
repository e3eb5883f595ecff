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
    for text in ("z_h1", "0.3775", "dL_dw4", "0.00150", "w5_new", "0.39999178", "dL_db1", "0.0284"):
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
    """Brackets in formulas ([z_h1 > 0] for ReLU) and in titles print as written."""
    data = preset("handout").to_data()
    data["layers"][0]["activation"] = "relu"
    data["title"] = "[bold]Week 3[/bold]"
    path = tmp_path / "relu.json"
    path.write_text(json.dumps(data))
    result = runner.invoke(app, ["solve", str(path)])
    assert result.exit_code == 0
    assert "[z_h1 > 0]" in result.output
    assert "[bold]Week 3[/bold]" in result.output

"""The documents' choices: the spec's documents: block, the defaults by size, the CLI's overrides."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from shapes import shape
from typer.testing import CliRunner

from gradegen.cli import app
from gradegen.core.options import FULL_UP_TO, Diagram, Level, Style, default_style, with_documents
from gradegen.core.spec import Documents, parse_spec, preset
from gradegen.errors import SpecError
from gradegen.variants.streams import fingerprint

runner = CliRunner()


def test_default_style_by_size() -> None:
    """Up to FULL_UP_TO weights and biases a network is written in full, above it compactly."""
    handout, deep = preset("handout"), shape("3-4-3-3")
    assert handout.parameter_count == 8 and handout.style is Style.FULL
    assert deep.parameter_count >= 3 * 4 + 4 * 3 + 3 * 3 > FULL_UP_TO and deep.style is Style.COMPACT
    assert default_style(FULL_UP_TO) is Style.FULL and default_style(FULL_UP_TO + 1) is Style.COMPACT


def test_documents_block_read_from_the_spec() -> None:
    """A spec's documents: block sets the style, notes, diagram and level; the rest stay default."""
    data: dict[str, Any] = {**preset("handout").to_data(), "documents": {"style": "matrix", "notes": False}}
    spec = parse_spec(data)
    assert spec.documents == Documents(style=Style.MATRIX, notes=False)
    assert spec.style is Style.MATRIX and spec.documents.level is Level.STANDARD


@pytest.mark.parametrize(
    ("block", "field"),
    [
        ({"style": "tiny"}, "documents.style"),
        ({"notes": "yes"}, "documents.notes"),
        ({"colour": 1}, "documents"),
    ],
)
def test_bad_documents_block_names_the_field(block: dict[str, Any], field: str) -> None:
    """A wrong choice or an unknown key in documents: is refused, naming the field."""
    with pytest.raises(SpecError, match=field):
        parse_spec({**preset("handout").to_data(), "documents": block})


def test_documents_kept_in_the_key_only_when_chosen() -> None:
    """to_data (what a key stores) leaves documents: out at the defaults, and keeps just the choices."""
    spec = preset("handout")
    assert "documents" not in spec.to_data()
    chosen = with_documents(spec, level="exam")
    assert chosen.to_data()["documents"] == {"level": "exam"}
    assert parse_spec(chosen.to_data()) == chosen


def test_documents_change_nobody_s_numbers() -> None:
    """How the documents look is cosmetic: the variants' seed fingerprint is the same."""
    spec = preset("handout")
    other = with_documents(spec, style="compact", notes=False, diagram="values", level="exam")
    assert fingerprint(other) == fingerprint(spec)


def test_with_documents_overrides_only_what_is_given() -> None:
    """None keeps the spec's choice; strings are read as the enums; steps replaces the spec's steps."""
    spec = with_documents(preset("handout"), style=Style.MATRIX)
    again = with_documents(spec, diagram="values", steps=3)
    assert again.documents == Documents(style=Style.MATRIX, diagram=Diagram.VALUES)
    assert again.steps == 3 and spec.steps == 1
    assert with_documents(spec) is spec


@pytest.mark.parametrize(
    ("change", "message"),
    [({"style": "big"}, "documents.style"), ({"level": "hard"}, "documents.level"), ({"steps": 0}, "steps")],
)
def test_with_documents_refuses_bad_choices(change: dict[str, Any], message: str) -> None:
    """A choice that is not one of its set, or steps out of range, is one SpecError naming it."""
    with pytest.raises(SpecError, match=message):
        with_documents(preset("handout"), **change)


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--style", "tiny"], "--style"), (["--level", "hard"], "--level"), (["--steps", "0"], "steps")],
)
def test_generate_refuses_bad_choices(tmp_path: Path, args: list[str], message: str) -> None:
    """generate answers a bad --style, --level or --steps with a message and exit 2, writing nothing."""
    out = tmp_path / "docs"
    result = runner.invoke(app, ["generate", "--out", str(out), *args])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert not out.exists()

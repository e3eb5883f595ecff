"""The export targets' registry: one module per target, each with its entry function."""

from __future__ import annotations

from importlib import import_module
from pathlib import Path

from gradegen.exports.formats import MODULES, Target


def test_every_target_is_registered_with_its_entry_function() -> None:
    """Each Target names a module of gradegen/exports defining ``export_<target>``, and every module
    there but the registry is a target's."""
    assert set(MODULES) == set(Target)
    for target, name in MODULES.items():
        assert callable(getattr(import_module(name), f"export_{target.value}"))
    folder = Path(__file__).resolve().parent.parent / "gradegen" / "exports"
    modules = {p.stem for p in folder.glob("*.py")} - {"__init__", "formats"}
    assert modules == {name.rsplit(".", 1)[1] for name in MODULES.values()}

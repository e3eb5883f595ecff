"""The package layout: phases as packages, data flowing one way, modules of a readable size."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "gradegen"

# core → variants → (documents | grading) → reports → cli: a phase imports only earlier ones.
RANK = {"core": 0, "variants": 1, "documents": 2, "grading": 2, "reports": 3, "exports": 4}
SHARED = {"errors", "escape", "files", "outputs", "progress", "names", "tables", "presets"}


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _imports(path: Path) -> list[str]:
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
        elif isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
    return [m for m in found if m.startswith("gradegen.")]


@pytest.mark.parametrize("path", [p for p in _modules() if p.parent.name in RANK], ids=lambda p: p.stem)
def test_phases_import_only_earlier_phases(path: Path) -> None:
    """A phase's module imports core, shared helpers and earlier phases only; documents and grading
    never import each other, and nothing below the CLI imports the CLI."""
    phase = path.parent.name
    for module in _imports(path):
        target = module.split(".")[1]
        if target in SHARED or target == phase:
            continue
        assert target in RANK, f"{path.name} imports {module}"
        assert RANK[target] < RANK[phase], f"{path.name} ({phase}) imports {module}"


def test_shared_helpers_import_no_phase() -> None:
    """The shared helpers every phase uses import no phase but core, so any phase can reach them."""
    for name in SHARED - {"presets"}:
        for module in _imports(PACKAGE / f"{name}.py"):
            target = module.split(".")[1]
            assert target in SHARED or target == "core", f"{name}.py imports {module}"


def test_no_module_over_500_lines() -> None:
    """Every module stays readable in one sitting: at most 500 lines."""
    long = {
        p.relative_to(PACKAGE).as_posix(): n
        for p in _modules()
        if (n := len(p.read_text().splitlines())) > 500
    }
    assert not long

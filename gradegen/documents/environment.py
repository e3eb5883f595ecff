"""The Jinja2 environment: the user's templates folder first, then the packaged templates."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import jinja2

from gradegen.documents.formats import FORMATS
from gradegen.errors import GradegenError


class _PackageLoader(jinja2.BaseLoader):
    """Templates shipped inside the package (works from a wheel and an editable install)."""

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Any]:
        path = resources.files("gradegen.templates").joinpath(template)
        if not path.is_file():
            raise jinja2.TemplateNotFound(template)
        text = path.read_text("utf-8")
        return text, f"gradegen/templates/{template}", lambda: True


def _environment(templates: Path | None) -> jinja2.Environment:
    loaders: list[jinja2.BaseLoader] = []
    if templates is not None:
        folder = Path(templates)
        if not folder.is_dir():
            raise GradegenError(f"--templates: {folder} is not a readable folder")
        try:
            next(folder.iterdir(), None)
        except OSError as exc:
            raise GradegenError(f"--templates: cannot read {folder}: {exc.strerror}") from None
        loaders.append(jinja2.FileSystemLoader(str(folder)))
    loaders.append(_PackageLoader())
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # each format escapes its strings itself, and offers its filters
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    for fmt in FORMATS:
        env.filters.update(fmt.filters)
    return env


_ENVIRONMENTS: dict[str | None, jinja2.Environment] = {}


def environment(templates: Path | str | None = None) -> jinja2.Environment:
    """The Jinja2 environment for a templates folder (user's first, then packaged), cached."""
    key = None if templates is None else str(Path(templates).resolve())
    env = _ENVIRONMENTS.get(key)
    if env is None:
        env = _environment(None if templates is None else Path(templates))
        _ENVIRONMENTS[key] = env
    return env

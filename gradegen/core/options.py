"""How the documents teach a network: the closed sets of choices, and the defaults by size.

The spec's ``documents:`` block holds them (:class:`gradegen.core.spec.Documents`); ``generate``'s
``--style``, ``--notes``, ``--diagram`` and ``--level`` override it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from gradegen.errors import SpecError

if TYPE_CHECKING:
    from gradegen.core.spec import Spec


class Style(StrEnum):
    """How the solution is written out."""

    FULL = "full"  # every weight's chain rule in full (the handout's style)
    COMPACT = "compact"  # per-layer tables, one chain worked in full per layer
    MATRIX = "matrix"  # vectors and matrices: W, b, z, a, δ per layer


class Diagram(StrEnum):
    """What the network diagram shows."""

    PLAIN = "plain"  # the network with its given numbers
    VALUES = "values"  # also every forward value and gradient, dead units marked


class Level(StrEnum):
    """How much of the work the worksheet asks."""

    SCAFFOLDED = "scaffolded"  # part of the work filled in
    STANDARD = "standard"  # every quantity the network computes
    EXAM = "exam"  # one quantity of each kind along one path, with points


FULL_UP_TO = 24
"""The default style is ``full`` up to this many parameters (weights and biases), else ``compact``."""


def default_style(parameters: int) -> Style:
    """The style a network of ``parameters`` weights and biases gets when none is chosen."""
    return Style.FULL if parameters <= FULL_UP_TO else Style.COMPACT


def with_documents(
    spec: Spec,
    *,
    style: Style | str | None = None,
    notes: bool | None = None,
    diagram: Diagram | str | None = None,
    level: Level | str | None = None,
    steps: int | None = None,
) -> Spec:
    """``spec`` with the choices given here in place of its own (None: keep the spec's)."""
    chosen = {
        name: value
        for name, value in (("style", style), ("notes", notes), ("diagram", diagram), ("level", level))
        if value is not None
    }
    from pydantic import ValidationError  # here: the CLI imports the enums for --help

    update: dict[str, Any] = {}
    if chosen:
        try:
            documents = type(spec.documents).model_validate({**spec.documents.model_dump(), **chosen})
        except ValidationError as exc:
            error = exc.errors()[0]
            where = ".".join(str(part) for part in error["loc"])
            raise SpecError(f"documents.{where}: {error['msg']}") from None
        update["documents"] = documents
    if steps is not None:
        from gradegen.core.spec import MAX_STEPS

        if not 1 <= steps <= MAX_STEPS:
            raise SpecError(f"steps: expected 1 to {MAX_STEPS:,}, got {steps}")
        update["steps"] = steps
    return spec.model_copy(update=update) if update else spec

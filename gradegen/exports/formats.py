"""The export targets, registered in one place: each a module with one entry function."""

from __future__ import annotations

from enum import StrEnum


class Target(StrEnum):
    """Where an assignment is exported to."""

    MOODLE = "moodle"
    GRADESCOPE = "gradescope"
    CANVAS = "canvas"


MODULES: dict[Target, str] = {
    Target.MOODLE: "gradegen.exports.moodle",
    Target.GRADESCOPE: "gradegen.exports.gradescope",
    Target.CANVAS: "gradegen.exports.canvas",
}
"""Each target's module (imported on use: an export pulls in only what it needs)."""

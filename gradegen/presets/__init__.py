"""Built-in networks, shipped as commented starter specs."""

from enum import StrEnum


class Preset(StrEnum):
    """A built-in network: the lecture handout's 2-2-1, or the classic 2-2-2 walkthrough."""

    HANDOUT = "handout"
    MAZUR = "mazur"

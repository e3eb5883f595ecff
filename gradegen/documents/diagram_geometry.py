"""The geometry the diagram's layout is checked with: label boxes (turned with their edges), and
whether a box meets a segment, another box, a circle or the canvas edge."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property


@dataclass(frozen=True)
class Box:
    """A label's box: centre, half width and half height, and its rotation (degrees, clockwise)."""

    x: float
    y: float
    hw: float
    hh: float
    angle: float = 0.0

    @cached_property
    def reach(self) -> float:
        """How far the box reaches from its centre (half its diagonal)."""
        return math.hypot(self.hw, self.hh)

    @cached_property
    def corners(self) -> list[tuple[float, float]]:
        """The four corners, clockwise from the top left of the unturned box."""
        c, s = math.cos(math.radians(self.angle)), math.sin(math.radians(self.angle))
        return [
            (self.x + dx * c - dy * s, self.y + dx * s + dy * c)
            for dx, dy in ((-self.hw, -self.hh), (self.hw, -self.hh), (self.hw, self.hh), (-self.hw, self.hh))
        ]


def to_segment(c: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
    """The distance from c to the segment a–b."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    t = max(0.0, min(1.0, ((c[0] - a[0]) * dx + (c[1] - a[1]) * dy) / (dx * dx + dy * dy)))
    return math.dist(c, (a[0] + t * dx, a[1] + t * dy))


def segments_near(
    p: tuple[float, float], q: tuple[float, float], a: tuple[float, float], b: tuple[float, float], d: float
) -> bool:
    """Whether the segments p–q and a–b come within d (a cheap test: the boxes around them)."""
    return not (
        max(p[0], q[0]) + d < min(a[0], b[0])
        or max(a[0], b[0]) + d < min(p[0], q[0])
        or max(p[1], q[1]) + d < min(a[1], b[1])
        or max(a[1], b[1]) + d < min(p[1], q[1])
    )


def segment_meets(box: Box, p: tuple[float, float], q: tuple[float, float]) -> bool:
    """Whether the segment p–q passes through the box (clipped in the box's own frame)."""
    cos, sin = math.cos(math.radians(box.angle)), math.sin(math.radians(box.angle))

    def local(c: tuple[float, float]) -> tuple[float, float]:
        dx, dy = c[0] - box.x, c[1] - box.y
        return dx * cos + dy * sin, -dx * sin + dy * cos

    (x1, y1), (x2, y2) = local(p), local(q)
    lo, hi = 0.0, 1.0
    for start, delta, half in ((x1, x2 - x1, box.hw), (y1, y2 - y1, box.hh)):
        if abs(delta) < 1e-12:
            if abs(start) > half:
                return False
            continue
        t1, t2 = sorted(((-half - start) / delta, (half - start) / delta))
        lo, hi = max(lo, t1), min(hi, t2)
        if lo > hi:
            return False
    return True


def inside(box: Box, width: float, height: float) -> bool:
    """Whether the box lies within the canvas."""
    return all(0 <= x <= width and 0 <= y <= height for x, y in box.corners)


def boxes_meet(a: Box, b: Box, gap: float = 0.0) -> bool:
    """Whether two (rotated) boxes come closer than ``gap``: separating axes of the two rectangles."""
    if math.dist((a.x, a.y), (b.x, b.y)) >= a.reach + b.reach + gap:
        return False
    pa, pb = a.corners, b.corners
    for poly in (pa, pb):
        for i in range(2):
            (x1, y1), (x2, y2) = poly[i], poly[i + 1]
            nx, ny = y1 - y2, x2 - x1
            norm = math.hypot(nx, ny)
            nx, ny = nx / norm, ny / norm
            sa = [x * nx + y * ny for x, y in pa]
            sb = [x * nx + y * ny for x, y in pb]
            if max(sa) + gap <= min(sb) or max(sb) + gap <= min(sa):
                return False
    return True


def circle_meets(box: Box, c: tuple[float, float], r: float) -> bool:
    """Whether the box comes within ``r`` of the point ``c``."""
    dx, dy = c[0] - box.x, c[1] - box.y
    if math.hypot(dx, dy) >= box.reach + r:
        return False
    cos, sin = math.cos(math.radians(box.angle)), math.sin(math.radians(box.angle))
    lx, ly = dx * cos + dy * sin, -dx * sin + dy * cos  # c in the box's own frame
    nearest = (max(-box.hw, min(lx, box.hw)), max(-box.hh, min(ly, box.hh)))
    return math.dist((lx, ly), nearest) < r

"""Randomness for variants: a counter-based stream per student, and uniforms turned into numbers.

A student's stream is keyed by HMAC-SHA256(seed, version ‖ spec fingerprint ‖ student id), so one
student's numbers say nothing about another's without the seed, and any student's draw is
computed without the others' (SplitMix64's mixer over (key, draw, position)).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gradegen.core.graph import Array
from gradegen.core.spec import Spec

VERSION = b"gradegen-variants-1"
"""Part of every hashed message: changing how numbers are drawn means changing this."""

COSMETIC_FIELDS = ("title", "course", "instructions", "tolerance", "tolerances", "points", "documents")
"""Spec fields left out of the fingerprint: fixing a typo in the title changes nobody's numbers."""


def new_seed() -> str:
    """A fresh random assignment seed (32 hex digits), for runs not given one."""
    return secrets.token_hex(16)


def fingerprint(spec: Spec) -> str:
    """SHA-256 of the normalised spec without its cosmetic fields (title, tolerances, …)."""
    data = {k: v for k, v in spec.to_data().items() if k not in COSMETIC_FIELDS}
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()


def student_keys(seed: str, spec: Spec, ids: Sequence[str]) -> NDArray[np.uint64]:
    """Two 64-bit words per student from HMAC-SHA256(seed, version ‖ fingerprint ‖ id)."""
    key = seed.encode("utf-8", errors="surrogatepass")
    prefix = VERSION + b"\x00" + fingerprint(spec).encode() + b"\x00"
    base = hmac.new(key, prefix, hashlib.sha256)
    digests = bytearray()
    for student in ids:
        h = base.copy()
        h.update(student.encode("utf-8", errors="surrogatepass"))
        digests += h.digest()[:16]
    return np.frombuffer(bytes(digests), dtype="<u8").reshape(len(ids), 2).astype(np.uint64)


_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def _mix(z: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """SplitMix64's finaliser: a bijective 64-bit mixer."""
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def uniforms(
    keys: NDArray[np.uint64], draw: int, width: int, *, offset: NDArray[np.int64] | None = None
) -> Array:
    """``width`` uniforms in [0, 1) per student for draw number ``draw`` (0, 1, …): shape (n, width).

    Uniform j of draw d for a student keyed (k1, k2) is
    ``mix(mix(k1 + (d·width + j + 1)·γ) ^ k2) >> 11`` scaled by 2⁻⁵³: a counter-based generator,
    so any student's draw is computed without the others'. ``offset`` (one per student) replaces
    ``draw`` when students are at different draws.
    """
    d = np.full(len(keys), draw, dtype=np.uint64) if offset is None else offset.astype(np.uint64)
    counter = d[:, None] * np.uint64(width) + np.arange(1, width + 1, dtype=np.uint64)[None, :]
    with np.errstate(over="ignore"):
        state = keys[:, :1] + counter * _GAMMA
        bits = _mix(_mix(state) ^ keys[:, 1:])
    return (bits >> np.uint64(11)).astype(np.float64) * (2.0**-53)


def indices(u: Array, count: int, distinct: bool) -> NDArray[np.int64]:
    """Indices into ``count`` values, one per uniform; all different along a row when ``distinct``.

    Distinct indices are drawn one by one without replacement: uniform j picks the c-th of the
    values still unused (c uniform below count − j), by stepping c past each earlier pick at or
    below it, in ascending order. The earlier picks are kept sorted, column by column (every
    row's m-th smallest), so each step is a few vector operations over all rows. With fewer
    values than uniforms they repeat (and the distinct_weights constraint then reports it).
    """
    n, k = u.shape
    if not distinct or k > count or k == 1:
        return np.minimum((u * count).astype(np.int64), count - 1)
    dtype = np.int16 if count < 2**15 - 1 else np.int64  # narrow columns: far less memory traffic
    picks = np.empty((k, n), dtype=dtype)
    floor = np.full(n, -1, dtype=dtype)
    ceiling = np.full(n, count, dtype=dtype)
    ordered: list[NDArray[Any]] = []  # ordered[m]: every row's m-th smallest pick so far
    for j in range(k):
        a = np.minimum(u[:, j] * (count - j), count - j - 1).astype(dtype)
        for column in ordered:
            np.add(a, a >= column, out=a)
        picks[j] = a
        # insert a: the m-th smallest of (picks ∪ {a}) is min(old m-th, max(old (m−1)-th, a))
        below = [floor, *ordered]
        above = [*ordered, ceiling]
        ordered = [np.minimum(above[m], np.maximum(below[m], a)) for m in range(j + 1)]
    return picks.T.astype(np.int64)


def distribution(u: Array, places: int) -> Array:
    """Rows summing to exactly 1 at ``places`` decimals: a flat Dirichlet, largest-remainder rounded.

    With 0 places this is a one-hot row with a uniformly random class.
    """
    e = -np.log1p(-u)
    p = e / e.sum(axis=1, keepdims=True)
    scale = 10**places
    v = p * scale
    counts = np.floor(v)
    deficit = scale - counts.sum(axis=1, keepdims=True)
    rank = np.argsort(np.argsort(-(v - counts), axis=1, kind="stable"), axis=1, kind="stable")
    counts += rank < deficit
    result: Array = counts / scale
    return result

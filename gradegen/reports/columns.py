"""What an item's text depends on, per column: the few distinct combinations a report writes once.

An item's text in results.json or a feedback page depends on its answer, its key, its verdict and
its diagnosis. Few of those combinations occur in a column (most students write the right value
the same way), so each report builds a text per distinct combination and looks it up per row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gradegen.grading.results import MISTAKES, VERDICTS, _Column

Item = tuple[str | None, float, int, int, int]
"""One distinct item: (raw text, value, key, verdict code, diagnosis code or −1)."""


def distinct_items(
    column: _Column, rows: NDArray[np.intp], keys: NDArray[np.intp], key_of: NDArray[np.intp]
) -> tuple[list[Item], NDArray[np.intp]]:
    """The distinct items of some rows of a column, and each row's one. ``keys[key_of]`` are the
    rows' keys; ``key_of`` may be all zeros where the text does not depend on the key."""
    raws, values = column.raws(rows), column.value[rows]
    first, answer_of = _answer_codes(raws, values)
    distinct, inverse = _combinations(
        [answer_of, key_of, column.verdict[rows], column.diagnosis[rows] + 1],
        [first.size, keys.size, len(VERDICTS), len(MISTAKES) + 1],
    )
    texts, numbers, key_list = raws[first].tolist(), values[first].tolist(), keys.tolist()
    return [(texts[a], numbers[a], key_list[k], v, d - 1) for a, k, v, d in distinct], inverse


def _answer_codes(
    raws: NDArray[Any], values: NDArray[np.float64]
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """A column's rows grouped by answer: each distinct answer's first row, and each row's answer.

    Rows given one number hold the same text and value, except where the same value was written
    differently; those rows get an answer of their own.
    """
    bits = values.view(np.int64)  # NaN matches NaN, and −0.0 stays apart from 0.0
    _, first, codes = np.unique(bits, return_index=True, return_inverse=True)
    odd = np.flatnonzero(raws != raws[first][codes])
    if odd.size:
        codes[odd] = np.arange(first.size, first.size + odd.size)
        first = np.concatenate([first, odd])
    return first, codes


def _combinations(
    codes: Sequence[NDArray[np.integer[Any]]], sizes: Sequence[int]
) -> tuple[list[tuple[int, ...]], NDArray[np.intp]]:
    """The distinct combinations of per-row codes (``codes[i] < sizes[i]``), and each row's one."""
    combined = np.zeros(len(codes[0]), dtype=np.int64)
    for code, size in zip(codes, sizes, strict=True):
        combined = combined * size + code
    distinct, inverse = np.unique(combined, return_inverse=True)
    parts: list[list[int]] = []
    for size in reversed(sizes):
        distinct, part = np.divmod(distinct, size)
        parts.append(part.tolist())
    return list(zip(*reversed(parts), strict=True)), inverse

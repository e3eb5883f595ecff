"""Reading one answer: every dash as a minus, and values no number can come from (huge integers,
values holding themselves) as unparseable answers rather than errors."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from gradegen.grading.parse import Status, parse_answer, parse_column

_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2212\ufe63\uff0d-"


@pytest.mark.parametrize("dash", list(_DASHES))
def test_every_dash_before_a_number_is_a_minus(dash: str) -> None:
    """Hyphen (U+2010), non-breaking hyphen (U+2011), figure/en/em dash, minus, small and
    full-width hyphen-minus: each reads as a minus, alone and in a column."""
    for text, value in [(f"{dash}0.0015", -0.0015), (f"8.22 × 10^{dash}2", 0.0822), (f"{dash}1/4", -0.25)]:
        parsed = parse_answer(text)
        assert parsed.status is Status.OK and parsed.value == pytest.approx(value, rel=1e-15)
        values, status, _ = parse_column([text, "0.5"])
        assert status.tolist() == [0, 0] and values[0] == pytest.approx(value, rel=1e-15)


def _huge(digits: int) -> int:
    """An integer of ``digits`` digits, built past Python's 4,300-digit conversion limit."""
    return (10**digits - 1) // 9  # 111…1, made by arithmetic: no text conversion involved


@pytest.mark.parametrize("number", [10**400, -(10**400), _huge(5000)], ids=["400", "-400", "5000"])
def test_integers_beyond_float64_are_unparseable(number: int) -> None:
    """An integer too large for float64 (400 digits) or for str() (5,000) is unparseable with a raw
    text, alone and in a column beside a readable answer."""
    parsed = parse_answer(number)
    assert parsed.status is Status.UNPARSEABLE and parsed.value is None and parsed.raw
    assert len(parsed.raw) < sys.get_int_max_str_digits() + 2
    values, status, raws = parse_column([number, 0.5])
    assert status.tolist() == [2, 0] and values[1] == 0.5 and raws[0] == parsed.raw


def _self_holding() -> list[Any]:
    cell: list[Any] = []
    cell.append(cell)
    return cell


@pytest.mark.parametrize(
    "cell", [_self_holding(), [_huge(5000)], {"a": [1, {"b": 10**400}]}], ids=["itself", "5000", "nested"]
)
def test_structures_are_unparseable_with_a_raw_text(cell: Any) -> None:
    """A list or mapping is unparseable, with raw text even when JSON cannot write it."""
    parsed = parse_answer(cell)
    assert parsed.status is Status.UNPARSEABLE and isinstance(parsed.raw, str) and parsed.raw

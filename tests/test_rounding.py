"""Hand rounding: half away from zero, three significant figures kept, update steps visible."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gradegen.core.rounding import format_number, hand_round, hand_update, places_for, round_to, shortest


@pytest.mark.parametrize(
    ("value", "decimals", "rounded", "text"),
    [
        (0.13849856, 4, 0.1385, "0.1385"),
        (0.000668396, 4, 0.000668, "0.000668"),
        (0.0013497, 4, 0.00135, "0.00135"),
        (0.74136507, 4, 0.7414, "0.7414"),
        (1.10590597, 4, 1.1059, "1.1059"),
        (-0.0014996, 4, -0.0015, "−0.00150"),
        (123.4567, 2, 123.46, "123.46"),
        (0.0, 4, 0.0, "0.0000"),
        (0.00135, 4, 0.00135, "0.00135"),
        (0.12345, 4, 0.1235, "0.1235"),  # a half rounds up, as on paper (banker's gives 0.1234)
        (0.1385 * 0.5, 4, 0.0693, "0.0693"),  # float gives 0.069249999…; paper gives 0.06925
        (0.06924999, 4, 0.0692, "0.0692"),
        (-0.12345, 4, -0.1235, "−0.1235"),
        (1234.5, 0, 1235.0, "1235"),
        (2.5, 0, 2.5, "2.50"),  # three significant figures win over 0 places
    ],
)
def test_hand_round_table(value: float, decimals: int, rounded: float, text: str) -> None:
    """Each value rounds as a student would, and prints with the places it was given."""
    result, places = hand_round(np.array([value]), decimals)
    assert result[0] == rounded
    assert format_number(result[0], int(places[0])) == text


def test_update_keeps_the_step_visible() -> None:
    """0.40 − 0.0001 × 0.0822 rounds to 0.39999178, not 0.4000."""
    new, places = hand_update(np.array([0.40]), np.array([0.0001 * 0.0822]), 4)
    assert format_number(new[0], int(places[0])) == "0.39999178"
    new, places = hand_update(np.array([0.40]), np.array([0.5 * 0.0822]), 4)
    assert format_number(new[0], int(places[0])) == "0.3589"


@given(st.floats(1e-9, 1e6), st.integers(0, 6))
def test_three_significant_figures_survive(value: float, decimals: int) -> None:
    """Whatever the magnitude, a hand value keeps at least three significant figures."""
    result, _ = hand_round(np.array([value]), decimals)
    assert abs(result[0] - value) <= 0.005 * value + 0.5 * 10.0**-decimals


@given(st.floats(-1e3, 1e3, allow_nan=False), st.integers(0, 8))
def test_rounding_is_nearest(value: float, places: int) -> None:
    """round_to gives a value within half a unit in the last place."""
    result = round_to(np.array([value]), places)[0]
    assert abs(result - value) <= 0.5 * 10.0**-places + 1e-14 * max(abs(value), 1.0)


def test_places_for_small_numbers() -> None:
    """Small magnitudes need more places for three significant figures."""
    assert places_for(np.array([0.5, 0.05, 0.0005, 0.0, 25.0]), 4).tolist() == [4, 4, 6, 4, 4]


def test_shortest_prints_givens_as_written() -> None:
    """Givens print in their shortest form, with a real minus sign and no exponent."""
    assert [shortest(v) for v in (0.05, 0.1, 2.0, -0.3, 1e-05)] == ["0.05", "0.1", "2", "−0.3", "0.00001"]

"""format_cny by integer arithmetic writes what the format of to_cent's amount wrote."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from twotier.money import MAX_MONEY_UNITS, UNITS_PER_CENT, format_cny, share_to_cent, to_cent


def formatted_by_to_cent(units, sign: bool = False) -> str:
    """format_cny as it was: ``to_cent``, then a ``:,`` format of the whole CNY."""
    units = to_cent(units)
    whole_cents = abs(units) // UNITS_PER_CENT
    text = f"{whole_cents // 100:,}.{whole_cents % 100:02d}"
    if units < 0:
        return f"-{text}"
    return f"+{text}" if sign else text


amounts = st.one_of(
    st.integers(-(10**9), 10**9),  # around zero: fractions of a cent, -0.005 and 0.005
    st.integers(-MAX_MONEY_UNITS, MAX_MONEY_UNITS),
    st.integers(-(10**30), 10**30),  # beyond what the run carries: still the same text
    st.sampled_from([0, 49, 50, -49, -50, -51, 9_999_999_949, 9_999_999_950, -9_999_999_950]),
)


@given(amounts, st.booleans())
def test_format_cny_writes_what_the_format_of_to_cent_wrote(units, sign):
    assert format_cny(units, sign=sign) == formatted_by_to_cent(units, sign=sign)


@given(st.integers(-(2**63), 2**63 - 1), st.booleans())
def test_format_cny_of_numpy_integers(units, sign):
    assert format_cny(np.int64(units), sign) == formatted_by_to_cent(np.int64(units), sign)


def test_format_cny_at_the_thousands_boundaries():
    for cny in (999, 1000, 999_999, 1_000_000, 123_456_789):
        for units in (cny * 10_000, cny * 10_000 - 50, -cny * 10_000 - 49):
            assert format_cny(units, True) == formatted_by_to_cent(units, True)
    assert format_cny(-49) == "0.00" and format_cny(-50) == "-0.01"
    assert format_cny(12_345_678_950, sign=True) == "+1,234,567.90"


@given(st.integers(-(10**17), 10**17), st.integers(-(UNITS_PER_CENT - 1), UNITS_PER_CENT - 1))
def test_to_cent_gives_whole_cents_back_and_rounds_the_rest(cents, rest):
    """``to_cent`` gives an amount of whole cents (fees) back as it is, without the
    rounding, which gives the same amount; any other amount is rounded."""
    units = cents * UNITS_PER_CENT + rest
    assert to_cent(units) == share_to_cent(units, 1, 1)
    if not rest:
        assert to_cent(units) == units

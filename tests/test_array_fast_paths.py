"""The fast paths of the tape's and the equity table's array work give what the general
paths give, and fall back to them wherever they do not apply."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twotier.engine.market import _prices, day_starts
from twotier.engine.tape import _at_latest
from twotier.market.settlement import NO_PRICE, day_settlements
from twotier.money import PriceError, price_units, price_units_array
from twotier.numeric import _result_type
from twotier.tier2.records import _joined


@pytest.mark.parametrize(
    "prices",
    [
        [765.5, 766.0, 0.0001, 1e8],  # whole price units: the fast path
        [0.07, 0.29, 1234.5678, 3.3],  # scaled floats a hair off a unit: the full check
        [],
    ],
)
def test_price_units_array_is_price_units_of_each(prices):
    units = price_units_array(np.array(prices, dtype=np.float64))
    assert units.dtype == np.int64
    assert units.tolist() == [price_units(p) for p in prices]


@pytest.mark.parametrize("bad", [np.nan, 0.0, -1.0, np.inf, 1e8 + 1, 1.23456])
def test_price_units_array_refuses_what_price_units_refuses(bad):
    with pytest.raises(PriceError):
        price_units(bad)
    with pytest.raises(PriceError):
        price_units_array(np.array([765.5, bad, 766.0]))


def test_day_starts_are_the_first_bar_of_each_day():
    day = np.array(["2024-01-02", "2024-01-02", "2024-01-03", "2024-01-05", "2024-01-05"],
                   dtype="datetime64[D]")  # fmt: skip
    assert day_starts(day).tolist() == [0, 2, 3]
    assert day_starts(day[:1]).tolist() == [0]


def test_day_settlements_take_a_blank_volume_as_none():
    starts = np.array([0, 2])
    high = np.array([1010, 1020, 990, 1000])
    low = np.array([1000, 1000, 980, 990])
    close = np.array([1005, 1010, 985, 995])
    finite = day_settlements(starts, high, low, close, np.array([1.0, 3.0, 2.0, 2.0]), 5)
    blank = day_settlements(starts, high, low, close, np.array([1.0, 3.0, np.nan, np.nan]), 5)
    assert finite.tolist() == [1010, 990]
    assert blank.tolist() == [1010, 995]  # a day without volume: its last close


@pytest.mark.parametrize(
    "arrays",
    [
        [np.arange(3), np.arange(2), np.array([], dtype=np.int64)],
        [np.array([1.5, np.nan]), np.array([-0.0])],
        [
            np.array(["2024-01-02"], dtype="datetime64[D]"),
            np.array(["2024-01-03"], dtype="datetime64[D]"),
        ],
        [np.arange(3), np.array([1.5])],  # mixed dtypes: concatenated
        [np.arange(10)[::2], np.arange(2)],  # not contiguous: concatenated
        [np.array(["a", "bc"])],
    ],
)
def test_joined_is_np_concatenate(arrays):
    joined, expected = _joined(arrays), np.concatenate(arrays)
    assert joined.dtype == expected.dtype
    assert joined.tobytes() == expected.tobytes()


@pytest.mark.parametrize(
    "values", [0, 1, -(2**63), 2**63 - 1, 2**70, -(2**100), np.zeros(2, np.int32), np.zeros(2)]
)
@pytest.mark.parametrize("other", [0, -1, 2**64, 2**90])
def test_the_result_type_of_plain_ints_and_int_arrays_is_numpys(values, other):
    assert _result_type(values, other) == np.result_type(values, other)


@pytest.mark.parametrize(
    "column, expected",
    [
        ([765.5, 766.0], [7_655_000, 7_660_000]),
        ([765.5, np.nan, 0.0001], [7_655_000, NO_PRICE, 1]),  # a blank: no price
        ([np.nan, np.nan], None),  # blank throughout: as missing
        ([], None),
    ],
)
def test_price_columns_in_price_units_and_blanks_as_no_price(column, expected):
    packages = pd.DataFrame({"high": np.array(column, dtype=np.float64)})
    units = _prices(packages, "high")
    assert units is None if expected is None else units.tolist() == expected
    assert _prices(packages, "low") is None


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(0, 3), min_size=1, max_size=12),
    st.lists(st.integers(-1, 12), max_size=30).map(sorted),
    st.sampled_from([np.int8, np.float64]),
)
def test_values_at_the_latest_bar_are_those_behind_a_no_bar_value(values, latest, dtype):
    """``_at_latest`` as the tape took them before: the column behind a first value that
    stands for no bar yet, at the latest bar + 1."""
    values = np.array(values, dtype=dtype)
    latest = np.minimum(np.array(latest, dtype=np.int64), len(values) - 1)
    behind = np.concatenate([np.array([9], dtype=dtype), values]).take(latest + 1)
    got = _at_latest(values, latest, 9)
    assert got.dtype == values.dtype
    assert got.tolist() == behind.tolist()
    assert _at_latest(values[:0], np.full(3, -1), 9).tolist() == [9, 9, 9]

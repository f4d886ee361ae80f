"""The sorted-set operations give numpy's arrays, values and dtype alike."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from twotier.sorted_sets import difference, distinct, isin, union

small_ints = st.lists(st.integers(-50, 50) | st.none(), max_size=60)  # None: NaT or NaN


def _days(values: list) -> np.ndarray:
    start = np.datetime64("2024-01-01")
    return np.array([np.datetime64("NaT") if v is None else start + v for v in values],
                    dtype="datetime64[D]")  # fmt: skip


def _floats(values: list) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def _same(mine: np.ndarray, numpys: np.ndarray) -> None:
    assert mine.dtype == numpys.dtype
    np.testing.assert_array_equal(mine, numpys)  # NaN and NaT equal to themselves here


@settings(max_examples=200)
@given(a=small_ints, b=small_ints, as_days=st.booleans())
def test_sorted_sets_equal_numpys_set_functions(a, b, as_days):
    x, y = (_days(a), _days(b)) if as_days else (_floats(a), _floats(b))
    _same(distinct(x), np.unique(x))
    _same(union(x, y), np.union1d(x, y))
    _same(difference(x, y), np.setdiff1d(x, y))
    _same(isin(x, y), np.isin(x, y))


def test_isin_of_one_value_is_one_flag_as_numpys():
    members = _days([3, 1, 2])
    for day, expected in ((_days([2])[0], True), (_days([7])[0], False)):
        assert isin(day, members) == np.isin(day, members) == expected
    assert not isin(_days([1])[0], _days([]))

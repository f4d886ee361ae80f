"""The array forms of the money conversions give the bits of the plain ones."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from twotier.money import cent_cny, cny, cny_array, to_cent

units = st.lists(st.integers(-(2**62), 2**62), max_size=50)
whole_cents = st.lists(st.integers(-(10**16), 10**16).map(lambda c: c * 100), max_size=50)


def _same(a: np.ndarray, b: np.ndarray) -> None:
    assert a.dtype == b.dtype == np.float64
    assert a.tobytes() == b.tobytes()


@given(units)
def test_cny_array_is_cny(values):
    array = np.array(values, dtype=np.int64)
    _same(cny_array(array), cny(array))


@given(st.one_of(units, whole_cents))
def test_cent_cny_is_cny_of_to_cent(values):
    array = np.array(values, dtype=np.int64)
    expected = cny(to_cent(array))
    _same(cent_cny(array), expected)
    _same(cent_cny(array, cny(array)), expected)  # whole cents: the CNY given is kept

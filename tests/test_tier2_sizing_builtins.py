"""Sizing compares two numbers without the builtins ``min`` and ``max`` (``lesser``,
``clamp``): the same value as the builtins give, object for object, for any numbers."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from twotier.tier2.sizing import clamp, lesser

numbers = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10, 10))


@given(numbers, numbers)
def test_lesser_is_min(a, b):
    assert lesser(a, b) is min(a, b)


@given(numbers, numbers, numbers)
def test_clamp_is_min_of_max(value, low, high):
    assert clamp(value, low, high) is min(max(value, low), high)

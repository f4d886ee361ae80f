"""The distinct trading days of a frame of bars, found without converting every bar."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from twotier.engine.inputs import _trading_days

SECONDS = st.integers(-(10**9), 3 * 10**9) | st.sampled_from([86_400 * 17_000, 86_400 * 17_001])


@settings(max_examples=100, deadline=None)
@given(st.lists(SECONDS | st.none(), max_size=40), st.booleans())
def test_the_days_are_numpys_unique_days_in_any_order_with_times_of_day_and_nat(seconds, run):
    if run:  # days as bars have them: repeated on consecutive bars
        seconds = sorted((s for s in seconds if s is not None), key=lambda s: s // 86_400)
    values = np.array(
        [np.datetime64("NaT") if s is None else np.datetime64(s, "s") for s in seconds],
        dtype="datetime64[s]",
    )
    bars = pd.DataFrame({"trading_day": values})
    want = np.unique(values.astype("datetime64[D]"))
    np.testing.assert_array_equal(_trading_days(bars), want)

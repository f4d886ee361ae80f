"""Times as text for the run folder's files: the same as strftime, NaT empty."""

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from twotier.run.stamps import stamps

FORMATS = {"s": "%Y-%m-%d %H:%M:%S", "m": "%Y-%m-%d %H:%M", "D": "%Y-%m-%d"}
SECONDS = st.integers(min_value=0, max_value=4_102_444_799)  # 1970 to the end of 2099


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(SECONDS, st.none()), max_size=40), st.sampled_from(sorted(FORMATS)))
def test_stamps_write_each_time_as_strftime_does_and_nat_empty(seconds, unit):
    values = np.array(
        [np.datetime64("NaT") if s is None else np.datetime64(s, "s") for s in seconds],
        dtype="datetime64[ns]",
    )
    expected = [
        "" if s is None else pd.Timestamp(s, unit="s").strftime(FORMATS[unit]) for s in seconds
    ]
    assert stamps(values, unit) == expected

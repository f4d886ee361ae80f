"""A package table becomes an Arrow table faster than pyarrow's from_pandas, and the same:
the same columns, nulls, types and schema metadata, and so the same Parquet bytes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from twotier.tier1.package import arrow_table, parquet_bytes

FLOATS = st.floats(allow_nan=True, allow_infinity=True, width=64) | st.just(-0.0)


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            FLOATS,
            st.integers(-128, 127),
            st.booleans(),
            st.integers(0, 2**40) | st.none(),
            st.text("ab-_", max_size=3) | st.none(),
            st.floats(-1e3, 1e3, width=32) | st.just(float("nan")),
            st.booleans(),
        ),
        max_size=25,
    )
)
def test_a_frame_becomes_the_table_from_pandas_makes(rows):
    value, small, flag, count, word, single, no_time = (
        zip(*rows, strict=True) if rows else ([],) * 7
    )
    times = (
        pd.date_range("2024-01-02 09:00", periods=len(rows), freq="15min", tz="UTC")
        .tz_convert("Asia/Shanghai")
        .as_unit("us")
    )
    frame = pd.DataFrame(
        {
            "time": times.where(~np.array(no_time, dtype=bool)),  # NaT where no_time
            "confidence": np.array(value, dtype=np.float64),
            "regime": np.array(small, dtype=np.int8),
            "trigger": np.array(flag, dtype=bool),
            "volume": pd.array(count, dtype="Int64"),
            "contract": pd.array(word, dtype="string"),
            "width": np.array(single, dtype=np.float32),
            "all_missing": np.full(len(rows), np.nan),
        }
    )
    made = arrow_table(frame)
    reference = pa.Table.from_pandas(frame, preserve_index=False, nthreads=1)
    assert made.equals(reference)
    assert made.schema.equals(reference.schema, check_metadata=True)
    assert parquet_bytes(made).to_pybytes() == parquet_bytes(reference).to_pybytes()


def test_frames_with_the_same_names_but_other_dtypes_get_their_own_schema():
    floats = pd.DataFrame({"a": [1.5, np.nan], "b": [True, False]})
    ints = pd.DataFrame({"a": np.array([1, 2], dtype=np.int8), "b": [True, False]})
    texts = pd.DataFrame({"a": ["x", None], "b": [True, False]}, dtype=object)
    for frame in (floats, ints, texts, floats, ints):
        reference = pa.Table.from_pandas(frame, preserve_index=False)
        made = arrow_table(frame)
        assert made.equals(reference)
        assert made.schema.equals(reference.schema, check_metadata=True)

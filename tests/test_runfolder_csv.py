"""How the run folder writes its CSV files: exchange time without the zone, money to the
cent, other floats to 10 significant digits, every kind of missing value as an empty
field, and text quoted only where CSV needs it."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from twotier.run.csv_files import csv_chunks, csv_parts, csv_text


def test_csv_formats_times_money_floats_and_leaves_missing_values_empty():
    frame = pd.DataFrame(
        {
            "time": pd.DatetimeIndex(
                ["2024-01-02 01:00:00", None], dtype="datetime64[ns]"
            ).tz_localize("Asia/Shanghai"),
            "trading_day": pd.to_datetime(["2024-01-02", "2024-01-03"]),
            "pv": [1_000_000.004, 999_999.994],
            "equity_0": [300_000.5, np.nan],
            "leverage": [1 / 3, np.nan],
            "contracts": [3, -2],
            "basket": pd.array([1, None], dtype="Int64"),
            "open": [True, False],
            "reason": ["stop_loss_2pct", None],
            "text": ["a, b", ""],
        }
    )
    assert csv_text(frame).splitlines() == [
        "time,trading_day,pv,equity_0,leverage,contracts,basket,open,reason,text",
        "2024-01-02 01:00:00,2024-01-02,1000000.00,300000.50,0.3333333333,3,1,True,"
        'stop_loss_2pct,"a, b"',
        ",2024-01-03,999999.99,,,-2,,False,,",
    ]


def test_a_negative_zero_is_written_as_zero():
    # A ratio to a negative PV (exposure 0 / PV -648,383.17) is -0.0: it was written -0.
    frame = pd.DataFrame({"pv": [-0.0, -648_383.17], "exposure": [-0.0, 0.0]})
    assert csv_text(frame).splitlines() == ["pv,exposure", "0.00,0", "-648383.17,0"]


def test_csv_of_an_empty_table_is_its_header():
    frame = pd.DataFrame({"time": pd.DatetimeIndex([], tz="Asia/Shanghai"), "pv": []})
    assert csv_text(frame) == "time,pv\n"


def _csv_module_text(frame: pd.DataFrame) -> str:
    """The reference: each value formatted one by one, written by the csv module."""
    import csv
    import io

    def text(name, value):
        if value is None or value is pd.NaT or (isinstance(value, float) and value != value):
            return ""
        if isinstance(value, pd.Timestamp):
            return value.strftime("%Y-%m-%d %H:%M:%S" if value.tz else "%Y-%m-%d")
        if isinstance(value, float):
            value += 0.0  # a negative zero is written 0
            return f"{value:.2f}" if name == "pv" else f"{value:.10g}"
        return value

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(frame.columns)
    for row in frame.itertuples(index=False):
        writer.writerow([text(n, v) for n, v in zip(frame.columns, row, strict=True)])
    return buffer.getvalue()


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(-(10**18), 10**18),  # nanoseconds: sub-second parts dropped
            st.integers(-(10**5), 10**5) | st.none(),  # a day (pre-1970 too), or missing
            st.floats(allow_nan=True, allow_infinity=False, width=64),
            st.floats(-1e9, 1e9) | st.sampled_from([0.0, -0.0, 0.005, -0.015]),
            st.integers(-(2**40), 2**40),
            st.text(",\"\n\r ab'", max_size=4) | st.none(),
        ),
        max_size=30,
    )
)
def test_csv_text_matches_the_csv_module_value_by_value(rows):
    """The vectorised writer (distinct values formatted once, rows joined) writes what the
    csv module writes from values formatted one by one: NaN, quotes and newlines
    included (-0.0 as 0), times and days written from their distinct values as strftime writes them,
    and in chunks of rows as in one."""
    stamps, days, ratio, money, count, note = zip(*rows, strict=True) if rows else ([],) * 6
    frame = pd.DataFrame(
        {
            "time": pd.DatetimeIndex(np.array(stamps, dtype="datetime64[ns]"))
            .tz_localize("UTC")
            .tz_convert("Asia/Shanghai"),
            "day": np.array(
                [np.datetime64("NaT") if d is None else np.datetime64(d, "D") for d in days],
                dtype="datetime64[ns]",
            ),
            "ratio": np.array(ratio, dtype=np.float64),
            "pv": np.array(money, dtype=np.float64),
            "count": np.array(count, dtype=np.int64),
            "note": pd.array(note, dtype=object),
        }
    )
    assert csv_text(frame) == _csv_module_text(frame)
    assert "".join(csv_chunks(frame, rows=7)) == _csv_module_text(frame)


def _frame(rows, notes) -> pd.DataFrame:
    stamps, money, count = zip(*rows, strict=True) if rows else ([],) * 3
    return pd.DataFrame(
        {
            "time": pd.DatetimeIndex(np.array(stamps, dtype="datetime64[ns]"))
            .tz_localize("UTC")
            .tz_convert("Asia/Shanghai"),
            # a day column holding times of day too (pre-1970 ones), and NaT: its day
            "day": np.array(
                [None if k % 5 == 4 else s - 3 * 10**17 for k, s in enumerate(stamps)],
                dtype="datetime64[ns]",
            ),
            "pv": np.array(money, dtype=np.float64),
            "count": np.array(count, dtype=np.int64),
            "note": pd.array(notes[: len(rows)] + [None] * (len(rows) - len(notes)), dtype=object),
        }
    )


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.integers(-(10**18), 10**18),
            st.floats(allow_nan=True, allow_infinity=False, width=64) | st.just(-0.0),
            st.integers(-(2**40), 2**40),
        ),
        max_size=30,
    ),
    notes=st.lists(st.text(" ab'é中", max_size=4) | st.none(), max_size=30),
)
def test_rows_that_need_no_quotes_are_joined_by_pyarrow_as_the_csv_module_joins_them(rows, notes):
    frame = _frame(rows, notes)
    parts = csv_parts(frame)
    assert callable(parts[-1])  # pyarrow's writer, run on the background thread
    assert csv_text(frame) == _csv_module_text(frame)


def test_a_value_that_needs_quotes_leaves_the_rows_to_python():
    frame = _frame([(0, 1.0, 1), (10**9, 2.0, 2)], ["plain", 'said "stop", then'])
    parts = csv_parts(frame)
    assert all(isinstance(p, str) for p in parts)
    last = csv_text(frame).splitlines()[-1]
    assert last.startswith("1970-01-01 08:00:01,1960-")
    assert last.endswith(',2.00,2,"said ""stop"", then"')
    assert csv_text(frame) == _csv_module_text(frame)


def test_a_lone_column_leaves_the_rows_to_python_which_quotes_an_empty_field():
    frame = pd.DataFrame({"note": ["a", None, ""]})
    assert all(isinstance(p, str) for p in csv_parts(frame))
    assert csv_text(frame) == 'note\na\n""\n""\n'

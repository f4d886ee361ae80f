"""Bar times in ISO 8601 to the second are parsed by pyarrow (``validation._iso_times``);
anything else by pandas (``validation._parse_times``, on the stripped cells). Where
pyarrow parses a column, the two must give the same index: the same times, unit, zone
and name."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from twotier.market import times as times_module
from twotier.market import validation
from twotier.market.times import in_exchange_time


def column(cells: list[str]) -> pd.Series:
    return pd.Series(cells, dtype="str", name="datetime")


def assert_same_as_pandas(cells: list[str]) -> pd.DatetimeIndex | None:
    fast = validation._iso_times(column(cells))  # naive: the validator gives the zone
    fast = None if fast is None else in_exchange_time(fast)
    slow = validation._parse_times(*validation._stripped(column(cells)), None)  # NaT if not
    if fast is not None:
        pd.testing.assert_index_equal(fast, slow, exact=True)
        assert fast.unit == slow.unit and str(fast.tz) == str(slow.tz)
    return fast


def test_plain_times_are_parsed_by_pyarrow_as_pandas_parses_them():
    cells = ["2024-03-05 09:00:00", "2024-03-05T21:05", "2024-02-29 23:59:59", "2024-03-06"]
    fast = assert_same_as_pandas(cells)
    assert fast is not None
    assert fast[1] == pd.Timestamp("2024-03-05 21:05", tz="Asia/Shanghai")


@pytest.mark.parametrize(
    "cell",
    [
        "",  # empty: reported by pandas' path as an empty value
        " 2024-03-05 09:00:00",  # padded: pandas strips it
        "2024-03-05 09:00:00.5",  # a fraction: pandas picks the unit from its digits
        "2024-03-05 09:00:00Z",  # a zone
        "2024-03-05 09:00:00+08:00",
        "2024-3-5 09:00:00",  # pandas' ISO 8601 reads these; pyarrow does not
        "20240305",
        "2024-02-30 09:00:00",  # no such day
        "2024-03-05 24:00:00",
        "5th March",
    ],
)
def test_anything_but_plain_iso_times_is_left_to_pandas(cell):
    assert validation._iso_times(column(["2024-03-05 08:55:00", cell])) is None


def test_text_not_held_by_arrow_is_left_to_pandas():
    cells = pd.Series(["2024-03-05 09:00:00"], dtype=object)
    assert validation._iso_times(cells) is None


def test_a_missing_cell_is_left_to_pandas():
    cells = pd.Series(["2024-03-05 09:00:00", None], dtype="str")
    assert validation._iso_times(cells) is None


FIELD = st.integers(min_value=0, max_value=99)


@st.composite
def time_texts(draw) -> str:
    """ISO-like times, mostly well formed, with fields out of range, parts left out, other
    separators and zones now and then."""
    year = draw(st.sampled_from([1600, 1677, 1678, 1970, 2016, 2024, 2261, 2262, 2300]))
    month = draw(st.one_of(st.integers(1, 12), st.sampled_from([0, 13])))
    day = draw(st.one_of(st.integers(1, 28), st.sampled_from([0, 29, 30, 31, 32])))
    text = f"{year:04d}-{month:02d}-{day:02d}"
    parts = draw(st.integers(0, 3))  # hours, minutes, seconds
    if parts:
        clock = [draw(st.one_of(st.integers(0, 23), st.sampled_from([24, 60, 61])))]
        clock += [draw(st.one_of(st.integers(0, 59), st.just(60))) for _ in range(parts - 1)]
        separator = draw(st.sampled_from([" ", "T", " ", "t", "  "]))
        text += separator + ":".join(f"{v:02d}" for v in clock)
    return text + draw(st.sampled_from(["", "", "", "Z", "+08:00", ".0", " "]))


@settings(max_examples=400, deadline=None)
@given(st.lists(time_texts(), min_size=1, max_size=5))
@example(["1677-09-21 00:12:43"])  # just before nanoseconds' range
@example(["2262-04-11 23:47:17"])  # just after it
@example(["2016-12-31 23:59:60"])  # a leap second
def test_where_pyarrow_parses_a_column_pandas_reads_the_same_times(cells):
    assert_same_as_pandas(cells)


@settings(max_examples=300, deadline=None)
@given(time_texts())
def test_where_pyarrow_parses_a_time_pandas_reads_the_same_time(cell):
    assert_same_as_pandas([cell])


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
@pytest.mark.parametrize(
    "times",
    [
        ["1992-01-01", "2016-01-04 09:00", "2024-03-10 02:30", "2261-12-31 23:59:59"],
        ["1991-12-31 23:59:59", "2016-01-04 09:00"],  # before the one offset: pandas
        ["1986-05-04 03:00", "1991-09-15 01:30"],
        ["2016-01-04 09:00", None],
        [],
    ],
)
def test_local_times_are_given_the_zone_as_pandas_gives_it(unit, times):
    stamps = pd.DatetimeIndex(pd.array(times, dtype=f"datetime64[{unit}]"), name="time")
    try:
        expected = stamps.tz_localize("Asia/Shanghai")
    except ValueError as exc:  # a time summer time skipped or repeated: as pandas raises
        with pytest.raises(type(exc)):
            in_exchange_time(stamps)
        return
    found = in_exchange_time(stamps)
    pd.testing.assert_index_equal(found, expected, exact=True)
    assert found.dtype == expected.dtype and found.freq == expected.freq


def test_exchange_time_keeps_one_offset_since_the_fixed_date():
    zone = ZoneInfo("Asia/Shanghai")
    since = pd.Timestamp(times_module.FIXED_OFFSET_SINCE).year
    for year in range(since, 2262):
        for month in range(1, 13):
            for day, hour in ((1, 0), (15, 12)):
                moment = datetime(year, month, day, hour, tzinfo=zone)
                assert moment.utcoffset() == timedelta(hours=8), moment

"""Which evenings have a night session (RULES.md 11): none before a holiday, none on the
evenings a calendar file lists under ``no_night`` (the shipped calendar records the 2020
suspension), and the calendar file's other keys; session hours that changed over the
years."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twotier.config import load_config
from twotier.config.baskets import fit_baskets
from twotier.engine.inputs import Environment
from twotier.engine.runs import tier2_on_table
from twotier.errors import BadBarsError, CalendarError, ConfigError, DataError
from twotier.market.bars import read_bars
from twotier.market.calendar import (
    TradingCalendar,
    default_calendar,
    place_and_locate,
    trading_day_of,
)
from twotier.market.instruments import InstrumentRegistry, get_instrument
from twotier.market.sessions import SessionTimes, wall_ns
from twotier.tier1.package import validate_packages

IRON = get_instrument("DCE/i")
COPPER = get_instrument("SHFE/cu")
MEAL = get_instrument("DCE/m")
HEADER = "datetime,open,high,low,close,volume"


def days(*texts: str) -> np.ndarray:
    return np.array(texts, dtype="datetime64[D]")


def test_has_night_is_false_on_the_eves_of_holidays_and_weekend_days():
    calendar = default_calendar()
    evenings = days(
        "2024-09-26",  # Thursday before an ordinary Friday: night
        "2024-09-27",  # Friday before an ordinary Monday: night
        "2024-09-28",  # Saturday: no trading day
        "2024-09-30",  # Monday before National Day: none
        "2024-10-08",  # the first day after it: night
    )
    assert calendar.has_night(evenings).tolist() == [True, True, False, False, True]


def test_the_shipped_calendar_records_the_2020_night_suspension():
    calendar = default_calendar()
    evenings = days("2020-01-22", "2020-02-03", "2020-03-16", "2020-04-29", "2020-05-06")
    assert calendar.has_night(evenings).tolist() == [True, False, False, False, True]
    with pytest.raises(CalendarError, match="lists it under no_night"):
        trading_day_of("2020-03-16 21:00", MEAL)
    assert trading_day_of("2020-05-06 21:00", MEAL) == dt.date(2020, 5, 7)


def test_no_night_in_a_calendar_file_takes_dates_and_inclusive_ranges(tmp_path):
    path = tmp_path / "calendar.toml"
    path.write_text('no_night = ["2024-03-05", ["2024-03-11", "2024-03-13"]]\n')
    calendar = TradingCalendar.load(path)
    evenings = days("2024-03-04", "2024-03-05", "2024-03-08", "2024-03-11", "2024-03-13")
    assert calendar.has_night(evenings).tolist() == [True, False, True, False, False]
    assert calendar.has_night(days("2024-03-14")).tolist() == [True]
    # The shipped evenings stay listed beside the user's.
    assert not calendar.has_night(days("2020-03-16"))[0]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('no_night = "2024-03-05"\n', "no_night must be a list"),
        ('no_night = [["2024-03-05"]]\n', r"a range is \[first, last\]"),
        ('no_night = [["2024-03-13", "2024-03-11"]]\n', "ends before it starts"),
        ('no_night = ["tomorrow"]\n', "'tomorrow' is not a date"),
        ('weekdays_until = "soon"\n', "'soon' is not a date"),
        ('nights = ["2024-03-05"]\n', "unknown key.*nights"),
    ],
)
def test_a_bad_no_night_or_weekdays_until_is_a_config_error(tmp_path, text, message):
    path = tmp_path / "calendar.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        TradingCalendar.load(path)


def test_weekdays_until_extends_the_calendar_with_the_years_holidays_removed(tmp_path):
    path = tmp_path / "calendar.toml"
    path.write_text('weekdays_until = 2027-12-31\nholidays = [2027-01-01, "2027-10-01"]\n')
    calendar = TradingCalendar.load(path)
    assert calendar.last == np.datetime64("2027-12-31")
    assert calendar.horizon == np.datetime64("2027-12-31")
    assert calendar.is_trading_day(days("2027-01-01", "2027-01-04", "2027-01-09")).tolist() == [
        False,
        True,
        False,
    ]
    # The eve of New Year 2027 has no night: the next trading day is Monday 01-04.
    with pytest.raises(CalendarError, match=r"eve of a holiday \(next trading day 2027-01-04\)"):
        trading_day_of("2026-12-31 21:00", IRON, calendar)
    assert trading_day_of("2027-01-04 21:00", IRON, calendar) == dt.date(2027, 1, 5)


def test_the_calendars_last_evening_has_no_known_night():
    calendar = default_calendar()
    assert not calendar.has_night(np.array([calendar.last]))[0]


def test_assuming_weekdays_past_the_horizon_keeps_the_horizon():
    calendar = default_calendar()
    assumed = calendar.assuming_weekdays()
    assert assumed.horizon == calendar.last
    assert assumed.assumed_from == calendar.last + np.timedelta64(1, "D")
    assert assumed.is_trading_day(days("2027-01-01", "2027-01-02", "2027-01-04")).tolist() == [
        True,
        False,
        True,
    ]
    assert assumed.has_night(np.array([calendar.last]))[0]
    assert assumed.assuming_weekdays() is assumed


def test_previous_trading_day_skips_weekends_and_holidays():
    calendar = default_calendar()
    got = calendar.previous_trading_day(days("2024-03-11", "2024-10-08", "2024-10-09"))
    assert got.tolist() == days("2024-03-08", "2024-09-30", "2024-10-08").tolist()


# Bars on evenings without a night are bad bars, reported like bars outside the sessions.


def test_a_night_bar_on_the_eve_of_a_holiday_is_a_bad_bar_naming_the_evening(write_csv):
    path = write_csv(
        [
            HEADER,
            "2024-09-30 14:45:00,800,801,799,800,10",
            "2024-09-30 21:00:00,800,801,799,800,10",
        ]
    )
    with pytest.raises(BadBarsError) as info:
        read_bars(path, "DCE/i", bar_minutes=15)
    (problem,) = info.value.problems
    assert problem.line == 3
    assert problem.problem == (
        "bar 2024-09-30 21:00:00 (start) is not in a trading session: no night session on "
        "the evening of 2024-09-30 (Monday): the eve of a holiday (next trading day 2024-10-08)"
    )


def test_a_file_of_only_suspended_nights_has_no_valid_bars(write_csv):
    path = write_csv([HEADER, "2020-03-16 21:05:00,700,701,699,700,10"])
    with pytest.raises(DataError, match=r"no valid bars.*lists it under no_night"):
        read_bars(path, "DCE/i", label="end", bar_minutes=5, on_bad_bar="drop")


# Session hours that changed over the years.


def test_dce_nights_ran_to_2330_before_april_2019():
    assert trading_day_of("2019-03-28 23:15", IRON) == dt.date(2019, 3, 29)
    with pytest.raises(CalendarError, match=r"outside the sessions of DCE/i .*21:00-23:00"):
        trading_day_of("2019-04-01 23:15", IRON)
    # The night of Friday 2019-03-29 belongs to 2019-04-01: the new hours already.
    with pytest.raises(CalendarError, match="outside the sessions"):
        trading_day_of("2019-03-29 23:15", IRON)


def test_a_file_across_the_change_of_hours_loads_each_night_on_its_own_hours(write_csv):
    path = write_csv(
        [
            HEADER,
            "2019-03-28 23:15:00,600,601,599,600,10",  # trading day 03-29: until 23:30
            "2019-03-29 09:00:00,600,601,599,600,10",
            "2019-04-01 22:45:00,600,601,599,600,10",  # the last bar of the new 23:00 night
        ]
    )
    loaded = read_bars(path, "DCE/i", bar_minutes=15)
    assert loaded.frame["trading_day"].dt.strftime("%Y-%m-%d").tolist() == [
        "2019-03-29",
        "2019-03-29",
        "2019-04-02",
    ]


def test_earlier_sessions_in_a_user_instrument_file(tmp_path):
    path = tmp_path / "instruments.toml"
    path.write_text(
        '[instruments."SHFE/cu"]\n'
        "sessions_from = 2024-03-11\n"
        'earlier_sessions = [{ night_session = [] }, { from = 2024-03-06, night_session = ["21:00", "23:00"] }]\n'  # noqa: E501
    )
    copper = InstrumentRegistry.load(path)["SHFE/cu"]
    with pytest.raises(CalendarError, match="outside the sessions"):
        trading_day_of("2024-03-04 21:00", copper)  # no night at all before 03-06
    assert trading_day_of("2024-03-05 21:00", copper) == dt.date(2024, 3, 6)
    with pytest.raises(CalendarError, match="outside the sessions"):
        trading_day_of("2024-03-06 23:30", copper)
    assert trading_day_of("2024-03-08 23:30", copper) == dt.date(2024, 3, 11)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ('earlier_sessions = [{ night_session = ["21:00", "23:30"] }]', "need sessions_from"),
        (
            "sessions_from = 2024-01-01\nearlier_sessions = [{ from = 2024-02-01, night_session = [] }]",  # noqa: E501
            "must increase and come before sessions_from",
        ),
        (
            "sessions_from = 2024-01-01\nearlier_sessions = [{ night_session = [] }, { night_session = [] }]",  # noqa: E501
            "row 2 needs a 'from' date",
        ),
        ("sessions_from = 2024-01-01\nearlier_sessions = [{ form = 2023-01-01 }]", "unknown key"),
    ],
)
def test_bad_earlier_sessions_are_config_errors(tmp_path, fields, message):
    path = tmp_path / "instruments.toml"
    path.write_text(f'[instruments."SHFE/cu"]\n{fields}\n')
    with pytest.raises(ConfigError, match=message):
        InstrumentRegistry.load(path)


def test_the_2027_calendar_file_of_docs_data_md_loads_as_written(tmp_path):
    """The page's example for a year past the horizon: every toml block of data.md that
    sets weekdays_until is a calendar file that loads."""
    import re
    from pathlib import Path

    page = Path(__file__).resolve().parents[1] / "docs" / "data.md"
    blocks = re.findall(r"^```toml\n(.*?)^```", page.read_text(), re.MULTILINE | re.DOTALL)
    (example,) = [b for b in blocks if "2027-10-01" in b]
    path = tmp_path / "calendar-2027.toml"
    path.write_text(example)
    calendar = TradingCalendar.load(path)
    assert calendar.horizon == np.datetime64("2027-12-31")
    assert calendar.is_trading_day(days("2027-02-04", "2027-02-05", "2027-02-15")).tolist() == [
        True,
        False,
        True,
    ]
    # No night on the eve of the Spring Festival, nor on that of National Day.
    assert calendar.has_night(days("2027-02-04", "2027-09-30", "2027-09-29")).tolist() == [
        False,
        False,
        True,
    ]
    assert len(calendar.between("2027-01-01", "2027-12-31")) == 261 - 18


# The real files: every evening without a night is one the calendar knows has none.

REAL_HOT = {
    "DCE.i.HOT.m5.csv": "DCE/i",
    "DCE.m.HOT.m5.csv": "DCE/m",
    "SHFE.cu.HOT.m1.csv.gz": "SHFE/cu",
}


@pytest.mark.parametrize("name", list(REAL_HOT))
def test_evenings_without_a_night_in_the_real_files_are_the_calendars(real_bars, name):
    frame = real_bars(name).frame
    calendar = default_calendar()
    days = np.unique(frame["trading_day"].to_numpy().astype("datetime64[D]"))
    night = frame.index.hour >= 18
    with_night = np.unique(frame["trading_day"].to_numpy()[night].astype("datetime64[D]"))
    evenings = calendar.previous_trading_day(days[1:])  # each day's evening before
    has_night = np.isin(days[1:], with_night)
    expected = calendar.has_night(evenings)
    # Nights the calendar gives that the file lacks: the iron ore file's 2019-12-30 only.
    missing = [str(e) for e in evenings[expected & ~has_night]]
    assert missing == (["2019-12-30"] if name.startswith("DCE.i") else [])
    # A night in the file on an evening without one would not have loaded at all.
    assert not (has_night & ~expected).any()
    if name.startswith("DCE"):  # the 2020 suspension is in these files
        suspended = (evenings >= np.datetime64("2020-02-03")) & (
            evenings <= np.datetime64("2020-05-05")
        )
        assert suspended.any() and not has_night[suspended].any()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 4 * 24 * 40), min_size=1, max_size=40))
def test_bars_are_placed_as_each_would_be_alone(quarters):
    """Bars in any order, around the 2020 Spring Festival and the nights' suspension:
    placing them together (the calendar asked once per run of one evening) gives what
    placing each alone gives."""
    times = pd.DatetimeIndex(
        [pd.Timestamp("2020-01-20 00:00") + pd.Timedelta(minutes=15 * q) for q in quarters]
    )
    calendar = default_calendar()
    together = place_and_locate(times, IRON, calendar, 15)
    alone = [place_and_locate(times[k : k + 1], IRON, calendar, 15) for k in range(len(times))]
    for column, parts in zip(together, zip(*alone, strict=True), strict=True):
        assert column.astype("int64").tolist() == np.concatenate(parts).astype("int64").tolist()


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(0, 4 * 24 * 40), min_size=1, max_size=40),
    st.lists(st.integers(0, 39), max_size=10),
)
def test_times_read_once_on_the_session_clock_are_placed_as_the_times(quarters, picked):
    """The validator reads its times on the session clock once (``SessionTimes``): those,
    or any rows of them, are placed as the times themselves are."""
    times = pd.DatetimeIndex(
        [pd.Timestamp("2020-01-20 00:00") + pd.Timedelta(minutes=15 * q) for q in quarters],
        tz="Asia/Shanghai",
    )
    rows = np.array([k for k in picked if k < len(times)], dtype=np.int64)
    clock = SessionTimes.of_wall(wall_ns(times))
    calendar = default_calendar()
    for given_times, read in ((times, clock), (times[rows], clock[rows])):
        expected = place_and_locate(given_times, IRON, calendar, 15)
        found = place_and_locate(read, IRON, calendar, 15)
        for a, b in zip(expected, found, strict=True):
            assert a.astype("int64").tolist() == b.astype("int64").tolist()


def test_a_night_bar_on_the_calendars_last_day_says_its_trading_day_is_past_it(write_csv):
    # 2026-12-31 is the shipped calendar's last day: its day bars are fine, its night
    # belongs to a trading day the calendar does not have.
    path = write_csv([HEADER, "2026-12-31 14:45:00,800,801,799,800,5",
                      "2026-12-31 21:00:00,800,801,799,800,5"])  # fmt: skip
    with pytest.raises(BadBarsError) as info:
        read_bars(path, "DCE/i", bar_minutes=15)
    (problem,) = info.value.problems
    assert problem.line == 3
    assert problem.problem == (
        "bar 2026-12-31 21:00:00 is a night of 2026-12-31, the trading calendar's last day: "
        "its trading day is past the calendar (1995-01-03 to 2026-12-31)"
    )


def package_table(times: list[str]) -> pd.DataFrame:
    return validate_packages(
        pd.DataFrame({"time": times, "instrument": "DCE/i", "signal": 0, "confidence": 0.0,
                      "signal_strength": 0.0, "regime": 3, "open": 800.0, "close": 800.0}),
        "packages.csv",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("night", "reason"),
    [
        ("2024-09-30 21:00", "the eve of a holiday (next trading day 2024-10-08)"),
        ("2020-02-10 21:00", "the calendar lists it under no_night"),
    ],
)
def test_a_package_on_an_evening_without_a_night_names_the_reason(night, reason):
    from twotier.errors import DataError

    day = night[:10]
    table = package_table([f"{day} 14:30", f"{day} 14:45", night])
    config = load_config()
    fitted = fit_baskets(config, ["DCE/i"], what="packages", fix="")
    with pytest.raises(DataError) as info:
        env = Environment.from_config(fitted.config)
        tier2_on_table(table, fitted, env, start=None, end=None, source="p.csv", rolls={})
    evening = pd.Timestamp(day)
    assert str(info.value) == (
        f"p.csv: package at {night} of DCE/i is not in a trading session: no night session on "
        f"the evening of {evening:%Y-%m-%d (%A)}: {reason}"
    )


def test_packages_past_the_calendar_name_their_file():
    table = package_table(["2026-12-31 14:45", "2027-01-04 09:00"])
    fitted = fit_baskets(load_config(), ["DCE/i"], what="packages", fix="")
    with pytest.raises(DataError, match=r"^p\.csv: DCE/i: dates 2026-12-31 to 2027-01-04 are "):
        env = Environment.from_config(fitted.config)
        tier2_on_table(table, fitted, env, start=None, end=None, source="p.csv", rolls={})

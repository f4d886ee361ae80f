"""Trading days: night sessions belong to the next trading day (RULES.md section 1)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from twotier.errors import CalendarError, ConfigError
from twotier.market.calendar import TradingCalendar, default_calendar, place_bars, trading_day_of
from twotier.market.instruments import get_instrument

IRON = get_instrument("DCE/i")
COPPER = get_instrument("SHFE/cu")


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


# 2024-03-04 is a Monday; 2024-03-08 a Friday.
@pytest.mark.parametrize(
    ("start", "spec", "expected"),
    [
        ("2024-03-05 09:00", IRON, "2024-03-05"),  # day session: its own date
        ("2024-03-05 14:59", IRON, "2024-03-05"),
        ("2024-03-05 21:00", IRON, "2024-03-06"),  # night: the next trading day
        ("2024-03-05 22:59", IRON, "2024-03-06"),
        ("2024-03-05 23:59", COPPER, "2024-03-06"),
        ("2024-03-06 00:00", COPPER, "2024-03-06"),  # after midnight: same night
        ("2024-03-06 00:59", COPPER, "2024-03-06"),
    ],
)
def test_trading_day_of_day_and_night_bars(start, spec, expected):
    assert trading_day_of(start, spec) == day(expected)


def test_night_bar_on_friday_belongs_to_monday():
    assert trading_day_of("2024-03-08 21:00", IRON) == day("2024-03-11")
    assert trading_day_of("2024-03-08 22:55", IRON) == day("2024-03-11")


def test_copper_bar_after_midnight_on_saturday_belongs_to_monday():
    # Friday's night session runs on into Saturday 00:00-01:00.
    assert trading_day_of("2024-03-09 00:00", COPPER) == day("2024-03-11")
    assert trading_day_of("2024-03-09 00:59", COPPER) == day("2024-03-11")


def test_no_night_session_runs_on_the_eve_of_national_day():
    # 2019-10-01..07 is the National Day holiday; 2019-09-30 (Monday) trades by day only.
    for start, spec in (("2019-09-30 21:00", IRON), ("2019-10-01 00:30", COPPER)):
        with pytest.raises(CalendarError, match="no night session on the evening of 2019-09-30"):
            trading_day_of(start, spec)
    assert trading_day_of("2019-09-30 14:45", IRON) == day("2019-09-30")
    assert trading_day_of("2019-10-08 09:00", IRON) == day("2019-10-08")


def test_the_eve_of_a_holiday_is_refused_naming_the_next_trading_day():
    # The example: accepted before as a night of 2024-10-08.
    with pytest.raises(CalendarError, match=r"eve of a holiday \(next trading day 2024-10-08\)"):
        trading_day_of("2024-09-30 21:00", IRON)


def test_no_night_session_runs_before_the_spring_festival():
    # 2024-02-09..17 closed for the Spring Festival; 2024-02-08 (Thursday) trades by day.
    with pytest.raises(CalendarError, match="no night session on the evening of 2024-02-08"):
        trading_day_of("2024-02-08 21:00", COPPER)


def test_a_friday_night_before_a_monday_holiday_does_not_run_but_an_ordinary_one_does():
    # 2021-04-05 (Monday) closed for Qingming: the weekend is longer than a weekend.
    with pytest.raises(CalendarError, match=r"the eve of a holiday \(next trading day 2021-04-06"):
        trading_day_of("2021-04-02 21:00", COPPER)
    assert trading_day_of("2021-03-26 21:00", COPPER) == day("2021-03-29")


@pytest.mark.parametrize(
    "start",
    [
        "2019-10-01 10:00",  # a holiday's day session
        "2019-10-01 21:00",  # a holiday's night
        "2024-03-09 10:00",  # Saturday
        "2024-03-10 21:00",  # Sunday night: no session
    ],
)
def test_bar_on_a_day_without_trading_is_refused_as_not_a_trading_day(start):
    with pytest.raises(CalendarError, match="not a trading day"):
        trading_day_of(start, IRON)


@pytest.mark.parametrize(
    ("start", "spec"),
    [
        ("2024-03-05 08:59", IRON),
        ("2024-03-05 10:15", IRON),  # the morning break
        ("2024-03-05 12:00", IRON),  # lunch
        ("2024-03-05 15:00", IRON),
        ("2024-03-05 23:00", IRON),  # iron ore's night ends at 23:00
        ("2024-03-06 00:30", IRON),
        ("2024-03-06 01:00", COPPER),  # copper's night ends at 01:00
        ("2024-03-05 20:59", COPPER),
    ],
)
def test_bar_outside_the_sessions_is_refused(start, spec):
    with pytest.raises(CalendarError, match=f"outside the sessions of {spec.key}"):
        trading_day_of(start, spec)


def test_trading_day_of_converts_aware_timestamps_to_exchange_time():
    # 13:30 UTC on Friday is 21:30 in Shanghai: Friday's night session.
    assert trading_day_of(pd.Timestamp("2024-03-08 13:30", tz="UTC"), IRON) == day("2024-03-11")


def test_trading_day_of_a_date_beyond_the_calendar_is_a_calendar_error():
    with pytest.raises(CalendarError, match="outside the trading calendar"):
        trading_day_of("1990-01-03 10:00", IRON)


def test_next_trading_day_past_the_calendar_end_is_a_calendar_error():
    calendar = default_calendar()
    with pytest.raises(CalendarError, match="end of the trading calendar"):
        calendar.next_trading_day(np.array([calendar.last], dtype="datetime64[D]"))


def test_place_bars_gives_one_trading_day_and_segment_to_a_whole_copper_night():
    times = pd.date_range("2024-03-08 21:00", "2024-03-09 00:59", freq="1min", tz="Asia/Shanghai")
    trading_day, segment = place_bars(times, COPPER, default_calendar())
    assert len(times) == 240
    assert set(trading_day.tolist()) == {day("2024-03-11")}
    night = [i for i, s in enumerate(COPPER.sessions.segments) if s.night]
    assert set(segment.tolist()) == set(night)


def test_xshg_calendar_knows_weekends_and_national_day():
    calendar = default_calendar()
    dates = np.array(["2019-09-30", "2019-10-01", "2019-10-07", "2019-10-08", "2024-03-09"])
    assert calendar.is_trading_day(dates.astype("datetime64[D]")).tolist() == [
        True,
        False,
        False,
        True,
        False,
    ]


# The user's calendar file.


def test_calendar_file_holiday_closes_a_day_and_the_night_before_it(tmp_path):
    path = tmp_path / "calendar.toml"
    path.write_text('holidays = ["2024-03-12"]\n')
    calendar = TradingCalendar.load(path)
    assert not calendar.is_trading_day(np.array(["2024-03-12"], dtype="datetime64[D]"))[0]
    with pytest.raises(CalendarError, match=r"eve of a holiday \(next trading day 2024-03-13\)"):
        trading_day_of("2024-03-11 21:00", IRON, calendar)
    with pytest.raises(CalendarError, match="not a trading day"):
        trading_day_of("2024-03-12 09:00", IRON, calendar)
    assert trading_day_of("2024-03-12 21:00", IRON, default_calendar()) == day("2024-03-13")


def test_calendar_file_trading_day_opens_a_saturday(tmp_path):
    path = tmp_path / "calendar.toml"
    path.write_text("trading_days = [2024-03-09]\n")  # a TOML date, not a string
    calendar = TradingCalendar.load(path)
    assert trading_day_of("2024-03-09 09:00", IRON, calendar) == day("2024-03-09")
    assert trading_day_of("2024-03-08 21:00", IRON, calendar) == day("2024-03-09")
    assert "calendar.toml" in calendar.source


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('holiday = ["2024-03-11"]\n', "unknown key.*holiday"),
        ('holidays = "2024-03-11"\n', "holidays must be a list"),
        ('holidays = ["2024-13-01"]\n', "'2024-13-01' is not a date"),
        ('trading_days = ["March 9"]\n', "'March 9' is not a date"),
        ("trading_days = [2024-03-09T10:00:00]\n", "expected a date"),
        ("holidays = [\n", "not valid TOML"),
    ],
)
def test_bad_calendar_file_is_a_config_error_naming_the_problem(tmp_path, text, message):
    path = tmp_path / "calendar.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message) as info:
        TradingCalendar.load(path)
    assert str(path) in str(info.value)


def test_missing_calendar_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="calendar file not found"):
        TradingCalendar.load(tmp_path / "nope.toml")

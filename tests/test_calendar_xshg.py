"""The shipped XSHG trading days are exactly those of the pinned exchange-calendars."""

from __future__ import annotations

from importlib import resources
from importlib.metadata import version

import numpy as np

from twotier.market.calendar import TradingCalendar
from twotier.market.xshg import computed_sessions, render, shipped_sessions, shipped_version


def test_the_shipped_days_are_those_exchange_calendars_computes():
    assert shipped_version() == version("exchange-calendars")
    np.testing.assert_array_equal(shipped_sessions(), computed_sessions())


def test_the_file_written_from_the_computed_days_is_the_shipped_one():
    shipped = resources.files("twotier.resources").joinpath("xshg.toml").read_text()
    assert render(computed_sessions()) == shipped


def test_the_calendar_starts_from_the_shipped_days_with_the_shipped_additions():
    calendar = TradingCalendar.load()
    days = shipped_sessions()
    assert calendar.first == days[0] and calendar.last == days[-1]
    # the Spring Festival of 2024 is closed, the Monday after it trades
    assert not calendar.is_trading_day(np.array(["2024-02-12"], "datetime64[D]"))[0]
    assert calendar.is_trading_day(np.array(["2024-02-19"], "datetime64[D]"))[0]

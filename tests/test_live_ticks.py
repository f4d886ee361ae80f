"""Ticks into 1-minute bars on session edges (RULES.md 11): the opening auction folded
into the first minute, the closing tick into the last, the trading day, the volume."""

from __future__ import annotations

import math
import sys
from dataclasses import replace
from datetime import date

import pandas as pd
import pytest

from twotier.config.model import Config
from twotier.live.market import MarketTracker
from twotier.live.ticks import MinuteBars, Tick
from twotier.market.calendar import default_calendar
from twotier.market.instruments import get_instrument


def tick(at: str, price: float, volume: float, day: date | None = None) -> Tick:
    ns = pd.Timestamp(at, tz="Asia/Shanghai").value
    return Tick("DCE/i", "i2501", ns, price, volume, 0.0, price - 0.5, price + 0.5, 0, 0, day)


@pytest.fixture
def warnings() -> list[str]:
    return []


@pytest.fixture
def bars(warnings) -> MinuteBars:
    return MinuteBars(
        get_instrument("DCE/i"), default_calendar(), source="test", warn=warnings.append
    )


def feed(builder: MinuteBars, ticks: list[Tick]) -> list:
    out = []
    for t in ticks:
        out += builder.add(t)
    return out


def test_the_opening_auction_tick_is_the_first_minutes_open(bars):
    # Tuesday night 2024-10-08: the 20:59 auction, then the first minute of the night.
    out = feed(
        bars,
        [
            tick("2024-10-08 20:59:00.500", 760.0, 120),
            tick("2024-10-08 21:00:01", 761.5, 150),
            tick("2024-10-08 21:00:40", 759.0, 190),
            tick("2024-10-08 21:01:00", 760.5, 200),
        ],
    )
    (first,) = out
    assert first.time == pd.Timestamp("2024-10-08 21:00", tz="Asia/Shanghai")
    assert (first.open, first.high, first.low, first.close) == (760.0, 761.5, 759.0, 759.0)
    assert first.volume == 190  # the auction's volume counts: the night opens the day
    assert first.trading_day == date(2024, 10, 9)  # the night belongs to the next day


def test_the_closing_tick_after_the_end_is_the_last_minutes_close(bars):
    out = feed(
        bars,
        [
            tick("2024-10-09 14:59:10", 770.0, 5000),
            tick("2024-10-09 14:59:59", 771.0, 5010),
            tick("2024-10-09 15:00:00.500", 771.5, 5030),
        ],
    )
    assert out == []  # nothing later has come: the minute waits for the clock
    (last,) = bars.due(pd.Timestamp("2024-10-09 15:00:03", tz="Asia/Shanghai").value, 2 * 10**9)
    assert last.time == pd.Timestamp("2024-10-09 14:59", tz="Asia/Shanghai")
    assert last.close == 771.5
    assert last.trading_day == date(2024, 10, 9)


def test_a_minute_closes_by_the_clock_only_after_the_grace_period(bars):
    bars.add(tick("2024-10-09 10:00:05", 770.0, 10))
    assert bars.due(pd.Timestamp("2024-10-09 10:01:01", tz="Asia/Shanghai").value, 2 * 10**9) == []
    (bar,) = bars.due(pd.Timestamp("2024-10-09 10:01:02", tz="Asia/Shanghai").value, 2 * 10**9)
    assert bar.time == pd.Timestamp("2024-10-09 10:00", tz="Asia/Shanghai")


def test_ticks_outside_the_sessions_are_dropped_with_one_warning(bars, warnings):
    assert feed(bars, [tick("2024-10-09 12:00:00", 770.0, 10)] * 3) == []
    assert len(warnings) == 1 and "outside the sessions of DCE/i" in warnings[0]


def test_a_minute_volume_is_the_growth_of_the_cumulative_volume(bars):
    out = feed(
        bars,
        [
            tick("2024-10-08 21:00:00", 760.0, 100),
            tick("2024-10-08 21:00:30", 760.0, 130),
            tick("2024-10-08 21:01:10", 760.5, 180),
            tick("2024-10-08 21:02:00", 760.5, 180),
        ],
    )
    assert [b.volume for b in out] == [130, 50]


def test_a_start_in_the_middle_of_a_day_does_not_count_the_volume_before_it(bars, warnings):
    out = feed(
        bars,
        [tick("2024-10-09 10:00:00", 770.0, 50_000), tick("2024-10-09 10:01:00", 771, 50_040)],
    )
    assert out[0].volume == 0
    assert "the volume traded before it is not counted" in warnings[0]


def test_the_feeds_trading_day_is_believed(bars):
    out = feed(
        bars,
        [
            tick("2024-10-09 10:00:00", 770.0, 10, date(2031, 1, 2)),
            tick("2024-10-09 10:01:00", 771.0, 20, date(2031, 1, 2)),
        ],
    )
    assert out[0].trading_day == date(2031, 1, 2)


def test_a_tick_for_a_minute_already_closed_is_dropped(bars, warnings):
    bars.add(tick("2024-10-09 10:00:05", 770.0, 10))
    bars.add(tick("2024-10-09 10:01:05", 770.0, 20))
    assert bars.add(tick("2024-10-09 10:00:50", 770.0, 20)) == []
    assert "came after its minute was closed" in warnings[-1]


def limited(at: str, price: float, up: float, down: float) -> Tick:
    ns = pd.Timestamp(at, tz="Asia/Shanghai").value
    return Tick("DCE/i", "i2501", ns, price, 100, 0.0, price - 0.5, price, up, down)


def test_a_minute_takes_the_exchanges_limits_from_its_last_tick_that_gives_them(bars):
    out = feed(
        bars,
        [
            limited("2024-10-09 09:00:05", 800.0, 850.0, 750.0),
            limited("2024-10-09 09:00:30", 801.0, 851.0, 751.0),
            limited("2024-10-09 09:00:50", 802.0, 0.0, 0.0),  # vn.py's 0: not known
            limited("2024-10-09 09:01:10", 802.0, 0.0, 0.0),
            limited("2024-10-09 09:02:00", 802.0, 851.0, 751.0),
        ],
    )
    first, second = out
    assert (first.settle, first.limit_up, first.limit_down) == (None, 851.0, 751.0)
    # No tick of the minute gave them: no limits, as a bar file without the columns.
    assert (second.settle, second.limit_up, second.limit_down) == (None, None, None)


def test_a_minute_at_the_exchanges_limit_is_locked_for_tier2_without_a_settlement(bars):
    # The first trading day seen has no previous settlement, so no estimated limits: only
    # the exchange's, which the ticks carry, show the lock (RULES.md 10.2, tolerance 0).
    at_limit = [
        limited("2024-10-09 09:00:05", 850.0, 850.0, 750.0),
        limited("2024-10-09 09:00:40", 850.0, 850.0, 750.0),
        limited("2024-10-09 09:01:00", 850.0, 850.0, 750.0),
    ]
    (minute,) = feed(bars, at_limit)
    tracker = MarketTracker(get_instrument("DCE/i"), Config().market)
    market = tracker.update(minute, "i2501")
    assert (market.locked, market.limit_up, market.limit_down) == (1, 8_500_000, 7_500_000)

    unknown = [replace(t, limit_up=0.0, limit_down=0.0) for t in at_limit]
    (minute,) = feed(fresh_builder(), unknown)
    tracker = MarketTracker(get_instrument("DCE/i"), Config().market)
    assert tracker.update(minute, "i2501").locked == 0


def fresh_builder() -> MinuteBars:
    return MinuteBars(get_instrument("DCE/i"), default_calendar(), source="test")


@pytest.mark.parametrize("unknown", [0.0, math.nan, math.inf, sys.float_info.max])
def test_a_limit_the_gateway_does_not_know_is_none(bars, unknown):
    # CTP's unknown price, DBL_MAX, reaches vn.py's limits as it is: the tracker's price
    # units overflowed on it and stopped live trading.
    (minute,) = feed(
        bars,
        [
            limited("2024-10-09 09:00:05", 800.0, unknown, unknown),
            limited("2024-10-09 09:01:00", 800.0, 850.0, 750.0),
        ],
    )
    assert (minute.limit_up, minute.limit_down) == (None, None)
    tracker = MarketTracker(get_instrument("DCE/i"), Config().market)
    assert tracker.update(minute, "i2501").locked == 0

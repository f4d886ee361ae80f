"""The step-completion rule across instruments, and stale data, on the session clock."""

from __future__ import annotations

from datetime import date

import pandas as pd

from twotier.live.bars import Bar
from twotier.live.ops import StaleWatch
from twotier.live.stepping import StepClock
from twotier.market.calendar import default_calendar
from twotier.market.instruments import default_registry

SPECS = [default_registry()[k] for k in ("DCE/i", "SHFE/cu")]


def bar(instrument: str, time: str) -> Bar:
    t = pd.Timestamp(time, tz="Asia/Shanghai")
    return Bar(instrument, t.value, date(2000, 1, 1), 1, 1, 1, 1, 1, None, "feed", 1)


class Wall:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def clock(wall: Wall | None = None, warnings: list | None = None) -> StepClock:
    sink = warnings if warnings is not None else []
    return StepClock(SPECS, default_calendar(), wait=30, monotonic=wall or Wall(), warn=sink.append)


def step_of(c: StepClock, frontiers=None, ended=False) -> tuple[str, list[str]] | None:
    found = c.next_step(frontiers or {}, ended)
    if found is None:
        return None
    t, bars = found
    return f"{pd.Timestamp(t, tz='Asia/Shanghai'):%m-%d %H:%M}", sorted(bars)


def test_a_step_waits_for_an_instrument_whose_session_is_open():
    c = clock()
    c.offer(bar("DCE/i", "2024-10-09 09:00"))
    assert step_of(c) is None
    c.offer(bar("SHFE/cu", "2024-10-09 09:00"))
    assert step_of(c) == ("10-09 09:00", ["DCE/i", "SHFE/cu"])


def test_no_step_waits_for_a_market_that_is_closed():
    c = clock()
    c.offer(bar("SHFE/cu", "2024-10-09 23:15"))  # iron ore's night ends at 23:00
    assert step_of(c) == ("10-09 23:15", ["SHFE/cu"])


def test_a_later_bar_or_an_aggregator_past_the_time_settles_an_instrument():
    c = clock()
    c.offer(bar("DCE/i", "2024-10-09 09:00"))
    c.offer(bar("DCE/i", "2024-10-09 09:15"))
    c.offer(bar("SHFE/cu", "2024-10-09 09:15"))  # no copper bar at 09:00 will come
    assert step_of(c) == ("10-09 09:00", ["DCE/i"])
    assert step_of(c) == ("10-09 09:15", ["DCE/i", "SHFE/cu"])
    c.offer(bar("DCE/i", "2024-10-09 09:30"))
    past = pd.Timestamp("2024-10-09 09:45", tz="Asia/Shanghai").value
    assert step_of(c, {"SHFE/cu": past}) == ("10-09 09:30", ["DCE/i"])


def test_the_end_of_the_feed_settles_every_instrument():
    c = clock()
    c.offer(bar("DCE/i", "2024-10-09 09:00"))
    assert step_of(c, ended=True) == ("10-09 09:00", ["DCE/i"])


def test_a_step_stops_waiting_after_the_wait_and_the_missing_instrument_goes_silent():
    wall, warnings = Wall(), []
    c = clock(wall, warnings)
    c.offer(bar("DCE/i", "2024-10-09 09:00"))
    assert step_of(c) is None
    wall.now = 29.9
    assert step_of(c) is None
    wall.now = 30.0
    assert step_of(c) == ("10-09 09:00", ["DCE/i"])
    assert "no bar of SHFE/cu for 2024-10-09 09:00 after waiting 30 s" in warnings[0]
    c.offer(bar("DCE/i", "2024-10-09 09:15"))
    assert step_of(c) == ("10-09 09:15", ["DCE/i"])  # silent copper holds nothing
    c.heard_from("SHFE/cu")
    c.offer(bar("DCE/i", "2024-10-09 09:30"))
    assert step_of(c) is None  # copper is back: wait for it again


def test_the_national_day_week_is_a_gap_that_no_step_waits_for():
    c = clock()
    assert not c.expects_bar("DCE/i", pd.Timestamp("2024-10-03 10:00", tz="Asia/Shanghai").value)
    assert not c.expects_bar("SHFE/cu", pd.Timestamp("2024-10-07 21:00", tz="Asia/Shanghai").value)
    for key in ("DCE/i", "SHFE/cu"):
        c.offer(bar(key, "2024-09-30 14:45"))
        c.offer(bar(key, "2024-10-08 09:00"))
    assert step_of(c) == ("09-30 14:45", ["DCE/i", "SHFE/cu"])
    assert step_of(c) == ("10-08 09:00", ["DCE/i", "SHFE/cu"])


def test_stale_data_is_reported_while_the_session_is_open_not_across_a_holiday():
    watch = StaleWatch(SPECS[:1], default_calendar(), bar_minutes=15, grace_seconds=60)
    at = lambda text: pd.Timestamp(text, tz="Asia/Shanghai")  # noqa: E731
    watch.heard("DCE/i", at("2024-09-30 15:00"))
    assert watch.check(at("2024-10-03 10:00")) == []  # holiday
    assert watch.check(at("2024-10-08 09:16")) == []  # the first bar is not due yet
    (alert,) = watch.check(at("2024-10-08 09:16:01"))
    assert "no bar of DCE/i since 2024-10-08 09:00" in alert
    assert watch.check(at("2024-10-08 09:30")) == []  # reported once
    watch.heard("DCE/i", at("2024-10-08 10:15"))
    assert watch.check(at("2024-10-08 10:40")) == []  # the morning break is not stale

"""Live trading and the calendar (RULES.md 11): no wait or stale alert for a night that
will not come, auction bars folded across batches, the calendar's horizon (a feed's
trading day believed past it, weekdays taken with a warning, a warning every day from 30
days before it)."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from twotier.errors import BadBarsError
from twotier.live.bars import Bar, BarReader
from twotier.live.feeds import FolderFeed
from twotier.live.ops import StaleWatch
from twotier.live.stepping import StepClock
from twotier.market.calendar import default_calendar
from twotier.market.instruments import default_registry

SPECS = [default_registry()[k] for k in ("DCE/i", "SHFE/cu")]
IRON = default_registry()["DCE/i"]


def shanghai(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="Asia/Shanghai")


def bar(instrument: str, time: str) -> Bar:
    return Bar(instrument, shanghai(time).value, date(2000, 1, 1), 1, 1, 1, 1, 1, None, "f", 1)


def reader(warnings: list[str], *, bar_minutes: int = 1, policy: str = "refuse") -> BarReader:
    return BarReader(
        default_registry(),
        default_calendar(),
        label="start",
        bar_minutes=bar_minutes,
        policy=policy,
        warn=warnings.append,
    )


def table(rows: list[tuple], columns=("time", "open", "high", "low", "close", "volume")):
    return pd.DataFrame(
        [[str(c) for c in row] for row in rows], columns=list(columns), dtype=object
    )


# Nights that do not happen.


def test_no_step_waits_for_a_night_on_the_eve_of_a_holiday():
    clock = StepClock(SPECS, default_calendar(), wait=30, monotonic=lambda: 0.0)
    assert not clock.expects_bar("DCE/i", shanghai("2024-09-30 21:00").value)
    assert not clock.expects_bar("SHFE/cu", shanghai("2024-09-30 21:00").value)
    assert clock.expects_bar("DCE/i", shanghai("2024-09-27 21:00").value)
    # A step at the holiday's first evening bar... there is none: a bar of the next
    # trading day steps at once, waiting for no one.
    clock.offer(bar("DCE/i", "2024-10-08 09:00"))
    clock.offer(bar("SHFE/cu", "2024-10-08 09:00"))
    assert clock.next_step({}, ended=False)[0] == shanghai("2024-10-08 09:00").value


def test_no_step_waits_for_a_night_during_the_2020_suspension():
    clock = StepClock(SPECS, default_calendar(), wait=30, monotonic=lambda: 0.0)
    assert not clock.expects_bar("DCE/i", shanghai("2020-03-16 21:00").value)
    assert clock.expects_bar("DCE/i", shanghai("2020-05-06 21:00").value)


def test_no_stale_alert_on_an_evening_without_a_night():
    watch = StaleWatch([IRON], default_calendar(), bar_minutes=15, grace_seconds=60)
    watch.heard("DCE/i", shanghai("2024-09-30 15:00"))
    assert watch.check(shanghai("2024-09-30 22:00")) == []
    watch.heard("DCE/i", shanghai("2024-09-27 15:00"))
    assert len(watch.check(shanghai("2024-09-27 22:00"))) == 1  # an ordinary Friday night


def test_a_night_bar_on_the_eve_of_a_holiday_is_a_bad_bar_live():
    with pytest.raises(BadBarsError, match="no night session on the evening of 2024-09-30"):
        reader([], bar_minutes=15).read(
            "DCE/i", table([("2024-09-30 21:00", 800, 801, 799, 800, 5)]), [2], "feed"
        )


# Auction bars across batches.


def test_an_auction_bar_ending_a_batch_waits_for_its_sessions_first_bar(tmp_path: Path):
    warnings: list[str] = []
    path = tmp_path / "DCE_i.csv"
    path.write_text("time,open,high,low,close,volume\n2024-10-08 08:59:00,790,790,790,790,5\n")
    feed = FolderFeed(tmp_path, ["DCE/i"], reader(warnings), sleep=lambda _: None)
    assert feed.poll(0).bars == []  # held back, not refused
    with path.open("a") as f:
        f.write("2024-10-08 09:00:00,800,801,799,800.5,10\n")
    (first,) = feed.poll(0).bars
    assert (first.open, first.low, first.volume, first.line) == (790, 790, 15, 3)
    assert warnings == []


def test_a_closing_tick_after_its_sessions_last_bar_was_handed_on_is_dropped_with_a_warning():
    warnings: list[str] = []
    live = reader(warnings)
    live.read("DCE/i", table([("2024-10-08 14:59", 800, 801, 799, 800, 5)]), [2], "feed")
    bars = live.read("DCE/i", table([("2024-10-08 15:00", 801, 801, 801, 801, 1)]), [3], "feed")
    assert bars == []
    assert warnings == [
        "feed, line 3: closing tick 2024-10-08 15:00 came after its session's last bar was "
        "handed on: dropped"
    ]


def test_a_closing_tick_in_the_same_batch_is_folded():
    rows = [
        ("2024-10-08 14:59", 800, 801, 799, 800, 5),
        ("2024-10-08 15:00", 802, 802, 802, 802, 1),
    ]
    (last,) = reader([]).read("DCE/i", table(rows), [2, 3], "feed")
    assert (last.close, last.high, last.volume) == (802, 802, 6)


# The calendar's horizon.


def test_a_weekday_past_the_horizon_is_taken_live_with_a_warning_naming_the_fix():
    warnings: list[str] = []
    live = reader(warnings, bar_minutes=15)
    rows = [
        ("2027-01-04 09:00", 800, 801, 799, 800, 5),
        ("2027-01-04 09:15", 800, 801, 799, 800, 5),
    ]
    bars = live.read("DCE/i", table(rows), [2, 3], "feed")
    assert [b.trading_day for b in bars] == [date(2027, 1, 4)] * 2
    assert len(warnings) == 1  # once per trading day
    assert "trading day 2027-01-04 is past the trading calendar" in warnings[0]
    assert "calendar file with the year's holidays" in warnings[0]
    assert "newer exchange-calendars" in warnings[0]
    with pytest.raises(BadBarsError, match="not a trading day"):  # a Saturday is not
        live.read("DCE/i", table([("2027-01-09 09:00", 800, 801, 799, 800, 5)]), [4], "feed")


def test_a_feeds_trading_day_is_believed_past_the_horizon():
    # 2027-01-01 is New Year's Day: the feed knows Thursday's night belongs to Monday.
    columns = ("time", "open", "high", "low", "close", "volume", "TradingDay")
    rows = [("2026-12-31 21:00", 800, 801, 799, 800, 5, "20270104")]
    (night,) = reader([], bar_minutes=15).read("DCE/i", table(rows, columns), [2], "feed")
    assert night.trading_day == date(2027, 1, 4)


def test_a_feeds_trading_day_that_contradicts_the_calendar_is_a_bad_bar():
    columns = ("time", "open", "high", "low", "close", "volume", "trading_day")
    rows = [("2024-10-08 21:00", 800, 801, 799, 800, 5, "2024-10-10")]
    with pytest.raises(
        BadBarsError, match=r"trading day 2024-10-10 in column 'trading_day', but 2024-10-09"
    ):
        reader([], bar_minutes=15).read("DCE/i", table(rows, columns), [2], "feed")


def test_paper_warns_every_trading_day_from_30_days_before_the_horizon():
    warnings: list[str] = []
    live = reader(warnings, bar_minutes=15)
    for k, day in enumerate(("2026-11-30", "2026-12-01", "2026-12-02", "2026-12-02")):
        live.read(
            "DCE/i",
            table([(f"{day} 09:{15 * (k % 4):02d}", 800, 801, 799, 800, 5)]),
            [k + 2],
            "feed",
        )
    assert len(warnings) == 2  # 12-01 and 12-02, 30 and 29 days before; once per day
    assert warnings[0].startswith(
        "the trading calendar (XSHG) ends on 2026-12-31, 30 days after trading day 2026-12-01"
    )


def test_a_step_past_the_horizon_does_not_fail_and_waits_on_weekdays():
    clock = StepClock(SPECS, default_calendar(), wait=30, monotonic=lambda: 0.0)
    assert clock.expects_bar("DCE/i", shanghai("2027-01-04 09:00").value)
    assert not clock.expects_bar("DCE/i", shanghai("2027-01-09 09:00").value)


def test_paper_history_refused_with_hints_of_options_paper_has(tmp_path: Path):
    from twotier.live.loop import PaperSettings, run_paper

    history = tmp_path / "i.csv"
    history.write_text(
        "time,open,high,low,close,volume\n"
        "2024-10-08 09:00:00,800,801,799,800,5\n"
        "2024-10-08 09:15:00,800,799.5,799,800,5\n"  # high below open and close
    )
    (tmp_path / "feed").mkdir()
    settings = PaperSettings(
        feed=f"folder:{tmp_path / 'feed'}",
        state_dir=tmp_path / "state",
        overrides=['portfolio.baskets=[{instrument="DCE/i", capital_fraction=0.9}]'],
        history={"DCE/i": history},
        once=True,
    )
    with pytest.raises(BadBarsError) as info:
        run_paper(settings, handle_signals=False, stderr=io.StringIO())
    assert "--on-bad-bar" not in str(info.value)
    assert "data.on_bad_bar = 'repair'" in info.value.hint

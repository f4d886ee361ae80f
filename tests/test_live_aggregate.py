"""5-minute bars into 15-minute bars as they arrive: the resample rule, and when a
15-minute bar is complete."""

from __future__ import annotations

import numpy as np
import pandas as pd

from twotier.live.aggregate import Aggregator
from twotier.live.bars import frame_to_bars
from twotier.market.calendar import default_calendar, place_bars
from twotier.market.instruments import default_registry
from twotier.market.resample import resample

COPPER = default_registry()["SHFE/cu"]
SECOND = 1_000_000_000


def five_minute_bars(times: list[str], seed: int = 7) -> pd.DataFrame:
    """Validated-looking 5-minute copper bars (bar start times) with random prices."""
    rng = np.random.default_rng(seed)
    index = pd.DatetimeIndex(pd.to_datetime(times)).tz_localize("Asia/Shanghai")
    close = 70_000 + 10 * np.cumsum(rng.integers(-5, 6, len(times)))
    frame = pd.DataFrame(
        {
            "open": close - 10.0,
            "high": close + 20.0,
            "low": close - 30.0,
            "close": close * 1.0,
            "volume": rng.integers(1, 500, len(times)) * 1.5,
        },
        index=index,
    )
    day, _ = place_bars(index, COPPER, default_calendar(), length=5)
    frame["trading_day"] = pd.to_datetime(day).astype("datetime64[s]")
    return frame


def grid(day: str, start: str, end: str) -> list[str]:
    return [str(t) for t in pd.date_range(f"{day} {start}", f"{day} {end}", freq="5min")]


def bars_of(frame: pd.DataFrame):
    return frame_to_bars("SHFE/cu", frame, range(2, len(frame) + 2), "cu.csv")


def as_frame(bars) -> pd.DataFrame:
    index = pd.to_datetime([b.time_ns for b in bars], utc=True).tz_convert("Asia/Shanghai")
    return pd.DataFrame(
        {c: [getattr(b, c) for b in bars] for c in ("open", "high", "low", "close", "volume")},
        index=index,
    )


def test_streamed_bars_equal_resample_of_the_same_bars_in_any_chunks():
    # a night to 01:00, the morning break, gaps inside buckets and a lone last bar
    times = grid("2024-10-08", "21:00", "23:55") + grid("2024-10-09", "00:00", "00:55")
    times += grid("2024-10-09", "09:00", "10:10") + grid("2024-10-09", "10:30", "11:25")
    times = [t for i, t in enumerate(times) if i % 7 != 3] + ["2024-10-09 13:30:00"]
    frame = five_minute_bars(times)
    expected = resample(frame, COPPER, 5)
    bars, rng = bars_of(frame), np.random.default_rng(1)
    aggregator, out, at = Aggregator(COPPER, 5), [], 0
    while at < len(bars):
        step = int(rng.integers(1, 9))
        out += aggregator.add(bars[at : at + step])
        at += step
    out += aggregator.finish()
    got = as_frame(out)
    expected.index = expected.index.as_unit("ns")
    prices = expected.drop(columns="trading_day")
    pd.testing.assert_frame_equal(got, prices, check_names=False, check_exact=True)
    assert [b.trading_day for b in out] == list(expected["trading_day"].dt.date)
    assert len(out) > 20 and len({b.trading_day for b in out}) == 1  # the night is the 9th


def test_a_bucket_closes_with_its_last_raw_bar_without_waiting_for_the_next():
    aggregator = Aggregator(COPPER, 5)
    bars = bars_of(five_minute_bars(grid("2024-10-09", "10:00", "10:10")))
    assert aggregator.add(bars[:2]) == []
    done = aggregator.add(bars[2:])  # 10:10-10:15 ends the bucket (and the segment)
    assert [f"{b.time:%H:%M}" for b in done] == ["10:00"]
    assert aggregator.frontier == done[0].time_ns + 1


def test_a_bucket_missing_its_last_bar_closes_on_a_later_bar_or_after_the_grace():
    frame = five_minute_bars([*grid("2024-10-09", "09:00", "09:05"), "2024-10-09 09:15:00"])
    bars = bars_of(frame)
    aggregator = Aggregator(COPPER, 5)
    assert aggregator.add(bars[:2]) == []
    end = pd.Timestamp("2024-10-09 09:15", tz="Asia/Shanghai").value
    assert aggregator.due(end + 29 * SECOND, 30 * SECOND) == []
    (closed,) = aggregator.due(end + 30 * SECOND, 30 * SECOND)
    assert (closed.high, closed.low) == (frame["high"][:2].max(), frame["low"][:2].min())
    later = Aggregator(COPPER, 5)
    later.add(bars[:2])
    assert [f"{b.time:%H:%M}" for b in later.add(bars[2:])] == ["09:00"]


def test_a_raw_bar_of_a_bucket_already_closed_is_dropped_as_late():
    frame = five_minute_bars(grid("2024-10-09", "09:00", "09:10"))
    bars = bars_of(frame)
    warnings: list[str] = []
    aggregator = Aggregator(COPPER, 5, warn=warnings.append)
    aggregator.add(bars[:2])
    end = pd.Timestamp("2024-10-09 09:15", tz="Asia/Shanghai").value
    assert len(aggregator.due(end + 60 * SECOND, 30 * SECOND)) == 1
    assert aggregator.add(bars[2:]) == []
    assert "late bar 2024-10-09 09:10 of SHFE/cu dropped" in warnings[0]


def morning(day: str) -> list[str]:
    """The 5-minute bars of a morning, its break left out."""
    return grid(day, "09:00", "10:10") + grid(day, "10:30", "11:25")


LONGER = (
    "SHFE/cu: most bars of trading day 2024-03-05 are 15 minutes apart, not 5: are the "
    "feed's bars 15-minute bars? They are read as 5-minute bars (--bar-minutes), with "
    "gaps; twotier takes bars of 1, 3, 5 or 15 minutes (said once a run)"
)


def test_bars_mostly_further_apart_than_their_length_are_said_to_be_longer_once():
    # 15-minute bars read as 5-minute bars (or 30 as 15) pass every check as bars with
    # gaps and make wrong 15-minute bars, silently.
    days = [morning(day)[::3] for day in ("2024-03-05", "2024-03-06")]
    said: list[str] = []
    aggregator = Aggregator(COPPER, 5, warn=said.append)
    aggregator.add(bars_of(five_minute_bars([*days[0], *days[1], "2024-03-07 09:00:00"])))
    assert said == [LONGER]


def test_thirty_minute_bars_stamped_at_their_end_read_as_15_are_said_too():
    # By their ends 09:30, 10:00, 10:15 (a short bar before the break): read as 15-minute
    # bars their starts are 09:15, 09:45, 10:00, one pair 15 minutes apart. The feed's
    # end judges the last day.
    ends = ["09:30", "10:00", "10:15", "11:00", "11:30", "14:00", "14:30", "15:00"]
    starts = [pd.Timestamp(f"2024-03-05 {t}") - pd.Timedelta(minutes=15) for t in ends]
    said: list[str] = []
    aggregator = Aggregator(COPPER, 15, warn=said.append)
    aggregator.add(bars_of(five_minute_bars([str(t) for t in starts])))
    assert said == []  # the day may go on
    aggregator.finish()
    assert said == [
        LONGER.replace("are 15 minutes", "are 30 minutes")
        .replace("not 5: are the feed's bars 15", "not 15: are the feed's bars 30")
        .replace("read as 5-minute", "read as 15-minute")
    ]


def test_bars_with_gaps_but_mostly_their_length_apart_are_not_said_to_be_longer():
    times = morning("2024-03-05")
    sparse = [t for k, t in enumerate(times) if k % 3 != 1]  # every third missing
    said: list[str] = []
    aggregator = Aggregator(COPPER, 5, warn=said.append)
    aggregator.add(bars_of(five_minute_bars([*sparse, "2024-03-06 09:00:00"])))
    quiet_minutes = ["09:00", "09:02", "09:05", "09:06", "09:10", "09:14", "09:15", "09:19"]
    thin = Aggregator(COPPER, 1, warn=said.append)  # a quiet contract: gaps of all sizes
    thin.add(bars_of(five_minute_bars([f"2024-03-05 {t}:00" for t in quiet_minutes])))
    thin.finish()
    assert said == []
    quiet = Aggregator(COPPER, 5, warn=said.append, watch_length=False)
    quiet.add(bars_of(five_minute_bars([*times[::3], "2024-03-06 09:00:00"])))
    assert said == []  # a gateway's minutes: a quiet market leaves gaps

"""Tier-2 takes the trading days the loader gave the bars Tier-1 made its packages of
(``BarDays``) rather than placing the packages on the calendar again; packages at any other
times are placed, and each must lie in a session."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from twotier.config import load_config
from twotier.engine.backtest import generate_signals, run_tier2
from twotier.engine.tape import BarDays
from twotier.errors import DataError
from twotier.market.calendar import default_calendar, place_bars
from twotier.market.instruments import default_registry
from twotier.market.sample import SAMPLE_INSTRUMENTS, load_sample

TABLES = ("trades", "fills", "equity", "decisions")


@pytest.fixture(scope="module")
def bars() -> dict[str, pd.DataFrame]:
    last = pd.Timestamp("2023-03-31").date()
    return {
        k: v[v["trading_day"].dt.date <= last]
        for k, v in ((k, load_sample(k)) for k in SAMPLE_INSTRUMENTS)
    }


def _bar_days(bars) -> dict[str, BarDays]:
    return {k: BarDays.of_bars(v) for k, v in bars.items()}


def test_the_loaders_days_are_those_the_calendar_gives_the_packages(bars):
    packages = generate_signals(bars, load_config())
    registry, calendar = default_registry(), default_calendar()
    for key, frame in packages.items():
        times = pd.DatetimeIndex(frame["time"])
        placed, _ = place_bars(times, registry[key], calendar, length=15)
        np.testing.assert_array_equal(_bar_days(bars)[key].days_of(times), placed)


def test_a_run_with_the_bars_days_is_the_run_that_places_the_packages(bars):
    config = load_config()
    packages = generate_signals(bars, config)
    known = run_tier2(packages, config, bar_days=_bar_days(bars))
    placed = run_tier2(packages, config)
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(known, name), getattr(placed, name))
    assert known.summary == placed.summary


def test_the_days_serve_only_the_bars_own_times(bars):
    frame = bars["DCE/i"]
    days = BarDays.of_bars(frame)
    assert days is not None
    times = frame.index
    assert days.days_of(times) is days.days
    assert days.days_of(times[:-1]) is None  # another length
    assert days.days_of(times + pd.Timedelta(minutes=15)) is None  # other times
    assert days.days_of(times.as_unit("ns")) is None  # another unit: not compared
    assert BarDays.of_bars(frame.drop(columns="trading_day")) is None
    assert BarDays.of_bars(frame.reset_index()) is None  # times not the index


def test_packages_at_other_times_are_placed_and_checked(bars):
    config = load_config()
    packages = generate_signals(bars, config)
    moved = packages["DCE/i"].copy()
    night = moved["time"].iloc[-1].normalize() + pd.Timedelta(hours=3)  # 03:00: no session
    moved.loc[moved.index[-1], "time"] = night
    packages["DCE/i"] = moved
    with pytest.raises(DataError, match=r"package at .* 03:00 of DCE/i is outside its sessions"):
        run_tier2(packages, config, bar_days=_bar_days(bars))

"""Signal quality of Tier-1 packages and buy-and-hold benchmarks from their closes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from twotier.analysis.benchmarks import buy_and_hold, daily_closes, in_run
from twotier.analysis.signals import forward_returns, signal_quality, trigger_directions

TZ = "Asia/Shanghai"


def packages(closes, trigger=None, confidence=None, signal=None) -> pd.DataFrame:
    n = len(closes)
    frame = pd.DataFrame(
        {
            "time": pd.date_range("2024-03-04 09:00", periods=n, freq="15min", tz=TZ),
            "close": np.asarray(closes, dtype=float),
            "confidence": confidence if confidence is not None else [0.5] * n,
            "signal": signal if signal is not None else [0] * n,
        }
    )
    if trigger is not None:
        frame["trigger"] = trigger
    return frame


def test_forward_return_looks_h_bars_ahead_and_ends_with_nan():
    out = forward_returns(np.array([100.0, 110.0, 99.0]), 1)
    assert out[:2] == pytest.approx([0.1, -0.1]) and np.isnan(out[2])


def test_forward_returns_of_some_bars_are_those_of_every_bar():
    close = np.array([100.0, 110.0, 99.0, 101.5, 98.0])
    bars = np.array([0, 2, 3, 4])
    for horizon in (1, 2, 5):
        every = forward_returns(close, horizon)
        assert np.array_equal(forward_returns(close, horizon, bars), every[bars], equal_nan=True)


def test_forward_returns_are_signed_by_the_trigger_direction():
    p = packages([100, 102, 101, 97], trigger=[1, -1, 0, 0])
    q = signal_quality(p, horizons=(1, 2))
    rows = {(r["side"], r["horizon"]): r for r in q["after_triggers"]}
    assert rows[("long", 1)]["mean"] == pytest.approx(0.02)
    assert rows[("short", 1)]["mean"] == pytest.approx(1 / 102)  # 102 -> 101, short gains
    assert rows[("all", 2)]["mean"] == pytest.approx((0.01 + 5 / 102) / 2)
    assert rows[("all", 2)]["hit_rate"] == 1.0
    assert (q["triggers"], q["long_triggers"], q["short_triggers"]) == (2, 1, 1)


def test_triggers_are_grouped_by_the_confidence_they_came_with():
    p = packages(
        [100, 101, 102, 103, 104], trigger=[1, 1, 1, 0, 0], confidence=[0.25, 0.45, 0.95, 0.5, 0.5]
    )
    buckets = {r["bucket"]: r for r in signal_quality(p, horizons=(1,))["by_confidence"]}
    assert buckets["0.0-0.3"]["count"] == 1
    assert buckets["0.4-0.5"]["mean"] == pytest.approx(1 / 101)
    assert buckets["0.6-1.0"]["count"] == 1  # the top bucket includes 1.0
    assert buckets["0.3-0.4"] == {
        "bucket": "0.3-0.4",
        "horizon": 1,
        "count": 0,
        "mean": None,
        "median": None,
        "hit_rate": None,
    }


def test_packages_without_a_trigger_column_use_new_signals():
    p = packages([1, 1, 1, 1, 1, 1], signal=[0, 1, 1, -1, 0, -1])
    assert trigger_directions(p).tolist() == [0, 1, 0, -1, 0, -1]


def step_equity(p: pd.DataFrame, days: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"time": p["time"], "trading_day": pd.to_datetime(days)})


def test_package_bars_take_the_trading_day_of_their_step():
    p = packages([10, 11, 12, 13])
    equity = step_equity(p, ["2024-03-04", "2024-03-05", "2024-03-05", "2024-03-06"])
    assert in_run(p, equity)["trading_day"].dt.day.tolist() == [4, 5, 5, 6]
    assert daily_closes(p, equity).tolist() == [10, 12, 13]


def test_buy_and_hold_from_the_first_close_of_the_run():
    p = packages([100, 90, 120, 108])
    equity = step_equity(p, ["2024-03-04", "2024-03-04", "2024-03-05", "2024-03-06"])
    held = buy_and_hold(p, equity)
    assert held["total_return"] == pytest.approx(0.08)
    assert held["max_drawdown"] == pytest.approx(0.1)  # 120 -> 108 on daily closes
    assert (held["first_close"], held["last_close"]) == (100.0, 108.0)

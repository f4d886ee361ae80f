"""How the charts cut per-step series down to one point per trading day."""

from __future__ import annotations

import pandas as pd
import pytest

from twotier.report import series as s

EQUITY = pd.DataFrame(
    {
        "trading_day": pd.to_datetime(["2024-01-02"] * 3 + ["2024-01-03"] * 2),
        "pv": [100.0, 90.0, 95.0, 120.0, 108.0],
        "exposure": [0.1, 0.5, 0.2, 0.0, 0.3],
    }
)


def test_levels_keep_the_days_last_value_and_risks_its_worst():
    assert s.by_day(EQUITY, "pv").tolist() == [95.0, 108.0]
    assert s.by_day(EQUITY, "exposure", "max").tolist() == [0.5, 0.3]
    assert s.daily_drawdown(EQUITY).tolist() == pytest.approx([0.1, 0.1])


def test_a_days_point_is_drawn_at_its_date():
    days = pd.to_datetime(["2024-01-02", "2024-01-03"])
    assert s.day_text(days) == ["2024-01-02", "2024-01-03"]


def test_rounding_keeps_gaps_as_none():
    assert s.rounded([1.23456, float("nan")], 2) == [1.23, None]

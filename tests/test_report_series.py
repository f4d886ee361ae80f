"""How the charts cut per-step series down to one point per trading day, and how regime
shading is laid out."""

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


def test_a_days_point_is_drawn_at_its_close():
    days = pd.to_datetime(["2024-01-02", "2024-01-03"])
    assert s.day_close_text(days) == ["2024-01-02 15:00", "2024-01-03 15:00"]
    assert s.day_text(days) == ["2024-01-02", "2024-01-03"]


def test_the_regime_of_a_day_is_that_of_most_of_its_bars():
    bars = pd.DataFrame(
        {
            "trading_day": pd.to_datetime(["2024-01-02"] * 3 + ["2024-01-03"] * 2),
            "regime": [1, 4, 4, 2, 3],
        }
    )
    assert s.daily_regime(bars).tolist() == [4, 2]  # a tie goes to the lower code


def test_runs_of_one_regime_span_from_the_previous_close_to_their_last_close():
    days = pd.to_datetime(["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05", "2024-01-08"])
    spans = s.regime_spans(pd.Series([1, 1, 3, 3, 1], index=days))
    assert spans["regime"].tolist() == [1, 3, 1]
    assert [t.strftime("%m-%d %H:%M") for t in spans["left"]] == [
        "01-01 15:00",
        "01-03 15:00",
        "01-05 15:00",
    ]
    assert [t.strftime("%m-%d") for t in spans["right"]] == ["01-03", "01-05", "01-08"]


def test_rounding_keeps_gaps_as_none():
    assert s.rounded([1.23456, float("nan")], 2) == [1.23, None]

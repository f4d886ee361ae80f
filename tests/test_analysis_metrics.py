"""Return and risk metrics on trading days (twotier.analysis.metrics), each against a
series worked out by hand and against an independent computation with pandas/numpy."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from twotier.analysis import metrics as m

DAYS = 243


def equity(day_values: dict[str, list[float]]) -> pd.DataFrame:
    """Steps of each trading day with the given PVs (time stamps 15 minutes apart)."""
    rows = []
    for day, values in day_values.items():
        start = pd.Timestamp(f"{day} 09:00", tz="Asia/Shanghai")
        for k, value in enumerate(values):
            rows.append((start + pd.Timedelta(minutes=15 * k), pd.Timestamp(day), value))
    return pd.DataFrame(rows, columns=["time", "trading_day", "pv"])


HAND = equity(
    {
        "2024-01-02": [100.0, 104.0],
        "2024-01-03": [99.0, 102.0],
        "2024-01-04": [110.0],
        "2024-01-05": [90.0, 99.0],
    }
)


def test_a_trading_days_value_is_its_last_step():
    assert m.daily_values(HAND).tolist() == [104.0, 102.0, 110.0, 99.0]


def test_first_daily_return_is_against_the_initial_capital():
    r = m.daily_returns(HAND, initial=100.0)
    assert r.tolist() == pytest.approx([0.04, 102 / 104 - 1, 110 / 102 - 1, 99 / 110 - 1])


def test_annualised_return_compounds_to_243_days():
    r = pd.Series([0.001] * 121)
    assert m.annualised_return(r) == pytest.approx(1.001 ** (DAYS * 121 / 121) - 1)
    two_years_doubling = pd.Series([2 ** (1 / (2 * DAYS)) - 1] * (2 * DAYS))
    assert m.annualised_return(two_years_doubling) == pytest.approx(math.sqrt(2) - 1)


def test_a_total_loss_annualises_to_minus_one():
    assert m.annualised_return(pd.Series([0.1, -1.0, 0.2])) == -1.0


def test_volatility_is_the_sample_deviation_scaled_by_root_243():
    r = pd.Series([0.01, -0.02, 0.03])
    mean = 0.02 / 3
    sd = math.sqrt(sum((x - mean) ** 2 for x in r) / 2)
    assert m.volatility(r) == pytest.approx(sd * math.sqrt(DAYS))


def test_sharpe_takes_the_risk_free_rate_per_trading_day():
    r = pd.Series([0.01, -0.02, 0.03])
    rf = 0.0486  # 0.0002 a day
    excess = [x - 0.0002 for x in r]
    mean = sum(excess) / 3
    sd = math.sqrt(sum((x - mean) ** 2 for x in excess) / 2)
    assert m.sharpe(r, rf) == pytest.approx(mean / sd * math.sqrt(DAYS))
    assert m.sharpe(r, rf) < m.sharpe(r, 0.0)


def test_sortino_divides_by_the_downside_deviation_over_all_days():
    r = pd.Series([0.02, -0.01, 0.03, -0.02])
    downside = math.sqrt((0.01**2 + 0.02**2) / 4)
    assert m.sortino(r) == pytest.approx(0.005 / downside * math.sqrt(DAYS))


def test_ratios_are_zero_without_variation_or_without_days():
    flat = pd.Series([0.0, 0.0, 0.0])
    assert (m.sharpe(flat), m.sortino(flat), m.volatility(pd.Series([0.1]))) == (0.0, 0.0, 0.0)
    assert m.annualised_return(pd.Series([], dtype=float)) == 0.0


def test_max_drawdown_is_the_worst_fall_from_a_running_peak():
    values = pd.Series([100.0, 120.0, 90.0, 130.0, 117.0])
    assert m.max_drawdown(values) == pytest.approx(0.25)
    assert m.drawdown_series(values).tolist() == pytest.approx([0, 0, 0.25, 0, 0.1])


def test_calmar_is_annual_return_over_max_drawdown():
    r = pd.Series([0.01, -0.02, 0.015])
    assert m.calmar(r, 0.1) == pytest.approx(m.annualised_return(r) / 0.1)
    assert m.calmar(r, 0.0) == 0.0


def test_headline_keeps_the_keys_the_optimiser_ranks_by():
    figures = m.headline(HAND, 100.0)
    assert set(figures) == {
        "total_return",
        "annual_return",
        "volatility",
        "sharpe",
        "sortino",
        "calmar",
        "max_drawdown",
        "trading_days",
    }
    assert figures["total_return"] == pytest.approx(-0.01)
    assert figures["max_drawdown"] == pytest.approx(20 / 110)  # intraday 110 -> 90
    assert figures["trading_days"] == 4


def test_metrics_match_an_independent_pandas_computation():
    rng = np.random.default_rng(7)
    days = pd.bdate_range("2024-01-01", periods=300)
    pv = 1e6 * np.cumprod(1 + rng.normal(0.0004, 0.01, len(days)))
    frame = pd.DataFrame({"time": days, "trading_day": days, "pv": pv})
    returns = pd.Series(pv).pct_change().fillna(pv[0] / 1e6 - 1)
    excess = returns - 0.02 / DAYS
    downside = np.sqrt(np.mean(np.clip(excess, None, 0) ** 2))
    years = len(returns) / DAYS
    annual = (pv[-1] / 1e6) ** (1 / years) - 1
    mdd = (1 - pd.Series(pv) / pd.Series(pv).cummax()).max()
    h = m.headline(frame, 1e6, risk_free=0.02)
    assert h["annual_return"] == pytest.approx(annual)
    assert h["volatility"] == pytest.approx(returns.std() * np.sqrt(DAYS))
    assert h["sharpe"] == pytest.approx(excess.mean() / excess.std() * np.sqrt(DAYS))
    assert h["sortino"] == pytest.approx(excess.mean() / downside * np.sqrt(DAYS))
    assert h["max_drawdown"] == pytest.approx(mdd)
    assert h["calmar"] == pytest.approx(annual / mdd)

"""Time in market, exposure and leverage, turnover, fees and slippage; monthly returns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from twotier.analysis.activity import (
    annual_turnover,
    exposure_stats,
    slippage_paid,
    time_in_market,
)
from twotier.analysis.periods import annual_returns, monthly_returns, monthly_rows

MULTIPLIERS = {"DCE/i": 100.0, "SHFE/cu": 5.0}
FILLS = pd.DataFrame(
    {
        "instrument": ["DCE/i", "DCE/i", "SHFE/cu"],
        "contracts": [4, 4, 2],
        "price": [700.0, 710.0, 70_000.0],
        "slippage": [0.5, 0.5, 10.0],
        "fee": [28.0, 28.4, 7.0],
    }
)


def test_time_in_market_is_the_share_of_steps_holding_a_position():
    assert time_in_market(pd.Series([0, 2, -1, 0])) == 0.5
    assert time_in_market(pd.Series([], dtype=int)) == 0.0


def test_exposure_averages_all_steps_and_leverage_only_steps_in_the_market():
    equity = pd.DataFrame(
        {
            "active_positions": [0, 1, 2, 0],
            "exposure": [0.0, 0.2, 0.4, 0.0],
            "leverage": [0.0, 1.0, 3.0, 0.0],
        }
    )
    s = exposure_stats(equity)
    assert s == {
        "average_exposure": pytest.approx(0.15),
        "max_exposure": 0.4,
        "average_leverage": 2.0,
        "max_leverage": 3.0,
    }


def test_slippage_paid_is_price_slippage_times_contracts_and_multiplier():
    assert slippage_paid(FILLS, MULTIPLIERS) == pytest.approx(0.5 * 4 * 100 * 2 + 10 * 2 * 5)
    assert slippage_paid(FILLS.iloc[:0], MULTIPLIERS) == 0.0


def test_turnover_is_traded_notional_per_year_over_the_average_value():
    traded = 4 * 700 * 100 + 4 * 710 * 100 + 2 * 70_000 * 5
    turnover = annual_turnover(FILLS, MULTIPLIERS, average_value=1_000_000, days=121)
    assert turnover == pytest.approx(traded / 1_000_000 * 243 / 121)
    assert annual_turnover(FILLS.iloc[:0], MULTIPLIERS, 1_000_000, 121) == 0.0  # no trading
    assert annual_turnover(FILLS, MULTIPLIERS, average_value=-5.0, days=121) is None


def test_leverage_in_the_market_is_undefined_for_a_run_never_in_it():
    flat = pd.DataFrame({"active_positions": [0, 0], "exposure": [0.0, 0.0], "leverage": 0.0})
    assert exposure_stats(flat)["average_leverage"] is None


DAILY = pd.Series(
    [0.01, -0.02, 0.03, 0.01],
    index=pd.to_datetime(["2024-01-30", "2024-01-31", "2024-02-01", "2025-03-03"]),
)


def test_monthly_returns_compound_the_days_of_each_month():
    table = monthly_returns(DAILY)
    assert table.loc[2024, 1] == pytest.approx(1.01 * 0.98 - 1)
    assert table.loc[2024, 2] == pytest.approx(0.03)
    assert np.isnan(table.loc[2024, 3])  # no trading day in that month of the run
    assert table.loc[2024, "year"] == pytest.approx(1.01 * 0.98 * 1.03 - 1)
    assert table.loc[2025, "year"] == pytest.approx(0.01)


def test_monthly_rows_match_pandas_month_end_resampling():
    rng = np.random.default_rng(5)
    days = pd.bdate_range("2024-01-01", "2024-12-31")
    daily = pd.Series(rng.normal(0, 0.01, len(days)), index=days)
    reference = (1 + daily).resample("ME").prod() - 1
    assert [r["return"] for r in monthly_rows(daily)] == pytest.approx(reference.tolist())
    assert annual_returns(daily).iloc[0] == pytest.approx((1 + daily).prod() - 1)

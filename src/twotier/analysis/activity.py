"""How much the system was in the market and what trading cost (docs/metrics.md,
"Activity and costs"): time in market, exposure, leverage, turnover, fees, slippage."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from twotier.analysis.columns import money_total, nan_sum
from twotier.analysis.metrics import TRADING_DAYS_PER_YEAR


def time_in_market(positions: pd.Series) -> float:
    """Share of steps holding a position (``positions``: contracts or position counts)."""
    return float(np.mean(positions.to_numpy() != 0)) if len(positions) else 0.0


def exposure_stats(equity: pd.DataFrame) -> dict:
    """Committed capital / PV and notional / PV (portfolio leverage) over the steps:
    exposure averaged over every step, leverage over the steps in the market."""
    held = equity["active_positions"].to_numpy() != 0
    leverage = equity["leverage"].to_numpy(dtype=float)
    return {
        "average_exposure": float(equity["exposure"].mean()) if len(equity) else 0.0,
        "max_exposure": float(equity["exposure"].max()) if len(equity) else 0.0,
        "average_leverage": float(leverage[held].mean()) if held.any() else None,  # never in
        "max_leverage": float(leverage.max()) if len(leverage) else 0.0,
    }


def fill_notional(fills: pd.DataFrame, multipliers: Mapping[str, float]) -> pd.Series:
    """CNY traded by each fill: contracts * price * multiplier."""
    multiplier = fills["instrument"].map(multipliers).astype(float)
    return fills["contracts"].astype(float) * fills["price"].astype(float) * multiplier


def _multiplier_of_each(fills: pd.DataFrame, multipliers: Mapping[str, float]) -> np.ndarray:
    """Each fill's contract multiplier (NaN for an instrument without one)."""
    nan = float("nan")
    return np.array([multipliers.get(k, nan) for k in fills["instrument"].tolist()], dtype=float)


@dataclass(frozen=True)
class FillCosts:
    """The fills' columns their costs are read from, as arrays (with each fill's
    multiplier): made once for a run, and masked for each basket (``where``), which
    costs a fraction of filtering the fills table."""

    fee: np.ndarray
    slippage: np.ndarray
    contracts: np.ndarray
    price: np.ndarray
    multiplier: np.ndarray

    @classmethod
    def of(cls, fills: pd.DataFrame, multipliers: Mapping[str, float]) -> FillCosts:
        columns = (_floats(fills, c) for c in ("fee", "slippage", "contracts", "price"))
        return cls(*columns, _multiplier_of_each(fills, multipliers))

    def where(self, rows: np.ndarray) -> FillCosts:
        return FillCosts(*(getattr(self, f.name)[rows] for f in fields(self)))

    def fees(self) -> float:
        return money_total(self.fee)

    def slippage_paid(self) -> float:
        """``slippage_paid`` of these fills."""
        return _slippage_cost(self.slippage, self.contracts, self.multiplier)

    def annual_turnover(self, average_value: float, days: int) -> float | None:
        """``annual_turnover`` of these fills."""
        return _turnover(self.contracts, self.price, self.multiplier, average_value, days)


def slippage_paid(fills: pd.DataFrame, multipliers: Mapping[str, float]) -> float:
    """CNY lost to slippage: the price slippage of each fill times its contracts and the
    instrument's multiplier."""
    multiplier = _multiplier_of_each(fills, multipliers)
    return _slippage_cost(_floats(fills, "slippage"), _floats(fills, "contracts"), multiplier)


def annual_turnover(
    fills: pd.DataFrame, multipliers: Mapping[str, float], average_value: float, days: int
) -> float | None:
    """Traded notional per year over the average value (PV or basket equity): how many
    times the capital is traded in a year (entries and exits both count)."""
    contracts, price = _floats(fills, "contracts"), _floats(fills, "price")
    return _turnover(contracts, price, _multiplier_of_each(fills, multipliers), average_value, days)


def _floats(fills: pd.DataFrame, column: str) -> np.ndarray:
    return fills[column].to_numpy(dtype=float)


def _slippage_cost(slippage: np.ndarray, contracts: np.ndarray, multiplier: np.ndarray) -> float:
    if not len(slippage):
        return 0.0
    return money_total(slippage * contracts * multiplier)


def _turnover(
    contracts: np.ndarray,
    price: np.ndarray,
    multiplier: np.ndarray,
    average_value: float,
    days: int,
) -> float | None:
    if average_value <= 0:
        return None  # no capital to turn over (a ruined run): undefined, not 0
    if not len(contracts) or days == 0:
        return 0.0
    traded = nan_sum(contracts * price * multiplier)
    return traded / average_value * TRADING_DAYS_PER_YEAR / days

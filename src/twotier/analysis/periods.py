"""Returns by calendar month and year, compounded from daily returns (a trading day
belongs to the month of its date, so a Friday night session counts in Monday's month)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def _compound(returns: pd.Series) -> float:
    return float((1.0 + returns).prod() - 1.0)


def monthly_returns(daily: pd.Series) -> pd.DataFrame:
    """Rows: years; columns: months 1-12 (missing where the run has no trading day) and
    ``year`` (the year's compounded return)."""
    if daily.empty:
        return pd.DataFrame(columns=[*range(1, 13), "year"], dtype=float)
    days = pd.DatetimeIndex(daily.index)
    by_month = daily.groupby([days.year, days.month]).apply(_compound)
    table = by_month.unstack().reindex(columns=range(1, 13))
    table["year"] = annual_returns(daily)
    table.index.name = "year"
    table.columns.name = None
    return table


def annual_returns(daily: pd.Series) -> pd.Series:
    days = pd.DatetimeIndex(daily.index)
    starts = _period_starts(days.year.to_numpy(), daily)
    if starts is None:
        return daily.groupby(days.year).apply(_compound)
    index = days.year[starts]
    return pd.Series(_compounded(daily, starts), index=index, name=daily.name)


def monthly_rows(daily: pd.Series) -> list[dict]:
    """The monthly table as JSON-ready rows: ``{"month": "2024-03", "return": ...}``."""
    if daily.empty:
        return []
    days = pd.DatetimeIndex(daily.index)
    year, month = days.year.to_numpy(), days.month.to_numpy()
    starts = _period_starts(year * 12 + month, daily)
    if starts is None:
        by_month = daily.groupby([days.year, days.month]).apply(_compound)
        return [{"month": f"{y:04d}-{m:02d}", "return": float(r)} for (y, m), r in by_month.items()]
    return [
        {"month": f"{y:04d}-{m:02d}", "return": float(r)}
        for y, m, r in zip(year[starts], month[starts], _compounded(daily, starts), strict=True)
    ]


def _period_starts(period: np.ndarray, daily: pd.Series) -> np.ndarray | None:
    """Where each period (year, or year and month) begins, where the days are in order
    (as a run's are); else None, and a groupby sorts them."""
    if len(period) == 0 or np.any(period[1:] < period[:-1]):
        return None
    return np.flatnonzero(np.append(True, period[1:] != period[:-1]))


def _compounded(daily: pd.Series, starts: np.ndarray) -> np.ndarray:
    """``_compound`` of each period beginning at ``starts``: the same products (NaN
    counts as no change, as pandas' prod skips it), in one pass."""
    growth = 1.0 + daily.to_numpy(dtype=float)
    growth = np.where(np.isnan(growth), 1.0, growth)
    return np.multiply.reduceat(growth, starts) - 1.0

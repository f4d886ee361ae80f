"""Returns by calendar month and year, compounded from daily returns (a trading day
belongs to the month of its date, so a Friday night session counts in Monday's month)."""

from __future__ import annotations

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
    return daily.groupby(days.year).apply(_compound)


def monthly_rows(daily: pd.Series) -> list[dict]:
    """The monthly table as JSON-ready rows: ``{"month": "2024-03", "return": ...}``."""
    if daily.empty:
        return []
    days = pd.DatetimeIndex(daily.index)
    by_month = daily.groupby([days.year, days.month]).apply(_compound)
    return [{"month": f"{y:04d}-{m:02d}", "return": float(r)} for (y, m), r in by_month.items()]

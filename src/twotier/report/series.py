"""Per-step series cut down to one point per trading day for the charts: ten years of
15-minute steps (~75,000 rows) become ~2,400 points, which keeps the report a few MB and
quick to draw. Each series keeps what matters about its day: the last value of a level
(PV, equity, close), the worst of a risk (deepest drawdown, highest exposure and leverage,
lowest reserve)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def by_day(equity: pd.DataFrame, column: str, how: str = "last") -> pd.Series:
    return equity.groupby("trading_day", sort=True)[column].agg(how)


def step_drawdown(values: pd.Series) -> pd.Series:
    return 1.0 - values / values.cummax()


def daily_drawdown(equity: pd.DataFrame, column: str = "pv") -> pd.Series:
    """The deepest drawdown reached during each trading day."""
    frame = pd.DataFrame(
        {"trading_day": equity["trading_day"], "dd": step_drawdown(equity[column])}
    )
    return frame.groupby("trading_day", sort=True)["dd"].max()


def day_text(days) -> list[str]:
    # tolist: iterating pandas' Arrow-backed strings one by one is ten times slower
    return pd.DatetimeIndex(days).strftime("%Y-%m-%d").tolist()


def rounded(values, digits: int) -> list[float | None]:
    array = np.round(np.asarray(values, dtype=float), digits)
    return [None if v != v else v for v in array.tolist()]  # NaN: None

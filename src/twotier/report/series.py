"""Per-step series cut down to one point per trading day for the charts: ten years of
15-minute steps (~75,000 rows) become ~2,400 points, which keeps the report a few MB and
quick to draw. Each series keeps what matters about its day: the last value of a level
(PV, equity, close), the worst of a risk (deepest drawdown, highest exposure and leverage,
lowest reserve)."""

from __future__ import annotations

import numpy as np
import pandas as pd

DAY_CLOSE = pd.Timedelta(hours=15)  # the day session's close: where a day's point is drawn


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
    return list(pd.DatetimeIndex(days).strftime("%Y-%m-%d"))


def day_close_text(days) -> list[str]:
    """A trading day drawn at its 15:00 close, so that intraday trade markers sit beside
    the day's point."""
    return list((pd.DatetimeIndex(days) + DAY_CLOSE).strftime("%Y-%m-%d %H:%M"))


def rounded(values, digits: int) -> list[float | None]:
    array = np.round(np.asarray(values, dtype=float), digits)
    return [None if np.isnan(v) else float(v) for v in array]


def daily_regime(bars: pd.DataFrame) -> pd.Series:
    """The regime of most of each trading day's bars (ties: the lower code)."""
    counts = bars.groupby(["trading_day", "regime"], sort=True).size().unstack(fill_value=0)
    return counts.idxmax(axis=1)


def regime_spans(regime: pd.Series) -> pd.DataFrame:
    """Runs of days with one regime: ``left`` (the close of the day before the run),
    ``right`` (the close of its last day) and ``regime``."""
    if regime.empty:
        return pd.DataFrame({"left": [], "right": [], "regime": []})
    days = pd.DatetimeIndex(regime.index)
    codes = regime.to_numpy()
    starts = np.flatnonzero(np.concatenate([[True], codes[1:] != codes[:-1]]))
    ends = np.concatenate([starts[1:] - 1, [len(codes) - 1]])
    previous = (days[:1] - pd.Timedelta(days=1)).append(days[:-1])  # each day's day before
    return pd.DataFrame(
        {
            "left": previous[starts] + DAY_CLOSE,
            "right": days[ends] + DAY_CLOSE,
            "regime": codes[starts].astype(int),
        }
    )

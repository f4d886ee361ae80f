"""Per-step series cut down to one point per trading day for the charts: ten years of
15-minute steps (~75,000 rows) become ~2,400 points, which keeps the report a few MB and
quick to draw. Each series keeps what matters about its day: the last value of a level
(PV, equity, close), the worst of a risk (deepest drawdown, highest exposure and leverage,
lowest reserve)."""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import pandas as pd

from twotier.analysis.metrics import DayEnds, daily_values
from twotier.run.stamps import stamps

REDUCE = {"max": np.maximum, "min": np.minimum}


def by_day(
    equity: pd.DataFrame, column: str, how: str = "last", ends: DayEnds | None = None
) -> pd.Series:
    """Each trading day's ``how`` (last, max or min) of the column, indexed by day
    (``ends``: the steps' ``DayEnds``, where already found)."""
    if how == "last":
        return daily_values(equity, column, ends)
    return _daily(equity, equity[column], how, ends)


def step_drawdown(values: pd.Series) -> pd.Series:
    return 1.0 - values / values.cummax()


def daily_drawdown(
    equity: pd.DataFrame, column: str = "pv", ends: DayEnds | None = None
) -> pd.Series:
    """The deepest drawdown reached during each trading day."""
    return _daily(equity, step_drawdown(equity[column]).rename("dd"), "max", ends)


def _daily(equity: pd.DataFrame, values: pd.Series, how: str, ends: DayEnds | None) -> pd.Series:
    """groupby(day).agg(how) of values of the steps, read off the day boundaries for max
    and min where the days are in order and nothing is missing (a run's steps; a quarter
    of groupby's time, as ``daily_values`` reads the last), else groupby's."""
    days = equity["trading_day"]
    last = (ends or DayEnds.of(equity)).rows if len(values) else None
    if last is None or values.hasnans or how not in REDUCE:
        return values.groupby(days.rename("trading_day"), sort=True).agg(how)
    out = REDUCE[how].reduceat(values.to_numpy(), np.concatenate(([0], last[:-1] + 1)))
    index = pd.Index(days.to_numpy()[last], name="trading_day")
    return pd.Series(out, index=index, name=values.name)


def day_text(days) -> list[str]:
    """Days as YYYY-MM-DD: the run folder's text of naive days (pandas' strftime formats
    each day in Python)."""
    index = pd.DatetimeIndex(days)
    if index.tz is not None or index.hasnans:
        return index.strftime("%Y-%m-%d").tolist()
    values = index.to_numpy()
    return list(_naive_day_text(values.tobytes(), values.dtype.str))


@lru_cache(maxsize=8)
def _naive_day_text(days: bytes, dtype: str) -> tuple[str, ...]:
    """``day_text`` of days given as their bytes: a report writes the same ~2,400 days
    of a ten-year run for a dozen series, each 0.5 ms."""
    return tuple(stamps(np.frombuffer(days, dtype=dtype), "D"))


class Floats(list):
    """A chart series of finite floats: a list, and the float64 array it was made of,
    which ``page.script_json`` writes in one go with the others (a series is made to be
    written, not changed)."""

    __slots__ = ("array",)

    def __init__(self, array: np.ndarray):
        super().__init__(array.tolist())
        self.array = array


def rounded(values, digits: int) -> list[float | None]:
    array = np.round(np.asarray(values, dtype=float), digits)
    if np.isfinite(array).all():  # most series: no value to look at one by one
        return Floats(array)
    # NaN and infinities (a risk degree where PV <= 0) as None: JSON has neither.
    return [v if math.isfinite(v) else None for v in array.tolist()]

"""Return and risk metrics of an equity curve, on trading days.

A trading day's value is the PV of its last step (night sessions belong to the next
trading day, RULES.md 1); its return is against the previous trading day's value (the
initial capital for the first day). Annualisation uses 243 trading days a year, the
Chinese futures exchanges' usual count. Formulas: docs/metrics.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from twotier.analysis.groups import NAT
from twotier.errors import ConfigError

TRADING_DAYS_PER_YEAR = 243


def yearly_rate(value) -> float:
    """A yearly risk-free rate as the metrics take it: a finite fraction, 0.02 for 2%
    (2 would be 200% a year, most likely 2% meant)."""
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if not (number and math.isfinite(value) and -1 < value < 1):
        raise ConfigError(
            f"risk-free rate {value!r} is not a yearly rate; give a fraction, 0.02 for 2%"
        )
    return float(value)


@dataclass(frozen=True)
class DayEnds:
    """The row of each trading day's last step in a table of steps
    (``last_step_of_each_day``: None where its days are out of order or one is
    missing), found once where many daily series are read off the same steps: a run's
    metrics and report read twenty (``analysis.summary.day_ends``)."""

    rows: np.ndarray | None

    @classmethod
    def of(cls, steps: pd.DataFrame) -> DayEnds:
        return cls(last_step_of_each_day(steps["trading_day"]))


def daily_values(
    equity: pd.DataFrame, column: str = "pv", ends: DayEnds | None = None
) -> pd.Series:
    """Value at the last step of each trading day, indexed by trading day (``ends``: the
    steps' ``DayEnds``, where already found)."""
    values = equity[column]
    last = (ends or DayEnds.of(equity)).rows
    if last is None or values.hasnans:  # groupby's last() skips NaN: let it
        return equity.groupby("trading_day", sort=True)[column].last()
    days = pd.Index(equity["trading_day"].to_numpy()[last], name="trading_day")
    return pd.Series(values.to_numpy()[last], index=days, name=column)


def trading_day_count(equity: pd.DataFrame, ends: DayEnds | None = None) -> int:
    """Distinct trading days of the steps (``nunique``, counted from the day changes
    where the days are in order)."""
    last = (ends or DayEnds.of(equity)).rows
    return len(last) if last is not None else int(equity["trading_day"].nunique())


def last_step_of_each_day(days: pd.Series) -> np.ndarray | None:
    """Rows of the last step of each trading day, where the days are in order (as a run's
    are) and none is missing; else None. A groupby over the steps costs several times
    more."""
    raw = np.asarray(days)
    if raw.dtype.kind != "M":
        return None
    ordinal = raw.view(np.int64)
    last = np.flatnonzero(ordinal[1:] != ordinal[:-1])
    last = np.append(last, len(ordinal) - 1) if len(ordinal) else last  # no steps, no days
    return last if _rising(ordinal[last]) else None


def _rising(days: np.ndarray) -> bool:
    """Each day after the one before and the first not missing (NaT, the smallest
    integer): the days of the steps between them being equal, all of them are then in
    order and none is missing, which one look at each day tells."""
    return not len(days) or (days[0] != NAT and bool(np.all(days[1:] > days[:-1])))


def ordered_days(days) -> np.ndarray | None:
    """The days (naive datetime64) as integers, where none is missing and they are in
    order (as a run's are); else None, and the caller groups them as pandas does."""
    raw = np.asarray(days)
    return raw.view(np.int64) if last_step_of_each_day(raw) is not None else None


def daily_returns(
    equity: pd.DataFrame, initial: float, column: str = "pv", ends: DayEnds | None = None
) -> pd.Series:
    """Each trading day's return against the day before (the first day's against
    ``initial``); ``ends``: the steps' ``DayEnds``, where already found."""
    values = daily_values(equity, column, ends)
    if values.dtype != np.float64 or not len(values):  # as pandas shifts and divides these
        previous = values.shift(1)
        previous.iloc[0] = initial
        return values / previous - 1.0
    return pd.Series(returns_of(values.to_numpy(), initial), index=values.index, name=values.name)


def returns_of(values: np.ndarray, initial: float) -> np.ndarray:
    """Each value over the one before (the first over ``initial``) - 1, on the floats
    pandas' shift and division read: the same bits, without their Series."""
    with np.errstate(divide="ignore", invalid="ignore"):  # as quiet as pandas' division
        return values / np.concatenate([[initial], values[:-1]]) - 1.0


def daily_returns_table(
    equity: pd.DataFrame, initial: float, ends: DayEnds | None = None
) -> pd.DataFrame:
    """The portfolio's daily returns as quantstats and pyfolio take them: a ``date``
    index (the trading day, no time zone) and a ``returns`` column."""
    return returns_table(daily_returns(equity, initial, ends=ends))


def returns_table(returns: pd.Series) -> pd.DataFrame:
    """``daily_returns_table`` of the daily returns (``daily_returns``)."""
    index = pd.DatetimeIndex(returns.index).astype("datetime64[ns]")
    return pd.DataFrame({"returns": returns.to_numpy(dtype=float)}, index=index.rename("date"))


def total_return(final: float, initial: float) -> float:
    return final / initial - 1.0


def annualised_return(returns: pd.Series) -> float:
    """Compound annual growth over the days measured."""
    n = len(returns)
    if n == 0:
        return 0.0
    growth = float(np.prod(1.0 + returns.to_numpy()))
    if growth <= 0:
        return -1.0
    return growth ** (TRADING_DAYS_PER_YEAR / n) - 1.0


def volatility(returns: pd.Series) -> float:
    """Annualised standard deviation of daily returns (sample, ddof=1)."""
    if len(returns) < 2:
        return 0.0
    return float(returns.std(ddof=1)) * math.sqrt(TRADING_DAYS_PER_YEAR)


def sharpe(returns: pd.Series, risk_free: float = 0.0) -> float:
    """Annualised Sharpe ratio: mean daily excess return over its standard deviation."""
    if len(returns) < 2:
        return 0.0
    excess = returns - risk_free / TRADING_DAYS_PER_YEAR
    sd = float(excess.std(ddof=1))
    return float(excess.mean()) / sd * math.sqrt(TRADING_DAYS_PER_YEAR) if sd > 0 else 0.0


def sortino(returns: pd.Series, risk_free: float = 0.0) -> float:
    """Annualised Sortino ratio: mean daily excess return over the downside deviation
    (root mean square of the negative excess returns, over all days)."""
    if len(returns) < 2:
        return 0.0
    excess = returns - risk_free / TRADING_DAYS_PER_YEAR
    downside = math.sqrt(float(np.mean(np.minimum(excess.to_numpy(), 0.0) ** 2)))
    if downside == 0:
        return 0.0
    return float(excess.mean()) / downside * math.sqrt(TRADING_DAYS_PER_YEAR)


def drawdown_series(values: pd.Series) -> pd.Series:
    """1 - value / running peak."""
    return 1.0 - values / values.cummax()


def max_drawdown(values: pd.Series) -> float:
    """The largest ``drawdown_series`` value, on numpy arrays: fmax's running peak and
    maximum skip NaN as pandas' cummax and max do, and give the same bits."""
    if not len(values):
        return 0.0
    v = np.asarray(values, dtype=float)
    return largest_drawdown(v, np.fmax.accumulate(v))


def largest_drawdown(values: np.ndarray, peak: np.ndarray) -> float:
    """``max_drawdown`` of values (not empty) given their running peak, NaN skipped."""
    with np.errstate(divide="ignore", invalid="ignore"):  # pandas' division is as quiet
        return float(np.fmax.reduce(1.0 - values / peak))


def calmar(returns: pd.Series, drawdown: float) -> float:
    """Annualised return over maximum drawdown."""
    return annualised_return(returns) / drawdown if drawdown > 0 else 0.0


def return_and_risk(
    returns: pd.Series, final: float, initial: float, drawdown: float, risk_free: float = 0.0
) -> dict[str, float]:
    """Total and annual return, volatility, Sharpe, Sortino, Calmar and the maximum
    drawdown given: the figures every value series gets (portfolio, basket, benchmark)."""
    return {
        "total_return": total_return(final, initial),
        "annual_return": annualised_return(returns),
        "volatility": volatility(returns),
        "sharpe": sharpe(returns, risk_free),
        "sortino": sortino(returns, risk_free),
        "calmar": calmar(returns, drawdown),
        "max_drawdown": drawdown,
    }


def headline(equity: pd.DataFrame, initial: float, risk_free: float = 0.0) -> dict[str, float]:
    """The figures an optimiser ranks by: total and annual return, volatility, Sharpe,
    Sortino, Calmar, maximum drawdown (of the per-step PV)."""
    returns = daily_returns(equity, initial)
    final = float(equity["pv"].iloc[-1]) if len(equity) else initial
    mdd = max_drawdown(equity["pv"]) if len(equity) else 0.0
    return {
        **return_and_risk(returns, final, initial, mdd, risk_free),
        "trading_days": len(returns),
    }

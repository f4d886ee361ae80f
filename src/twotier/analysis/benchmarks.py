"""Buy-and-hold of each instrument over the run, from the signal packages' closes
(docs/metrics.md, "Benchmarks"): what holding one unlevered contract-equivalent from the
first bar of the run to the last would have returned, measured like the strategy. On a
spliced main-contract series the position is rolled (``twotier.analysis.rolled``): a
roll's price jump is not a return."""

from __future__ import annotations

import numpy as np
import pandas as pd

from twotier.analysis import metrics
from twotier.analysis.groups import NAT
from twotier.analysis.rolled import roll_points, rolled_closes


def in_run(
    packages: pd.DataFrame, equity: pd.DataFrame, steps: pd.DatetimeIndex | None = None
) -> pd.DataFrame:
    """The packages of the run's steps, with each bar's trading day (from equity.csv,
    which has one row per step); ``steps``: ``step_times(equity)``, where already made."""
    return placed(packages, equity, steps)[0]


def placed(
    packages: pd.DataFrame, equity: pd.DataFrame, steps: pd.DatetimeIndex | None = None
) -> tuple[pd.DataFrame, np.ndarray]:
    """``in_run`` and the row of each of its bars among the steps."""
    steps = step_times(equity) if steps is None else steps
    times = pd.DatetimeIndex(packages["time"]).as_unit("ns")
    if steps.tz is not None and times.tz is not None:
        times = times.tz_convert(steps.tz)
    where = rows_of(steps, times)
    found = where >= 0
    everywhere = bool(found.all())  # as a run's are: every bar is a step
    # pandas copies on write: a shallow copy keeps the packages safe and costs nothing
    out = packages.copy(deep=False) if everywhere else packages.loc[found].copy()
    rows = where if everywhere else where[found]
    out["trading_day"] = equity["trading_day"].to_numpy()[rows]
    return (out if _numbered_from_0(out.index) else out.reset_index(drop=True)), rows


def step_times(equity: pd.DataFrame) -> pd.DatetimeIndex:
    """The times of the steps, in nanoseconds, as ``in_run`` finds the packages among."""
    return pd.DatetimeIndex(equity["time"]).as_unit("ns")


def _numbered_from_0(index: pd.Index) -> bool:
    """An index as ``reset_index(drop=True)`` makes it: an unnamed 0, 1, 2, ..."""
    return (
        isinstance(index, pd.RangeIndex)
        and index.start == 0
        and index.step == 1
        and index.name is None
    )


def rows_of(steps: pd.DatetimeIndex, times: pd.DatetimeIndex) -> np.ndarray:
    """``steps.get_indexer(times)``: each time's row among the steps, -1 where it is not
    one. The steps of a run rise strictly, so a binary search finds them without the
    hash table pandas would build over every step."""
    ns = steps.asi8
    rising = len(ns) > 0 and ns[0] != NAT and bool(np.all(ns[1:] > ns[:-1]))
    if not rising or (steps.tz is None) != (times.tz is None):
        return steps.get_indexer(times)
    wanted = times.asi8
    if len(wanted) and bool(np.all(wanted[1:] > wanted[:-1])):
        return _rows_of_rising(ns, wanted)
    at = np.searchsorted(ns, wanted)
    hit = ns[np.minimum(at, len(ns) - 1)] == wanted
    return np.where(hit, at, -1)


def _rows_of_rising(ns: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """``rows_of`` for times that rise too (as an instrument's bars do): a left join of
    the two rising integer indexes, which pandas makes in one pass over both, at a
    third of the binary searches' cost. The join gives no rows where the times are
    the steps themselves."""
    _, _, rows = pd.Index(wanted).join(pd.Index(ns), how="left", return_indexers=True)
    return np.arange(len(wanted)) if rows is None else rows


def held_closes(bars: pd.DataFrame) -> tuple[float, pd.Series]:
    """The first close and the last close of each trading day of a position held and
    rolled, on the latest contract's scale."""
    closes = rolled_closes(bars)
    last = metrics.last_step_of_each_day(bars["trading_day"])
    if last is None or closes.hasnans:  # groupby's last() skips NaN: let it
        daily = closes.groupby(bars["trading_day"].to_numpy(), sort=True).last().astype(float)
    else:
        days = pd.Index(bars["trading_day"].to_numpy()[last])
        daily = pd.Series(closes.to_numpy()[last], index=days, name=closes.name)
    return float(closes.iloc[0]), daily


def daily_closes(packages: pd.DataFrame, equity: pd.DataFrame) -> pd.Series:
    """The last close of each trading day of the run (rolled), indexed by trading day."""
    bars = in_run(packages, equity)
    return held_closes(bars)[1] if len(bars) else pd.Series(dtype=float)


def buy_and_hold(
    packages: pd.DataFrame, equity: pd.DataFrame, risk_free: float = 0.0
) -> dict | None:
    """Buy at the close of the instrument's first bar in the run, hold (rolling at each
    roll) to the last. Daily returns, volatility, Sharpe, Sortino, Calmar and drawdown
    are on daily closes."""
    return buy_and_hold_of(in_run(packages, equity), risk_free)


def buy_and_hold_of(
    bars: pd.DataFrame, risk_free: float = 0.0, held: tuple[float, pd.Series] | None = None
) -> dict | None:
    """``buy_and_hold`` of the packages of the run (``in_run``); ``held``: their
    ``held_closes``, where already made."""
    if bars.empty:
        return None
    base, closes = held_closes(bars) if held is None else held  # floats
    daily = closes.to_numpy()
    returns = pd.Series(metrics.returns_of(daily, base), index=closes.index, name=closes.name)
    mdd = metrics.max_drawdown(np.concatenate([[base], daily]))
    return {
        **metrics.return_and_risk(returns, float(closes.iloc[-1]), base, mdd, risk_free),
        "first_close": float(bars["close"].iloc[0]),
        "last_close": float(bars["close"].iloc[-1]),
        "rolls": len(roll_points(bars)),
    }


def growth(bars: pd.DataFrame, held: tuple[float, pd.Series] | None = None) -> pd.Series:
    """Daily close over the first close of the run (rolled): the growth of 1 CNY held;
    ``bars``: the instrument's packages of the run's steps (``in_run``); ``held``: their
    ``held_closes``, where already made."""
    if bars.empty:
        return pd.Series(dtype=float)
    base, closes = held_closes(bars) if held is None else held
    return closes / base

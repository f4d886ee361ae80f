"""Drawdown episodes of a per-step value series: how deep, when they began, bottomed out
and recovered, and for how many trading days (docs/metrics.md, "Drawdowns").

An episode starts at a peak (the last step at the running maximum before the value falls
below it), has its trough at its lowest step, and recovers at the first step whose value
is back at or above that peak. Depth is measured on steps, so an intraday low counts;
dates are trading days.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Drawdown:
    depth: float  # 1 - trough / peak
    start: pd.Timestamp  # trading day of the peak
    trough: pd.Timestamp
    recovery: pd.Timestamp | None  # None: not recovered by the end of the run
    days: int  # trading days from the peak to the recovery (or to the last day)

    def as_dict(self) -> dict:
        return {
            "depth": self.depth,
            "start": _day_text(self.start),
            "trough": _day_text(self.trough),
            "recovery": _day_text(self.recovery),
            "days": self.days,
        }


def _day_text(day: pd.Timestamp | None) -> str | None:
    return None if day is None else pd.Timestamp(day).strftime("%Y-%m-%d")


def drawdowns(values: pd.Series | np.ndarray, days: pd.Series | np.ndarray) -> list[Drawdown]:
    """Every drawdown episode, deepest first (ties: earliest first). ``days`` is the
    trading day of each step."""
    v = np.asarray(values, dtype=float)
    if len(v) == 0:
        return []
    day = pd.DatetimeIndex(np.asarray(days))
    day_number = pd.factorize(day, sort=True)[0]  # trading days counted from the first
    peak = np.maximum.accumulate(v)
    under = (v < peak).astype(np.int8)
    edges = np.diff(np.concatenate([[0], under, [0]]))
    firsts, afters = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    found = []
    for first, after in zip(firsts, afters, strict=True):
        trough = first + int(np.argmin(v[first:after]))
        top = first - 1  # step 0 is its own peak, so a drawdown starts at step 1 or later
        recovered = after < len(v)
        end = after if recovered else len(v) - 1
        found.append(
            Drawdown(
                depth=float(1.0 - v[trough] / peak[trough]),
                start=day[top],
                trough=day[trough],
                recovery=day[after] if recovered else None,
                days=int(day_number[end] - day_number[top]),
            )
        )
    return sorted(found, key=lambda d: (-d.depth, d.start))


def max_drawdown_details(values, days) -> dict:
    """The deepest drawdown as a dict (depth 0 and no dates when the value never fell)."""
    found = drawdowns(values, days)
    if not found:
        return {"depth": 0.0, "start": None, "trough": None, "recovery": None, "days": 0}
    return found[0].as_dict()


def longest_drawdown_days(values, days) -> int:
    """Trading days of the longest time spent below a previous peak."""
    return max((d.days for d in drawdowns(values, days)), default=0)

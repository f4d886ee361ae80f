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

from twotier.analysis.metrics import ordered_days


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
    day, day_number = _numbered_days(days)
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


def _numbered_days(days) -> tuple[np.ndarray | pd.DatetimeIndex, np.ndarray]:
    """The trading day of each step (indexing one gives a Timestamp) and its number,
    counted from the first day. A run's days are in order: numbering them is counting
    the changes, without the sort of a factorisation."""
    raw = np.asarray(days)
    ordinal = ordered_days(raw)
    if ordinal is not None:
        changes = np.cumsum(ordinal[1:] != ordinal[:-1])
        return _Days(raw), np.concatenate([[0], changes])
    day = pd.DatetimeIndex(raw)
    return day, pd.factorize(day, sort=True)[0]


class _Days:
    """Days of a numpy datetime64 array, indexed as Timestamps (as a DatetimeIndex is)."""

    def __init__(self, raw: np.ndarray):
        self.raw = raw

    def __getitem__(self, i) -> pd.Timestamp:
        return pd.Timestamp(self.raw[i])


def max_drawdown_details(values, days) -> dict:
    """The deepest drawdown as a dict (depth 0 and no dates when the value never fell)."""
    return deepest_details(drawdowns(values, days))


def deepest_details(found: list[Drawdown]) -> dict:
    """``max_drawdown_details`` of the episodes ``drawdowns`` found."""
    if not found:
        return {"depth": 0.0, "start": None, "trough": None, "recovery": None, "days": 0}
    return found[0].as_dict()


def longest_drawdown_days(values, days) -> int:
    """Trading days of the longest time spent below a previous peak."""
    return longest_days(drawdowns(values, days))


def longest_days(found: list[Drawdown]) -> int:
    """``longest_drawdown_days`` of the episodes ``drawdowns`` found."""
    return max((d.days for d in found), default=0)

"""Drawdown episodes of a per-step value series: how deep, when they began, bottomed out
and recovered, and for how many trading days (docs/metrics.md, "Drawdowns").

An episode starts at a peak (the last step at the running maximum before the value falls
below it), has its trough at its lowest step, and recovers at the first step whose value
is back at or above that peak. Depth is measured on steps, so an intraday low counts;
dates are trading days.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from twotier.analysis.metrics import (
    DayEnds,
    largest_drawdown,
    last_step_of_each_day,
    max_drawdown,
)


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
    found = episodes(values, days)
    return found.first(len(found))


@dataclass(frozen=True)
class Episodes:
    """``drawdowns`` as arrays, deepest first: the steps of each episode's peak
    (``top``), trough and recovery (-1: none), its depth and days. The metrics read the
    deepest, the longest and the top few episodes: only those become ``Drawdown``
    objects."""

    depth: np.ndarray
    top: np.ndarray
    trough: np.ndarray
    recovery: np.ndarray
    days: np.ndarray
    day: _Days | pd.DatetimeIndex  # the trading day of each step
    max_drawdown: float  # metrics.max_drawdown of the values, off the same running peak

    def __len__(self) -> int:
        return len(self.depth)

    def episode(self, k: int) -> Drawdown:
        after = int(self.recovery[k])
        return Drawdown(
            depth=float(self.depth[k]),
            start=self.day[self.top[k]],
            trough=self.day[self.trough[k]],
            recovery=self.day[after] if after >= 0 else None,
            days=int(self.days[k]),
        )

    def first(self, count: int) -> list[Drawdown]:
        """The ``count`` deepest episodes."""
        return [self.episode(k) for k in range(min(count, len(self)))]

    def deepest_details(self) -> dict:
        """``max_drawdown_details`` of these episodes."""
        return deepest_details(self.first(1))

    def longest_days(self) -> int:
        """``longest_drawdown_days`` of these episodes."""
        return int(self.days.max()) if len(self) else 0


def episodes(
    values: pd.Series | np.ndarray, days: pd.Series | np.ndarray, day_ends: DayEnds | None = None
) -> Episodes:
    """``drawdowns`` as ``Episodes`` (``day_ends``: the days' ``DayEnds``, where already
    found)."""
    v = np.asarray(values, dtype=float)
    if not len(v):
        none = np.zeros(0, dtype=np.int64)
        return Episodes(v, none, none, none, none, _Days(np.asarray(days)), 0.0)
    day, day_number = _numbered_days(days, day_ends)
    peak = np.maximum.accumulate(v)  # NaN from the first NaN on, where fmax's skips it
    largest = max_drawdown(v) if np.isnan(peak[-1]) else largest_drawdown(v, peak)
    edges = np.diff((v < peak).astype(np.int8), prepend=0, append=0)
    firsts, afters = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    trough = np.array(
        [a + int(np.argmin(v[a:b])) for a, b in zip(firsts.tolist(), afters.tolist(), strict=True)],
        dtype=np.int64,
    )
    top = firsts - 1  # step 0 is its own peak, so a drawdown starts at step 1 or later
    recovered = afters < len(v)
    end = np.where(recovered, afters, len(v) - 1)
    depth = 1.0 - v[trough] / peak[trough]
    spans = day_number(end) - day_number(top)
    order = _deepest_first(depth, top, day)
    return Episodes(
        depth=depth[order],
        top=top[order],
        trough=trough[order],
        recovery=np.where(recovered, afters, -1)[order],
        days=spans[order],
        day=day,
        max_drawdown=largest,
    )


def _deepest_first(depth: np.ndarray, top: np.ndarray, day) -> np.ndarray:
    """The episodes' order by depth (deepest first), then by the day of their peak. With
    the days in order, that day rises with the peak's step, and the episodes come in
    that order: a stable sort by depth alone gives it."""
    if isinstance(day, _Days):
        return np.argsort(-depth, kind="stable")
    keys = [(-depth[k], day[top[k]]) for k in range(len(depth))]
    return np.array(sorted(range(len(depth)), key=keys.__getitem__), dtype=np.int64)


def _numbered_days(
    days, day_ends: DayEnds | None = None
) -> tuple[_Days | pd.DatetimeIndex, Callable]:
    """The trading day of each step (indexing one gives a Timestamp) and a function giving
    the number of the day of the steps asked, counted from the first day. A run's days
    are in order: a step's number is then the count of days ended before it, a binary
    search among the day ends for the few steps asked, without numbering every step."""
    raw = np.asarray(days)
    ends = day_ends.rows if day_ends is not None else None
    ends = last_step_of_each_day(raw) if ends is None else ends
    if ends is not None:
        return _Days(raw), lambda steps: np.searchsorted(ends, steps)
    day = pd.DatetimeIndex(raw)
    number = pd.factorize(day, sort=True)[0]
    return day, lambda steps: number[steps]


class _Days:
    """Days of a numpy datetime64 array, indexed as Timestamps (as a DatetimeIndex is)."""

    def __init__(self, raw: np.ndarray):
        self.raw = raw

    def __getitem__(self, i) -> pd.Timestamp:
        return pd.Timestamp(self.raw[i])


def max_drawdown_details(values, days) -> dict:
    """The deepest drawdown as a dict (depth 0 and no dates when the value never fell)."""
    return episodes(values, days).deepest_details()


def deepest_details(found: list[Drawdown]) -> dict:
    """``max_drawdown_details`` of the episodes ``drawdowns`` found."""
    if not found:
        return {"depth": 0.0, "start": None, "trough": None, "recovery": None, "days": 0}
    return found[0].as_dict()


def longest_drawdown_days(values, days) -> int:
    """Trading days of the longest time spent below a previous peak."""
    return episodes(values, days).longest_days()


def longest_days(found: list[Drawdown]) -> int:
    """``longest_drawdown_days`` of the episodes ``drawdowns`` found."""
    return max((d.days for d in found), default=0)

"""The periods a sweep backtests, in trading days: the whole period, or walk-forward
windows (rolling or anchored) whose test period follows its training period.

Each period is its own backtest that starts flat at its first day (RULES.md 8.32); bars
before it only warm up Tier-1, which runs on the whole series and is causal. So a test
period can never see its training period's positions, and training never sees a bar of
its test period (its last trading day is before the test's first).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from twotier.errors import ConfigError

MODES = ("rolling", "anchored")


@dataclass(frozen=True)
class Span:
    """Trading days ``start`` to ``end``, both included."""

    start: dt.date
    end: dt.date

    def __str__(self) -> str:
        return f"{self.start:%Y-%m-%d} to {self.end:%Y-%m-%d}"


@dataclass(frozen=True)
class Window:
    index: int
    train: Span  # the whole period when there is no walk-forward
    test: Span | None = None


def trading_days(
    bars: Mapping[str, pd.DataFrame], start: str | None = None, end: str | None = None
) -> list[dt.date]:
    """The trading days of any instrument's bars, from ``start`` to ``end``."""
    days = sorted({d.date() for frame in bars.values() for d in frame["trading_day"].unique()})
    first = _day(start, "--start") if start else None
    last = _day(end, "--end") if end else None
    chosen = [d for d in days if (first is None or d >= first) and (last is None or d <= last)]
    if not chosen:
        span = f"{days[0]} to {days[-1]}" if days else "none"
        raise ConfigError(
            f"no trading day of the bars lies between {start or 'their start'} and "
            f"{end or 'their end'} (the bars' trading days: {span})"
        )
    return chosen


def whole_period(days: list[dt.date]) -> list[Window]:
    return [Window(0, Span(days[0], days[-1]))]


def walk_forward(days: list[dt.date], mode: str, train: int, test: int) -> list[Window]:
    """Windows of ``train`` trading days followed by ``test`` days; the next window moves
    on by ``test`` days. Rolling keeps the training length, anchored keeps its start.
    Only whole test windows are made: trailing days too few for one are left out."""
    if mode not in MODES:
        raise ConfigError(f"--walk-forward must be rolling or anchored, not {mode!r}")
    if train < 1 or test < 1:
        raise ConfigError("--train and --test must be at least 1 trading day")
    if train + test > len(days):
        raise ConfigError(
            f"walk-forward needs at least {train + test} trading days (--train {train} + "
            f"--test {test}); the bars have {len(days)}"
        )
    windows = []
    for index, split in enumerate(range(train, len(days) - test + 1, test)):
        first = 0 if mode == "anchored" else split - train
        windows.append(
            Window(
                index,
                Span(days[first], days[split - 1]),
                Span(days[split], days[split + test - 1]),
            )
        )
    return windows


def untested_days(days: list[dt.date], windows: list[Window]) -> int:
    """Trailing days after the last test window."""
    last = windows[-1].test
    return 0 if last is None else sum(1 for d in days if d > last.end)


def _day(text: str, what: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(text))
    except ValueError:
        raise ConfigError(f"{what} {text!r} is not a date (YYYY-MM-DD)") from None

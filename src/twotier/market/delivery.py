"""Delivery deadlines (RULES.md 11): the last trading day a position on a contract may be
held, and the warning for roll information that keeps a contract that long.

An individual account may not hold a position into its contract's delivery month. The
deadline is the last trading day before the delivery month less
``contracts.exit_days_before_delivery`` trading days (``i2005``: 2020-04-30 less one,
2020-04-29). Trading days are the calendar's; past its last recorded day weekdays count
(for the deadline only: RULES.md 10.6 item 16).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from twotier.market.calendar import TradingCalendar, weekdays
from twotier.market.contracts import delivery_month
from twotier.sorted_sets import difference

ONE_DAY = np.timedelta64(1, "D")


def _days_through(calendar: TradingCalendar, last: np.datetime64) -> np.ndarray:
    """The calendar's trading days, with weekdays after its last day up to ``last``."""
    if last <= calendar.last:
        return calendar.days
    assumed = difference(weekdays(calendar.last + ONE_DAY, last), calendar.holidays)
    return np.concatenate([calendar.days, assumed])


def deadline_of(
    contract: str, calendar: TradingCalendar, days_before: int = 1, near: date | None = None
) -> date:
    """The trading day from whose first bar no position on ``contract`` may be held: the
    last trading day before its delivery month, less ``days_before`` trading days.
    ``near`` (a day of the data) places a three-digit CZCE code's decade. A ValueError
    when the code names no delivery month or the deadline falls before the calendar."""
    if days_before < 0:
        raise ValueError(f"days_before must be >= 0, not {days_before}")
    year, month = delivery_month(contract, near)
    first = np.datetime64(date(year, month, 1), "D")
    days = _days_through(calendar, first)
    pos = int(np.searchsorted(days, first)) - 1 - days_before
    if pos < 0:
        raise ValueError(
            f"{contract}: its delivery deadline is before the trading calendar's first day "
            f"{calendar.first}"
        )
    return pd.Timestamp(days[pos]).date()


def trading_days_until(day: date, deadline: date, calendar: TradingCalendar) -> int:
    """Trading days after ``day`` up to and including ``deadline`` (0 on the deadline,
    negative after it): 5 means the deadline is the fifth trading day from now, the day
    paper trading alerts."""
    a, b = np.datetime64(day, "D"), np.datetime64(deadline, "D")
    days = _days_through(calendar, max(a, b))
    count = int(np.searchsorted(days, max(a, b), side="right")) - int(
        np.searchsorted(days, min(a, b), side="right")
    )
    return count if b >= a else -count


def deadline_warnings(
    instrument: str,
    contracts: np.ndarray,
    trading_days: np.ndarray,
    calendar: TradingCalendar,
    days_before: int = 1,
    source: str = "roll information",
) -> list[str]:
    """One warning per contract that the roll information (``contracts``: the contract of
    each bar, in time order) still trades on or after its delivery deadline, when no
    position on it may be held."""
    contracts = np.asarray(contracts, dtype=str)
    days = np.asarray(trading_days).astype("datetime64[D]")
    warnings = []
    names, first = np.unique(contracts, return_index=True)
    for contract in names[np.argsort(first)]:
        if not contract:
            continue
        held = days[contracts == contract]
        near = pd.Timestamp(held[0]).date()
        try:
            deadline = deadline_of(contract, calendar, days_before, near)
        except ValueError:
            continue  # no delivery month to keep: the data layer refuses such codes
        last = pd.Timestamp(held[-1]).date()
        if last < deadline:
            continue
        year, month = delivery_month(contract, near)
        warnings.append(
            f"{instrument}: the {source} keeps {contract} until {last}, but no position on it "
            f"may be held from its delivery deadline {deadline} (the last trading day before "
            f"{date(year, month, 1):%B %Y}, less {days_before} trading day(s)); roll earlier"
        )
    return warnings


__all__ = ["deadline_of", "deadline_warnings", "trading_days_until"]

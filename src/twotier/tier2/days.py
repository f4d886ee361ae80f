"""Trading days of the portfolio (RULES.md 4.1 step 1, 8.1, 8.25): the day-start PV and the
peak PV, for one step (plain numbers) or a stretch of steps (arrays).

- A trading day's day-start PV is the PV of the last step of the day before (the initial
  capital on the first day), so an overnight gap counts toward the daily loss.
- The peak is the running maximum of PV; after a drawdown breaker it starts again from
  the next trading day's day-start PV.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from twotier.numeric import ARRAY, carried_previous, first_of, largest, running_max_restarting

EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()  # numpy's datetime64[D] counts from it
DATETIME64 = np.datetime64  # read once, as ``numeric.ARRAY`` is


def day_marks(pv, new_day, last_pv: int, day_start: int, peak: int, reset_pending: bool):
    """Day-start PV and peak PV at each step. ``pv``: PV at each step after its fills (one
    number for every step of a stretch where it does not move); ``new_day``: whether each
    step begins a trading day; ``last_pv``, ``day_start``, ``peak``: the state before the
    first step; ``reset_pending``: a drawdown breaker asked for the peak to restart at the
    next trading day."""
    starts = carried_previous(pv, last_pv, new_day, day_start)
    if isinstance(new_day, ARRAY) and not reset_pending and _at_most(pv, peak):
        # No step's PV passes the peak (a stretch below its peak, nearly always): the peak
        # at every step, without the running maximum's two array operations.
        peaks = np.empty(len(new_day), dtype=starts.dtype)
        peaks.fill(peak)
        return starts, peaks
    restart = first_of(new_day) if reset_pending else None
    return starts, running_max_restarting(pv, peak, restart, starts)


def _at_most(pv, peak: int) -> bool:
    """Whether PV (one number for every step, or an integer array) is at most the peak at
    every step."""
    return (largest(pv) if isinstance(pv, ARRAY) else pv) <= peak


def day64(day: dt.date) -> np.datetime64:
    """A trading day as numpy's datetime64[D], to compare with arrays of days: made from
    its count of days since 1970, as numpy reading the date object would make it at
    about twenty times the cost."""
    return DATETIME64(day.toordinal() - EPOCH_ORDINAL, "D")


def day_of(days_since_1970: int) -> dt.date:
    """A trading day from its count of days since 1970 (a datetime64[D]'s integer), as
    a date: what ``ndarray.item`` gives for one element, at a fraction of its cost."""
    return dt.date.fromordinal(EPOCH_ORDINAL + days_since_1970)

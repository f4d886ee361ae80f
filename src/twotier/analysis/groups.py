"""Rows of a trades table grouped by position (``trade_id``) on numpy arrays: a table of
a few hundred rows, where pandas' groupby costs far more than the work.

``group`` is each row's position number (``np.unique(trade_ids, return_inverse=True)``),
so positions come in the order of their trade ids, as a sorted groupby gives them.
"""

from __future__ import annotations

import numpy as np

from twotier.market.times import NAT

LATEST = np.iinfo(np.int64).max


def by_position_then_time(group: np.ndarray, ns: np.ndarray) -> np.ndarray:
    """Rows in the order of their position, then of their time (a missing time last),
    ties in table order: ``sort_values(["trade_id", time], kind="stable")``."""
    return np.lexsort((np.where(ns == NAT, LATEST, ns), group))


def first_of_each(group: np.ndarray, valid: np.ndarray, groups: int) -> np.ndarray:
    """Row of each position's first valid row (-1 where it has none), as groupby's
    first() skips missing values."""
    rows = np.flatnonzero(valid)
    first = np.full(groups, len(group), dtype=np.int64)
    np.minimum.at(first, group[rows], rows)
    return np.where(first == len(group), -1, first)


def last_of_each(group: np.ndarray, valid: np.ndarray, groups: int) -> np.ndarray:
    """Row of each position's last valid row (-1 where it has none), as groupby's last()."""
    rows = np.flatnonzero(valid)
    last = np.full(groups, -1, dtype=np.int64)
    np.maximum.at(last, group[rows], rows)
    return last


def any_of_each(group: np.ndarray, flags: np.ndarray, groups: int) -> np.ndarray:
    """Whether any row of each position is flagged."""
    out = np.zeros(groups, dtype=bool)
    out[group[flags]] = True
    return out

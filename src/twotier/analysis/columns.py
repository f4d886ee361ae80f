"""pandas' reductions of a float column, on the numpy array: NaN left out as pandas
leaves it out (set to 0 in a copy, then the same numpy sum), so the figures are the
same to the bit without the cost of a Series per small group."""

from __future__ import annotations

import numpy as np


def nan_sum(values: np.ndarray) -> float:
    """``Series.sum()``: NaN counts as 0. Summed as they are first: a sum that is not NaN
    had no NaN to set to 0, and the copy with them set to 0 would be the same floats,
    summed in the same order (both contiguous)."""
    floats = np.ascontiguousarray(values, dtype=float)
    total = floats.sum()
    if np.isnan(total):
        total = np.where(np.isnan(floats), 0.0, floats).sum()
    return float(total)


def money_total(values: np.ndarray) -> float:
    """A total of CNY amounts (NaN as 0) to the cent. The amounts are whole cents, but
    their binary sum is not: 16625.649999999998 for 16,625.65, or 5.6e-17 for a position
    closed at +0.10, +0.20 and -0.30, which would count as a win."""
    total = nan_sum(np.asarray(values, dtype=float))  # an empty column may be of objects
    return round(total, 2) + 0.0  # + 0.0: a total of -0.004 is 0, not -0


def nan_mean(values: np.ndarray) -> float | None:
    """``Series.mean()`` (NaN if every value is NaN); None if there is none."""
    if not len(values):
        return None
    counted = int((~np.isnan(values)).sum())
    return nan_sum(values) / counted if counted else float("nan")


def nan_max(values: np.ndarray) -> float | None:
    """``Series.max()`` (NaN if every value is NaN); None if there is none."""
    if not len(values):
        return None
    kept = values[~np.isnan(values)]
    return float(kept.max()) if len(kept) else float("nan")

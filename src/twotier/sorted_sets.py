"""Set operations on arrays of days, times and counts, by sorting.

numpy 2's ``np.unique``, and the set functions built on it (``union1d``, ``setdiff1d``,
``isin``), hash their values: on the few thousand days of a trading calendar that costs
about twenty times more than sorting them. These give the same arrays as numpy's, NaN and
NaT included (kept once, last, as ``np.unique`` keeps them).
"""

from __future__ import annotations

import numpy as np


def distinct(values) -> np.ndarray:
    """``np.unique(values)``: each value once, sorted."""
    ordered = np.sort(np.asarray(values).ravel())
    first = np.empty(len(ordered), dtype=bool)
    first[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    if ordered.dtype.kind in "fcmM":  # NaN and NaT sort last and differ from themselves
        missing = np.isnat(ordered) if ordered.dtype.kind in "mM" else np.isnan(ordered)
        if missing.any():
            first[missing] = False
            first[int(missing.argmax())] = True
    return ordered[first]


def union(a, b) -> np.ndarray:
    """``np.union1d(a, b)``."""
    return distinct(np.concatenate([np.asarray(a).ravel(), np.asarray(b).ravel()]))


def difference(a, b) -> np.ndarray:
    """``np.setdiff1d(a, b)``: the distinct values of ``a`` that are not in ``b``."""
    values = distinct(a)
    return values[~isin(values, b)]


def isin(values, members) -> np.ndarray:
    """``np.isin(values, members)``: whether each value is one of ``members``."""
    values = np.asarray(values)
    members = distinct(members)
    if not len(members):
        return np.zeros(values.shape, dtype=bool)
    at = np.minimum(np.searchsorted(members, values), len(members) - 1)
    return members[at] == values

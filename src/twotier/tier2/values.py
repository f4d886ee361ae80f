"""The few operations Tier-2's rules need whose spelling differs between one value and an
array of values. Rules call these so that one definition serves a step (plain Python
numbers, fast) and the engine's scans over many bars (numpy arrays); both give the same
bits, since IEEE arithmetic is the same in Python and numpy.
"""

from __future__ import annotations

import numpy as np

from twotier.tier1.checks import decided, where

__all__ = ["any_of", "decided", "running_any", "running_best", "where"]


def running_best(closes, start: int, side: int):
    """The best close so far (highest for a long, lowest for a short), starting at
    ``start``."""
    if isinstance(closes, np.ndarray):
        if side > 0:
            return np.maximum.accumulate(np.maximum(closes, start))
        return np.minimum.accumulate(np.minimum(closes, start))
    return max(closes, start) if side > 0 else min(closes, start)


def running_any(flags):
    """Whether a flag has been seen so far."""
    if isinstance(flags, np.ndarray):
        return np.logical_or.accumulate(flags)
    return bool(flags)


def any_of(flags) -> bool:
    """Whether any flag is set (one flag, or an array of them)."""
    if isinstance(flags, np.ndarray):
        return bool(flags.any())
    return bool(flags)

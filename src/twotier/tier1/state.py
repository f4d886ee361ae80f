"""The signal as a state, not a one-bar event (RULES.md 3.2).

- An entry trigger for d makes the signal d.
- The signal stays d while the trend check for d passes; when it fails, 0.
- A trigger for -d switches straight to -d.
- Long and short triggers on the same bar (possible only when neither trend nor momentum
  is a required check) cancel each other: neither fires.

``next_signal`` is the rule for one bar; ``signal_series`` computes the same thing for a
whole series without a Python loop.
"""

from __future__ import annotations

import numpy as np


def next_signal(
    previous: int, trigger_long: bool, trigger_short: bool, trend_long: bool, trend_short: bool
) -> int:
    if trigger_long and not trigger_short:
        return 1
    if trigger_short and not trigger_long:
        return -1
    if previous == 1 and trend_long:
        return 1
    if previous == -1 and trend_short:
        return -1
    return 0


def signal_series(
    trigger_long: np.ndarray,
    trigger_short: np.ndarray,
    trend_long: np.ndarray,
    trend_short: np.ndarray,
) -> np.ndarray:
    """``next_signal`` applied bar after bar from a flat start, vectorised.

    The signal at bar t is the direction of the latest trigger k <= t, provided the trend
    check of that direction held on every bar after k up to t.
    """
    longs = trigger_long & ~trigger_short
    shorts = trigger_short & ~trigger_long
    number = np.arange(1, len(longs) + 1)  # bars numbered from 1: 0 is "none yet"
    latest = latest_flagged(longs | shorts, number)  # the latest trigger's bar
    is_long = longs[latest - 1] & (latest > 0)
    # Where the trend of the latest trigger's direction fails. A failure before that
    # trigger has a smaller number than it, whatever direction it was checked for.
    fails = (is_long & ~trend_long) | (~is_long & ~trend_short)
    holds = (latest > 0) & (latest_flagged(fails, number) <= latest)
    return (holds & is_long).astype(np.int8) - (holds & ~is_long).astype(np.int8)


def latest_flagged(flags: np.ndarray, number: np.ndarray) -> np.ndarray:
    """At each bar, the ``number`` of the latest flagged bar up to it (0: none yet): a
    running maximum, where np.where's -1 for "none" would cost a slow pass more."""
    return np.maximum.accumulate(number * flags)


def episodes(signal: np.ndarray) -> np.ndarray:
    """Episode number of each bar: a run of equal non-zero signal is one episode (numbered
    from 1); 0 where the signal is 0."""
    signal = np.asarray(signal)
    if not len(signal):
        return np.zeros(0, dtype=np.int64)
    # Numbered run by run (a few thousand in ten years) and repeated over each run's bars,
    # instead of a count over every bar: each run of one non-zero signal is an episode.
    starts = np.flatnonzero(signal[1:] != signal[:-1])
    starts += 1
    starts = np.concatenate([[0], starts])
    signalled = signal.take(starts) != 0
    numbers = np.cumsum(signalled) * signalled
    return numbers.repeat(np.diff(starts, append=len(signal)))

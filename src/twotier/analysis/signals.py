"""Signal quality of Tier-1 (docs/metrics.md, "Signal quality"): what the price did after
each entry trigger, in the trigger's direction, over a few horizons and by the confidence
the package reported.

The forward return of a trigger at bar t over h bars is d * (close[t+h] / close[t] - 1)
for its direction d, on the instrument's own bars (a horizon may span a session break).
It measures the signal, not the trades: Tier-2 fills at the next open, may skip a trigger
and exits on its own rules.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pandas as pd

HORIZONS = (1, 4, 16, 64)  # bars of 15 minutes: a quarter hour, an hour, 4 hours, 16 hours
CONFIDENCE_EDGES = (0.0, 0.3, 0.4, 0.5, 0.6, 1.0)


def trigger_directions(packages: pd.DataFrame) -> np.ndarray:
    """+1/-1 on bars where an entry trigger fired. Packages without a ``trigger`` column
    (written by another program) use the bars where the signal turns to a new non-zero
    value instead."""
    if "trigger" in packages.columns:
        return packages["trigger"].fillna(0).to_numpy(dtype=np.int64)
    signal = packages["signal"].to_numpy(dtype=np.int64)
    before = np.concatenate([[0], signal[:-1]])
    return np.where((signal != 0) & (signal != before), signal, 0)


def forward_returns(close: np.ndarray, horizon: int, bars: np.ndarray | None = None) -> np.ndarray:
    """close[t + horizon] / close[t] - 1 for every bar t (for ``bars`` only, where given),
    NaN where the data ends first."""
    bars = np.arange(len(close)) if bars is None else bars
    later = bars + horizon
    inside = later < len(close)
    out = np.full(len(bars), np.nan)
    out[inside] = close[later[inside]] / close[bars[inside]] - 1.0
    return out


def _summary(values: np.ndarray) -> dict:
    values = values[~np.isnan(values)]
    if len(values) == 0:
        return {"count": 0, "mean": None, "median": None, "hit_rate": None}
    return {
        "count": len(values),
        "mean": float(values.mean()),
        "median": float(np.median(values)),
        "hit_rate": float(np.mean(values > 0)),
    }


def bucket_label(low: float, high: float) -> str:
    return f"{low:.1f}-{high:.1f}"


def signal_quality(packages: pd.DataFrame, horizons=HORIZONS) -> dict:
    """Triggers of one instrument's packages and the signed forward returns after them:
    by side (all, long, short) and by confidence bucket, for each horizon."""
    close = packages["close"].to_numpy(dtype=float)
    every_direction = trigger_directions(packages)
    fired = np.flatnonzero(every_direction != 0)  # only the triggers' bars are summarised
    direction = every_direction[fired]
    confidence = packages["confidence"].to_numpy(dtype=float)[fired]
    sides = (("all", direction != 0), ("long", direction > 0), ("short", direction < 0))
    buckets = []
    for low, high in pairwise(CONFIDENCE_EDGES):
        last = high == CONFIDENCE_EDGES[-1]
        inside = (confidence >= low) & ((confidence <= high) if last else (confidence < high))
        buckets.append((bucket_label(low, high), inside))
    after, by_confidence = [], []
    for h in horizons:
        signed = direction * forward_returns(close, h, fired)  # the triggers' bars only
        for side, mask in sides:
            after.append({"side": side, "horizon": h, **_summary(signed[mask])})
        for bucket, inside in buckets:
            by_confidence.append({"bucket": bucket, "horizon": h, **_summary(signed[inside])})
    return {
        "bars": len(packages),
        "triggers": len(fired),
        "long_triggers": int((direction > 0).sum()),
        "short_triggers": int((direction < 0).sum()),
        "after_triggers": after,
        "by_confidence": by_confidence,
    }

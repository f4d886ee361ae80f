"""The five checks and their scores, for a direction d (+1 long, -1 short): RULES.md 3.1.

Every function here is written on numpy arrays: the whole-series form calls them on a
whole series, the one-bar-at-a-time form on arrays of one bar, so the two cannot drift.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from twotier.tier1.params import CHECKS, CheckParams, CheckWeights

DECIMALS = 10  # RULES.md 8.28: derived quantities are compared at 10 decimal places


def decided(values):
    """Round a derived quantity before it is compared with a threshold. The one rounding
    used everywhere (numpy's), for arrays and single values alike."""
    return np.round(values, DECIMALS)


def clip01(values: np.ndarray) -> np.ndarray:
    return np.clip(values, 0.0, 1.0)


def ratio_score(numerator: np.ndarray, divisor: np.ndarray) -> np.ndarray:
    """clip(numerator / divisor), and 0 where the divisor is 0."""
    safe = np.where(divisor == 0, 1.0, divisor)
    return np.where(divisor == 0, 0.0, clip01(numerator / safe))


def volume_score(volume: np.ndarray, volume_ema: np.ndarray) -> np.ndarray:
    """clip(volume/volume_ema - 1), and 0 where volume_ema is 0."""
    safe = np.where(volume_ema == 0, 1.0, volume_ema)
    return np.where(volume_ema == 0, 0.0, clip01(volume / safe - 1.0))


def percent_b(close: np.ndarray, upper: np.ndarray, lower: np.ndarray) -> np.ndarray:
    """%B = (close - lower)/(upper - lower); 0.5 where the bands touch."""
    width = upper - lower
    safe = np.where(width == 0, 1.0, width)
    return np.where(width == 0, 0.5, (close - lower) / safe)


@dataclass(frozen=True)
class SideChecks:
    """Pass flags and scores of the five checks for one direction."""

    passed: dict[str, np.ndarray]
    scores: dict[str, np.ndarray]
    confidence: np.ndarray
    strength: np.ndarray


def side_checks(
    d: int,
    ind: Mapping[str, np.ndarray],
    close: np.ndarray,
    volume: np.ndarray,
    p: CheckParams,
    w: CheckWeights,
) -> SideChecks:
    ema12, ema26, ema50 = ind["ema_12"], ind["ema_26"], ind["ema_50"]
    atr, rsi, volume_ema = ind["atr"], ind["rsi"], ind["volume_ema"]
    macd, macd_signal, macd_hist = ind["macd"], ind["macd_signal"], ind["macd_hist"]
    pb = percent_b(close, ind["bb_upper"], ind["bb_lower"])
    bands_touch = ind["bb_upper"] == ind["bb_lower"]
    rsi_span = p.rsi_upper - p.rsi_lower
    passed = {
        "trend": (d * (ema12 - ema26) > 0) & (d * (ema26 - ema50) > 0),
        "momentum": (d * macd > 0) & (d * (macd - macd_signal) > 0),
        "rsi": (rsi > p.rsi_lower) & (rsi < p.rsi_upper),
        "volume": volume > p.volume_ratio * volume_ema,
        "bollinger": pb <= p.bollinger_pivot if d > 0 else pb >= p.bollinger_pivot,
    }
    scores = {
        "trend": ratio_score(d * (ema12 - ema50), p.trend_atr_scale * atr),
        "momentum": ratio_score(d * macd_hist, p.momentum_atr_scale * atr),
        "rsi": clip01((p.rsi_upper - rsi) / rsi_span if d > 0 else (rsi - p.rsi_lower) / rsi_span),
        "volume": volume_score(volume, volume_ema),
        "bollinger": np.where(bands_touch, 0.0, clip01(1.0 - pb if d > 0 else pb)),
    }
    weights = {name: getattr(w, name) for name in CHECKS}
    total = sum(weights.values())
    weighted = sum(weights[name] * scores[name] for name in CHECKS)
    confidence = weighted / total
    strength = np.sqrt(scores["volume"] * scores["momentum"])
    return SideChecks(passed, scores, confidence, strength)

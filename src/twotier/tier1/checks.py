"""The five checks and their scores, for a direction d (+1 long, -1 short): RULES.md 3.1.

Every rule here is written once, for numpy arrays and for plain floats alike: the
whole-series form calls it on whole series, the one-bar-at-a-time form on one bar's
floats, so the two cannot drift. The few operations whose spelling differs between the
two (``where``, ``clip01``, ``sqrt``, ``defined``) are the primitives of
``twotier.numeric``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from twotier.numeric import Values, clip01, sqrt, where
from twotier.tier1.params import CHECKS, CheckParams, CheckWeights


def ratio_score(numerator: Values, divisor: Values) -> Values:
    """clip(numerator / divisor), and 0 where the divisor is 0."""
    zero = divisor == 0
    return where(zero, 0.0, clip01(numerator / where(zero, 1.0, divisor)))


def volume_score(volume: Values, volume_ema: Values) -> Values:
    """clip(volume/volume_ema - 1), and 0 where volume_ema is 0."""
    zero = volume_ema == 0
    return where(zero, 0.0, clip01(volume / where(zero, 1.0, volume_ema) - 1.0))


def percent_b(close: Values, upper: Values, lower: Values) -> Values:
    """%B = (close - lower)/(upper - lower); 0.5 where the bands touch."""
    width = upper - lower
    touch = width == 0
    return where(touch, 0.5, (close - lower) / where(touch, 1.0, width))


@dataclass(frozen=True)
class SideChecks:
    """Pass flags and scores of the five checks for one direction."""

    passed: dict[str, Values]
    scores: dict[str, Values]
    confidence: Values
    strength: Values


def side_checks(
    d: int,
    ind: Mapping[str, Values],
    close: Values,
    volume: Values,
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
        "bollinger": where(bands_touch, 0.0, clip01(1.0 - pb if d > 0 else pb)),
    }
    # Summed one term after another, in the same order in both forms (not with sum(),
    # whose float summation is compensated from Python 3.12 on).
    total = 0.0
    weighted = 0.0
    for name in CHECKS:
        weight = getattr(w, name)
        total = total + weight
        weighted = weighted + weight * scores[name]
    confidence = weighted / total
    strength = sqrt(scores["volume"] * scores["momentum"])
    return SideChecks(passed, scores, confidence, strength)

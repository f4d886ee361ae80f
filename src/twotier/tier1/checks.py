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
from typing import NamedTuple

from twotier.numeric import Values, clip01, ratio_or, sqrt, where_any
from twotier.tier1.params import CHECKS, CheckParams, CheckWeights


def ratio_score(numerator: Values, divisor: Values) -> Values:
    """clip(numerator / divisor), and 0 where the divisor is 0."""
    return clip01(ratio_or(numerator, divisor, 0.0))


def volume_score(volume: Values, volume_ema: Values) -> Values:
    """clip(volume/volume_ema - 1), and 0 where volume_ema is 0."""
    return clip01(ratio_or(volume, volume_ema, 1.0) - 1.0)


def percent_b(close: Values, upper: Values, lower: Values) -> Values:
    """%B = (close - lower)/(upper - lower); 0.5 where the bands touch."""
    return ratio_or(close - lower, upper - lower, 0.5)


def positive(d: int, values: Values) -> Values:
    """``signed(d, values) > 0`` without the negation: -x > 0 exactly where x < 0 (NaN and
    both zeros in neither)."""
    return values > 0 if d > 0 else values < 0


def signed(d: int, values: Values) -> Values:
    """``d * values`` for d = +1 or -1, without a multiplication for the long side."""
    return values if d > 0 else -values


class BarTerms(NamedTuple):
    """What the checks of both directions read of a bar (or of every bar), made once:
    the spreads a direction's sign turns, %B, and the checks that have no direction. (A
    named tuple: the one-bar form makes one a bar, and a frozen dataclass costs more.)"""

    fast_spread: Values  # ema12 - ema26
    slow_spread: Values  # ema26 - ema50
    trend_spread: Values  # ema12 - ema50
    macd_gap: Values  # macd - macd_signal
    percent_b: Values
    bands_touch: Values
    rsi_in_band: Values
    volume_passed: Values
    volume_score: Values


def bar_terms(ind: Mapping[str, Values], close: Values, volume: Values, p: CheckParams) -> BarTerms:
    ema12, ema26, ema50 = ind["ema_12"], ind["ema_26"], ind["ema_50"]
    rsi, volume_ema = ind["rsi"], ind["volume_ema"]
    return BarTerms(
        fast_spread=ema12 - ema26,
        slow_spread=ema26 - ema50,
        trend_spread=ema12 - ema50,
        macd_gap=ind["macd"] - ind["macd_signal"],
        percent_b=percent_b(close, ind["bb_upper"], ind["bb_lower"]),
        bands_touch=ind["bb_upper"] == ind["bb_lower"],
        rsi_in_band=(rsi > p.rsi_lower) & (rsi < p.rsi_upper),
        volume_passed=volume > p.volume_ratio * volume_ema,
        volume_score=volume_score(volume, volume_ema),
    )


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
    terms: BarTerms | None = None,
) -> SideChecks:
    """The checks of direction d; ``terms``: ``bar_terms`` of the same bars, when the other
    direction's checks have made them already."""
    t = terms or bar_terms(ind, close, volume, p)
    atr, rsi, macd = ind["atr"], ind["rsi"], ind["macd"]
    pb = t.percent_b
    rsi_span = p.rsi_upper - p.rsi_lower
    passed = {
        "trend": positive(d, t.fast_spread) & positive(d, t.slow_spread),
        "momentum": positive(d, macd) & positive(d, t.macd_gap),
        "rsi": t.rsi_in_band,
        "volume": t.volume_passed,
        "bollinger": pb <= p.bollinger_pivot if d > 0 else pb >= p.bollinger_pivot,
    }
    scores = {
        "trend": ratio_score(signed(d, t.trend_spread), p.trend_atr_scale * atr),
        "momentum": ratio_score(signed(d, ind["macd_hist"]), p.momentum_atr_scale * atr),
        "rsi": clip01((p.rsi_upper - rsi) / rsi_span if d > 0 else (rsi - p.rsi_lower) / rsi_span),
        "volume": t.volume_score,
        # the bands touch on a few bars at most: where_any skips np.where's pass elsewhere
        "bollinger": where_any(t.bands_touch, 0.0, clip01(1.0 - pb if d > 0 else pb)),
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

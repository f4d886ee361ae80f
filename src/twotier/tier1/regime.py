"""Market regime, checked in this order (RULES.md 3.3): 4 chaos, 1 uptrend, 2 downtrend,
3 ranging. Until the baselines are defined the regime is 3.

Like the checks, written once for whole series (arrays) and for one bar (floats)."""

from __future__ import annotations

from collections.abc import Mapping

from twotier.numeric import Values, as_int8, defined, not_
from twotier.tier1.params import RegimeParams

UPTREND, DOWNTREND, RANGING, CHAOS = 1, 2, 3, 4
REGIME_NAMES = {UPTREND: "uptrend", DOWNTREND: "downtrend", RANGING: "ranging", CHAOS: "chaos"}

REGIME_INPUTS = ("ema_12", "ema_26", "ema_50", "atr", "atr_base", "bb_width", "bbw_base")


def regime_series(ind: Mapping[str, Values], close: Values, p: RegimeParams) -> Values:
    ema12, ema26, ema50 = ind["ema_12"], ind["ema_26"], ind["ema_50"]
    chaos = (ind["atr"] > p.chaos_atr_ratio * ind["atr_base"]) | (
        ind["bb_width"] > p.chaos_bbw_ratio * ind["bbw_base"]
    )
    up = (ema12 > ema26) & (ema26 > ema50) & (close > ema26)
    down = (ema12 < ema26) & (ema26 < ema50) & (close < ema26)
    # Chaos comes first, and up and down exclude each other: at most one of the three
    # holds on a bar, and none before the baselines are defined. The regime is RANGING
    # moved by the one that holds: small integers times flags are a few fast passes over
    # an array, where nested np.where are slow ones.
    ready = defined(ind, REGIME_INPUTS)
    chaos = chaos & ready
    calm = ready & not_(chaos)
    return (
        RANGING
        + (CHAOS - RANGING) * as_int8(chaos)
        + (UPTREND - RANGING) * as_int8(up & calm)
        + (DOWNTREND - RANGING) * as_int8(down & calm)
    )

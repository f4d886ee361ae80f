"""Market regime, checked in this order (RULES.md 3.3): 4 chaos, 1 uptrend, 2 downtrend,
3 ranging. Until the baselines are defined the regime is 3."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from twotier.tier1.params import RegimeParams

UPTREND, DOWNTREND, RANGING, CHAOS = 1, 2, 3, 4
REGIME_NAMES = {UPTREND: "uptrend", DOWNTREND: "downtrend", RANGING: "ranging", CHAOS: "chaos"}

REGIME_INPUTS = ("ema_12", "ema_26", "ema_50", "atr", "atr_base", "bb_width", "bbw_base")


def regime_series(ind: Mapping[str, np.ndarray], close: np.ndarray, p: RegimeParams) -> np.ndarray:
    ema12, ema26, ema50 = ind["ema_12"], ind["ema_26"], ind["ema_50"]
    defined = ~np.any([np.isnan(ind[name]) for name in REGIME_INPUTS], axis=0)
    chaos = (ind["atr"] > p.chaos_atr_ratio * ind["atr_base"]) | (
        ind["bb_width"] > p.chaos_bbw_ratio * ind["bbw_base"]
    )
    up = (ema12 > ema26) & (ema26 > ema50) & (close > ema26)
    down = (ema12 < ema26) & (ema26 < ema50) & (close < ema26)
    regime = np.select([chaos, up, down], [CHAOS, UPTREND, DOWNTREND], default=RANGING)
    return np.where(defined, regime, RANGING).astype(np.int8)

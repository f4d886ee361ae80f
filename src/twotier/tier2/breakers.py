"""Portfolio breakers and hard blocks (RULES.md 4.4). Written on numpy values so the
engine can scan a stretch of steps for the next one where a breaker fires."""

from __future__ import annotations

import numpy as np

from twotier.tier1.checks import decided


def drawdown(pv, peak):
    """(peak - PV) / peak."""
    return decided((np.asarray(peak, dtype=np.float64) - pv) / peak)


def daily_loss(pv, day_start):
    """(day-start PV - PV) / day-start PV."""
    return decided((np.asarray(day_start, dtype=np.float64) - pv) / day_start)

"""Portfolio breakers and hard blocks (RULES.md 4.4). Written on numpy values so the
engine can scan a stretch of steps for the next one where a breaker fires."""

from __future__ import annotations

from twotier.numeric import decided


def drawdown(pv, peak):
    """(peak - PV) / peak, from money units (ints or int arrays; exact below 2**53)."""
    return decided((peak - pv) / peak)


def daily_loss(pv, day_start):
    """(day-start PV - PV) / day-start PV."""
    return decided((day_start - pv) / day_start)

"""Portfolio breakers (RULES.md 4.4): when they fire, for one step (plain numbers) or a
stretch of steps (arrays), so that the step and the engine's scan for the next step where
one fires are the same rule."""

from __future__ import annotations

import numpy as np

from twotier.config.model import BreakerParams
from twotier.numeric import decided, not_, only_if
from twotier.tier2.days import day64


def drawdown(pv, peak):
    """(peak - PV) / peak, from money units (ints or int arrays; exact below 2**53)."""
    return decided((peak - pv) / peak)


def daily_loss(pv, day_start):
    """(day-start PV - PV) / day-start PV."""
    return decided((day_start - pv) / day_start)


def drawdown_fires(pv, peak, fired_today, rules: BreakerParams):
    """The drawdown breaker fires above its limit, at most once a trading day."""
    on = rules.drawdown_breaker & not_(fired_today)
    return only_if(drawdown(pv, peak) > rules.max_drawdown, on)


def daily_loss_fires(pv, day_start, fired_today, rules: BreakerParams):
    """The daily-loss breaker fires above its limit, at most once a trading day."""
    on = rules.daily_loss_breaker & not_(fired_today)
    return only_if(daily_loss(pv, day_start) > rules.max_daily_loss, on)


def fired_on(days, fired_day):
    """Whether each step's trading day is the day a breaker fired (``fired_day`` None:
    never, for every step at once). ``days``: one day, or the trading days of steps in
    order, where a day outside their span is none of them, for every step at once too."""
    if fired_day is None:
        return False
    if isinstance(days, np.ndarray):
        # the span's ends as dates (numpy's scalar comparisons cost ten times more)
        if not len(days) or not days.item(0) <= fired_day <= days.item(-1):
            return False
        return days == day64(fired_day)
    return days == fired_day

"""Portfolio breakers (RULES.md 4.4): when they fire, for one step (plain numbers) or a
stretch of steps (arrays), so that the step and the engine's scan for the next step where
one fires are the same rule."""

from __future__ import annotations

from twotier.config.model import BreakerParams
from twotier.numeric import ARRAY, above, decided, extremes, far_below, not_, only_if, smallest
from twotier.tier2.days import day64


def drawdown(pv, peak):
    """(peak - PV) / peak, from money units (ints or int arrays; exact below 2**53)."""
    return decided(_fall(pv, peak))


def daily_loss(pv, day_start):
    """(day-start PV - PV) / day-start PV."""
    return decided(_fall(pv, day_start))


def _fall(pv, base):
    """The share of ``base`` that PV is below it, before it is decided."""
    return (base - pv) / base


def _fall_above(pv, base, limit: float):
    """``decided(_fall(pv, base)) > limit``; arrays where no step comes near the limit
    answer a plain False. A stretch's falls are first bounded from the extremes of PV and
    the base, at a fraction of the cost of each step's quotient: with PV >= 0 and the base
    > 0, no step's fall exceeds (largest base - smallest PV) / largest base."""
    if isinstance(pv, ARRAY) and isinstance(base, ARRAY) and len(pv):
        low_pv, (low_base, high_base) = smallest(pv), extremes(base)
        if low_pv >= 0 and low_base > 0 and far_below((high_base - low_pv) / high_base, limit):
            return False
    return above(_fall(pv, base), limit)  # decided there, as drawdown() and daily_loss()


def drawdown_fires(pv, peak, fired_today, rules: BreakerParams):
    """The drawdown breaker fires above its limit, at most once a trading day (arrays: a
    plain False where no step is near the limit)."""
    over = _fall_above(pv, peak, rules.max_drawdown)
    if over is False:
        return False
    return only_if(over, rules.drawdown_breaker & not_(fired_today))


def daily_loss_fires(pv, day_start, fired_today, rules: BreakerParams):
    """The daily-loss breaker fires above its limit, at most once a trading day (arrays:
    a plain False where no step is near the limit)."""
    over = _fall_above(pv, day_start, rules.max_daily_loss)
    if over is False:
        return False
    return only_if(over, rules.daily_loss_breaker & not_(fired_today))


def fired_on(days, fired_day):
    """Whether each step's trading day is the day a breaker fired (``fired_day`` None:
    never, for every step at once). ``days``: one day, or the trading days of steps in
    order, where a day outside their span is none of them, for every step at once too."""
    if fired_day is None:
        return False
    if isinstance(days, ARRAY):
        # the span's ends as dates (numpy's scalar comparisons cost ten times more)
        if not len(days) or not days.item(0) <= fired_day <= days.item(-1):
            return False
        return days == day64(fired_day)
    return days == fired_day

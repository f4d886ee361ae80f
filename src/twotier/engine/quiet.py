"""Quiet stretches: steps where Tier-2 can only mark to market and record.

Over such a stretch no order fills, no breaker fires, no exit rule fires and no flat
basket has a tradable signal, so positions are fixed and everything a step would do is a
function of closes: PV, the day-start PV and peak (with their trading-day rules), the
trailing stop's best close and arming, and the records. ``QuietStretch`` computes those
for a whole stretch with numpy; ``apply`` leaves the state exactly as stepping through the
stretch one step at a time would.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from twotier.engine.tape import Tape
from twotier.tier2.breakers import daily_loss, drawdown
from twotier.tier2.composite import Composite, marked_equities, record_block
from twotier.tier2.exits import trail
from twotier.tier2.state import PortfolioState
from twotier.tier2.view import reserve_target


@dataclass
class QuietStretch:
    a: int  # first step
    b: int  # one past the last step
    closes: list[np.ndarray]  # each basket's latest close at each step, price units
    pv: np.ndarray
    day_start: np.ndarray
    peak: np.ndarray
    equities: list  # each basket's equity at each step (one value while it is flat)
    new_day: np.ndarray  # a step that begins a trading day
    reset_pending: bool  # the state's peak reset was pending at the stretch's start

    @property
    def reset_done(self) -> bool:
        """A pending peak reset happened inside the stretch."""
        return self.reset_pending and bool(self.new_day.any())

    @classmethod
    def compute(cls, state: PortfolioState, tape: Tape, a: int, b: int) -> QuietStretch:
        closes = list(tape.close_at[:, a:b])
        equities, pv = marked_equities(state, closes)
        if not isinstance(pv, np.ndarray):  # every basket flat: PV does not move
            pv = np.full(b - a, pv)
        new_day = tape.day_begins[a:b].copy()
        new_day[0] = state.trading_day != tape.days[a]
        if new_day.any():
            pv_before = np.concatenate([[state.last_pv], pv[:-1]])
            since = np.maximum.accumulate(np.where(new_day, np.arange(b - a), -1))
            day_start = np.where(since >= 0, pv_before[np.maximum(since, 0)], state.day_start)
        else:
            day_start = np.full(b - a, state.day_start)
        if state.peak_reset_pending and new_day.any():
            r = int(np.argmax(new_day))
            peak = np.empty(b - a, dtype=np.int64)
            peak[:r] = np.maximum.accumulate(np.maximum(pv[:r], state.peak))
            peak[r:] = np.maximum.accumulate(np.maximum(pv[r:], day_start[r]))
        else:
            peak = np.maximum.accumulate(np.maximum(pv, state.peak))
        return cls(
            a, b, closes, pv, day_start, peak, equities, new_day, state.peak_reset_pending,
        )  # fmt: skip

    def first_breaker(self, state: PortfolioState, tape: Tape, composite: Composite) -> int | None:
        """The first step of the stretch where a portfolio breaker would fire."""
        rules = composite.config.breakers
        fires = np.zeros(self.b - self.a, dtype=bool)
        if rules.drawdown_breaker:
            fires |= _not_fired_on(
                drawdown(self.pv, self.peak) > rules.max_drawdown, state.drawdown_fired_day,
                tape, self.a,
            )  # fmt: skip
        if rules.daily_loss_breaker:
            fires |= _not_fired_on(
                daily_loss(self.pv, self.day_start) > rules.max_daily_loss,
                state.daily_loss_fired_day, tape, self.a,
            )  # fmt: skip
        return self.a + int(np.argmax(fires)) if fires.any() else None

    def cut(self, b: int) -> QuietStretch:
        """The stretch up to (not including) step ``b``."""
        n = b - self.a
        return QuietStretch(
            self.a,
            b,
            [c[:n] for c in self.closes],
            self.pv[:n],
            self.day_start[:n],
            self.peak[:n],
            [_head(e, n) for e in self.equities],
            self.new_day[:n],
            self.reset_pending,
        )

    def apply(self, state: PortfolioState, tape: Tape, composite: Composite) -> None:
        """Move the state to the end of the stretch and record its steps."""
        a, b = self.a, self.b
        if b <= a:
            return
        for i, basket in enumerate(state.baskets):
            last_bar = int(tape.latest[i, b - 1])
            if last_bar < 0 or (basket.last is not None and basket.last.bar == last_bar):
                continue
            first_bar = basket.last.bar + 1 if basket.last is not None else 0
            p = basket.position
            if p is not None:
                closes = tape.baskets[i].close[first_bar : last_bar + 1]
                _, best, armed = trail(p, closes, composite.exits[i])
                p.best_close, p.armed = best[-1].item(), bool(armed[-1])
            basket.last = tape.baskets[i].package(last_bar)
        target = reserve_targets(tape, composite)[a:b]
        composite.recorder.append(
            *record_block(
                state,
                times=tape.time_ns[a:b],
                days=tape.trading_day[a:b],
                closes=self.closes,
                peak=self.peak,
                day_start=self.day_start,
                reserve_target=target,
                marked=(self.equities, self.pv),
            )
        )
        state.trading_day = tape.days[b - 1]
        state.day_number += int(np.count_nonzero(self.new_day))
        state.day_start = int(self.day_start[-1])
        state.peak = int(self.peak[-1])
        state.last_pv = int(self.pv[-1])
        if self.reset_done:
            state.peak_reset_pending = False


def reserve_targets(tape: Tape, composite: Composite) -> np.ndarray:
    """The cash-reserve target of every step (it depends on packages alone), computed
    once per run."""
    cached = tape.__dict__.get("_reserve_targets")
    if cached is None or cached[0] is not composite:
        targets = reserve_target(tape.chaos, tape.average_conviction, composite.config.limits,
                                 composite.fixed_reserve)  # fmt: skip
        cached = tape.__dict__["_reserve_targets"] = (composite, targets)
    return cached[1]


def _head(values, n: int):
    return values[:n] if isinstance(values, np.ndarray) else values


def _not_fired_on(over: np.ndarray, fired_day, tape: Tape, a: int) -> np.ndarray:
    """``over`` where the breaker has not already fired on the step's trading day (it
    fires at most once a day)."""
    if fired_day is None or not over.any():
        return over
    return over & (tape.trading_day[a : a + len(over)] != np.datetime64(fired_day, "D"))

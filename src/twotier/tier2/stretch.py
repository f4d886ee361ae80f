"""Quiet stretches: consecutive steps at which Tier-2 can only mark to market and record.

Over such a stretch no order waits, no exit rule fires and no flat basket has a signal it
may trade (the backtest engine finds them), so positions do not change and everything a
step does is a function of the closes: PV, the day-start PV and peak, the breakers'
tests, the trailing stop's best close and arming, and the records. ``advance`` does all of
it for the whole stretch with numpy, through the same rule functions the step calls, and
leaves the state exactly as stepping through the stretch would, but for the latest
package of a basket that the next step replaces before anything reads it
(``Stretch.marked_by``). It stops early at the first step where a breaker fires: that step
needs the full step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import numpy as np

from twotier.tier2.book import marked_equities, steps_in_range
from twotier.tier2.breakers import daily_loss_fires, drawdown_fires, fired_on
from twotier.tier2.days import day_marks
from twotier.tier2.exits import trail
from twotier.tier2.margin import book_margins, liquidation_fires
from twotier.tier2.records import record_columns, record_row
from twotier.tier2.state import Package, PortfolioState, Position

if TYPE_CHECKING:
    from twotier.tier2.composite import Composite


class BarSource(Protocol):
    """Each basket's bars, by the index of the bar in the basket's own series."""

    def bar_closes(self, basket: int, first: int, last: int) -> np.ndarray:
        """Closes (price units) of bars ``first`` to ``last``, both included."""
        ...

    def package(self, basket: int, bar: int) -> Package: ...

    def known_trail(self, basket: int, p: Position, bar: int) -> tuple[float, bool] | None:
        """The position's best close and trailing-stop arming after ``bar`` where the
        source has them already (an exit scan's), else None."""
        ...


@dataclass
class Stretch:
    """The steps of a stretch, what Tier-2 needs of each."""

    time_ns: np.ndarray
    trading_day: np.ndarray  # datetime64[D] (``item`` gives a step's as a date)
    day_begins: np.ndarray  # the step's trading day differs from the step before's
    closes: list[np.ndarray]  # each basket's latest close at each step (0 before its first)
    latest: np.ndarray  # (baskets, steps): each basket's latest bar, -1 before its first
    reserve_target: np.ndarray  # from packages alone
    # The baskets whose latest package the step after the stretch replaces before anything
    # reads it (``marked_by``), where the engine knows that step is decided without fills.
    marked_after: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.time_ns)

    def head(self, n: int) -> Stretch:
        """The stretch's first ``n`` steps."""
        return Stretch(
            self.time_ns[:n],
            self.trading_day[:n],
            self.day_begins[:n],
            [c[:n] for c in self.closes],
            self.latest[:, :n],
            self.reserve_target[:n],
            self.marked_by(n),
        )

    def marked_by(self, j: int) -> list[int]:
        """The baskets whose latest package step ``j`` replaces before anything reads it
        (``len``: the step after the stretch, as the engine found them). A step of the
        stretch where advancing stops (a breaker fires, the money range would be passed)
        is decided without fills, as no order waits for a bar of a quiet stretch nor is
        a held position rolled there; a decided step first marks the package of each
        basket with a bar at it."""
        if j == len(self):
            return self.marked_after
        return np.flatnonzero(self.latest[:, j] != self.latest[:, j - 1]).tolist()


def advance(composite: Composite, state: PortfolioState, stretch: Stretch, bars: BarSource):
    """Move the state through the stretch and record its steps, up to (not including) the
    first step where a breaker or forced liquidation fires. Returns the number of steps
    advanced."""
    n = steps_in_range(state, stretch.closes)
    if n == 0:  # the first step's marks pass the range: the full step says so
        return 0
    if n < len(stretch):  # a later step's would: stop before it, as a breaker does
        stretch = stretch.head(n)
    equities, pv = marked_equities(state, stretch.closes, check=False)
    held = isinstance(pv, np.ndarray)  # else every basket is flat: PV does not move
    # The tape's first flag is against its step before; the state's day decides (a copy
    # only where the two differ: nothing writes to the flags after this)
    first_day, new_day = stretch.trading_day.item(0), stretch.day_begins
    begins = state.trading_day != first_day
    if new_day.item(0) != begins:
        new_day = new_day.copy()
        new_day[0] = begins
    starts, peaks = day_marks(
        pv, new_day, state.last_pv, state.day_start, state.peak, state.peak_reset_pending
    )
    if not held:  # one PV at every step (filling costs less than np.full's wrapper)
        flat_pv, pv = pv, np.empty(n, dtype=np.int64)
        pv.fill(flat_pv)
    margin = None
    if held:
        fires = breaker_fires(composite, state, pv, peaks, starts, stretch.trading_day)
        if composite.margins_on:
            margin, unclosed = stretch_margins(composite, state, stretch)
            fires |= liquidation_fires(unclosed, pv, composite.force_close_level)
        done = _first_set(fires, n)
    else:  # flat: only the first step can fire (see first_step_fires)
        done = 0 if first_step_fires(composite, state, first_day, flat_pv, peaks, starts) else n
        if composite.margins_on:
            margin = 0.0
    if done:
        marks = (equities, pv, starts, peaks, new_day, margin)
        _move(composite, state, stretch, bars, done, marks)
    return done


def _first_set(fires, n: int) -> int:
    """The first step where ``fires`` (an array, or one plain flag for every step) is
    set, else ``n``."""
    if not isinstance(fires, np.ndarray):
        return 0 if fires else n
    first = int(fires.argmax())  # (argmax and a look cost less than any)
    return first if fires[first] else n


def stretch_margins(composite: Composite, state: PortfolioState, stretch: Stretch):
    """The book's margin at each step: of all held contracts (recorded) and of those whose
    close is not decided (forced liquidation's test)."""
    add = composite.margin_add
    held, unclosed, _, _ = book_margins(
        state, stretch.trading_day, stretch.closes, composite.settlements, add
    )
    return held, unclosed


def breaker_fires(composite: Composite, state: PortfolioState, pv, peaks, starts, days):
    """Where either breaker would fire (RULES.md 4.4), at most once a trading day: an
    array over the steps, or a plain False where neither can fire at any."""
    rules = composite.breaker_rules
    return drawdown_fires(pv, peaks, fired_on(days, state.drawdown_fired_day), rules) | (
        daily_loss_fires(pv, starts, fired_on(days, state.daily_loss_fired_day), rules)
    )


def first_step_fires(composite, state, day, pv: int, peaks, starts) -> bool:
    """Whether a breaker fires at a flat stretch's first step (``day``, its trading day;
    ``pv``, the PV of every step). Flat, PV does not move, so no later step can fire: a
    new trading day starts the daily loss (and a pending peak reset) from that same PV,
    and a drawdown over the limit has fired already (its reset is then pending)."""
    return bool(breaker_fires(composite, state, pv, peaks.item(0), starts.item(0), day))


def _move(composite, state, stretch, bars, n, marks) -> None:
    """The state after the first ``n`` steps of the stretch, and their records. A basket
    whose latest package the next step replaces before reading it keeps the one it has
    until then: making a package costs about 12,000 instructions, and ten years would
    make 2,200 that no one reads."""
    equities, pv, starts, peaks, new_day, margin = marks
    last_bars = stretch.latest[:, n - 1].tolist()
    replaced = stretch.marked_by(n)
    for i, (basket, last_bar) in enumerate(zip(state.baskets, last_bars, strict=True)):
        if last_bar < 0 or (basket.last is not None and basket.last.bar == last_bar):
            continue
        first_bar = basket.last.bar + 1 if basket.last is not None else 0
        p = basket.position
        if p is not None:
            known = bars.known_trail(i, p, last_bar)
            if known is None:
                closes = bars.bar_closes(i, first_bar, last_bar)
                _, best, armed = trail(p, closes, composite.exits[i])
                known = best[-1].item(), bool(armed[-1])
            p.best_close, p.armed = known
        if i not in replaced:
            basket.last = bars.package(i, last_bar)
    whole = n == len(stretch)
    record = record_row(
        state,
        stretch.time_ns if whole else stretch.time_ns[:n],
        stretch.trading_day if whole else stretch.trading_day[:n],
        stretch.closes if whole else [c[:n] for c in stretch.closes],
        peaks if whole else peaks[:n],
        starts if whole else starts[:n],
        stretch.reserve_target if whole else stretch.reserve_target[:n],
        (equities, pv) if whole else ([_head(e, n) for e in equities], pv[:n]),
        margin if whole or margin is None else _head(margin, n),
    )
    names = record_columns(len(state.baskets), margin is not None)
    composite.recorder.append_block(names, n, record)
    state.trading_day = stretch.trading_day.item(n - 1)
    days_begun = new_day[:n].tobytes().count(1)  # a bool's byte is 0 or 1 (no numpy call)
    state.day_number += days_begun
    state.day_start = starts.item(n - 1)
    state.peak = peaks.item(n - 1)
    state.last_pv = pv.item(n - 1)
    if days_begun:
        state.peak_reset_pending = False


def _head(values, n: int):
    return values[:n] if isinstance(values, np.ndarray) else values

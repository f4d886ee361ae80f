"""The event-driven backtest loop: Tier-2's step only where something can happen.

Something can happen at a step when an order waits for a basket's bar, when an exit rule
fires for a position, when a flat basket has a signal it may trade (or log a block for),
or when a portfolio breaker fires. Everything between such steps is a quiet stretch,
which Tier-2 advances in one go (``Composite.advance``). This module only schedules: it
finds the next such step with Tier-2's own rules (the exit tree, the entry gate) and
never changes Tier-2's state itself. The outputs are identical to stepping every bar
(tests/test_engine_equivalence.py holds the two to byte equality).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, replace

import numpy as np

from twotier.collector import collector_paused
from twotier.engine.tape import Tape
from twotier.numeric import decided
from twotier.tier2.composite import Composite
from twotier.tier2.exits import (
    exit_marks,
    first_exit,
    loss_floor,
    scan_key,
    scan_rules,
    side_exit_bars,
)
from twotier.tier2.fills import may_fill
from twotier.tier2.sizing import entry_gate
from twotier.tier2.state import BasketState, PortfolioState, Position

FIRST_SCAN = 64  # bars of a position scanned at first; doubled until an exit is found


@dataclass
class _ExitScan:
    key: tuple  # the position it was computed for
    stop: int  # the bar it scanned up to (not included): a roll, or the data end
    bar: int | None  # bar of the exit, or None (no exit before ``stop``)
    marks: list[tuple[int, np.ndarray, np.ndarray]]  # (first bar, best close, armed) a chunk

    def trail_at(self, bar: int) -> tuple[float, bool] | None:
        """The best close and arming after ``bar``, where the scan marked it."""
        for first, best, armed in self.marks:
            if first <= bar < first + len(best):
                return best[bar - first].item(), bool(armed[bar - first])
        return None


class ScannedBars:
    """The tape as quiet stretches read it, with the trailing stop's marks the exit scans
    made: a stretch that ends on a bar a scan of the same position marked takes them
    instead of computing them again (the same running maximum over the same closes)."""

    def __init__(self, tape: Tape, scans: dict[int, _ExitScan]):
        self.tape, self.scans = tape, scans

    def bar_closes(self, basket: int, first: int, last: int) -> np.ndarray:
        return self.tape.bar_closes(basket, first, last)

    def package(self, basket: int, bar: int):
        return self.tape.package(basket, bar)

    def known_trail(self, basket: int, p: Position, bar: int) -> tuple[float, bool] | None:
        scan = self.scans.get(basket)
        if scan is None or scan.key != scan_key(p):
            return None
        return scan.trail_at(bar)


class EventPlanner:
    """Finds the next step where something can happen."""

    def __init__(self, composite: Composite, tape: Tape):
        self.composite = composite
        self.tape = tape
        self.candidates = [self._entry_candidates(i) for i in range(len(tape.baskets))]
        # Read one at a time: a memoryview gives each as a Python int, as a list does,
        # without converting every bar's step up front.
        self.steps = [memoryview(b.step) for b in tape.baskets]
        self.rolls = [sorted(b.rolls) for b in tape.baskets]
        self.latest = [memoryview(row) for row in tape.latest]  # as ``steps``
        # What the exit tree reads of each bar regardless of the position, made once.
        self.confidence = [decided(b.confidence) for b in tape.baskets]
        self.chaos = [tape.chaos[b.step] for b in tape.baskets]
        # Each basket's bars where a side-only exit fires, by side (found when first
        # needed), the rules a scan checks bar by bar before the next of them, and the
        # floor rules' loss floor those read.
        self.side_exits: dict[tuple[int, int], np.ndarray] = {}
        self.scan_rules = [scan_rules(rules) for rules in composite.exit_rules]
        self.floors = [
            loss_floor(conf, b.conviction, chaos, x, rules)
            for b, conf, chaos, x, rules in zip(
                tape.baskets,
                self.confidence,
                self.chaos,
                composite.exits,
                composite.exit_rules,
                strict=True,
            )
        ]
        self.scans: dict[int, _ExitScan] = {}
        # (basket, contract) -> the basket's first bar on the contract's deadline, found
        # once (a contract's deadline does not change).
        self.deadline_bars: dict[tuple[int, str | None], int | None] = {}
        # Each basket's (state, next event) as last found; none found yet.
        self.known: list[tuple[tuple | None, int]] = [(None, -1)] * len(tape.baskets)

    def _entry_candidates(self, i: int) -> tuple[list, list]:
        """Bars where the basket, if flat, would try an entry (Tier-2's entry gate; the
        episode rule is applied when searching)."""
        b, s = self.tape.baskets[i], self.composite.sizing[i]
        ok = entry_gate(b.signal, b.confidence, b.strength, b.conviction, s)
        bars = np.flatnonzero(ok)
        return bars.tolist(), b.episode[bars].tolist()

    def next_event(self, state: PortfolioState, k: int, last: int) -> int:
        """The first step after ``k`` where something can happen (``last + 1``: none up
        to ``last``). A basket's next event stays where it was found while the basket's
        state is unchanged and the event is still ahead (``known``)."""
        horizon = last + 1
        known = self.known
        for i, basket in enumerate(state.baskets):
            p = basket.position
            key = (
                None if p is None else scan_key(p),
                basket.entry_order is None,
                len(basket.close_orders),
                basket.pending_roll is None,
                basket.traded_episode,
            )
            known_key, step = known[i]
            if step <= k or known_key != key:
                step = self._basket_event(basket, i, k)
                known[i] = (key, step)
            if step < horizon:
                horizon = step
        return horizon

    def _basket_event(self, basket: BasketState, i: int, k: int) -> int:
        steps = self.steps[i]
        next_bar = self.latest[i][k] + 1 if k >= 0 else 0
        if next_bar >= len(steps):
            return len(self.tape)
        if basket.close_orders or basket.entry_order is not None or basket.pending_roll:
            return steps[next_bar]
        p = basket.position
        if p is not None:
            # The next roll or delivery deadline, whichever comes first, ends the scan.
            until = self._next_roll(i, next_bar)
            deadline = self._deadline_bar(i, p, next_bar)
            if deadline is not None and (until is None or deadline < until):
                until = deadline
            bar = self._exit_bar(basket, i, p, next_bar, until)
            bar = until if bar is None else bar
            return steps[bar] if bar is not None else len(self.tape)
        bars, episodes = self.candidates[i]
        at = bisect_left(bars, next_bar)
        if basket.traded_episode >= 0:
            at = max(at, bisect_right(episodes, basket.traded_episode))
        return steps[bars[at]] if at < len(bars) else len(self.tape)

    def _next_roll(self, i: int, start: int) -> int | None:
        """The first roll bar at or after ``start``: a position must be rolled there, and
        its exit rules see a new basis from then on."""
        rolls = self.rolls[i]
        at = bisect_left(rolls, start)
        return rolls[at] if at < len(rolls) else None

    def _deadline_bar(self, i: int, p: Position, start: int) -> int | None:
        """The basket's first bar at or after ``start`` on or after the delivery deadline of
        the contract the position holds: it is closed there (RULES.md 11)."""
        first = self.deadline_bars.get((i, p.contract), -1)
        if first == -1:
            first = self.deadline_bars[i, p.contract] = self._first_deadline_bar(i, p.contract)
        if first is None:
            return None
        bar = max(start, first)
        return bar if bar < len(self.steps[i]) else None

    def _first_deadline_bar(self, i: int, contract: str | None) -> int | None:
        """The basket's first bar on or after the contract's delivery deadline (its bar
        count if none), or None: no deadline."""
        deadline = self.composite.deadlines.of(contract)
        if deadline is None:
            return None
        days = self.tape.baskets[i].trading_day
        return int(np.searchsorted(days, np.datetime64(deadline, "D")))

    def _exit_bar(
        self, basket: BasketState, i: int, p: Position, start: int, until: int | None
    ) -> int | None:
        """The first bar from ``start`` (before ``until``) where an exit rule fires."""
        key = scan_key(p)
        scan = self.scans.get(i)
        bt, x = self.tape.baskets[i], self.composite.exits[i]
        stop = len(bt.step) if until is None else until
        same = scan is not None and scan.key == key and scan.stop == stop
        if same and (scan.bar is None or scan.bar >= start):
            return scan.bar
        # The first bar where a side-only rule fires is an exit: the other rules are
        # checked before it alone.
        side_bars = self._side_exits(i, p.side)
        at = side_bars.searchsorted(start)
        side_bar = side_bars[at].item() if at < len(side_bars) else stop
        scan_end = min(side_bar, stop)
        probe, size, bar, kept = p, FIRST_SCAN, side_bar if side_bar < stop else None, []
        floor = self.floors[i]
        while start < scan_end:
            end = min(start + size, scan_end)
            marks = exit_marks(
                probe,
                bt.close[start:end],
                bt.signal[start:end],
                self.confidence[i][start:end],
                bt.conviction[start:end],
                self.chaos[i][start:end],
                x,
                None if floor is None else floor[start:end],
            )
            kept.append((start, marks.best, marks.armed))
            hit = first_exit(probe, marks, x, self.scan_rules[i])
            if hit is not None:
                bar = start + hit[0]
                break
            if end == scan_end:  # no later chunk to carry the trailing state into
                break
            probe = replace(probe, best_close=marks.best[-1].item(), armed=bool(marks.armed[-1]))
            start, size = end, size * 2
        self.scans[i] = _ExitScan(key, stop, bar, kept)
        return bar

    def _side_exits(self, i: int, side: int) -> np.ndarray:
        bars = self.side_exits.get((i, side))
        if bars is None:
            bt = self.tape.baskets[i]
            bars = self.side_exits[i, side] = side_exit_bars(
                side,
                bt.signal,
                self.confidence[i],
                bt.conviction,
                self.chaos[i],
                self.composite.exits[i],
                self.composite.exit_rules[i],
            )
        return bars


def run_events(
    composite: Composite, state: PortfolioState, tape: Tape, first: int, last: int, progress=None
):
    """Steps ``first`` to ``last``; ``progress("tier2", done, total)`` about every 1%.
    The collector is paused: a run makes many objects (packages, the journal, the
    records) but no cycles that need collecting before it ends, and its passes cost 3-7%
    of a ten-year run inside the loop (and about 4% more around it, see ``run_tier2``)."""
    with collector_paused():
        _run_events(composite, state, tape, first, last, progress)


def _run_events(
    composite: Composite, state: PortfolioState, tape: Tape, first: int, last: int, progress
):
    planner = EventPlanner(composite, tape)
    bars = ScannedBars(tape, planner.scans)
    total = last - first + 1
    every, reported = max(1, total // 100), first - 1
    k, found = first - 1, None  # found: the next event after k, where already known
    while k < last:
        event = planner.next_event(state, k, last) if found is None else found
        found = None
        # The baskets that may fill at the event and those with a bar there: the stretch
        # before it reads them too, and advancing it changes neither.
        may, present = _at_step(tape, state, event) if event <= last else ([], [])
        if event > k + 1:
            # Quiet up to the event, unless a breaker fires before it: then that step
            # needs the full step. A decided event replaces its baskets' packages first.
            marked = [] if may else present
            advanced = composite.advance(state, tape.stretch(k + 1, event, marked), bars)
            if k + 1 + advanced < event:
                event = k + 1 + advanced
                may, _ = _at_step(tape, state, event)
        if event <= last:
            # The fills read the packages of the baskets that may fill alone: ``fill``
            # leaves every other basket as it is, so a step whose only business is
            # filling makes no package of the others (a decided step makes them all).
            waiting = tape.step_input(event, may) if may else None
            if waiting is not None and composite.fills_due(state, waiting):
                composite.fill(state, waiting)
                after_fills = planner.next_event(state, event - 1, last)
                if after_fills != event:
                    # Filling its orders was all: the step opens the next quiet stretch,
                    # which ends at the event just found (nothing changes in between).
                    k, found = event - 1, after_fills
                    continue
            composite.decide(state, tape.step_input(event))
        k = event
        if progress is not None and (k - reported >= every or k >= last):
            progress("tier2", min(k, last) - first + 1, total)
            reported = k


def _at_step(tape: Tape, state: PortfolioState, k: int) -> tuple[list[int], list[int]]:
    """The baskets that may fill at step ``k`` (``fills.may_fill``), and those with a bar
    there."""
    may, present = [], []
    for i, bars in enumerate(tape.basket_bars):
        bar = bars[k]
        if bar >= 0:
            present.append(i)
            if may_fill(state.baskets[i], tape.baskets[i].rolls.get(bar)):
                may.append(i)
    return may, present

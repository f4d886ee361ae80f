"""The composite: Tier-2's step (RULES.md 4.1), the one function that a backtest loop and
a live loop both call.

    step = fill (orders waiting for this bar: fills.py)
         + decide (mark to market, portfolio view, forced liquidation, breakers, delivery
           deadlines, exits, entries (entries.py), record)

The backtest engine may call the halves apart (a step whose only business is filling
orders), and ``advance`` moves the state through a stretch of steps where nothing but
marking can happen (``stretch.py``). Every rule is a function of its own module, written
for one step and for arrays of steps alike; the book (``book.py``) does the accounting.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from twotier.broker.base import Broker, Order
from twotier.config.model import Config
from twotier.config.values import values_of
from twotier.market.instruments import InstrumentSpec
from twotier.market.settlement import SettlementHistory
from twotier.money import format_cny, money_units
from twotier.numeric import decided
from twotier.tier2 import entries, fills
from twotier.tier2.book import (
    Book,
    check_range,
    latest_closes,
    marked_equities,
    marked_step,
    open_trade,
)
from twotier.tier2.breakers import (
    daily_loss,
    daily_loss_fires,
    drawdown,
    drawdown_fires,
    fired_on,
)
from twotier.tier2.days import day64, day_marks
from twotier.tier2.deadlines import Deadlines
from twotier.tier2.exits import enabled_rules, exit_marks, first_exit
from twotier.tier2.journal import Journal
from twotier.tier2.margin import book_margins, liquidation_fires, liquidation_order, risk_degree
from twotier.tier2.records import EquityRecorder, record_columns, record_row
from twotier.tier2.sizing import (
    package_conviction,
)
from twotier.tier2.state import (
    BasketState,
    Package,
    PendingClose,
    PortfolioState,
    StepInput,
)
from twotier.tier2.stretch import BarSource, Stretch, advance
from twotier.tier2.view import (
    PortfolioView,
    average_conviction,
    chaos_count,
    latest_regimes,
    latest_signals,
    reserve_target,
)


@dataclass(slots=True)
class Marks:
    """The book marked at a step's latest closes: what its decisions read, and what its
    record takes again where no fill has changed the book since (``Book.booked``)."""

    closes: list
    equities: list
    pv: int
    largest: int  # ``largest_value``: refused past the money range where recorded
    margins: tuple | None  # ``Composite.margins``, where forced liquidation is on
    booked: int
    closes_decided: int  # ``Composite.closes_decided`` when marked

    def hold(self, c: Composite) -> bool:
        """Whether the book's margins are still these: no fill and no close decided
        since (a close decided changes the margin of what is left unclosed)."""
        return self.booked == c.book.booked and self.closes_decided == c.closes_decided


class Composite:
    """Tier-2 for one configuration: holds the rules, the broker and the outputs."""

    def __init__(
        self,
        config: Config,
        specs: list[InstrumentSpec],
        broker: Broker,
        settlements: list[SettlementHistory] | None = None,
        deadlines: Deadlines | None = None,
    ):
        self.config = config
        self.specs = specs
        self.broker = broker
        # Each basket's settlements as they become known, for margin (RULES.md 10.4).
        self.settlements = settlements or [SettlementHistory() for _ in specs]
        self.margins_on = config.market.forced_liquidation
        # Each contract's delivery deadline (RULES.md 11); off without a calendar.
        self.deadlines = deadlines or Deadlines(None, config.contracts)
        self._rates_day, self._rates = None, []
        # The settings a step reads, as plain values (``config.values``).
        self.sizing = [values_of(config.basket_sizing(i)) for i in range(len(specs))]
        self.exits = [values_of(config.basket_exits(i)) for i in range(len(specs))]
        self.breaker_rules = values_of(config.breakers)
        self.limits = values_of(config.limits)
        self.margin_add = config.broker.margin_add
        self.force_close_level = config.market.force_close_level
        self.exit_rules = [enabled_rules(x) for x in self.exits]
        self.fill_at = "open" if config.execution.fill == "next_open" else "close"
        self.journal = Journal()
        self.recorder = EquityRecorder(len(specs))
        self.waiting_at_end: list[tuple] = []  # closes and rolls still waiting (``finish``)
        self.closes_decided = 0  # ``close`` calls so far: ``Marks.hold``
        fixed = config.sizing.leverage_mode == "fixed"
        self.fixed_reserve = float(config.portfolio.reserve_fraction()) if fixed else None

    @property
    def journal(self) -> Journal:
        return self.book.journal

    @journal.setter
    def journal(self, journal: Journal) -> None:
        self.book = Book(journal, self.fill_at, count_waits=self.config.market.any)

    # -- state ---------------------------------------------------------------------------

    def new_state(self) -> PortfolioState:
        p = self.config.portfolio
        initial = money_units(p.initial_capital)
        baskets = []
        for i, spec in enumerate(self.specs):
            capital = money_units(p.basket_capital(i))
            baskets.append(BasketState(i, spec, capital, capital))
        reserve = initial - sum(b.capital for b in baskets)
        return PortfolioState(baskets, reserve, initial, initial, initial, initial)

    def start(self, state: PortfolioState, latest: list[Package | None]) -> None:
        """A run that starts after some bars (RULES.md 8.32: a backtest's ``--start``, a
        paper run's history): each basket's latest package is the last one before the
        start, and an episode already running then is not traded."""
        for b, pkg in zip(state.baskets, latest, strict=True):
            if pkg is None:
                continue
            b.last = pkg
            if pkg.signal != 0:
                b.traded_episode = pkg.episode

    # -- the step ------------------------------------------------------------------------

    def step(self, state: PortfolioState, inp: StepInput) -> None:
        self.fill(state, inp)
        self.decide(state, inp)

    def decide(self, state: PortfolioState, inp: StepInput) -> None:
        """Everything of a step after its fills (RULES.md 10.6 item 15 gives the order)."""
        marks = self.mark(state, inp)
        view = self.view(state, marks.pv, inp.portfolio)
        if self.margins_on and self.force_liquidation(state, inp, marks):
            view.pv = state.pv()  # closes at this bar's close paid their fees
        self.breakers(state, inp, view)
        order = sorted(inp.packages)  # the baskets with a bar, in basket order
        exited = self.close_at_deadlines(state, inp, order)
        exited |= self.exit_positions(state, inp, view, order)
        self.enter_positions(state, inp, view, exited, order, marks)
        self.record(state, inp, view.reserve_target, marks)

    def advance(self, state: PortfolioState, stretch: Stretch, bars: BarSource) -> int:
        """Steps where nothing but marking can happen, in one go (``stretch.advance``):
        returns how many were advanced, fewer than the stretch's when a breaker fires
        at the next one."""
        return advance(self, state, stretch, bars)

    def fills_due(self, state: PortfolioState, inp: StepInput) -> bool:
        """Whether anything fills at this step: orders waiting for a bar of it, or a
        position to roll."""
        baskets = state.baskets
        return any(fills.fill_due(baskets[i], pkg.roll) for i, pkg in inp.packages.items())

    def reserve_target(self, chaos, avg_conviction):
        """The cash-reserve target (RULES.md 4.5) of one step, or of arrays of steps."""
        return reserve_target(chaos, avg_conviction, self.limits, self.fixed_reserve)

    # -- fills ---------------------------------------------------------------------------

    def fill(self, state: PortfolioState, inp: StepInput) -> None:
        """Orders waiting for this step's bars (``fills.fill``)."""
        fills.fill(self, state, inp)

    # -- marking and the view ------------------------------------------------------------

    def mark(self, state: PortfolioState, inp: StepInput) -> Marks:
        """Latest packages, the trading day's start and the peak; returns the marks. (The
        trailing stop's best close moves with the exit tree, which reads it first.)"""
        for i, pkg in inp.packages.items():
            state.baskets[i].last = pkg
        marks = self.marks(state, inp.trading_day)
        pv = marks.pv
        new_day = state.trading_day != inp.trading_day
        state.day_start, state.peak = day_marks(
            pv, new_day, state.last_pv, state.day_start, state.peak, state.peak_reset_pending
        )
        if new_day:
            state.trading_day = inp.trading_day
            state.day_number += 1
            state.peak_reset_pending = False
        return marks

    def marks(self, state: PortfolioState, day) -> Marks:
        """The book marked at the latest closes (refused past the money range where the
        step records them: ``record``)."""
        closes, equities, pv, largest = marked_step(state)
        margins = self.margins(state, day, closes) if self.margins_on else None
        return Marks(closes, equities, pv, largest, margins, self.book.booked, self.closes_decided)

    def view(
        self, state: PortfolioState, pv: int | None = None, known: tuple | None = None
    ) -> PortfolioView:
        """The portfolio view of the baskets' latest packages; ``known``: its chaos count,
        average conviction and reserve target where a tape has them (``StepInput``)."""
        if known is None:
            chaos = chaos_count(latest_regimes(state))
            avg = average_conviction(*latest_signals(state, self.sizing))
            known = (chaos, avg, self.reserve_target(chaos, avg))
        return PortfolioView(state.pv() if pv is None else pv, *known)

    # -- margin and forced liquidation ---------------------------------------------------

    def margin_rates(self, day) -> list[float]:
        """Each basket's margin rate of the trading day plus the broker's (10.1)."""
        if self._rates_day != day:
            add = self.margin_add
            self._rates = [spec.terms.on(day).margin_rate + add for spec in self.specs]
            self._rates_day = day
        return self._rates

    def margins(self, state: PortfolioState, day, closes: list | None = None) -> tuple:
        """The book's margin at a step (RULES.md 10.4): totals of held contracts and of
        those whose close is not decided, and each basket's; ``closes``: the baskets'
        latest, where known."""
        closes = latest_closes(state) if closes is None else closes
        return book_margins(state, day, closes, self.settlements, self.margin_add)

    def force_liquidation(self, state: PortfolioState, inp: StepInput, marks: Marks) -> bool:
        """Above the force-close level, whole positions are closed, largest held margin
        first, until the risk degree of what is left is at most the level; no entries
        for the rest of the trading day (RULES.md 10.4, 10.6 item 12)."""
        level, pv = self.force_close_level, marks.pv
        _, unclosed_total, held, unclosed = marks.margins
        if not liquidation_fires(unclosed_total, pv, level):
            return False
        chosen = liquidation_order(held, unclosed, pv, level)
        risk = float(risk_degree(unclosed_total, pv))
        names = ", ".join(f"basket {i} (margin {held[i]:,.2f})" for i in chosen)
        closing = f"closing {names}" if chosen else "nothing left to close"  # a ruined book
        self.journal.breaker(
            inp.time_ns,
            "forced_liquidation",
            f"PV={format_cny(pv)}, margin={unclosed_total:,.2f}, risk degree {risk:.2%} > "
            f"{level:.0%}; {closing}; no entries for the rest of the trading day",
        )
        if state.halted_day != inp.trading_day:
            state.halted_day, state.halt_reason = inp.trading_day, "forced_liquidation_halt"
        for b in state.baskets:
            self.cancel_entry(b, inp.time_ns, "forced_liquidation")
        for i in chosen:
            # A close of the old contract replaces a waiting roll, which stays only to
            # price that contract (the roll is not tried while a close waits).
            b = state.baskets[i]
            self.close(state, b, b.unclosed, "forced_liquidation", inp)
        return True

    # -- breakers ------------------------------------------------------------------------

    def breakers(self, state: PortfolioState, inp: StepInput, view: PortfolioView) -> None:
        rules, today = self.breaker_rules, inp.trading_day
        if drawdown_fires(view.pv, state.peak, fired_on(today, state.drawdown_fired_day), rules):
            self.drawdown_breaker(state, inp, view)
        pv = state.pv() if state.drawdown_fired_day == today else view.pv
        if daily_loss_fires(
            pv, state.day_start, fired_on(today, state.daily_loss_fired_day), rules
        ):
            self.daily_loss_breaker(state, inp, pv)

    def drawdown_breaker(self, state: PortfolioState, inp: StepInput, view: PortfolioView):
        """Close every position, no entries until the next trading day, leverage caps
        halved for a while, the peak reset at the next trading day (RULES.md 4.4)."""
        rules, today = self.breaker_rules, inp.trading_day
        dd = float(drawdown(view.pv, state.peak))
        self.journal.breaker(
            inp.time_ns,
            "drawdown_breaker",
            f"PV={format_cny(view.pv)}, peak={format_cny(state.peak)}, drawdown={dd:.2%}; "
            f"all positions closed, no entries until the next trading day, leverage caps "
            f"x{rules.drawdown_leverage_factor:g} for {rules.drawdown_cooldown_days} "
            "trading days",
        )
        state.drawdown_fired_day = state.halted_day = today
        state.halt_reason = "drawdown_halt"
        state.caps_halved_through = state.day_number + rules.drawdown_cooldown_days
        state.peak_reset_pending = True
        for b in state.baskets:
            self.cancel_entry(b, inp.time_ns, "drawdown_breaker")
            if b.unclosed > 0:  # a waiting roll is replaced as under forced liquidation
                self.close(state, b, b.unclosed, "drawdown_breaker", inp)

    def daily_loss_breaker(self, state: PortfolioState, inp: StepInput, pv: int) -> None:
        """No entries for the rest of the trading day; every position cut to 40% of its
        contracts, rounded down (RULES.md 4.4)."""
        rules, today = self.breaker_rules, inp.trading_day
        loss = float(daily_loss(pv, state.day_start))
        held = [b for b in state.baskets if b.unclosed > 0]
        cut = "no open positions to cut"
        if held:
            cut = f"positions cut to {rules.derisk_keep_fraction:.0%}"
        self.journal.breaker(
            inp.time_ns,
            "daily_loss_derisk",
            f"PV={format_cny(pv)}, day start={format_cny(state.day_start)}, loss={loss:.2%}; "
            f"{cut}, no entries for the rest of the trading day",
        )
        state.daily_loss_fired_day = today
        if state.halted_day != today:
            state.halted_day, state.halt_reason = today, "daily_loss_halt"
        for b in state.baskets:
            self.cancel_entry(b, inp.time_ns, "daily_loss_derisk")
        for b in held:
            remaining = b.unclosed
            keep = math.floor(decided(remaining * rules.derisk_keep_fraction))
            if remaining - keep > 0:
                b.position.committed *= keep / remaining  # RULES.md 8.5
                self.close(state, b, remaining - keep, "daily_loss_derisk", inp)

    def cancel_entry(self, b: BasketState, time_ns: int, why: str) -> None:
        """A breaker (``why``) cancels entries not yet filled; the episode may be traded
        later."""
        if b.entry_order is not None:
            self.journal.entry_cancelled(time_ns, b.index, b.instrument, b.entry_order.order, why)
            b.traded_episode = -1
            b.entry_order = None

    # -- delivery deadlines --------------------------------------------------------------

    def close_at_deadlines(self, state: PortfolioState, inp: StepInput, order: list) -> set:
        """From its contract's deadline day, a position is closed at the basket's bar
        (RULES.md 11) unless a roll is moving it; the close ends the basket's step.
        ``order``: the baskets with a bar, in basket order."""
        closed = set()
        if not self.deadlines.on:
            return closed
        for i in order:
            b = state.baskets[i]
            p = b.position
            if p is None or p.contract is None or b.pending_roll is not None or b.unclosed <= 0:
                continue
            if self.deadlines.reached(p.contract, inp.trading_day):
                self.close(state, b, b.unclosed, "delivery_deadline", inp)
                closed.add(i)
        return closed

    # -- exits ---------------------------------------------------------------------------

    def exit_positions(
        self, state: PortfolioState, inp: StepInput, view: PortfolioView, order: list
    ) -> set:
        """The exit tree for each basket in a position (``order``: the baskets with a bar,
        in basket order); the marks it reads also move the trailing stop's best close and
        arming."""
        exited = set()
        for i in order:
            b, pkg = state.baskets[i], inp.packages[i]
            p = b.position
            if p is None or b.pending_roll is not None:  # the package is another contract's
                continue
            conv = package_conviction(pkg, self.sizing[i])
            confidence = decided(pkg.confidence)
            marks = exit_marks(
                p, pkg.close, pkg.signal, confidence, conv, view.chaos, self.exits[i]
            )
            p.best_close, p.armed = marks.best, marks.armed
            if p.contracts <= p.closing or self.waits(b, inp):
                continue
            hit = first_exit(p, marks, self.exits[i], self.exit_rules[i])
            if hit is not None:
                self.close(state, b, p.contracts - p.closing, hit[1], inp)
                exited.add(i)
        return exited

    def waits(self, b: BasketState, inp: StepInput) -> bool:
        """A close decided at an earlier step has failed a try: the basket's exit tree
        and entries wait for it (RULES.md 10.6 item 9; a cut decided at this step leaves
        the exit tree to run on the contracts it keeps, 8.6)."""
        # (most baskets have no close waiting: no generator made for them)
        return bool(b.close_orders) and any(
            c.tries and c.order.decided_ns != inp.time_ns for c in b.close_orders
        )

    def close(
        self, state: PortfolioState, b: BasketState, contracts: int, reason: str, inp: StepInput
    ) -> None:
        """Decide to close ``contracts`` of the basket's position: at once under
        ``fill = "close"`` when its instrument has a bar now, else at its next bar."""
        p = b.position
        assert p is not None
        self.closes_decided += 1
        order = Order.close(
            b.index, b.instrument, p.side, contracts, reason, inp.time_ns, p.entry_day, p.contract
        )
        pkg = inp.packages.get(b.index)
        held, entry, side, basis = p.contracts, p.entry_price, p.side, p.basis
        mark = b.mark_price((pkg or b.last).close)  # the held contract's (a waiting roll's old)
        p.closing += contracts
        if pkg is not None and self.fill_at == "close":
            outcome = self.broker.execute(order, fills.held_quote(self, b, pkg), "close")
            gross = None if outcome.fill is None else self.book.close(state, b, outcome.fill)
            self.journal.close(inp.time_ns, b.index, b.instrument, side, reason, entry, mark,
                               contracts, held, gross, basis)  # fmt: skip
            fills.keep_rest(self, b, PendingClose(order), outcome, inp.time_ns)
            return
        self.journal.close(
            inp.time_ns, b.index, b.instrument, side, reason, entry, mark, contracts, held, None,
            basis,
        )  # fmt: skip
        b.close_orders.append(PendingClose(order))

    # -- entries -------------------------------------------------------------------------

    def enter_positions(
        self,
        state: PortfolioState,
        inp: StepInput,
        view: PortfolioView,
        exited: set,
        order: list,
        marks: Marks,
    ) -> None:
        """Each flat basket with a bar (``order``: in basket order) and a signal it has not
        traded: an entry (``entries.try_entry``; most bars have none to try)."""
        packages = inp.packages
        for i in order:
            b, pkg = state.baskets[i], packages[i]
            if not entries.untried_signal(b, pkg) or i in exited or b.close_orders:
                continue
            if b.flat:
                entries.try_entry(self, state, b, pkg, inp, view, marks)

    # -- records -------------------------------------------------------------------------

    def record(self, state: PortfolioState, inp: StepInput, target: float, marks: Marks) -> None:
        """Record the step; the reserve target is the view's (packages do not change
        within a step), the marks the step's unless a fill at its close changed the book
        since."""
        if marks.booked != self.book.booked:
            marks = self.marks(state, inp.trading_day)
        check_range(marks.largest)
        state.last_pv = marks.pv
        margin = None if marks.margins is None else marks.margins[0]
        row = record_row(
            state,
            inp.time_ns,
            day64(inp.trading_day),
            marks.closes,
            state.peak,
            state.day_start,
            target,
            (marks.equities, marks.pv),
            margin,
        )
        self.recorder.append_row(record_columns(len(state.baskets), margin is not None), row)

    # -- data end ------------------------------------------------------------------------

    def finish(self, state: PortfolioState) -> None:
        """Data end (RULES.md 8.23): entries not filled are dropped; positions are closed
        at their last close (``close_at_end``) or reported open."""
        changed = any(b.entry_order is not None for b in state.baskets)
        self.waiting_at_end = waiting(state)
        for b in state.baskets:
            b.entry_order = None
        for b in state.baskets if self.config.execution.close_at_end else ():
            p = b.position
            if p is None or b.last is None:
                continue
            order = Order.close(
                b.index,
                b.instrument,
                p.side,
                p.contracts,
                "end_of_data",
                b.last.time_ns,
                p.entry_day,
                p.contract,
            )
            side, entry, held, basis = p.side, p.entry_price, p.contracts, p.basis
            mark = b.mark_price(b.last.close)
            outcome = self.broker.execute(order, fills.held_quote(self, b, b.last), "close")
            gross = self.book.close(state, b, outcome.fill) if outcome.fill else None
            self.journal.close(
                b.last.time_ns,
                b.index,
                b.instrument,
                side,
                "end_of_data",
                entry,
                mark,
                held,
                held,
                gross,
                basis,
            )
            if outcome.filled < held:  # no bar after the last to try again on
                self.journal.left_open(b.last.time_ns, b.index, b.instrument, order, outcome)
            b.close_orders = []  # (a waiting roll of what is left still prices it)
            changed = True
        if changed:
            last = self.recorder.last_row()
            state.last_pv = state.pv()
            day = last["trading_day"][0]
            margin = self.margins(state, day.item())[0] if self.margins_on else None
            closes = latest_closes(state)
            row = record_row(
                state,
                int(last["time"][0]),
                day,
                closes,
                int(last["peak"][0]),
                int(last["day_start"][0]),
                float(last["reserve_target"][0]),
                marked_equities(state, closes),
                margin,
            )
            self.recorder.replace_last(record_columns(len(state.baskets), margin is not None), row)

    def open_trades(self, state: PortfolioState) -> list[dict]:
        """Positions still open at data end, as trade rows with reason ``open``."""
        return [open_trade(b) for b in state.baskets if b.position and b.last is not None]


def waiting(state: PortfolioState) -> list[tuple]:
    """The closes and rolls that had waited and still wait, as (basket, decided, reason):
    a close by its decision's time (nanoseconds), a roll by its trading day."""
    found = []
    for b in state.baskets:
        found += [(b.index, w.order.decided_ns, w.order.reason) for w in b.close_orders
                  if w.tries > 0]  # fmt: skip
        roll = b.pending_roll  # behind a close (or replaced by one), the close is what waits
        if roll is not None and roll.tries > 0 and not b.close_orders:
            found.append((b.index, roll.roll.trading_day, "roll"))
    return found

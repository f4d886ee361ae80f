"""The composite: Tier-2's step (RULES.md 4.1), the one function that a backtest loop and
a live loop both call.

Per step: fill orders waiting for this bar; mark to market; portfolio view; breakers;
exits for baskets in a position; entries for flat ones; record.
"""

from __future__ import annotations

import math
from dataclasses import replace
from decimal import Decimal
from functools import cache

import numpy as np

from twotier.broker.base import Broker, Fill, Order, Quote
from twotier.config.model import Config
from twotier.market.instruments import InstrumentSpec
from twotier.money import (
    MONEY_SCALE,
    PRICE_SCALE,
    format_cny,
    money_units,
    price_units,
    round_to_cent,
    share_to_cent,
)
from twotier.tier2.breakers import daily_loss, drawdown
from twotier.tier2.exits import enabled_rules, exit_marks, first_exit
from twotier.tier2.journal import SIDE, Journal
from twotier.tier2.limits import LimitContext, with_fallbacks
from twotier.tier2.records import EquityRecorder, check_ledger
from twotier.tier2.sizing import (
    EntryPlan,
    EntryRules,
    LeverageCaps,
    Skip,
    decided,
    package_conviction,
    plan_entry,
)
from twotier.tier2.state import (
    BasketState,
    Package,
    PendingEntry,
    PortfolioState,
    Position,
    StepInput,
)
from twotier.tier2.view import (
    PortfolioView,
    average_conviction,
    chaos_count,
    commitments,
    reserve_target,
)


def quote(pkg: Package) -> Quote:
    return Quote(pkg.time, pkg.trading_day, pkg.open, pkg.close)


def roll_quote(pkg: Package, price: float) -> Quote:
    """A contract's price at a roll, as both the open and the close of the roll bar."""
    units = price_units(price)
    return Quote(pkg.time, pkg.trading_day, units, units)


class Composite:
    """Tier-2 for one configuration: holds the rules, the broker and the outputs."""

    def __init__(self, config: Config, specs: list[InstrumentSpec], broker: Broker):
        self.config = config
        self.specs = specs
        self.broker = broker
        self.sizing = [config.basket_sizing(i) for i in range(len(specs))]
        self.exits = [config.basket_exits(i) for i in range(len(specs))]
        self.exit_rules = [enabled_rules(x) for x in self.exits]
        self.fill_at = "open" if config.execution.fill == "next_open" else "close"
        self.journal = Journal()
        self.recorder = EquityRecorder(len(specs))
        fixed = config.sizing.leverage_mode == "fixed"
        self.fixed_reserve = float(config.portfolio.reserve_fraction()) if fixed else None

    # -- state ---------------------------------------------------------------------------

    def new_state(self) -> PortfolioState:
        p = self.config.portfolio
        initial = money_units(p.initial_capital)
        baskets = []
        for i, (spec, basket) in enumerate(zip(self.specs, p.baskets, strict=True)):
            capital = round_to_cent(p.initial_capital * Decimal(str(basket.capital_fraction)))
            baskets.append(BasketState(i, spec, capital, capital))
        reserve = initial - sum(b.capital for b in baskets)
        return PortfolioState(baskets, reserve, initial, initial, initial, initial)

    # -- the step ------------------------------------------------------------------------

    def step(self, state: PortfolioState, inp: StepInput) -> None:
        self.begin_day(state, inp.trading_day)
        self.fill_waiting_orders(state, inp)
        pv = self.mark(state, inp)
        view = self.view(state, pv)
        self.breakers(state, inp, view)
        exited = self.exit_positions(state, inp, view)
        self.enter_positions(state, inp, view, exited)
        self.record(state, inp, view.reserve_target)

    def begin_day(self, state: PortfolioState, day) -> None:
        if state.trading_day == day:
            return
        if state.trading_day is not None:
            state.day_start = state.last_pv  # RULES.md 8.1
        state.trading_day = day
        state.day_number += 1
        if state.peak_reset_pending:  # RULES.md 8.25
            state.peak = state.day_start
            state.peak_reset_pending = False

    def fill_waiting_orders(self, state: PortfolioState, inp: StepInput) -> None:
        """Orders waiting for this bar. On the first bar of a roll's trading day, a position
        held from before is on the old contract: its closes fill at the old contract's
        price, then what is left is rolled (RULES.md 9); entries fill on the new one."""
        for i, pkg in inp.packages.items():
            b = state.baskets[i]
            if b.close_orders:
                held = quote(pkg) if pkg.roll is None else roll_quote(pkg, pkg.roll.old_price)
                orders, b.close_orders = b.close_orders, []
                for order in orders:
                    self.apply_close(state, b, self.broker.execute(order, held, self.fill_at))
            if pkg.roll is not None and b.position is not None:
                self.roll(state, b, pkg)
            if b.entry_order is not None:
                waiting, b.entry_order = b.entry_order, None
                order = replace(waiting.order, contract=pkg.contract)
                fill = self.broker.execute(order, quote(pkg), self.fill_at)
                self.open_position(state, b, waiting.plan, fill, waiting.episode)

    def roll(self, state: PortfolioState, b: BasketState, pkg: Package) -> None:
        """Close the position on the old contract and open the same side and contracts on
        the new one, each at its own price (fees and slippage on both legs). The trade goes
        on: entry basis, best close and trail are carried by the roll ratio, committed
        capital and episode are unchanged."""
        p, roll = b.position, pkg.roll
        assert p is not None and roll is not None
        old = Order(b.index, b.instrument, -p.side, p.contracts, False, "roll", pkg.time,
                    p.entry_day, roll.old_contract)  # fmt: skip
        new = Order(b.index, b.instrument, p.side, p.contracts, True, "roll", pkg.time,
                    contract=roll.new_contract)  # fmt: skip
        out = self.broker.execute(old, roll_quote(pkg, roll.old_price), self.fill_at)
        into = self.broker.execute(new, roll_quote(pkg, roll.new_price), self.fill_at)
        gross = p.side * p.contracts * b.spec.multiplier * (out.price - p.entry_price)
        fees = out.fee + into.fee
        b.cash += gross - fees
        state.realised += gross
        state.fees += fees
        p.carried_pnl += gross
        p.carried_fees += fees
        self.journal.roll(pkg.time, b.index, b.instrument, p.side, p.contracts, roll)
        p.entry_price, p.entry_day, p.contract = into.price, into.trading_day, roll.new_contract
        p.basis *= roll.ratio
        p.best_close *= roll.ratio
        for fill in (out, into):
            self.journal.record_fill(b.index, fill)
            self.journal.fill(b.index, fill)

    def mark(self, state: PortfolioState, inp: StepInput) -> int:
        """Latest packages and the peak; returns PV. (The trailing stop's best close moves
        with the exit tree, which reads it first.)"""
        for i, pkg in inp.packages.items():
            state.baskets[i].last = pkg
        pv = state.pv()
        state.peak = max(state.peak, pv)
        return pv

    def view(self, state: PortfolioState, pv: int | None = None) -> PortfolioView:
        chaos = chaos_count(state)
        avg = average_conviction(state, self.sizing)
        target = reserve_target(chaos, avg, self.config.limits, self.fixed_reserve)
        return PortfolioView(state.pv() if pv is None else pv, chaos, avg, target)

    # -- breakers ------------------------------------------------------------------------

    def breakers(self, state: PortfolioState, inp: StepInput, view: PortfolioView) -> None:
        rules, today = self.config.breakers, inp.trading_day
        dd = float(drawdown(view.pv, state.peak))
        if rules.drawdown_breaker and state.drawdown_fired_day != today and dd > rules.max_drawdown:
            self.journal.breaker(
                inp.time,
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
                self.cancel_entry(b)
                if b.position is not None and b.position.contracts > b.position.closing:
                    remaining = b.position.contracts - b.position.closing
                    self.close(state, b, remaining, "drawdown_breaker", inp)
        pv = state.pv() if state.drawdown_fired_day == today else view.pv
        loss = float(daily_loss(pv, state.day_start))
        open_positions = any(
            b.position is not None and b.position.contracts > b.position.closing
            for b in state.baskets
        )
        cut_text = (
            f"positions cut to {rules.derisk_keep_fraction:.0%}"
            if open_positions
            else "no open positions to cut"
        )
        if (
            rules.daily_loss_breaker
            and state.daily_loss_fired_day != today
            and loss > rules.max_daily_loss
        ):
            self.journal.breaker(
                inp.time,
                "daily_loss_derisk",
                f"PV={format_cny(pv)}, day start={format_cny(state.day_start)}, loss={loss:.2%}; "
                f"{cut_text}, no entries for the rest of the trading day",
            )
            state.daily_loss_fired_day = today
            if state.halted_day != today:
                state.halted_day, state.halt_reason = today, "daily_loss_halt"
            for b in state.baskets:
                self.cancel_entry(b)
                p = b.position
                if p is None or p.contracts <= p.closing:
                    continue
                remaining = p.contracts - p.closing
                keep = math.floor(decided(remaining * rules.derisk_keep_fraction))
                if remaining - keep > 0:
                    p.committed *= keep / remaining  # RULES.md 8.5
                    self.close(state, b, remaining - keep, "daily_loss_derisk", inp)

    def cancel_entry(self, b: BasketState) -> None:
        """A breaker cancels entries not yet filled; the episode may be traded later."""
        if b.entry_order is not None:
            b.traded_episode = -1
            b.entry_order = None

    # -- exits ---------------------------------------------------------------------------

    def exit_positions(self, state: PortfolioState, inp: StepInput, view: PortfolioView) -> set:
        """The exit tree for each basket in a position; the marks it reads also move the
        trailing stop's best close and arming."""
        exited = set()
        for i in sorted(inp.packages):
            b, pkg = state.baskets[i], inp.packages[i]
            p = b.position
            if p is None:
                continue
            conv = package_conviction(pkg, self.sizing[i])
            confidence = decided(pkg.confidence)
            marks = exit_marks(
                p, pkg.close, pkg.signal, confidence, conv, view.chaos, self.exits[i]
            )
            p.best_close, p.armed = marks.best, marks.armed
            if p.contracts <= p.closing:
                continue
            hit = first_exit(p, marks, self.exits[i], self.exit_rules[i])
            if hit is not None:
                self.close(state, b, p.contracts - p.closing, hit[1], inp)
                exited.add(i)
        return exited

    def close(
        self, state: PortfolioState, b: BasketState, contracts: int, reason: str, inp: StepInput
    ) -> None:
        """Decide to close ``contracts`` of the basket's position: at once under
        ``fill = "close"`` when its instrument has a bar now, else at its next bar."""
        p = b.position
        assert p is not None
        order = Order(
            b.index,
            b.instrument,
            -p.side,
            contracts,
            False,
            reason,
            inp.time,
            p.entry_day,
            p.contract,
        )
        pkg = inp.packages.get(b.index)
        held, entry, side = p.contracts, p.entry_price, p.side
        if pkg is not None and self.fill_at == "close":
            gross = self.apply_close(state, b, self.broker.execute(order, quote(pkg), "close"))
            self.journal.close(
                inp.time,
                b.index,
                b.instrument,
                side,
                reason,
                entry,
                pkg.close,
                contracts,
                held,
                gross,
            )
            return
        last = (pkg or b.last).close
        self.journal.close(
            inp.time, b.index, b.instrument, side, reason, entry, last, contracts, held, None
        )
        b.close_orders.append(order)
        p.closing += contracts

    # -- entries -------------------------------------------------------------------------

    def enter_positions(
        self, state: PortfolioState, inp: StepInput, view: PortfolioView, exited: set
    ) -> None:
        for i in sorted(inp.packages):
            b = state.baskets[i]
            if i in exited or not b.flat or b.close_orders:
                continue
            self.try_entry(state, b, inp.packages[i], inp, view)

    def try_entry(
        self,
        state: PortfolioState,
        b: BasketState,
        pkg: Package,
        inp: StepInput,
        view: PortfolioView,
    ) -> None:
        s = self.sizing[b.index]
        if pkg.signal == 0 or pkg.episode == b.traded_episode:
            return
        if (
            decided(pkg.confidence) < s.min_confidence
            or decided(pkg.strength) < s.min_signal_strength
        ):
            return
        conv = package_conviction(pkg, s)
        if conv < s.min_conviction:
            return
        side = pkg.signal

        def block(reason: str, detail: str, kind: str = "BLOCK") -> None:
            self.journal.block(
                inp.time,
                b.index,
                b.instrument,
                side,
                reason,
                conv,
                pkg.confidence,
                pkg.strength,
                detail,
                kind,
            )

        hard = self.hard_block(state, inp, view)
        if hard is not None:
            return block(*hard)
        equity = b.equity()
        if equity <= 0:
            return block("no_equity", f"basket equity {format_cny(equity)}")
        rules = self.entry_rules(state, b.index, view)
        price = pkg.close / PRICE_SCALE
        plan = plan_entry(side, conv, equity / MONEY_SCALE, price, b.spec.multiplier, rules)
        if isinstance(plan, Skip):
            return block(plan.reason, plan.detail)
        ctx = LimitContext(
            pv=state.pv() / MONEY_SCALE,
            before=commitments(state),
            margin_rate=b.spec.margin_rate,
            reserve_target=view.reserve_target,
            max_leverage=rules.caps.portfolio_max(s),
            limits=self.config.limits,
        )
        chosen, attempts, label = with_fallbacks(plan, equity / MONEY_SCALE, ctx, rules)
        if chosen is None:
            tried = "; ".join(str(a) for a in attempts)
            return block("soft_limits", tried, kind="SKIP")
        if attempts:
            self.journal.fallback(inp.time, b.index, b.instrument, label, attempts)
        self.journal.entry(inp.time, b.index, b.instrument, chosen, pkg.confidence, pkg.strength)
        order = Order(
            b.index,
            b.instrument,
            side,
            chosen.contracts,
            True,
            "entry",
            inp.time,
            contract=pkg.contract,
        )
        b.traded_episode = pkg.episode
        if self.fill_at == "close":
            fill = self.broker.execute(order, quote(pkg), "close")
            self.open_position(state, b, chosen, fill, pkg.episode)
        else:
            b.entry_order = PendingEntry(chosen, order, pkg.episode)

    def hard_block(self, state: PortfolioState, inp: StepInput, view: PortfolioView):
        rules = self.config.breakers
        if state.halted_day == inp.trading_day:
            why = (
                "drawdown breaker fired today"
                if state.halt_reason == "drawdown_halt"
                else "daily loss limit hit today"
            )
            return state.halt_reason, f"{why}: no entries until the next trading day"
        if rules.chaos_block and view.chaos >= rules.chaos_block_count:
            return "chaos_block", f"chaos count {view.chaos} >= {rules.chaos_block_count}"
        return None

    def entry_rules(self, state: PortfolioState, index: int, view: PortfolioView) -> EntryRules:
        b = self.config.breakers
        halved = state.day_number <= state.caps_halved_through
        caps = LeverageCaps(b.drawdown_leverage_factor if halved else 1.0)
        caution = b.chaos_caution and view.chaos >= b.chaos_caution_count
        return EntryRules(self.sizing[index], self.exits[index], caps, caution, b.chaos_target_cap)

    # -- fills ---------------------------------------------------------------------------

    def open_position(
        self, state: PortfolioState, b: BasketState, plan: EntryPlan, fill: Fill, episode: int
    ) -> None:
        b.position = Position(
            side=plan.side,
            contracts=plan.contracts,
            entry_price=fill.price,
            entry_time=fill.time,
            entry_day=fill.trading_day,
            decided_at=fill.order.decided_at,
            price_kind=fill.price_kind,
            tier=plan.tier,
            conviction=plan.conviction,
            size_fraction=plan.size_fraction,
            leverage=plan.leverage,
            effective_leverage=plan.effective_leverage,
            committed=plan.committed,
            stop=plan.stop,
            target=plan.target,
            trailing=plan.trailing,
            best_close=fill.price,
            basis=fill.price,
            entry_fee=fill.fee,
            episode=episode,
            trade_id=state.next_trade_id,
            contract=fill.order.contract,
            entry_contract=fill.order.contract,
            opened_price=fill.price,
        )
        state.next_trade_id += 1
        b.cash -= fill.fee
        state.fees += fill.fee
        self.note_fill(b, fill)

    def apply_close(self, state: PortfolioState, b: BasketState, fill: Fill) -> int:
        """Book a closing fill; returns its gross P&L (money units)."""
        p = b.position
        assert p is not None
        n = fill.order.contracts
        gross = p.side * n * b.spec.multiplier * (fill.price - p.entry_price)
        # A partial close carries its share of the entry fee and of what earlier contracts
        # realised; the last close takes the remainders (RULES.md 8.27, 9).
        fee_share, pnl_share, roll_fee_share = (
            p.entry_fee, p.carried_pnl, p.carried_fees
        ) if n == p.contracts else (
            share_to_cent(p.entry_fee, n, p.contracts),
            share_to_cent(p.carried_pnl, n, p.contracts),
            share_to_cent(p.carried_fees, n, p.contracts),
        )  # fmt: skip
        p.entry_fee -= fee_share
        p.carried_pnl -= pnl_share
        p.carried_fees -= roll_fee_share
        b.cash += gross - fill.fee
        state.realised += gross
        state.fees += fill.fee
        self.journal.trades.append(
            trade_row(b, p, fill, gross + pnl_share, fee_share + roll_fee_share)
        )
        p.contracts -= n
        p.closing = max(0, p.closing - n)
        if p.contracts == 0:
            b.position = None
        self.note_fill(b, fill)
        return gross

    def note_fill(self, b: BasketState, fill: Fill) -> None:
        self.journal.record_fill(b.index, fill)
        if self.fill_at == "open" or fill.order.decided_at != fill.time:
            self.journal.fill(b.index, fill)

    # -- records -------------------------------------------------------------------------

    def record(self, state: PortfolioState, inp: StepInput, target: float) -> None:
        """Record the step; the reserve target is the view's (packages do not change
        within a step)."""
        closes = [b.last.close if b.last is not None else 0 for b in state.baskets]
        marked = marked_equities(state, closes)
        state.last_pv = marked[1]
        self.recorder.append(
            *record_block(
                state,
                times=inp.time_ns,
                days=np.datetime64(inp.trading_day, "D"),
                closes=closes,
                peak=state.peak,
                day_start=state.day_start,
                reserve_target=target,
                marked=marked,
            )
        )

    # -- data end ------------------------------------------------------------------------

    def finish(self, state: PortfolioState) -> None:
        """Data end (RULES.md 8.23): entries not filled are dropped; positions are closed
        at their last close (``close_at_end``) or reported open."""
        changed = any(b.entry_order is not None for b in state.baskets)
        for b in state.baskets:
            b.entry_order = None
        for b in state.baskets if self.config.execution.close_at_end else ():
            p = b.position
            if p is None or b.last is None:
                continue
            order = Order(
                b.index,
                b.instrument,
                -p.side,
                p.contracts,
                False,
                "end_of_data",
                b.last.time,
                p.entry_day,
                p.contract,
            )
            side, entry, held = p.side, p.entry_price, p.contracts
            gross = self.apply_close(state, b, self.broker.execute(order, quote(b.last), "close"))
            self.journal.close(
                b.last.time,
                b.index,
                b.instrument,
                side,
                "end_of_data",
                entry,
                b.last.close,
                held,
                held,
                gross,
            )
            b.close_orders = []
            changed = True
        if changed:
            last = self.recorder.last_row()
            state.last_pv = state.pv()
            _, block = record_block(
                state,
                times=int(last["time"][0]),
                days=last["trading_day"][0],
                closes=[b.last.close if b.last is not None else 0 for b in state.baskets],
                peak=int(last["peak"][0]),
                day_start=int(last["day_start"][0]),
                reserve_target=float(last["reserve_target"][0]),
            )
            self.recorder.replace_last(block)

    def open_trades(self, state: PortfolioState) -> list[dict]:
        """Positions still open at data end, as trade rows with reason ``open``."""
        rows = []
        for b in state.baskets:
            p = b.position
            if p is None or b.last is None:
                continue
            gross = b.open_pnl() + p.carried_pnl
            fake = Fill(
                Order(
                    b.index,
                    b.instrument,
                    -p.side,
                    p.contracts,
                    False,
                    "open",
                    b.last.time,
                    p.entry_day,
                    p.contract,
                ),
                b.last.time,
                b.last.trading_day,
                b.last.close,
                "close",
                0,
                0,
                False,
            )
            rows.append(trade_row(b, p, fake, gross, p.entry_fee + p.carried_fees))
        return rows


def marked_equities(state: PortfolioState, closes: list) -> tuple[list, object]:
    """Each basket's equity with its position marked at ``closes[i]`` (one value, or an
    array over steps), and PV = reserve + the equities."""
    equities = []
    for b, close in zip(state.baskets, closes, strict=True):
        p = b.position
        if p is None:
            equities.append(b.cash)
        else:
            equities.append(
                b.cash + p.side * p.contracts * b.spec.multiplier * (close - p.entry_price)
            )
    return equities, state.reserve + sum(equities)


def record_block(
    state: PortfolioState,
    *,
    times,
    days,
    closes: list,
    peak,
    day_start,
    reserve_target,
    marked: tuple[list, object] | None = None,
) -> tuple[int, dict]:
    """Records of consecutive steps over which positions do not change (RULES.md 4.1
    step 6), each basket marked at ``closes[i]`` (arrays over the steps, or one value;
    ``marked`` if ``marked_equities`` is already known); checks the ledger on every one.
    Returns the number of rows and the columns (``EquityRecorder.frame`` derives
    drawdown, exposure, leverage and the reserve held from them for the whole table)."""
    rows = 1 if isinstance(times, int) else len(times)
    equities, pv = marked if marked is not None else marked_equities(state, closes)
    books = state.reserve
    for b in state.baskets:
        books += b.cash
    check_ledger(books, state.initial, state.realised, state.fees, times)
    held = commitments(state, closes)
    block = {
        "time": times,
        "trading_day": days,
        "pv": pv,
        "peak": peak,
        "day_start": day_start,
        "committed": held.committed,  # the ratios to PV are taken when the table is built
        "notional": held.notional,
        "reserve_target": reserve_target,
        "active_positions": 0,  # counted below; the key holds the column's place
    }
    active = 0
    for b, equity, (equity_name, position_name) in zip(
        state.baskets, equities, basket_columns(len(state.baskets)), strict=True
    ):
        p = b.position
        block[equity_name] = equity
        block[position_name] = 0 if p is None else p.side * p.contracts
        active += p is not None
    block["active_positions"] = active
    return rows, block


@cache
def basket_columns(baskets: int) -> tuple[tuple[str, str], ...]:
    """The equity table's per-basket column names: (equity_i, position_i)."""
    return tuple((f"equity_{i}", f"position_{i}") for i in range(baskets))


def trade_row(b: BasketState, p: Position, fill: Fill, gross: int, entry_fee_share: int) -> dict:
    fees = entry_fee_share + fill.fee
    return {
        "trade_id": p.trade_id,
        "basket": b.index,
        "instrument": b.instrument,
        "side": SIDE[p.side],
        "contracts": fill.order.contracts,
        "entry_time": p.entry_time,
        "entry_contract": p.entry_contract,
        "contract": fill.order.contract,
        "entry_price": p.opened_price / PRICE_SCALE,
        "entry_price_kind": p.price_kind,
        "exit_time": fill.time,
        "exit_price": fill.price / PRICE_SCALE,
        "exit_price_kind": fill.price_kind,
        "exit_decided_at": fill.order.decided_at,
        "tier": p.tier,
        "conviction": p.conviction,
        "size_fraction": p.size_fraction,
        "leverage": p.leverage,
        "effective_leverage": p.effective_leverage,
        "committed": p.committed,
        "stop": p.stop,
        "target": p.target,
        "reason": fill.order.reason,
        "return_pct": p.side * (fill.price - p.basis) / p.basis,
        "gross_pnl": gross / MONEY_SCALE,
        "fees": fees / MONEY_SCALE,
        "net_pnl": (gross - fees) / MONEY_SCALE,
    }

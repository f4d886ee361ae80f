"""The book: what fills do to the portfolio. Positions are opened, closed (whole or in
part) and rolled; cash, realised P&L and fees move with them, each fill and trade is
written down, and the ledger identity is checked.

Money is in integer units (``twotier.money``): P&L, fees and their shares add up to the
cent, and PV = initial capital + realised P&L + open P&L - fees holds exactly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from twotier.broker.base import Fill, Order, PriceKind
from twotier.errors import TwotierError
from twotier.market.calendar import TIMEZONE
from twotier.market.rolls import Roll
from twotier.money import (
    MAX_MONEY_UNITS,
    MONEY_SCALE,
    check_carried,
    cny,
    price_of,
    share_to_cent,
    to_cent,
)
from twotier.numeric import extremes
from twotier.tier2.journal import SIDE, Journal
from twotier.tier2.sizing import EntryPlan
from twotier.tier2.state import BasketState, PortfolioState, Position


class LedgerError(TwotierError):
    """PV no longer equals initial capital + realised P&L + open P&L - fees."""


class Book:
    """Books fills into the state and writes them (and the trades they end) to the
    journal."""

    def __init__(self, journal: Journal, fill_at: PriceKind, count_waits: bool = False):
        self.journal = journal
        self.fill_at = fill_at
        self.count_waits = count_waits  # fills.csv says how many bars each fill waited
        # Fills booked so far: marks of the book taken since it last changed still hold.
        self.booked = 0

    def open(
        self, state: PortfolioState, b: BasketState, plan: EntryPlan, fill: Fill, episode: int
    ) -> None:
        """A position from an entry's fill. A fill of fewer contracts than decided scales
        the committed capital by filled/decided; stops, target and trail are the
        decision's (RULES.md 10.6 item 10)."""
        committed = plan.committed
        if fill.contracts != plan.contracts:
            committed = plan.committed * fill.contracts / plan.contracts
        # The fields without a default by place (in Position's order), the others set
        # after: a class called with keywords costs about three times as much to make.
        price = fill.price
        p = Position(
            plan.side,  # side
            fill.contracts,  # contracts
            price,  # entry_price
            fill.time_ns,  # entry_ns
            fill.trading_day,  # entry_day
            fill.order.decided_ns,  # decided_ns
            fill.price_kind,  # price_kind
            plan.tier,  # tier
            plan.conviction,  # conviction
            plan.size_fraction,  # size_fraction
            plan.leverage,  # leverage
            plan.effective_leverage,  # effective_leverage
            committed,  # committed
            plan.stop,  # stop
            plan.target,  # target
            plan.trailing,  # trailing
            price,  # best_close
            price,  # basis
        )
        p.entry_fee, p.episode, p.trade_id = fill.fee, episode, state.next_trade_id
        p.contract = p.entry_contract = fill.order.contract
        p.opened_price = price
        b.position = p
        state.next_trade_id += 1
        b.cash -= fill.fee
        state.fees += fill.fee
        self.booked += 1
        self.note_fill(b, fill)

    def close(self, state: PortfolioState, b: BasketState, fill: Fill, waited: int = 0) -> int:
        """Book a closing fill (all of the position or part of it) that waited ``waited``
        bars; returns its gross P&L (money units)."""
        p = b.position
        assert p is not None
        n = fill.contracts
        gross = p.side * n * b.spec.multiplier * (fill.price - p.entry_price)
        # A partial close carries its share of the entry fee and of what earlier contracts
        # realised; the last close takes the remainders (RULES.md 8.27, 9).
        fee_share, pnl_share, roll_fee_share = (
            (p.entry_fee, p.carried_pnl, p.carried_fees)
            if n == p.contracts
            else (
                share_to_cent(p.entry_fee, n, p.contracts),
                share_to_cent(p.carried_pnl, n, p.contracts),
                share_to_cent(p.carried_fees, n, p.contracts),
            )
        )
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
        p.closing = p.closing - n if p.closing > n else 0  # (the builtin max costs more)
        if p.contracts == 0:
            b.position = None
            b.pending_roll = None
        self.booked += 1
        self.note_fill(b, fill, waited)
        return gross

    def roll(
        self,
        state: PortfolioState,
        b: BasketState,
        roll: Roll,
        out: Fill,
        into: Fill,
        waited: int = 0,
    ) -> None:
        """The position moves from the old contract (``out`` closes it) to the new one
        (``into`` opens the same side and contracts). The trade goes on: what the old
        contract realised and both legs' fees are carried to the trade's closes; entry
        basis and best close are carried by the roll ratio (RULES.md 9)."""
        p = b.position
        assert p is not None
        gross = p.side * p.contracts * b.spec.multiplier * (out.price - p.entry_price)
        fees = out.fee + into.fee
        b.cash += gross - fees
        state.realised += gross
        state.fees += fees
        p.carried_pnl += gross
        p.carried_fees += fees
        self.journal.roll(out.time_ns, b.index, b.instrument, p.side, p.contracts, roll)
        p.entry_price, p.entry_day, p.contract = into.price, into.trading_day, roll.new_contract
        p.basis *= roll.ratio
        p.best_close *= roll.ratio
        self.booked += 1
        for fill in (out, into):
            self.journal.record_fill(b.index, fill, waited if self.count_waits else None)
            self.journal.fill(b.index, fill)

    def note_fill(self, b: BasketState, fill: Fill, waited: int = 0) -> None:
        """Every fill goes to fills.csv; the decision log has a FILL line for fills at a
        later bar than their decision (at the decision bar's close, the CLOSE or entry
        line says it)."""
        self.journal.record_fill(b.index, fill, waited if self.count_waits else None)
        if self.fill_at == "open" or fill.order.decided_ns != fill.time_ns:
            self.journal.fill(b.index, fill)


def open_trade(b: BasketState) -> dict:
    """A position still open at data end as a trade row with reason ``open``, marked at
    its latest close (the old contract's price while its roll waits)."""
    p, last = b.position, b.last
    assert p is not None and last is not None
    order = Order.close(
        b.index, b.instrument, p.side, p.contracts, "open", last.time_ns, p.entry_day, p.contract
    )
    price = b.mark_price(last.close)
    mark = Fill(order, p.contracts, last.time_ns, last.trading_day, price, "close", 0, 0, False)
    return trade_row(b, p, mark, b.open_pnl() + p.carried_pnl, p.entry_fee + p.carried_fees)


def trade_row(b: BasketState, p: Position, fill: Fill, gross: int, entry_fee_share: int) -> dict:
    fees = entry_fee_share + fill.fee
    return {
        "trade_id": p.trade_id,
        "basket": b.index,
        "instrument": b.instrument,
        "side": SIDE[p.side],
        "contracts": fill.contracts,
        "entry_time": p.entry_ns,  # times: nanoseconds, Timestamps in the table (frame)
        "entry_contract": p.entry_contract,
        "contract": fill.order.contract,
        "entry_price": price_of(p.opened_price),
        "entry_price_kind": p.price_kind,
        "exit_time": fill.time_ns,
        "exit_price": price_of(fill.price),
        "exit_price_kind": fill.price_kind,
        "exit_decided_at": fill.order.decided_ns,
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
        "gross_pnl": cny(gross),  # rounded to the cent in the table (pnl_in_cents)
        "fees": cny(fees),
        "net_pnl": cny(gross - fees),
        "gross_units": gross,  # exact, for pnl_in_cents
    }


def pnl_in_cents(rows: list[dict]) -> tuple[list[float], list[float]]:
    """The gross and net P&L columns (CNY) of trade rows in the order they happened: each
    row's gross P&L the change of the running total rounded to the cent (half away from
    zero), so that the rows add up to the exact total rounded as PV is: ``final_pv =
    initial + gross - fees`` to the cent, and each row's net is its gross less its fees.
    Prices on the tick give whole cents, and the rows their own P&L; off it, a row's P&L
    can be a cent from its own, rounded. Rows of a paper state written before carry no
    exact P&L: their rounded one stands. Columns rather than rows: the table is made
    from columns, and copying each row to change two values cost more than the rest."""
    gross_pnl, net_pnl, total, shown = [], [], 0, 0
    for row in rows:
        units = row.get("gross_units")
        total += round(row["gross_pnl"] * MONEY_SCALE) if units is None else units
        before, shown = shown, to_cent(total)
        gross = shown - before
        fees = round(row["fees"] * MONEY_SCALE)
        gross_pnl.append(cny(gross))
        net_pnl.append(cny(gross - fees))
    return gross_pnl, net_pnl


def marked_equities(state: PortfolioState, closes: list, check: bool = True) -> tuple[list, object]:
    """Each basket's equity with its position marked at ``closes[i]`` (one value, or an
    array over steps), and PV = reserve + the equities. ``check``: refuse marks past the
    money range (``check_range``); a stretch cut by ``steps_in_range`` stays within it,
    and a step checks its marks where it records them."""
    if check:
        check_range(largest_value(state, closes))
    equities, pv, marked = [], state.reserve, []
    for b, close in zip(state.baskets, closes, strict=True):
        p = b.position
        if p is None:
            equities.append(b.cash)
            pv += b.cash
        else:
            equity = held_equity(b, p, close if b.pending_roll is None else b.mark_price(close))
            equities.append(equity)
            marked.append(equity)
    # The plain amounts first, then one addition of each marked one (an array operation
    # over a stretch): integers within the range add up exactly in any order.
    for equity in marked:
        pv = pv + equity
    return equities, pv


def marked_step(state: PortfolioState) -> tuple[list, list, int, int]:
    """A step's marks in one pass over the baskets: their latest closes
    (``latest_closes``), ``marked_equities`` and PV at them (unchecked), and their
    ``largest_value``: the same sums in the same order, of the same ``held_equity`` and
    ``largest_amount`` (tested against them); a step takes them all, at about half the
    cost of the three passes."""
    closes, equities, marked = [], [], []
    pv = state.reserve
    largest = abs(pv)
    for b in state.baskets:
        last = b.last
        close = 0 if last is None else last.close
        closes.append(close)
        cash = b.cash
        largest += abs(cash)
        p = b.position
        if p is None:
            equities.append(cash)
            pv += cash
            continue
        price = close if b.pending_roll is None else b.mark_price(close)
        equity = held_equity(b, p, price)
        equities.append(equity)
        marked.append(equity)
        largest += largest_amount(b, p, price)
    for equity in marked:  # the plain amounts first, as ``marked_equities`` adds them
        pv = pv + equity
    return closes, equities, pv, largest


def check_range(largest: int) -> None:
    """Refuse marks whose amounts reach ``largest`` (``largest_value``) past what money
    units carry exactly."""
    check_carried(largest, "the portfolio's value")


def latest_closes(state: PortfolioState) -> list:
    """Each basket's latest close (0 before its first package), where a step marks it."""
    return [0 if b.last is None else b.last.close for b in state.baskets]


def largest_value(state: PortfolioState, closes: list) -> int:
    """A bound on every amount ``marked_equities`` adds up at these closes, as a Python
    int."""
    largest = abs(state.reserve)
    for b, close in zip(state.baskets, closes, strict=True):
        largest += abs(b.cash)
        p = b.position
        if p is not None:
            largest += largest_amount(
                b, p, close if b.pending_roll is None else b.mark_price(close)
            )
    return largest


def held_equity(b, p, price):
    """A held basket's equity with its position ``p`` marked at ``price`` (one, or an
    array over steps; the old contract's while a roll waits: ``mark_price``)."""
    return b.cash + p.side * p.contracts * b.spec.multiplier * (price - p.entry_price)


def largest_amount(b, p, price) -> int:
    """A bound on the open P&L of position ``p`` marked at ``price`` (one, or an array),
    as a Python int (``largest_value``)."""
    return p.contracts * b.spec.multiplier * _largest_move(price, p.entry_price)


def steps_in_range(state: PortfolioState, closes: list) -> int:
    """How many of the first steps of a stretch (``closes[i]``: arrays over its steps)
    ``marked_equities`` can mark: a step past the range ends the stretch there, so that
    it is refused only if the run reaches it (a breaker or a forced liquidation at an
    earlier step may close the position first), as stepping refuses it."""
    if largest_value(state, closes) <= MAX_MONEY_UNITS:  # nearly always: no step beyond
        return len(closes[0])
    bound = np.full(len(closes[0]), float(abs(state.reserve)))
    for b, close in zip(state.baskets, closes, strict=True):
        bound += float(abs(b.cash))
        p = b.position
        if p is not None:
            price = close if b.pending_roll is None else b.mark_price(close)
            move = np.abs(price.astype(np.float64) - float(p.entry_price))
            bound += float(p.contracts * b.spec.multiplier) * move
    # floats: a relative error of 1e-15 at most, well inside the margin below int64's limit
    beyond = bound > MAX_MONEY_UNITS * (1 - 1e-9)
    return int(beyond.argmax()) if beyond.any() else len(bound)


def _largest_move(price, entry: int) -> int:
    """The largest distance of the marked prices (one, or an array) from the entry, as a
    Python int: int64 arrays would wrap around silently past their limit."""
    if isinstance(price, np.ndarray):
        low, high = extremes(price)  # a short array's from one list
        return max(abs(int(high) - entry), abs(int(low) - entry))
    return abs(int(price) - entry)


def check_ledger(state: PortfolioState, time) -> None:
    """PV = initial capital + realised P&L + open P&L - fees, exactly (money units).

    PV is the reserve plus each basket's cash plus its open P&L, so the identity holds
    when reserve + cash = initial + realised - fees. Cash moves only with fills, so one
    check covers every step of a record block (``time``: its first step's nanoseconds)."""
    books = state.reserve
    for b in state.baskets:
        books += b.cash
    expected = state.initial + state.realised - state.fees
    if books != expected:
        first = int(np.atleast_1d(time)[0])
        at = pd.Timestamp(first, tz="UTC").tz_convert(TIMEZONE)
        raise LedgerError(
            f"ledger broken at {at}: reserve + cash {cny(books):.4f} != initial + "
            f"realised - fees {cny(expected):.4f}, so PV != initial + realised + "
            "open P&L - fees"
        )

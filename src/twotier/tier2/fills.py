"""The first part of a step: orders waiting for this step's bars are tried (RULES.md 5, 9,
10.2, 10.3).

Per basket with a bar: waiting closes first (on the contract the position holds), then a
roll that is due (both legs on the same bar or neither), then an entry decided at the
bar before. What fills is booked; a close's rest waits for the next bar, a roll that
cannot fill waits whole, an entry that cannot fill is cancelled (its episode used). Each
failed try is logged and counted (the bars an order waited).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from twotier.broker.base import REASON_CODES, Order, Outcome, Quote
from twotier.market.rolls import Roll
from twotier.tier2.rolling import fixed_quote, old_contract_quote
from twotier.tier2.state import (
    BasketState,
    Package,
    PendingClose,
    PendingEntry,
    PendingRoll,
    PortfolioState,
    StepInput,
)

if TYPE_CHECKING:
    from twotier.tier2.composite import Composite


def quote(pkg: Package) -> Quote:
    return Quote(pkg.time_ns, pkg.trading_day, pkg.open, pkg.close, pkg.volume, pkg.locked,
                 pkg.limit_up, pkg.limit_down)  # fmt: skip


def orders_waiting(b: BasketState) -> bool:
    """Whether the basket has an order (a close, an entry or a roll) waiting for a bar."""
    return bool(b.close_orders) or b.entry_order is not None or b.pending_roll is not None


def may_fill(b: BasketState, roll: Roll | None) -> bool:
    """Whether ``fill`` may have anything to do for the basket at a bar of its with
    ``roll`` (None: no roll there): with no order waiting and no roll, it leaves the
    basket as it is."""
    return orders_waiting(b) or roll is not None


def fill_due(b: BasketState, roll: Roll | None) -> bool:
    """Whether something fills for the basket at a bar of its with ``roll``: an order
    waiting, or a position to roll."""
    return orders_waiting(b) or (roll is not None and b.position is not None)


def fill(c: Composite, state: PortfolioState, inp: StepInput) -> None:
    for i, pkg in inp.packages.items():
        b = state.baskets[i]
        if b.close_orders:
            fill_closes(c, state, b, pkg)
        if b.position is None:
            b.pending_roll = None
        elif pkg.roll is not None or b.pending_roll is not None:
            if not b.close_orders:
                roll(c, state, b, pkg)
            else:  # it waits behind a close of the old contract: a bar waited
                waiting = b.pending_roll
                the_roll = pkg.roll if waiting is None else waiting.roll
                b.pending_roll = PendingRoll(the_roll, 1 if waiting is None else waiting.tries + 1)
        if b.entry_order is not None:
            waiting, b.entry_order = b.entry_order, None
            # The order trades the contract of its fill's bar: made anew only where that
            # is another (dataclasses' replace is slow; the contract changes only at a roll).
            order = waiting.order
            if order.contract != pkg.contract:
                order = replace(order, contract=pkg.contract)
            if pkg.contract is not None and c.deadlines.reached(pkg.contract, pkg.trading_day):
                # Its fill bar is on the deadline: cancelled, its episode used.
                outcome = Outcome(order, "unfilled", None, f"{pkg.contract}: delivery deadline")
                code = "delivery_deadline_block"
                c.journal.unfilled(pkg.time_ns, b.index, b.instrument, order, outcome, code)
                continue
            book_entry(c, state, b, waiting, c.broker.execute(order, quote(pkg), c.fill_at), pkg)


def held_quote(c: Composite, b: BasketState, pkg: Package) -> Quote:
    """The bar as the contract the basket's position holds: while the position is still on
    the old contract of a roll at this bar (before the roll fills, or while it waits), the
    old contract's price (the schedule's on a first try without price limits, as sections
    1-9 price a roll); else the bar itself."""
    roll = pkg.roll if pkg.roll is not None else getattr(b.pending_roll, "roll", None)
    p = b.position
    if roll is None or p is None or p.contract != roll.old_contract:
        return quote(pkg)
    if pkg.roll is not None and b.pending_roll is None and not c.config.market.price_limits:
        return fixed_quote(quote(pkg), roll.old_price)
    return old_contract_quote(quote(pkg), roll, b.spec.tick_units)


def fill_closes(c: Composite, state: PortfolioState, b: BasketState, pkg: Package) -> None:
    held = held_quote(c, b, pkg)
    waiting, b.close_orders = b.close_orders, []
    for pending in waiting:
        outcome = c.broker.execute(pending.order, held, c.fill_at)
        if outcome.fill is not None:
            c.book.close(state, b, outcome.fill, waited=pending.tries)
        keep_rest(c, b, pending, outcome, pkg.time_ns)


def keep_rest(c: Composite, b: BasketState, pending: PendingClose, outcome: Outcome, time_ns: int):
    """The contracts of a close that did not fill wait for the next bar (logged: the try
    counts as a bar waited, for the rest of a partial fill too)."""
    order = pending.order
    if outcome.filled == order.contracts:
        return
    rest = order.rest(outcome.filled)
    b.close_orders.append(PendingClose(rest, pending.tries + 1))
    code = _exit_code(outcome)
    c.journal.delayed(time_ns, b.index, b.instrument, rest, code, outcome.reason)


def book_entry(
    c: Composite,
    state: PortfolioState,
    b: BasketState,
    waiting: PendingEntry,
    outcome: Outcome,
    pkg: Package,
) -> None:
    """An entry's outcome: what filled opens the position, the rest is dropped; an entry
    that does not fill at all is cancelled, its episode used (RULES.md 10.2, 10.3)."""
    if outcome.fill is not None:
        c.book.open(state, b, waiting.plan, outcome.fill, waiting.episode)
    if outcome.filled < waiting.order.contracts:
        code = _entry_code(outcome)
        c.journal.unfilled(pkg.time_ns, b.index, b.instrument, waiting.order, outcome, code)


def roll(c: Composite, state: PortfolioState, b: BasketState, pkg: Package) -> None:
    """Close the position on the old contract and open the same side and contracts on
    the new one, each at its own price (fees and slippage on both legs), on the same bar
    or not at all (RULES.md 9, 10.6 item 14). The first try prices the legs at the
    schedule's prices unless price limits are on; later tries, and all tries with limits
    on, at the bar's price under the fill rule, the old leg divided by the roll ratio."""
    p = b.position
    assert p is not None
    pending = b.pending_roll
    the_roll = pending.roll if pending is not None else pkg.roll
    assert the_roll is not None
    old = Order.roll_leg(b.index, b.instrument, p.side, p.contracts, False, pkg.time_ns,
                         p.entry_day, the_roll.old_contract)  # fmt: skip
    new = Order.roll_leg(b.index, b.instrument, p.side, p.contracts, True, pkg.time_ns, None,
                         the_roll.new_contract)  # fmt: skip
    bar = quote(pkg)
    if pending is None and not c.config.market.price_limits:
        legs = [(old, fixed_quote(bar, the_roll.old_price)),
                (new, fixed_quote(bar, the_roll.new_price))]  # fmt: skip
    else:
        legs = [(old, held_quote(c, b, pkg)), (new, bar)]
    out, into = c.broker.execute_together(legs, c.fill_at)
    tries = 0 if pending is None else pending.tries
    if out.fill is not None and into.fill is not None:
        b.pending_roll = None
        c.book.roll(state, b, the_roll, out.fill, into.fill, waited=tries)
        return
    b.pending_roll = PendingRoll(the_roll, tries + 1)
    code = _exit_code(out if out.fill is None else into)
    c.journal.delayed(pkg.time_ns, b.index, b.instrument, old, code, out.reason or into.reason)


def _exit_code(outcome: Outcome) -> str:
    if outcome.status == "rejected":
        return "exit_rejected"
    return f"exit_delayed_{REASON_CODES.get(outcome.reason, outcome.reason)}"


def _entry_code(outcome: Outcome) -> str:
    if outcome.status == "rejected":
        return "entry_rejected"
    kind = "cut" if outcome.fill is not None else "unfilled"
    return f"entry_{kind}_{REASON_CODES.get(outcome.reason, outcome.reason)}"

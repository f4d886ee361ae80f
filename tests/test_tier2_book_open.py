"""``Book.open`` makes a position with its fields by place (a class called with keywords
costs three times as much to make): each field is the one named for it."""

from __future__ import annotations

import datetime as dt

from twotier.broker.base import Fill, Order
from twotier.market.instruments import default_registry
from twotier.tier2.book import Book
from twotier.tier2.journal import Journal
from twotier.tier2.sizing import EntryPlan
from twotier.tier2.state import BasketState, PortfolioState, Position


def test_an_opened_positions_fields_are_the_plans_and_the_fills_by_name():
    spec = default_registry()["DCE/i"]
    capital = 10**10
    state = PortfolioState([BasketState(0, spec, capital, capital)], 0, *[capital] * 4)
    state.next_trade_id = 9
    plan = EntryPlan(-1, "MEDIUM", 0.41, 0.46, 4.1, 123456.0, 4, 800.5, 100, 0.02, 0.08,
                     True, 4.0)  # fmt: skip
    order = Order.entry(0, "DCE/i", -1, 4, 111, "i2001")
    day = dt.date(2020, 1, 2)
    fill = Fill(order, 3, 222, day, 8_004_500, "open", 500, 1_200, False)
    Book(Journal(), "open").open(state, state.baskets[0], plan, fill, 7)
    assert state.baskets[0].position == Position(
        side=-1,
        contracts=3,
        entry_price=8_004_500,
        entry_ns=222,
        entry_day=day,
        decided_ns=111,
        price_kind="open",
        tier="MEDIUM",
        conviction=0.41,
        size_fraction=0.46,
        leverage=4.1,
        effective_leverage=plan.effective_leverage,
        committed=123456.0 * 3 / 4,
        stop=0.02,
        target=0.08,
        trailing=True,
        best_close=8_004_500,
        basis=8_004_500,
        entry_fee=1_200,
        episode=7,
        trade_id=9,
        contract="i2001",
        entry_contract="i2001",
        opened_price=8_004_500,
    )
    assert state.next_trade_id == 10

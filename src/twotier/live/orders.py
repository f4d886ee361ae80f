"""Order ids and the outbox: every order is sent once, whatever crashes.

An order gets its id when Tier-2 decides it: ``<step>-<n>``, the n-th order of that step.
A step replayed after a crash decides the same orders in the same sequence, so they get
the same ids. Orders are written to the ``orders`` table in the step's transaction and
sent to the broker only after it commits (the outbox pattern):

    decided -> sent -> filled           an order that fills at a later bar (next_open)
    decided -> filled                   decided and filled at the same bar's close
    decided/sent -> cancel -> cancelled  a breaker withdrew an entry before it filled
    decided/sent -> rejected            the broker refused it

An order that does not fill at a bar keeps its id and is tried again at the next; of one
that fills in part, the rest waits as a new order with an id of its own.

On start, orders still ``decided`` are submitted and ``cancel`` ones cancelled again; the
broker recognises ids it already knows (see broker.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from twotier.broker.base import Fill, Order, Outcome, PriceKind, Quote
from twotier.live import codec
from twotier.live.broker import LiveBroker
from twotier.tier2.state import PortfolioState


@dataclass(frozen=True)
class OrderEvent:
    kind: str  # decided, filled, rejected, cancel
    order_id: str
    order: Order
    fill: Fill | None = None


def waiting_orders(state: PortfolioState) -> list[Order]:
    """Orders Tier-2 has decided that have not filled yet, in basket order."""
    orders = []
    for b in state.baskets:
        orders += [pending.order for pending in b.close_orders]
        if b.entry_order is not None:
            orders.append(b.entry_order.order)
    return orders


class OrderBook:
    """The ids of the orders not yet filled or cancelled, and this step's events."""

    def __init__(self):
        self.open: dict[str, tuple[str, Order]] = {}  # order key -> (id, order)
        self.step = 0
        self.events: list[OrderEvent] = []
        self._count = 0

    def begin(self, step: int) -> None:
        self.step, self._count, self.events = step, 0, []

    def id_for(self, order: Order) -> str:
        key = codec.dumps(order)
        if key not in self.open:
            self._count += 1
            order_id = f"{self.step}-{self._count}"
            self.open[key] = (order_id, order)
            self.events.append(OrderEvent("decided", order_id, order))
        return self.open[key][0]

    def settled(self, order: Order, outcome: Outcome) -> None:
        """An order that filled (all of it, or the part that did: what did not fill waits
        as a new order) or was rejected is no longer open; one that did not fill at all
        keeps its id for the next bar."""
        if outcome.status == "unfilled":
            return
        order_id, _ = self.open.pop(codec.dumps(order))
        kind = "rejected" if outcome.status == "rejected" else "filled"
        self.events.append(OrderEvent(kind, order_id, order, outcome.fill))

    def settle(self, state: PortfolioState) -> None:
        """After the step: ids for the orders it left waiting; a cancel for each open
        order Tier-2 no longer holds."""
        waiting = {codec.dumps(o): o for o in waiting_orders(state)}
        for key, order in waiting.items():
            if key not in self.open:
                self.id_for(order)
        for key in [k for k in self.open if k not in waiting]:
            order_id, order = self.open.pop(key)
            self.events.append(OrderEvent("cancel", order_id, order))

    def restore(self, rows: list[tuple[str, Order]]) -> None:
        """The open orders (decided or sent) as committed."""
        self.open = {codec.dumps(order): (order_id, order) for order_id, order in rows}


class RoutedBroker:
    """Tier-2's broker: names each order by its id and hands it to the live broker."""

    def __init__(self, broker: LiveBroker, book: OrderBook):
        self.broker = broker
        self.book = book

    def execute(self, order: Order, quote: Quote, at: PriceKind) -> Outcome:
        outcome = self.broker.execute(self.book.id_for(order), order, quote, at)
        self.book.settled(order, outcome)
        return outcome

    def execute_together(self, legs: Sequence[tuple[Order, Quote]], at: PriceKind):
        named = [(self.book.id_for(order), order, quote) for order, quote in legs]
        outcomes = self.broker.execute_together(named, at)
        for (order, _), outcome in zip(legs, outcomes, strict=True):
            self.book.settled(order, outcome)
        return outcomes

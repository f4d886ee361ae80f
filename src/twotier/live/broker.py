"""The broker interface for live trading, and the paper broker.

Tier-2 asks its broker what became of an order on a bar, ``execute(order, quote, at) ->
Outcome`` (filled, partly filled, not filled, rejected: twotier.broker.base). Live, an
order also has to reach the market before its fill bar, may be cancelled by a breaker
before it fills, and the positions the market holds must be checked against the state
on every start. ``LiveBroker`` is that contract; docs/live.md says what a gateway (CTP)
adapter implements behind it. Every call names the order by its id, which is the same
for the same order however often the process restarts: a gateway must treat a second
``submit`` or ``execute`` of an id it knows as a question about that order, never as a
new order (that is how "no order sent twice" survives a crash between sending and
committing).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from twotier.broker import simulated_broker
from twotier.broker.base import Order, Outcome, PriceKind, Quote
from twotier.config.model import Config
from twotier.errors import TwotierError
from twotier.market.instruments import InstrumentSpec
from twotier.tier2.state import PortfolioState


class ReconcileError(TwotierError):
    """The positions in the state and at the broker differ."""


class LiveBroker(Protocol):
    def submit(self, order_id: str, order: Order) -> None:
        """Send an order decided at a step (it fills at the instrument's next bar).
        Called after the step is committed; again after a restart if not yet marked
        sent."""
        ...

    def cancel(self, order_id: str) -> None:
        """Withdraw an order that has not filled (a breaker cancelled the entry)."""
        ...

    def execute(self, order_id: str, order: Order, quote: Quote, at: PriceKind) -> Outcome:
        """What became of the order on this bar: an order submitted earlier
        (``next_open``), or one decided at this bar's close (``close``). An order that did
        not fill (or filled in part) is asked about again at the next bar, under the same
        id for what did not fill."""
        ...

    def execute_together(
        self, legs: Sequence[tuple[str, Order, Quote]], at: PriceKind
    ) -> list[Outcome]:
        """Orders that must fill on the same bar or not at all (a roll's two legs)."""
        ...

    def positions(self) -> dict[str, int]:
        """Net contracts per instrument (long > 0) as the broker holds them."""
        ...

    def snapshot(self) -> dict:
        """The broker's own state, committed with each step."""
        ...

    def committed(self) -> None:
        """Called after each commit (and on start), once the outbox is sent: the broker
        may act on what the committed step decided (a gateway works again an order that
        did not fill at its bar)."""
        ...

    def restore(self, snapshot: dict) -> None: ...


class PaperBroker:
    """Paper trading: the simulated broker's fills, and a book of positions kept from
    those fills alone (not from Tier-2's state, so that reconciliation checks one
    against the other)."""

    def __init__(self, config: Config, specs: list[InstrumentSpec]):
        self.simulated = simulated_broker(config, specs)
        self.book: dict[str, int] = {}
        self.working: dict[str, Order] = {}

    def submit(self, order_id: str, order: Order) -> None:
        self.working[order_id] = order

    def cancel(self, order_id: str) -> None:
        self.working.pop(order_id, None)

    def execute(self, order_id: str, order: Order, quote: Quote, at: PriceKind) -> Outcome:
        outcome = self.simulated.execute(order, quote, at)
        self._booked(order_id, order, outcome)
        return outcome

    def execute_together(
        self, legs: Sequence[tuple[str, Order, Quote]], at: PriceKind
    ) -> list[Outcome]:
        outcomes = self.simulated.execute_together([(o, q) for _, o, q in legs], at)
        for (order_id, order, _), outcome in zip(legs, outcomes, strict=True):
            self._booked(order_id, order, outcome)
        return outcomes

    def _booked(self, order_id: str, order: Order, outcome: Outcome) -> None:
        if outcome.filled == order.contracts or outcome.status == "rejected":
            self.working.pop(order_id, None)
        net = self.book.get(order.instrument, 0) + order.action * outcome.filled
        self.book[order.instrument] = net

    def positions(self) -> dict[str, int]:
        return {k: v for k, v in self.book.items() if v}

    def snapshot(self) -> dict:
        return {"positions": self.positions()}

    def committed(self) -> None:
        pass  # the simulated broker fills at the bar it is asked about

    def restore(self, snapshot: dict) -> None:
        self.book = dict(snapshot.get("positions", {}))


def state_positions(state: PortfolioState) -> dict[str, int]:
    """Net contracts per instrument as Tier-2's state holds them."""
    held = {}
    for b in state.baskets:
        if b.position is not None and b.position.contracts:
            held[b.instrument] = b.position.side * b.position.contracts
    return held


def reconcile(state: PortfolioState, broker: LiveBroker) -> None:
    """Refuse to trade when the state and the broker disagree about any position."""
    mine, theirs = state_positions(state), broker.positions()
    wrong = sorted(k for k in set(mine) | set(theirs) if mine.get(k, 0) != theirs.get(k, 0))
    if wrong:
        detail = "; ".join(
            f"{k}: state {mine.get(k, 0):+d}, broker {theirs.get(k, 0):+d}" for k in wrong
        )
        raise ReconcileError(
            f"positions in the state and at the broker differ ({detail}); resolve this "
            "at the broker (or start a new state folder) before trading again"
        )

"""The broker interface for live trading, and the paper broker.

Tier-2 asks its broker for one thing, ``execute(order, quote, at) -> Fill``. Live, an
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

from typing import Protocol

from twotier.broker.base import Fill, Order, PriceKind, Quote
from twotier.broker.simulated import SimulatedBroker
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

    def execute(self, order_id: str, order: Order, quote: Quote, at: PriceKind) -> Fill:
        """The fill of the order on this bar: an order submitted earlier (``next_open``),
        or one decided and filled at this bar's close (``close``)."""
        ...

    def positions(self) -> dict[str, int]:
        """Net contracts per instrument (long > 0) as the broker holds them."""
        ...

    def snapshot(self) -> dict:
        """The broker's own state, committed with each step."""
        ...

    def restore(self, snapshot: dict) -> None: ...


class PaperBroker:
    """Paper trading: the simulated broker's fills, and a book of positions kept from
    those fills alone (not from Tier-2's state, so that reconciliation checks one
    against the other)."""

    def __init__(self, instruments: dict[str, InstrumentSpec], slippage_ticks: int, fees: bool):
        self.simulated = SimulatedBroker(instruments, slippage_ticks, fees)
        self.book: dict[str, int] = {}
        self.working: dict[str, Order] = {}

    def submit(self, order_id: str, order: Order) -> None:
        self.working[order_id] = order

    def cancel(self, order_id: str) -> None:
        self.working.pop(order_id, None)

    def execute(self, order_id: str, order: Order, quote: Quote, at: PriceKind) -> Fill:
        self.working.pop(order_id, None)
        fill = self.simulated.execute(order, quote, at)
        net = self.book.get(order.instrument, 0) + order.action * order.contracts
        self.book[order.instrument] = net
        return fill

    def positions(self) -> dict[str, int]:
        return {k: v for k, v in self.book.items() if v}

    def snapshot(self) -> dict:
        return {"positions": self.positions()}

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

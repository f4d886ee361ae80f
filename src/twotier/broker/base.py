"""Orders, fills, outcomes and the broker interface.

An order sent to a market may fill whole, fill in part, not fill at all (no counterparty
at a price limit, no volume, a closed market) or be rejected by the broker. ``execute``
says which with an ``Outcome``; Tier-2 books what filled and keeps or drops the rest by
its rules (an entry's rest is dropped, a close's rest waits for the next bar).

Quotes, orders, fills and outcomes are not changed once made (``Order.rest`` and
``dataclasses.replace`` make new ones). They are slotted dataclasses rather than frozen
ones: a frozen dataclass sets each field through object.__setattr__, about four times the
cost, and a backtest makes a quote, a fill and an outcome for every fill. Their times are
nanoseconds since the epoch (``time_ns``, ``decided_ns``), with the Timestamp in exchange
time made when first asked for (``time``, ``decided_at``): a backtest compares and records
the nanoseconds, and making a Timestamp costs more than the rest of a fill's bookkeeping.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal, Protocol

import pandas as pd

from twotier.market.times import exchange_time

PriceKind = Literal["open", "close"]
Status = Literal["filled", "partial", "unfilled", "rejected"]

# Why an order did not fill (``Outcome.reason`` of an unfilled or partly filled order);
# a rejection carries the broker's own text instead.
PRICE_LIMIT = "price_limit"  # the bar is locked at its limit against the order
NO_VOLUME = "no_volume"  # nothing traded on the bar, or the participation cap is used up
MARKET_CLOSED = "market_closed"
# The short form each reason takes in decision codes: entry_unfilled_limit ...
REASON_CODES = {PRICE_LIMIT: "limit", NO_VOLUME: "volume", MARKET_CLOSED: "closed"}


@dataclass(slots=True)
class Quote:
    """The bar an order fills on: its start time, trading day and prices (price units),
    and what the market allows on it (RULES.md 10), where known."""

    time_ns: int  # bar start, nanoseconds since the epoch
    trading_day: date
    open: int
    close: int
    volume: float | None = None  # None: unknown (fills do not look at it)
    locked: int = 0  # +1 locked at limit up (no buys), -1 at limit down (no sells)
    limit_up: int | None = None  # limits from the data: fill prices stay within them
    limit_down: int | None = None

    @property
    def time(self) -> pd.Timestamp:
        return exchange_time(self.time_ns)


@dataclass(slots=True)
class Order:
    """Buy (+1) or sell (-1) whole contracts for a basket. ``opens`` says whether the order
    opens a position or closes (part of) one, which decides the fee rate. Made with the
    named constructors: ``Order.entry``, ``Order.close``, ``Order.roll_leg``."""

    basket: int
    instrument: str
    action: int
    contracts: int
    opens: bool
    reason: str
    decided_ns: int  # time of the decision (its bar's start), nanoseconds since the epoch
    opened_on: date | None = None  # for closes: trading day the position was opened
    contract: str | None = None  # the contract traded, where known (e.g. i2009)

    @classmethod
    def entry(
        cls,
        basket: int,
        instrument: str,
        side: int,
        contracts: int,
        decided_ns: int,
        contract: str | None,
    ) -> Order:
        """Open a position on ``side`` (+1 long, -1 short)."""
        return cls(basket, instrument, side, contracts, True, "entry", decided_ns, None, contract)

    @classmethod
    def close(
        cls,
        basket: int,
        instrument: str,
        side: int,
        contracts: int,
        reason: str,
        decided_ns: int,
        opened_on: date | None,
        contract: str | None,
    ) -> Order:
        """Close ``contracts`` of a position held on ``side``, for ``reason``."""
        return cls(
            basket, instrument, -side, contracts, False, reason, decided_ns, opened_on, contract
        )

    @classmethod
    def roll_leg(
        cls,
        basket: int,
        instrument: str,
        side: int,
        contracts: int,
        opens: bool,
        decided_ns: int,
        opened_on: date | None,
        contract: str | None,
    ) -> Order:
        """One leg of a roll of a position held on ``side``: the close of the old contract
        (``opens`` False) or the opening of the new one."""
        action = side if opens else -side
        return cls(
            basket,
            instrument,
            action,
            contracts,
            opens,
            "roll",
            decided_ns,
            None if opens else opened_on,
            contract,
        )

    @property
    def decided_at(self) -> pd.Timestamp:
        return exchange_time(self.decided_ns)

    def rest(self, filled: int) -> Order:
        """The same order for the contracts that did not fill."""
        return Order(
            self.basket,
            self.instrument,
            self.action,
            self.contracts - filled,
            self.opens,
            self.reason,
            self.decided_ns,
            self.opened_on,
            self.contract,
        )


@dataclass(slots=True)
class Fill:
    """What filled of an order: ``contracts`` (all of the order's, or fewer) at one price."""

    order: Order
    contracts: int
    time_ns: int  # the quote's, nanoseconds since the epoch
    trading_day: date
    price: int  # price units, slippage included
    price_kind: PriceKind
    slippage: int  # price units against the order (>= 0)
    fee: int  # money units, whole cents
    close_today: bool

    @property
    def time(self) -> pd.Timestamp:
        return exchange_time(self.time_ns)


@dataclass(slots=True)
class Outcome:
    """What became of an order: ``filled`` (``fill`` has all its contracts), ``partial``
    (``fill`` has some; ``reason`` says why not the rest), ``unfilled`` (``reason``: one
    of PRICE_LIMIT, NO_VOLUME, MARKET_CLOSED) or ``rejected`` (``reason``: the broker's
    text)."""

    order: Order
    status: Status
    fill: Fill | None = None
    reason: str = ""

    @classmethod
    def of(cls, fill: Fill, reason: str = "") -> Outcome:
        """A fill's outcome: whole or partial by its contracts."""
        whole = fill.contracts == fill.order.contracts
        return cls(fill.order, "filled" if whole else "partial", fill, "" if whole else reason)

    @property
    def filled(self) -> int:
        """Contracts filled."""
        return 0 if self.fill is None else self.fill.contracts


class Broker(Protocol):
    """What Tier-2 needs from execution.

    ``execute`` tries an order on the bar given, at its open or close, and says what
    became of it. ``execute_together`` tries orders that must fill on the same bar or not
    at all (the two legs of a roll). The simulated broker prices fills from the bar; a
    gateway to an exchange sends the order and reports the exchange's answer (see
    docs/live.md)."""

    def execute(self, order: Order, quote: Quote, at: PriceKind) -> Outcome: ...

    def execute_together(
        self, legs: Sequence[tuple[Order, Quote]], at: PriceKind
    ) -> list[Outcome]: ...

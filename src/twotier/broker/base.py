"""Orders, fills and the broker interface."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal, Protocol

import pandas as pd

PriceKind = Literal["open", "close"]


@dataclass(frozen=True)
class Quote:
    """The bar an order fills on: its start time, trading day and prices (price units)."""

    time: pd.Timestamp
    trading_day: date
    open: int
    close: int


@dataclass(frozen=True)
class Order:
    """Buy (+1) or sell (-1) whole contracts for a basket. ``opens`` says whether the order
    opens a position or closes (part of) one, which decides the fee rate."""

    basket: int
    instrument: str
    action: int
    contracts: int
    opens: bool
    reason: str
    decided_at: pd.Timestamp
    opened_on: date | None = None  # for closes: trading day the position was opened
    contract: str | None = None  # the contract traded, where known (e.g. i2009)


@dataclass(frozen=True)
class Fill:
    order: Order
    time: pd.Timestamp
    trading_day: date
    price: int  # price units, slippage included
    price_kind: PriceKind
    slippage: int  # price units against the order (>= 0)
    fee: int  # money units, whole cents
    close_today: bool


class Broker(Protocol):
    """What Tier-2 needs from execution.

    ``execute`` fills an order on the bar given, at its open or close. The simulated
    broker prices the fill from the bar; a gateway to an exchange would send the order
    and report the exchange's fill (see docs/live.md).
    """

    def execute(self, order: Order, quote: Quote, at: PriceKind) -> Fill: ...

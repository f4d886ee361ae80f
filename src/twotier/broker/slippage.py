"""Slippage models: how far from the bar's price an order fills, against the order.

A model is one method, ``slip(order, quote, at, spec) -> price units`` (>= 0). The
simulated broker adds it to buys and takes it from sells.
"""

from __future__ import annotations

from typing import Protocol

from twotier.broker.base import Order, PriceKind, Quote
from twotier.market.instruments import InstrumentSpec


class SlippageModel(Protocol):
    def slip(self, order: Order, quote: Quote, at: PriceKind, spec: InstrumentSpec) -> int: ...


class TickSlippage:
    """A fixed number of ticks at the open (RULES.md 5); none at the close, where the
    convention fills at the close itself."""

    def __init__(self, ticks: int = 1):
        self.ticks = ticks

    def slip(self, order: Order, quote: Quote, at: PriceKind, spec: InstrumentSpec) -> int:
        if at != "open" or not self.ticks:
            return 0
        return spec.tick_units * self.ticks  # price_units(spec.tick), made once a spec

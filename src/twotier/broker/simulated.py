"""The simulated broker: fills at the bar's open (with slippage against the order) or at
its close, whole contracts, the instrument's fees. Every order fills (sections 1-9 of
RULES.md trade in a market that always has a counterparty)."""

from __future__ import annotations

from collections.abc import Sequence

from twotier.broker.base import Fill, Order, Outcome, PriceKind, Quote
from twotier.broker.fees import fee_units
from twotier.broker.slippage import SlippageModel, TickSlippage
from twotier.market.instruments import InstrumentSpec


class SimulatedBroker:
    def __init__(
        self,
        instruments: dict[str, InstrumentSpec],
        slippage: SlippageModel | None = None,
        fees: bool = True,
    ):
        self.instruments = instruments
        self.slippage = slippage or TickSlippage(1)
        self.fees = fees

    def execute(self, order: Order, quote: Quote, at: PriceKind) -> Outcome:
        return Outcome.of(self.fill(order, order.contracts, quote, at))

    def execute_together(self, legs: Sequence[tuple[Order, Quote]], at: PriceKind) -> list[Outcome]:
        return [self.execute(order, quote, at) for order, quote in legs]

    def fill(self, order: Order, contracts: int, quote: Quote, at: PriceKind) -> Fill:
        """``contracts`` of the order filled on this bar: price, slippage and fee."""
        spec = self.instruments[order.instrument]
        base = quote.open if at == "open" else quote.close
        slip = self.slippage.slip(order, quote, at, spec)
        price = base + order.action * slip
        if price <= 0:  # slippage can never push a price through zero
            price, slip = base, 0
        close_today = not order.opens and order.opened_on == quote.trading_day
        fee = fee_units(spec, contracts, price, order.opens, close_today) if self.fees else 0
        return Fill(
            order, contracts, quote.time, quote.trading_day, price, at, slip, fee, close_today
        )

"""The simulated broker: fills at the bar's open (with slippage in ticks against the
order) or at its close (no slippage), whole contracts, the instrument's fees."""

from __future__ import annotations

from twotier.broker.base import Fill, Order, PriceKind, Quote
from twotier.broker.fees import fee_units
from twotier.market.instruments import InstrumentSpec
from twotier.money import PRICE_SCALE


class SimulatedBroker:
    def __init__(
        self, instruments: dict[str, InstrumentSpec], slippage_ticks: int = 1, fees: bool = True
    ):
        self.instruments = instruments
        self.slippage_ticks = slippage_ticks
        self.fees = fees

    def execute(self, order: Order, quote: Quote, at: PriceKind) -> Fill:
        spec = self.instruments[order.instrument]
        base = quote.open if at == "open" else quote.close
        slip = 0
        if at == "open" and self.slippage_ticks:
            slip = int(spec.tick * PRICE_SCALE) * self.slippage_ticks
        price = base + order.action * slip
        if price <= 0:  # slippage can never push a price through zero
            price, slip = base, 0
        close_today = not order.opens and order.opened_on == quote.trading_day
        fee = fee_units(spec, order.contracts, price, order.opens, close_today) if self.fees else 0
        return Fill(order, quote.time, quote.trading_day, price, at, slip, fee, close_today)

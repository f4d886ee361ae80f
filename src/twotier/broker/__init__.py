"""Execution: orders in, outcomes out. ``Broker`` is the interface; ``SimulatedBroker``
fills backtests and paper trading; a gateway to an exchange is another implementation
(docs/live.md)."""

from fractions import Fraction

from twotier.broker.base import (
    MARKET_CLOSED,
    NO_VOLUME,
    PRICE_LIMIT,
    Broker,
    Fill,
    Order,
    Outcome,
    Quote,
)
from twotier.broker.fees import fee_units
from twotier.broker.simulated import SimulatedBroker
from twotier.broker.slippage import SlippageModel, TickSlippage

__all__ = [
    "MARKET_CLOSED",
    "NO_VOLUME",
    "PRICE_LIMIT",
    "Broker",
    "Fill",
    "Order",
    "Outcome",
    "Quote",
    "SimulatedBroker",
    "SlippageModel",
    "TickSlippage",
    "fee_units",
    "simulated_broker",
]


def simulated_broker(config, specs) -> SimulatedBroker:
    """The simulated broker of a configuration (its slippage and fees) for the
    instruments of ``specs``: the one place it is made, for backtests and paper trading."""
    execution, market = config.execution, config.market
    return SimulatedBroker(
        {s.key: s for s in specs},
        TickSlippage(execution.slippage_ticks),
        execution.fees,
        price_limits=market.price_limits,
        volume_fills=market.volume_fills,
        max_participation=market.max_participation,
        fee_multiplier=Fraction(str(config.broker.fee_multiplier)),
    )

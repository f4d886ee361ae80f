"""Execution: orders in, fills out. ``Broker`` is the interface; ``SimulatedBroker`` fills
backtests and paper trading; a real gateway would be another implementation."""

from twotier.broker.base import Broker, Fill, Order, Quote
from twotier.broker.fees import fee_units
from twotier.broker.simulated import SimulatedBroker

__all__ = ["Broker", "Fill", "Order", "Quote", "SimulatedBroker", "fee_units"]

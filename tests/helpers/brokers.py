"""A broker for tests that says no: it fills like the simulated broker except where a
script says otherwise for an order on a bar."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from twotier.broker import Order, Outcome, Quote, SimulatedBroker
from twotier.config import load_config
from twotier.market.instruments import default_registry


@dataclass(frozen=True)
class Answer:
    """What the broker does with an order: ``status`` unfilled, partial or rejected;
    ``contracts`` filled (partial); ``reason`` (a reason code, or the broker's text)."""

    status: str
    reason: str
    contracts: int = 0


class ScriptedBroker(SimulatedBroker):
    """``script[(bar time, "entry" | "close")]`` answers every such order on that bar;
    anything else fills whole. Stateless, so that a run and its every-step twin get the
    same answers."""

    def __init__(self, script: dict[tuple[pd.Timestamp, str], Answer], *overrides: str):
        config = load_config(overrides=list(overrides))
        registry = default_registry()
        super().__init__({k: registry[k] for k in config.instruments})
        self.script = script
        self.asked: list[tuple[pd.Timestamp, str, int]] = []

    def execute(self, order: Order, quote: Quote, at) -> Outcome:
        kind = "entry" if order.opens else "close"
        self.asked.append((quote.time, kind, order.contracts))
        answer = self.script.get((quote.time, kind))
        if answer is None:
            return super().execute(order, quote, at)
        if answer.status == "partial":
            return Outcome.of(self.fill(order, answer.contracts, quote, at), answer.reason)
        return Outcome(order, answer.status, None, answer.reason)

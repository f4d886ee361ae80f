"""The market of an instrument's bars as they arrive (RULES.md 10): each bar's lock and
volume, and each trading day's settlement once the day is over, with the functions a
backtest applies to every day at once (``twotier.market.settlement``).

A day's settlement is known after its last bar: it is taken when the instrument's next
trading day begins, or when a step of a later trading day is taken (an instrument
without a night session has no bar at the evening's steps of other instruments), so
that margin refers to the previous day's settlement at every step, as in a backtest.
"""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

import numpy as np

from twotier.config.model import MarketParams
from twotier.live.bars import Bar
from twotier.market.instruments import InstrumentSpec
from twotier.market.settlement import (
    NO_PRICE,
    SettlementHistory,
    bar_limits,
    day_settlements,
    same_contract_settlement,
)
from twotier.money import price_units


class BarMarket(NamedTuple):
    volume: float | None  # None: fills do not look at volume
    locked: int  # +1 locked up, -1 locked down
    limit_up: int | None  # the data's limits, price units
    limit_down: int | None


NO_MARKET = BarMarket(None, 0, None, None)  # the market rules off


def _units(value: float | None) -> int | None:
    """A price of the data in price units; None where blank or missing. As a backtest's
    ``engine.market`` converts a column: rounded, not refused beyond what prices carry."""
    return None if value is None or value != value else int(np.rint(value * 10_000))


class MarketTracker:
    def __init__(self, spec: InstrumentSpec, market: MarketParams):
        self.spec = spec
        self.market = market
        self.settlements = SettlementHistory()
        self.day: date | None = None  # the trading day being gathered
        self.contract: str | None = None
        # high, low, close (price units), volume, the data's settle (price units, NaN: none)
        self.rows: list[tuple[int, int, int, float, float]] = []
        self.previous: tuple[str | None, int] = (None, NO_PRICE)  # last settled day's

    def update(self, bar: Bar, contract: str | None) -> BarMarket:
        """The bar's volume (as fills see it), lock and the limits of the data (price
        units, None where it has none or price limits are off)."""
        self.settle_before(bar.trading_day)
        if self.day is None:
            self.day, self.contract = bar.trading_day, contract
        high, low, close = (price_units(v) for v in (bar.high, bar.low, bar.close))
        settle = _units(bar.settle)
        self.rows.append(
            (high, low, close, float(bar.volume), np.nan if settle is None else settle)
        )
        volume = float(bar.volume) if self.market.volume_fills else None
        if not self.market.price_limits:
            return NO_MARKET._replace(volume=volume)
        up, down = _units(bar.limit_up), _units(bar.limit_down)
        prev_contract, prev_settle = self.previous
        prev = same_contract_settlement(prev_contract, prev_settle, contract)
        rate = self.spec.terms.on(bar.trading_day).limit_rate
        _, _, lock = bar_limits(high, low, prev, rate, self.spec.tick_units,
                                self.market.limit_tolerance, NO_PRICE if up is None else up,
                                NO_PRICE if down is None else down)  # fmt: skip
        return BarMarket(volume, int(lock), up, down)

    def settle_before(self, day: date) -> None:
        """Settle the day gathered so far if ``day`` is a later one."""
        if self.day is None or day <= self.day:
            return
        high, low, close, volume, given = (np.array(c) for c in zip(*self.rows, strict=True))
        price = int(
            day_settlements(np.array([0]), high, low, close, volume, self.spec.tick_units, given)[0]
        )
        self.settlements.add(self.contract, self.day, price)
        self.previous = (self.contract, price)
        self.day, self.contract, self.rows = None, None, []

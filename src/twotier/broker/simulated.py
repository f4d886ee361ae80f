"""The simulated broker: fills at the bar's open (with slippage against the order) or at
its close, whole contracts, the instrument's fees of the trading day.

With the market rules on (RULES.md 10.2, 10.3), a buy does not fill on a bar locked at its
limit up nor a sell on one locked at its limit down (no counterparty); nothing fills on a
bar without volume; a participation cap lets at most a share of the bar's volume fill,
shared in order by every fill on the instrument's bar; fill prices stay within limits
known from the data. Otherwise every order fills (sections 1-9).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction

from twotier.broker.base import NO_VOLUME, PRICE_LIMIT, Fill, Order, Outcome, PriceKind, Quote
from twotier.broker.fees import ONE, InstrumentFees
from twotier.broker.slippage import SlippageModel, TickSlippage
from twotier.market.instruments import InstrumentSpec
from twotier.money import share_of, written_ratio


class SimulatedBroker:
    def __init__(
        self,
        instruments: dict[str, InstrumentSpec],
        slippage: SlippageModel | None = None,
        fees: bool = True,
        *,
        price_limits: bool = False,
        volume_fills: bool = False,
        max_participation: float = 0.0,
        fee_multiplier: Fraction = ONE,
    ):
        self.instruments = instruments
        self.slippage = slippage or TickSlippage(1)
        self.fees = fees
        self.price_limits = price_limits
        self.volume_fills = volume_fills
        self.max_participation = max_participation
        self._participation = written_ratio(max_participation)
        self.fee_multiplier = fee_multiplier
        self._used: dict[str, tuple[object, int]] = {}  # instrument -> (bar, contracts filled)
        self._fees: dict[str, InstrumentFees] = {}  # instrument -> its fees, from its first fill

    def execute(self, order: Order, quote: Quote, at: PriceKind) -> Outcome:
        refused = self.refusal(order, quote)
        if refused:
            return Outcome(order, "unfilled", None, refused)
        contracts = order.contracts
        if self.capped:  # else nothing to share out between orders on a bar
            contracts = min(contracts, self.available(order.instrument, quote))
            if contracts > 0:
                self._take(order.instrument, quote, contracts)
        if contracts <= 0:
            return Outcome(order, "unfilled", None, NO_VOLUME)
        return Outcome.of(self.fill(order, contracts, quote, at), NO_VOLUME)

    def execute_together(self, legs: Sequence[tuple[Order, Quote]], at: PriceKind) -> list[Outcome]:
        """Both legs (of a roll) on the same bar, or neither: neither leg may be refused,
        and the cap must leave room for all their contracts (a roll is never split)."""
        why = next((w for w in (self.refusal(o, q) for o, q in legs) if w), "")
        if not why:
            need: dict[str, int] = {}
            for order, _ in legs:
                need[order.instrument] = need.get(order.instrument, 0) + order.contracts
            room = {o.instrument: self.available(o.instrument, q) for o, q in legs}
            if any(need[k] > room[k] for k in need):
                why = NO_VOLUME
        if why:
            return [Outcome(order, "unfilled", None, why) for order, _ in legs]
        outcomes = []
        for order, quote in legs:
            self._take(order.instrument, quote, order.contracts)
            outcomes.append(Outcome.of(self.fill(order, order.contracts, quote, at)))
        return outcomes

    def refusal(self, order: Order, quote: Quote) -> str:
        """Why nothing of the order can fill on this bar ('' when something can)."""
        if self.price_limits and quote.locked * order.action > 0:
            return PRICE_LIMIT  # a buy at a lock up, a sell at a lock down
        if self.volume_fills and quote.volume is not None and quote.volume <= 0:
            return NO_VOLUME
        return ""

    @property
    def capped(self) -> bool:
        """Whether a participation cap limits the contracts a bar fills (RULES.md 10.3)."""
        return bool(self.volume_fills and self.max_participation)

    def available(self, instrument: str, quote: Quote) -> int | float:
        """Contracts the participation cap still lets fill on this bar."""
        if not self.capped or quote.volume is None:
            return math.inf
        if quote.volume != quote.volume:  # blank: no value (RULES.md 10.6 item 4)
            return math.inf
        cap = share_of(quote.volume, self._participation)
        bar, used = self._used.get(instrument, (None, 0))
        return cap - used if bar == quote.time_ns else cap

    def _take(self, instrument: str, quote: Quote, contracts: int) -> None:
        bar, used = self._used.get(instrument, (None, 0))
        self._used[instrument] = (quote.time_ns, (used if bar == quote.time_ns else 0) + contracts)

    def fill(self, order: Order, contracts: int, quote: Quote, at: PriceKind) -> Fill:
        """``contracts`` of the order filled on this bar: price, slippage and fee."""
        spec = self.instruments[order.instrument]
        base = quote.open if at == "open" else quote.close
        price = base + order.action * self.slippage.slip(order, quote, at, spec)
        if price <= 0:  # a sell slipped through zero fills at the lowest price, one tick
            price = min(base, spec.tick_units)
        if self.price_limits:  # slippage that would cross a limit stops at it
            if quote.limit_up is not None:
                price = min(price, max(base, quote.limit_up))
            if quote.limit_down is not None:
                price = max(price, min(base, quote.limit_down))
        slip = abs(price - base)
        close_today = not order.opens and order.opened_on == quote.trading_day
        fee = 0
        if self.fees:
            fees = self._fees.get(order.instrument)
            if fees is None:
                fees = self._fees[order.instrument] = InstrumentFees(spec, self.fee_multiplier)
            fee = fees.units(contracts, price, order.opens, close_today, quote.trading_day)
        return Fill(order, contracts, quote.time_ns, quote.trading_day, price, at, slip, fee,
                    close_today)  # fmt: skip

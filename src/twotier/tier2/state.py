"""Tier-2's state: baskets, positions, orders waiting for a fill, and portfolio
bookkeeping. Plain dataclasses; the step function is the only thing that changes them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from twotier.broker.base import Order
from twotier.market.instruments import InstrumentSpec
from twotier.market.rolls import Roll
from twotier.market.times import exchange_time
from twotier.tier2.rolling import old_contract_price
from twotier.tier2.sizing import EntryPlan


@dataclass(slots=True)
class Package:
    """One bar of one basket as Tier-2 sees it (prices in price units). Not changed once
    made (not frozen only because frozen dataclasses are slow to build, and a backtest
    builds one per basket and step)."""

    bar: int  # index of the bar in the basket's own series
    time_ns: int  # bar start, nanoseconds since the epoch (UTC)
    trading_day: date
    open: int
    close: int
    signal: int
    confidence: float
    strength: float
    regime: int
    episode: int  # numbered runs of equal non-zero signal over the basket's own bars
    contract: str | None = None  # the contract these prices are of, where known
    roll: Roll | None = None  # set on the first bar of a roll's trading day
    conviction: float | None = None  # decided, with the basket's weights, when precomputed
    # The market of the bar (RULES.md 10), where known and switched on:
    volume: float | None = None  # None: fills do not look at volume
    locked: int = 0  # +1 locked at limit up, -1 at limit down (no buy / no sell fills)
    limit_up: int | None = None  # limits from the data (fills stay within them)
    limit_down: int | None = None

    @property
    def time(self) -> pd.Timestamp:
        return exchange_time(self.time_ns)


@dataclass(slots=True)  # one a decided step: slots make it faster to make and read
class StepInput:
    """One time step: its time (bar start, nanoseconds since the epoch), trading day, and
    the package of every basket whose instrument has a bar at this time (others are
    absent)."""

    time_ns: int
    trading_day: date
    packages: dict[int, Package]
    # The portfolio view's (chaos count, average conviction, reserve target) of the
    # baskets' latest packages, where a tape computed them for every step by the same
    # rules (``Composite.view`` computes them otherwise).
    portfolio: tuple[int, float, float] | None = None

    @property
    def time(self) -> pd.Timestamp:
        """The time as a Timestamp in exchange time (made when first asked for: most
        steps only record, which needs the nanoseconds)."""
        return exchange_time(self.time_ns)


@dataclass
class Position:
    side: int
    contracts: int
    entry_price: int  # price units: the fill price on the contract held now
    entry_ns: int  # bar start of the fill, nanoseconds since the epoch
    entry_day: date
    decided_ns: int  # the entry's decision, nanoseconds since the epoch
    price_kind: str
    tier: str
    conviction: float
    size_fraction: float
    leverage: float
    effective_leverage: float
    committed: float  # CNY; fixed at entry, scaled down by derisk cuts
    stop: float
    target: float
    trailing: bool
    best_close: float  # price units, best close since entry (starts at the fill price)
    basis: float  # price units: entry price as stops and targets see it (carried by rolls)
    armed: bool = False
    entry_fee: int = 0  # money units still to be allocated to closes
    episode: int = 0
    closing: int = 0  # contracts whose close has been decided but not filled
    trade_id: int = 0
    contract: str | None = None  # the contract held now
    entry_contract: str | None = None  # the contract first entered
    opened_price: int = 0  # price units: the first fill, before any roll
    carried_pnl: int = 0  # money units realised on earlier contracts (rolls), not yet reported
    carried_fees: int = 0  # money units of roll fees, not yet reported

    @property
    def entry_time(self) -> pd.Timestamp:
        return exchange_time(self.entry_ns)

    @property
    def decided_at(self) -> pd.Timestamp:
        return exchange_time(self.decided_ns)


@dataclass
class PendingClose:
    """A close decided but not yet filled, and how many tries it has failed (the bars it
    has waited: RULES.md 10.6 item 6)."""

    order: Order
    tries: int = 0


@dataclass
class PendingRoll:
    """A roll that could not fill on its bar, or waits behind a close of the old contract:
    both legs are tried at each next bar with no close waiting (RULES.md 10.6 item 14);
    ``tries``: the bars it has waited. Meanwhile the old contract is priced at the new
    one's price divided by the roll ratio, to the tick (also once a breaker or forced
    liquidation has replaced the roll by a close)."""

    roll: Roll
    tries: int = 0


@dataclass
class PendingEntry:
    """An entry decided but not yet filled."""

    plan: EntryPlan
    order: Order
    episode: int


@dataclass
class BasketState:
    index: int
    spec: InstrumentSpec
    capital: int  # money units allocated at the start
    cash: int  # capital + realised P&L - fees
    position: Position | None = None
    entry_order: PendingEntry | None = None
    close_orders: list[PendingClose] = field(default_factory=list)  # decided, not yet filled
    pending_roll: PendingRoll | None = None
    last: Package | None = None  # latest package seen
    traded_episode: int = -1  # episode already traded (or not to be traded)

    @property
    def instrument(self) -> str:
        return self.spec.key

    def mark_price(self, close):
        """The price the position is marked at, for the latest close of the basket's data
        (one, or an array): the close, or the old contract's price while a roll waits."""
        if self.pending_roll is None:
            return close
        return old_contract_price(close, self.pending_roll.roll, self.spec.tick_units)

    def open_pnl(self) -> int:
        p, last = self.position, self.last
        if p is None or last is None:
            return 0
        price = self.mark_price(last.close)
        return p.side * p.contracts * self.spec.multiplier * (price - p.entry_price)

    def equity(self) -> int:
        return self.cash + self.open_pnl()

    @property
    def unclosed(self) -> int:
        """Contracts of the position whose close has not been decided."""
        p = self.position
        return 0 if p is None else p.contracts - p.closing

    @property
    def flat(self) -> bool:
        return self.position is None and self.entry_order is None


@dataclass
class PortfolioState:
    baskets: list[BasketState]
    reserve: int  # money units, never traded
    initial: int
    peak: int
    day_start: int
    last_pv: int
    trading_day: date | None = None
    halted_day: date | None = None  # no entries on this trading day
    halt_reason: str = ""
    drawdown_fired_day: date | None = None
    daily_loss_fired_day: date | None = None
    caps_halved_through: int = -1  # trading-day number through which caps are halved
    day_number: int = -1  # trading days seen so far (0-based)
    peak_reset_pending: bool = False
    realised: int = 0  # sum of realised P&L, money units
    fees: int = 0  # sum of fees paid
    next_trade_id: int = 1
    start_time: pd.Timestamp | None = None  # RULES.md 8.32: episodes running here are skipped

    def pv(self) -> int:
        total = self.reserve
        for b in self.baskets:
            total += b.equity()
        return total

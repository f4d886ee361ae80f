"""The live loop's feed on a gateway: the gateway's ticks as 1-minute bars, and the
contracts it subscribes to.

Each poll takes the gateway's events (``GatewayBroker.pump``), makes 1-minute bars of
the ticks of the contract each instrument trades on that trading day
(``twotier.live.ticks``) and closes the minutes whose end the clock has passed; the loop
then makes 15-minute bars of them (``twotier.live.aggregate``) and steps as for paper
trading. Subscriptions follow the contracts: the one traded today and, with a roll
schedule, the next one (so that the roll's first bar has its ticks).

A *replay gateway* (one that plays recorded market data: tests, rehearsals) has
``replay_time()`` (the exchange time of its next moment, None when it is over) and
``replay_next()`` (push that moment's ticks and match orders against them). The feed then
keeps the clock: it first moves the clock to the next moment and lets the loop act on it
(close the bars that ended, step, send orders), and only then has the gateway play the
moment, as a live exchange would have had the orders before its next trade.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from twotier.errors import ConfigError
from twotier.live.bars import Bar, HorizonWatch
from twotier.live.feeds import Batch
from twotier.live.gateway_broker import GatewayBroker
from twotier.live.ticks import NS, MinuteBars
from twotier.market.rolls import RollSchedule


@dataclass
class ContractPlan:
    """The contract each instrument trades on a trading day: from its roll schedule, or
    the one given with ``--contract``."""

    schedules: dict[str, RollSchedule] = field(default_factory=dict)
    fixed: dict[str, str] = field(default_factory=dict)

    def contract_for(self, instrument: str, day: date) -> str:
        names, days = self._names(instrument)
        return names[bisect.bisect_right(days, day)]

    def needed(self, instrument: str, day: date) -> list[str]:
        """Today's contract and the next roll's (subscribed ahead)."""
        names, days = self._names(instrument)
        at = bisect.bisect_right(days, day)
        return names[at : at + 2]

    def _names(self, instrument: str) -> tuple[list[str], list[date]]:
        schedule = self.schedules.get(instrument)
        if schedule is not None and schedule.rolls:
            rolls = schedule.rolls
            return [rolls[0].old_contract, *(r.new_contract for r in rolls)], [
                r.trading_day for r in rolls
            ]
        if instrument in self.fixed:
            return [self.fixed[instrument]], []
        raise ConfigError(
            f"which contract does {instrument} trade? give --contract {instrument}=CODE "
            f"(e.g. {instrument.rpartition('/')[2]}2509) or a roll schedule with --rolls"
        )


class FeedClock:
    """The loop's time: the wall clock, or a replay gateway's."""

    def __init__(self, wall: Callable[[], int] | None = None):
        self.wall = wall
        self.replay_ns = 0

    def __call__(self) -> int:
        return self.wall() if self.wall is not None else self.replay_ns


class GatewayFeed:
    def __init__(
        self,
        broker: GatewayBroker,
        builders: dict[str, MinuteBars],
        plan: ContractPlan,
        clock: FeedClock,
        *,
        horizon: HorizonWatch | None = None,
        grace: float,
        on_reconnect: Callable[[], None] = lambda: None,
        reconnect_settle: float = 0.0,
    ):
        self.broker = broker
        self.gateway = broker.gateway
        self.builders = builders
        self.plan = plan
        self.clock = clock
        self.horizon = horizon
        self.replay = hasattr(self.gateway, "replay_next")
        self.grace_ns = 0 if self.replay else int(grace * NS)
        self.on_reconnect = on_reconnect
        self.reconnect_settle_ns = int(reconnect_settle * NS)
        self.reconcile_at: int | None = None
        self.subscribed: set[str] = set()
        self._day: date | None = None
        self._acted = True  # the loop has acted on the clock's latest move

    def subscribe(self) -> None:
        """Subscribe to the contracts of the trading day (again when the day changes)."""
        from vnpy.trader.constant import Exchange
        from vnpy.trader.object import SubscribeRequest

        day = self.broker.trading_day(self.clock())
        if day == self._day:
            return
        self._day = day
        for key, builder in self.builders.items():
            for symbol in self.plan.needed(key, day):
                if symbol not in self.subscribed:
                    self.subscribed.add(symbol)
                    exchange = Exchange(builder.spec.market)
                    self.gateway.subscribe(SubscribeRequest(symbol=symbol, exchange=exchange))

    def poll(self, timeout: float) -> Batch:
        if not self.replay:
            self.broker.pump(timeout)
            return Batch(self._bars())
        self.broker.pump(0.0)
        bars = self._bars()
        if bars:
            return Batch(bars)
        upcoming = self.gateway.replay_time()
        if upcoming is None:
            return Batch(self._finish(), ended=True)
        if self.clock.replay_ns < upcoming:  # time passes first: bars end, orders go out
            self.clock.replay_ns = upcoming
            self.broker.work()
            self._acted = False
            return Batch(self._bars())
        if not self._acted:  # one quiet poll, so that the loop closes what ended
            self._acted = True
            return Batch()
        self.gateway.replay_next()
        self.broker.pump(0.0)
        return Batch(self._bars())

    def advance(self) -> bool:
        """Play a replay gateway's market on by one moment (while the broker waits for
        an order inside a step); False when the replay is over."""
        upcoming = self.gateway.replay_time()
        if upcoming is None:
            return False
        self.clock.replay_ns = max(self.clock.replay_ns, upcoming)
        self.gateway.replay_next()
        return True

    def _bars(self) -> list[Bar]:
        self.subscribe()
        self._after_reconnect()
        out: list[Bar] = []
        for tick in self.broker.take_ticks():
            day = tick.trading_day or self.broker.trading_day(tick.time_ns)
            if tick.contract == self.plan.contract_for(tick.instrument, day):
                out += self.builders[tick.instrument].add(tick)
        now = self.clock()
        for builder in self.builders.values():
            out += builder.due(now, self.grace_ns)
        if self.horizon is not None:
            self.horizon.see(out)
        return out

    def _after_reconnect(self) -> None:
        """A re-login: positions and the account are asked for again, and once the
        gateway has had time to push the day's orders and trades again, reconciled."""
        if self.broker.view.logins > self.broker.logins_reconciled:
            self.broker.logins_reconciled = self.broker.view.logins
            self.gateway.query_position()
            self.gateway.query_account()
            self.reconcile_at = self.clock() + self.reconnect_settle_ns
        if self.reconcile_at is not None and self.clock() >= self.reconcile_at:
            self.reconcile_at = None
            self.on_reconnect()

    def _finish(self) -> list[Bar]:
        out: list[Bar] = []
        for builder in self.builders.values():
            out += builder.due(2**62, 0)
        if self.horizon is not None:
            self.horizon.see(out)
        return out

    def close(self) -> None:
        self.gateway.close()

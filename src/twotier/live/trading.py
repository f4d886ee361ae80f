"""``twotier live``: the paper loop on a vn.py gateway (docs/live.md).

The same state folder, lock, log, alerts, restart and run folder as ``twotier paper``
(``twotier.live.loop``): only the feed (the gateway's ticks, ``gateway_feed.py``) and
the broker (the exchange, ``gateway_broker.py``) differ. The start:

    lock the state folder -> load the gateway class -> read the connection settings
    -> connect and wait until the gateway has told its contracts and account
    -> open the session (new, or restored from the database) -> match the gateway's
       orders of the day with the requests of earlier runs -> reconcile positions and
       equity -> send what the outbox holds -> subscribe -> the loop

``--flatten`` (the kill switch): the broker refuses every opening order, and at each
step every position still held is closed (``kill_switch``) through the same orders as any
exit; the run stops once nothing is held and no order waits.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from twotier.config.model import Config
from twotier.engine.inputs import Environment
from twotier.errors import ConfigError
from twotier.live.bars import ZONE, HorizonWatch
from twotier.live.gateway import (
    READY_LINES,
    GatewayError,
    GatewayEvents,
    load_gateway_class,
    read_connect_settings,
)
from twotier.live.gateway_broker import GatewayBroker
from twotier.live.gateway_feed import ContractPlan, FeedClock, GatewayFeed
from twotier.live.gateway_journal import GatewayJournal
from twotier.live.gateway_reconcile import Reconciler
from twotier.live.lock import StateLock
from twotier.live.loop import LiveLoop, PaperOutcome, PaperSettings, open_session, stored_rolls
from twotier.live.ops import Ops, Shutdown
from twotier.live.rolls import read_roll_files
from twotier.live.session import PaperSession
from twotier.live.store import Store
from twotier.live.ticks import MinuteBars
from twotier.tier2.composite import Composite
from twotier.tier2.state import PortfolioState, StepInput

KILL_SWITCH = "kill_switch"
CONTRACTS_QUIET = 5.0  # seconds without a new contract: the gateway has told them all
SETTLE_SECONDS = 3.0  # for the answers to a position and account query
RECONNECT_SETTLE = 10.0  # after a re-login, for the day's orders and trades pushed again


@dataclass
class LiveSettings:
    gateway: str  # a vn.py gateway by name (ctp -> vnpy_ctp), or module:Class
    connect: Path  # the gateway's own settings (JSON, private)
    state_dir: Path
    config_file: Path | None = None
    overrides: list[str] = field(default_factory=list)
    history: dict[str, Path] = field(default_factory=dict)
    rolls: dict[str | None, Path] = field(default_factory=dict)
    contracts: dict[str, str] = field(default_factory=dict)  # instrument -> contract
    out_dir: Path | None = None
    flatten: bool = False  # the kill switch
    adopt: bool = False  # accept what reconciliation finds different
    tick_grace: float = 3.0  # seconds after a minute's end before it closes
    step_wait: float = 30.0
    stale_after: float = 60.0
    poll: float = 0.5
    flush_every: float = 60.0
    ready_timeout: float = 60.0  # seconds for the gateway to log in and tell its contracts
    synchronous: str = "FULL"
    quiet: bool = False

    def paper(self) -> PaperSettings:
        """The loop's settings: 1-minute bars from the ticks."""
        return PaperSettings(
            feed=f"gateway:{self.gateway}",
            state_dir=self.state_dir,
            config_file=self.config_file,
            overrides=list(self.overrides),
            history=dict(self.history),
            rolls=dict(self.rolls),
            bar_minutes=1,
            out_dir=self.out_dir,
            step_wait=self.step_wait,
            grace=self.tick_grace,
            stale_after=self.stale_after,
            poll=self.poll,
            flush_every=self.flush_every,
            synchronous=self.synchronous,
            quiet=self.quiet,
        )


def run_live(
    settings: LiveSettings,
    *,
    now: Callable[[], int] | None = None,
    monotonic: Callable[[], float] = time.monotonic,
    stderr=None,
    handle_signals: bool = True,
) -> PaperOutcome:
    state_dir = Path(settings.state_dir).resolve()
    state_dir.mkdir(parents=True, exist_ok=True)
    settings.state_dir = state_dir
    shutdown = Shutdown()
    with StateLock(state_dir):
        ops = Ops(state_dir, quiet=settings.quiet, stderr=stderr)
        store = Store(state_dir / "state.db", synchronous=settings.synchronous)
        if handle_signals:
            shutdown.install()
        gateway = None
        try:
            gateway_class = load_gateway_class(settings.gateway, state_dir)
            connect = read_connect_settings(settings.connect, gateway_class)
            events = GatewayEvents(monotonic)
            gateway = gateway_class(events, gateway_class.default_name or settings.gateway)
            replay = hasattr(gateway, "replay_next")
            clock = FeedClock(None if replay else (now or time.time_ns))
            start = Start(settings, store, ops, gateway, events, connect, clock)
            paper = settings.paper()
            if replay:  # the replay's clock is exact: a bar is complete at its end, and
                paper.grace = 0.0  # the run folder is written at the end (or every minute)
                paper.flush_gap = paper.flush_every
            session, env, restored = open_session(paper, store, ops, start.broker, start.check)
            broker, plan = start.made
            calendar = env.calendar.assuming_weekdays()  # past the horizon (RULES.md 11)
            source = f"gateway {settings.gateway}"
            builders = {
                s.key: MinuteBars(s, calendar, source=source, warn=ops.warn) for s in session.specs
            }
            feed = GatewayFeed(
                broker,
                builders,
                plan,
                clock,
                horizon=HorizonWatch(calendar, ops.warn),
                grace=settings.tick_grace,
                on_reconnect=lambda: start.reconcile(session, "after a reconnect"),
                reconnect_settle=0.0 if replay else RECONNECT_SETTLE,
            )
            if replay:
                broker.advance = feed.advance
            feed.subscribe()
            wall = lambda: pd.Timestamp(clock(), tz=ZONE)  # noqa: E731
            loop = LiveLoop(session, env, paper, ops, feed, shutdown, wall, monotonic)
            if replay:  # recorded ticks are sparse by construction: never stale
                loop.stale = NeverStale()
            if settings.flatten:
                session.after_decide = kill_switch(session.composite)
                loop.until = lambda: "flattened" if flat(session.state) else None
            outcome = loop.run()
            outcome.restore_seconds = restored
            return outcome
        except Exception as exc:
            ops.failed(exc)
            raise
        finally:
            if gateway is not None:
                gateway.close()
            shutdown.restore()
            store.close()
            ops.close()


class Start:
    """The broker made inside ``open_session`` (which knows the configuration), and the
    reconciliation it runs before any order goes out."""

    def __init__(self, settings, store, ops, gateway, events, connect, clock):
        self.settings = settings
        self.store = store
        self.ops = ops
        self.gateway = gateway
        self.events = events
        self.connect = connect
        self.clock = clock
        self.made: tuple[GatewayBroker, ContractPlan] | None = None
        self.reconciler: Reconciler | None = None

    def broker(self, config: Config, env: Environment) -> GatewayBroker:
        specs = [env.instruments[k] for k in config.instruments]
        plan = ContractPlan(self._schedules(config, env), self._contracts(config))
        broker = GatewayBroker(
            self.gateway,
            self.events,
            config,
            specs,
            env.calendar.assuming_weekdays(),  # past the horizon, as paper (RULES.md 11)
            GatewayJournal(self.store),
            clock=self.clock,
            contract_for=plan.contract_for,
            alert=self.ops.alert,
            log=lambda message: self.ops.event("gateway", f"gateway: {message}"),
            note=lambda message: self.ops.event("order", message),
            kill_switch=self.settings.flatten,
        )
        self.made = (broker, plan)
        self.reconciler = Reconciler(
            config, self.store, broker, plan.contract_for, self.ops.alert, self.ops.event
        )
        self._connect(broker, plan, config)
        return broker

    def check(self, session: PaperSession) -> None:
        broker, _ = self.made
        broker.settle_restart()
        self.reconcile(session, "at the start")

    def reconcile(self, session: PaperSession, when: str) -> None:
        broker, _ = self.made
        if when == "at the start":
            broker.logins_reconciled = broker.view.logins
        self.reconciler.check(session.state, adopt=self.settings.adopt, when=when)

    def _connect(self, broker: GatewayBroker, plan: ContractPlan, config: Config) -> None:
        """Connect and wait until the gateway has told the contracts traded and the
        account (and, after a restart, its orders and trades of the day)."""
        replay = hasattr(self.gateway, "replay_next")
        self.ops.event("start", f"connecting to gateway {self.settings.gateway}")
        self.gateway.connect(self.connect)
        if replay:
            self.clock.replay_ns = self.gateway.replay_time() or 0
        deadline = time.monotonic() + self.settings.ready_timeout
        known, quiet_since = -1, time.monotonic()
        while True:
            broker.pump(0.0 if replay else 0.2)
            day = broker.trading_day(self.clock())
            wanted = {c for k in config.instruments for c in plan.needed(k, day)}
            missing = sorted(wanted - set(broker.view.contracts))
            if len(broker.view.contracts) != known:
                known, quiet_since = len(broker.view.contracts), time.monotonic()
            # All contracts told: the gateway says so, or they stopped coming for a while.
            told = any(line in m for m in broker.view.logs for line in READY_LINES)
            told = told or time.monotonic() - quiet_since >= CONTRACTS_QUIET
            if not missing and told and broker.view.account is not None:
                break
            if time.monotonic() > deadline:
                what = f"contracts {', '.join(missing)}" if missing else "the account"
                raise GatewayError(
                    f"gateway {self.settings.gateway} did not report {what} within "
                    f"{self.settings.ready_timeout:g} s (see its lines in the log)"
                )
        self.gateway.query_position()
        self.gateway.query_account()
        settle = time.monotonic() + (0 if replay else SETTLE_SECONDS)
        while True:
            broker.pump(0.0 if replay else 0.2)
            if time.monotonic() >= settle:
                break
        self.ops.event("start", f"gateway {self.settings.gateway} ready")

    def _schedules(self, config: Config, env: Environment):
        stored = stored_rolls(self.store).schedules
        given = read_roll_files(self.settings.rolls, config.instruments, env.instruments)
        return {**stored, **given}

    def _contracts(self, config: Config) -> dict[str, str]:
        stored = json.loads(self.store.meta("live_contracts") or "{}")
        unknown = set(self.settings.contracts) - set(config.instruments)
        if unknown:
            raise ConfigError(f"--contract for {', '.join(sorted(unknown))}: no basket trades it")
        contracts = {**stored, **self.settings.contracts}
        if contracts != stored:
            with self.store.transaction() as tx:
                tx.set_meta("live_contracts", json.dumps(contracts, sort_keys=True))
        return contracts


class NeverStale:
    def heard(self, instrument: str, bar_end) -> None:
        pass

    def check(self, now) -> list[str]:
        return []


def kill_switch(composite: Composite) -> Callable[[PortfolioState, StepInput], None]:
    """After each step: cancel entries not yet filled, close what is held."""

    def close_everything(state: PortfolioState, inp: StepInput) -> None:
        for b in state.baskets:
            composite.cancel_entry(b, inp.time_ns, KILL_SWITCH)
            if b.unclosed > 0:
                composite.close(state, b, b.unclosed, KILL_SWITCH, inp)

    return close_everything


def flat(state: PortfolioState) -> bool:
    return all(
        b.position is None and not b.close_orders and b.entry_order is None for b in state.baskets
    )

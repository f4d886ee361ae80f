"""The live loop: feed -> 15-minute bars -> steps -> commits -> run folder.

    poll the feed for new raw bars
    -> aggregate them into 15-minute bars (aggregate.py)
    -> skip bars already processed (a restart re-reads the feed from its start); a bar
       for a time already stepped is late: Tier-1 only
    -> take every step the step-completion rule allows (stepping.py); each one is
       committed before the next (session.py)
    -> when the feed has nothing more for now: rewrite the run folder, check for stale
       data
until the feed ends or SIGINT/SIGTERM asks to stop (after the current step).
"""

from __future__ import annotations

import json
import sqlite3
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from twotier.config.baskets import fit_baskets
from twotier.config.load import config_to_toml, load_config, stored_config
from twotier.config.model import Config
from twotier.engine.inputs import Environment, load_bar_files
from twotier.errors import ConfigError
from twotier.io import write_text_atomic
from twotier.live import codec
from twotier.live.aggregate import Aggregator
from twotier.live.bars import Bar, BarReader, frame_to_bars
from twotier.live.broker import LiveBroker, PaperBroker, reconcile
from twotier.live.feeds import Feed, check_feed, instrument_of, make_feed
from twotier.live.lock import StateLock
from twotier.live.ops import Ops, Shutdown, StaleWatch
from twotier.live.outputs import write_outputs
from twotier.live.rolls import RollInfo, read_roll_files
from twotier.live.session import PaperSession, StepReport
from twotier.live.stepping import StepClock
from twotier.live.store import (
    Store,
    check_state_folder,
    make_state_folder,
    mark_state_folder,
    state_damaged,
)
from twotier.market.calendar import TIMEZONE
from twotier.market.instruments import InstrumentRegistry
from twotier.market.validation import PAPER_HINTS
from twotier.run.folder import PAPER_RUN
from twotier.run.folder import check as check_output

RUN_OPTION = "--out"
HEARTBEAT_SECONDS = 5.0  # a catch-up logs a line per batch of steps, at least this often


@dataclass
class PaperSettings:
    feed: str  # folder:DIR or stdin
    state_dir: Path
    config_file: Path | None = None
    overrides: list[str] = field(default_factory=list)
    history: dict[str, Path] = field(default_factory=dict)
    # Roll schedules: {instrument: file}; the key None is the only basket's instrument.
    rolls: dict[str | None, Path] = field(default_factory=dict)
    contract_column: str | None = None  # default: the configuration's data.contract_column
    label: str | None = None  # default: as the state was started, else data.label
    bar_minutes: int | None = None  # of the feed's bars; default: as started, else 15
    out_dir: Path | None = None  # default: STATE/run
    once: bool = False  # folder feed: process what is there, then stop
    step_wait: float = 30.0  # seconds a step waits for a late instrument
    grace: float = 30.0  # seconds after its end before an incomplete 15-minute bar closes
    stale_after: float = 60.0  # seconds beyond a bar's length before data is stale
    poll: float = 0.5  # seconds between looks at the feed
    flush_every: float = 60.0  # seconds between run-folder writes during a catch-up
    flush_gap: float = 1.0  # seconds between run-folder writes at least, when idle
    synchronous: str = "FULL"  # SQLite: FULL survives power loss, NORMAL a crash
    quiet: bool = False  # stderr: warnings only

    @property
    def run_dir(self) -> Path:
        return self.out_dir or Path(self.state_dir) / "run"


@dataclass
class PaperOutcome:
    steps: int  # steps taken by this process
    total_steps: int
    reason: str
    run_dir: Path
    restore_seconds: float | None = None


def run_paper(
    settings: PaperSettings,
    *,
    stdin_fd: int = 0,
    now: Callable[[], pd.Timestamp] | None = None,
    monotonic: Callable[[], float] = time.monotonic,
    stderr=None,
    handle_signals: bool = True,
) -> PaperOutcome:
    state_dir = Path(settings.state_dir)
    check_feed(settings.feed)
    check_state_folder(state_dir)
    # Before anything is created: a refused --out leaves no new state folder behind.
    check_output(settings.run_dir, PAPER_RUN, option=RUN_OPTION, force_hint=False)
    make_state_folder(state_dir)
    shutdown = Shutdown()
    with StateLock(state_dir):
        # The database first: one that cannot be resumed is refused before the log or
        # the marker is written into the folder.
        store = Store(state_dir / "state.db", synchronous=settings.synchronous)
        mark_state_folder(state_dir)
        ops = Ops(state_dir, quiet=settings.quiet, stderr=stderr)
        if handle_signals:
            shutdown.install()
        try:
            settings = as_started(settings, store)
            session, env, restored = open_session(settings, store, ops)
            reader = BarReader(
                env.instruments,
                env.calendar,
                label=settings.label or session.config.data.label,
                bar_minutes=settings.bar_minutes,
                policy=session.config.data.on_bad_bar,
                warn=ops.warn,
                contract_column=session.rolls.contract_column,
                auction=session.config.data.auction,
                night_date=session.config.data.night_date,
            )
            if settings.feed.startswith("folder:"):  # a stdin feed is not read again
                session.feed_records = reader.records
            feed = make_feed(
                settings.feed,
                session.config.instruments,
                reader,
                once=settings.once,
                interval=settings.poll,
                warn=ops.warn,
                stdin_fd=stdin_fd,
            )
            wall = now or (lambda: pd.Timestamp.now(tz=TIMEZONE))
            loop = LiveLoop(session, env, settings, ops, feed, shutdown, wall, monotonic)
            outcome = loop.run()
            outcome.restore_seconds = restored
            return outcome
        except Exception as exc:
            ops.failed(exc)
            raise
        finally:
            shutdown.restore()
            store.close()
            ops.close()


BrokerFactory = Callable[[Config, Environment], LiveBroker]
ReconcileCheck = Callable[[PaperSession], None]


def open_session(
    settings: PaperSettings,
    store: Store,
    ops: Ops,
    make_broker: BrokerFactory | None = None,
    check: ReconcileCheck | None = None,
) -> tuple[PaperSession, Environment, float | None]:
    """A new session (history warm-up) or the committed one (replay), reconciled (by
    ``check``; paper trading: the net positions of the paper broker) before any order
    goes out. ``make_broker``: the paper broker unless a live run gives its own."""
    config, warnings = resolve_config(settings, store, ops)
    env = Environment.from_config(config)
    specs = [env.instruments[k] for k in config.instruments]
    broker = make_broker(config, env) if make_broker else PaperBroker(config, specs)
    schedules = read_roll_files(settings.rolls, config.instruments, env.instruments)
    if store.meta("config") is None:
        rolls = RollInfo(schedules, settings.contract_column or config.data.contract_column)
        session = PaperSession(config, env, store, broker, rolls)
        history = load_history(settings, config, env, rolls.contract_column)
        session.begin(history)
        with store.transaction() as tx:  # the run folder's summary repeats them
            tx.set_meta("warnings", json.dumps(warnings))
            tx.set_meta("feed", feed_stamps(settings, config))
        n = sum(len(b) for b in history.values())
        ops.event("start", f"new state folder {settings.state_dir}: {n} history bars", bars=n)
        restored = None
    else:
        session, restored = resume(settings, store, ops, config, env, broker, schedules)
    if check is None:
        reconcile(session.state, broker)
    else:
        check(session)
    session.send_orders()
    return session, env, restored


def resume(settings, store, ops, config, env, broker, schedules) -> tuple[PaperSession, float]:
    """The committed session, rebuilt from the database. A stored row that cannot be read
    back (a truncated or edited state) is a one-line error naming the database."""
    try:
        rolls = stored_rolls(store).resumed_with(
            schedules, settings.contract_column, store.last_trading_days()
        )
        session = PaperSession(config, env, store, broker, rolls)
        restored = session.restore()
    except (sqlite3.Error, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise state_damaged(Path(settings.state_dir) / "state.db", exc) from exc
    if settings.history:
        ops.event("start", "--history ignored: the state folder has its bars already")
    keep_rolls(store, rolls, ops)
    if store.meta("feed") is None:  # a state started before the feed was kept
        with store.transaction() as tx:
            tx.set_meta("feed", feed_stamps(settings, config))
    last = session.last_step_ns
    when = "-" if last is None else f"{pd.Timestamp(last, tz=TIMEZONE):%Y-%m-%d %H:%M}"
    ops.event(
        "restore",
        f"resumed after step {session.step_number} ({when}) in {restored:.2f} s",
        step=session.step_number,
        seconds=round(restored, 3),
    )
    return session, restored


# What the state keeps of its feed: each setting's option and the values it can take.
FEED_SETTINGS = {
    "label": ("--label", ("start", "end")),
    "bar_minutes": ("--bar-minutes", (1, 3, 5, 15)),
}


def as_started(settings: PaperSettings, store: Store) -> PaperSettings:
    """The settings with the feed's label and bar length as the state folder was started
    with them (else as given, 15-minute bars by default); a different one given on
    restart is refused: the bars already processed were read with them."""
    for name, (option, choices) in FEED_SETTINGS.items():
        given = getattr(settings, name)
        if given is not None and given not in choices:
            shown = " or ".join(str(c) for c in choices)
            raise ConfigError(f"{option} must be {shown}, not {given!r}")
    stored = store.meta("feed")
    if stored is None:
        return replace(settings, bar_minutes=settings.bar_minutes or 15)
    try:
        kept = json.loads(stored)
        started = {name: kept[name] for name in FEED_SETTINGS}
        if any(started[name] not in choices for name, (_, choices) in FEED_SETTINGS.items()):
            raise ValueError(f"feed {started}")
    except (ValueError, TypeError, KeyError) as exc:  # an edited or truncated row
        raise state_damaged(Path(settings.state_dir) / "state.db", exc) from exc
    for name, (option, _) in FEED_SETTINGS.items():
        given = getattr(settings, name)
        if given is not None and given != started[name]:
            raise ConfigError(
                f"the state folder {settings.state_dir} was started with {option} "
                f"{started[name]}, not {given}; resume without {option}, or use a new "
                "--state folder"
            )
    return replace(settings, **started)


def feed_stamps(settings: PaperSettings, config: Config) -> str:
    """What ``as_started`` keeps of a new state: its feed's label and bar length."""
    label = settings.label or config.data.label
    return json.dumps({"label": label, "bar_minutes": settings.bar_minutes})


def resolve_config(settings: PaperSettings, store: Store, ops: Ops) -> tuple[Config, list[str]]:
    """The configuration the state folder was started with; a different one given on
    the command line is refused (the state only makes sense with its own). A new state
    fits the baskets to the instruments the history and the feed folder have bars of, as
    a backtest on those bars does (``twotier.config.baskets``)."""
    given = None
    if settings.config_file is not None or settings.overrides:
        given = load_config(settings.config_file, settings.overrides)
    copy = Path(settings.state_dir) / "config.toml"
    stored = store.meta("config")
    if stored is None:
        base = given or load_config()
        fitted = fit_baskets(
            base,
            data_instruments(settings, InstrumentRegistry.load(base.data.instruments_file)),
            fix="--history {instrument}=FILE",
            complete=False,
        )
        for warning in fitted.warnings:
            ops.warn(warning)
        text = config_to_toml(fitted.config)
        _unfinished_start(copy, text, settings.state_dir)
        write_text_atomic(copy, text)
        return fitted.config, fitted.warnings
    started = stored_config(stored, str(copy))
    if given is not None and config_to_toml(started) not in _as_started(given, stored):
        raise ConfigError(
            f"the state folder {settings.state_dir} was started with another configuration "
            f"(kept in {copy}); resume without --config/--set, or use a new --state folder"
        )
    write_text_atomic(copy, stored)
    return started, []


def _unfinished_start(copy: Path, text: str, state_dir) -> None:
    """A first start that ended before its first commit (killed while it read its
    history, say) left its configuration's copy and nothing else: nothing was traded, so
    this start may be the first, but with that configuration only. A start without the
    options it was given (``--config`` may be left out on a resume) would otherwise run
    silently with others."""
    if copy.is_file() and copy.read_text(encoding="utf-8") != text:
        raise ConfigError(
            f"the state folder {state_dir} holds a first start that did not finish (nothing "
            f"was traded) with another configuration (kept in {copy}): give its options "
            "again (--config/--set, and --history), or use a new --state folder"
        )


def _as_started(given: Config, stored: str) -> set[str]:
    """The TOML the state would hold if started with ``given``: as it is, or with its
    baskets fitted to the instruments the state trades."""
    traded = [b["instrument"] for b in tomllib.loads(stored)["portfolio"]["baskets"]]
    fitted = fit_baskets(given, traded, complete=False).config
    return {config_to_toml(given), config_to_toml(fitted)}


def data_instruments(settings: PaperSettings, registry: InstrumentRegistry) -> list[str]:
    """The instruments a new paper run has bars of now: its history, and the files
    already in a feed folder (a stdin feed tells nothing in advance)."""
    found = list(settings.history)
    kind, _, where = settings.feed.partition(":")
    folder = Path(where)
    if kind == "folder" and folder.is_dir():
        known = registry.keys()
        for path in sorted(folder.iterdir()):
            if not path.name.startswith(".") and path.suffix.lower() == ".csv":
                found.append(instrument_of(path.name, known))
    return [k for k in dict.fromkeys(found) if k is not None]


def stored_rolls(store: Store) -> RollInfo:
    """The roll information the state folder was started with (none before version 2)."""
    body = store.meta("rolls")
    return RollInfo() if body is None else codec.loads(body, lambda key: key)  # no specs


def keep_rolls(store: Store, rolls: RollInfo, ops: Ops) -> None:
    """Store a schedule a restart extended (the replay has accepted it)."""
    if rolls == stored_rolls(store):
        return
    with store.transaction() as tx:
        tx.set_meta("rolls", codec.dumps(rolls))
    ops.event("start", "roll schedule extended with --rolls")


def load_history(
    settings: PaperSettings, config: Config, env: Environment, contract_column: str | None
) -> dict[str, list[Bar]]:
    unknown = set(settings.history) - set(config.instruments)
    if unknown:
        raise ConfigError(f"--history for {', '.join(sorted(unknown))}: no basket trades it")
    inputs = load_bar_files(
        settings.history,
        config,
        env,
        settings.label,
        contract_column=contract_column,
        hints=PAPER_HINTS,
    )
    return {
        key: frame_to_bars(key, given.bars, range(1, len(given.bars) + 1), str(given.loaded.source))
        for key, given in inputs.items()
    }


class LiveLoop:
    def __init__(
        self,
        session: PaperSession,
        env: Environment,
        settings: PaperSettings,
        ops: Ops,
        feed: Feed,
        shutdown: Shutdown,
        now: Callable[[], pd.Timestamp],
        monotonic: Callable[[], float],
    ):
        self.session = session
        self.settings = settings
        self.ops = ops
        self.feed = feed
        self.shutdown = shutdown
        self.now = now
        self.monotonic = monotonic
        policy = session.config.data.on_bad_bar
        feed_bars = not settings.feed.startswith("gateway:")  # a gateway's: its own minutes
        self.aggregators = {
            s.key: Aggregator(
                s, settings.bar_minutes, policy=policy, warn=ops.warn, watch_length=feed_bars
            )
            for s in session.specs
        }
        alert = lambda message: ops.alert("missing_bar", message)  # noqa: E731
        self.clock = StepClock(
            session.specs, env.calendar, wait=settings.step_wait, monotonic=monotonic, warn=alert
        )
        self.stale = StaleWatch(
            session.specs, env.calendar, settings.bar_minutes, settings.stale_after
        )
        self.steps = 0
        self.skipped = 0
        self.dirty = False
        self.last_flush = monotonic()
        self.until: Callable[[], str | None] = lambda: None  # a reason to stop (live)

    def run(self) -> PaperOutcome:
        if self.session.step_number:
            self.flush()  # the run folder as committed, whatever a crash left
        reason = None
        while reason is None:
            batch = self.feed.poll(self.settings.poll)
            self.take(batch.bars)
            self.close_buckets(ended=batch.ended, idle=not batch.bars)
            self.take_steps(ended=batch.ended)
            if self.shutdown.requested:
                reason = self.shutdown.requested
            elif self.until():
                reason = self.until()
            elif batch.ended and not self.clock.waiting_bars:
                reason = "feed ended"
            else:
                self.idle(quiet=not batch.bars)
        if self.dirty:
            self.flush()
        self.ops.event(
            "stop",
            f"stopped ({reason}) after {self.steps} steps; {self.skipped} bars were already "
            f"processed; run folder {self.settings.run_dir}",
            reason=reason,
            steps=self.steps,
            skipped=self.skipped,
        )
        total = self.session.step_number
        return PaperOutcome(self.steps, total, reason, self.settings.run_dir)

    def take(self, bars: list[Bar]) -> None:
        groups: dict[str, list[Bar]] = {}
        for bar in bars:
            groups.setdefault(bar.instrument, []).append(bar)
        length = pd.Timedelta(minutes=self.settings.bar_minutes)
        for key, group in groups.items():
            self.clock.heard_from(key)
            self.stale.heard(key, group[-1].time + length)
            for bar in self.aggregators[key].add(group):
                self.route(bar)

    def close_buckets(self, *, ended: bool, idle: bool) -> None:
        """At the end of the feed every open 15-minute bar closes; while the feed is idle,
        those whose end has passed by the grace period."""
        if not (ended or idle):
            return
        now_ns = self.now().value
        grace_ns = int(self.settings.grace * 1e9)
        for aggregator in self.aggregators.values():
            closed = aggregator.finish() if ended else aggregator.due(now_ns, grace_ns)
            for bar in closed:
                self.route(bar)

    def route(self, bar: Bar) -> None:
        session, key = self.session, bar.instrument
        if bar.time_ns <= session.last_bar_ns.get(key, -1):
            if session.never_seen(bar):  # not processed: it cannot be, after later bars
                self.ops.alert(
                    "late_bar",
                    f"{key} bar {bar.time:%Y-%m-%d %H:%M} ({bar.where()}) is before bars "
                    "already processed and was never processed itself: left out",
                    instrument=key,
                )
            self.skipped += 1  # processed before a restart, or part of the history
            return
        if session.last_step_ns is not None and bar.time_ns <= session.last_step_ns:
            session.late(bar)
            self.ops.alert(
                "late_bar",
                f"{key} bar {bar.time:%Y-%m-%d %H:%M} came after its step: Tier-1 only",
                instrument=key,
            )
            return
        self.clock.offer(bar)

    def take_steps(self, *, ended: bool) -> None:
        frontiers = {}
        for key, aggregator in self.aggregators.items():
            processed = self.session.last_bar_ns.get(key)
            marks = [aggregator.frontier, None if processed is None else processed + 1]
            known = [m for m in marks if m is not None]
            frontiers[key] = max(known) if known else None
        batch: list[StepReport] = []
        said = self.monotonic()
        while not self.shutdown.requested:
            step = self.clock.next_step(frontiers, ended)
            if step is None:
                break
            batch.append(self.session.step(*step))
            self.steps += 1
            self.dirty = True
            if self.monotonic() - said >= HEARTBEAT_SECONDS:  # a long catch-up shows progress
                self.ops.heartbeat(batch)
                batch, said = [], self.monotonic()
        if batch:
            self.ops.heartbeat(batch)

    def idle(self, *, quiet: bool) -> None:
        """Rewrite the run folder when the feed is quiet (live: after every step) or,
        during a long catch-up, every ``flush_every`` seconds."""
        since = self.monotonic() - self.last_flush
        if self.dirty and since >= (
            self.settings.flush_gap if quiet else self.settings.flush_every
        ):
            self.flush()
        if quiet:
            for message in self.stale.check(self.now()):
                self.ops.alert("stale", message)

    def flush(self) -> None:
        started = time.perf_counter()
        write_outputs(self.session, self.settings.run_dir)
        self.dirty = False
        self.last_flush = self.monotonic()
        seconds = time.perf_counter() - started
        self.ops.event(
            "outputs",
            f"run folder {self.settings.run_dir} written at step {self.session.step_number} "
            f"in {seconds * 1000:.0f} ms",
            step=self.session.step_number,
            ms=round(seconds * 1000, 1),
        )

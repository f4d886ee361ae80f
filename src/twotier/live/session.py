"""A paper (or live) trading session: Tier-1 one bar at a time, the backtest's own Tier-2
step, and a commit after every step.

In memory the session holds what a backtest holds (the composite with its journal and
records, the portfolio state, every package); the database holds the same, committed
step by step, and a restart rebuilds the memory from it: Tier-1 by replaying the stored
bars (with their contracts) through fresh generators, which makes the same rolls again
(checked against the rolls stored), Tier-2 from its JSON state and the stored rows.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import numpy as np
import pandas as pd

from twotier import __version__
from twotier.config.load import config_to_toml
from twotier.config.model import Config
from twotier.engine.inputs import Environment
from twotier.live import codec
from twotier.live.bars import ZONE, Bar, FeedRecord
from twotier.live.broker import LiveBroker
from twotier.live.market import MarketTracker
from twotier.live.orders import OrderBook, RoutedBroker
from twotier.live.rolls import RollInfo
from twotier.live.signals import BarKind, LiveInstrument
from twotier.live.store import ROW_TABLES, SCHEMA_VERSION, Store
from twotier.market.instruments import InstrumentSpec
from twotier.tier1.generator import generator_for
from twotier.tier2.composite import Composite
from twotier.tier2.deadlines import ALERT_DAYS, Deadlines
from twotier.tier2.journal import Decision, Journal
from twotier.tier2.records import EquityRecorder
from twotier.tier2.state import Package, PortfolioState, StepInput


@dataclass
class StepReport:
    step: int
    time: pd.Timestamp
    trading_day: date
    instruments: list[str]
    pv: int  # money units
    positions: dict[str, int]
    decisions: list[Decision]
    seconds: float  # Tier-1, Tier-2 and the commit
    notices: list[str] = field(default_factory=list)  # alerts to raise (delivery deadlines)


class PaperSession:
    def __init__(
        self,
        config: Config,
        env: Environment,
        store: Store,
        broker: LiveBroker,
        rolls: RollInfo | None = None,
    ):
        self.config = config
        self.env = env
        self.store = store
        self.broker = broker
        self.rolls = rolls or RollInfo()
        self.specs = [env.instruments[k] for k in config.instruments]
        self.index = {s.key: i for i, s in enumerate(self.specs)}
        self.instruments = [
            LiveInstrument(
                generator_for(config, k),
                self.rolls.tracker(k),
                config.rolls.adjust,
                MarketTracker(spec, config.market) if config.market.any else None,
            )
            for k, spec in zip(config.instruments, self.specs, strict=True)
        ]
        self.book = OrderBook()
        settlements = [live.market.settlements for live in self.instruments if live.market]
        self.composite = Composite(
            config,
            self.specs,
            RoutedBroker(broker, self.book),
            settlements or None,
            Deadlines(env.calendar, config.contracts),
        )
        self.state = self.composite.new_state()
        self.step_number = 0
        self.last_step_ns: int | None = None
        self.last_bar_ns: dict[str, int] = {}
        # The times of each instrument's bars Tier-1 has seen since the history: a bar a
        # restart reads again at or before the last is skipped only if it is one of them.
        self.history_end_ns: dict[str, int] = {}
        self.seen_ns: dict[str, set[int]] = {}
        self.deadline_alerted: set[str] = set()
        # What a folder feed's reader dropped, repaired or folded in (the files are read
        # from their start by every process, so it holds all their lines).
        self.feed_records: Mapping[str, FeedRecord] = {}
        self._equity_kinds: dict[str, str] | None = None
        # Decisions of the live run's own after Tier-2's step (the kill switch's closes).
        self.after_decide: Callable[[PortfolioState, StepInput], None] | None = None

    # -- start ---------------------------------------------------------------------------

    def begin(self, history: Mapping[str, list[Bar]]) -> None:
        """A new state folder: Tier-1 warms up on the history, the run starts flat and
        leaves alone an episode already running (RULES.md 8.32)."""
        rolls = []
        for key, bars in history.items():
            for bar in bars:
                rolls += self._tier1(bar, "history")[1]
            if bars:
                self.last_bar_ns[key] = bars[-1].time_ns
        self.composite.start(self.state, [live.last for live in self.instruments])
        with self.store.transaction() as tx:
            tx.set_meta("schema_version", str(SCHEMA_VERSION))
            tx.set_meta("twotier_version", __version__)
            tx.set_meta("created_at", datetime.now(UTC).isoformat(timespec="seconds"))
            tx.set_meta("config", config_to_toml(self.config))
            tx.set_meta("rolls", codec.dumps(self.rolls))
            for bars in history.values():
                tx.add_bars(bars, "history", None)
            tx.add_rolls(rolls)
            self._put_state(tx)

    def restore(self) -> float:
        """Rebuild the session from the database; returns the seconds it took."""
        started = time.perf_counter()
        rolls = []
        for bar, kind in self.store.bars():
            rolls += self._tier1(bar, kind)[1]
        if rolls != self.store.rolls():
            raise codec.StateFormatError(
                "replaying the stored bars makes other rolls than the run that stored them "
                f"({len(rolls)} vs {len(self.store.rolls())}); was the roll code changed?"
            )
        body = json.loads(self.store.state("tier2") or "{}")
        if body.get("version") != codec.STATE_VERSION:
            raise codec.StateFormatError(
                f"Tier-2 state version {body.get('version')} is not {codec.STATE_VERSION}: "
                "the state folder was written by another version of twotier; start a new one"
            )
        self.state = codec.decode(body["portfolio"], self._spec)
        self.broker.restore(json.loads(self.store.state("broker") or "{}"))
        self._restore_records()
        open_orders = self.store.orders("decided", "sent")
        self.book.restore([(oid, codec.loads(body, self._spec)) for oid, body, _ in open_orders])
        self.step_number, self.last_step_ns = self.store.last_step()
        self.last_bar_ns = self.store.last_bar_times()
        if self.state.trading_day is not None:
            self._settle_before(self.state.trading_day)
        self._check_replay()
        return time.perf_counter() - started

    def _restore_records(self) -> None:
        rows = {t: [codec.loads(r, self._spec) for r in self.store.rows(t)] for t in ROW_TABLES}
        self.composite.journal = Journal(rows["decisions"], rows["fills"], rows["trades"])
        recorder = EquityRecorder(len(self.specs))
        equity = [json.loads(r) for r in self.store.equity_rows()]
        if equity:
            block = {
                name: np.array(
                    [codec.decode(row[name][1], self._spec) for row in equity], dtype=kind
                )
                for name, (kind, _) in equity[0].items()
            }
            recorder.append(len(equity), block)
        self.composite.recorder = recorder

    def _check_replay(self) -> None:
        """Tier-1 replayed must give the packages Tier-2 last saw."""
        for b, live in zip(self.state.baskets, self.instruments, strict=True):
            seen, again = b.last, live.last
            comparable = seen is not None and again is not None and seen.time_ns == again.time_ns
            if comparable and seen != again:
                raise codec.StateFormatError(
                    f"replaying the stored bars of {b.instrument} through Tier-1 gives "
                    f"another package for {seen.time} than the one saved ({again} vs "
                    f"{seen}); was TA-Lib or the Tier-1 code changed?"
                )

    def _spec(self, key: str) -> InstrumentSpec:
        return self.specs[self.index[key]]

    # -- steps ---------------------------------------------------------------------------

    def step(self, t: int, bars: Mapping[str, Bar]) -> StepReport:
        """Tier-1 on the step's bars, ``Composite.step``, and the commit."""
        started = time.perf_counter()
        number = self.step_number + 1
        self.book.begin(number)
        packages: dict[int, Package] = {}
        rolls = []
        for key in sorted(bars, key=self.index.__getitem__):
            packages[self.index[key]], made = self._tier1(bars[key], "live")
            rolls += made
        day = next(iter(packages.values())).trading_day
        self._settle_before(day)
        marks = {
            "decisions": len(self.composite.journal.decisions),
            "fills": len(self.composite.journal.fills),
            "trades": len(self.composite.journal.trades),
        }
        inp = StepInput(t, day, packages)
        self.composite.step(self.state, inp)
        if self.after_decide is not None:
            self.after_decide(self.state, inp)
        self.book.settle(self.state)
        new = {name: getattr(self.composite.journal, name)[n:] for name, n in marks.items()}
        with self.store.transaction() as tx:
            tx.add_bars([bars[k] for k in sorted(bars, key=self.index.__getitem__)], "live", number)
            tx.add_step(number, t, day)
            tx.add_rolls(rolls)
            for name, rows in new.items():
                tx.add_rows(name, number, [codec.dumps(r) for r in rows])
            tx.add_equity(number, self._equity_row())
            self._put_state(tx)
            self._put_orders(tx, number)
        self.step_number, self.last_step_ns = number, t
        for key, bar in bars.items():
            self.last_bar_ns[key] = bar.time_ns
        self.send_orders()
        return StepReport(
            number,
            pd.Timestamp(t, tz=ZONE),
            day,
            sorted(bars, key=self.index.__getitem__),
            self.state.last_pv,
            {b.instrument: b.position.side * b.position.contracts for b in self._held()},
            new["decisions"],
            time.perf_counter() - started,
            self._deadline_notices(day),
        )

    def _deadline_notices(self, day) -> list[str]:
        """A held contract's delivery deadline, once, from five trading days ahead."""
        notices = []
        deadlines = self.composite.deadlines
        for b in self._held():
            contract = b.position.contract
            ahead = deadlines.ahead(contract, day)
            if ahead is None or ahead > ALERT_DAYS or contract in self.deadline_alerted:
                continue
            self.deadline_alerted.add(contract)
            deadline = deadlines.of(contract, day)
            notices.append(
                f"{b.instrument}: the position on {contract} is closed at its delivery "
                f"deadline {deadline} ({ahead} trading day(s) from {day}) unless it is "
                f"rolled before{past_horizon_note(deadline, deadlines.calendar)}"
            )
        return notices

    def _settle_before(self, day) -> None:
        """Every instrument's settlement of a day before the step's is known by now."""
        for live in self.instruments:
            if live.market is not None:
                live.market.settle_before(day)

    def never_seen(self, bar: Bar) -> bool:
        """A bar at or before its instrument's last that Tier-1 never saw, after the
        history: one that came after later bars (a run stopped on it as out of order)."""
        key = bar.instrument
        after_history = bar.time_ns > self.history_end_ns.get(key, -1)
        return after_history and bar.time_ns not in self.seen_ns.get(key, ())

    def late(self, bar: Bar) -> None:
        """A bar for a time already stepped: Tier-1 sees it, Tier-2 does not."""
        _, rolls = self._tier1(bar, "late")
        with self.store.transaction() as tx:
            tx.add_bars([bar], "late", None)
            tx.add_rolls(rolls)
        self.last_bar_ns[bar.instrument] = bar.time_ns

    def _tier1(self, bar: Bar, kind: BarKind) -> tuple[Package, list[tuple[str, int, str]]]:
        """Tier-1 on one bar: its package, and the roll made at it as the store keeps it."""
        if kind == "history":
            self.history_end_ns[bar.instrument] = bar.time_ns
        else:
            self.seen_ns.setdefault(bar.instrument, set()).add(bar.time_ns)
        live = self.instruments[self.index[bar.instrument]]
        package = live.update(bar, kind)
        roll = live.roll_here
        made = [] if roll is None else [(bar.instrument, bar.time_ns, codec.dumps(roll))]
        return package, made

    def send_orders(self) -> None:
        """The outbox: orders committed but not yet sent (or cancelled), to the broker."""
        for order_id, body, status in self.store.orders("decided", "cancel"):
            if status == "decided":
                self.broker.submit(order_id, codec.loads(body, self._spec))
            else:
                self.broker.cancel(order_id)
            with self.store.transaction() as tx:
                tx.set_order_status(order_id, "sent" if status == "decided" else "cancelled")
        self.broker.committed()

    def _held(self):
        return [b for b in self.state.baskets if b.position is not None]

    def _equity_row(self) -> str:
        row = self.composite.recorder.last_row()
        kinds = self._equity_kinds or {name: str(v.dtype) for name, v in row.items()}
        self._equity_kinds = kinds
        return json.dumps(
            {name: [kinds[name], codec.encode(v[0].item())] for name, v in row.items()},
            separators=(",", ":"),
        )

    def _put_state(self, tx: Store) -> None:
        portfolio = {"version": codec.STATE_VERSION, "portfolio": codec.encode(self.state)}
        tx.put_state("tier2", json.dumps(portfolio, separators=(",", ":")))
        tx.put_state("broker", json.dumps(self.broker.snapshot(), sort_keys=True))

    def _put_orders(self, tx: Store, step: int) -> None:
        for event in self.book.events:
            if event.kind == "decided":
                tx.put_order(event.order_id, step, codec.dumps(event.order), "decided")
            elif event.kind in ("filled", "rejected"):
                tx.set_order_status(event.order_id, event.kind, codec.dumps(event.fill))
            else:
                tx.set_order_status(event.order_id, "cancel")


def past_horizon_note(deadline, calendar) -> str:
    """What a deadline past the calendar's last recorded day rests on: weekdays taken as
    trading days, less the holidays a calendar file lists (docs/data.md, "The calendar's
    horizon")."""
    horizon = pd.Timestamp(calendar.horizon).date()
    if deadline is None or deadline <= horizon:
        return ""
    return (
        f" (counted on weekdays past the trading calendar's last recorded day, {horizon}: "
        "check it against the exchanges' holidays)"
    )

"""Operations: logs, the heartbeat, alerts, stale data, and shutdown on a signal.

Every event goes to ``STATE/paper.log`` as one JSON object per line (``time``, ``level``,
``event``, ``message`` and the event's fields) and to standard error as a human line.
Events: ``start``, ``restore``, ``step`` (the heartbeat: one per step live, one per
batch of steps in a catch-up), ``outputs``,
``alert`` (``kind``: ``breaker``, ``stale``, ``late_bar``, ``missing_bar``, ``data``,
``deadline``),
``error`` (what ended the run; in the file only, the CLI prints it),
``stop``.
"""

from __future__ import annotations

import logging
import signal
import sys
from datetime import UTC, datetime
from itertools import count
from pathlib import Path
from typing import TextIO

import pandas as pd

from twotier.errors import CalendarError
from twotier.json_text import json_text
from twotier.live.session import StepReport
from twotier.market.calendar import TIMEZONE, TradingCalendar, place_bars
from twotier.market.instruments import InstrumentSpec
from twotier.market.sessions import session_minutes
from twotier.money import cny, format_cny, to_cent

_instances = count()


class _JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "event": getattr(record, "event", "log"),
            "message": record.getMessage(),
            **getattr(record, "fields", {}),
        }
        return json_text(line, default=str, ensure_ascii=False)


def _exchange_time(seconds: float | None):
    return pd.Timestamp(seconds or 0, unit="s", tz="UTC").tz_convert(TIMEZONE).timetuple()


class Ops:
    """The session's log: JSON lines in the state folder, human lines on stderr."""

    def __init__(self, state_dir: Path, *, quiet: bool = False, stderr: TextIO | None = None):
        # A logger of its own per run: runs in one process (tests) never share handlers.
        self.logger = logging.getLogger(f"twotier.live.{next(_instances)}")
        self.logger.setLevel(logging.INFO)
        self.logger.propagate = False
        self.file = logging.FileHandler(state_dir / "paper.log", encoding="utf-8")
        self.file.setFormatter(_JsonLines())
        self.human = logging.StreamHandler(stderr or sys.stderr)
        human = logging.Formatter("%(asctime)s %(levelname)s %(message)s")
        human.converter = _exchange_time  # stderr reads in exchange time, like the bars
        self.human.setFormatter(human)
        self.human.setLevel(logging.WARNING if quiet else logging.INFO)
        self.logger.addHandler(self.file)
        self.logger.addHandler(self.human)

    def event(self, event: str, message: str, level: int = logging.INFO, **fields) -> None:
        self.logger.log(level, message, extra={"event": event, "fields": fields})

    def failed(self, error: BaseException) -> None:
        """The error that ends the run, in the log file (the CLI prints it on stderr)."""
        record = self.logger.makeRecord(
            self.logger.name, logging.ERROR, __file__, 0, str(error), None, None,
            extra={"event": "error", "fields": {"kind": type(error).__name__}},
        )  # fmt: skip
        self.file.handle(record)

    def warn(self, message: str) -> None:
        self.alert("data", message)

    def alert(self, kind: str, message: str, **fields) -> None:
        self.event("alert", f"ALERT {kind}: {message}", logging.WARNING, kind=kind, **fields)

    def heartbeat(self, batch: list[StepReport]) -> None:
        """One line for the steps taken together: one step live, or a batch of a
        catch-up (first and last step, the PV and positions after the last)."""
        first, r = batch[0], batch[-1]
        held = ", ".join(f"{k} {v:+d}" for k, v in r.positions.items()) or "flat"
        seconds = sum(x.seconds for x in batch)
        decisions = sum(len(x.decisions) for x in batch)
        if len(batch) == 1:
            what = f"step {r.step} {r.time:%Y-%m-%d %H:%M} ({r.trading_day})"
            what += f" bars {','.join(r.instruments)}"
        else:
            what = (
                f"steps {first.step}-{r.step} {first.time:%Y-%m-%d %H:%M} to "
                f"{r.time:%Y-%m-%d %H:%M} ({len(batch)} steps, {decisions} decisions)"
            )
        self.event(
            "step",
            f"{what} | PV {format_cny(r.pv)} | {held} | {seconds * 1000:.1f} ms",
            step=r.step,
            first_step=first.step,
            steps=len(batch),
            bar_time=str(r.time),
            trading_day=str(r.trading_day),
            instruments=r.instruments,
            pv=cny(to_cent(r.pv)),  # to the cent, as the line shows it
            positions=r.positions,
            decisions=decisions,
            ms=round(seconds * 1000, 3),
        )
        for x in batch:
            for d in x.decisions:
                if d.kind == "BREAKER":
                    self.alert("breaker", d.text, reason=d.reason)
            for notice in x.notices:
                self.alert("deadline", notice)

    def close(self) -> None:
        for handler in (self.file, self.human):
            self.logger.removeHandler(handler)
            handler.close()


class StaleWatch:
    """Alerts when an instrument's session is open and no bar of it has come for longer
    than a bar plus the grace period (a session break or a holiday is not stale)."""

    def __init__(
        self,
        specs: list[InstrumentSpec],
        calendar: TradingCalendar,
        bar_minutes: int,
        grace_seconds: float,
    ):
        self.specs = {s.key: s for s in specs}
        self.calendar = calendar
        self.allowed = pd.Timedelta(minutes=bar_minutes) + pd.Timedelta(seconds=grace_seconds)
        self.last_end: dict[str, pd.Timestamp] = {}
        self.stale: set[str] = set()

    def heard(self, instrument: str, bar_end: pd.Timestamp) -> None:
        self.last_end[instrument] = bar_end
        self.stale.discard(instrument)

    def check(self, now: pd.Timestamp) -> list[str]:
        """Messages for the instruments that went stale since the last check."""
        out = []
        for key in self.specs:
            if key in self.stale:
                continue
            since = self._quiet_since(key, now)
            if since is not None and now - since > self.allowed:
                self.stale.add(key)
                out.append(
                    f"no bar of {key} since {since:%Y-%m-%d %H:%M} while its session is "
                    f"open (now {now:%Y-%m-%d %H:%M:%S})"
                )
        return out

    def _quiet_since(self, key: str, now: pd.Timestamp) -> pd.Timestamp | None:
        """Since when the instrument has been quiet in its current session stretch, or
        None if its market is closed now."""
        spec = self.specs[key]
        minute = (now.tz_convert(TIMEZONE) - pd.Timedelta(minutes=1)).floor("min")
        times = pd.DatetimeIndex([minute])
        try:
            _, segment = place_bars(times, spec, self.calendar)
        except CalendarError:  # beyond the calendar: cannot tell whether it trades
            return None
        if segment[0] < 0:
            return None
        into = int(session_minutes(times)[0] - spec.sessions.segment_start(segment[0]))
        opened = minute - pd.Timedelta(minutes=into)
        last = self.last_end.get(key)
        return opened if last is None or last < opened else last


class Shutdown:
    """SIGINT and SIGTERM ask the loop to stop after the current step."""

    def __init__(self):
        self.requested: str | None = None
        self._previous: dict[int, object] = {}

    def install(self) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, self._handle)

    def _handle(self, signum, frame) -> None:
        self.requested = signal.Signals(signum).name

    def restore(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()

"""When a step may be taken: the step-completion rule.

A backtest steps at every time at which some instrument has a bar (the union of the
instruments' bar times). Live, bars of different instruments arrive at different
moments, so a step at time t waits until it is clear which instruments have a bar at t:

    The next step is at t, the earliest time for which a complete 15-minute bar is
    waiting. It is taken once every instrument is settled for t. An instrument is
    settled for t when
      1. it has delivered its bar for t (it takes part in the step), or a later bar;
      2. its aggregator has moved past t (its current, unfinished 15-minute bar starts
         after t);
      3. t is not the start of a 15-minute bar in its sessions on a trading day (its
         market is closed: copper alone trades 23:00-01:00; holidays; an evening without
         a night session, as the calendar knows them: the eve of a holiday, a suspension);
      4. the feed has ended; or
      5. it is silent: the step has waited ``wait`` seconds (wall clock) for it. A silent
         instrument holds no later step until a bar of it arrives again; its bars for
         times already stepped are late (Tier-1 sees them, Tier-2 does not).

Rules 1-4 never depend on timing, so a run fed the same bars takes the same steps however
they are chunked; rule 5 only decides what happens when a collector stalls.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

import numpy as np
import pandas as pd

from twotier.live.bars import Bar
from twotier.market.calendar import TIMEZONE, TradingCalendar, place_bars
from twotier.market.instruments import InstrumentSpec
from twotier.market.resample import BAR_MINUTES
from twotier.market.sessions import session_minutes


class StepClock:
    def __init__(
        self,
        specs: list[InstrumentSpec],
        calendar: TradingCalendar,
        *,
        wait: float,
        monotonic: Callable[[], float] = time.monotonic,
        warn: Callable[[str], None] = lambda _: None,
    ):
        self.specs = {s.key: s for s in specs}
        self.calendar = calendar.assuming_weekdays()  # past the horizon, as the feed's bars
        self.wait = wait
        self.monotonic = monotonic
        self.warn = warn
        self.queues: dict[str, deque[Bar]] = {s.key: deque() for s in specs}
        self.silent: set[str] = set()
        self._waiting: tuple[int, float] | None = None  # (step time, since)
        self._expects: dict[tuple[str, int], bool] = {}

    def offer(self, bar: Bar) -> None:
        """A complete 15-minute bar, later than every step taken."""
        self.queues[bar.instrument].append(bar)

    def heard_from(self, instrument: str) -> None:
        self.silent.discard(instrument)

    @property
    def waiting_bars(self) -> int:
        return sum(len(q) for q in self.queues.values())

    def next_step(
        self, frontiers: dict[str, int | None], ended: bool
    ) -> tuple[int, dict[str, Bar]] | None:
        """The next step's time and bars (instrument -> bar), or None to wait."""
        heads = [q[0].time_ns for q in self.queues.values() if q]
        if not heads:
            return None
        t = min(heads)
        blocking = [
            key for key in self.queues if not self._settled(key, t, frontiers.get(key), ended)
        ]
        if blocking and not self._gave_up(t, blocking):
            return None
        self._waiting = None
        bars = {k: q.popleft() for k, q in self.queues.items() if q and q[0].time_ns == t}
        return t, bars

    def _settled(self, key: str, t: int, frontier: int | None, ended: bool) -> bool:
        queue = self.queues[key]
        if queue:  # its bar for t, or a later one
            return True
        if frontier is not None and frontier > t:
            return True
        return ended or key in self.silent or not self.expects_bar(key, t)

    def _gave_up(self, t: int, blocking: list[str]) -> bool:
        now = self.monotonic()
        if self._waiting is None or self._waiting[0] != t:
            self._waiting = (t, now)
        if now - self._waiting[1] < self.wait:
            return False
        when = pd.Timestamp(t, tz=TIMEZONE)
        for key in blocking:
            self.silent.add(key)
            self.warn(
                f"no bar of {key} for {when:%Y-%m-%d %H:%M} after waiting {self.wait:g} s: "
                "stepping without it until its bars arrive again"
            )
        return True

    def expects_bar(self, key: str, t: int) -> bool:
        """Whether a 15-minute bar of the instrument starts at t (in its sessions, on a
        trading day, on its bucket grid)."""
        cached = self._expects.get((key, t))
        if cached is None:
            cached = self._expects[(key, t)] = self._bucket_starts_at(key, t)
        return cached

    def _bucket_starts_at(self, key: str, t: int) -> bool:
        spec = self.specs[key]
        times = pd.DatetimeIndex(pd.to_datetime([t], unit="ns", utc=True)).tz_convert(TIMEZONE)
        _, segment = place_bars(times, spec, self.calendar)
        if segment[0] < 0:
            return False
        minutes = session_minutes(times)
        start = spec.sessions.bucket_start(minutes, segment, BAR_MINUTES)
        return bool(np.all(start == minutes))

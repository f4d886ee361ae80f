"""Ticks into 1-minute bars on session edges (RULES.md 11), for live trading on a gateway.

A gateway pushes ticks (the last price, the day's cumulative volume, the best bid and
ask); the live loop makes 1-minute bars of them here and 15-minute bars of those with
the feed's own aggregator (``twotier.live.aggregate``), so that a bar is made the same way
whether it came from a collector's file or from the exchange.

- A tick belongs to the minute it falls in. A tick up to ``AUCTION_MINUTES`` before a
  session segment opens is the opening call auction's (DCE and SHFE match at 08:59 and
  20:59): it is folded into the segment's first minute, its price becoming that bar's
  open. A tick up to ``CLOSING_SECONDS`` after a segment ends is its closing tick (the
  exchange's last snapshot comes a fraction of a second after the end): it is folded into
  the segment's last minute. Any other tick outside the sessions is dropped, with a
  warning once per contract.
- The trading day is the feed's when the tick carries one (``trading_day``: RULES.md 11
  believes it, past the calendar's horizon too); else the calendar's (a night belongs to
  the next trading day), as the loader assigns it to bars.
- Volume: the exchange publishes the trading day's cumulative volume; a minute's volume is
  how much it grew over the minute. The day's first tick counts whole only when it comes
  in the trading day's first minute (the open or its auction); otherwise (twotier started,
  or came back, in the middle of a day) it only sets the base, and a warning says that the
  volume before it is unknown.
- A minute is complete when a tick of a later minute arrives, or when the clock has
  passed its end by ``grace`` (``due``).
- The exchange's price limits, which ticks carry: a minute's bar takes those of its last
  tick that gives them (vn.py holds 0 for a limit it does not know), and Tier-2 then takes
  them over the limits estimated from the settlement (RULES.md 10.2), as it takes a bar
  file's ``limit_up`` and ``limit_down``. Ticks carry no settlement.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import pandas as pd

from twotier.live.bars import ZONE, Bar
from twotier.market.calendar import TradingCalendar, place_bars
from twotier.market.instruments import InstrumentSpec
from twotier.market.sessions import DAY_CUTOFF_MINUTE, MINUTES_PER_DAY
from twotier.money import MAX_PRICE

AUCTION_MINUTES = 5  # a tick this close before a segment opens is the opening auction's
CLOSING_SECONDS = 60  # a tick this close after a segment ends is its closing tick
NS = 1_000_000_000
MINUTE_NS = 60 * NS


@dataclass(frozen=True)
class Tick:
    """One market snapshot of a contract, as the live loop keeps it."""

    instrument: str
    contract: str
    time_ns: int  # exchange time stamp
    price: float  # last traded price
    volume: float  # the trading day's cumulative volume
    open_interest: float
    bid: float
    ask: float
    limit_up: float
    limit_down: float
    trading_day: date | None = None  # when the feed carries the exchange's

    @property
    def time(self) -> pd.Timestamp:
        return pd.Timestamp(self.time_ns, tz=ZONE)


@dataclass
class _Minute:
    start_ns: int
    trading_day: date
    contract: str
    open: float
    high: float
    low: float
    close: float
    volume: float
    open_interest: float
    # The exchange's limits as the minute's last tick giving them; None when none did (a
    # gateway without them makes bars as a bar file without the columns).
    limit_up: float | None
    limit_down: float | None

    def limits(self, tick: Tick) -> None:
        self.limit_up = _given(tick.limit_up, self.limit_up)
        self.limit_down = _given(tick.limit_down, self.limit_down)

    def bar(self, instrument: str, source: str) -> Bar:
        # Ticks carry no settlement (None: no such column), the exchange's limits where
        # the gateway gives them: RULES.md 10.2 takes the data's limits over estimated ones.
        return Bar(
            instrument, self.start_ns, self.trading_day, self.open, self.high, self.low,
            self.close, self.volume, self.open_interest, source, 0, self.contract,
            None, self.limit_up, self.limit_down,
        )  # fmt: skip


def _given(price: float, current: float | None) -> float | None:
    """A tick's limit price over the current one, unless the gateway gave none: vn.py's
    ``TickData`` holds 0 for a limit it does not know, and CTP's unknown price, DBL_MAX,
    reaches the limits as it is (vnpy_ctp clears it from the other prices only)."""
    return price if 0 < price <= MAX_PRICE else current


class MinuteBars:
    """Ticks of one instrument in, complete 1-minute bars (labelled by start) out."""

    def __init__(
        self,
        spec: InstrumentSpec,
        calendar: TradingCalendar,
        *,
        source: str,
        warn: Callable[[str], None] = lambda _: None,
    ):
        self.spec = spec
        self.calendar = calendar
        self.source = source
        self.warn = warn
        self.segments = [(s.start, s.end) for s in spec.sessions.segments]
        self.current: _Minute | None = None
        self.last_closed_ns: int | None = None
        self.base: dict[tuple[str, date], float] = {}  # cumulative volume so far
        self.first_day: date | None = None  # the first trading day this process saw
        self._days: dict[int, date | None] = {}
        self._warned: set[str] = set()

    def add(self, tick: Tick) -> list[Bar]:
        """A tick; returns the minute bars it completed."""
        start_ns = self.minute_of(tick)
        if start_ns is None:
            self._warn_once(
                f"outside:{tick.contract}",
                f"{self.source}: tick of {tick.contract} at {tick.time:%Y-%m-%d %H:%M:%S} "
                f"is outside the sessions of {self.spec.key}: dropped (said once)",
            )
            return []
        if self.last_closed_ns is not None and start_ns <= self.last_closed_ns:
            self.warn(
                f"{self.source}: tick of {tick.contract} at {tick.time:%H:%M:%S} came after "
                "its minute was closed: dropped"
            )
            return []
        day = tick.trading_day or self._trading_day(start_ns)
        if day is None:
            return []
        out = []
        if self.current is not None and start_ns != self.current.start_ns:
            out.append(self._close())
        grown = self._volume(tick, day, start_ns)
        m = self.current
        if m is None:
            m = self.current = _Minute(
                start_ns, day, tick.contract, tick.price, tick.price, tick.price, tick.price,
                grown, tick.open_interest, None, None,
            )  # fmt: skip
        else:
            m.high, m.low = max(m.high, tick.price), min(m.low, tick.price)
            m.close, m.open_interest = tick.price, tick.open_interest
            m.volume += grown
        m.limits(tick)
        return out

    def due(self, now_ns: int, grace_ns: int) -> list[Bar]:
        """The open minute, once the clock has passed its end by the grace period."""
        if self.current is not None and now_ns >= self.current.start_ns + MINUTE_NS + grace_ns:
            return [self._close()]
        return []

    def _close(self) -> Bar:
        assert self.current is not None
        bar = self.current.bar(self.spec.key, self.source)
        self.last_closed_ns = self.current.start_ns
        self.current = None
        return bar

    # -- placing a tick --------------------------------------------------------------------

    def minute_of(self, tick: Tick) -> int | None:
        """The start (ns) of the minute bar a tick belongs to, or None outside the
        sessions (auction and closing ticks folded in)."""
        local = datetime.fromtimestamp(tick.time_ns // NS, ZONE)  # whole seconds: fast
        clock = local.hour * 60 + local.minute
        minute = clock + MINUTES_PER_DAY if clock < DAY_CUTOFF_MINUTE else clock
        into_ns = local.second * NS + tick.time_ns % NS
        second = minute * 60 + into_ns / NS
        floor_ns = tick.time_ns - into_ns
        for start, end in self.segments:
            if start * 60 <= second < end * 60:
                target = minute
            elif (start - AUCTION_MINUTES) * 60 <= second < start * 60:
                target = start
            elif end * 60 <= second < end * 60 + CLOSING_SECONDS:
                target = end - 1
            else:
                continue
            return floor_ns + (target - minute) * MINUTE_NS
        return None

    def _trading_day(self, start_ns: int) -> date | None:
        """The calendar's trading day of a minute (None: not a trading day, warned)."""
        if start_ns not in self._days:
            times = pd.DatetimeIndex([pd.Timestamp(start_ns, tz=ZONE)])
            day, segment = place_bars(times, self.spec, self.calendar)
            self._days[start_ns] = None if segment[0] < 0 else pd.Timestamp(day[0]).date()
            if segment[0] < 0:
                self._warn_once(
                    f"closed:{start_ns // (MINUTE_NS * MINUTES_PER_DAY)}",
                    f"{self.source}: ticks of {self.spec.key} at {times[0]:%Y-%m-%d %H:%M} "
                    "on a day the calendar says is closed: dropped",
                )
        return self._days[start_ns]

    def _volume(self, tick: Tick, day: date, start_ns: int) -> float:
        key = (tick.contract, day)
        if key not in self.base:
            whole = self.first_day is not None and day > self.first_day
            whole = whole or self._first_minute(day, start_ns)
            self.first_day = self.first_day or day
            self.base[key] = 0.0 if whole else tick.volume
            if not whole:
                self.warn(
                    f"{self.source}: first tick of {tick.contract} on trading day {day} came "
                    f"at {tick.time:%H:%M:%S}, after the day's open: the volume traded before "
                    "it is not counted"
                )
        grown = max(0.0, tick.volume - self.base[key])
        self.base[key] = max(self.base[key], tick.volume)
        return grown

    def _first_minute(self, day: date, start_ns: int) -> bool:
        """Whether the minute opens its trading day: the night before (when that night
        trades), else the day's first segment. (Asked only of the first trading day the
        process sees; on later days every tick of the day has been seen.)"""
        local = pd.Timestamp(start_ns, tz=ZONE)
        clock = local.hour * 60 + local.minute
        opens = [s for s, _ in self.segments]
        nights = [s for s in opens if s >= 18 * 60]
        if clock not in opens or (nights and clock == nights[0]):
            return clock in opens
        if clock != opens[0]:
            return False
        if not nights:
            return True
        days = self.calendar.days
        before = days[np.searchsorted(days, np.datetime64(day, "D")) - 1]
        night = pd.Timestamp(before).tz_localize(ZONE) + pd.Timedelta(minutes=nights[0])
        placed, segment = place_bars(pd.DatetimeIndex([night]), self.spec, self.calendar)
        return not (segment[0] >= 0 and pd.Timestamp(placed[0]).date() == day)

    def _warn_once(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            self.warn(message)

"""1- and 5-minute bars into 15-minute bars on session edges, as they arrive.

The bucket of a raw bar is the one ``twotier.market.resample`` gives it (a 15-minute grid
anchored at the start of each session segment, computed by the same functions), and a
15-minute bar is made the same way: first open, highest high, lowest low, last close,
volume summed by numpy as ``resample`` sums it, last open interest, the trading day and
contract of its first raw bar (a contract that changes inside a bucket is refused: rolls
change it between trading days only).

A 15-minute bar is complete, and handed on, as soon as one of these is true:
- its last raw bar has arrived (the raw bar ends where the bucket ends: 09:10-09:15,
  or 10:10-10:15 at the morning break);
- a raw bar of a later bucket has arrived (the bucket had gaps);
- its end has passed on the clock by the grace period (``due``; the collector missed a
  bar);
- the feed has ended (``finish``).
A raw bar that is not later than the previous one is out of order and refused; a raw bar
of a bucket already handed on (after the grace period) is late and dropped with a
warning.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import numpy as np

from twotier.errors import DataError
from twotier.live.bars import Bar
from twotier.market.instruments import InstrumentSpec
from twotier.market.resample import BAR_MINUTES
from twotier.market.sessions import clock_minute

NS_PER_MINUTE = 60_000_000_000


class OutOfOrderError(DataError):
    """A bar that is not later than the previous bar of its instrument."""


@dataclass
class _Bucket:
    first: Bar
    end_ns: int
    high: float
    low: float
    close: float
    volumes: list[float]
    open_interest: float | None
    market: tuple  # settle, limit_up, limit_down: the last given of the bucket's bars

    def bar(self, start_ns: int) -> Bar:
        volume = float(np.add.reduceat(np.asarray(self.volumes, dtype=np.float64), [0])[0])
        f = self.first
        return Bar(
            f.instrument, start_ns, f.trading_day, f.open, self.high, self.low, self.close,
            volume, self.open_interest, f.source, f.line, f.contract, *self.market,
        )  # fmt: skip


def last_given(current, new):
    """A value of a later bar of the bucket over the earlier one, unless blank (as
    ``market.resample`` takes a bucket's settle and limits)."""
    if new is None or (new != new and current is not None):  # absent, or blank: kept
        return current
    return new


def _quiet(_: str) -> None:
    pass


class LengthWatch:
    """Says when most of a trading day's bars are further apart than ``bar_minutes``, a
    whole number of times it: a feed of 30-minute bars read with the default 15 (or of
    15-minute bars read with 5) passes every check as bars with gaps, and makes wrong
    15-minute bars. Judged at the end of each trading day and of the feed, on a day of at
    least ``MIN_BARS`` bars; once a run."""

    MIN_BARS = 4

    def __init__(self, key: str, bar_minutes: int, warn: Callable[[str], None]):
        self.key, self.bar_minutes, self.warn = key, bar_minutes, warn
        self.day: date | None = None
        self.gaps: Counter[int] = Counter()  # minutes between the day's consecutive bars
        self.said = False

    def see(self, last: Bar | None, bar: Bar) -> None:
        if bar.trading_day != self.day:
            self.judge()
            self.day = bar.trading_day
            self.gaps.clear()
        if last is not None and last.trading_day == bar.trading_day:
            self.gaps[(bar.time_ns - last.time_ns) // NS_PER_MINUTE] += 1

    def judge(self) -> None:
        """The day seen so far (its end, or the feed's)."""
        total = sum(self.gaps.values())
        if self.said or total < self.MIN_BARS - 1:
            return
        gap, count = self.gaps.most_common(1)[0]
        # Most gaps alike and longer, few of the bars' length: a quiet contract's minutes
        # have gaps of all sizes; bars with gaps, many of their length; longer bars run
        # short before a break (09:30, 10:00, 10:15 by their ends: one gap of 15).
        longer = gap > self.bar_minutes and not gap % self.bar_minutes
        if not longer or 2 * count <= total or 4 * self.gaps[self.bar_minutes] >= total:
            return
        self.said = True
        self.warn(
            f"{self.key}: most bars of trading day {self.day} are {gap} minutes apart, not "
            f"{self.bar_minutes}: are the feed's bars {gap}-minute bars? They are read as "
            f"{self.bar_minutes}-minute bars (--bar-minutes), with gaps; twotier takes bars "
            "of 1, 3, 5 or 15 minutes (said once a run)"
        )


class Aggregator:
    """Raw bars of one instrument in, complete 15-minute bars out."""

    def __init__(
        self,
        spec: InstrumentSpec,
        bar_minutes: int,
        *,
        policy: str = "refuse",
        warn: Callable[[str], None] = lambda _: None,
        watch_length: bool = True,
    ):
        """``watch_length``: say when the bars seem longer than ``bar_minutes`` (not for a
        gateway's minutes, which a quiet market leaves with gaps)."""
        if BAR_MINUTES % bar_minutes:
            raise DataError(spec.key, f"cannot make 15-minute bars of {bar_minutes}-minute bars")
        self.spec = spec
        self.bar_minutes = bar_minutes
        self.policy = policy
        self.warn = warn
        self.last_raw: Bar | None = None
        self.last_emitted_ns: int | None = None
        self._start_ns = 0
        self._bucket: _Bucket | None = None
        self.lengths = LengthWatch(spec.key, bar_minutes, warn if watch_length else _quiet)

    @property
    def frontier(self) -> int | None:
        """The earliest bar start this aggregator may still hand on (None: nothing seen)."""
        if self._bucket is not None:
            return self._start_ns
        return None if self.last_emitted_ns is None else self.last_emitted_ns + 1

    def add(self, bars: list[Bar]) -> list[Bar]:
        """Raw bars of this instrument, in order; returns the 15-minute bars completed."""
        bars = [b for b in bars if self._in_order(b)]
        if not bars:
            return []
        offsets, lengths = self._buckets(bars)
        out: list[Bar] = []
        for bar, offset, length in zip(bars, offsets, lengths, strict=True):
            start_ns = bar.time_ns - offset * NS_PER_MINUTE
            if self.last_emitted_ns is not None and start_ns <= self.last_emitted_ns:
                self.warn(
                    f"{bar.where()}: late bar {bar.time:%Y-%m-%d %H:%M} of {bar.instrument} "
                    "dropped: its 15-minute bar was already closed"
                )
                continue
            if self._bucket is not None and start_ns != self._start_ns:
                out.append(self._close())
            self._merge(bar, start_ns, start_ns + length * NS_PER_MINUTE)
            if offset + self.bar_minutes >= length:  # the last raw bar of its bucket
                out.append(self._close())
        return out

    def due(self, now_ns: int, grace_ns: int) -> list[Bar]:
        """The open 15-minute bar, if its end has passed by the grace period."""
        if self._bucket is not None and now_ns >= self._bucket.end_ns + grace_ns:
            return [self._close()]
        return []

    def finish(self) -> list[Bar]:
        """The open 15-minute bar, at the end of the feed."""
        self.lengths.judge()
        return [self._close()] if self._bucket is not None else []

    # -- inside ---------------------------------------------------------------------------

    def _in_order(self, bar: Bar) -> bool:
        last = self.last_raw
        if last is None or bar.time_ns > last.time_ns:
            self.lengths.see(last, bar)
            self.last_raw = bar
            return True
        problem = (  # times of the bars' starts, whatever the feed stamps (--label end)
            f"bar {bar.time:%Y-%m-%d %H:%M} (start) of {bar.instrument} is out of order: it "
            f"is not after the bar of {last.time:%Y-%m-%d %H:%M} (start) ({last.where()})"
        )
        if self.policy == "refuse":
            raise OutOfOrderError(bar.source, problem, bar.line)
        self.warn(f"{bar.where()}: dropped: {problem}")
        return False

    def _buckets(self, bars: list[Bar]) -> tuple[list[int], list[int]]:
        """Each raw bar's offset into its bucket and the bucket's length (minutes), by the
        functions ``resample`` uses."""
        if self.bar_minutes == BAR_MINUTES:  # resample passes 15-minute bars through
            return [0] * len(bars), [BAR_MINUTES] * len(bars)
        # Session minutes one bar at a time: live, a call brings one bar or a few, and a
        # pandas index for them costs a millisecond.
        minutes = np.array([clock_minute(b.local_time().time()) for b in bars], dtype=np.int64)
        sessions = self.spec.sessions
        days = np.array([b.trading_day for b in bars], dtype="datetime64[D]")
        segment = sessions.locate(minutes, self.bar_minutes, days=days)
        if (segment < 0).any():
            bad = bars[int(np.argmax(segment < 0))]
            raise DataError(bad.source, f"bar outside the sessions of {self.spec.key}", bad.line)
        bucket = sessions.bucket_start(minutes, segment, BAR_MINUTES)
        offset = minutes - bucket
        if (offset + self.bar_minutes > BAR_MINUTES).any():
            bad = bars[int(np.argmax(offset + self.bar_minutes > BAR_MINUTES))]
            raise DataError(bad.source, "bar straddles a 15-minute boundary", bad.line)
        ends = sessions.segment_end(segment)
        length = np.minimum(bucket + BAR_MINUTES, ends) - bucket
        return offset.tolist(), length.tolist()

    def _merge(self, bar: Bar, start_ns: int, end_ns: int) -> None:
        b = self._bucket
        if b is None:
            self._start_ns = start_ns
            self._bucket = _Bucket(
                bar, end_ns, bar.high, bar.low, bar.close, [bar.volume], bar.open_interest,
                bar.market,
            )  # fmt: skip
            return
        if bar.contract != b.first.contract:  # one bucket is inside one trading day
            raise DataError(
                bar.source,
                f"contract changes from {b.first.contract} to {bar.contract} inside trading day "
                f"{bar.trading_day}: a roll must take effect at the first bar of a trading day",
                bar.line,
            )
        b.high = max(b.high, bar.high)
        b.low = min(b.low, bar.low)
        b.close = bar.close
        b.volumes.append(bar.volume)
        b.open_interest = bar.open_interest
        b.market = tuple(map(last_given, b.market, bar.market))

    def _close(self) -> Bar:
        assert self._bucket is not None
        bar = self._bucket.bar(self._start_ns)
        self._bucket = None
        self.last_emitted_ns = bar.time_ns
        return bar

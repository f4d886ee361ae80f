"""Trading sessions on a "session clock" that keeps a night session in one piece.

A time of day is turned into a *session minute*: minutes after midnight, plus 1440 for
times before 06:00, which belong to the night that began the evening before. Copper's
night 21:00-01:00 is then the single segment [1260, 1500), and a 15-minute grid anchored
at each segment's start never spans a break. Day sessions lie within 06:00-18:00 and
nights start at 18:00 or later, so the clock alone tells a night bar from a day bar.

Session hours can change over the years (DCE's nights ended at 23:30 before April 2019):
``SessionHours`` holds each schedule with the first trading day it applies from.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import time

import numpy as np
import pandas as pd

DAY_CUTOFF_MINUTE = 6 * 60  # times before 06:00 belong to the previous evening's night
NIGHT_START_MINUTE = 18 * 60  # on the session clock, later minutes are a night session
MINUTES_PER_DAY = 24 * 60
STEP_MINUTES = 15  # RULES.md 1: the bars Tier-2 steps on; sessions open and close on their grid


def clock_minute(t: time) -> int:
    minute = t.hour * 60 + t.minute
    return minute + MINUTES_PER_DAY if minute < DAY_CUTOFF_MINUTE else minute


def format_minute(minute: int) -> str:
    minute %= MINUTES_PER_DAY
    return f"{minute // 60:02d}:{minute % 60:02d}"


@dataclass(frozen=True)
class Segment:
    """One continuous stretch of trading, in session minutes [start, end)."""

    start: int
    end: int
    night: bool

    def __str__(self) -> str:
        return f"{format_minute(self.start)}-{format_minute(self.end)}"


@dataclass(frozen=True)
class SessionSchedule:
    """An instrument's segments, ordered on the session clock (day first, then night)."""

    segments: tuple[Segment, ...]

    @classmethod
    def from_times(
        cls, day: tuple[tuple[time, time], ...], night: tuple[time, time] | None
    ) -> SessionSchedule:
        segments = []
        for start, end in day:
            a, b = clock_minute(start), clock_minute(end)
            if not (DAY_CUTOFF_MINUTE <= a < b <= NIGHT_START_MINUTE):
                raise ValueError(
                    f"day session {start:%H:%M}-{end:%H:%M} must start before it ends "
                    "and lie within 06:00-18:00"
                )
            segments.append(Segment(a, b, night=False))
        if night is not None:
            start, end = night
            a = start.hour * 60 + start.minute
            b = clock_minute(end)
            if not (NIGHT_START_MINUTE <= a < b <= MINUTES_PER_DAY + DAY_CUTOFF_MINUTE):
                raise ValueError(
                    f"night session {start:%H:%M}-{end:%H:%M} must start after 18:00 "
                    "and end by 06:00"
                )
            segments.append(Segment(a, b, night=True))
        for segment in segments:
            if segment.start % STEP_MINUTES or segment.end % STEP_MINUTES:
                raise ValueError(
                    f"session {segment} does not open and close on the quarter hour: the "
                    f"{STEP_MINUTES}-minute bars of RULES.md 1 would not fit it"
                )
        segments.sort(key=lambda s: s.start)
        for left, right in itertools.pairwise(segments):
            if right.start < left.end:
                raise ValueError(f"sessions {left} and {right} overlap")
        return cls(tuple(segments))

    @property
    def has_night(self) -> bool:
        return any(s.night for s in self.segments)

    def _arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        starts = np.array([s.start for s in self.segments], dtype=np.int64)
        ends = np.array([s.end for s in self.segments], dtype=np.int64)
        nights = np.array([s.night for s in self.segments], dtype=bool)
        return starts, ends, nights

    def locate(self, minutes: np.ndarray, length: int = 1) -> np.ndarray:
        """Segment index of each bar starting at session minute ``minutes`` and lasting
        ``length`` minutes; -1 where the bar is not wholly inside one segment."""
        starts, ends, _ = self._arrays()
        idx = np.searchsorted(starts, minutes, side="right") - 1
        safe = np.clip(idx, 0, len(starts) - 1)
        inside = (idx >= 0) & (minutes + length <= ends[safe])
        return np.where(inside, idx, -1)

    def is_night(self, segment_index: np.ndarray) -> np.ndarray:
        _, _, nights = self._arrays()
        return nights[np.clip(segment_index, 0, len(nights) - 1)] & (segment_index >= 0)

    def bucket_start(
        self, minutes: np.ndarray, segment_index: np.ndarray, width: int
    ) -> np.ndarray:
        """Start (session minute) of the ``width``-minute bucket holding each minute,
        on a grid anchored at the start of its segment."""
        starts, _, _ = self._arrays()
        seg_start = starts[segment_index]
        return seg_start + ((minutes - seg_start) // width) * width

    def bars_per_day(self, width: int) -> int:
        return sum(-(-(s.end - s.start) // width) for s in self.segments)

    def describe(self) -> str:
        return ", ".join(f"{s}{' (night)' if s.night else ''}" for s in self.segments)


class SessionHours:
    """An instrument's session schedules over time, each in force from its first trading
    day (``None``: since always) until the next one's; the current schedule is the last.

    It answers what a ``SessionSchedule`` answers, for bars of given trading days. Segment
    indices are shared by all schedules (``all_segments``): the current schedule's
    segments come first, numbered as ``segments`` (today's hours) numbers them, then each
    earlier schedule's."""

    def __init__(self, eras: list[tuple[np.datetime64 | None, SessionSchedule]]):
        if not eras:
            raise ValueError("at least one session schedule is needed")
        self.eras = tuple(eras)
        self.current = eras[-1][1]
        self.segments = self.current.segments
        order = [len(eras) - 1, *range(len(eras) - 1)]  # current first
        self.all_segments: tuple[Segment, ...] = ()
        self._offset = [0] * len(eras)
        for k in order:
            self._offset[k] = len(self.all_segments)
            self.all_segments += eras[k][1].segments
        self._starts = np.array([s.start for s in self.all_segments], dtype=np.int64)
        self._ends = np.array([s.end for s in self.all_segments], dtype=np.int64)
        self._nights = np.array([s.night for s in self.all_segments], dtype=bool)
        self._tables: dict[int, np.ndarray] = {}  # ``locate``'s, by bar length
        self._era_starts = np.array(
            [np.datetime64("NaT") if day is None else day for day, _ in eras],
            dtype="datetime64[D]",
        )

    @property
    def changes(self) -> bool:
        return len(self.eras) > 1

    @property
    def has_night(self) -> bool:
        return bool(self._nights.any())

    def era_of(self, days: np.ndarray) -> np.ndarray:
        """The index of the schedule in force on each trading day (the earliest before
        its first day; the current one where the day is unknown, NaT)."""
        days = np.asarray(days, dtype="datetime64[D]")
        # The later schedules' first days on or before each day, counted: a comparison per
        # schedule costs a fraction of a binary search per day.
        era = np.zeros(days.shape, dtype=np.intp)
        for first in self._era_starts[1:]:
            era += days >= first
        era[np.isnat(days)] = len(self.eras) - 1
        return era

    def eras_present(self, era: np.ndarray) -> np.ndarray:
        """The schedules that occur among ``era`` (indices as ``era_of`` gives them),
        ascending: ``np.unique``'s values, found by counting (numpy 2's ``unique`` hashes
        every bar's index)."""
        return np.flatnonzero(np.bincount(era, minlength=len(self.eras)))

    def locate(self, minutes: np.ndarray, length: int = 1, days=None) -> np.ndarray:
        """Segment index of each bar starting at session minute ``minutes`` and lasting
        ``length`` minutes, in the schedule of its trading day ``days`` (the current
        schedule without days); -1 where the bar is not wholly inside one segment.
        Looked up in a table of every minute of the session clock (a search per bar
        costs several times more); minutes off that clock are searched."""
        minutes = np.asarray(minutes, dtype=np.int64)
        table = self._minute_table(length)
        if minutes.size and (minutes.min() < 0 or minutes.max() >= table.shape[1]):
            return self._search(minutes, length, days)
        if days is None or not self.changes:
            return table[-1][minutes]
        return table[self.era_of(days), minutes]

    def _minute_table(self, length: int) -> np.ndarray:
        """(schedules, minutes of the session clock): ``locate`` of each minute in each
        schedule, made once per bar length."""
        table = self._tables.get(length)
        if table is None:
            clock = np.arange(MINUTES_PER_DAY + DAY_CUTOFF_MINUTE, dtype=np.int64)
            rows = [self._in_era(k, clock, length) for k in range(len(self.eras))]
            table = self._tables[length] = np.stack(rows)
        return table

    def _search(self, minutes: np.ndarray, length: int, days) -> np.ndarray:
        if days is None or not self.changes:
            return self.current.locate(minutes, length)
        era = self.era_of(days)
        out = np.full(len(minutes), -1, dtype=np.int64)
        for k in self.eras_present(era):
            rows = era == k
            out[rows] = self._in_era(k, minutes[rows], length)
        return out

    def _in_era(self, k: int, minutes: np.ndarray, length: int) -> np.ndarray:
        """``locate`` in schedule ``k``, numbered as ``all_segments`` numbers them."""
        found = self.eras[k][1].locate(minutes, length)
        return np.where(found >= 0, found + self._offset[k], -1)

    def is_night(self, segment_index: np.ndarray) -> np.ndarray:
        index = np.asarray(segment_index)
        return self._nights[np.clip(index, 0, len(self._nights) - 1)] & (index >= 0)

    def segment_start(self, segment_index: np.ndarray) -> np.ndarray:
        return self._starts[np.asarray(segment_index)]

    def segment_end(self, segment_index: np.ndarray) -> np.ndarray:
        return self._ends[np.asarray(segment_index)]

    def bucket_start(
        self, minutes: np.ndarray, segment_index: np.ndarray, width: int
    ) -> np.ndarray:
        """Start (session minute) of the ``width``-minute bucket holding each minute,
        on a grid anchored at the start of its segment."""
        seg_start = self._starts[segment_index]
        return seg_start + ((minutes - seg_start) // width) * width

    def bars_per_day(self, width: int) -> int:
        return self.current.bars_per_day(width)

    def describe(self, day=None) -> str:
        """The sessions in force on trading day ``day`` (default: today's)."""
        if day is None or not self.changes:
            return self.current.describe()
        era = int(self.era_of(np.array([day], dtype="datetime64[D]"))[0])
        return self.eras[era][1].describe()


def exchange_local(times):
    """The times in exchange local time (Asia/Shanghai) when they carry another zone."""
    tz = getattr(times, "tz", None)
    if tz is not None and str(tz) != "Asia/Shanghai":
        return times.tz_convert("Asia/Shanghai")
    return times


NS_PER_MINUTE = 60_000_000_000
NS_PER_DAY = NS_PER_MINUTE * MINUTES_PER_DAY


def wall_ns(times) -> np.ndarray:
    """Exchange local wall-clock time of each stamp (a pandas DatetimeIndex; zone-aware
    stamps are read in exchange local time, naive ones are taken as local) as int64
    nanoseconds: one conversion, then integer arithmetic for minutes, seconds and dates
    (each datetime field of a zone-aware index converts the whole index again)."""
    times = exchange_local(times)
    if getattr(times, "tz", None) is not None:
        times = times.tz_localize(None)
    return np.asarray(pd.DatetimeIndex(times).as_unit("ns").asi8)


def clock_minutes(wall: np.ndarray) -> np.ndarray:
    """Minutes after midnight of wall-clock nanoseconds."""
    return (wall // NS_PER_MINUTE) % MINUTES_PER_DAY


def session_clock(wall: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Session minute of wall-clock nanoseconds (past 24:00 before 06:00) and the date
    its session clock began (the evening's date before 06:00): the wall clock read six
    hours back, then put forward again, without a choice per time. Counted in minutes,
    so that the earliest times int64 nanoseconds hold (and NaT) do not wrap around."""
    minutes = wall // NS_PER_MINUTE - DAY_CUTOFF_MINUTE
    dates = (minutes // MINUTES_PER_DAY).astype("datetime64[D]")
    return minutes % MINUTES_PER_DAY + DAY_CUTOFF_MINUTE, dates


def session_minutes(times) -> np.ndarray:
    """Session minute of each time stamp (a pandas DatetimeIndex; zone-aware stamps are
    read in exchange local time, naive ones are taken as local)."""
    return session_clock(wall_ns(times))[0]


@dataclass(frozen=True)
class SessionTimes:
    """Times read on the session clock once, for several look-ups (the validator's): the
    session minute of each and the date its session clock began (``session_clock``)."""

    minutes: np.ndarray
    evening: np.ndarray  # datetime64[D]

    @classmethod
    def of_wall(cls, wall: np.ndarray) -> SessionTimes:
        """The times of wall-clock nanoseconds (``wall_ns``)."""
        return cls(*session_clock(wall))

    def __getitem__(self, rows) -> SessionTimes:
        return SessionTimes(self.minutes[rows], self.evening[rows])

"""Trading sessions on a "session clock" that keeps a night session in one piece.

A time of day is turned into a *session minute*: minutes after midnight, plus 1440 for
times before 06:00, which belong to the night that began the evening before. Copper's
night 21:00-01:00 is then the single segment [1260, 1500), and a 15-minute grid anchored
at each segment's start never spans a break.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import time

import numpy as np

DAY_CUTOFF_MINUTE = 6 * 60  # times before 06:00 belong to the previous evening's night
MINUTES_PER_DAY = 24 * 60


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
            if not (DAY_CUTOFF_MINUTE <= a < b <= 20 * 60):
                raise ValueError(
                    f"day session {start:%H:%M}-{end:%H:%M} must start before it ends "
                    "and lie within 06:00-20:00"
                )
            segments.append(Segment(a, b, night=False))
        if night is not None:
            start, end = night
            a = start.hour * 60 + start.minute
            b = clock_minute(end)
            if not (18 * 60 <= a < b <= MINUTES_PER_DAY + DAY_CUTOFF_MINUTE):
                raise ValueError(
                    f"night session {start:%H:%M}-{end:%H:%M} must start after 18:00 "
                    "and end by 06:00"
                )
            segments.append(Segment(a, b, night=True))
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


def exchange_local(times):
    """The times in exchange local time (Asia/Shanghai) when they carry another zone."""
    tz = getattr(times, "tz", None)
    if tz is not None and str(tz) != "Asia/Shanghai":
        return times.tz_convert("Asia/Shanghai")
    return times


def session_minutes(times) -> np.ndarray:
    """Session minute of each time stamp (a pandas DatetimeIndex; zone-aware stamps are
    read in exchange local time, naive ones are taken as local)."""
    times = exchange_local(times)
    minute = np.asarray(times.hour, dtype=np.int64) * 60 + np.asarray(times.minute, dtype=np.int64)
    return np.where(minute < DAY_CUTOFF_MINUTE, minute + MINUTES_PER_DAY, minute)

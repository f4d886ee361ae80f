"""What ``twotier data check`` reports about a file of bars."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from twotier.errors import BarProblem
from twotier.market.bars import LoadedBars
from twotier.market.calendar import TradingCalendar, default_calendar
from twotier.market.sessions import session_minutes


@dataclass
class SessionCount:
    segment: str
    night: bool
    bars: int
    days: int


@dataclass
class DataSummary:
    source: str
    instrument: str
    bar_minutes: int
    rows: int
    first_bar: pd.Timestamp
    last_bar: pd.Timestamp
    first_day: pd.Timestamp
    last_day: pd.Timestamp
    trading_days: int
    calendar_trading_days: int
    missing_days: list[pd.Timestamp]
    incomplete_days: int
    intraday_gaps: int
    sessions: list[SessionCount]
    dropped: list[BarProblem] = field(default_factory=list)
    repaired: list[BarProblem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "source": self.source,
            "instrument": self.instrument,
            "bar_minutes": self.bar_minutes,
            "rows": self.rows,
            "first_bar": str(self.first_bar),
            "last_bar": str(self.last_bar),
            "first_trading_day": str(self.first_day.date()),
            "last_trading_day": str(self.last_day.date()),
            "trading_days": self.trading_days,
            "calendar_trading_days": self.calendar_trading_days,
            "missing_days": [str(d.date()) for d in self.missing_days],
            "incomplete_days": self.incomplete_days,
            "intraday_gaps": self.intraday_gaps,
            "sessions": [s.__dict__ for s in self.sessions],
            "dropped": [{"line": p.line, "problem": p.problem} for p in self.dropped],
            "repaired": [{"line": p.line, "problem": p.problem} for p in self.repaired],
            "warnings": list(self.warnings),
        }


def night_gaps(spec, days, segment, unique_days, calendar: TradingCalendar) -> list[str]:
    """A warning when night sessions are missing on days that should have one: the
    exchanges hold no night session before a holiday, so only days whose previous
    trading day is the previous weekday are expected to have one."""
    if not spec.sessions.has_night or len(unique_days) < 2:
        return []
    previous = calendar.days[np.maximum(np.searchsorted(calendar.days, unique_days) - 1, 0)]
    expected = unique_days[(np.busday_count(previous, unique_days) == 1)][1:]
    with_night = np.unique(days[spec.sessions.is_night(segment)])
    missing = np.setdiff1d(expected, with_night)
    if len(missing) == 0:
        return []
    shown = ", ".join(str(d) for d in missing[:5]) + (" ..." if len(missing) > 5 else "")
    return [
        f"no night session on {len(missing)} of {len(expected)} trading days that follow a "
        f"regular trading evening: {shown}"
    ]


def summarize(loaded: LoadedBars, calendar: TradingCalendar | None = None) -> DataSummary:
    calendar = calendar or default_calendar()
    frame, spec, width = loaded.frame, loaded.instrument, loaded.bar_minutes
    days = frame["trading_day"].to_numpy().astype("datetime64[D]")
    unique_days = np.unique(days)
    expected = calendar.between(unique_days[0], unique_days[-1])
    missing = np.setdiff1d(expected, unique_days)

    minutes = session_minutes(frame.index)
    segment = spec.sessions.locate(minutes, width)
    sessions = []
    for i, seg in enumerate(spec.sessions.segments):
        mask = segment == i
        sessions.append(
            SessionCount(str(seg), seg.night, int(mask.sum()), len(np.unique(days[mask])))
        )

    # A bar missing inside a segment: the next bar of the same segment and day starts late.
    same = (segment[1:] == segment[:-1]) & (days[1:] == days[:-1])
    step = np.diff(minutes)
    gaps = int((same & (step > width)).sum())
    day_session = (segment >= 0) & ~spec.sessions.is_night(segment)
    per_day = pd.Series(day_session.astype(int), index=days).groupby(level=0).sum()
    day_bars = sum(-(-(s.end - s.start) // width) for s in spec.sessions.segments if not s.night)
    incomplete = int((per_day < day_bars).sum())
    warnings = night_gaps(spec, days, segment, unique_days, calendar)
    return DataSummary(
        source=loaded.source,
        instrument=spec.key,
        bar_minutes=width,
        rows=len(frame),
        first_bar=frame.index[0],
        last_bar=frame.index[-1],
        first_day=pd.Timestamp(unique_days[0]),
        last_day=pd.Timestamp(unique_days[-1]),
        trading_days=len(unique_days),
        calendar_trading_days=len(expected),
        missing_days=[pd.Timestamp(d) for d in missing],
        incomplete_days=incomplete,
        intraday_gaps=gaps,
        sessions=sessions,
        dropped=list(loaded.dropped),
        repaired=list(loaded.repaired),
        warnings=warnings,
    )


__all__ = ["DataSummary", "SessionCount", "summarize"]

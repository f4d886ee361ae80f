"""Trading days, and the trading day of any bar.

Holidays come from the XSHG calendar of ``exchange-calendars`` (the Chinese futures
exchanges close on the public holidays of the Shanghai Stock Exchange); a user file can add
closures or open extra days.

Rules (docs/data.md):
- A day-session bar belongs to its calendar date, which must be a trading day.
- A night-session bar belongs to the NEXT trading day after the evening its night began
  (Friday night -> Monday; a night before a holiday -> the first day that trades after
  it). The evening itself must be a trading day: there is no night session on a Sunday.
- After midnight (copper until 01:00) the night began the evening before.
"""

from __future__ import annotations

import warnings
from datetime import date, datetime
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from twotier.errors import CalendarError, ConfigError
from twotier.io import read_toml
from twotier.market.instruments import InstrumentSpec
from twotier.market.sessions import DAY_CUTOFF_MINUTE, exchange_local, session_minutes

TIMEZONE = "Asia/Shanghai"


@cache
def _xshg_sessions() -> np.ndarray:
    import exchange_calendars as xc  # slow import: only when a calendar is needed

    with warnings.catch_warnings():
        # exchange-calendars 4.13 uses a pandas API that pandas 3.1 deprecates; not ours.
        warnings.filterwarnings("ignore", message="Series.values returning an ndarray")
        cal = xc.get_calendar("XSHG", start="1995-01-01")
    return np.asarray(cal.sessions.values.astype("datetime64[D]"))


def _as_days(values: object, key: str) -> np.ndarray:
    """A TOML list of dates (``2024-10-08`` or ``"2024-10-08"``) as datetime64[D]."""
    if not isinstance(values, list):
        raise ValueError(f"{key} must be a list of dates, got {values!r}")
    days = []
    for value in values:
        if isinstance(value, datetime):  # a TOML date-time: not a day
            raise ValueError(f"{key}: expected a date, got the date-time {value}")
        if isinstance(value, date):
            days.append(np.datetime64(value, "D"))
        elif isinstance(value, str):
            try:
                days.append(np.datetime64(datetime.strptime(value.strip(), "%Y-%m-%d"), "D"))
            except ValueError:
                raise ValueError(f"{key}: {value!r} is not a date 'YYYY-MM-DD'") from None
        else:
            raise ValueError(f"{key}: {value!r} is not a date 'YYYY-MM-DD'")
    return np.asarray(days, dtype="datetime64[D]")


class TradingCalendar:
    """A sorted set of trading days with vectorised look-ups."""

    def __init__(self, days: np.ndarray, source: str = "XSHG"):
        self.days = np.unique(np.asarray(days, dtype="datetime64[D]"))
        self.source = source
        if len(self.days) == 0:
            raise CalendarError(f"calendar {source} has no trading days")

    @classmethod
    def load(cls, user_file: str | Path | None = None) -> TradingCalendar:
        days = _xshg_sessions()
        if user_file is None:
            return cls(days)
        path = Path(user_file)
        table = read_toml(path, "calendar file")
        unknown = set(table) - {"holidays", "trading_days"}
        if unknown:
            raise ConfigError(
                f"{path}: unknown key(s) {', '.join(sorted(unknown))}; "
                "expected holidays = [...] and/or trading_days = [...]"
            )
        try:
            closed = _as_days(table.get("holidays", []), "holidays")
            opened = _as_days(table.get("trading_days", []), "trading_days")
        except ValueError as exc:
            raise ConfigError(f"{path}: {exc}") from None
        days = np.union1d(np.setdiff1d(days, closed), opened)
        return cls(days, source=f"XSHG + {path}")

    @property
    def first(self) -> np.datetime64:
        return self.days[0]

    @property
    def last(self) -> np.datetime64:
        return self.days[-1]

    def is_trading_day(self, dates: np.ndarray) -> np.ndarray:
        dates = np.asarray(dates, dtype="datetime64[D]")
        pos = np.searchsorted(self.days, dates)
        return (pos < len(self.days)) & (self.days[np.minimum(pos, len(self.days) - 1)] == dates)

    def next_trading_day(self, dates: np.ndarray) -> np.ndarray:
        """The first trading day strictly after each date."""
        dates = np.asarray(dates, dtype="datetime64[D]")
        pos = np.searchsorted(self.days, dates, side="right")
        if len(pos) and pos.max() >= len(self.days):
            late = dates[pos >= len(self.days)][0]
            raise CalendarError(
                f"{late} is at or past the end of the trading calendar ({self.source}, "
                f"last trading day {self.last}); add days with a calendar file"
            )
        return self.days[pos]

    def check_range(self, dates: np.ndarray) -> None:
        dates = np.asarray(dates, dtype="datetime64[D]")
        if len(dates) and (dates.min() < self.first or dates.max() > self.last):
            raise CalendarError(
                f"dates {dates.min()} to {dates.max()} are outside the trading calendar "
                f"({self.source}: {self.first} to {self.last}); add days with a calendar file"
            )

    def index_of(self, days: np.ndarray) -> np.ndarray:
        """Position of trading days in the calendar (for counting trading days)."""
        return np.searchsorted(self.days, np.asarray(days, dtype="datetime64[D]"))

    def between(self, start, end) -> np.ndarray:
        lo = np.datetime64(start, "D")
        hi = np.datetime64(end, "D")
        return self.days[(self.days >= lo) & (self.days <= hi)]


@cache
def default_calendar() -> TradingCalendar:
    return TradingCalendar.load()


def session_dates(times: pd.DatetimeIndex) -> np.ndarray:
    """The calendar date on which each bar's session clock began (the evening's date for
    bars after midnight)."""
    times = exchange_local(times)
    minutes = np.asarray(times.hour, dtype=np.int64) * 60 + np.asarray(times.minute)
    dates = np.asarray(times.tz_localize(None).values.astype("datetime64[D]"))
    return np.where(minutes < DAY_CUTOFF_MINUTE, dates - np.timedelta64(1, "D"), dates)


def place_bars(
    times: pd.DatetimeIndex, spec: InstrumentSpec, calendar: TradingCalendar, length: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Trading day and session segment of bars starting at ``times`` (local time) and
    lasting ``length`` minutes. Bars outside the sessions get segment -1 and trading day
    NaT."""
    minutes = session_minutes(times)
    segment = spec.sessions.locate(minutes, length)
    evening = session_dates(times)
    calendar.check_range(evening)
    night = spec.sessions.is_night(segment)
    open_day = calendar.is_trading_day(evening)
    segment = np.where(open_day, segment, -1)
    trading_day = np.full(len(times), np.datetime64("NaT"), dtype="datetime64[D]")
    day_bars = (segment >= 0) & ~night
    trading_day[day_bars] = evening[day_bars]
    night_bars = (segment >= 0) & night
    if night_bars.any():
        trading_day[night_bars] = calendar.next_trading_day(evening[night_bars])
    return trading_day, segment


def trading_day_of(timestamp, spec: InstrumentSpec, calendar: TradingCalendar | None = None):
    """The trading day (a ``datetime.date``) of one bar start time, or a CalendarError if
    it falls outside the instrument's sessions."""
    calendar = calendar or default_calendar()
    ts = pd.Timestamp(timestamp)
    ts = ts.tz_localize(TIMEZONE) if ts.tzinfo is None else ts.tz_convert(TIMEZONE)
    times = pd.DatetimeIndex([ts])
    day, segment = place_bars(times, spec, calendar)
    if segment[0] < 0:
        if spec.sessions.locate(session_minutes(times))[0] >= 0:
            evening = pd.Timestamp(session_dates(times)[0])
            raise CalendarError(
                f"{ts} is in the trading hours of {spec.key} but {evening:%Y-%m-%d (%A)} "
                "is not a trading day"
            )
        raise CalendarError(
            f"{ts} is outside the sessions of {spec.key} ({spec.sessions.describe()})"
        )
    return pd.Timestamp(day[0]).date()

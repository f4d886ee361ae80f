"""Trading days, the evenings that have a night session, and the trading day of any bar.

Holidays come from the XSHG calendar of ``exchange-calendars`` (the Chinese futures
exchanges close on the public holidays of the Shanghai Stock Exchange; shipped as computed,
market/xshg.py), with the additions shipped in ``twotier/resources/calendar.toml``; a user
file can add closures, open extra days, extend the calendar past its last recorded year and
list evenings without a night.

Rules (docs/data.md, RULES.md 1 and 11):
- A day-session bar belongs to its calendar date, which must be a trading day.
- A night-session bar belongs to the NEXT trading day after the evening its night began
  (Friday night -> Monday). The evening itself must be a trading day (there is no night
  session on a Sunday), and it must have a night: none on the evening before a closure of
  more than a weekend (a holiday), none on evenings the calendar lists under ``no_night``.
- After midnight (copper until 01:00) the night began the evening before.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from twotier.errors import CalendarError, ConfigError
from twotier.io import read_toml
from twotier.market.instruments import InstrumentSpec
from twotier.market.sessions import (
    NIGHT_START_MINUTE,
    SessionTimes,
    session_clock,
    session_minutes,
    wall_ns,
)
from twotier.market.xshg import shipped_sessions, weekdays
from twotier.sorted_sets import difference, distinct, isin, union

TIMEZONE = "Asia/Shanghai"
ONE_DAY = np.timedelta64(1, "D")
FILE_KEYS = ("holidays", "trading_days", "weekdays_until", "no_night")


def _as_day(value: object, key: str) -> np.datetime64:
    """A TOML date (``2024-10-08``) or a text date (``"2024-10-08"``) as datetime64[D]."""
    if isinstance(value, datetime):  # a TOML date-time: not a day
        raise ValueError(f"{key}: expected a date, got the date-time {value}")
    if isinstance(value, date):
        return np.datetime64(value, "D")
    if isinstance(value, str):
        try:
            return np.datetime64(datetime.strptime(value.strip(), "%Y-%m-%d"), "D")
        except ValueError:
            pass
    raise ValueError(f"{key}: {value!r} is not a date 'YYYY-MM-DD'")


def _as_days(values: object, key: str) -> np.ndarray:
    """A TOML list of dates as datetime64[D]."""
    if not isinstance(values, list):
        raise ValueError(f"{key} must be a list of dates, got {values!r}")
    return np.asarray([_as_day(value, key) for value in values], dtype="datetime64[D]")


def _as_evenings(values: object, key: str) -> np.ndarray:
    """A TOML list of dates and inclusive ranges ``["first", "last"]`` as every date they
    cover."""
    if not isinstance(values, list):
        raise ValueError(f"{key} must be a list of dates or [first, last] ranges, got {values!r}")
    days = []
    for value in values:
        if not isinstance(value, list):
            days.append(_as_day(value, key))
            continue
        if len(value) != 2:
            raise ValueError(f"{key}: a range is [first, last], got {value!r}")
        first, last = _as_day(value[0], key), _as_day(value[1], key)
        if last < first:
            raise ValueError(f"{key}: range {value!r} ends before it starts")
        days.extend(np.arange(first, last + ONE_DAY))
    return np.asarray(days, dtype="datetime64[D]")


def _read_additions(table: dict, source: str) -> dict[str, np.ndarray]:
    """A calendar file's keys as arrays of days (``weekdays_until`` as one date)."""
    unknown = set(table) - set(FILE_KEYS)
    if unknown:
        raise ConfigError(
            f"{source}: unknown key(s) {', '.join(sorted(unknown))}; expected "
            "holidays = [...], trading_days = [...], weekdays_until = DATE and/or "
            "no_night = [...]"
        )
    try:
        until = table.get("weekdays_until")
        return {
            "holidays": _as_days(table.get("holidays", []), "holidays"),
            "trading_days": _as_days(table.get("trading_days", []), "trading_days"),
            "weekdays_until": np.asarray(
                [] if until is None else [_as_day(until, "weekdays_until")], dtype="datetime64[D]"
            ),
            "no_night": _as_evenings(table.get("no_night", []), "no_night"),
        }
    except ValueError as exc:
        raise ConfigError(f"{source}: {exc}") from None


@cache
def _shipped_additions() -> dict[str, np.ndarray]:
    import tomllib

    text = resources.files("twotier.resources").joinpath("calendar.toml").read_text("utf-8")
    return _read_additions(tomllib.loads(text), "twotier/resources/calendar.toml")


class TradingCalendar:
    """A sorted set of trading days, the evenings without a night session, and vectorised
    look-ups.

    ``assumed_from`` is set on a calendar extended past its recorded days by
    ``assuming_weekdays``: days from it on are weekdays taken as trading days because
    nothing better is known (live trading and delivery deadlines only)."""

    def __init__(
        self,
        days: np.ndarray,
        source: str = "XSHG",
        no_night: np.ndarray | None = None,
        assumed_from: np.datetime64 | None = None,
        holidays: np.ndarray | None = None,
    ):
        self.days = distinct(np.asarray(days, dtype="datetime64[D]"))
        # Closures the calendar files list: kept, so that weekdays assumed past the last
        # recorded day (live trading, deadlines) do not trade a holiday the user wrote.
        self.holidays = distinct(np.asarray([] if holidays is None else holidays, "datetime64[D]"))
        self.source = source
        self.no_night = distinct(np.asarray([] if no_night is None else no_night, "datetime64[D]"))
        self.assumed_from = assumed_from
        if len(self.days) == 0:
            raise CalendarError(f"calendar {source} has no trading days")

    @classmethod
    def load(cls, user_file: str | Path | None = None) -> TradingCalendar:
        days = shipped_sessions()
        shipped = _shipped_additions()
        additions = [shipped]
        source = "XSHG"
        if user_file is not None:
            path = Path(user_file)
            additions.append(_read_additions(read_toml(path, "calendar file"), str(path)))
            source = f"XSHG + {path}"
        no_night = np.concatenate([a["no_night"] for a in additions])
        for added in additions:
            if len(added["weekdays_until"]):
                until = added["weekdays_until"][0]
                days = union(days, weekdays(days.max() + ONE_DAY, until))
            days = union(difference(days, added["holidays"]), added["trading_days"])
        holidays = np.concatenate([a["holidays"] for a in additions])
        return cls(days, source=source, no_night=no_night, holidays=holidays)

    @property
    def first(self) -> np.datetime64:
        return self.days[0]

    @property
    def last(self) -> np.datetime64:
        return self.days[-1]

    @property
    def horizon(self) -> np.datetime64:
        """The last recorded trading day (``last`` unless weekdays are assumed after it)."""
        if self.assumed_from is None:
            return self.last
        return self.assumed_from - ONE_DAY

    def assuming_weekdays(self, years: int = 2) -> TradingCalendar:
        """This calendar with every weekday of the ``years`` after its horizon taken as a
        trading day, for live trading past the horizon (the exchange, through its feed,
        knows better) and delivery deadlines (RULES.md 10.6 item 16)."""
        if self.assumed_from is not None:
            return self
        start = self.last + ONE_DAY
        extra = difference(weekdays(start, start + np.timedelta64(366 * years, "D")), self.holidays)
        return TradingCalendar(
            np.concatenate([self.days, extra]),
            self.source,
            self.no_night,
            assumed_from=start,
            holidays=self.holidays,
        )

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

    def previous_trading_day(self, dates: np.ndarray) -> np.ndarray:
        """The last trading day strictly before each date (NaT before the first)."""
        dates = np.asarray(dates, dtype="datetime64[D]")
        pos = np.searchsorted(self.days, dates, side="left") - 1
        out = self.days[np.maximum(pos, 0)]
        return np.where(pos >= 0, out, np.datetime64("NaT", "D"))

    def has_night(self, evenings: np.ndarray) -> np.ndarray:
        """Whether a night session runs on the evening of each date: the date is a
        trading day, the next trading day is known and follows it with no weekday closed
        in between (the eve of a holiday has no night), and the evening is not listed
        under ``no_night``."""
        evenings = np.asarray(evenings, dtype="datetime64[D]")
        pos = np.searchsorted(self.days, evenings, side="right")
        known = pos < len(self.days)
        following = self.days[np.minimum(pos, len(self.days) - 1)]
        closed_weekdays = np.busday_count(evenings + ONE_DAY, np.maximum(following, evenings))
        return (
            self.is_trading_day(evenings)
            & known
            & (closed_weekdays == 0)
            & ~isin(evenings, self.no_night)
        )

    def why_no_night(self, evening: np.datetime64) -> str:
        """Why the evening of a trading day has no night session, in words."""
        evening = np.datetime64(evening, "D")
        if isin(evening, self.no_night):
            return "the calendar lists it under no_night"
        if evening >= self.last:
            return f"it is the calendar's last day ({self.source})"
        following = self.next_trading_day(np.array([evening]))[0]
        return f"the eve of a holiday (next trading day {following})"

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
    return session_clock(wall_ns(times))[1]


def night_clock(times: pd.DatetimeIndex) -> np.ndarray:
    """Whether each time is on a night session's clock (18:00 to 06:00)."""
    return session_minutes(times) >= NIGHT_START_MINUTE


def runs_of(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The runs of equal neighbours in ``values``: each run's value, and the run of each
    element (``value[run]`` gives ``values`` back)."""
    starts = np.ones(len(values), dtype=bool)
    np.not_equal(values[1:], values[:-1], out=starts[1:])
    return values[starts], np.cumsum(starts) - 1


Times = pd.DatetimeIndex | SessionTimes  # local times, or already read on the session clock


class _Clock:
    """Times on the session clock: session minutes, the date the session began, whether
    it is a night, and the trading day the bar would have (a night's: the next trading
    day after its evening; NaT past the calendar's end), which picks the session hours."""

    def __init__(self, times: Times, calendar: TradingCalendar):
        if not isinstance(times, SessionTimes):
            times = SessionTimes.of_wall(wall_ns(times))
        self.minutes, self.evening = times.minutes, times.evening
        self.night = self.minutes >= NIGHT_START_MINUTE
        # Bars come a day's worth at a time: the calendar is asked once per run of bars
        # of one evening (a day's session and the night after it), not once per bar.
        self.evenings, self.run = runs_of(self.evening)
        self.day = self.evening
        if self.night.any():
            pos = np.searchsorted(calendar.days, self.evenings, side="right")
            found = calendar.days[np.minimum(pos, len(calendar.days) - 1)]
            after = np.where(pos < len(calendar.days), found, np.datetime64("NaT", "D"))
            self.day = np.where(self.night, after[self.run], self.evening)

    def segments(self, spec: InstrumentSpec, length: int) -> np.ndarray:
        return spec.sessions.locate(self.minutes, length, days=self.day)


def place_bars(
    times: pd.DatetimeIndex, spec: InstrumentSpec, calendar: TradingCalendar, length: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Trading day and session segment of bars starting at ``times`` (local time) and
    lasting ``length`` minutes, in the session hours of their trading day. Bars outside
    the sessions, on days without trading or on evenings without a night get segment -1
    and trading day NaT."""
    trading_day, segment, _ = place_and_locate(times, spec, calendar, length)
    return trading_day, segment


def session_days(times: Times, calendar: TradingCalendar) -> np.ndarray:
    """The trading day of each time's session (datetime64[D]): a night's is the next
    trading day after its evening; NaT past the calendar's end."""
    return _Clock(times, calendar).day


def place_and_locate(
    times: Times, spec: InstrumentSpec, calendar: TradingCalendar, length: int = 1
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``place_bars``, and the segment each bar lies in by the clock alone (whatever the
    calendar says of its day: ``hour_segments``). ``times`` may be given as read on the
    session clock (``SessionTimes``), as for ``session_days`` and ``hour_segments``."""
    clock = _Clock(times, calendar)
    calendar.check_range(clock.evenings)
    hours = clock.segments(spec, length)
    open_day = calendar.is_trading_day(clock.evenings)[clock.run]
    if clock.night.any():
        open_day &= ~clock.night | calendar.has_night(clock.evenings)[clock.run]
    segment = np.where(open_day, hours, -1)
    trading_day = np.where(segment >= 0, clock.day, np.datetime64("NaT", "D"))
    return trading_day, segment, hours


def closed_reason(time: pd.Timestamp, calendar: TradingCalendar) -> str:
    """Why a time inside an instrument's hours is not in a trading session: the day is no
    trading day, or the evening has no night session."""
    times = pd.DatetimeIndex([time])
    evening = session_dates(times)[0]
    shown = f"{pd.Timestamp(evening):%Y-%m-%d (%A)}"
    if not calendar.is_trading_day(np.array([evening]))[0]:
        return f"{shown} is not a trading day"
    return f"no night session on the evening of {shown}: {calendar.why_no_night(evening)}"


def trading_day_of(timestamp, spec: InstrumentSpec, calendar: TradingCalendar | None = None):
    """The trading day (a ``datetime.date``) of one bar start time, or a CalendarError if
    it falls outside the instrument's sessions or on an evening without a night."""
    calendar = calendar or default_calendar()
    ts = pd.Timestamp(timestamp)
    ts = ts.tz_localize(TIMEZONE) if ts.tzinfo is None else ts.tz_convert(TIMEZONE)
    times = pd.DatetimeIndex([ts])
    day, segment = place_bars(times, spec, calendar)
    if segment[0] < 0:
        if in_hours(times, spec, calendar)[0]:
            raise CalendarError(
                f"{ts} is in the trading hours of {spec.key} but {closed_reason(ts, calendar)}"
            )
        raise CalendarError(
            f"{ts} is outside the sessions of {spec.key} ({spec.sessions.describe()})"
        )
    return pd.Timestamp(day[0]).date()


def hour_segments(
    times: Times, spec: InstrumentSpec, calendar: TradingCalendar, length: int = 1
) -> np.ndarray:
    """The session segment each bar lies in by the clock (in the hours in force on the
    trading day it would have), whatever the calendar says of that day; -1 outside."""
    return _Clock(times, calendar).segments(spec, length)


def in_hours(
    times: pd.DatetimeIndex, spec: InstrumentSpec, calendar: TradingCalendar, length: int = 1
) -> np.ndarray:
    """Whether each bar lies inside the instrument's session hours (those in force on the
    trading day it would have), whatever the calendar says of that day."""
    return hour_segments(times, spec, calendar, length) >= 0

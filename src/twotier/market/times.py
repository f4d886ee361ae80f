"""Time stamps read from a user's files, in exchange time (Asia/Shanghai): one definition
for bar files and package tables of what a time without a zone means (local), how a
column mixing zones is read, and which years twotier can count in."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from twotier.market.calendar import TIMEZONE

ZONE = ZoneInfo(TIMEZONE)  # one object: naming the zone on every Timestamp is slow

# Whole years inside the range of nanosecond time stamps (1677-09-21 to 2262-04-11, in any
# zone), in which the engine, the tape and the files count time. pandas parses the year
# 1600, in microseconds; nanoseconds cannot hold it.
TIME_RANGE = (pd.Timestamp("1678-01-01", tz=TIMEZONE), pd.Timestamp("2262-01-01", tz=TIMEZONE))
_WALL_RANGE = tuple(bound.tz_localize(None) for bound in TIME_RANGE)  # for one stamp
NAT = np.iinfo(np.int64).min  # NaT as an integer
OUTSIDE_RANGE = (
    f"is outside the years twotier handles ({TIME_RANGE[0].year} to {TIME_RANGE[1].year - 1})"
)


# China has kept UTC+8 since its last summer time (1991): from here on, exchange time is
# UTC+8 for every time (tests hold this to pandas' localizing).
FIXED_OFFSET_SINCE = np.datetime64("1992-01-01")
FIXED_OFFSET = np.timedelta64(8, "h")
# The same moment as nanoseconds since the epoch (UTC), and the offset in seconds: a time
# from then on is read by arithmetic, without the zone database.
FIXED_OFFSET_FROM_NS = int(
    (FIXED_OFFSET_SINCE - FIXED_OFFSET).astype("datetime64[ns]").view(np.int64)
)
FIXED_OFFSET_SECONDS = int(FIXED_OFFSET // np.timedelta64(1, "s"))


@lru_cache(maxsize=8192)
def exchange_time(time_ns: int) -> pd.Timestamp:
    """The Timestamp (exchange time) of nanoseconds since the epoch. Cached: the same few
    times are asked for again and again (a step's, its fills'), and making a Timestamp
    costs more than the rest of a quiet step's bookkeeping."""
    return pd.Timestamp(time_ns, tz=ZONE)


def exchange_clock(time_ns: int) -> datetime:
    """The exchange-time wall clock of nanoseconds since the epoch, to the second: a
    datetime costs a small part of a Timestamp, where only its fields are wanted."""
    return datetime.fromtimestamp(time_ns // 1_000_000_000, ZONE)


def in_exchange_time(stamps: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """Stamps with a zone converted to exchange time, those without taken as local."""
    if stamps.tz is None:
        return _localized(stamps)
    return stamps.tz_convert(TIMEZONE)


def _localized(stamps: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """Local stamps given the exchange's zone. Where every stamp lies in the years of one
    offset, they are moved to UTC by it: pandas' localizing looks up each stamp's offset,
    at several times the cost."""
    local = stamps.asi8
    unit = stamps.unit
    since = FIXED_OFFSET_SINCE.astype(f"datetime64[{unit}]").astype(np.int64)
    offset = FIXED_OFFSET.astype(f"timedelta64[{unit}]").astype(np.int64)
    if not len(local) or local.min() < since:  # NaT is the least integer: pandas' way
        return stamps.tz_localize(TIMEZONE)
    utc = pd.DatetimeIndex((local - offset).view(f"datetime64[{unit}]"), name=stamps.name)
    return utc.tz_localize("UTC").tz_convert(TIMEZONE)


def parse_times(text: pd.Series, fmt: str = "ISO8601") -> pd.DatetimeIndex:
    """Text cells as exchange times, NaT where a cell is not a time in ``fmt``. A column
    mixing zones (or times with a zone and without), which pandas refuses as a whole, is
    read cell by cell."""
    try:
        parsed = pd.to_datetime(text, format=fmt, errors="coerce")
    except ValueError:  # "Mixed timezones detected"
        local = [_one_time(pd.to_datetime(cell, format=fmt, errors="coerce")) for cell in text]
        return pd.DatetimeIndex(local, name=text.name, tz=TIMEZONE)
    return in_exchange_time(pd.DatetimeIndex(parsed))


def _one_time(stamp: pd.Timestamp) -> pd.Timestamp:
    """One stamp in exchange time; NaT outside ``TIME_RANGE``, where a single Timestamp
    cannot change zone (the year -1)."""
    if stamp is pd.NaT or not _WALL_RANGE[0] <= stamp.tz_localize(None) < _WALL_RANGE[1]:
        return pd.NaT
    return in_exchange_time(pd.DatetimeIndex([stamp]))[0]


def outside_range(stamps: pd.DatetimeIndex) -> np.ndarray:
    """Where a stamp (zone-aware) lies outside ``TIME_RANGE`` (NaT does not). Compared as
    integers in the stamps' unit: pandas' comparison with a Timestamp costs several times
    more."""
    first, end = pd.DatetimeIndex(TIME_RANGE).as_unit(stamps.unit).asi8
    moments = stamps.asi8
    return ((moments < first) | (moments >= end)) & (moments != NAT)

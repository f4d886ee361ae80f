"""Row-by-row validation of raw bars, with the line and the problem of each bad row.

Checks, in order (a row reports its first problem): time present and parsable; every
value present and numeric; prices > 0; volume and open interest >= 0; high >= low; high
not below open/close and low not above them; bar inside the instrument's sessions on a
trading day; then, among the rows left, no duplicated time and no time going backwards.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from twotier.errors import BadBarsError, BarProblem, DataError
from twotier.market.calendar import TIMEZONE, TradingCalendar, place_bars, session_dates
from twotier.market.instruments import InstrumentSpec
from twotier.market.sessions import DAY_CUTOFF_MINUTE

NUMERIC = ("open", "high", "low", "close", "volume", "open_interest")


@dataclass
class ValidationResult:
    frame: pd.DataFrame
    bar_minutes: int
    dropped: list[BarProblem] = field(default_factory=list)
    repaired: list[BarProblem] = field(default_factory=list)


class _Problems:
    """The first problem of each row, in a fixed priority order."""

    def __init__(self, n: int):
        self.message = np.full(n, None, dtype=object)
        self.repairable = np.zeros(n, dtype=bool)

    def flag(self, mask: np.ndarray, messages, repairable: bool = False) -> None:
        new = mask & (self.message == None)  # noqa: E711 (elementwise on an object array)
        if not new.any():
            return
        if callable(messages):
            idx = np.flatnonzero(new)
            self.message[idx] = [messages(i) for i in idx]
        else:
            self.message[new] = messages
        self.repairable[new] = repairable

    @property
    def bad(self) -> np.ndarray:
        return self.message != None  # noqa: E711


def _fmt(value: float) -> str:
    return f"{value:g}"


def _parse_times(values: pd.Series, time_format: str | None) -> pd.DatetimeIndex:
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = pd.DatetimeIndex(values)
    else:
        text = values.astype(str).str.strip()
        fmt = time_format or "ISO8601"
        parsed = pd.DatetimeIndex(pd.to_datetime(text, format=fmt, errors="coerce"))
        if time_format is None and parsed.isna().any():  # vendors' own layouts, slowly
            retry = parsed.isna() & (text != "").to_numpy()
            if retry.any():
                again = pd.to_datetime(text[retry], format="mixed", errors="coerce")
                parsed = pd.Series(parsed).where(~retry, again)
                parsed = pd.DatetimeIndex(parsed)
    if parsed.tz is None:
        return parsed.tz_localize(TIMEZONE)
    return parsed.tz_convert(TIMEZONE)


def _numbers(raw: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Values as float, and masks of empty and unparsable cells."""
    if pd.api.types.is_numeric_dtype(raw):
        values = raw.to_numpy(dtype=float, na_value=np.nan)
        return values, np.isnan(values), np.isinf(values)
    text = raw.astype(str).str.strip()
    empty = (text == "").to_numpy() | raw.isna().to_numpy()
    values = pd.to_numeric(text.where(~empty), errors="coerce").to_numpy(dtype=float)
    bad = (~empty & np.isnan(values)) | np.isinf(values)
    return values, empty, bad


def validate_rows(
    raw: pd.DataFrame,
    columns: dict[str, str],
    lines: np.ndarray,
    *,
    source: str,
    unit: str,
    spec: InstrumentSpec,
    calendar: TradingCalendar,
    label: str,
    bar_minutes: int | None,
    time_format: str | None,
    infer_bar_minutes: Callable[[np.ndarray], int],
    policy: str,
) -> ValidationResult:
    n = len(raw)
    problems = _Problems(n)

    # Time: as written, then parsed.
    time_text = raw[columns["time"]]
    if "date" in columns:
        time_text = (
            raw[columns["date"]].astype(str).str.strip() + " " + time_text.astype(str).str.strip()
        )
    stamps = _parse_times(time_text, time_format)
    shown = time_text.astype(str).to_numpy()
    empty_time = (time_text.astype(str).str.strip() == "").to_numpy()
    problems.flag(empty_time, "empty value in column 'time'")
    problems.flag(np.asarray(stamps.isna()), lambda i: f"unparsable time {shown[i]!r}")

    # Values: present, numeric, and sensible.
    values: dict[str, np.ndarray] = {}
    for name in NUMERIC:
        if name not in columns:
            continue
        cells = raw[columns[name]]
        number, empty, bad = _numbers(cells)
        values[name] = number
        own = columns[name]
        problems.flag(empty, f"empty value in column {own!r}")
        text = cells.astype(str).to_numpy()
        problems.flag(bad, lambda i, t=text, o=own: f"unparsable value {t[i]!r} in column {o!r}")
    o, h, low, c = (values[k] for k in ("open", "high", "low", "close"))
    for name in ("open", "high", "low", "close"):
        v = values[name]
        problems.flag(v <= 0, lambda i, v=v, k=name: f"price <= 0: {k}={_fmt(v[i])}")
    v = values["volume"]
    problems.flag(v < 0, lambda i: f"negative volume {_fmt(v[i])}")
    if "open_interest" in values:
        oi = values["open_interest"]
        problems.flag(oi < 0, lambda i: f"negative open interest {_fmt(oi[i])}")
    problems.flag(h < low, lambda i: f"high {_fmt(h[i])} below low {_fmt(low[i])}")
    problems.flag(h < o, lambda i: f"high {_fmt(h[i])} below open {_fmt(o[i])}", repairable=True)
    problems.flag(h < c, lambda i: f"high {_fmt(h[i])} below close {_fmt(c[i])}", repairable=True)
    problems.flag(low > o, lambda i: f"low {_fmt(low[i])} above open {_fmt(o[i])}", repairable=True)
    problems.flag(
        low > c, lambda i: f"low {_fmt(low[i])} above close {_fmt(c[i])}", repairable=True
    )

    # Bar start and length.
    ok_time = ~stamps.isna()
    minutes = bar_minutes or infer_bar_minutes(np.asarray(stamps[ok_time].tz_localize(None).values))
    if minutes <= 0 or minutes > 60:
        raise DataError(source, f"bar length must be 1-60 minutes, not {minutes}")
    starts = stamps - pd.Timedelta(minutes=minutes) if label == "end" else stamps

    # Sessions and trading days, for rows with a time.
    trading_day = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    idx = np.flatnonzero(ok_time)
    if len(idx):
        sub = starts[idx]
        evening = session_dates(sub)
        clock = np.asarray(sub.hour) * 60 + np.asarray(sub.minute)
        after_midnight = clock < DAY_CUTOFF_MINUTE
        beyond = (evening < calendar.first) | (evening > calendar.last)
        beyond |= (evening == calendar.last) & ((clock >= 18 * 60) | after_midnight)
        out = np.zeros(n, dtype=bool)
        out[idx[beyond]] = True
        problems.flag(
            out,
            lambda i: (
                f"date {shown[i]!r} is outside the trading calendar "
                f"({calendar.first} to {calendar.last})"
            ),
        )
        inside = idx[~beyond]
        if len(inside):
            day, segment = place_bars(starts[inside], spec, calendar, length=minutes)
            trading_day[inside] = day
            outside = np.zeros(n, dtype=bool)
            outside[inside[segment < 0]] = True
            how = "end" if label == "end" else "start"
            problems.flag(
                outside,
                lambda i: (
                    f"bar {shown[i]} ({how}) is outside the sessions of {spec.key} "
                    f"({spec.sessions.describe()}) or not on a trading day"
                ),
            )

    # Repair what the policy allows to be repaired, before ordering checks.
    repaired: list[BarProblem] = []
    if policy == "repair":
        fix = problems.repairable & problems.bad
        if fix.any():
            for i in np.flatnonzero(fix):
                repaired.append(
                    BarProblem(int(lines[i]), f"repaired: {problems.message[i]}", shown[i])
                )
            h[fix] = np.maximum.reduce([h[fix], o[fix], c[fix]])
            low[fix] = np.minimum.reduce([low[fix], o[fix], c[fix]])
            problems.message[fix] = None
            problems.repairable[fix] = False

    # Order, among rows without other problems: strictly increasing times.
    good = ~problems.bad
    t = np.asarray(starts.tz_localize(None).values.astype("datetime64[m]").astype(np.int64))
    t_good = np.where(good, t, np.iinfo(np.int64).min)
    prev_max = np.maximum.accumulate(np.concatenate([[np.iinfo(np.int64).min], t_good[:-1]]))
    if n:
        seen: dict[int, int] = {}
        for i in np.flatnonzero(good):
            seen.setdefault(int(t[i]), int(lines[i]))
        problems.flag(
            good & (t == prev_max),
            lambda i: f"duplicated time {shown[i]} (first on {unit} {seen[int(t[i])]})",
        )
        problems.flag(
            good & (t < prev_max),
            lambda i: (
                f"time {shown[i]} goes backwards (after a bar at "
                f"{pd.Timestamp(int(prev_max[i]), unit='m'):%Y-%m-%d %H:%M} {label})"
            ),
        )

    bad = problems.bad
    found = [BarProblem(int(lines[i]), problems.message[i], shown[i]) for i in np.flatnonzero(bad)]
    if found and policy == "refuse":
        raise BadBarsError(source, found, unit=unit)

    keep = ~bad
    frame = pd.DataFrame(
        {name: values[name][keep] for name in NUMERIC if name in values},
        index=pd.DatetimeIndex(starts[keep], name="time"),
    )
    frame["trading_day"] = pd.to_datetime(trading_day[keep]).astype("datetime64[s]")
    return ValidationResult(frame, minutes, dropped=found, repaired=repaired)

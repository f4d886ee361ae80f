"""Row-by-row validation of raw bars, with the line and the problem of each bad row.

Checks, in order (a row reports its first problem): time present and parsable; every
value present and numeric (and the contract, when there is a contract column, not empty);
prices > 0; volume and open interest >= 0; high >= low; bar inside the instrument's
sessions on a trading day; high not below open/close and low not above them (the
"envelope", the only problems ``policy="repair"`` repairs: a row is repaired only when the
envelope is all that is wrong with it); then, among the rows left, no duplicated time and
no time going backwards.

Policies: "refuse" raises ``BadBarsError`` listing every bad row; "drop" drops bad rows and
reports each; "repair" repairs envelope problems (reported) and drops the other bad rows
(reported).

A contract column is then checked as a whole, on the rows kept: a contract that comes back
after being replaced, or a change of contract inside a trading day, refuses the file with
the line (whatever the policy: no single row is to blame).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from twotier.errors import BadBarsError, BarProblem, DataError
from twotier.market.calendar import (
    TIMEZONE,
    TradingCalendar,
    closed_reason,
    in_hours,
    place_bars,
    session_dates,
)
from twotier.market.contracts import contract_problem, sequence_problem
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
        self.bad = np.zeros(n, dtype=bool)

    def flag(self, mask: np.ndarray, messages, repairable: bool = False) -> None:
        new = mask & ~self.bad
        if not new.any():
            return
        idx = np.flatnonzero(new)
        if callable(messages):
            self.message[idx] = [messages(i) for i in idx]
        else:
            self.message[idx] = messages
        self.repairable[idx] = repairable
        self.bad[idx] = True

    def clear(self, mask: np.ndarray) -> None:
        self.message[mask] = None
        self.repairable[mask] = False
        self.bad[mask] = False


class _Cells:
    """A column's cells as written, turned into text only for the rows a message needs
    (turning every cell of a large file into a Python string is slow)."""

    def __init__(self, values: pd.Series):
        self._values = values

    def __getitem__(self, i: int) -> str:
        return str(self._values.iloc[i])


def _fmt(value: float) -> str:
    return f"{value:g}"


def _stripped(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Cells as stripped text, and the mask of empty (or missing) cells."""
    text = values.astype(str).str.strip()
    empty = (text == "").to_numpy(dtype=bool, na_value=True) | values.isna().to_numpy()
    return text, empty


def _parse_times(values: pd.Series, time_format: str | None) -> pd.DatetimeIndex:
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = pd.DatetimeIndex(values)
    else:
        text, empty = _stripped(values)
        fmt = time_format or "ISO8601"
        parsed = pd.DatetimeIndex(pd.to_datetime(text, format=fmt, errors="coerce"))
        if time_format is None and parsed.isna().any():  # vendors' own layouts, slowly
            retry = parsed.isna() & ~empty
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
        # A copy: pandas may hand out a read-only view, and repairs write to the values.
        values = np.array(raw.to_numpy(dtype=float, na_value=np.nan), dtype=float, copy=True)
        return values, np.isnan(values), np.isinf(values)
    text, empty = _stripped(raw)
    values = pd.to_numeric(text.where(~empty), errors="coerce").to_numpy(dtype=float)
    bad = (~empty & np.isnan(values)) | np.isinf(values)
    return values, empty, bad


def _foreign_contracts(
    contract: pd.Series, empty: np.ndarray, stamps: pd.DatetimeIndex, spec: InstrumentSpec
) -> tuple[np.ndarray, Callable[[int], str]]:
    """Rows whose contract is not one of the instrument's (another product's, or no
    delivery month), and their messages. Each distinct code is checked once, at its
    first row's date (which places a three-digit code's decade)."""
    codes = contract.to_numpy(dtype=object)
    problem: dict[str, str] = {}
    seen: set[str] = set()
    for i in np.flatnonzero(~empty):
        code = codes[i]
        if code in seen:
            continue
        seen.add(code)
        near = stamps[i].date() if not pd.isna(stamps[i]) else pd.Timestamp.now().date()
        found = contract_problem(code, spec.product, near, spec.key)
        if found is not None:
            problem[code] = found
    bad = ~empty & np.isin(codes, list(problem)) if problem else np.zeros(len(codes), bool)
    return bad, lambda i: problem[codes[i]]


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

    # Time: present (both parts, for separate date and time columns), then parsable.
    time_cells = raw[columns["time"]]
    if "date" in columns:
        date_cells = raw[columns["date"]]
        date_text, empty_date = _stripped(date_cells)
        time_text, empty_time = _stripped(time_cells)
        problems.flag(empty_date, f"empty value in column {columns['date']!r}")
        problems.flag(empty_time, f"empty value in column {columns['time']!r}")
        time_cells = date_text.fillna("") + " " + time_text.fillna("")
    elif not pd.api.types.is_datetime64_any_dtype(time_cells):
        problems.flag(_stripped(time_cells)[1], f"empty value in column {columns['time']!r}")
    else:
        problems.flag(time_cells.isna().to_numpy(), f"empty value in column {columns['time']!r}")
    stamps = _parse_times(time_cells, time_format)
    shown = _Cells(time_cells)
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
        text = _Cells(cells)
        problems.flag(bad, lambda i, t=text, o=own: f"unparsable value {t[i]!r} in column {o!r}")
    contract = None
    if "contract" in columns:
        contract, empty = _stripped(raw[columns["contract"]])
        problems.flag(empty, f"empty value in column {columns['contract']!r}")
        problems.flag(*_foreign_contracts(contract, empty, stamps, spec))
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

    # Bar start and length.
    ok_time = ~np.asarray(stamps.isna())
    minutes = bar_minutes or infer_bar_minutes(np.asarray(stamps[ok_time].tz_localize(None).values))
    if minutes <= 0 or minutes > 60:
        raise DataError(source, f"bar length must be 1-60 minutes, not {minutes}")
    starts = stamps - pd.Timedelta(minutes=minutes) if label == "end" else stamps
    how = "end" if label == "end" else "start"

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
            hours = in_hours(starts[inside], spec, calendar, length=minutes)
            closed = np.zeros(n, dtype=bool)
            closed[inside[hours & (segment < 0)]] = True
            outside = np.zeros(n, dtype=bool)
            outside[inside[~hours]] = True
            problems.flag(
                outside,
                lambda i: (
                    f"bar {shown[i]} ({how}) is outside the sessions of {spec.key} "
                    f"({spec.sessions.describe(trading_day[i])})"
                ),
            )
            problems.flag(
                closed,
                lambda i: (
                    f"bar {shown[i]} ({how}) is not in a trading session: "
                    f"{closed_reason(starts[i], calendar)}"
                ),
            )

    # The envelope: repairable, and checked last so that a repaired row has no other problem.
    problems.flag(h < o, lambda i: f"high {_fmt(h[i])} below open {_fmt(o[i])}", repairable=True)
    problems.flag(h < c, lambda i: f"high {_fmt(h[i])} below close {_fmt(c[i])}", repairable=True)
    problems.flag(low > o, lambda i: f"low {_fmt(low[i])} above open {_fmt(o[i])}", repairable=True)
    problems.flag(
        low > c, lambda i: f"low {_fmt(low[i])} above close {_fmt(c[i])}", repairable=True
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
            problems.clear(fix)

    # Order, among rows without other problems: strictly increasing times.
    good = ~problems.bad
    t = np.asarray(starts.tz_localize(None).values.astype("datetime64[m]").astype(np.int64))
    t_good = np.where(good, t, np.iinfo(np.int64).min)
    prev_max = np.maximum.accumulate(np.concatenate([[np.iinfo(np.int64).min], t_good[:-1]]))
    # Row holding that running maximum (the latest bar so far), for messages.
    new_max = good & (t_good > prev_max)
    holder = np.maximum.accumulate(np.where(new_max, np.arange(n), -1))
    prev_holder = np.concatenate([[-1], holder[:-1]])
    duplicated = good & (t == prev_max)
    if duplicated.any():
        first_line: dict[int, int] = {}
        for i in np.flatnonzero(good & np.isin(t, t[duplicated])):
            first_line.setdefault(int(t[i]), int(lines[i]))
        problems.flag(
            duplicated,
            lambda i: f"duplicated time {shown[i]} (first on {unit} {first_line[int(t[i])]})",
        )
    problems.flag(
        good & (t < prev_max),
        lambda i: (
            f"time {shown[i]} goes backwards (after {shown[prev_holder[i]]} on "
            f"{unit} {int(lines[prev_holder[i]])})"
        ),
    )

    bad = problems.bad
    found = [BarProblem(int(lines[i]), problems.message[i], shown[i]) for i in np.flatnonzero(bad)]
    if found and policy == "refuse":
        raise BadBarsError(source, found, unit=unit)

    keep = ~bad
    if not keep.any():
        first = found[0]
        raise DataError(
            source,
            f"no valid bars: all {n} {unit}s are bad (first: {unit} {first.line}: {first.problem})",
        )
    frame = pd.DataFrame(
        {name: values[name][keep] for name in NUMERIC if name in values},
        index=pd.DatetimeIndex(starts[keep], name="time"),
    )
    frame["trading_day"] = pd.to_datetime(trading_day[keep]).astype("datetime64[s]")
    if contract is not None:
        frame["contract"] = contract.to_numpy(dtype=str)[keep]
        _check_contract_sequence(frame, lines[keep], source)
    return ValidationResult(frame, minutes, dropped=found, repaired=repaired)


def _check_contract_sequence(frame: pd.DataFrame, lines: np.ndarray, source: str) -> None:
    found = sequence_problem(frame["contract"].to_numpy(), frame["trading_day"].to_numpy())
    if found is not None:
        row, problem = found
        raise DataError(source, problem, int(lines[row]))

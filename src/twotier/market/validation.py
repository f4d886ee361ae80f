"""Row-by-row validation of raw bars, with the line and the problem of each bad row.

Checks, in order (a row reports its first problem): time present and parsable; every
value present and numeric (and the contract, when there is a contract column, one of the
instrument's); prices > 0; volume and open interest >= 0 and not above the instrument's
``max_bar_volume``; high >= low. Then, with ``auction="merge"``, opening auction bars and
closing ticks are folded into their sessions' bars (``twotier.market.auction``); then the
bar inside the calendar and the instrument's sessions on a trading day (a night bar on an
evening with a night session); on the file's own grid (whole minutes, a whole number of
bars from its segment's start); high not below open/close and low not above them (the
"envelope", the only problems ``policy="repair"`` repairs: a row is repaired only when
the envelope is all that is wrong with it); then, among the rows left, no duplicated time,
no time going backwards, and no price further than the instrument's ``plausible_move``
from the previous good bar's close (``twotier.market.plausible``).

Policies: "refuse" raises ``BadBarsError`` listing every bad row, with a hint fitting the
problems found; "drop" drops bad rows and reports each; "repair" repairs envelope problems
(reported) and drops the other bad rows (reported).

A contract column is then checked as a whole, on the rows kept: a contract that comes back
after being replaced, or a change of contract inside a trading day, refuses the file with
the line (whatever the policy: no single row is to blame). A file whose median close lies
outside the instrument's ``price_range`` gets a warning.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from twotier.errors import BadBarsError, BarProblem, DataError, cell_text
from twotier.market import auction
from twotier.market.calendar import TradingCalendar, closed_reason, place_and_locate
from twotier.market.columns import NUMERIC, SETTLE_AND_LIMITS
from twotier.market.contracts import canonical, contract_problem, sequence_problem
from twotier.market.instruments import InstrumentSpec
from twotier.market.plausible import implausible_moves, off_tick_warning, price_range_warning
from twotier.market.sessions import (
    DAY_CUTOFF_MINUTE,
    NIGHT_START_MINUTE,
    NS_PER_MINUTE,
    SessionTimes,
    clock_minutes,
    session_minutes,
    wall_ns,
)
from twotier.market.times import OUTSIDE_RANGE, in_exchange_time, outside_range, parse_times

NIGHT_DATES = ("calendar", "trading_day")


@dataclass(frozen=True)
class Hints:
    """How the caller's user gives each option named in the hint of an error: the CLI
    and the Python API (the default), or paper trading (its configuration)."""

    label: str = "--label {label} (label='{label}')"
    drop: str = "--on-bad-bar drop (on_bad_bar='drop')"
    repair: str = "--on-bad-bar repair (on_bad_bar='repair')"
    night_date: str = "--night-date trading_day (data.night_date = 'trading_day')"
    calendar: str = "data.calendar_file, or --calendar for twotier data"


PAPER_HINTS = Hints(
    label="--label {label}",
    drop="data.on_bad_bar = 'drop' in the configuration of a new state folder",
    repair="data.on_bad_bar = 'repair' in the configuration of a new state folder",
    night_date="data.night_date = 'trading_day' in the configuration of a new state folder",
)


@dataclass
class ValidationResult:
    frame: pd.DataFrame
    bar_minutes: int
    dropped: list[BarProblem] = field(default_factory=list)
    repaired: list[BarProblem] = field(default_factory=list)
    merged: list[BarProblem] = field(default_factory=list)  # auction bars, closing ticks
    warnings: list[str] = field(default_factory=list)
    held: list[int] = field(default_factory=list)  # rows held back (live: a last auction)
    rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # of frame


class _Problems:
    """The first problem of each row, in a fixed priority order, and its kind. Messages
    and kinds are kept for the flagged rows alone (a file has few): an object per row,
    filled and freed, cost more than most checks."""

    def __init__(self, n: int):
        self.message: dict[int, str] = {}
        self.kind: dict[int, str] = {}
        self.repairable = np.zeros(n, dtype=bool)
        self.bad = np.zeros(n, dtype=bool)

    def flag(self, mask: np.ndarray, messages, repairable: bool = False, kind: str = "") -> None:
        new = mask & ~self.bad
        if not new.any():
            return
        idx = np.flatnonzero(new)
        for i in idx:
            self.message[int(i)] = messages(i) if callable(messages) else messages
            self.kind[int(i)] = kind
        self.repairable[idx] = repairable
        self.bad[idx] = True

    def set_kind(self, rows: np.ndarray, kind: str) -> None:
        """Name the problem of flagged ``rows`` more closely (for the hint)."""
        self.kind.update(dict.fromkeys(rows.tolist(), kind))

    def kinds(self) -> set[str]:
        """The kinds of the rows flagged."""
        return set(self.kind.values())

    def clear(self, mask: np.ndarray) -> None:
        for i in np.flatnonzero(mask).tolist():
            del self.message[i], self.kind[i]
        self.repairable[mask] = False
        self.bad[mask] = False


class _Cells:
    """A column's cells as written, turned into text only for the rows a message needs
    (turning every cell of a large file into a Python string is slow)."""

    def __init__(self, values: pd.Series):
        self._values = values

    def __getitem__(self, i: int) -> str:
        return cell_text(self._values.iloc[i])


def _fmt(value: float) -> str:
    return f"{value:g}"


def _stripped(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Cells as stripped text, and the mask of empty (or missing) cells."""
    text = values.astype(str).str.strip()
    empty = (text == "").to_numpy(dtype=bool, na_value=True) | values.isna().to_numpy()
    return text, empty


def _iso_times(cells: pd.Series) -> pd.DatetimeIndex | None:
    """Cells that are all ISO 8601 times to the second or coarser ("2016-01-04 09:00:00",
    "2016-01-04T09:00", no zone), parsed by pyarrow as naive times (the caller gives
    them the zone): ten times faster than pandas, and as
    strict (no 30 February, no 24:00). None for anything else, which pandas parses and
    reports cell by cell: an empty or padded cell, a zone, a fraction of a second (pandas
    picks the unit from its digits). Where pyarrow parses a cell, pandas reads the same
    time (tests); the unit is pandas' for such cells, microseconds."""
    if not isinstance(cells.array, pd.arrays.ArrowStringArray):
        return None
    text = pa.chunked_array(pa.array(cells.array))
    if text.null_count:
        return None
    try:  # in whole seconds, which refuses a fraction (cheaper than looking for a ".")
        parsed = pc.cast(text, pa.timestamp("s"))
    except pa.ArrowInvalid:
        return None
    micros = pc.cast(parsed, pa.timestamp("us"))
    return pd.DatetimeIndex(micros.to_numpy(), name=cells.name)


def _parse_times(text: pd.Series, empty: np.ndarray, time_format: str | None) -> pd.DatetimeIndex:
    """Stripped text cells (``empty``: the empty ones) as exchange times, NaT where not a
    time."""
    parsed = parse_times(text, time_format or "ISO8601")
    if time_format is None and parsed.isna().any():  # vendors' own layouts, slowly
        retry = parsed.isna() & ~empty
        # The flexible parser dates a cell without a year today ("09:00") or this year
        # ("9:00 March 5"): a result that changes with the day it runs. Unparsable.
        retry &= text.str.contains(r"\d{4}").to_numpy(dtype=bool, na_value=False)
        if retry.any():
            again = pd.Series(parse_times(text[retry], "mixed"), text[retry].index)
            parsed = pd.DatetimeIndex(pd.Series(parsed).where(~retry, again))
    return in_exchange_time(parsed)


def _numbers(raw: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Values as float (perhaps a read-only view of the column's), and masks of empty
    and unparsable cells."""
    if pd.api.types.is_bool_dtype(raw):  # true/false, not numbers (as in a CSV file)
        empty = raw.isna().to_numpy(dtype=bool)
        return np.full(len(raw), np.nan), empty, ~empty
    if raw.dtype == np.float64:  # a plain float column: its NaN are already the blanks
        values = raw.to_numpy()
        return values, np.isnan(values), np.isinf(values)
    if pd.api.types.is_numeric_dtype(raw):
        values = raw.to_numpy(dtype=float, na_value=np.nan)
        return values, np.isnan(values), np.isinf(values)
    text, empty = _stripped(raw)
    parsed = pd.to_numeric(text.where(~empty), errors="coerce")
    values = parsed.to_numpy(dtype=float)
    bad = (~empty & np.isnan(values)) | np.isinf(values)
    return values, empty, bad


def _times(
    raw: pd.DataFrame, columns: dict[str, str], problems: _Problems, time_format: str | None
) -> tuple[pd.DatetimeIndex, np.ndarray, _Cells]:
    """The rows' time stamps as written (NaT where missing or unparsable, flagged), and
    their wall-clock nanoseconds (``wall_ns``)."""
    time_cells = raw[columns["time"]]
    missing = f"empty value in column {columns['time']!r}"
    iso = None if "date" in columns or time_format else _iso_times(time_cells)
    if iso is not None:  # every cell a time: none empty, none unparsable
        shown = _Cells(time_cells)
        stamps = _in_range(in_exchange_time(iso), problems, shown)
        if stamps.hasnans:  # out of range, made NaT
            return stamps, wall_ns(stamps), shown
        # The wall clock is the parse itself: no reading of the zone back off every stamp.
        return stamps, np.asarray(iso.as_unit("ns").asi8), shown
    if "date" in columns:
        time_cells = _date_and_time(raw, columns, problems, missing)
        stamps = _parse_times(*_stripped(time_cells), time_format)
    elif pd.api.types.is_datetime64_any_dtype(time_cells):
        problems.flag(time_cells.isna().to_numpy(), missing, kind="time")
        stamps = in_exchange_time(pd.DatetimeIndex(time_cells))
    else:
        text, empty = _stripped(time_cells)
        problems.flag(empty, missing, kind="time")
        stamps = _parse_times(text, empty, time_format)
    shown = _Cells(time_cells)
    problems.flag(np.asarray(stamps.isna()), lambda i: f"unparsable time {shown[i]!r}", kind="time")
    stamps = _in_range(stamps, problems, shown)
    return stamps, wall_ns(stamps), shown


def _date_and_time(
    raw: pd.DataFrame, columns: dict[str, str], problems: _Problems, missing: str
) -> pd.Series:
    """A date column and a time column as one text per row ("date time"), each empty
    cell flagged."""
    date_text, empty_date = _stripped(raw[columns["date"]])
    time_text, empty_time = _stripped(raw[columns["time"]])
    problems.flag(empty_date, f"empty value in column {columns['date']!r}", kind="time")
    problems.flag(empty_time, missing, kind="time")
    return date_text.fillna("") + " " + time_text.fillna("")


def _in_range(stamps: pd.DatetimeIndex, problems: _Problems, shown: _Cells) -> pd.DatetimeIndex:
    """The stamps, those outside the years twotier handles flagged and made NaT."""
    outside = outside_range(stamps)
    if not outside.any():
        return stamps
    problems.flag(outside, lambda i: f"time {shown[i]!r} {OUTSIDE_RANGE}", kind="time")
    return stamps.where(~outside)


def _values(
    raw: pd.DataFrame, columns: dict[str, str], problems: _Problems
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The numeric columns as floats, and the block (a row a column, in ``NUMERIC``'s
    order) whose rows they are: the result frame's block as it is when every row is kept,
    with no copy. Empty, unparsable and impossible values flagged."""
    names = [name for name in NUMERIC if name in columns]
    block = np.empty((len(names), len(raw)))
    values: dict[str, np.ndarray] = {}
    for name, row in zip(names, block, strict=True):
        cells = raw[columns[name]]
        number, empty, bad = _numbers(cells)
        row[:] = number  # the one copy, which repairs and folds write to
        values[name] = row
        own = columns[name]
        if name not in SETTLE_AND_LIMITS:  # a blank settle or limit is no value for its bar
            problems.flag(empty, f"empty value in column {own!r}", kind="value")
        text = _Cells(cells)
        problems.flag(
            bad, lambda i, t=text, o=own: f"unparsable value {t[i]!r} in column {o!r}", kind="value"
        )
    return values, block


def _check_values(values: dict[str, np.ndarray], problems: _Problems, spec: InstrumentSpec) -> None:
    """Prices > 0, volume and open interest >= 0 and plausible, high >= low."""
    h, low = values["high"], values["low"]
    for name in ("open", "high", "low", "close", *SETTLE_AND_LIMITS):
        if name not in values:
            continue
        v = values[name]
        problems.flag(v <= 0, lambda i, v=v, k=name: f"price <= 0: {k}={_fmt(v[i])}", kind="value")
    most = spec.max_bar_volume
    for name, words in (("volume", "volume"), ("open_interest", "open interest")):
        if name not in values:
            continue
        v = values[name]
        problems.flag(v < 0, lambda i, v=v, w=words: f"negative {w} {_fmt(v[i])}", kind="value")
        problems.flag(
            v > most,
            lambda i, v=v, w=words: (
                f"{w} {_fmt(v[i])} above the plausible {_fmt(most)} lots of a bar of {spec.key} "
                "(max_bar_volume)"
            ),
            kind="value",
        )
    problems.flag(h < low, lambda i: f"high {_fmt(h[i])} below low {_fmt(low[i])}", kind="value")


def _foreign_contracts(
    contract: pd.Series, empty: np.ndarray, stamps: pd.DatetimeIndex, spec: InstrumentSpec
) -> tuple[np.ndarray, Callable[[int], str]]:
    """Rows whose contract is not one of the instrument's (another product's, or no
    delivery month), and their messages. Each distinct code is checked once, at its
    first row's date (which places a three-digit code's decade)."""
    codes = contract.to_numpy(dtype=object)
    problem: dict[str, str] = {}
    rows = np.flatnonzero(~empty)
    distinct, first = np.unique(codes[rows].astype(str), return_index=True)
    for code, i in zip(distinct.tolist(), rows[first], strict=True):
        near = stamps[i].date() if not pd.isna(stamps[i]) else pd.Timestamp.now().date()
        found = contract_problem(code, spec.product, near, spec.key)
        if found is not None:
            problem[code] = found
    bad = ~empty & np.isin(codes, list(problem)) if problem else np.zeros(len(codes), bool)
    return bad, lambda i: problem[codes[i]]


def _contracts(
    raw: pd.DataFrame,
    columns: dict[str, str],
    problems: _Problems,
    stamps: pd.DatetimeIndex,
    spec: InstrumentSpec,
) -> pd.Series | None:
    if "contract" not in columns:
        return None
    contract, empty = _stripped(raw[columns["contract"]])
    problems.flag(empty, f"empty value in column {columns['contract']!r}", kind="contract")
    problems.flag(*_foreign_contracts(contract, empty, stamps, spec), kind="contract")
    # one contract, one name: I2105 and i2105 are one (a case change is no roll)
    spelled = {code: canonical(code, spec.product) for code in contract[~empty].unique()}
    if any(code != name for code, name in spelled.items()):
        contract = contract.map(lambda code: spelled.get(code, code))
    return contract


def _redate_nights(
    stamps: pd.DatetimeIndex, wall: np.ndarray, ok: np.ndarray, calendar: TradingCalendar
) -> pd.DatetimeIndex:
    """Night stamps dated with their trading day (``night_date="trading_day"``: DCE's
    ActionDay in CTP) moved to the calendar date they traded on: the evening is the
    trading day before the stamp's date (after midnight, the day after that evening).
    ``wall``: the stamps' wall-clock nanoseconds."""
    minutes = clock_minutes(wall)
    after_midnight = minutes < DAY_CUTOFF_MINUTE
    night = ok & ((minutes >= NIGHT_START_MINUTE) | after_midnight)
    if not night.any():
        return stamps
    dates = wall[night].view("datetime64[ns]").astype("datetime64[D]")
    evening = calendar.previous_trading_day(dates)
    real = evening + after_midnight[night].astype("timedelta64[D]")
    shift = np.zeros(len(stamps), dtype="timedelta64[D]")
    shift[night] = np.where(np.isnat(real), np.timedelta64(0, "D"), real - dates)
    return stamps + pd.to_timedelta(shift.astype("timedelta64[s]"))


def _place(
    starts: pd.DatetimeIndex,
    clock: SessionTimes,
    ok: np.ndarray,
    problems: _Problems,
    shown: _Cells,
    how: str,
    spec: InstrumentSpec,
    calendar: TradingCalendar,
    minutes: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Trading day and segment of each row (NaT / -1 where there is none), flagging rows
    outside the calendar, outside the sessions, or in hours the calendar closes.
    ``clock``: the ``starts`` on the session clock."""
    n = len(starts)
    trading_day = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    segment = np.full(n, -1, dtype=np.int64)
    # Masks over every row rather than the ok rows picked out: a comparison of every row
    # costs less than picking, and a file's rows are nearly all ok.
    evening = clock.evening
    on_last_night = ok & (evening == calendar.last) & (clock.minutes >= NIGHT_START_MINUTE)
    beyond = (ok & ((evening < calendar.first) | (evening > calendar.last))) | on_last_night
    problems.flag(
        on_last_night,
        lambda i: (
            f"bar {shown[i]} is a night of {calendar.last}, the trading calendar's last day: "
            f"its trading day is past the calendar ({calendar.first} to {calendar.last})"
        ),
        kind="beyond_calendar",
    )
    problems.flag(
        beyond,
        lambda i: (
            f"date {shown[i]!r} is outside the trading calendar "
            f"({calendar.first} to {calendar.last})"
        ),
        kind="beyond_calendar",
    )
    inside = ok & ~beyond
    if not inside.any():
        return trading_day, segment
    rows = slice(None) if inside.all() else np.flatnonzero(inside)  # a slice picks no copy
    hour_segment = np.full(n, -1, dtype=np.int64)
    day, seg, hours = place_and_locate(clock[rows], spec, calendar, length=minutes)
    trading_day[rows], segment[rows], hour_segment[rows] = day, seg, hours
    closed = inside & (hour_segment >= 0) & (segment < 0)
    outside = inside & (hour_segment < 0)
    problems.flag(
        outside,
        lambda i: (
            f"bar {shown[i]} ({how}) is outside the sessions of {spec.key} "
            f"({spec.sessions.describe()})"
        ),
        kind="outside",
    )
    problems.flag(
        closed,
        lambda i: (
            f"bar {shown[i]} ({how}) is not in a trading session: "
            f"{closed_reason(starts[i], calendar)}"
        ),
        kind="closed",
    )
    # Nights of a weekend evening (dated with their trading day?), among the closed bars.
    closed_rows = np.flatnonzero(closed)
    weekend = ~np.is_busday(clock.evening[closed_rows])
    night = clock.minutes[closed_rows] >= NIGHT_START_MINUTE
    problems.set_kind(closed_rows[weekend & night], "weekend_night")
    return trading_day, segment


def _feed_days(cells: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """A trading-day column (``20270104`` or ``2027-01-04``) as datetime64[D] (NaT where
    blank), and the mask of unparsable cells."""
    text, empty = _stripped(cells)
    compact = text.str.fullmatch(r"\d{8}").to_numpy(dtype=bool, na_value=False)
    days = pd.to_datetime(text.where(compact), format="%Y%m%d", errors="coerce")
    iso = pd.to_datetime(text.where(~compact & ~empty), format="ISO8601", errors="coerce")
    parsed = np.asarray(days.fillna(iso).to_numpy(), dtype="datetime64[D]")
    return parsed, ~empty & np.isnat(parsed)


def _believe_feed(
    cells: pd.Series,
    column: str,
    trading_day: np.ndarray,
    problems: _Problems,
    calendar: TradingCalendar,
) -> None:
    """A feed's own trading day (CTP's TradingDay): believed past the calendar's horizon,
    where the calendar only assumes weekdays; within it, one that differs from the
    calendar's is a bad bar (the calendar needs correcting)."""
    feed, unparsable = _feed_days(cells)
    problems.flag(
        unparsable, lambda i: f"unparsable trading day {cells.iloc[i]!r} in column {column!r}"
    )
    known = ~np.isnat(feed) & ~np.isnat(trading_day) & ~problems.bad
    past = known & (trading_day > calendar.horizon)
    trading_day[past] = feed[past]
    differ = known & ~past & (feed != trading_day)
    problems.flag(
        differ,
        lambda i: (
            f"trading day {feed[i]} in column {column!r}, but {trading_day[i]} by the trading "
            f"calendar ({calendar.source}): correct the calendar with a calendar file"
        ),
        kind="calendar",
    )


def _off_grid(
    written: np.ndarray,
    starts: SessionTimes,
    segment: np.ndarray,
    problems: _Problems,
    shown: _Cells,
    spec: InstrumentSpec,
    minutes: int,
) -> None:
    """Rows in the sessions whose time is off the file's grid: seconds in the stamp, or a
    start that is not a whole number of bars from its segment's start. ``written``: the
    stamps as written, as wall-clock nanoseconds."""
    placed = (segment >= 0) & ~problems.bad
    if not placed.any():
        return
    # Every row at once, cheaper than picking the placed ones out; the others (segment -1
    # reads the last segment's start) are masked.
    within_minute = written % NS_PER_MINUTE  # seconds and below
    offset = starts.minutes - spec.sessions.segment_start(segment)
    off = placed & ((within_minute != 0) | (offset % minutes != 0))
    problems.flag(
        off,
        lambda i: (
            f"time {shown[i]} is off the file's {minutes}-minute grid (whole minutes, "
            f"{minutes} apart from each session's start)"
        ),
        kind="grid",
    )


def _envelope(values: dict[str, np.ndarray], problems: _Problems) -> None:
    """High below open/close, low above them: checked last, so a repaired row has no
    other problem."""
    o, h, low, c = (values[k] for k in ("open", "high", "low", "close"))
    for mask, message in (
        (h < o, lambda i: f"high {_fmt(h[i])} below open {_fmt(o[i])}"),
        (h < c, lambda i: f"high {_fmt(h[i])} below close {_fmt(c[i])}"),
        (low > o, lambda i: f"low {_fmt(low[i])} above open {_fmt(o[i])}"),
        (low > c, lambda i: f"low {_fmt(low[i])} above close {_fmt(c[i])}"),
    ):
        problems.flag(mask, message, repairable=True, kind="envelope")


def _repair(values, problems: _Problems, lines, shown: _Cells) -> list[BarProblem]:
    fix = problems.repairable & problems.bad
    if not fix.any():
        return []
    repaired = [
        BarProblem(int(lines[i]), f"repaired: {problems.message[i]}", shown[i])
        for i in np.flatnonzero(fix)
    ]
    o, h, low, c = (values[k] for k in ("open", "high", "low", "close"))
    h[fix] = np.maximum.reduce([h[fix], o[fix], c[fix]])
    low[fix] = np.minimum.reduce([low[fix], o[fix], c[fix]])
    problems.clear(fix)
    return repaired


def _rising(t: np.ndarray, good: np.ndarray) -> bool:
    """Whether the ``good`` rows' times ``t`` rise strictly, one row to the next."""
    picked = t if good.all() else t[good]
    return bool((picked[1:] > picked[:-1]).all())


def _order(
    starts: pd.DatetimeIndex,
    start_wall: np.ndarray,
    good: np.ndarray,
    problems: _Problems,
    shown: _Cells,
    lines: np.ndarray,
    unit: str,
) -> None:
    """Among the ``good`` rows: strictly increasing times (``start_wall``: the
    ``starts`` as wall-clock nanoseconds)."""
    n = len(starts)
    t = start_wall // NS_PER_MINUTE
    if _rising(t, good):  # the usual file: nothing to flag, no running maximum to keep
        return
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
            kind="duplicate",
        )
    backwards = good & (t < prev_max)
    problems.flag(
        backwards,
        lambda i: (
            f"time {shown[i]} goes backwards (after {shown[prev_holder[i]]} on "
            f"{unit} {int(lines[prev_holder[i]])})"
        ),
        kind="backwards",
    )
    # A day session after night bars of the same date: nights dated with the trading day?
    rows = np.flatnonzero(backwards)
    if len(rows):
        later = prev_holder[rows]
        clock = session_minutes(starts[later])
        same_date = starts[rows].normalize() == starts[later].normalize()
        problems.set_kind(rows[(clock >= NIGHT_START_MINUTE) & same_date], "day_after_night")


def _hint(
    kinds: set[str], stamps: pd.DatetimeIndex, label: str, hints: Hints, spec: InstrumentSpec
) -> str:
    """What the user can do about the bad bars found (``kinds``; ``stamps`` of the bad
    rows as written)."""
    if kinds == {"outside"}:
        clock = set(session_minutes(stamps).tolist())
        segments = spec.sessions.all_segments
        edges = {s.end for s in segments} if label == "start" else {s.start for s in segments}
        if clock <= edges:
            other, edge = ("end", "ends") if label == "start" else ("start", "starts")
            return (
                f"every rejected bar is stamped where a session {edge}: the file seems to "
                f"stamp bars by their {other}; give {hints.label.format(label=other)}"
            )
    if "weekend_night" in kinds or "day_after_night" in kinds:
        if "weekend_night" in kinds:
            seen = "night bars dated on a weekend"
        else:
            seen = "night bars written before the day session of their own date"
        return (
            f"{seen}: does the file date nights with their trading day? "
            f"({hints.night_date}); else {hints.drop}"
        )
    if kinds == {"beyond_calendar"}:
        return (
            "the trading calendar does not know these days: give a calendar file with the "
            f"year's trading days and holidays ({hints.calendar}: docs/data.md, \"The "
            f"calendar's horizon\"), or use {hints.drop} to leave them out"
        )
    if kinds == {"envelope"}:
        return f"use {hints.repair} to widen the high/low envelope of such bars, or {hints.drop}"
    extra = f"; {hints.repair} repairs the high/low envelope errors" if "envelope" in kinds else ""
    return f"use {hints.drop} to drop such bars and report them{extra}"


def _orphans(
    merges: auction.Merges, problems: _Problems, shown: _Cells, live: bool
) -> tuple[list[int], list[int]]:
    """Flag auction bars and closing ticks with no bar of their session to fold into.
    ``live`` (a feed read batch by batch): a trailing auction bar is held back (its
    session's first bar comes with the next batch) and a leading closing tick set aside
    (its session's last bar went with the previous batch). Returns both lists of rows."""
    orphan = merges.orphan.copy()
    held: list[int] = []
    stray: list[int] = []
    if live and orphan.any():
        usable = np.flatnonzero(~problems.bad | orphan)
        first, last = int(usable[0]), int(usable[-1])
        if orphan[last] and merges.opening[last]:
            held, orphan[last] = [last], False
        if orphan[first] and not merges.opening[first]:
            stray, orphan[first] = [first], False
    problems.flag(
        orphan & merges.opening,
        lambda i: f"auction bar {shown[i]} with no bar of the session it opens after it",
        kind="orphan",
    )
    problems.flag(
        orphan & ~merges.opening,
        lambda i: f"closing tick {shown[i]} with no bar of the session it closes before it",
        kind="orphan",
    )
    return held, stray


def _merges_across_contracts(
    merges: auction.Merges, contract: np.ndarray, problems: _Problems, shown: _Cells
) -> None:
    """An auction bar or closing tick of another contract than the bar it would fold into
    is a contract change inside a trading day (RULES.md 10.6 item 17): flagged, and not
    folded (its open would become the other contract's)."""
    rows = np.flatnonzero(merges.folded)
    across = rows[contract[rows] != contract[merges.into[rows]]]
    if not len(across):
        return
    mask = np.zeros(len(contract), dtype=bool)
    mask[across] = True

    def message(i: int) -> str:
        what = "auction bar" if merges.opening[i] else "closing tick"
        j = merges.into[i]
        return (
            f"{what} {shown[i]} is of contract {contract[i]}, the bar {shown[j]} it belongs "
            f"to of {contract[j]}: a contract changes only between trading days"
        )

    problems.flag(mask, message, kind="contract")
    merges.into[across] = -1


def _merge_notes(
    merges: auction.Merges, lines: np.ndarray, shown: _Cells, unit: str
) -> list[BarProblem]:
    notes = []
    for i in np.flatnonzero(merges.folded):
        what = "auction bar" if merges.opening[i] else "closing tick"
        j = merges.into[i]
        notes.append(
            BarProblem(int(lines[i]), f"{what} {shown[i]} merged into {unit} {int(lines[j])}")
        )
    return notes


def _check_contract_sequence(frame: pd.DataFrame, lines: np.ndarray, source: str) -> None:
    found = sequence_problem(frame["contract"].to_numpy(), frame["trading_day"].to_numpy())
    if found is not None:
        row, problem = found
        raise DataError(source, problem, int(lines[row]))


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
    auction_policy: str = "merge",
    night_date: str = "calendar",
    hints: Hints | None = None,
    hold_last_auction: bool = False,
    batch: bool = False,
) -> ValidationResult:
    """Rows validated under ``policy``. ``batch``: the rows are a feed's new lines, not a
    whole file, so none left under drop or repair is an empty batch, not a bad file."""
    n = len(raw)
    problems = _Problems(n)
    if night_date not in NIGHT_DATES:
        raise DataError(
            source, f"night_date must be 'calendar' or 'trading_day', not {night_date!r}"
        )
    if auction_policy not in ("merge", "refuse"):
        raise DataError(source, f"auction must be 'merge' or 'refuse', not {auction_policy!r}")

    stamps, written, shown = _times(raw, columns, problems, time_format)
    values, block = _values(raw, columns, problems)
    contract = _contracts(raw, columns, problems, stamps, spec)
    _check_values(values, problems, spec)

    # Bar start and length.
    ok_time = ~np.asarray(stamps.isna())
    minutes = bar_minutes or infer_bar_minutes(written[ok_time].view("datetime64[ns]"))
    if minutes <= 0 or minutes > 60:
        raise DataError(source, f"bar length must be 1-60 minutes, not {minutes}")
    if night_date == "trading_day":
        stamps = _redate_nights(stamps, written, ok_time, calendar)
        written = wall_ns(stamps)
    starts = stamps - pd.Timedelta(minutes=minutes) if label == "end" else stamps
    start_wall = wall_ns(starts) if label == "end" else written
    clock = SessionTimes.of_wall(start_wall)
    how = "end" if label == "end" else "start"

    # Auction bars and closing ticks, folded into their sessions' bars.
    merges = auction.Merges.none(n)
    if auction_policy == "merge":
        prices = tuple(values[k] for k in ("open", "high", "low", "close"))
        merges = auction.find_merges(
            written, clock, ~problems.bad, prices, spec, calendar, label=label, bar_minutes=minutes
        )
    if contract is not None:
        _merges_across_contracts(merges, contract.to_numpy(dtype=str), problems, shown)
    held, stray = _orphans(merges, problems, shown, hold_last_auction)
    auction.fold(values, merges, latest_given=SETTLE_AND_LIMITS)
    aside = merges.folded | np.isin(np.arange(n), held + stray)

    trading_day, segment = _place(
        starts, clock, ok_time & ~aside & ~problems.bad, problems, shown, how, spec, calendar,
        minutes,
    )  # fmt: skip
    if "trading_day" in columns:
        column = columns["trading_day"]
        _believe_feed(raw[column], column, trading_day, problems, calendar)
    _off_grid(written, clock, segment, problems, shown, spec, minutes)
    _envelope(values, problems)
    repaired = _repair(values, problems, lines, shown) if policy == "repair" else []
    _order(starts, start_wall, ~problems.bad & ~aside, problems, shown, lines, unit)
    problems.flag(
        *implausible_moves(values, ~problems.bad & ~aside, lines, unit, spec), kind="move"
    )

    bad = problems.bad
    found = [
        BarProblem(int(lines[i]), problems.message[i], shown[i], problems.kind[i])
        for i in np.flatnonzero(bad)
    ]
    if found and policy == "refuse":
        hint = _hint(problems.kinds(), stamps[bad], label, hints or Hints(), spec)
        raise BadBarsError(source, found, unit=unit, hint=hint)
    keep = ~bad & ~aside
    if found and not keep.any() and not batch:
        first = found[0]
        raise DataError(
            source,
            f"no valid bars: all {n} {unit}s are bad (first: {unit} {first.line}: {first.problem})",
        )
    kept = slice(None) if keep.all() else keep  # every row (the usual file): views, no copies
    frame = pd.DataFrame(
        block[:, kept].T,  # the frame's one float block, as pandas would stack the columns
        index=pd.DatetimeIndex(starts[kept], name="time"),
        columns=list(values),
        copy=False,
    )
    frame["trading_day"] = trading_day[kept].astype("datetime64[s]")
    if contract is not None:
        frame["contract"] = contract.to_numpy(dtype=str)[kept]
        _check_contract_sequence(frame, lines[kept], source)
    kept_lines = lines[kept]
    return ValidationResult(
        frame,
        minutes,
        dropped=found,
        repaired=repaired,
        merged=_merge_notes(merges, lines, shown, unit),
        warnings=[
            *(
                f"{source}, {unit} {int(lines[i])}: closing tick {shown[i]} came after its "
                "session's last bar was handed on: dropped"
                for i in stray
            ),
            *price_range_warning(frame, spec, source),
            *off_tick_warning(frame, spec, source, lambda i: f"{unit} {int(kept_lines[i])}"),
        ],
        held=held,
        rows=np.flatnonzero(keep),
    )

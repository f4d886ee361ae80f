"""Continuous contracts: where a spliced main-contract series switches contracts.

A roll is the trading day on which the series moves from an old contract to a new one,
with both contracts' prices at that moment. Tier-1 sees the series back-adjusted across
rolls (RULES.md 9); Tier-2 trades the raw prices and rolls positions on the first bar of
the roll's trading day.

Roll information comes from a ``contract`` column in the bars (``schedule_from_contracts``),
a roll schedule file (``read_schedule`` / ``write_schedule``), or per-contract files and a
rule that picks the main contract (``main_contract``). Without any, ``suspected_rolls``
finds the jumps that look like rolls. The formats and rules are in docs/rolls.md.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import talib

from twotier.errors import DataError
from twotier.io import atomic_path
from twotier.market.contracts import (
    contract_changes,
    contract_problem,
    parse_contract,
    sequence_problem,
)
from twotier.market.sessions import session_minutes
from twotier.money import MAX_PRICE


@dataclass(frozen=True)
class Roll:
    trading_day: date
    old_contract: str
    new_contract: str
    old_price: float  # the old contract's price at the roll
    new_price: float  # the new contract's price at the roll

    @property
    def ratio(self) -> float:
        """New over old: carries entry basis, best close and trail level across the roll."""
        return self.new_price / self.old_price

    @property
    def difference(self) -> float:
        return self.new_price - self.old_price


@dataclass(frozen=True)
class RollSchedule:
    """An instrument's rolls, in time order; ``from_column``: read off the bars' own
    contract column (which then names the contract even where there is no roll)."""

    rolls: tuple[Roll, ...] = ()
    from_column: bool = field(default=False, compare=False)

    def __len__(self) -> int:
        return len(self.rolls)

    def __iter__(self):
        return iter(self.rolls)


AdjustMethod = Literal["ratio", "difference"]
LeaderMeasure = Literal["open_interest", "volume"]
SCHEDULE_COLUMNS = ("trading_day", "old_contract", "new_contract", "old_price", "new_price")
PRICE_COLUMNS = ("open", "high", "low", "close")
NIGHT_START_MINUTE = 18 * 60  # on the session clock, later minutes are a night session


def _days(frame: pd.DataFrame, rows: np.ndarray | None = None) -> np.ndarray:
    """The ``trading_day`` column as datetime64[D] (at ``rows`` alone where given)."""
    if "trading_day" not in frame.columns:
        raise ValueError("the bars have no trading_day column (load them with read_bars)")
    days = np.asarray(frame["trading_day"].to_numpy())
    return (days if rows is None else days[rows]).astype("datetime64[D]")


def _as_date(day: np.datetime64) -> date:
    return pd.Timestamp(day).date()


def _bar_name(frame: pd.DataFrame, row: int) -> str:
    time = frame.index[row]
    shown = f"{time:%Y-%m-%d %H:%M}" if isinstance(time, pd.Timestamp) else str(time)
    return f"bar {shown} (row {row + 1})"


# --- Roll information: a contract column ------------------------------------------------


def schedule_from_contracts(frame: pd.DataFrame, source: str = "<bars>") -> RollSchedule:
    """The rolls of bars that carry a ``contract`` column: one where the contract changes.

    The roll's trading day is that of the first bar with the new contract; ``old_price``
    is the old contract's last close and ``new_price`` the new contract's first open, so
    the move between those two bars (overnight, say) is part of the splice. Exact roll
    prices need a schedule file or per-contract files. Needs columns open, close,
    trading_day and contract, in time order."""
    if "contract" not in frame.columns:
        raise DataError(source, "the bars have no 'contract' column")
    contracts = frame["contract"].to_numpy(dtype=str)
    empty = np.flatnonzero(np.char.strip(contracts) == "")
    if len(empty):
        raise DataError(source, f"{_bar_name(frame, int(empty[0]))}: empty contract")
    days = _days(frame)
    problem = sequence_problem(contracts, days)
    if problem is not None:
        row, message = problem
        raise DataError(source, f"{_bar_name(frame, row)}: {message}")
    close = frame["close"].to_numpy(dtype=float)
    open_ = frame["open"].to_numpy(dtype=float)
    return RollSchedule(
        tuple(
            Roll(
                _as_date(days[i]),
                str(contracts[i - 1]),
                str(contracts[i]),
                float(close[i - 1]),
                float(open_[i]),
            )
            for i in contract_changes(contracts)
        ),
        from_column=True,
    )


# --- Roll information: a schedule file --------------------------------------------------


def _sequence_problem(rolls: list[Roll]) -> tuple[int, str] | None:
    """The first roll (index and problem) that breaks the chain of a schedule."""
    replaced: dict[str, Roll] = {}  # contract (lower case) -> the roll that replaced it
    for k, roll in enumerate(rolls):
        for name in ("old_price", "new_price"):
            value = getattr(roll, name)
            if not (math.isfinite(value) and value > 0):
                return k, f"{name} must be a number > 0, not {value}"
        if roll.new_contract.lower() == roll.old_contract.lower():
            return k, f"old and new contract are both {roll.old_contract}"
        if k:
            previous = rolls[k - 1]
            if roll.trading_day <= previous.trading_day:
                return k, (
                    f"trading day {roll.trading_day} is not after the previous roll's "
                    f"{previous.trading_day}"
                )
            if roll.old_contract.lower() != previous.new_contract.lower():
                return k, (
                    f"old contract {roll.old_contract} is not the previous roll's new "
                    f"contract {previous.new_contract}"
                )
        if roll.new_contract.lower() in replaced:
            return k, (
                f"contract {roll.new_contract} comes back after being replaced on "
                f"{replaced[roll.new_contract.lower()].trading_day}"
            )
        replaced[roll.old_contract.lower()] = roll
    return None


def _contracts_problem(rolls: list[Roll], product: str | None) -> tuple[int, str] | None:
    """The first roll naming a contract that is not the product's."""
    if product is None:
        return None
    for k, roll in enumerate(rolls):
        for code in (roll.old_contract, roll.new_contract):
            problem = contract_problem(code, product, roll.trading_day)
            if problem is not None:
                return k, problem
    return None


def validate_schedule(
    schedule: RollSchedule, source: str = "<schedule>", product: str | None = None
) -> None:
    """Refuse a schedule whose rolls are not in increasing trading days, do not chain
    (each old contract is the previous new one), bring a contract back or have a price
    that is not > 0, or (given the instrument's ``product``) name contracts of another
    product. Errors name the roll (1 = the first)."""
    rolls = list(schedule)
    problem = _sequence_problem(rolls) or _contracts_problem(rolls, product)
    if problem is not None:
        k, message = problem
        raise DataError(source, f"roll {k + 1}: {message}")


def _cell_day(text: str, source: str, line: int) -> date:
    try:
        return datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        raise DataError(source, f"trading_day {text!r} is not a date YYYY-MM-DD", line) from None


def _cell_price(name: str, text: str, source: str, line: int) -> float:
    try:
        value = float(text)
    except ValueError:
        raise DataError(source, f"{name} {text!r} is not a number", line) from None
    if not (math.isfinite(value) and value > 0):
        raise DataError(source, f"{name} must be > 0, not {text}", line)
    if value > MAX_PRICE:
        raise DataError(
            source, f"{name} {text} is beyond the largest price twotier carries ({MAX_PRICE:.0e})",
            line,
        )  # fmt: skip
    return value


def _parse_roll(cells: dict[str, str], source: str, line: int) -> Roll:
    for name, text in cells.items():
        if not text:
            raise DataError(source, f"empty value in column {name!r}", line)
    return Roll(
        _cell_day(cells["trading_day"], source, line),
        cells["old_contract"],
        cells["new_contract"],
        _cell_price("old_price", cells["old_price"], source, line),
        _cell_price("new_price", cells["new_price"], source, line),
    )


def _schedule_rows(path: Path, source: str) -> tuple[list[Roll], list[int]]:
    """The rolls of a schedule file and the line of each (blank lines skipped)."""
    if path.exists() and not path.is_file():  # a device or a pipe may never end
        raise DataError(source, "the roll schedule is not a file")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise DataError(source, "roll schedule file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(source, f"cannot read the roll schedule: {exc}") from None
    try:
        return _rows(csv.reader(io.StringIO(text)), source)
    except csv.Error as exc:  # a field beyond the csv module's limit, a stray NUL
        raise DataError(source, f"not a readable CSV file: {exc}") from None


def _rows(reader, source: str) -> tuple[list[Roll], list[int]]:
    """The rolls of a schedule's CSV rows and the line of each."""
    header = next(reader, None)
    if header is None:
        raise DataError(
            source, f"the file is empty (expected the header {','.join(SCHEDULE_COLUMNS)})"
        )
    names = [h.strip().lower() for h in header]
    missing = [c for c in SCHEDULE_COLUMNS if c not in names]
    if missing:
        raise DataError(source, f"missing column(s) {', '.join(missing)}; columns are {header}", 1)
    repeated = [c for c in SCHEDULE_COLUMNS if names.count(c) > 1]
    if repeated:  # which one is meant cannot be told
        raise DataError(source, f"column {repeated[0]!r} appears more than once", 1)
    rolls, lines = [], []
    for cells in reader:
        if not any(c.strip() for c in cells):
            continue
        line = reader.line_num
        if len(cells) != len(header):
            raise DataError(source, f"{len(cells)} fields where the header has {len(header)}", line)
        row = {name: cells[names.index(name)].strip() for name in SCHEDULE_COLUMNS}
        rolls.append(_parse_roll(row, source, line))
        lines.append(line)
    return rolls, lines


def read_schedule(path: str | Path, product: str | None = None) -> RollSchedule:
    """Read a roll schedule (CSV with the columns ``SCHEDULE_COLUMNS``; others ignored).

    Refused with the file and line: a missing column, an empty value, a day that is not
    YYYY-MM-DD, a price that is not > 0, days not increasing, an old contract that is not
    the previous roll's new one, a contract that comes back, and (given the instrument's
    ``product``) a contract of another product (``--rolls DCE/m=rolls_of_i.csv``)."""
    path = Path(path)
    source = str(path)
    rolls, lines = _schedule_rows(path, source)
    problem = _sequence_problem(rolls) or _contracts_problem(rolls, product)
    if problem is not None:
        k, message = problem
        raise DataError(source, message, lines[k])
    return RollSchedule(tuple(rolls))


def _price_text(value: float) -> str:
    """The shortest text that reads back as the same float (576.5, 70510)."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def write_schedule(schedule: RollSchedule, path: str | Path) -> None:
    """Write a schedule as CSV (``read_schedule`` reads it back), atomically."""
    validate_schedule(schedule, str(path))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(SCHEDULE_COLUMNS)
    for roll in schedule:
        writer.writerow(
            [
                roll.trading_day.isoformat(),
                roll.old_contract,
                roll.new_contract,
                _price_text(roll.old_price),
                _price_text(roll.new_price),
            ]
        )
    with atomic_path(path) as tmp:
        tmp.write_text(buffer.getvalue(), encoding="utf-8")


# --- Roll information: per-contract files and a main-contract rule ----------------------


def _daily_measure(
    contracts: Mapping[str, pd.DataFrame], codes: list[str], by: str
) -> pd.DataFrame:
    """Days x contracts: each contract's open interest at the end of the trading day, or
    its volume over the day; NaN where it has no bar that day."""
    columns = {}
    for code in codes:
        frame = contracts[code]
        grouped = pd.Series(frame[by].to_numpy(dtype=float), index=_days(frame)).groupby(level=0)
        columns[code] = grouped.last() if by == "open_interest" else grouped.sum()
    return pd.concat(columns, axis=1, sort=True)  # the days in order


def _main_sequence(measure: np.ndarray, confirm_days: int) -> list[tuple[int, int]]:
    """(day index, contract index) where each main contract starts; contracts in expiry
    order. The first day's leader starts; a later contract that leads ``confirm_days``
    trading days running takes over on the next day it trades; a main contract with no
    bar on a day others trade (expired) is replaced at once by that day's later leader,
    whether or not a confirmed roll is waiting for its new contract to trade."""
    has = ~np.isnan(measure)
    leader = np.argmax(np.where(has, measure, -np.inf), axis=1)  # ties: the nearer expiry
    main = int(leader[0])
    starts = [(0, main)]
    candidate, streak, pending = -1, 0, None
    for d in range(1, len(measure)):
        take = None
        if pending is not None and has[d, pending]:
            take = pending
        elif not has[d, main] and has[d, main + 1 :].any():
            later = np.where(has[d, main + 1 :], measure[d, main + 1 :], -np.inf)
            take = main + 1 + int(np.argmax(later))
        if take is not None:
            main, pending, candidate, streak = take, None, -1, 0
            starts.append((d, main))
        lead = int(leader[d])
        if lead <= main:
            candidate, streak = -1, 0
            continue
        streak = streak + 1 if lead == candidate else 1
        candidate = lead
        if streak >= confirm_days and pending is None:
            pending = lead
    return starts


def _price_at(frame: pd.DataFrame, time: pd.Timestamp, code: str) -> float:
    """A contract's open at a bar start, or its nearest earlier close if it has no bar
    then."""
    pos = int(frame.index.searchsorted(time))
    if pos < len(frame) and frame.index[pos] == time:
        return float(frame["open"].iloc[pos])
    if pos == 0:
        raise DataError(code, f"no bar at or before {time} to price the roll")
    return float(frame["close"].iloc[pos - 1])


def _roll_into(
    old: pd.DataFrame, new: pd.DataFrame, day: np.datetime64, old_code: str, new_code: str
) -> Roll:
    """The roll on ``day``, priced at the new contract's first bar that day."""
    first = int(np.searchsorted(_days(new), day))
    time = new.index[first]
    return Roll(
        _as_date(day),
        old_code,
        new_code,
        _price_at(old, time, old_code),
        float(new["open"].iloc[first]),
    )


def _splice(
    contracts: Mapping[str, pd.DataFrame], pieces: list[tuple[np.datetime64, str]]
) -> pd.DataFrame:
    """Each main contract's bars from its first day to the next one's, with a contract
    column; the columns all the contracts have."""
    frames = list(contracts.values())
    shared = [c for c in frames[0].columns if c != "contract" and all(c in f for f in frames)]
    parts = []
    for k, (start, code) in enumerate(pieces):
        frame = contracts[code]
        days = _days(frame)
        keep = days >= start
        if k + 1 < len(pieces):
            keep &= days < pieces[k + 1][0]
        part = frame.loc[keep, shared].copy()
        part["contract"] = code
        parts.append(part)
    return pd.concat(parts)


def _check_contracts(
    contracts: Mapping[str, pd.DataFrame], by: str, confirm_days: int, sources: Mapping[str, str]
) -> list[str]:
    """The contract codes in expiry order, after checking the inputs."""
    if by not in ("open_interest", "volume"):
        raise ValueError(f"by must be 'open_interest' or 'volume', not {by!r}")
    if confirm_days < 1:
        raise ValueError(f"confirm_days must be at least 1, not {confirm_days}")
    if not contracts:
        raise ValueError("no contracts given")
    parsed = {}
    for code, frame in contracts.items():
        source = sources.get(code, code)
        try:
            parsed[code] = parse_contract(code)
        except ValueError as exc:
            raise DataError(source, str(exc)) from None
        for column in ("open", "close", "trading_day", by):
            if column not in frame.columns:
                raise DataError(source, f"{code} has no {column!r} column (by={by!r} needs it)")
        if frame.empty:
            raise DataError(source, f"{code} has no bars")
    codes = sorted(contracts, key=parsed.__getitem__)
    for a, b in itertools.pairwise(codes):
        if parsed[a].expiry == parsed[b].expiry:
            raise DataError(sources.get(b, b), f"{a} and {b} have the same delivery month")
    return codes


def main_contract(
    contracts: Mapping[str, pd.DataFrame],
    by: LeaderMeasure = "open_interest",
    confirm_days: int = 3,
    sources: Mapping[str, str] | None = None,
) -> tuple[RollSchedule, pd.DataFrame]:
    """The main contract over time from per-contract bars ({code: frame as read_bars
    gives}), as a roll schedule and the spliced bars with a ``contract`` column.

    Each trading day's leader has the highest open interest at the end of the day (or the
    highest volume over the day); ties go to the nearer expiry. The series starts on the
    first day's leader. A later contract takes over once it has led ``confirm_days``
    trading days running, from the NEXT trading day, at its first bar; the series never
    goes back to an older contract (codes order by delivery month). Roll prices are both
    contracts' opens at that first bar, or the old contract's nearest earlier close where
    it has no bar then. ``sources`` names each code's file in errors."""
    sources = dict(sources or {})
    codes = _check_contracts(contracts, by, confirm_days, sources)
    daily = _daily_measure(contracts, codes, by)
    days = daily.index.to_numpy().astype("datetime64[D]")
    starts = _main_sequence(daily.to_numpy(dtype=float), confirm_days)
    pieces = [(days[d], codes[c]) for d, c in starts]
    rolls = tuple(
        _roll_into(contracts[old], contracts[new], day, old, new)
        for (_, old), (day, new) in itertools.pairwise(pieces)
    )
    return RollSchedule(rolls), _splice(contracts, pieces)


# --- Using a schedule on bars ---------------------------------------------------------


def contracts_for_bars(frame: pd.DataFrame, schedule: RollSchedule) -> np.ndarray:
    """The contract traded at each bar: the first roll's old contract before it, then each
    roll's new contract from the first bar of its trading day (or the first bar after it).
    Empty strings when the schedule has no rolls (the contract is unknown)."""
    if not schedule:
        return np.full(len(frame), "", dtype=str)
    roll_days = np.array([r.trading_day for r in schedule], dtype="datetime64[D]")
    names = np.array([schedule.rolls[0].old_contract, *(r.new_contract for r in schedule)])
    return names[np.searchsorted(roll_days, _days(frame), side="right")]


def traded_contracts(frame: pd.DataFrame, schedule: RollSchedule | None) -> np.ndarray | None:
    """The contract traded at each bar, where known: the schedule's when it has rolls,
    else the bars' own contract column when the rolls are read off it (one contract
    throughout has no roll, and its delivery deadline still applies); None when neither
    names a contract. A schedule given empty names none, as in paper trading."""
    if schedule:
        return contracts_for_bars(frame, schedule)
    read_off_bars = schedule is None or schedule.from_column
    if read_off_bars and "contract" in frame.columns:
        return frame["contract"].to_numpy(dtype=str)
    return None


def located_rolls(frame: pd.DataFrame, schedule: RollSchedule) -> list[tuple[int, Roll]]:
    """(bar index, roll) for each roll inside the data: the index of the first bar of the
    roll's trading day, or of the first bar after it when that day has no bar. A roll on
    or before the first bar's day, or after the last bar's, is not in the data and is
    left out. Two rolls in one gap of the data share a bar."""
    days = _days(frame)
    located = []
    for roll in schedule:
        bar = int(np.searchsorted(days, np.datetime64(roll.trading_day, "D")))
        if 0 < bar < len(days):
            located.append((bar, roll))
    return located


def roll_bars(frame: pd.DataFrame, schedule: RollSchedule) -> np.ndarray:
    """The bar index of each roll inside the data (see ``located_rolls``), in order."""
    return np.array([bar for bar, _ in located_rolls(frame, schedule)], dtype=np.int64)


def back_adjust(
    frame: pd.DataFrame, schedule: RollSchedule, method: AdjustMethod = "ratio"
) -> pd.DataFrame:
    """Bars with open/high/low/close adjusted across the rolls inside the data, so that
    the series has no roll jump: the latest contract's prices are raw, earlier bars are
    multiplied by the product of the later rolls' ratios (``ratio``) or shifted by the sum
    of the later rolls' differences (``difference``). Other columns are unchanged."""
    if method not in ("ratio", "difference"):
        raise ValueError(f"method must be 'ratio' or 'difference', not {method!r}")
    located = located_rolls(frame, schedule)
    adjusted = frame.copy()
    if not located:
        return adjusted
    bars = np.array([bar for bar, _ in located])
    rolls_so_far = np.searchsorted(bars, np.arange(len(frame)), side="right")
    if method == "ratio":
        ratios = np.array([roll.ratio for _, roll in located])
        later = np.append(np.cumprod(ratios[::-1])[::-1], 1.0)
    else:
        differences = np.array([roll.difference for _, roll in located])
        later = np.append(np.cumsum(differences[::-1])[::-1], 0.0)
    per_bar = later[rolls_so_far]
    for column in PRICE_COLUMNS:
        if column in frame.columns:
            raw = frame[column].to_numpy(dtype=float)
            adjusted[column] = raw * per_bar if method == "ratio" else raw + per_bar
    return adjusted


# --- Without roll information: suspected rolls ------------------------------------------

SUSPECTED_ROLL_ATRS = 10.0  # a session-open jump above this many ATRs is a suspected roll


@dataclass(frozen=True)
class SuspectedRoll:
    """A session-open jump that looks like a roll: |open - previous close| is ``atrs``
    times the ATR of the bars up to the previous one."""

    time: pd.Timestamp  # start of the bar that opened with the jump
    trading_day: date
    previous_close: float
    open: float
    atrs: float
    previous_time: pd.Timestamp  # start of the bar before it

    @property
    def jump(self) -> float:
        return self.open - self.previous_close


def session_opens(frame: pd.DataFrame) -> np.ndarray:
    """True at each bar that opens a trading day's night or day session in the data."""
    opens = np.ones(len(frame), dtype=bool)
    opens[1:] = _opens_at(frame, np.arange(1, len(frame)))
    return opens


def _opens_at(frame: pd.DataFrame, rows: np.ndarray) -> np.ndarray:
    """``session_opens(frame)[rows]`` for rows from 1 on: read at those bars and the ones
    before them alone (a few jumps among a ten-year series' bars)."""
    both = np.concatenate((rows - 1, rows))
    days = _days(frame, both)
    night = session_minutes(frame.index[both]) >= NIGHT_START_MINUTE
    before, at = slice(0, len(rows)), slice(len(rows), None)
    return (days[at] != days[before]) | (night[at] != night[before])


def suspected_rolls(
    frame: pd.DataFrame, atr_multiple: float = SUSPECTED_ROLL_ATRS, atr_period: int = 14
) -> list[SuspectedRoll]:
    """Jumps |open - previous close| larger than ``atr_multiple`` x ATR(``atr_period``) at
    the first bar of a session (night or day open). The ATR (TA-Lib) is of the bars given,
    up to the bar before the jump, so the gap does not dilute its own yardstick; give
    15-minute bars (as Tier-1 sees them) for multiples comparable with the default. Real
    gaps (after a long holiday, say) are found too: these are suspects, not rolls."""
    if len(frame) <= atr_period + 1:
        return []
    high, low, close, open_ = (
        np.ascontiguousarray(frame[c].to_numpy(dtype=np.float64))
        for c in ("high", "low", "close", "open")
    )
    atr = talib.ATR(high, low, close, timeperiod=atr_period)
    with np.errstate(divide="ignore", invalid="ignore"):
        multiple = np.abs(open_[1:] - close[:-1]) / atr[:-1]
    jumps = np.flatnonzero(multiple > atr_multiple) + 1  # then which of them open a session
    hits = jumps[_opens_at(frame, jumps)]
    return [
        SuspectedRoll(time, _as_date(day), previous_close, opened, atrs, previous_time)
        for time, day, previous_close, opened, atrs, previous_time in zip(
            frame.index[hits],  # the stamps made all at once, not one by one
            _days(frame, hits),
            close[hits - 1].tolist(),
            open_[hits].tolist(),
            multiple[hits - 1].tolist(),
            frame.index[hits - 1],
            strict=True,
        )
    ]


__all__ = [
    "SCHEDULE_COLUMNS",
    "AdjustMethod",
    "LeaderMeasure",
    "Roll",
    "RollSchedule",
    "SuspectedRoll",
    "back_adjust",
    "contracts_for_bars",
    "located_rolls",
    "main_contract",
    "read_schedule",
    "roll_bars",
    "schedule_from_contracts",
    "session_opens",
    "suspected_rolls",
    "traded_contracts",
    "validate_schedule",
    "write_schedule",
]

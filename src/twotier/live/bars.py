"""One bar as the live loop carries it, and raw rows turned into bars.

Raw rows (CSV lines of a growing file, JSON objects from standard input) are validated in
batches by the loader's own validator (``twotier.market.validation.validate_rows``): the
same checks, the same messages, the file and line of each bad row. Order across batches
is the aggregator's business (``twotier.live.aggregate``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from twotier.errors import BarProblem, DataError
from twotier.market.calendar import TIMEZONE, TradingCalendar
from twotier.market.columns import resolve_columns
from twotier.market.instruments import InstrumentRegistry
from twotier.market.validation import (
    PAPER_HINTS,
    SETTLE_AND_LIMITS,
    ValidationResult,
    validate_rows,
)

HORIZON_WARNING_DAYS = 30  # paper warns every trading day from this many days before
FEED_TRADING_DAY = ("trading_day", "tradingday")  # a feed's own trading day column


@dataclass(frozen=True)
class Bar:
    """A validated bar, labelled by its start. Raw bars (1, 3, 5 or 15 minutes) and the
    15-minute bars made of them share this shape; ``source`` and ``line`` say where the
    (first) raw row came from."""

    instrument: str
    time_ns: int  # bar start, nanoseconds since the epoch (UTC)
    trading_day: date
    open: float
    high: float
    low: float
    close: float
    volume: float
    open_interest: float | None
    source: str
    line: int
    contract: str | None = None  # from the feed's contract column, when it has one
    # The data's own settlement and limits (RULES.md 10.1), where the feed has the column:
    # NaN for a blank cell, None without the column.
    settle: float | None = None
    limit_up: float | None = None
    limit_down: float | None = None

    @property
    def market(self) -> tuple:
        """The data's settle, limit up and limit down (``SETTLE_AND_LIMITS``' order)."""
        return self.settle, self.limit_up, self.limit_down

    @property
    def time(self) -> pd.Timestamp:
        return pd.Timestamp(self.time_ns, tz=ZONE)

    def local_time(self) -> datetime:
        """The bar's start in exchange local time, to the second (cheaper than ``time``)."""
        return datetime.fromtimestamp(self.time_ns // 1_000_000_000, ZONE)

    def where(self) -> str:
        return f"{self.source}, line {self.line}"


@dataclass
class FeedRecord:
    """What a feed's reader did with an instrument's lines, for the run's summary as a
    backtest's loader records it (``engine.inputs.loading_records``): the lines dropped or
    repaired, the auction bars and closing ticks folded in, and the files they were in."""

    sources: list[str] = field(default_factory=list)
    dropped: list[BarProblem] = field(default_factory=list)
    repaired: list[BarProblem] = field(default_factory=list)
    merged: list[BarProblem] = field(default_factory=list)

    @property
    def source(self) -> str:
        return " + ".join(self.sources)

    def add(self, result: ValidationResult, source: str) -> None:
        if (result.dropped or result.repaired or result.merged) and source not in self.sources:
            self.sources.append(source)
        self.dropped += result.dropped
        self.repaired += result.repaired
        self.merged += result.merged


class HorizonWatch:
    """The calendar's horizon (RULES.md 11), for a paper or live feed: a warning once per
    trading day past the calendar's last recorded day (taken as a trading day because it
    is a weekday, or because the feed says so), or within ``HORIZON_WARNING_DAYS`` of it;
    each names the fix."""

    def __init__(self, calendar: TradingCalendar, warn: Callable[[str], None]):
        self.calendar = calendar
        self.warn = warn
        self._days_seen: set[date] = set()

    def see(self, bars: list[Bar]) -> None:
        horizon = pd.Timestamp(self.calendar.horizon).date()
        for day in sorted({b.trading_day for b in bars} - self._days_seen):
            self._days_seen.add(day)
            left = (horizon - day).days
            if left < 0:
                self.warn(
                    f"trading day {day} is past the trading calendar ({self.calendar.source}, "
                    f"recorded to {horizon}): taken as a trading day because it is a weekday "
                    "(or the feed says so); add a calendar file with the year's holidays "
                    "(weekdays_until and holidays, docs/data.md) or install a newer "
                    "exchange-calendars"
                )
            elif left <= HORIZON_WARNING_DAYS:
                self.warn(
                    f"the trading calendar ({self.calendar.source}) ends on {horizon}, "
                    f"{left} days after trading day {day}: add a calendar file with the next "
                    "year's holidays (weekdays_until and holidays, docs/data.md) or install a "
                    "newer exchange-calendars"
                )


class BarReader:
    """Validates batches of raw rows of one instrument, as the file loader does (with
    ``contract_column``, the loader's contract checks too, within a batch), for a feed:

    - an opening auction bar that ends a batch waits for its session's first bar in the
      next batch of the same source (``auction="merge"``); a closing tick whose session's
      last bar came in an earlier batch cannot be folded any more and is dropped with a
      warning;
    - the calendar's horizon (RULES.md 11): past its last recorded day weekdays are taken
      as trading days, with a warning naming the fix once per trading day, and a feed's
      own trading day (a ``trading_day`` or ``TradingDay`` column, as CTP carries) is
      believed; from ``HORIZON_WARNING_DAYS`` before the horizon, a warning every trading
      day that it is near.
    """

    def __init__(
        self,
        instruments: InstrumentRegistry,
        calendar: TradingCalendar,
        *,
        label: str,
        bar_minutes: int,
        policy: str,
        warn: Callable[[str], None],
        contract_column: str | None = None,
        auction: str = "merge",
        night_date: str = "calendar",
    ):
        self.instruments = instruments
        self.calendar = calendar.assuming_weekdays()
        self.label = label
        self.bar_minutes = bar_minutes
        self.policy = policy
        self.warn = warn
        self.contract_column = contract_column
        self.auction = auction
        self.night_date = night_date
        self.held: dict[tuple[str, str], tuple[pd.DataFrame, int]] = {}
        self.records: dict[str, FeedRecord] = {}  # of the lines read by this process
        self.horizon = HorizonWatch(self.calendar, warn)

    def read(
        self, instrument: str, table: pd.DataFrame, lines: Sequence[int], source: str
    ) -> list[Bar]:
        """The rows of ``table`` (raw cells, as written) as bars; ``lines[i]`` is the line
        of row i in ``source``. Bad rows raise (policy refuse) or are reported and left
        out (drop, repair)."""
        if table.empty:
            return []
        spec = self.instruments[instrument]
        table, numbers = self._with_held(instrument, source, table, lines)
        names = [str(c) for c in table.columns]
        columns = self._columns(names, source)
        result = validate_rows(
            table,
            columns,
            numbers,
            source=source,
            unit="line",
            spec=spec,
            calendar=self.calendar,
            label=self.label,
            bar_minutes=self.bar_minutes,
            time_format=None,
            infer_bar_minutes=lambda _: self.bar_minutes,
            policy=self.policy,
            auction_policy=self.auction,
            night_date=self.night_date,
            hints=PAPER_HINTS,
            hold_last_auction=True,
            batch=True,
        )
        for k in result.held:
            self.held[(instrument, source)] = (table.iloc[[k]], int(numbers[k]))
        self.records.setdefault(instrument, FeedRecord()).add(result, source)
        self._report(result, source)
        kept = numbers[result.rows].tolist()
        bars = frame_to_bars(instrument, result.frame, kept, source)
        self.horizon.see(bars)
        return bars

    def _with_held(
        self, instrument: str, source: str, table: pd.DataFrame, lines: Sequence[int]
    ) -> tuple[pd.DataFrame, np.ndarray]:
        """The batch with the auction row held back from the source's previous batch."""
        numbers = np.asarray(lines, dtype=np.int64)
        held = self.held.pop((instrument, source), None)
        table = table.reset_index(drop=True)
        if held is None:
            return table, numbers
        row, line = held
        joined = pd.concat([row, table], ignore_index=True)
        return joined, np.concatenate([[line], numbers])

    def _report(self, result: ValidationResult, source: str) -> None:
        for problem in result.dropped:
            self.warn(f"{source}: dropped line {problem.line}: {problem.problem}")
        for problem in result.repaired:
            self.warn(f"{source}: line {problem.line}: {problem.problem}")
        for warning in result.warnings:
            self.warn(warning)

    def _columns(self, names: list[str], source: str) -> dict[str, str]:
        """The loader's columns, the contract column when one is named, and the feed's
        trading day when it carries one."""
        columns = resolve_columns(names, None, source, None)
        day = next((n for n in names if n.strip().lower() in FEED_TRADING_DAY), None)
        if day is not None:
            columns["trading_day"] = day
        if self.contract_column is None:
            return columns
        if self.contract_column not in names:
            raise DataError(
                source, f"contract column {self.contract_column!r} not found; columns are {names}"
            )
        return {**columns, "contract": self.contract_column}


def frame_to_bars(
    instrument: str, frame: pd.DataFrame, lines: Sequence[int], source: str
) -> list[Bar]:
    """Validated bars (index = bar start, the loader's columns) as ``Bar`` records."""
    if len(frame) != len(lines):
        raise DataError(source, f"{len(frame)} bars but {len(lines)} line numbers")
    times = pd.DatetimeIndex(frame.index).as_unit("ns").asi8.tolist()
    days = frame["trading_day"].to_numpy().astype("datetime64[D]").tolist()
    columns = [frame[c].to_numpy(dtype=np.float64).tolist() for c in PRICES]
    oi = optional_column(frame, "open_interest", np.float64)
    contracts = optional_column(frame, "contract", str)
    market = [optional_column(frame, c, np.float64) for c in SETTLE_AND_LIMITS]
    return [
        Bar(instrument, t, d, o, h, lo, c, v, i, source, n, k, *m)
        for t, d, o, h, lo, c, v, i, n, k, *m in zip(
            times, days, *columns, oi, lines, contracts, *market, strict=True
        )
    ]


def optional_column(frame: pd.DataFrame, name: str, dtype) -> list:
    """A column's values as Python objects, or None for every bar without the column."""
    if name not in frame.columns:
        return [None] * len(frame)
    return frame[name].to_numpy(dtype=dtype).tolist()


PRICES = ("open", "high", "low", "close", "volume")
ZONE = ZoneInfo(TIMEZONE)  # resolved once: a zone name costs a look-up per timestamp

"""One bar as the live loop carries it, and raw rows turned into bars.

Raw rows (CSV lines of a growing file, JSON objects from standard input) are validated in
batches by the loader's own validator (``twotier.market.validation.validate_rows``): the
same checks, the same messages, the file and line of each bad row. Order across batches
is the aggregator's business (``twotier.live.aggregate``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from twotier.errors import DataError
from twotier.market.bars import resolve_columns
from twotier.market.calendar import TIMEZONE, TradingCalendar
from twotier.market.instruments import InstrumentRegistry
from twotier.market.validation import validate_rows


@dataclass(frozen=True)
class Bar:
    """A validated bar, labelled by its start. Raw bars (1, 5 or 15 minutes) and the
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

    @property
    def time(self) -> pd.Timestamp:
        return pd.Timestamp(self.time_ns, tz=ZONE)

    def local_time(self) -> datetime:
        """The bar's start in exchange local time, to the second (cheaper than ``time``)."""
        return datetime.fromtimestamp(self.time_ns // 1_000_000_000, ZONE)

    def where(self) -> str:
        return f"{self.source}, line {self.line}"


class BarReader:
    """Validates batches of raw rows of one instrument, as the file loader does (with
    ``contract_column``, the loader's contract checks too, within a batch)."""

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
    ):
        self.instruments = instruments
        self.calendar = calendar
        self.label = label
        self.bar_minutes = bar_minutes
        self.policy = policy
        self.warn = warn
        self.contract_column = contract_column

    def read(
        self, instrument: str, table: pd.DataFrame, lines: Sequence[int], source: str
    ) -> list[Bar]:
        """The rows of ``table`` (raw cells, as written) as bars; ``lines[i]`` is the line
        of row i in ``source``. Bad rows raise (policy refuse) or are reported and left
        out (drop, repair)."""
        if table.empty:
            return []
        spec = self.instruments[instrument]
        names = [str(c) for c in table.columns]
        columns = self._columns(names, source)
        numbers = np.asarray(lines, dtype=np.int64)
        result = validate_rows(
            table.reset_index(drop=True),
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
        )
        dropped = {p.line for p in result.dropped}
        for problem in result.dropped:
            self.warn(f"{source}: dropped line {problem.line}: {problem.problem}")
        for problem in result.repaired:
            self.warn(f"{source}: line {problem.line}: {problem.problem}")
        kept = [int(n) for n in numbers if int(n) not in dropped]
        return frame_to_bars(instrument, result.frame, kept, source)

    def _columns(self, names: list[str], source: str) -> dict[str, str]:
        """The loader's columns, and the contract column when one is named."""
        columns = resolve_columns(names, None, source, None)
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
    return [
        Bar(instrument, t, d, o, h, lo, c, v, i, source, n, k)
        for t, d, o, h, lo, c, v, i, n, k in zip(
            times, days, *columns, oi, lines, contracts, strict=True
        )
    ]


def optional_column(frame: pd.DataFrame, name: str, dtype) -> list:
    """A column's values as Python objects, or None for every bar without the column."""
    if name not in frame.columns:
        return [None] * len(frame)
    return frame[name].to_numpy(dtype=dtype).tolist()


PRICES = ("open", "high", "low", "close", "volume")
ZONE = ZoneInfo(TIMEZONE)  # resolved once: a zone name costs a look-up per timestamp

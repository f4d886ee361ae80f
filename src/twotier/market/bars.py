"""Loading bars from vendor files (CSV, gzipped CSV, Parquet) into one clean DataFrame.

The result has one row per bar: index ``time`` = bar START in Asia/Shanghai, columns
open, high, low, close, volume, optional open_interest, trading_day, and ``contract``
(text) when a contract column is named (see ``twotier.market.rolls``). Every row is
validated (see ``twotier.market.validation``); a bad file is refused with the file, the
line and the problem, unless the caller chooses to drop or repair bad bars.
"""

from __future__ import annotations

import gzip
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from twotier.csv_files import READ_ERRORS, first_long_row, read_error
from twotier.errors import BarProblem, DataError
from twotier.market.calendar import TIMEZONE, TradingCalendar, default_calendar
from twotier.market.columns import NUMERIC, resolve_columns
from twotier.market.instruments import InstrumentSpec, get_instrument
from twotier.market.plain_csv import READ_FAILURES, plain_header, read_plain
from twotier.market.sessions import NS_PER_MINUTE
from twotier.market.validation import Hints, ValidationResult, validate_rows

Label = Literal["start", "end"]
BadBarPolicy = Literal["refuse", "drop", "repair"]
AuctionPolicy = Literal["merge", "refuse"]
NightDate = Literal["calendar", "trading_day"]


@dataclass
class LoadedBars:
    """Bars as loaded, with what the loader did to get them."""

    frame: pd.DataFrame
    instrument: InstrumentSpec
    source: str
    bar_minutes: int
    dropped: list[BarProblem] = field(default_factory=list)
    repaired: list[BarProblem] = field(default_factory=list)
    merged: list[BarProblem] = field(default_factory=list)  # auction bars, closing ticks
    warnings: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, result: ValidationResult, spec: InstrumentSpec, source: str) -> LoadedBars:
        result.frame.index.name = "time"
        return cls(
            result.frame, spec, source, result.bar_minutes, result.dropped, result.repaired,
            result.merged, result.warnings,
        )  # fmt: skip


def merged_counts(merged: list[BarProblem]) -> tuple[int, int]:
    """(opening auction bars, closing ticks) of what the loader folded into their
    sessions' bars."""
    auctions = sum(m.problem.startswith("auction bar") for m in merged)
    return auctions, len(merged) - auctions


def _is_parquet(path: Path) -> bool:
    return path.name.lower().endswith((".parquet", ".pq"))


# index_col=False: a row with more fields than the header never makes pandas take the
# first columns as an index, which would shift every value into the next column's name.
_CSV_OPTIONS = {"keep_default_na": False, "skip_blank_lines": False, "index_col": False}


def _read_csv(
    path: Path, names: list[str], text: set[str], numeric: set[str], source: str
) -> pd.DataFrame:
    """The table, the ``text`` columns (time, date) as text and the others as the C parser
    reads them: a column whose every cell is a plain number comes back as numbers (much
    faster than text then ``pd.to_numeric``, and the same, correctly rounded, values); a
    column with anything else in it (an empty cell, a word) comes back as text, for the
    validator to report cell by cell. A plain file is read by pyarrow instead
    (``_plain_csv``: the same values, whole numbers as floats)."""
    plain = _plain_csv(path, names, numeric)
    if plain is not None:
        return plain
    dtype = dict.fromkeys(text, str)
    try:
        raw = _pandas_csv(path, dtype, len(names), source)
        for name in numeric & {str(c) for c in raw.columns}:
            column = raw[name]
            kind = column.dtype.kind
            plain = kind in "iu" or (kind == "f" and bool(np.isfinite(column.to_numpy()).all()))
            if not plain and not pd.api.types.is_string_dtype(column):
                # e.g. only true/false, or integers beyond int64: read it all as text.
                return _pandas_csv(path, str, len(names), source)
    except READ_ERRORS as exc:
        raise read_error(source, exc) from None
    return raw


def _pandas_csv(path: Path, dtype, header: int, source: str) -> pd.DataFrame:
    """pandas' reading. Where rows have more fields than the header, pandas warns and
    drops the extra ones: refused if one holds a value (never a silent loss), read if
    they are all empty (a comma at the end of every line, as some exports write)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", pd.errors.ParserWarning)
        table = pd.read_csv(path, dtype=dtype, **_CSV_OPTIONS)
    long_rows = False
    for warning in caught:  # read once: the warning recorded, the others passed on
        if issubclass(warning.category, pd.errors.ParserWarning):
            long_rows = True
        else:
            warnings.warn(warning.message, warning.category, stacklevel=2)
    if long_rows:
        _refuse_long_rows(path, header, source)
    return table


def _refuse_long_rows(path: Path, header: int, source: str) -> None:
    """A row with a value beyond the header's fields refuses the file, naming its line.
    The file is opened as pandas opened it (the compression its name implies: .gz, .bz2,
    .xz, .zip, .zst)."""
    found = first_long_row(path, header, values_only=True)
    if found is not None:
        line, fields, _ = found
        raise DataError(source, f"{fields} fields where the header has {header}", line)


def _plain_csv(path: Path, names: list[str], numeric: set[str]) -> pd.DataFrame | None:
    """The table as pyarrow's CSV reader reads it (three times faster than pandas'), if
    the file is plain: its header as pandas reads it (``names``), every row whole, a
    finite number in every cell of the ``numeric`` columns; the other columns as text.
    Anything else (a blank line, an empty or non-numeric cell, a repeated column name,
    bytes that are not UTF-8) gives None, and pandas reads the file, for the validator to
    report cell by cell. Both readers round numbers correctly, so the values are the
    same; whole numbers come back as floats rather than integers, as the validator reads
    them anyway."""
    if len(set(names)) != len(names):  # pandas renames a repeated name (close.1)
        return None
    try:
        table = read_plain(path, names, numeric)
    except READ_FAILURES:
        return None
    if table.column_names != names or table.num_rows == 0:
        return None
    # A block a column: no copy of the number columns into one block, which the
    # validator, reading column by column, does not need.
    frame = table.to_pandas()
    if not all(_plain_numbers(frame[name].to_numpy()) for name in numeric):
        return None
    return frame


def _plain_numbers(values: np.ndarray) -> bool:
    """Finite, and no negative zero: pandas reads "-0" in a column of whole numbers as
    the integer 0, pyarrow as -0.0 (a different float, bit for bit)."""
    return bool(np.isfinite(values).all()) and not bool((np.signbit(values) & (values == 0)).any())


def _with_contract(
    resolved: dict[str, str], names: list[str], contract_column: str | None, source: str, line
) -> dict[str, str]:
    """The resolved columns plus the contract column, which must exist when named."""
    if contract_column is None:
        return resolved
    if contract_column not in names:
        raise DataError(
            source, f"contract column {contract_column!r} not found; columns are {names}", line
        )
    return {**resolved, "contract": contract_column}


def _read_table(
    path: Path, mapping: dict[str, str] | None, source: str, contract_column: str | None = None
) -> tuple[pd.DataFrame, dict[str, str], int, str]:
    """The raw table, its resolved columns, the line number of its first data row and
    the word for a row ('line' in text files, 'row' in Parquet)."""
    if _is_parquet(path):
        try:
            raw = pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises several types for a damaged file
            raise DataError(source, f"not a readable Parquet file: {exc}") from None
        if not isinstance(raw.index, pd.RangeIndex):  # e.g. a file written by write_bars
            raw = raw.reset_index()
        names = [str(c) for c in raw.columns]
        resolved = resolve_columns(names, mapping, source, None)
        return raw, _with_contract(resolved, names, contract_column, source, None), 1, "row"
    names = plain_header(path)  # pandas' header read costs more than the csv module's
    if names is None:
        try:
            names = [str(c) for c in pd.read_csv(path, nrows=0, **_CSV_OPTIONS).columns]
        except READ_ERRORS as exc:
            raise read_error(source, exc) from None
    resolved = _with_contract(
        resolve_columns(names, mapping, source), names, contract_column, source, 1
    )
    numeric = {own for canonical, own in resolved.items() if canonical in NUMERIC}
    text = {own for canonical, own in resolved.items() if canonical not in NUMERIC}
    return _read_csv(path, names, text, numeric, source), resolved, 2, "line"


def _blank_rows(raw: pd.DataFrame) -> np.ndarray:
    """Rows whose every cell is empty (blank lines): none where a column has a number on
    every row (a normal file); else each column is checked only on the rows still blank
    so far."""
    for name in raw.columns:
        column = raw[name]
        if pd.api.types.is_numeric_dtype(column) and not column.isna().any():
            return np.zeros(len(raw), dtype=bool)  # a number on every row
    blank = np.ones(len(raw), dtype=bool)
    for name in raw.columns:
        column = raw[name]
        rows = np.flatnonzero(blank)
        if len(rows) == 0:
            break
        cells = column.iloc[rows]
        empty = cells.isna().to_numpy() | (cells.astype(str).str.strip() == "").to_numpy(
            dtype=bool, na_value=True
        )
        blank[rows] = empty
    return blank


def _infer_bar_minutes(stamps: np.ndarray) -> int:
    """The most common step between consecutive time stamps, in minutes (<= 60)."""
    # Whole minutes by floor division of the nanoseconds, as numpy's cast to minutes
    # rounds, without its calendar arithmetic per stamp.
    minutes = stamps.astype("datetime64[ns]", copy=False).view(np.int64) // NS_PER_MINUTE
    diffs = np.diff(minutes)
    diffs = diffs[(diffs > 0) & (diffs <= 60)]
    if len(diffs) == 0:
        return 15
    # Steps counted by value (1 to 60), not sorted: the shortest of the most common.
    return int(np.argmax(np.bincount(diffs, minlength=61)))


def _bar_minutes(making: int, source: str) -> Callable[[np.ndarray], int]:
    """``_infer_bar_minutes``, refusing a length that does not divide ``making``."""

    def infer(stamps: np.ndarray) -> int:
        minutes = _infer_bar_minutes(stamps)
        if making % minutes:
            fits = [str(m) for m in range(1, making + 1) if making % m == 0]
            raise DataError(
                source,
                f"its bars are {minutes} minutes apart (the most common step between them); "
                f"twotier trades {making}-minute bars, made of bars of "
                f"{', '.join(fits[:-1])} or {fits[-1]} minutes",
            )
        return minutes

    return infer


def read_bars(
    path: str | Path,
    instrument: str | InstrumentSpec,
    *,
    label: Label = "start",
    columns: dict[str, str] | None = None,
    on_bad_bar: BadBarPolicy = "refuse",
    bar_minutes: int | None = None,
    time_format: str | None = None,
    calendar: TradingCalendar | None = None,
    contract_column: str | None = None,
    auction: AuctionPolicy = "merge",
    night_date: NightDate = "calendar",
    hints: Hints | None = None,
    making: int | None = None,
) -> LoadedBars:
    """Read and validate one instrument's bars from a file. ``contract_column`` names a
    column holding each bar's contract (e.g. i2009), kept as the text column ``contract``.
    ``auction``: fold opening auction bars and closing ticks into their sessions' bars
    (``merge``) or refuse them; ``night_date``: night bars are dated with the calendar
    date they traded on (``calendar``) or with their trading day (``trading_day``).
    ``making``: the bar length (minutes) the caller makes of them, which the file's own
    (found by its most common step) must divide: a file of longer bars is one error, not
    a bad bar at every session break."""
    path = Path(path)
    source = str(path)
    spec = instrument if isinstance(instrument, InstrumentSpec) else get_instrument(instrument)
    if label not in ("start", "end"):
        raise DataError(source, f"label must be 'start' or 'end', not {label!r}")
    if on_bad_bar not in ("refuse", "drop", "repair"):
        raise DataError(
            source, f"on_bad_bar must be 'refuse', 'drop' or 'repair', not {on_bad_bar!r}"
        )
    if not path.exists():
        raise DataError(source, "file not found")
    if not path.is_file():
        raise DataError(source, "not a file")
    raw, resolved, first_line, unit = _read_table(path, columns, source, contract_column)
    if raw.empty:
        raise DataError(source, "the file has a header but no rows")
    lines = np.arange(len(raw)) + first_line
    if unit == "line":  # blank lines carry no bar; keep the others' line numbers
        blank = _blank_rows(raw)
        if blank.any():
            raw, lines = raw.loc[~blank].reset_index(drop=True), lines[~blank]
        if raw.empty:
            raise DataError(source, "the file has a header but no rows (only blank lines)")
    result = validate_rows(
        raw,
        resolved,
        lines,
        source=source,
        unit=unit,
        spec=spec,
        calendar=calendar or default_calendar(),
        label=label,
        bar_minutes=bar_minutes,
        time_format=time_format,
        infer_bar_minutes=_infer_bar_minutes if making is None else _bar_minutes(making, source),
        policy=on_bad_bar,
        auction_policy=auction,
        night_date=night_date,
        hints=hints,
    )
    return LoadedBars.of(result, spec, source)


def load_bars(path: str | Path, instrument: str | InstrumentSpec, **options) -> pd.DataFrame:
    """``read_bars(...).frame``: the bars alone."""
    return read_bars(path, instrument, **options).frame


def bars_from_frame(
    frame: pd.DataFrame,
    instrument: str | InstrumentSpec,
    *,
    source: str = "<DataFrame>",
    label: Label = "start",
    on_bad_bar: BadBarPolicy = "refuse",
    bar_minutes: int | None = None,
    calendar: TradingCalendar | None = None,
    contract_column: str | None = None,
    auction: AuctionPolicy = "merge",
    night_date: NightDate = "calendar",
    making: int | None = None,
) -> LoadedBars:
    """Validate bars given as a DataFrame: a DatetimeIndex (or a time column, as a file
    names it) and the bar columns (and, if named, a contract column). Rows are numbered
    from 1 in errors. ``auction``, ``night_date`` and ``making`` as for ``read_bars``."""
    spec = instrument if isinstance(instrument, InstrumentSpec) else get_instrument(instrument)
    if frame.empty:
        raise DataError(source, "no rows")
    table = frame.drop(columns=["trading_day"], errors="ignore")
    # Row numbers (pd.read_csv's, or what is left of them after filtering rows): the
    # times are a column, as in the file.
    numbered = table.index.name is None and pd.api.types.is_integer_dtype(table.index)
    if "time" not in table.columns and not numbered:  # the times are the index
        table = table.rename_axis("time").reset_index()
    names = [str(c) for c in table.columns]
    resolved = resolve_columns(names, None, source, None)
    resolved = _with_contract(resolved, names, contract_column, source, None)
    result = validate_rows(
        table,
        resolved,
        np.arange(len(table)) + 1,
        source=source,
        unit="row",
        spec=spec,
        calendar=calendar or default_calendar(),
        label=label,
        bar_minutes=bar_minutes,
        time_format=None,
        infer_bar_minutes=_infer_bar_minutes if making is None else _bar_minutes(making, source),
        policy=on_bad_bar,
        auction_policy=auction,
        night_date=night_date,
    )
    return LoadedBars.of(result, spec, source)


BAR_FILE_ENDINGS = (".csv", ".csv.gz", ".parquet", ".pq")  # what write_bars writes


def write_bars(frame: pd.DataFrame, path: str | Path) -> None:
    """Write bars as Parquet (zstd), gzipped CSV or CSV by the name's ending
    (``BAR_FILE_ENDINGS``), atomically."""
    from twotier.io import atomic_path

    path = Path(path)
    name = path.name.lower()
    if not name.endswith(BAR_FILE_ENDINGS):
        raise DataError(str(path), f"not a bar file name: end it in {', '.join(BAR_FILE_ENDINGS)}")
    out = frame.copy()
    out.index = out.index.tz_localize(None)
    with atomic_path(path) as tmp:
        if name.endswith((".parquet", ".pq")):
            out.to_parquet(tmp, compression="zstd")
        elif name.endswith(".gz"):  # no time or name in gzip's header: the same bytes
            text = out.to_csv(date_format="%Y-%m-%d %H:%M:%S").encode("utf-8")
            tmp.write_bytes(gzip.compress(text, mtime=0))
        else:
            out.to_csv(tmp, date_format="%Y-%m-%d %H:%M:%S")


__all__ = [
    "TIMEZONE",
    "LoadedBars",
    "bars_from_frame",
    "load_bars",
    "read_bars",
    "resolve_columns",
    "write_bars",
]

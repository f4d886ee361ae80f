"""The signal package table: its columns, its storage in a run folder, and validation of
tables written by other programs or by hand (RULES.md 3.4).

A generator writes into its own namespace of a run folder, ``signals/<DCE_i>.parquet``,
with the schema version and the generator's name and parameters in the file's metadata.
Any CSV or Parquet table with the required columns is accepted after validation; columns
it does not know are ignored.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import NoReturn

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from twotier.csv_files import READ_ERRORS, first_long_row, read_error
from twotier.errors import DataError, cell_text
from twotier.indicators.series import COLUMNS
from twotier.io import atomic_path
from twotier.market.columns import SETTLE_AND_LIMITS
from twotier.market.times import (
    NAT,
    OUTSIDE_RANGE,
    in_exchange_time,
    outside_range,
    parse_times,
)
from twotier.money import MAX_PRICE
from twotier.numeric import nan_flags

SCHEMA_VERSION = 1
METADATA_KEY = b"twotier"

REQUIRED_COLUMNS = (
    "time",
    "instrument",
    "signal",
    "confidence",
    "signal_strength",
    "regime",
    "close",
)
INDICATOR_COLUMNS = COLUMNS  # every indicator of twotier.indicators.compute
CHECK_COLUMNS = tuple(
    f"{side}_{check}"
    for side in ("long", "short")
    for check in ("trend", "momentum", "rsi", "volume", "bollinger")
)
OPTIONAL_COLUMNS = ("open", "volume", *INDICATOR_COLUMNS, "trigger", *CHECK_COLUMNS, "contract")
PACKAGE_COLUMNS = (
    *REQUIRED_COLUMNS[:-1],
    "open",
    "close",
    "volume",
    *INDICATOR_COLUMNS,
    "trigger",
    *CHECK_COLUMNS,
)
# A package table may also name the contract of each bar (RULES.md 9) and carry what the
# market rules read of each bar (RULES.md 10): its high and low, and the settlement and
# limits where the data has them.
MARKET_COLUMNS = ("high", "low", *SETTLE_AND_LIMITS)
KNOWN_COLUMNS = (*PACKAGE_COLUMNS, "contract", *MARKET_COLUMNS)


def namespace_path(run_dir: str | Path, instrument: str) -> Path:
    return Path(run_dir) / "signals" / f"{instrument.replace('/', '_')}.parquet"


def write_packages(
    packages: pd.DataFrame,
    run_dir: str | Path,
    instrument: str,
    generator: str,
    params: dict | None = None,
) -> Path:
    """Write one generator's packages into its namespace of ``run_dir``."""
    encoded = package_file(packages, instrument, generator, params)
    return write_package_file(run_dir, instrument, encoded)


def write_package_file(run_dir: str | Path, instrument: str, encoded: pa.Buffer) -> Path:
    """Write a package file's bytes (``package_file``) into the instrument's namespace of
    ``run_dir``, whole or not at all."""
    path = namespace_path(run_dir, instrument)
    with atomic_path(path) as tmp:
        tmp.write_bytes(encoded)
    return path


def package_file(
    packages: pd.DataFrame, instrument: str, generator: str, params: dict | None = None
) -> pa.Buffer:
    """One generator's packages as the bytes of their Parquet file, with the metadata
    that names them (what ``write_packages`` writes)."""
    return parquet_bytes(package_table(packages, instrument, generator, params))


def package_table(
    packages: pd.DataFrame, instrument: str, generator: str, params: dict | None = None
) -> pa.Table:
    """The Arrow table of a package file: the packages and the metadata that names them.
    Python-level work (pandas to Arrow, column by column): done on the caller's thread."""
    table = arrow_table(packages)
    meta = {
        "schema_version": SCHEMA_VERSION,
        "kind": "signal_packages",
        "instrument": instrument,
        "generator": generator,
        "params": params or {},
    }
    return table.replace_schema_metadata(
        {**(table.schema.metadata or {}), METADATA_KEY: json.dumps(meta, sort_keys=True).encode()}
    )


def arrow_table(frame: pd.DataFrame) -> pa.Table:
    """``pa.Table.from_pandas(frame, preserve_index=False)``: the same table and schema,
    pandas' metadata included, in a fraction of the time. A numpy float or boolean column
    and a column of times with a time zone become Arrow arrays over their own values,
    with the bitmaps Arrow keeps (NaN or NaT as null, a boolean's values) packed by
    numpy: pyarrow tests and packs them one value at a time. Numpy integers have no
    nulls; any other column is converted as from_pandas converts it."""
    schema = frame_schema(frame)
    arrays = []
    for (_, column), field in zip(frame.items(), schema, strict=True):
        dtype = column.dtype
        kind = dtype.kind if isinstance(dtype, np.dtype) else None
        if kind == "f":
            values = np.ascontiguousarray(column.to_numpy())
            arrays.append(_array_with_nulls(values, nan_flags(values), field.type))
        elif kind == "b":
            flags = column.to_numpy()
            arrays.append(pa.Array.from_buffers(field.type, len(flags), [None, _bitmap(flags)]))
        elif kind in ("i", "u"):
            arrays.append(pa.array(column.to_numpy(), type=field.type))
        elif isinstance(dtype, pd.DatetimeTZDtype) and pa.types.is_timestamp(field.type):
            # the UTC times pandas keeps, as Arrow keeps a time with a zone
            values = column.to_numpy(dtype=f"datetime64[{field.type.unit}]")
            arrays.append(_array_with_nulls(values, _nat_flags(values), field.type))
        else:
            arrays.append(pa.array(column, type=field.type, from_pandas=True))
    return pa.Table.from_arrays(arrays, schema=schema)


_SCHEMAS: dict[tuple, pa.Schema] = {}


def frame_schema(frame: pd.DataFrame) -> pa.Schema:
    """``pa.Schema.from_pandas(frame, preserve_index=False)``, kept for frames with the
    same column names and dtypes: pyarrow makes it column by column in Python (a third
    of the table's time), and only an object column's values (and ``attrs``, which
    the metadata carries) bear on it."""
    dtypes = tuple(frame.dtypes)
    if frame.attrs or any(map(pd.api.types.is_object_dtype, dtypes)):
        return pa.Schema.from_pandas(frame, preserve_index=False)
    key = (tuple(frame.columns), dtypes, frame.columns.dtype, frame.columns.name)
    if key not in _SCHEMAS:
        if len(_SCHEMAS) >= 16:  # a few kinds of frame in one process; never grow unbounded
            _SCHEMAS.clear()
        _SCHEMAS[key] = pa.Schema.from_pandas(frame, preserve_index=False)
    return _SCHEMAS[key]


def _array_with_nulls(values: np.ndarray, missing: np.ndarray, arrow_type: pa.DataType):
    """An Arrow array over ``values`` (contiguous), null where ``missing``."""
    validity = _bitmap(~missing) if missing.any() else None
    return pa.Array.from_buffers(
        arrow_type, len(values), [validity, pa.py_buffer(values)], null_count=-1
    )


def _nat_flags(times: np.ndarray) -> np.ndarray:
    """``np.isnat``: NaT is the smallest 64-bit integer, and comparing the integers costs
    about one instruction a value where numpy's isnat costs fourteen."""
    return times.view(np.int64) == NAT


def _bitmap(flags: np.ndarray) -> pa.Buffer:
    """Booleans as Arrow's bitmap: one bit each, the first in the lowest bit."""
    return pa.py_buffer(np.packbits(flags, bitorder="little"))


def parquet_bytes(table: pa.Table) -> pa.Buffer:
    """A package table's Parquet file as bytes. pyarrow encodes and compresses without
    holding the GIL, so this runs well on a thread."""
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


def package_metadata(path: str | Path) -> dict:
    """The twotier metadata of a package file written by ``write_packages`` ({} if none)."""
    try:
        meta = pq.read_schema(path).metadata or {}
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise DataError(str(path), f"not a readable Parquet file: {exc}") from None
    return json.loads(meta[METADATA_KEY]) if METADATA_KEY in meta else {}


def read_packages(
    path: str | Path, *, require_open: bool = False, instruments: Collection[str] | None = None
) -> pd.DataFrame:
    """Read and validate a package table (CSV or Parquet, one or more instruments), or
    the packages of a folder: a run folder's ``signals/``, or such a folder itself.
    ``instruments``: the known ones (a row of another is an error)."""
    path = Path(path)
    source = str(path)
    if not path.exists():
        raise DataError(source, "file not found")
    if path.is_dir():
        return read_package_folder(path, require_open=require_open, instruments=instruments)
    if path.suffix.lower() in (".parquet", ".pq"):
        meta = package_metadata(path)
        version = meta.get("schema_version", SCHEMA_VERSION)
        if not isinstance(version, int) or version > SCHEMA_VERSION:
            raise DataError(
                source,
                f"package schema version {version} is newer than this twotier "
                f"understands ({SCHEMA_VERSION})",
            )
        try:
            raw = pd.read_parquet(path)
        except Exception as exc:
            raise DataError(source, f"not a readable Parquet file: {exc}") from None
        return validate_packages(raw, source, "row", 1, require_open, instruments=instruments)
    try:
        with warnings.catch_warnings():
            # a first row longer than the header: pandas would take its leading cells as
            # an index (shifting every column) or, with index_col=False, drop the rest
            warnings.simplefilter("error", pd.errors.ParserWarning)
            raw = pd.read_csv(path, skip_blank_lines=False, index_col=False)
    except pd.errors.ParserWarning:
        raise DataError(source, f"not a readable CSV file: {_long_row(path)}") from None
    except READ_ERRORS as exc:
        raise read_error(source, exc) from None
    lines = np.arange(len(raw)) + 2  # line 1 is the header
    blank = _blank_rows(raw)  # blank lines carry no package; keep the others' numbers
    if blank.any():
        raw, lines = raw.loc[~blank].reset_index(drop=True), lines[~blank]
    return validate_packages(
        raw, source, "line", 2, require_open, lines=lines, instruments=instruments
    )


UNKNOWN_GENERATOR = "unknown (packages given to Tier-2)"


def package_origins(
    paths: Sequence[str | Path], instruments: Collection[str]
) -> dict[str, tuple[str, dict]]:
    """The generator and parameters that made each instrument's packages, as their files'
    metadata says (a run folder, its signals/, a package file of twotier's), else
    ``UNKNOWN_GENERATOR``: what a Tier-2-alone run writes into its own signal files,
    rather than its configuration's Tier-1, which did not make them."""
    origins = dict.fromkeys(instruments, (UNKNOWN_GENERATOR, {}))
    for path in map(Path, paths):
        if path.is_dir():
            files = package_files(path)
        else:
            files = [path] if path.suffix.lower() in (".parquet", ".pq") else []
        for file in files:
            meta = package_metadata(file)
            if meta.get("instrument") in origins and "generator" in meta:
                origins[meta["instrument"]] = (str(meta["generator"]), meta.get("params") or {})
    return origins


def package_files(folder: Path) -> list[Path]:
    """The package files of a run folder (its ``signals/``) or of a ``signals/`` folder."""
    inner = folder / "signals"
    return sorted((inner if inner.is_dir() else folder).glob("*.parquet"))


def read_package_folder(
    folder: Path, *, require_open: bool = False, instruments: Collection[str] | None = None
) -> pd.DataFrame:
    """The packages of a run folder (its ``signals/``) or of a ``signals/`` folder."""
    files = package_files(folder)
    if not files:
        raise DataError(
            str(folder),
            "a folder without signal packages (no signals/*.parquet): give a package table "
            "(CSV or Parquet), a run folder or its signals/ folder",
        )
    tables = [read_packages(f, require_open=require_open, instruments=instruments) for f in files]
    return combine_packages(tables, [str(f) for f in files])


def read_package_sources(
    paths: Sequence[str | Path],
    *,
    require_open: bool = False,
    instruments: Collection[str] | None = None,
) -> pd.DataFrame:
    """Every package table given (files or folders) as one table; each instrument's
    packages must come from one source."""
    tables = [read_packages(p, require_open=require_open, instruments=instruments) for p in paths]
    return combine_packages(tables, [str(p) for p in paths])


def combine_packages(tables: list[pd.DataFrame], sources: list[str]) -> pd.DataFrame:
    """Tables of packages as one, sorted by time (then instrument); an instrument found
    in two of them is an error naming both."""
    seen: dict[str, str] = {}
    for table, source in zip(tables, sources, strict=True):
        for instrument in table["instrument"].unique():
            if instrument in seen:
                raise DataError(
                    source, f"packages of {instrument} again (they are in {seen[instrument]})"
                )
            seen[instrument] = source
    if len(tables) == 1:
        return tables[0]
    table = pd.concat(tables, ignore_index=True)
    return table.sort_values(["time", "instrument"], kind="stable").reset_index(drop=True)


def _long_row(path: Path) -> str:
    """Which line has more fields than the header."""
    try:
        found = first_long_row(path)
    except READ_ERRORS:  # pandas read it; the csv module may not (a field beyond its limit)
        found = None
    if found is None:
        return "a line has more fields than the header"
    line, fields, header = found
    return f"line {line} has {fields} fields, the header {header}"


def read_namespace(run_dir: str | Path) -> pd.DataFrame:
    """Every generator's packages in a run folder's ``signals/``, one table sorted by time
    (then instrument), like a table of several instruments read by ``read_packages``."""
    files = sorted((Path(run_dir) / "signals").glob("*.parquet"))
    if not files:
        raise DataError(str(Path(run_dir) / "signals"), "no signal packages found")
    return combine_packages([read_packages(f) for f in files], [str(f) for f in files])


def _blank_rows(raw: pd.DataFrame) -> np.ndarray:
    """Rows whose every cell is empty."""
    blank = np.ones(len(raw), dtype=bool)
    for name in raw.columns:
        column = raw[name]
        empty = column.isna().to_numpy()
        if column.dtype == object or pd.api.types.is_string_dtype(column):
            empty = empty | (column.astype(str).str.strip() == "").to_numpy(dtype=bool)
        blank &= empty
        if not blank.any():
            break
    return blank


def validate_packages(
    raw: pd.DataFrame,
    source: str,
    unit: str = "row",
    first: int = 1,
    require_open: bool = False,
    *,
    lines: np.ndarray | None = None,
    instruments: Collection[str] | None = None,
) -> pd.DataFrame:
    """Check a package table and return it with known columns only (in package order),
    sorted by time. Errors name the ``unit`` (row or line) of the first bad value:
    ``lines[i]`` for the i-th row if given, else ``i + first``. ``instruments``: the
    known ones (a row of another is an error, never dropped)."""
    if raw.empty:
        raise DataError(source, "no packages in the table")
    required = (*REQUIRED_COLUMNS, "open") if require_open else REQUIRED_COLUMNS
    missing = [c for c in required if c not in raw.columns]
    if missing:
        why = " (fill = 'next_open' needs the open price)" if missing == ["open"] else ""
        raise DataError(source, f"missing required column(s) {', '.join(missing)}{why}")
    table = raw[[c for c in KNOWN_COLUMNS if c in raw.columns]].copy()
    where = _Where(source, unit, np.arange(len(raw)) + first if lines is None else lines)

    _check_empty(table, (*REQUIRED_COLUMNS, "open"), where)
    table["time"] = _times(table["time"], where)
    _check_grid(table["time"], where)
    table["instrument"] = table["instrument"].astype(str).str.strip()
    if instruments is not None:
        names = table["instrument"].to_numpy(dtype=str)
        where.check(
            ~np.isin(names, list(instruments)),
            lambda i: (
                f"unknown instrument {str(names[i])!r}; known: {', '.join(sorted(instruments))}"
            ),
        )
    numbers = {}
    for column in ("signal", "confidence", "signal_strength", "regime", "close", "open"):
        if column in table.columns:
            numbers[column] = _numeric(table[column], column, where)
    sig = numbers["signal"]
    where.check(~np.isin(sig, (-1, 0, 1)), lambda i: f"signal must be -1, 0 or 1, not {sig[i]:g}")
    for column in ("confidence", "signal_strength"):
        v = numbers[column]
        where.check(
            (v < 0) | (v > 1),
            lambda i, v=v, c=column: f"{c} must be in [0, 1], not {v[i]:g}",
        )
    reg = numbers["regime"]
    where.check(
        ~np.isin(reg, (1, 2, 3, 4)), lambda i: f"regime must be 1, 2, 3 or 4, not {reg[i]:g}"
    )
    for column in ("close", "open"):
        if column in numbers:
            _check_prices(numbers[column], column, where)
    market = _market_values(table, numbers, where)
    _check_order(table, where)
    for column, values in market.items():
        table[column] = values
    table["signal"] = sig.astype(np.int8)
    table["regime"] = reg.astype(np.int8)
    for column in ("confidence", "signal_strength", "close", "open"):
        if column in numbers:
            table[column] = numbers[column]
    return table.sort_values(["time", "instrument"], kind="stable").reset_index(drop=True)


class _Where:
    """Where a table came from, to name the row or line of a bad value."""

    def __init__(self, source: str, unit: str, numbers: np.ndarray):
        self.source = source
        self.unit = unit
        self.numbers = numbers

    def fail(self, row: int, problem: str) -> NoReturn:
        raise DataError(self.source, f"{self.unit} {int(self.numbers[row])}: {problem}")

    def check(self, bad: np.ndarray, problem: Callable[[int], str]) -> None:
        """Fail on the first row where ``bad`` is True, with ``problem(row)``."""
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            self.fail(row, problem(row))


def _times(values: pd.Series, where: _Where) -> pd.Series:
    """Times as Asia/Shanghai times: naive ones are taken as exchange local time, ones with
    an offset are converted (``twotier.market.times``)."""
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed, shown = in_exchange_time(pd.DatetimeIndex(values)), values
    else:
        shown = values.astype(str).str.strip()
        parsed = parse_times(shown)
        where.check(
            np.asarray(parsed.isna()), lambda i: f"unparsable time {cell_text(shown.iloc[i])!r}"
        )
    where.check(
        outside_range(parsed), lambda i: f"time {cell_text(shown.iloc[i])!r} {OUTSIDE_RANGE}"
    )
    return pd.Series(parsed, index=values.index, name=values.name)


def _check_grid(times: pd.Series, where: _Where) -> None:
    """A package is Tier-1's output for one 15-minute bar, stamped with the bar's start:
    a time off the grid would be a step of its own."""
    ns = pd.DatetimeIndex(times).tz_localize(None).as_unit("ns").asi8
    off = ns % (15 * 60 * 10**9) != 0
    where.check(
        off,
        lambda i: (
            f"time {times.iloc[i]:%Y-%m-%d %H:%M:%S} is off the 15-minute grid "
            "(a package is per 15-minute bar, stamped with the bar's start)"
        ),
    )


def _blank(values: pd.Series) -> np.ndarray:
    """Cells with nothing in them: missing, or text of spaces only."""
    empty = values.isna().to_numpy()
    if values.dtype == object or pd.api.types.is_string_dtype(values):
        empty = empty | (values.astype(str).str.strip() == "").to_numpy(dtype=bool)
    return empty


def _check_empty(table: pd.DataFrame, columns, where: _Where) -> None:
    for column in columns:
        if column in table.columns:
            empty = _blank(table[column])
            where.check(empty, lambda i, c=column: f"empty value in column {c!r}")


# The bar's own values a package may carry for the market rules (RULES.md 10): a blank
# cell is no value (10.6 item 4); anything else must be a number a bar could have.
BAR_COLUMNS = ("volume", *MARKET_COLUMNS)
MAX_VOLUME = 1e12


def _check_prices(v: np.ndarray, column: str, where: _Where) -> None:
    """Prices > 0 and within what twotier carries (NaN, a blank, passes)."""
    where.check(v <= 0, lambda i: f"{column} must be > 0, not {v[i]:g}")
    where.check(
        v > MAX_PRICE,
        lambda i: (
            f"{column} {v[i]:g} is beyond the largest price twotier carries ({MAX_PRICE:.0e})"
        ),
    )


def _market_values(
    table: pd.DataFrame, numbers: dict[str, np.ndarray], where: _Where
) -> dict[str, np.ndarray]:
    """The bar columns present, as floats with NaN where blank: prices > 0 and within what
    twotier carries, volume >= 0, high >= low with the open and close (``numbers``, as
    parsed) between them, and limit up >= limit down, where both are given."""
    values = {c: _optional_numeric(table[c], c, where) for c in BAR_COLUMNS if c in table}
    for column, v in values.items():
        if column == "volume":
            where.check(v < 0, lambda i, v=v: f"negative volume {v[i]:g}")
            where.check(v > MAX_VOLUME, lambda i, v=v: f"volume {v[i]:g} beyond {MAX_VOLUME:.0e}")
        else:
            _check_prices(v, column, where)
    high, low = values.get("high"), values.get("low")
    if high is not None and low is not None:
        where.check(high < low, lambda i: f"high {high[i]:g} below low {low[i]:g}")
    for column in ("open", "close"):
        if column not in numbers:
            continue
        price = numbers[column]
        if high is not None:
            where.check(price > high, lambda i, p=price, c=column: f"{c} {p[i]:g} above high "
                        f"{high[i]:g}")  # fmt: skip
        if low is not None:
            where.check(price < low, lambda i, p=price, c=column: f"{c} {p[i]:g} below low "
                        f"{low[i]:g}")  # fmt: skip
    up, down = values.get("limit_up"), values.get("limit_down")
    if up is not None and down is not None:
        where.check(up < down, lambda i: f"limit_up {up[i]:g} below limit_down {down[i]:g}")
    return values


def _optional_numeric(values: pd.Series, column: str, where: _Where) -> np.ndarray:
    """A column whose blank cells are no value (NaN); any other cell must be a finite
    number."""
    blank = _blank(values)
    if pd.api.types.is_bool_dtype(values) or values.dtype == object:  # true/false: no number
        truth = values.map(lambda v: isinstance(v, bool | np.bool_)).to_numpy(dtype=bool)
        where.check(truth, lambda i: f"{column!r} holds true/false, not numbers")
    parsed = pd.to_numeric(values.where(~blank), errors="coerce").to_numpy(dtype=float)
    text = values.astype(str).to_numpy()
    where.check(
        ~blank & ~np.isfinite(parsed),
        lambda i: f"unparsable value {cell_text(text[i])!r} in column {column!r}",
    )
    return parsed


def _numeric(values: pd.Series, column: str, where: _Where) -> np.ndarray:
    parsed = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    text = values.astype(str).to_numpy()
    where.check(
        ~np.isfinite(parsed),
        lambda i: f"unparsable value {cell_text(text[i])!r} in column {column!r}",
    )
    return parsed


def _check_order(table: pd.DataFrame, where: _Where) -> None:
    """Times strictly increasing within each instrument, in the order given."""
    t = pd.DatetimeIndex(table["time"]).as_unit("ns").asi8
    for instrument, rows in table.groupby("instrument", sort=False).indices.items():
        bad = np.flatnonzero(np.diff(t[rows]) <= 0)
        if len(bad):
            row, previous = int(rows[bad[0] + 1]), int(rows[bad[0]])
            where.fail(
                row,
                f"times of {instrument} not increasing "
                f"({table['time'].iloc[row]} after {table['time'].iloc[previous]})",
            )

"""The signal package table: its columns, its storage in a run folder, and validation of
tables written by other programs or by hand (RULES.md 3.4).

A generator writes into its own namespace of a run folder, ``signals/<DCE_i>.parquet``,
with the schema version and the generator's name and parameters in the file's metadata.
Any CSV or Parquet table with the required columns is accepted after validation; columns
it does not know are ignored.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from twotier.errors import DataError
from twotier.io import atomic_path
from twotier.market.calendar import TIMEZONE

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
INDICATOR_COLUMNS = (
    "ema_12",
    "ema_26",
    "ema_50",
    "macd",
    "macd_signal",
    "macd_hist",
    "rsi",
    "bb_upper",
    "bb_middle",
    "bb_lower",
    "bb_width",
    "atr",
    "volume_ema",
    "atr_base",
    "bbw_base",
)
CHECK_COLUMNS = tuple(
    f"{side}_{check}"
    for side in ("long", "short")
    for check in ("trend", "momentum", "rsi", "volume", "bollinger")
)
OPTIONAL_COLUMNS = ("open", "volume", *INDICATOR_COLUMNS, "trigger", *CHECK_COLUMNS)
PACKAGE_COLUMNS = (
    *REQUIRED_COLUMNS[:-1],
    "open",
    "close",
    "volume",
    *INDICATOR_COLUMNS,
    "trigger",
    *CHECK_COLUMNS,
)


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
    path = namespace_path(run_dir, instrument)
    table = pa.Table.from_pandas(packages, preserve_index=False)
    meta = {
        "schema_version": SCHEMA_VERSION,
        "kind": "signal_packages",
        "instrument": instrument,
        "generator": generator,
        "params": params or {},
    }
    table = table.replace_schema_metadata(
        {**(table.schema.metadata or {}), METADATA_KEY: json.dumps(meta, sort_keys=True).encode()}
    )
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression="zstd")
    return path


def package_metadata(path: str | Path) -> dict:
    """The twotier metadata of a package file written by ``write_packages`` ({} if none)."""
    meta = pq.read_schema(path).metadata or {}
    return json.loads(meta[METADATA_KEY]) if METADATA_KEY in meta else {}


def read_packages(path: str | Path, *, require_open: bool = False) -> pd.DataFrame:
    """Read and validate a package table (CSV or Parquet, one or more instruments)."""
    path = Path(path)
    source = str(path)
    if not path.exists():
        raise DataError(source, "file not found")
    if path.suffix.lower() in (".parquet", ".pq"):
        meta = package_metadata(path)
        if meta.get("schema_version", SCHEMA_VERSION) > SCHEMA_VERSION:
            raise DataError(
                source,
                f"package schema version {meta['schema_version']} is newer than this "
                f"twotier understands ({SCHEMA_VERSION})",
            )
        return validate_packages(pd.read_parquet(path), source, "row", 1, require_open)
    try:
        raw = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise DataError(source, "the file is empty") from None
    return validate_packages(raw, source, "line", 2, require_open)


def read_namespace(run_dir: str | Path) -> pd.DataFrame:
    """Every generator's packages in a run folder's ``signals/``, one table."""
    files = sorted((Path(run_dir) / "signals").glob("*.parquet"))
    if not files:
        raise DataError(str(Path(run_dir) / "signals"), "no signal packages found")
    return pd.concat([read_packages(f) for f in files], ignore_index=True)


def _fail(source: str, unit: str, first: int, rows: np.ndarray, problem: str) -> None:
    row = int(np.flatnonzero(rows)[0])
    raise DataError(source, f"{unit} {row + first}: {problem(row)}")


def validate_packages(
    raw: pd.DataFrame, source: str, unit: str = "row", first: int = 1, require_open: bool = False
) -> pd.DataFrame:
    """Check a package table and return it with known columns only, sorted by time."""
    if raw.empty:
        raise DataError(source, "no packages in the table")
    required = (*REQUIRED_COLUMNS, "open") if require_open else REQUIRED_COLUMNS
    missing = [c for c in required if c not in raw.columns]
    if missing:
        why = " (fill = 'next_open' needs the open price)" if missing == ["open"] else ""
        raise DataError(source, f"missing required column(s) {', '.join(missing)}{why}")
    table = raw[[c for c in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS) if c in raw.columns]].copy()

    times = _times(table["time"], source, unit, first)
    table["time"] = times
    table["instrument"] = table["instrument"].astype(str).str.strip()
    _check_empty(table, required, source, unit, first)
    numbers = {}
    for column in ("signal", "confidence", "signal_strength", "regime", "close", "open"):
        if column in table.columns:
            numbers[column] = _numeric(table[column], column, source, unit, first)
    sig = numbers["signal"]
    if not np.isin(sig, (-1, 0, 1)).all():
        _fail(
            source,
            unit,
            first,
            ~np.isin(sig, (-1, 0, 1)),
            lambda i: f"signal must be -1, 0 or 1, not {sig[i]:g}",
        )
    for column in ("confidence", "signal_strength"):
        v = numbers[column]
        if ((v < 0) | (v > 1)).any():
            _fail(
                source,
                unit,
                first,
                (v < 0) | (v > 1),
                lambda i, v=v, c=column: f"{c} must be in [0, 1], not {v[i]:g}",
            )
    reg = numbers["regime"]
    if not np.isin(reg, (1, 2, 3, 4)).all():
        _fail(
            source,
            unit,
            first,
            ~np.isin(reg, (1, 2, 3, 4)),
            lambda i: f"regime must be 1, 2, 3 or 4, not {reg[i]:g}",
        )
    for column in ("close", "open"):
        if column in numbers and (numbers[column] <= 0).any():
            v = numbers[column]
            _fail(
                source,
                unit,
                first,
                v <= 0,
                lambda i, v=v, c=column: f"{c} must be > 0, not {v[i]:g}",
            )
    _check_order(table, source, unit, first)
    table["signal"] = sig.astype(np.int8)
    table["regime"] = reg.astype(np.int8)
    for column in ("confidence", "signal_strength", "close", "open"):
        if column in numbers:
            table[column] = numbers[column]
    return table.sort_values(["time", "instrument"], kind="stable").reset_index(drop=True)


def _times(values: pd.Series, source: str, unit: str, first: int) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = pd.to_datetime(values)
    else:
        parsed = pd.to_datetime(values.astype(str).str.strip(), format="ISO8601", errors="coerce")
        if parsed.isna().any():
            text = values.astype(str).to_numpy()
            _fail(
                source,
                unit,
                first,
                parsed.isna().to_numpy(),
                lambda i: f"unparsable time {text[i]!r}",
            )
    if parsed.dt.tz is None:
        return parsed.dt.tz_localize(TIMEZONE)
    return parsed.dt.tz_convert(TIMEZONE)


def _check_empty(table: pd.DataFrame, required, source: str, unit: str, first: int) -> None:
    for column in required:
        empty = table[column].isna().to_numpy()
        if column == "instrument":
            empty = empty | (table[column] == "").to_numpy() | (table[column] == "nan").to_numpy()
        if empty.any():
            _fail(source, unit, first, empty, lambda i, c=column: f"empty value in column {c!r}")


def _numeric(values: pd.Series, column: str, source: str, unit: str, first: int) -> np.ndarray:
    parsed = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    bad = np.isnan(parsed) | np.isinf(parsed)
    if bad.any():
        text = values.astype(str).to_numpy()
        _fail(
            source, unit, first, bad, lambda i: f"unparsable value {text[i]!r} in column {column!r}"
        )
    return parsed


def _check_order(table: pd.DataFrame, source: str, unit: str, first: int) -> None:
    """Times strictly increasing within each instrument, in the order given."""
    t = pd.DatetimeIndex(table["time"]).as_unit("ns").asi8
    for instrument, rows in table.groupby("instrument", sort=False).indices.items():
        times = t[rows]
        bad = np.flatnonzero(np.diff(times) <= 0)
        if len(bad):
            row = int(rows[bad[0] + 1])
            stamp = table["time"].iloc[row]
            raise DataError(
                source,
                f"{unit} {row + first}: times of {instrument} not increasing "
                f"({stamp} after {table['time'].iloc[int(rows[bad[0]])]})",
            )

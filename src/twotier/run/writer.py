"""The run folder: everything a run produced, written so that re-running the same
configuration on the same data gives byte-identical data files.

    config.toml      the effective configuration
    signals/*.parquet each generator's packages (its namespace)
    trades.csv       one row per closed (or partly closed) position, and open ones
    fills.csv        every fill
    equity.csv       one row per step
    decisions.log    every entry, exit, fill, block, fallback and breaker
    summary.json     the headline figures (created_at is the only field that changes)

The report's files (metrics.json, the daily returns, report.html) are derived from these
and written beside them, before the folder is swapped in
(``twotier.report.run_report.write_run_folder``). Every text file is UTF-8 with ``\n``
line ends, on every system.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from twotier import __version__
from twotier.config.load import config_to_toml
from twotier.io import WritesBehind, writes_behind
from twotier.json_text import json_text
from twotier.run.folder import BACKTEST, Kind, write_folder
from twotier.run.result import BacktestResult
from twotier.run.signal_files import SignalFiles
from twotier.run.stamps import stamps

MONEY_COLUMNS = {
    "pv",
    "peak",
    "day_start",
    "gross_pnl",
    "fees",
    "net_pnl",
    "fee",
    "committed",
}
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
CHUNK_ROWS = 8192


def _csv_text(frame: pd.DataFrame) -> str:
    """The frame as CSV (see ``_csv_chunks``)."""
    return "".join(_csv_chunks(frame))


def _csv_chunks(frame: pd.DataFrame, rows: int = CHUNK_ROWS) -> Iterator[str]:
    """The frame as CSV text, ``rows`` rows at a time: times in exchange time without the
    zone, money to the cent, other floats with 10 significant digits, missing values
    empty. Every value becomes its text column by column (vectorised, or once per
    distinct value), text quoted as the csv module quotes it, and the rows are joined:
    several times faster than pandas' to_csv with a float_format or the csv module's
    writer. A chunk's strings are let go once written (ten years of equity.csv would
    otherwise hold 1.4 million of them, about 80 MB)."""
    yield _csv_line(frame.columns)
    for first in range(0, len(frame), rows):
        part = frame.iloc[first : first + rows]
        columns = [_csv_values(column, part[column]) for column in part.columns]
        if len(columns) == 1:  # the csv module quotes a lone empty field; keep its rows
            yield "".join(_csv_line(row) for row in zip(*columns, strict=True))
        else:
            yield "\n".join(map(",".join, zip(*columns, strict=True))) + "\n"


def _csv_line(values) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(values)
    return buffer.getvalue()


def _csv_values(name, series: pd.Series) -> list[str]:
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        return stamps(series.dt.tz_localize(None).to_numpy(), "s")
    if pd.api.types.is_datetime64_any_dtype(series):
        return stamps(series.to_numpy(), "D")
    if name in MONEY_COLUMNS or str(name).startswith("equity_"):
        return _floats(series.to_numpy(), "{:.2f}")
    if pd.api.types.is_float_dtype(series) and isinstance(series.dtype, np.dtype):
        return _floats(series.to_numpy(), "{:.10g}")
    if pd.api.types.is_integer_dtype(series) and isinstance(series.dtype, np.dtype):
        where, distinct = pd.factorize(series.to_numpy())
        return np.array([str(v) for v in distinct.tolist()], dtype=object)[where].tolist()
    # text, booleans, nullable columns: None, NaN and NA empty
    return [_quoted("" if pd.isna(v) else str(v)) for v in series.tolist()]


_SPECIAL = frozenset(',"\n\r')


def _quoted(text: str) -> str:
    """``text`` as the csv module writes a field: plain text as it is, and the csv module
    itself asked about any with a comma, a quote or a line break."""
    if _SPECIAL.isdisjoint(text):
        return text
    return _csv_line([text])[:-1]


def _floats(values: np.ndarray, spec: str) -> list[str]:
    """Floats formatted by ``spec`` (NaN empty; a negative zero, such as a ratio to a
    negative PV, as 0). A run's columns repeat few distinct values (a flat equity, a
    constant reserve), so each distinct bit pattern is formatted once. pandas' factorize
    finds them by hashing, three times faster than numpy's unique, which sorts."""
    bits = (np.asarray(values, dtype=np.float64) + 0.0).view(np.int64)  # -0.0 + 0.0 is 0.0
    where, distinct = pd.factorize(bits)
    text = [spec.format(v) if v == v else "" for v in distinct.view(np.float64).tolist()]
    return np.array(text, dtype=object)[where].tolist()


def write_run(
    result: BacktestResult,
    out_dir: str | Path,
    *,
    kind: Kind = BACKTEST,
    force: bool = False,
    option: str = "--out",
    signal_files: SignalFiles | None = None,
    derived: Callable[[Path, WritesBehind], None] | None = None,
) -> Path:
    """Write the run folder's data files and ``derived(folder, behind)`` (the files
    derived from them: ``twotier.report.run_report.write_run_folder``); an earlier run
    folder there is replaced only once the new one is complete, and nothing else ever is
    (``twotier.run.folder``). ``signal_files``: the packages' files, started before (as
    the CLI starts them when Tier-1 is done); used only if started from the result's own
    package tables.

    The files' bytes are written by the background thread while this one makes the next
    (``twotier.io.WritesBehind``): the signal files first (encoded during Tier-2), then
    the derived files, then the CSV files, whose formatting is the last work here, so
    that little is left to wait for."""

    def fill(folder: Path) -> None:
        with writes_behind() as behind:
            signals = _signal_files(result, signal_files)
            signals.write(folder, behind)
            if derived is not None:
                derived(folder, behind)
            _write_contents(result, folder, behind)

    return write_folder(out_dir, kind, fill, force=force, option=option)


def _signal_files(result: BacktestResult, started: SignalFiles | None) -> SignalFiles:
    """The run's signal files: those started, if started from its own package tables."""
    if started is not None and started.made_for(result.packages, result.config):
        return started
    signals = SignalFiles()
    signals.start(result.packages, result.config, result.package_origins)
    return signals


def _write_contents(result: BacktestResult, folder: Path, behind: WritesBehind) -> None:
    """The data files but the signal files."""
    config = result.config
    behind.write(folder / "config.toml", [config_to_toml(config)])
    behind.write(folder / "trades.csv", _csv_chunks(result.trades))
    behind.write(folder / "fills.csv", _csv_chunks(result.fills))
    behind.write(folder / "equity.csv", _csv_chunks(result.equity))
    lines = "".join(f"{text}\n" for text in result.decisions["text"])
    behind.write(folder / "decisions.log", [lines])
    summary = dict(result.summary)
    summary["warnings"] = list(result.warnings)
    summary["twotier_version"] = __version__
    summary["created_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    behind.write(folder / "summary.json", [json_text(summary, indent=2) + "\n"])

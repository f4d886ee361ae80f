"""The run folder: everything a run produced, written so that re-running the same
configuration on the same data gives byte-identical data files.

    config.toml      the effective configuration
    signals/*.parquet each generator's packages (its namespace)
    trades.csv       one row per closed (or partly closed) position, and open ones
    fills.csv        every fill
    equity.csv       one row per step
    decisions.log    every entry, exit, fill, block, fallback and breaker
    summary.json     the headline figures (created_at is the only field that changes)

The report's files (metrics.json, report.html) are derived from these and written after
them by ``twotier.report.run_report.write_analysis``.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from twotier import __version__
from twotier.config.load import config_to_toml
from twotier.run.folder import BACKTEST, Kind, write_folder
from twotier.run.result import BacktestResult
from twotier.tier1.package import write_packages

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


def _csv_text(frame: pd.DataFrame) -> str:
    """The frame as CSV: times in exchange time without the zone, money to the cent,
    other floats with 10 significant digits, missing values empty. Values are formatted
    here with Python's own formatting and written with the csv module: pandas' to_csv
    with a float_format does the same about five times slower."""
    columns = [_csv_values(column, frame[column]) for column in frame.columns]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(frame.columns)
    writer.writerows(zip(*columns, strict=True))
    return buffer.getvalue()


def _csv_values(name, series: pd.Series) -> list:
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        return series.dt.tz_localize(None).dt.strftime(TIME_FORMAT).fillna("").tolist()
    if pd.api.types.is_datetime64_any_dtype(series):
        return series.dt.strftime("%Y-%m-%d").fillna("").tolist()
    if name in MONEY_COLUMNS or str(name).startswith("equity_"):
        return [f"{v:.2f}" if v == v else "" for v in series.tolist()]
    if pd.api.types.is_float_dtype(series):
        return [f"{v:.10g}" if v == v else "" for v in series.tolist()]
    exact = pd.api.types.is_integer_dtype(series) or pd.api.types.is_bool_dtype(series)
    if exact and not series.hasnans:
        return series.tolist()
    return ["" if pd.isna(v) else v for v in series.tolist()]  # None, NaN, NA: empty


def write_run(
    result: BacktestResult,
    out_dir: str | Path,
    *,
    kind: Kind = BACKTEST,
    force: bool = False,
    option: str = "--out",
) -> Path:
    """Write the run folder's data files; an earlier run folder there is replaced only
    once the new one is complete, and nothing else ever is (``twotier.run.folder``)."""
    return write_folder(
        out_dir, kind, lambda folder: _write_contents(result, folder), force=force, option=option
    )


def _write_contents(result: BacktestResult, folder: Path) -> None:
    config = result.config
    (folder / "config.toml").write_text(config_to_toml(config), encoding="utf-8")
    for instrument, packages in result.packages.items():
        params = config.tier1_params(instrument).model_dump(mode="json")
        write_packages(packages, folder, instrument, config.generator_name(instrument), params)
    (folder / "trades.csv").write_text(_csv_text(result.trades), encoding="utf-8")
    (folder / "fills.csv").write_text(_csv_text(result.fills), encoding="utf-8")
    (folder / "equity.csv").write_text(_csv_text(result.equity), encoding="utf-8")
    lines = "".join(f"{text}\n" for text in result.decisions["text"])
    (folder / "decisions.log").write_text(lines, encoding="utf-8")
    summary = dict(result.summary)
    summary["warnings"] = list(result.warnings)
    summary["twotier_version"] = __version__
    summary["created_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    (folder / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")

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

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from twotier import __version__
from twotier.config.load import config_to_toml
from twotier.io import WritesBehind, writes_behind
from twotier.json_text import json_text
from twotier.run.csv_files import csv_parts
from twotier.run.folder import BACKTEST, Kind, write_folder
from twotier.run.result import BacktestResult
from twotier.run.signal_files import SignalFiles


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
    (``twotier.io.WritesBehind``), and so are the CSV files' rows (pyarrow's CSV writer):
    the signal files first (encoded during Tier-2), then the data files, then the
    derived files, while the report is made."""

    def fill(folder: Path) -> None:
        with writes_behind() as behind:
            signals = _signal_files(result, signal_files)
            signals.write(folder, behind)
            _write_contents(result, folder, behind)
            if derived is not None:
                derived(folder, behind)

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
    behind.write(folder / "config.toml", config_to_toml(config))
    behind.write(folder / "trades.csv", csv_parts(result.trades))
    behind.write(folder / "fills.csv", csv_parts(result.fills))
    behind.write(folder / "equity.csv", csv_parts(result.equity))
    lines = "".join(f"{text}\n" for text in result.decisions["text"])
    behind.write(folder / "decisions.log", lines)
    summary = dict(result.summary)
    summary["warnings"] = list(result.warnings)
    summary["twotier_version"] = __version__
    summary["created_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    behind.write(folder / "summary.json", json_text(summary, indent=2) + "\n")

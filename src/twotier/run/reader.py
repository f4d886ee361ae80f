"""A finished run folder read back into a ``BacktestResult``: times in Asia/Shanghai,
numbers as the files hold them (money to the cent, other floats to 10 significant digits,
as the writer writes them), so that the report comes out the same from a folder as from
a run in memory, and the metrics to about the 10th significant digit (the exposure and
leverage figures are averaged from the rounded columns). The tables' types follow the
files (a contract never given is NaN, not None; trading days are datetime64)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd

from twotier.config.load import load_config
from twotier.errors import DataError, TwotierError
from twotier.market.calendar import TIMEZONE
from twotier.run.csv_files import TIME_FORMAT
from twotier.run.result import FILL_COLUMNS, TRADE_COLUMNS, BacktestResult

# Columns a table must have to be read back: the equity's that the metrics read, and
# every column the writer writes of trades and fills (the report reads nearly all).
REQUIRED_EQUITY = ("time", "trading_day", "pv", "exposure", "leverage", "active_positions")
REQUIRED_TRADES = TRADE_COLUMNS
REQUIRED_FILLS = FILL_COLUMNS
# Whole numbers in every row; numbers, or empty where a row has none (an open trade's exit).
TRADE_COUNTS = ("trade_id", "basket", "contracts")
TRADE_NUMBERS = (
    "entry_price", "exit_price", "conviction", "size_fraction", "leverage",
    "effective_leverage", "committed", "stop", "target", "return_pct", "gross_pnl", "fees",
    "net_pnl",
)  # fmt: skip
TRADE_TEXTS = ("instrument", "side", "reason")
FILL_COUNTS = ("basket", "contracts")
FILL_TEXTS = ("instrument", "side", "reason")
FILL_NUMBERS = ("price", "slippage", "fee")
_LINE = re.compile(
    r"^\[(?P<time>\d{4}-\d\d-\d\d \d\d:\d\d)\] (?P<word>[A-Z]+)"
    r"(?: basket (?P<basket>\d+))?(?: \[(?P<tag>[^\]]*)\])?(?P<rest>.*)$"
)
_ENTRY_WORDS = {"LONG", "SHORT"}


class RunFolderError(DataError):
    """A run folder that is missing, incomplete or damaged."""


def load_run(folder: str | Path) -> BacktestResult:
    """Read a run folder written by ``write_run`` (``twotier backtest --out``)."""
    folder = Path(folder)
    if not folder.is_dir():
        what = "is a file, not a run folder" if folder.exists() else "no such run folder"
        raise RunFolderError(str(folder), what)
    config = _config(folder)
    equity = read_equity(folder / "equity.csv", len(config.portfolio.baskets))
    trades, fills = read_trades(folder / "trades.csv"), read_fills(folder / "fills.csv")
    for name, table in (("trades.csv", trades), ("fills.csv", fills)):
        _own_baskets(table, config.instruments, folder / name)
    result = BacktestResult(
        config=config,
        packages=read_signals(folder, config.instruments),
        trades=trades,
        fills=fills,
        equity=equity,
        decisions=read_decisions(folder / "decisions.log"),
        summary=read_summary(folder / "summary.json"),
    )
    result.warnings = list(result.summary.get("warnings", []))
    return result


def _config(folder: Path):
    path = _existing(folder / "config.toml")
    try:
        # Its files as the run named them: absolute, or (run folders written before
        # twotier made them absolute) from the folder twotier ran in.
        return load_config(path, files_from=Path.cwd())
    except TwotierError as exc:
        raise RunFolderError(str(path), f"configuration not readable: {exc}") from None


def _existing(path: Path) -> Path:
    if not path.is_file():
        raise RunFolderError(str(path.parent), f"{path.name} is missing (not a complete run)")
    return path


def read_summary(path: Path) -> dict:
    try:
        summary = json.loads(_existing(path).read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RunFolderError(str(path), f"not valid JSON ({exc})") from None
    if not isinstance(summary, dict) or "initial_capital" not in summary:
        raise RunFolderError(str(path), "not a run summary (no initial_capital)")
    return summary


def read_table(path: Path, required: tuple[str, ...]) -> pd.DataFrame:
    """A CSV file of the run folder as written (no types converted), with its columns
    checked."""
    try:
        frame = pd.read_csv(_existing(path), keep_default_na=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise RunFolderError(str(path), f"not a readable CSV table ({exc})") from None
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise RunFolderError(str(path), f"columns missing: {', '.join(missing)}")
    return frame


def _times(frame: pd.DataFrame, columns, path: Path) -> None:
    for column in columns:
        if column not in frame.columns:
            continue
        try:
            parsed = pd.to_datetime(frame[column], format=TIME_FORMAT)
        except (ValueError, TypeError) as exc:
            raise RunFolderError(str(path), f"column {column}: {exc}") from None
        frame[column] = parsed.dt.tz_localize(TIMEZONE)


def _days(frame: pd.DataFrame, column: str, path: Path) -> None:
    try:
        frame[column] = pd.to_datetime(frame[column], format="%Y-%m-%d").astype("datetime64[s]")
    except (ValueError, TypeError) as exc:
        raise RunFolderError(str(path), f"column {column}: {exc}") from None


def _numbers(
    frame: pd.DataFrame,
    columns,
    path: Path,
    *,
    whole: bool = False,
    blanks: bool = False,
    infinite: bool = False,
) -> None:
    """Every value of ``columns`` a finite number (``whole``: a whole number; ``blanks``:
    or empty; ``infinite``: or +inf): a truncated or edited file is caught here, not in
    the report."""
    for column in columns:
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = values.isna().to_numpy()
        if blanks:
            bad = bad & frame[column].notna().to_numpy()
        floats = values.to_numpy(dtype=float)  # the writer writes no other infinity
        bad = bad | (np.isneginf(floats) if infinite else np.isinf(floats))
        what = "not a number"
        if whole and not bad.any():
            bad, what = (values.notna() & (values % 1 != 0)).to_numpy(), "not a whole number"
        _refuse_first(bad, path, f"column {column}: {what}")


def _texts(frame: pd.DataFrame, columns, path: Path) -> None:
    """Every cell of ``columns`` written (the writer never leaves them empty)."""
    for column in columns:
        _refuse_first(frame[column].isna().to_numpy(), path, f"column {column}: empty")


def _refuse_first(bad: np.ndarray, path: Path, problem: str) -> None:
    """The first bad row of a table, refused with its line (the header is line 1)."""
    if bad.any():
        raise RunFolderError(str(path), problem, line=int(bad.argmax()) + 2)


def _typed_if_empty(frame: pd.DataFrame, counts, numbers) -> None:
    """A table of no rows (a run without a trade) read as the writer's types: pandas
    reads a header alone as text columns, which the analysis cannot join on."""
    if frame.empty:
        for column in counts:
            frame[column] = frame[column].astype(np.int64)
        for column in numbers:
            frame[column] = frame[column].astype(np.float64)


def _own_baskets(frame: pd.DataFrame, instruments: list[str], path: Path) -> None:
    """Rows of the run's baskets, each with its basket's instrument (config.toml's)."""
    basket = frame["basket"].to_numpy()
    known = (basket >= 0) & (basket < len(instruments))
    _refuse_first(~known, path, f"basket not one of the run's 0 to {len(instruments) - 1}")
    expected = np.asarray(instruments, dtype=object)[basket]
    wrong = frame["instrument"].to_numpy(dtype=object) != expected
    _refuse_first(wrong, path, "instrument not its basket's (config.toml's portfolio.baskets)")


def _rising(frame: pd.DataFrame, path: Path) -> None:
    """One row per step: times rising (a row repeated or moved is caught here)."""
    ns = pd.DatetimeIndex(frame["time"]).asi8
    back = np.flatnonzero(np.diff(ns) <= 0)
    if back.size:
        line = int(back[0]) + 3  # the second of the two rows; the header is line 1
        raise RunFolderError(str(path), "time not after the row before's", line=line)


def read_equity(path: Path, baskets: int) -> pd.DataFrame:
    baskets_columns = tuple(f"{p}_{i}" for i in range(baskets) for p in ("equity", "position"))
    frame = read_table(path, (*REQUIRED_EQUITY, *baskets_columns))
    if frame.empty:
        raise RunFolderError(str(path), "no rows")
    numeric = [c for c in frame.columns if c not in ("time", "trading_day", "risk_degree")]
    _numbers(frame, numeric, path)
    if "risk_degree" in frame.columns:  # infinite where PV <= 0 (RULES.md 10.6 item 12)
        _numbers(frame, ["risk_degree"], path, infinite=True)
    _times(frame, ["time"], path)
    _rising(frame, path)
    _days(frame, "trading_day", path)
    return frame


def read_trades(path: Path) -> pd.DataFrame:
    frame = read_table(path, REQUIRED_TRADES)
    _numbers(frame, TRADE_COUNTS, path, whole=True)
    _numbers(frame, TRADE_NUMBERS, path, blanks=True)
    _texts(frame, TRADE_TEXTS, path)
    _typed_if_empty(frame, TRADE_COUNTS, TRADE_NUMBERS)
    _times(frame, ["entry_time", "exit_time", "exit_decided_at"], path)
    return frame


def read_fills(path: Path) -> pd.DataFrame:
    frame = read_table(path, REQUIRED_FILLS)
    _numbers(frame, FILL_COUNTS, path, whole=True)
    _numbers(frame, FILL_NUMBERS, path)
    _texts(frame, FILL_TEXTS, path)
    _typed_if_empty(frame, FILL_COUNTS, FILL_NUMBERS)
    _times(frame, ["time", "decided_at"], path)
    if "trading_day" in frame.columns:
        _days(frame, "trading_day", path)
    return frame


def read_signals(folder: Path, instruments: list[str]) -> dict[str, pd.DataFrame]:
    """The packages of each basket instrument that the folder holds (a run on a package
    table may have none)."""
    out = {}
    for instrument in instruments:
        path = folder / "signals" / f"{instrument.replace('/', '_')}.parquet"
        if not path.is_file():
            continue
        try:
            out[instrument] = pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises several types for a damaged file
            raise RunFolderError(str(path), f"not a readable Parquet file ({exc})") from None
    return out


def read_decisions(path: Path) -> pd.DataFrame:
    """decisions.log back into time, kind, basket, reason and text."""
    rows = [_decision(line) for line in _existing(path).read_text("utf-8").splitlines() if line]
    frame = pd.DataFrame(rows, columns=["time", "kind", "basket", "reason", "text"])
    frame["time"] = pd.to_datetime(frame["time"], format="%Y-%m-%d %H:%M").dt.tz_localize(TIMEZONE)
    frame["basket"] = frame["basket"].astype(float)
    return frame


def _decision(line: str) -> tuple:
    match = _LINE.match(line)
    if match is None:
        return (None, "", None, "", line)
    word, tag, rest = match["word"], match["tag"] or "", match["rest"]
    basket = int(match["basket"]) if match["basket"] is not None else None
    if word in _ENTRY_WORDS:
        kind, reason = "ENTRY", tag
    elif word == "BREAKER":
        kind, reason = word, rest.strip().split(":", 1)[0]
    elif word == "FILL":
        kind, reason = word, rest.rsplit(", ", 1)[-1]
    elif word == "ROLL":
        kind, reason = word, "roll"
    else:
        kind, reason = word, tag
    return (match["time"], kind, basket, reason, line)

"""A run folder edited or damaged after it was written is refused when it is read back
(``twotier report``, ``compare``, ``trades``), with the file, the line and the problem;
never an internal error from the metrics or the report halfway through."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from test_report_run import shared_run
from twotier.report.run_report import write_analysis
from twotier.run.reader import RunFolderError, load_run


def edited(tmp_path: Path, name: str, edit: Callable[[list[str]], list[str]]) -> Path:
    folder = tmp_path / "run"
    shutil.copytree(shared_run().folder, folder)
    path = folder / name
    path.write_text("\n".join(edit(path.read_text().splitlines())) + "\n")
    return folder


def cell(lines: list[str], column: str, row: int, value: str) -> list[str]:
    """``lines`` with the cell of ``column`` on data row ``row`` (1 = line 2) replaced."""
    header = lines[0].split(",")
    cells = lines[row].split(",")
    cells[header.index(column)] = value
    return [*lines[:row], ",".join(cells), *lines[row + 1 :]]


def refusal(folder: Path) -> RunFolderError:
    with pytest.raises(RunFolderError) as info:
        write_analysis(load_run(folder), folder)
    return info.value


@pytest.mark.parametrize(
    ("name", "column", "value", "problem"),
    [
        ("trades.csv", "net_pnl", "x", "column net_pnl: not a number"),
        ("trades.csv", "gross_pnl", "inf", "column gross_pnl: not a number"),
        ("trades.csv", "contracts", "1.5", "column contracts: not a whole number"),
        ("trades.csv", "trade_id", "", "column trade_id: not a number"),
        ("fills.csv", "price", "", "column price: not a number"),
        ("fills.csv", "basket", "x", "column basket: not a number"),
        ("equity.csv", "pv", "1e400", "column pv: not a number"),
        ("trades.csv", "reason", "", "column reason: empty"),
        ("fills.csv", "side", "", "column side: empty"),
        # Read silently before: figures of a basket or instrument the run never had.
        ("trades.csv", "basket", "7", "basket not one of the run's 0 to 2"),
        ("fills.csv", "basket", "-1", "basket not one of the run's 0 to 2"),
        (
            "trades.csv",
            "instrument",
            "DCE/zz",
            "instrument not its basket's (config.toml's portfolio.baskets)",
        ),
    ],
)
def test_an_edited_cell_is_refused_with_its_file_and_line(tmp_path, name, column, value, problem):
    folder = edited(tmp_path, name, lambda lines: cell(lines, column, 3, value))
    error = refusal(folder)
    assert (Path(error.source).name, error.line, error.problem) == (name, 4, problem)


def test_an_open_trades_empty_exit_price_is_still_read(tmp_path):
    folder = edited(tmp_path, "trades.csv", lambda lines: cell(lines, "exit_price", 3, ""))
    assert load_run(folder).trades["exit_price"].isna().sum() >= 1


def test_a_column_the_report_reads_is_required(tmp_path):
    def without_side(lines: list[str]) -> list[str]:
        at = lines[0].split(",").index("side")
        return [",".join(c for k, c in enumerate(line.split(",")) if k != at) for line in lines]

    error = refusal(edited(tmp_path, "trades.csv", without_side))
    assert error.problem == "columns missing: side"


@pytest.mark.parametrize("how", ["repeated", "swapped"])
def test_equity_rows_repeated_or_out_of_order_are_refused(tmp_path, how):
    def edit(lines: list[str]) -> list[str]:
        if how == "repeated":
            return [*lines[:5], lines[4], *lines[5:]]
        return [*lines[:4], lines[5], lines[4], *lines[6:]]

    error = refusal(edited(tmp_path, "equity.csv", edit))
    assert (error.line, error.problem) == (6, "time not after the row before's")


def test_the_folder_of_a_run_without_a_trade_reads_back_and_its_report_is_rebuilt(tmp_path):
    # trades.csv and fills.csv are a header alone; pandas reads such a table as text
    # columns, which the report's join on trade_id refused (an internal error).
    folder = tmp_path / "run"
    shutil.copytree(shared_run().folder, folder)
    for name in ("trades.csv", "fills.csv"):
        path = folder / name
        path.write_text(path.read_text().splitlines()[0] + "\n")
    again = load_run(folder)
    assert again.trades.empty and again.trades["trade_id"].dtype == "int64"
    write_analysis(again, folder)
    assert (folder / "report.html").stat().st_size > 0

"""The program reads the bar files its command line names while it imports the rest; the
loader takes a table read ahead only where it would have read the very same, and reads
the file itself otherwise (a file changed since, another header, a column mapping)."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pyarrow as pa
import pytest

from twotier.cli.program import bar_files_named
from twotier.market import plain_csv
from twotier.market.bars import read_bars
from twotier.market.plain_csv import read_ahead, read_plain

NAMES = ["time", "open", "high", "low", "close", "volume"]
NUMERIC = {"open", "high", "low", "close", "volume"}
ROWS = "2024-01-02 09:00:00,3000,3010,2990,3005,120\n2024-01-02 09:15:00,3005,3020,3000,3015,80\n"


@pytest.fixture(autouse=True)
def nothing_ahead():
    plain_csv._ahead.clear()
    yield
    plain_csv._ahead.clear()


def bar_file(path: Path, rows: str = ROWS) -> Path:
    path.write_text(",".join(NAMES) + "\n" + rows, encoding="utf-8")
    return path


def test_the_bar_files_of_a_backtest_or_signals_command_line_are_named():
    args = ["--debug", "backtest", "--bars", "DCE/i=a.csv", "--out", "x", "--bars=SHFE/cu=b.gz"]
    assert bar_files_named(args) == [Path("a.csv"), Path("b.gz")]
    assert bar_files_named(["signals", "--bars", "DCE/m=c.csv"]) == [Path("c.csv")]


@pytest.mark.parametrize(
    "args",
    [
        ["data", "check", "--bars", "DCE/i=a.csv"],  # another command
        ["backtest", "--bars"],  # no value
        ["backtest", "--bars", "a.csv"],  # no instrument: typer's error to give
        ["backtest", "--bars=DCE/i="],
        [],
    ],
)
def test_nothing_is_named_where_no_backtest_names_an_instruments_file(args):
    assert bar_files_named(args) == []


def test_a_file_read_ahead_is_the_table_the_loader_reads(tmp_path):
    path = bar_file(tmp_path / "bars.csv")
    read_ahead(path)
    assert len(plain_csv._ahead) == 1
    ahead = read_plain(path, NAMES, NUMERIC)
    assert plain_csv._ahead == {}  # taken
    assert ahead.equals(read_plain(path, NAMES, NUMERIC))
    assert ahead.schema.field("open").type == pa.float64()


def test_a_gzipped_file_is_read_ahead_too(tmp_path):
    path = tmp_path / "bars.csv.gz"
    path.write_bytes(gzip.compress((",".join(NAMES) + "\n" + ROWS).encode()))
    read_ahead(path)
    assert len(plain_csv._ahead) == 1
    assert read_plain(path, NAMES, NUMERIC).num_rows == 2


def test_a_file_changed_after_it_was_read_ahead_is_read_again(tmp_path):
    path = bar_file(tmp_path / "bars.csv")
    read_ahead(path)
    plain_csv._ahead[os.path.realpath(path)][1].result()  # read before the change
    bar_file(path, ROWS + "2024-01-02 09:30:00,3015,3030,3010,3025,60\n")
    assert read_plain(path, NAMES, NUMERIC).num_rows == 3


def test_a_table_read_ahead_with_other_numeric_columns_is_not_taken(tmp_path):
    # As with a column mapping the guess does not know: volume read as text here.
    path = bar_file(tmp_path / "bars.csv")
    read_ahead(path)
    read = read_plain(path, NAMES, NUMERIC - {"volume"})
    assert read.schema.field("volume").type == pa.string()
    assert plain_csv._ahead == {}  # dropped


@pytest.mark.parametrize(
    "header", ["when,open,high,low,close,volume", "time,close,last,high,low,open,volume"]
)
def test_a_header_the_loader_would_refuse_or_not_resolve_is_not_read_ahead(tmp_path, header):
    path = tmp_path / "bars.csv"
    path.write_text(header + "\n", encoding="utf-8")
    read_ahead(path)
    assert plain_csv._ahead == {}


def test_a_missing_or_compressed_file_is_not_read_ahead(tmp_path):
    read_ahead(tmp_path / "missing.csv")
    (tmp_path / "bars.csv.zst").write_bytes(b"\x28\xb5\x2f\xfd")
    read_ahead(tmp_path / "bars.csv.zst")
    assert plain_csv._ahead == {}


def test_bars_loaded_from_a_file_read_ahead_are_the_bars_loaded_without(tmp_path):
    path = bar_file(tmp_path / "bars.csv")
    alone = read_bars(path, "DCE/i").frame
    read_ahead(path)
    assert read_bars(path, "DCE/i").frame.equals(alone)
    assert plain_csv._ahead == {}


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_named_pipe_is_not_read_ahead_nor_waited_on(tmp_path):
    import threading

    pipe = tmp_path / "bars.csv"
    os.mkfifo(pipe)
    done = threading.Thread(target=read_ahead, args=(pipe,), daemon=True)
    done.start()
    done.join(timeout=5)  # opening a pipe without a writer would wait for ever
    assert not done.is_alive()
    assert plain_csv._ahead == {}

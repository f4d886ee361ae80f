"""``twotier data check`` and ``twotier data resample`` through a real subprocess, and the
entry point in-process for the cases a subprocess adds nothing to.

Each subprocess starts Python and imports the whole CLI (a second or more), so they are
all started together on a thread pool as soon as pytest has collected this module (see
``pytest_collection_finish`` in conftest.py); they run while the other tests do, and each
test here reads its own result."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from helpers.cli import Runs
from twotier.market.bars import read_bars

HEADER = "datetime,open,high,low,close,volume"
BAD_ROWS = [
    HEADER,
    "2024-03-05 09:05:00,800,801,799,800.5,10",
    "2024-03-05 09:10:00,800.5,799,800,801,12",  # high below low
    "2024-03-05 09:15:00,801,803,800.5,802,9",
]
REAL = {
    "iron": "DCE.i.HOT.m5.csv",
    "meal": "DCE.m.HOT.m5.csv",
    "cu2202": "SHFE.cu2202.m1.csv",
    "copper": "SHFE.cu.HOT.m1.csv.gz",
}


_RUNS: list[Runs] = []


def start_subprocesses(real_dir: Path, real: bool = True) -> Runs:
    """Start every subprocess of this module once; the real-data ones only if ``real``
    and the real files are present."""
    if _RUNS:
        return _RUNS[0]
    runs = Runs()
    _RUNS.append(runs)
    if real and all((real_dir / name).is_file() for name in REAL.values()):
        iron, meal, cu2202, copper = (real_dir / REAL[k] for k in REAL)
        check = ("data", "check")
        # The slowest first.
        runs.start("copper_drop", *check, copper, "-i", "SHFE/cu", "--label", "end",
                   "--on-bad-bar", "drop", "--json")  # fmt: skip
        runs.start("copper_refused", *check, copper, "-i", "SHFE/cu", "--label", "end")
        runs.start("iron", *check, iron, "--instrument", "DCE/i", "--label", "end", "--json")
        runs.start("meal", *check, meal, "--instrument", "DCE/m", "--label", "end", "--json")
        runs.start("cu2202", *check, cu2202, "-i", "SHFE/cu", "--label", "end", "--json")
        runs.start("resample", "data", "resample", iron, "--instrument", "DCE/i", "--to",
                   "15min", "--label", "end", "--out", runs.folder / "out.parquet")  # fmt: skip
    bars = runs.folder / "bars.csv"
    bars.write_text("\n".join(BAD_ROWS) + "\n")
    runs.start("help", "--help")
    runs.start("unknown_instrument", "data", "check", bars, "--instrument", "DCE/x")
    runs.start("debug", "--debug", "data", "check", bars, "--instrument", "DCE/x")
    return runs


@pytest.fixture(scope="module")
def small_runs(real_data_location: Path):
    """The subprocess runs (started here unless conftest.py started them already)."""
    runs = start_subprocesses(real_data_location)
    yield runs
    runs.close()
    _RUNS.clear()


@pytest.fixture(scope="module")
def real_runs(small_runs: Runs, real_data_dir: Path) -> Runs:
    """The subprocess runs on the real files (skipped where they are absent)."""
    if "iron" not in small_runs:
        pytest.skip(f"a real data file of {sorted(REAL.values())} is missing in {real_data_dir}")
    return small_runs


def assert_clean_error(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode != 0
    assert result.stderr.startswith("error: ")
    assert "Traceback" not in result.stderr


def test_help_works_in_a_subprocess(small_runs):
    result = small_runs["help"]
    assert result.returncode == 0, result.stderr
    assert "Usage: twotier" in result.stdout
    assert "data" in result.stdout


def test_unknown_instrument_is_a_clear_error_listing_known_ones(small_runs):
    result = small_runs["unknown_instrument"]
    assert_clean_error(result)
    assert "unknown instrument 'DCE/x'; known instruments: DCE/i, DCE/m, SHFE/cu" in result.stderr


def test_debug_shows_the_traceback(small_runs):
    result = small_runs["debug"]
    assert result.returncode != 0
    assert "Traceback (most recent call last)" in result.stderr
    assert "UnknownInstrumentError" in result.stderr


def _command_paths(command, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = [path]
    for name, sub in (getattr(command, "commands", None) or {}).items():  # a group
        paths += _command_paths(sub, (*path, name))
    return paths


def test_help_works_on_every_command_of_the_app():
    from twotier.cli.main import app

    paths = _command_paths(typer.main.get_command(app))
    assert ("data", "check") in paths and ("data", "resample") in paths
    runner = CliRunner()
    for path in paths:
        result = runner.invoke(app, [*path, "--help"], prog_name="twotier")
        assert result.exit_code == 0, (path, result.output)
        assert "Usage: twotier" in result.output, path


@pytest.mark.parametrize(
    ("command", "options"),
    [
        ("check", ["--instrument", "--label", "--on-bad-bar", "--json", "--bar-minutes"]),
        ("resample", ["--instrument", "--to", "--out", "--label", "--on-bad-bar", "--calendar"]),
    ],
)
def test_data_command_help_lists_its_options(command, options):
    from twotier.cli.main import app

    result = CliRunner().invoke(
        app, ["data", command, "--help"], prog_name="twotier", env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0
    for option in options:
        assert option in result.output


# In-process runs of the entry point (the same code as the console script, no process
# start-up): errors are one line on stderr and exit code 1.


def run_in_process(args: list[str | Path], capsys) -> tuple[int, str, str]:
    from twotier.cli.main import run

    with pytest.raises(SystemExit) as info:
        run([str(a) for a in args])
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


def test_check_refuses_a_bad_bar_naming_its_line_without_traceback(tmp_path, capsys):
    path = tmp_path / "bars.csv"
    path.write_text("\n".join(BAD_ROWS) + "\n")
    code, _, err = run_in_process(["data", "check", path, "-i", "DCE/i", "--label", "end"], capsys)
    assert code == 1
    assert err.startswith(f"error: {path}: 1 bad bar(s)")
    assert "line 3: high 799 below low 800" in err
    assert "Traceback" not in err


def test_check_with_drop_prints_a_table_reporting_the_dropped_line(tmp_path, capsys):
    path = tmp_path / "bars.csv"
    path.write_text("\n".join(BAD_ROWS) + "\n")
    args = ["data", "check", path, "-i", "DCE/i", "--label", "end", "--on-bad-bar", "drop"]
    code, out, err = run_in_process(args, capsys)
    assert code == 0, err
    assert "dropped line 3: high 799 below low 800" in out
    assert "trading days" in out and "5-minute bars" in out


def test_check_json_reports_rows_days_and_dropped_lines(tmp_path, capsys):
    path = tmp_path / "bars.csv"
    path.write_text("\n".join(BAD_ROWS) + "\n")
    args = ["data", "check", path, "-i", "DCE/i", "--label", "end", "--on-bad-bar", "drop"]
    code, out, _ = run_in_process([*args, "--json"], capsys)
    summary = json.loads(out)
    assert code == 0
    assert (summary["rows"], summary["trading_days"], summary["bar_minutes"]) == (2, 1, 5)
    assert summary["dropped"] == [{"line": 3, "problem": "high 799 below low 800"}]


def test_check_uses_a_calendar_file(tmp_path, capsys):
    path = tmp_path / "bars.csv"
    path.write_text("\n".join(BAD_ROWS) + "\n")
    calendar = tmp_path / "calendar.toml"
    calendar.write_text('holidays = ["2024-03-05"]\n')
    args = ["data", "check", path, "-i", "DCE/i", "--label", "end", "--calendar", calendar]
    code, _, err = run_in_process(args, capsys)
    assert code == 1
    assert "line 2: bar 2024-03-05 09:05:00 (end) is not in a trading session" in err


def test_missing_file_is_a_clear_error(tmp_path, capsys):
    code, _, err = run_in_process(["data", "check", tmp_path / "nope.csv", "-i", "DCE/i"], capsys)
    assert code == 1
    assert err.strip() == f"error: {tmp_path / 'nope.csv'}: file not found"


@pytest.mark.parametrize("to", ["15m", "0min", "min", "\u00b2min", "0015min"])
def test_resample_refuses_a_target_that_is_not_minutes(tmp_path, capsys, to):
    args = ["data", "resample", tmp_path / "x.csv", "-i", "DCE/i", "--to", to, "--out", "x.pq"]
    code, _, err = run_in_process(args, capsys)
    assert code == 1
    assert f"--to expects minutes such as 15min, got {to!r}" in err


def test_resample_writes_csv_when_the_output_ends_in_csv(tmp_path, capsys):
    path = tmp_path / "bars.csv"
    path.write_text("\n".join([HEADER, *(BAD_ROWS[1:2] + BAD_ROWS[3:])]) + "\n")
    out_file = tmp_path / "out.csv"
    args = ["data", "resample", path, "-i", "DCE/i", "--label", "end", "--bar-minutes", "5"]
    args += ["--out", out_file]
    code, _, err = run_in_process(args, capsys)
    assert code == 0, err
    table = pd.read_csv(out_file)
    assert table["volume"].tolist() == [19.0]  # 09:00 and 09:10 starts, one 15-minute bar
    assert table["time"].tolist() == ["2024-03-05 09:00:00"]


def test_resample_writes_over_its_own_output_never_a_users_file(tmp_path, capsys):
    path = tmp_path / "bars.csv"
    path.write_text("\n".join([HEADER, *(BAD_ROWS[1:2] + BAD_ROWS[3:])]) + "\n")
    resample = ["data", "resample", path, "-i", "DCE/i", "--label", "end", "--bar-minutes", "5"]
    for name in ("out.csv", "out.csv.gz", "out.parquet"):  # the second run replaces the first
        for _ in range(2):
            code, _, err = run_in_process([*resample, "--out", tmp_path / name], capsys)
            assert code == 0, err
    theirs = tmp_path / "theirs.csv"
    theirs.write_text("time,price\n2024-03-05 09:00:00,800\n")
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    vendor = tmp_path / "vendor.csv"  # twotier's columns, not in the order it writes them
    vendor.write_text("trading_day,time,open,high,low,close\n2024-03-05,09:00,1,1,1,1\n")
    refusals = {
        path: "a file this command reads",
        theirs: "a file twotier did not write is there (not a bar file of twotier's)",
        vendor: "a file twotier did not write is there (not a bar file of twotier's)",
        folder: "a folder; give the file to write",
    }
    refusals[tmp_path / "bars.json"] = "a bar file is written as .csv or .csv.gz or .parquet"
    for out, reason in refusals.items():
        code, _, err = run_in_process([*resample, "--out", out], capsys)
        assert code == 1 and f"--out {out}: {reason}" in err
    assert theirs.read_text() == "time,price\n2024-03-05 09:00:00,800\n"
    (tmp_path / "link.csv").symlink_to(tmp_path / "out.csv")
    code, _, err = run_in_process([*resample, "--out", tmp_path / "link.csv"], capsys)
    assert code == 1 and "a symbolic link; give the file itself" in err


def test_resample_never_replaces_a_pipe_or_device_with_a_file(tmp_path, capsys):
    # Run as root, "--out /dev/null" replaced the device with a file (a pipe stands in).
    path = tmp_path / "bars.csv"
    path.write_text("\n".join([HEADER, *(BAD_ROWS[1:2] + BAD_ROWS[3:])]) + "\n")
    pipe = tmp_path / "pipe.csv"
    os.mkfifo(pipe)
    args = ["data", "resample", path, "-i", "DCE/i", "--label", "end", "--out", pipe]
    code, _, err = run_in_process(args, capsys)
    assert code == 1 and f"--out {pipe}: not a regular file (a device or a pipe)" in err
    assert pipe.is_fifo()


@pytest.mark.parametrize(
    ("run", "rows", "minutes", "days", "first_day", "last_day"),
    [
        ("iron", 15_696, 5, 252, "2019-08-01", "2020-08-13"),
        ("meal", 6_942, 5, 118, "2020-02-24", "2020-08-13"),
        ("cu2202", 11_610, 1, 26, "2022-01-04", "2022-02-15"),
        ("copper_drop", 124_174, 1, 272, "2021-01-04", "2022-02-18"),
    ],
)
def test_check_summarises_each_real_file(real_runs, run, rows, minutes, days, first_day, last_day):
    result = real_runs[run]
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["rows"] == rows
    assert summary["bar_minutes"] == minutes
    assert summary["trading_days"] == days
    assert summary["calendar_trading_days"] == days
    assert summary["missing_days"] == []
    assert (summary["first_trading_day"], summary["last_trading_day"]) == (first_day, last_day)
    assert sum(s["bars"] for s in summary["sessions"]) == rows


def test_check_of_iron_ore_sees_no_gaps_and_every_day_session_complete(real_runs):
    summary = json.loads(real_runs["iron"].stdout)
    assert (summary["intraday_gaps"], summary["incomplete_days"]) == (0, 0)
    assert summary["first_bar"] == "2019-07-31 21:00:00+08:00"
    assert summary["dropped"] == []


def test_check_of_soybean_meal_knows_the_nights_suspended_that_spring(real_runs):
    # The file has no night before 2020-05-06: the shipped calendar's 2020 suspension.
    summary = json.loads(real_runs["meal"].stdout)
    night = [s for s in summary["sessions"] if s["night"]]
    assert night[0]["days"] < summary["trading_days"]
    assert not any("no night session" in w for w in summary["warnings"])


def test_check_of_iron_ore_misses_only_the_night_of_2019_12_30(real_runs):
    # Every other evening without a night is a holiday's eve or the 2020 suspension.
    summary = json.loads(real_runs["iron"].stdout)
    nights = [w for w in summary["warnings"] if "no night session" in w]
    assert nights == [
        "no night session on 1 of 183 trading days whose previous evening has one by the "
        "calendar: 2019-12-31"
    ]


def test_check_refuses_the_malformed_copper_bar_naming_line_85146(real_runs):
    result = real_runs["copper_refused"]
    assert_clean_error(result)
    assert "line 85146: high 71920 below close 71940" in result.stderr
    assert "1 bad bar(s)" in result.stderr


def test_check_with_drop_reports_the_dropped_copper_line(real_runs):
    summary = json.loads(real_runs["copper_drop"].stdout)
    assert summary["dropped"] == [{"line": 85146, "problem": "high 71920 below close 71940"}]


def test_resample_writes_a_readable_parquet_file_of_fifteen_minute_bars(real_runs):
    result = real_runs["resample"]
    assert result.returncode == 0, result.stderr
    assert "15,696 5-minute bars -> 5,232 15min bars" in result.stdout
    out = real_runs.folder / "out.parquet"
    table = pd.read_parquet(out)
    assert len(table) == 5_232
    assert {"open", "high", "low", "close", "volume", "trading_day"} <= set(table.columns)
    again = read_bars(out, "DCE/i")  # and the loader reads it back
    assert (len(again.frame), again.bar_minutes) == (5_232, 15)


def test_resample_keeps_a_contract_column_given_as_the_column_contract(tmp_path, capsys):
    # A roll at the night open of 2024-03-05: the column must come through, named
    # 'contract' as the loader names it, for data check or a backtest to read.
    day = [f"2024-03-05 14:{m:02d}:00,800,801,799,800,5,100,i2405" for m in range(30, 60, 5)]
    night = [f"2024-03-05 21:{m:02d}:00,800,801,799,800,5,100,i2409" for m in range(0, 30, 5)]
    path = tmp_path / "roll.csv"
    path.write_text("\n".join(["datetime,open,high,low,close,volume,hold,symbol", *day, *night]))
    out_file = tmp_path / "out.parquet"
    args = ["data", "resample", path, "-i", "DCE/i", "--contract-column", "symbol"]
    code, _, err = run_in_process([*args, "--out", out_file], capsys)
    assert code == 0, err
    table = pd.read_parquet(out_file)
    assert table["contract"].tolist() == ["i2405", "i2405", "i2409", "i2409"]

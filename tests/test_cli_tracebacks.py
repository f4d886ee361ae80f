"""Every input that used to end in a Python traceback, through the command line: each now
exits non-zero with one line naming the input and the problem (issue 12's list)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

import twotier
from helpers.cli import invoke, one_line_error
from test_live_parity import write_bar_csv
from twotier.market.sample import load_sample

IRON_ORE = 'portfolio.baskets=[{instrument="DCE/i", capital_fraction=0.9}]'
LAST_DAY = "2023-02-28"


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    """Two months of sample iron ore (bar start labels), a copy with one bar a
    trillion times dearer while a position is open, and the first run's packages."""
    folder = tmp_path_factory.mktemp("inputs")
    bars = load_sample("DCE/i")
    bars = bars[bars["trading_day"] <= pd.Timestamp(LAST_DAY)]
    write_bar_csv(bars, folder / "DCE_i.csv")
    run = folder / "run"
    twotier.backtest(bars={"DCE/i": folder / "DCE_i.csv"}, overrides=[IRON_ORE], out=run)
    trade = pd.read_csv(run / "trades.csv").iloc[0]
    inside = bars.index[bars.index.tz_localize(None) > pd.Timestamp(trade["entry_time"])][1]
    spiked = bars.copy()
    spiked.loc[inside, ["open", "high", "low", "close"]] *= 1e12
    (folder / "spiked").mkdir()
    write_bar_csv(spiked, folder / "spiked" / "DCE_i.csv")
    packages = pd.read_parquet(run / "signals" / "DCE_i.parquet")
    packages.loc[5, "close"] = 1e15
    packages.to_csv(folder / "packages.csv", index=False)
    return {
        "bars": folder / "DCE_i.csv",
        "spiked": folder / "spiked" / "DCE_i.csv",
        "packages": folder / "packages.csv",
        "run": run,
    }


def refused(args: list, capsys) -> str:
    code, _, err = invoke(args, capsys)
    assert code != 0
    return one_line_error(err)


def backtest(files, tmp_path, *extra) -> list:
    bars = ["--bars", f"DCE/i={files['bars']}", "--set", IRON_ORE, "--quiet"]
    return ["backtest", *bars, "--out", tmp_path / "out", *extra]


def unwritable(tmp_path: Path) -> Path:
    """A folder nothing can be created in (root writes anywhere a mode allows)."""
    if os.geteuid() == 0:
        return Path("/proc/twotier-test")
    folder = tmp_path / "locked"
    folder.mkdir(mode=0o555)
    return folder


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            ["--start", "2020-05-01", "--end", "2020-01-01"],
            "start 2020-05-01 is after end 2020-01-01",
        ),
        (["--start", "2020-13-01"], "start '2020-13-01' is not a day (YYYY-MM-DD)"),
        (
            ["--start", "2024-01-02"],
            "no trading step from 2024-01-02 to the end: the data's trading",
        ),
        (["--end", "2020-01-02"], "end 2020-01-02 is before the data's first trading day"),
        (["--set", "portfolio.initial_capital=1e15"], "less than or equal to 1000000000000"),
        (["--risk-free", "nan"], "'--risk-free': nan is not a yearly rate"),
    ],
)
def test_backtest_options(files, tmp_path, capsys, extra, message):
    assert message in refused(backtest(files, tmp_path, *extra), capsys)


def test_signals_given_a_folder_reads_its_packages_or_refuses(files, tmp_path, capsys):
    code, _, err = invoke(["backtest", "--signals", files["run"], "--out", tmp_path / "a"], capsys)
    assert code == 0, err
    empty = tmp_path / "empty"
    empty.mkdir()
    line = refused(["backtest", "--signals", empty, "--out", tmp_path / "b"], capsys)
    assert f"{empty}: a folder without signal packages (no signals/*.parquet)" in line


def test_out_below_a_file_and_where_nothing_can_be_written(files, tmp_path, capsys):
    (tmp_path / "afile").write_text("x")
    line = refused([*backtest(files, tmp_path)[:-2], "--out", tmp_path / "afile" / "run"], capsys)
    assert "is a file, not a folder" in line
    target = unwritable(tmp_path) / "run"
    line = refused([*backtest(files, tmp_path)[:-2], "--out", target], capsys)
    assert f"--out {target}" in line


def test_signals_and_optimize_out_at_a_file(files, tmp_path, capsys):
    target = tmp_path / "afile"
    target.write_text("x")
    line = refused(["signals", "--bars", f"DCE/i={files['bars']}", "--out", target], capsys)
    assert "a file is there, not a folder" in line
    space = tmp_path / "space.toml"
    space.write_text('[space]\n"exits.stop_loss_above" = [0.01, 0.02]\n')
    line = refused(["optimize", "--space", space, "--sample", "--out", target], capsys)
    assert "a file is there, not a folder" in line


def test_paper_state_at_a_file_or_where_nothing_can_be_written(files, tmp_path, capsys):
    target = tmp_path / "afile"
    target.write_text("x")
    feed = ["paper", "--feed", f"folder:{files['bars'].parent}", "--once", "--quiet"]
    assert "a file is there, not a folder" in refused([*feed, "--state", target], capsys)
    place = unwritable(tmp_path) / "state"
    assert f"--state {place}" in refused([*feed, "--state", place], capsys)


@pytest.mark.parametrize(
    ("option", "value"),
    [("--grace", "nan"), ("--stale-after", "inf"), ("--step-wait", "1e308"), ("--poll", "-1")],
)
def test_paper_waits_that_no_clock_can_count_are_refused(files, tmp_path, capsys, option, value):
    # NaN, infinite or absurd seconds stopped the loop with an internal error.
    feed = ["paper", "--feed", f"folder:{files['bars'].parent}", "--once", "--quiet"]
    line = refused([*feed, "--state", tmp_path / "state", option, value], capsys)
    assert f"Invalid value for '{option}'" in line
    assert "is not a number of seconds from 0 to 604800" in line


def test_a_poll_of_0_seconds_is_refused_it_would_spin(files, tmp_path, capsys):
    feed = ["paper", "--feed", f"folder:{files['bars'].parent}", "--once", "--quiet"]
    line = refused([*feed, "--state", tmp_path / "state", "--poll", "0"], capsys)
    assert "Invalid value for '--poll': 0 seconds would look again without pause" in line


def test_live_waits_are_checked_before_any_gateway_is_loaded(tmp_path, capsys):
    args = ["live", "--gateway", "ctp", "--state", tmp_path / "state", "--tick-grace", "nan"]
    assert "Invalid value for '--tick-grace'" in refused(args, capsys)


def test_a_package_price_beyond_what_money_carries(files, tmp_path, capsys):
    args = ["backtest", "--signals", files["packages"], "--set", IRON_ORE, "--out", tmp_path / "x"]
    line = refused(args, capsys)
    assert f"{files['packages']}: line 7: close 1e+15 is beyond the largest price" in line


def test_a_bar_a_trillion_times_dearer_while_a_position_is_open(files, tmp_path, capsys):
    args = ["backtest", "--bars", f"DCE/i={files['spiked']}", "--set", IRON_ORE]
    line = refused([*args, "--quiet", "--out", tmp_path / "x"], capsys)
    assert str(files["spiked"]) in line or "DCE/i" in line
    paper = ["paper", "--feed", f"folder:{files['spiked'].parent}", "--once", "--quiet"]
    line = refused([*paper, "--set", IRON_ORE, "--state", tmp_path / "state"], capsys)
    assert "DCE/i" in line or str(files["spiked"]) in line


@pytest.fixture
def not_dask():
    """A server that answers every connection as an SSH server does."""
    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            with conn:
                conn.sendall(b"SSH-2.0-OpenSSH_8.9p1\r\n")
                time.sleep(0.2)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"tcp://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join()
    server.close()


def test_optimize_at_an_address_where_something_else_answers(files, tmp_path, capsys, not_dask):
    space = tmp_path / "space.toml"
    space.write_text('[space]\n"exits.stop_loss_above" = [0.01, 0.02]\n')
    args = ["optimize", "--space", space, "--bars", f"DCE/i={files['bars']}", "--set", IRON_ORE]
    line = refused([*args, "--scheduler", not_dask, "--out", tmp_path / "sweep"], capsys)
    assert f"something answers at {not_dask}, but not a Dask scheduler" in line


def test_two_paper_processes_stay_one_when_the_lock_file_is_deleted(tmp_path):
    state = tmp_path / "state"
    command = [sys.executable, "-m", "twotier", "paper", "--feed", "stdin", "--state", state]
    command += ["--set", IRON_ORE, "--durability", "normal", "--poll", "0.1", "--quiet"]
    first = subprocess.Popen(command, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not (state / "lock").exists() or not (state / "lock").read_text().strip():
            assert time.monotonic() < deadline and first.poll() is None
            time.sleep(0.05)
        (state / "lock").unlink()
        second = subprocess.run(
            command, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120
        )
        assert second.returncode == 1
        assert "is in use by another twotier process" in one_line_error(second.stderr)
    finally:
        first.communicate(b"", timeout=60)
    assert first.returncode == 0

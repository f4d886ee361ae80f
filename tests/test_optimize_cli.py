"""``twotier optimize`` as a user runs it: on a local cluster it starts itself, and on a
separate ``dask scheduler`` with a ``dask worker`` started beforehand."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from twotier.cli.main import run

BIN = Path(sys.executable).parent
SPACE = """
[search]
method = "grid"

[space]
"sizing.min_conviction" = {grid = [0.2, 0.35]}
"exits.stop_loss_above" = {range = [0.008, 0.012, 0.004]}

[objective]
name = "sortino"
"""


def run_cli(args: list, capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        run([str(a) for a in args])
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


@pytest.fixture
def space_file(tmp_path) -> Path:
    path = tmp_path / "space.toml"
    path.write_text(SPACE)
    return path


def test_optimize_walks_forward_on_a_local_cluster_and_writes_every_output(
    space_file, tmp_path, capsys, monkeypatch
):
    monkeypatch.setenv("COLUMNS", "120")
    out = tmp_path / "sweep"
    args = ["optimize", "--space", space_file, "--sample", "--end", "2023-03-31", "--workers", 1]
    args += ["--walk-forward", "anchored", "--train", 30, "--test", 12, "--min-trades", 1]
    environment = dict(os.environ)
    code, printed, err = run_cli([*args, "--out", out], capsys)
    assert code == 0, err
    # The nannies set their workers' thread counts, hash seed ... in ours: put back.
    assert dict(os.environ) == environment
    assert "dashboard http://127.0.0.1:" in printed
    assert "Ranking" in printed and "Walk-forward" in printed and "out of sample" in printed
    assert err.count("too few for a test window") == 1  # with the plan, not again at the end

    table = pd.read_parquet(out / "results.parquet")
    assert {"sizing.min_conviction", "exits.stop_loss_above", "sortino", "trades"} <= set(table)
    windows = table["window"].nunique()
    assert windows == 2
    assert len(table) == 5 * windows + 2 * windows  # every set trains, best and base test
    summary = json.loads((out / "summary.json").read_text())
    assert summary["objective"] == "sortino, trades >= 1"
    assert set(summary["oos"]) >= {"sharpe", "sortino", "calmar", "total_return", "max_drawdown"}
    curve = pd.read_parquet(out / "oos_equity.parquet")
    assert set(curve["line"]) == {"chosen", "base"}
    report = (out / "report.html").read_text()
    assert "Plotly.newPlot" in report and "<script src=" not in report  # plotly.js inlined
    assert len(list((out / "results").glob("*.json"))) == len(table)


def test_optimize_refuses_a_bad_space_before_reading_bars_or_starting_a_cluster(tmp_path, capsys):
    space = tmp_path / "space.toml"
    space.write_text('[space]\n"exits.stop_loss_above" = {range = [0.02, 0.01, 0.005]}\n')
    bars = f"DCE/i={tmp_path / 'not-there.csv'}"  # never opened: the space fails first
    args = ["optimize", "--space", space, "--bars", bars, "--out", tmp_path / "sweep"]
    code, _, err = run_cli(args, capsys)
    assert code == 1
    assert "[space] 'exits.stop_loss_above': empty range" in err and "Traceback" not in err


def test_optimize_wants_bars_or_the_sample_and_one_kind_of_cluster(space_file, tmp_path, capsys):
    code, _, err = run_cli(["optimize", "--space", space_file, "--out", tmp_path / "sweep"], capsys)
    assert code == 1 and "--sample" in err
    args = ["optimize", "--space", space_file, "--sample", "--out", tmp_path, "--workers", 2]
    code, _, err = run_cli([*args, "--scheduler", "tcp://127.0.0.1:1"], capsys)
    assert code == 1 and "not both" in err
    # Before any bars are read: no worker is no cluster, windows need --walk-forward.
    args = ["optimize", "--space", space_file, "--sample", "--out", tmp_path / "s2"]
    code, _, err = run_cli([*args, "--workers", 0], capsys)
    assert code == 1 and "--workers must be at least 1, not 0" in err
    code, _, err = run_cli([*args, "--train", 40, "--test", 10], capsys)
    assert code == 1 and "--train and --test are the windows of --walk-forward" in err
    assert not (tmp_path / "s2").exists()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_optimize_runs_on_a_separate_dask_scheduler_and_worker(space_file, tmp_path):
    address = f"tcp://127.0.0.1:{free_port()}"
    env = {**os.environ, "COLUMNS": "120", "NO_COLOR": "1"}

    def dask(*args) -> subprocess.Popen:
        return subprocess.Popen(
            [BIN / "dask", *args, "--no-dashboard"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    scheduler = dask("scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1])
    worker = dask("worker", address, "--nworkers", "1", "--nthreads", "1")
    try:
        out = tmp_path / "sweep"
        command = [BIN / "twotier", "optimize", "--space", space_file, "--sample"]
        command += ["--start", "2023-03-01", "--end", "2023-03-31"]
        command += ["--scheduler", address, "--out", out]
        done = subprocess.run(
            [str(c) for c in command], capture_output=True, text=True, env=env, timeout=180
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"Dask: {address} workers" in done.stdout
        table = pd.read_parquet(out / "results.parquet")
        assert list(table["set_id"]) == [0, 1, 2, 3, 4] and (table["status"] == "ok").all()
    finally:
        for process in (worker, scheduler):
            process.terminate()
        for process in (worker, scheduler):
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_ctrl_c_stops_a_sweep_without_worker_tracebacks_or_a_ranking_of_half_the_runs(tmp_path):
    # A terminal's Ctrl-C goes to the whole process group. The local workers used to die
    # of it (each printing a traceback) and fail the runs in flight; where Python dropped
    # the sweep's own interrupt (raised inside a Dask future's finalizer), the sweep went
    # on and ranked half its runs as failed. Now the workers ignore it, the sweep stops.
    space = tmp_path / "space.toml"
    space.write_text(SPACE.replace("{grid = [0.2, 0.35]}", "{grid = [0.2, 0.25, 0.3, 0.35]}"))
    out = tmp_path / "sweep"
    command = [sys.executable, "-m", "twotier", "optimize", "--space", str(space), "--sample",
               "--workers", "2", "--out", str(out)]  # fmt: skip
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,  # its own process group, as a terminal gives it
    )  # fmt: skip
    try:
        for _ in range(1200):  # until the first results are stored
            if len(list((out / "results").glob("*.json"))) >= 1:
                break
            if process.poll() is not None:
                break
            time.sleep(0.1)
        assert process.poll() is None, "the sweep ended before it could be interrupted"
        os.killpg(process.pid, signal.SIGINT)
        _, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert not (out / "summary.json").exists() and not (out / "results.parquet").exists()

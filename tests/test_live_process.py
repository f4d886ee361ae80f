"""The paper process: one per state folder, a clean stop on SIGTERM, and its logs."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from twotier.live.lock import StateLock, StateLockedError
from twotier.market.sample import load_sample

IRON_ORE = '[{instrument="DCE/i", capital_fraction=0.9}]'


def start(state: Path, *extra: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "twotier", "paper", "--feed", "stdin", "--state"]
    command += [str(state), "--durability", "normal", "--poll", "0.1", *extra]
    return subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def wait_for(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def holds_lock(state: Path, process: subprocess.Popen) -> bool:
    lock = state / "lock"
    return lock.exists() and lock.read_text().strip() == str(process.pid)


def steps(state: Path) -> int:
    try:
        with sqlite3.connect(f"file:{state / 'state.db'}?mode=ro", uri=True) as db:
            return db.execute("SELECT count(*) FROM steps").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_a_lock_names_the_process_that_holds_it(tmp_path):
    with StateLock(tmp_path), pytest.raises(StateLockedError, match=f"pid {os.getpid()}"):
        StateLock(tmp_path).acquire()
    StateLock(tmp_path).acquire()  # released with its holder


def test_a_second_process_on_the_same_state_folder_exits_with_the_holders_pid(tmp_path):
    first = start(tmp_path)
    try:
        wait_for(lambda: holds_lock(tmp_path, first))
        second = subprocess.run(
            [sys.executable, "-m", "twotier", "paper", "--feed", "stdin", "--state", tmp_path],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert second.returncode == 1
        assert f"is in use by another twotier process (pid {first.pid})" in second.stderr
    finally:
        first.communicate(b"", timeout=60)  # end of input: the first one stops
    assert first.returncode == 0


def test_sigterm_stops_after_the_current_step_with_outputs_and_logs(tmp_path):
    bars = load_sample("DCE/i").loc["2024-10-08":"2024-10-09"]
    lines = [
        json.dumps(
            {"instrument": "DCE/i", "time": f"{t:%Y-%m-%d %H:%M:%S}", **row._asdict()}
        ).encode()
        + b"\n"
        for t, row in zip(
            bars.index,
            bars[["open", "high", "low", "close", "volume"]].itertuples(index=False),
            strict=True,
        )
    ]
    process = start(
        tmp_path, "--set", 'portfolio.baskets=[{instrument="DCE/i", capital_fraction=0.9}]'
    )
    process.stdin.write(b"".join(lines))
    process.stdin.flush()  # the input stays open: the run would go on waiting for bars
    wait_for(lambda: steps(tmp_path) == len(lines))
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err.decode()
    assert "paper run stopped (SIGTERM)" in out.decode()
    equity = (tmp_path / "run" / "equity.csv").read_text().splitlines()
    assert len(equity) == 1 + len(lines)
    log = [json.loads(x) for x in (tmp_path / "paper.log").read_text().splitlines()]
    heartbeats = [e for e in log if e["event"] == "step"]
    covered = [n for e in heartbeats for n in range(e["first_step"], e["step"] + 1)]
    assert covered == list(range(1, len(lines) + 1))  # every step, each in one line
    assert len(heartbeats) < len(lines)  # the bars came at once: a catch-up, in batches
    assert log[-1]["event"] == "stop" and log[-1]["reason"] == "SIGTERM"
    human = [x for x in err.decode().splitlines() if " INFO step" in x]
    assert len(human) == len(heartbeats)  # a line per batch, not per step

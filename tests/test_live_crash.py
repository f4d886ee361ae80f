"""Crash safety: a paper run killed with SIGKILL anywhere and restarted ends with the
outputs of a run never interrupted; the state refuses to go on when it cannot be
trusted."""

from __future__ import annotations

import json
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from test_live_parity import assert_same_run_folders, paper, write_sample_feed
from twotier.errors import ConfigError
from twotier.live.broker import ReconcileError


@pytest.fixture(scope="module")
def feed(tmp_path_factory) -> Path:
    """A month of the three sample instruments (about 550 steps)."""
    folder = tmp_path_factory.mktemp("feed")
    write_sample_feed(folder, "2024-09-02", "2024-09-30")
    return folder


@pytest.fixture(scope="module")
def reference(feed, tmp_path_factory) -> Path:
    """The state folder of an uninterrupted run on ``feed``."""
    state = tmp_path_factory.mktemp("reference")
    paper(f"folder:{feed}", state)
    return state


@pytest.fixture(scope="module")
def week(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("week")
    write_sample_feed(folder, "2024-09-02", "2024-09-06")
    return folder


def start_paper(feed: Path, state: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", "twotier", "paper", "--feed", f"folder:{feed}", "--once"]
    command += ["--state", str(state), "--durability", "normal", "--quiet"]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def steps_committed(state: Path) -> int:
    try:
        db = sqlite3.connect(f"file:{state / 'state.db'}?mode=ro", uri=True, timeout=0.1)
        try:
            return db.execute("SELECT count(*) FROM steps").fetchone()[0]
        finally:
            db.close()
    except sqlite3.Error:
        return 0  # not created yet


def kill_after(process: subprocess.Popen, state: Path, steps: int, jitter: float) -> int:
    """SIGKILL once ``steps`` steps are committed (plus a random moment); returns the
    steps committed when it died."""
    while process.poll() is None and steps_committed(state) < steps:
        time.sleep(0.002)
    time.sleep(jitter)
    process.send_signal(signal.SIGKILL)
    process.wait()
    return steps_committed(state)


def test_sigkill_at_random_points_then_restart_ends_as_an_uninterrupted_run(
    feed, reference, tmp_path
):
    expected, total = reference / "run", steps_committed(reference)
    rng = random.Random(20241008)
    state = tmp_path / "state"
    died_at = []
    # While starting up, twice mid-run, then while writing the run folder at the end.
    targets = [0, *sorted(rng.sample(range(1, total * 3 // 4), 2)), total]
    for target in targets:
        process = start_paper(feed, state)
        jitter = rng.uniform(0, 0.2 if target == total else 0.02)
        died_at.append(kill_after(process, state, target, jitter))
    assert sum(0 < n < total for n in died_at) >= 2, died_at  # the kills landed mid-run
    final = start_paper(feed, state)
    _, err = final.communicate(timeout=120)
    assert final.returncode == 0, err.decode()
    assert_same_run_folders(expected, state / "run")
    assert [p.name for p in state.iterdir() if p.name.startswith(".")] == [
        ".twotier"
    ]  # no leftovers
    db = sqlite3.connect(state / "state.db")
    assert db.execute("SELECT count(*) FROM steps").fetchone()[0] == total
    statuses = dict(db.execute("SELECT status, count(*) FROM orders GROUP BY status").fetchall())
    fills = len((state / "run" / "fills.csv").read_text().splitlines()) - 1
    assert statuses.get("filled") == fills  # one order per fill: none sent twice
    assert not {"decided", "cancel"} & set(statuses)  # none left unsent
    events = [json.loads(line)["event"] for line in (state / "paper.log").open()]
    assert events.count("restore") >= sum(n > 0 for n in died_at)


def test_restart_refuses_when_the_brokers_positions_differ(week, tmp_path):
    state = tmp_path / "state"
    paper(f"folder:{week}", state)
    db = sqlite3.connect(state / "state.db")
    with db:
        db.execute(
            """UPDATE state SET body = '{"positions": {"DCE/i": 7}}' WHERE name = 'broker'"""
        )
    db.close()
    with pytest.raises(ReconcileError, match=r"DCE/i: state \+0, broker \+7"):
        paper(f"folder:{week}", state)
    last = json.loads((state / "paper.log").read_text().splitlines()[-1])
    assert (last["event"], last["kind"]) == ("error", "ReconcileError")


def test_restart_with_another_configuration_is_refused(week, tmp_path):
    state = tmp_path / "state"
    paper(f"folder:{week}", state)
    with pytest.raises(ConfigError, match="started with another configuration"):
        paper(f"folder:{week}", state, "execution.fill=close")


def test_bars_appended_after_a_stop_are_taken_up_where_the_run_stopped(feed, reference, tmp_path):
    """No bar processed twice, none skipped: a run on the first half of the month, then on
    the whole month, ends as one run on the whole month."""
    growing = tmp_path / "growing"
    growing.mkdir()
    texts = {p.name: p.read_text().splitlines(keepends=True) for p in feed.glob("*.csv")}
    for name, lines in texts.items():
        first_half = [x for x in lines if x < "2024-09-16" or x.startswith("time")]
        (growing / name).write_text("".join(first_half))
    paper(f"folder:{growing}", tmp_path / "state")
    for name, lines in texts.items():
        (growing / name).write_text("".join(lines))
    assert_same_run_folders(reference / "run", paper(f"folder:{growing}", tmp_path / "state"))
